/*
 * quote: the one way user input (arguments, definition lines, dataset
 * fields, what a server answered) is echoed back in a message: control
 * and non-ASCII bytes escaped as \xNN, so a line holding ESC [2J cannot
 * clear the screen or set the title, and long values cut with "...".
 */
#ifndef PANCAKE_QUOTE_H
#define PANCAKE_QUOTE_H

#include <stddef.h>
#include "util/buf.h"

/* at most this many input bytes are shown */
#define QUOTE_MAX 40
/* room for QUOTE_MAX escaped bytes, the quotes, "..." and the NUL */
#define QUOTE_BUF (QUOTE_MAX * 4 + 6)

/*
 * Writes 's' (n bytes) between single quotes into `out`, escaped and cut;
 * returns `out`. For use inside a printf of a message.
 */
const char *quote_n(char out[QUOTE_BUF], const char *s, size_t n);
/* the same for a C string */
const char *quote(char out[QUOTE_BUF], const char *s);
/*
 * appends a message to `b` with its control bytes escaped but its line
 * breaks and tabs kept: what every message sink (die, error, the CLI's
 * failures) writes, so nothing echoed can drive the terminal
 */
void quote_text(struct buf *b, const char *s);

#endif
