/*
 * download: fetches a file over HTTP(S) with libcurl, resuming a partial
 * download, for datasets. A stalled transfer fails instead of hanging.
 */
#ifndef PANCAKE_DOWNLOAD_H
#define PANCAKE_DOWNLOAD_H

#include <stdint.h>
#include "util/buf.h"

#define DOWNLOAD_CONNECT_TIMEOUT_MS 10000
/* a transfer slower than this many bytes/s for DOWNLOAD_STALL_S fails */
#define DOWNLOAD_STALL_BYTES 1024
#define DOWNLOAD_STALL_S 30

/* `done` counts bytes on disk, resumed ones included; `total` is 0 if unknown */
typedef void (*download_progress_fn)(int64_t done, int64_t total, void *ctx);

enum download_err {
	DOWNLOAD_OK = 0,
	DOWNLOAD_EFAIL = -1,
	DOWNLOAD_EOFFLINE = -2,  /* no route, no name resolution, refused */
	DOWNLOAD_EHTTP = -3,     /* the server answered with an error status */
};

/*
 * Downloads `url` into `path`. When `path` already holds the first bytes
 * (an interrupted run), asks for the rest with a Range request; a server
 * that ignores Range gets a fresh download. 0 or a download_err with `err`.
 */
int download_file(const char *url, const char *path, download_progress_fn fn,
		  void *ctx, struct buf *err);

#endif
