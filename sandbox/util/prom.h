/*
 * prom: a strict parser of the Prometheus text exposition format 0.0.4
 * (what serving's /metrics writes) into samples, and lookups by name and
 * label values. Pure: bytes in, structs out, no I/O.
 */
#ifndef PANCAKE_PROM_H
#define PANCAKE_PROM_H

#include <stddef.h>
#include <stdint.h>
#include "util/buf.h"

/* caps: a larger input is refused before it is read */
#define PROM_MAX_BYTES (4u << 20)
#define PROM_MAX_SAMPLES 65536
#define PROM_MAX_FAMILIES 4096
#define PROM_MAX_LABELS 32      /* per sample */
#define PROM_MAX_NAME 256       /* a metric or label name, in bytes */
#define PROM_MAX_VALUE 4096     /* a label value or a HELP text, unescaped */

enum prom_type { PROM_UNTYPED, PROM_COUNTER, PROM_GAUGE, PROM_HISTOGRAM, PROM_SUMMARY };

struct prom_label {
	char *name;
	char *value;             /* unescaped, valid UTF-8 */
};

struct prom_sample {
	char *name;
	struct prom_label *labels;
	size_t nlabels;
	double value;            /* may be NaN or +-Inf */
	int64_t ts_ms;           /* the optional timestamp ... */
	int has_ts;              /* ... given */
	int family;              /* index in prom.families (an untyped one of its own
				    name when no TYPE or HELP names it) */
	size_t line;             /* where it was, for messages */
};

/* a metric family, as a # TYPE or # HELP line named it */
struct prom_family {
	char *name;
	char *help;              /* unescaped; NULL when no HELP line */
	enum prom_type type;     /* PROM_UNTYPED when no TYPE line */
	int typed;               /* a TYPE line was seen */
	int sampled;             /* samples of it were seen */
};

struct prom {
	struct prom_sample *samples;
	size_t n, alloc;
	struct prom_family *families;
	size_t nfamilies, families_alloc;
	int *hash;               /* families by name (open addressing), -1 empty */
	size_t hash_size;
};

#define PROM_INIT { NULL, 0, 0, NULL, 0, 0, NULL, 0 }

void prom_init(struct prom *p);
/* frees everything it holds; `p` is empty again */
void prom_release(struct prom *p);

/*
 * Parses `len` bytes of exposition text into `p` (released first). 0, or
 * -1 with `err` "line N: what is wrong" and `p` empty. Strict: every line
 * ends with a newline, names and label names are well-formed, label values
 * are quoted with only \\, \" and \n escapes and are UTF-8, a label is not
 * given twice, values are floats (NaN, +Inf, -Inf too) and timestamps
 * integers; a TYPE names a known type, once per family and before its
 * samples; a histogram's _bucket sample has an `le` label that is a float;
 * blank lines and other comments are ignored. Over PROM_MAX_BYTES,
 * PROM_MAX_SAMPLES, ... is a failure too.
 */
int prom_parse(struct prom *p, const char *text, size_t len, struct buf *err);

/* the value of label `name` of `s`, or NULL; borrowed, valid as long as `p` */
const char *prom_label(const struct prom_sample *s, const char *name);

/*
 * Whether `s` is named `name` and carries every label of `match`, pairs
 * of name and value ending with a NULL name: { "route", "feedback", NULL }.
 * `match` may be NULL (no label wanted).
 */
int prom_matches(const struct prom_sample *s, const char *name, const char *const *match);
/* the first sample that matches, or NULL; borrowed, valid as long as `p` */
const struct prom_sample *prom_find(const struct prom *p, const char *name,
				    const char *const *match);
/* the sum of the values of the samples that match (0 when none); *n (may be NULL) how many */
double prom_sum(const struct prom *p, const char *name, const char *const *match, size_t *n);

/* the family named `name`, or NULL; borrowed */
const struct prom_family *prom_family(const struct prom *p, const char *name);

/* one bucket of a histogram series: the count of observations <= le */
struct prom_bucket {
	double le;               /* +Inf for the last */
	double count;            /* cumulative */
};

/*
 * The buckets of histogram `name` (its NAME_bucket samples) that match
 * `match` (the `le` label aside), sorted by le, into out[0..max); returns
 * how many there are (may be more than max: only max are written). Samples
 * of several series that all match are summed bucket by bucket when their
 * bounds agree (the same buckets for each variant, say).
 */
size_t prom_buckets(const struct prom *p, const char *name, const char *const *match,
		    struct prom_bucket *out, size_t max);

/* "counter", "gauge", ... (static) */
const char *prom_type_name(enum prom_type t);

#endif
