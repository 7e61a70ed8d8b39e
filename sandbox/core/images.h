/*
 * images: builds pancake's images from images/ with no registry (debootstrap
 * for the base, Maven Central for the JVM services) and skips unchanged ones.
 */
#ifndef PANCAKE_IMAGES_H
#define PANCAKE_IMAGES_H

#include <stdint.h>
#include "clients/docker.h"
#include "util/buf.h"

#define IMAGES_BASE_TAG "pancake/base:bookworm"
/* compilers and development libraries: the top-level Dockerfile's build stage */
#define IMAGES_BUILD_TAG "pancake/build:bookworm"
/* the native binaries (pancake, recommender, serving) on the base */
#define IMAGES_SANDBOX_TAG "pancake/sandbox:latest"
#define IMAGES_MAX 16

enum images_phase {
	IMAGES_START,      /* looking at one image */
	IMAGES_SKIP,       /* up to date: text is the reason */
	IMAGES_STEP,       /* a step begins: text says which */
	IMAGES_OUTPUT,     /* a line of a helper's or the build's output */
	IMAGES_DONE,       /* built: text is the image id */
};
struct images_note {
	const char *image;          /* "base", "kafka", ... */
	enum images_phase phase;
	const char *text;
	double elapsed;             /* seconds since this image's build began */
};
/* strings borrowed, valid during the call */
typedef void (*images_note_fn)(const struct images_note *n, void *ctx);

struct image_row {
	char name[32];              /* "kafka" */
	char tag[96];               /* "pancake/kafka:latest" */
	char id[80];                /* "" when not built */
	char hash[80];              /* content hash label */
	int64_t size, created;
};

/* the images defined under <home>/images, base first; count or -1 */
int images_defs(struct image_row *out, int max, struct buf *err);
/*
 * Builds the named images (NULL: all), the base first when needed. `force`
 * rebuilds even when the content hash matches.
 */
int images_build(struct docker *d, const char *const *only, int force,
		 images_note_fn fn, void *ctx, struct buf *err);
/* fills rows with what the engine has for each definition */
int images_list(struct docker *d, struct image_row *rows, int max, struct buf *err);
/* an offline bundle of the named images (NULL: every built one), docker save format */
int images_save(struct docker *d, const char *file, const char *const *only,
		struct buf *err);
int images_load(struct docker *d, const char *file, images_note_fn fn, void *ctx,
		struct buf *err);

#endif
