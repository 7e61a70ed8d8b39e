/* tar: writes ustar archives (docker build contexts) to a stdio stream. */
#ifndef PANCAKE_TAR_H
#define PANCAKE_TAR_H

#include <stdio.h>
#include <stddef.h>
#include "util/buf.h"
#include "util/sha256.h"

/*
 * Entries get a fixed mtime and root ownership so that the same inputs give
 * the same bytes; `hash`, when set, is fed every entry's name, mode and
 * content, which makes it the content hash of the archive.
 */
struct tar {
	FILE *out;          /* borrowed */
	struct sha256 *hash; /* borrowed, may be NULL */
	unsigned long long bytes;
};

int tar_add_data(struct tar *t, const char *name, int mode,
		 const void *data, size_t len, struct buf *err);
int tar_add_dir(struct tar *t, const char *name, struct buf *err);
/* adds the file at `path` under `name` (regular files only) */
int tar_add_file(struct tar *t, const char *name, const char *path,
		 struct buf *err);
/* adds a directory tree recursively, sorted by name, under `prefix` */
int tar_add_tree(struct tar *t, const char *prefix, const char *dir,
		 struct buf *err);
/* writes the two zero blocks that end an archive */
int tar_finish(struct tar *t, struct buf *err);

#endif
