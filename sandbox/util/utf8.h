/*
 * utf8: whether bytes are well-formed UTF-8 (RFC 3629), one sequence at a
 * time, for the parsers that take text from files and sockets.
 */
#ifndef PANCAKE_UTF8_H
#define PANCAKE_UTF8_H

#include <stddef.h>

/*
 * The length in bytes (1 to 4) of the well-formed sequence that starts at
 * `p` and ends before `e` (p < e), or 0 when it is not one: a stray
 * continuation byte, a sequence cut short, an overlong form, a surrogate,
 * a code point beyond U+10FFFF.
 */
size_t utf8_seq(const unsigned char *p, const unsigned char *e);

#endif
