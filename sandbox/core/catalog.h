/*
 * catalog: the datasets pancake knows (datasets/<name>.conf manifests), where
 * their files live, and fetching them: download, checksum, unpack.
 */
#ifndef PANCAKE_CATALOG_H
#define PANCAKE_CATALOG_H

#include <stdint.h>
#include "core/dataset.h"
#include "util/buf.h"

struct catalog_entry {
	char name[48];
	char description[160];
	char url[256];
	char md5[33];            /* as published next to the archive, or "" */
	char sha256[65];         /* or "" */
	char archive_dir[64];    /* the folder inside the zip */
	char licence[256];
	int64_t size;            /* bytes of the archive, 0 if unknown */
	enum dataset_format format;
	char path[512];          /* the manifest file */
};

/* reads <home>/datasets/<name>.conf; -1 with "FILE:LINE: field 'x': ..." */
int catalog_load(struct catalog_entry *e, const char *name, struct buf *err);
/* every manifest, sorted by name; count or -1 */
int catalog_list(struct catalog_entry *out, int max, struct buf *err);
/* where a dataset's files are (new string): <cache>/datasets/<name> */
char *catalog_data_dir(const char *name);
/* 1 when the dataset has been fetched and unpacked */
int catalog_present(const char *name);

/* where `pancake data gen` puts datasets by default (new string):
 * <home>/datasets/generated */
char *catalog_generated_dir(void);

/* a dataset on this machine: fetched, or generated under the folder above */
struct catalog_local {
	char name[64];
	char dir[512];
	int fetched;             /* 1: from the catalog; 0: generated */
};
/* the datasets present here, fetched ones first, then by name; the count */
int catalog_local_list(struct catalog_local *out, int max);
/*
 * The folder of a dataset given as a directory, the name of a fetched
 * dataset, or the name of a generated one (new string), and its name in
 * *name (new string). NULL (and *name NULL) when it is none of those.
 */
char *catalog_resolve(const char *arg, char **name);

enum catalog_step { FETCH_DOWNLOAD, FETCH_VERIFY, FETCH_UNPACK, FETCH_DONE };
/* `done`/`total` in bytes for FETCH_DOWNLOAD, else 0 */
typedef void (*catalog_progress_fn)(enum catalog_step step, int64_t done,
				    int64_t total, const char *text, void *ctx);

/*
 * Fetches a dataset: resumes a partial download, checks the archive's
 * checksums (sha256 and/or md5 from the manifest; PANCAKE_DATASETS_URL
 * replaces everything before the archive's file name, for a local mirror),
 * unpacks it with unzip into a temporary folder and renames it into place,
 * so an interrupted fetch never leaves a half dataset behind.
 */
int catalog_fetch(const struct catalog_entry *e, catalog_progress_fn fn, void *ctx,
		  struct buf *err);

#endif
