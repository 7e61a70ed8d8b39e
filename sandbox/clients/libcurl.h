/* libcurl: the process's one curl_global_init, for every client that uses libcurl. */
#ifndef PANCAKE_LIBCURL_H
#define PANCAKE_LIBCURL_H

/*
 * Initialises libcurl's global state the first time it is called and does
 * nothing after; safe from any thread (curl_global_init itself is not).
 * Call it before the first curl_easy_init or curl_multi_init.
 */
void libcurl_init(void);

#endif
