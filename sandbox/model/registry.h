/*
 * registry: the recommender's trained models in a bare git repository, one
 * commit per model on refs/heads/models, with refs/heads/candidate (the
 * newest registration) and refs/heads/production (what serving loads).
 */
#ifndef PANCAKE_REGISTRY_H
#define PANCAKE_REGISTRY_H

#include <stddef.h>
#include <jansson.h>
#include <stdint.h>
#include "util/buf.h"

/*
 * Layout (readable with the git CLI: `git --git-dir=DIR log models`):
 * every commit on refs/heads/models has the previous tip as its only
 * parent and a tree of three blobs, model.bin, params.json and
 * metrics.json; its message is the caller's one-line summary; author and
 * committer are "pancake <pancake@localhost>". HEAD names models. Every
 * ref move writes a reflog entry (the registry sets core.logAllRefUpdates,
 * which a bare repository lacks), and refs move under git's lock files, so
 * two processes never interleave a move.
 *
 * A REV names a model: "production", "candidate", "models" (the newest),
 * 4 to 40 hex digits of a model's commit id (matched against the models
 * history only; an ambiguous prefix is REGISTRY_EAMBIGUOUS), any of those
 * followed by "~N" or "^" (N registrations older). Nothing else is
 * accepted.
 */

/* Return codes: 0 is success, these say why not. */
enum registry_status {
	REGISTRY_EGIT = -1,		/* libgit2 or the filesystem failed */
	REGISTRY_ENOTFOUND = -2,	/* no registry, no such ref, no such model */
	REGISTRY_EAMBIGUOUS = -3,	/* an abbreviated id matches several models */
	REGISTRY_EINVAL = -4,		/* a malformed REV, JSON text, summary or size */
	REGISTRY_ENOHISTORY = -5,	/* rollback: production has no earlier value */
	REGISTRY_ELOCKED = -6,		/* another process holds a ref's lock file */
};

/* size caps: params.json and metrics.json, and model.bin */
#define REGISTRY_JSON_MAX ((size_t)1 << 20)
#define REGISTRY_MODEL_MAX ((size_t)4 << 30)

/* Opaque; owns its libgit2 repository (libgit2 is initialised per open). */
struct registry;

/*
 * Opens the registry at `dir`. With `create`, a missing or empty directory
 * becomes a new registry (parents are made); a non-empty directory that is
 * not a bare repository is refused either way. On success *out is new
 * (free with registry_close). Enables fsync of everything libgit2 writes
 * (a process-wide libgit2 option).
 */
int registry_open(struct registry **out, const char *dir, int create, struct buf *err);
void registry_close(struct registry *r);
/* borrowed, valid until registry_close: the directory as given */
const char *registry_dir(const struct registry *r);

struct registry_entry {
	char id[41];			/* commit id, hex */
	char short_id[13];		/* its first 12 hex digits */
	int64_t time;			/* commit time, unix seconds */
	char *summary;			/* the message's first line; owned */
	char *params_json;		/* params.json, "{}" when absent; owned */
	char *metrics_json;		/* metrics.json, "{}" when absent; owned */
	int is_production, is_candidate;
	size_t model_size;		/* bytes of model.bin */
};
/* frees what an entry owns and zeroes it; a zeroed entry is fine */
void registry_entry_release(struct registry_entry *e);

/*
 * Registers a model: `model_len` bytes of model.bin, params and metrics as
 * JSON object texts (NULL: "{}"), stored byte for byte, and a one-line
 * non-empty `summary` ("als explicit rank 10 on ml-1m-s1: rmse 0.861").
 * Commits on models and moves candidate to it, both or neither: the two
 * refs are locked before anything is written, and on any failure neither
 * moves (unreferenced objects may stay behind; git gc drops them). When
 * `out_entry` is not NULL it is filled (new, registry_entry_release).
 */
int registry_add(struct registry *r, const void *model, size_t model_len,
		 const char *params_json, const char *metrics_json, const char *summary,
		 struct registry_entry *out_entry, struct buf *err);
/* the same with model.bin streamed from the file at `model_path` */
int registry_add_file(struct registry *r, const char *model_path,
		      const char *params_json, const char *metrics_json, const char *summary,
		      struct registry_entry *out_entry, struct buf *err);

/*
 * Every model on models, newest first: *out is a new array of *n entries
 * (free with registry_list_free); an empty registry is 0 with *n = 0.
 */
int registry_list(struct registry *r, struct registry_entry **out, size_t *n, struct buf *err);
void registry_list_free(struct registry_entry *e, size_t n);

/* the model REV names; `out` is filled (new, registry_entry_release) */
int registry_show(struct registry *r, const char *rev, struct registry_entry *out,
		  struct buf *err);
/* appends REV's model.bin bytes to `out` */
int registry_model(struct registry *r, const char *rev, struct buf *out, struct buf *err);

/*
 * Moves production to REV (NULL: "candidate") with the reflog message
 * "promote <short id>"; promoting the current production changes nothing.
 * `out` (may be NULL) is filled with the model (new, registry_entry_release).
 */
int registry_promote(struct registry *r, const char *rev, struct registry_entry *out,
		     struct buf *err);
/*
 * Undoes the newest promotion that is not undone yet, as an undo stack:
 * after promotions A, B, C, rollbacks go to B, then A, then fail with
 * REGISTRY_ENOHISTORY (production is left alone). Reads the reflog of
 * production, where a rollback is an entry "rollback to <short id>" and
 * other moves are promotions; values equal to the current one are skipped.
 * To redo a rolled-back model, promote it again. `out` as for promote.
 */
int registry_rollback(struct registry *r, struct registry_entry *out, struct buf *err);

/*
 * Where registry_rollback would move production now, without moving it:
 * its full id into `id`, so a screen can ask "production X -> Y?" first.
 * REGISTRY_ENOTFOUND with no production, REGISTRY_ENOHISTORY with no
 * earlier value, as registry_rollback fails.
 */
int registry_rollback_target(struct registry *r, char id[41], struct buf *err);

/* one move of production, from its reflog */
struct registry_move {
	char id[41];			/* production after the move */
	char old_id[41];		/* before it; "" when production did not exist */
	int64_t time;			/* unix seconds */
	char *message;			/* "promote ...", "rollback to ..."; owned */
};
/*
 * Every move of production, newest first: *out is a new array of *n (free
 * with registry_moves_free); no production yet is 0 with *n = 0.
 */
int registry_production_log(struct registry *r, struct registry_move **out, size_t *n,
			    struct buf *err);
void registry_moves_free(struct registry_move *m, size_t n);
/*
 * The commits production pointed at, newest first (the current one first),
 * one per move: *ids is a new array of *n (free with free()).
 */
int registry_production_history(struct registry *r, char (**ids)[41], size_t *n,
				struct buf *err);

/*
 * Compares two models' params.json and metrics.json (JSON objects; a
 * nested object's members are compared one by one as "outer.inner", such
 * as "baseline.rmse") and appends a plain-text table to `out`: a header
 * "key <a short id> <b short id> delta", then one line "key  a  b" per
 * param whose values
 * differ, then one line "key  a  b  delta" per metric in either model
 * (a's order, then b's new keys). "-" marks a missing value; the delta is
 * b - a with its sign and, when a != 0, the relative change, as in
 * "rmse  0.861  0.855  -0.006 (-0.70%)". Non-numbers get no delta.
 */
int registry_diff(struct registry *r, const char *rev_a, const char *rev_b, struct buf *out,
		  struct buf *err);
/*
 * The same as one line of JSON appended to `out`:
 * {"a":ID,"b":ID,"params":{KEY:[A,B],...},"metrics":{KEY:{"a":A,"b":B,
 * "delta":D,"pct":P},...}} with full ids, only differing params, null for
 * a missing value, and null delta/pct where they do not apply.
 */
int registry_diff_json(struct registry *r, const char *rev_a, const char *rev_b,
		       struct buf *out, struct buf *err);

enum registry_diff_flags {
	REGISTRY_DIFF_JSON = 1 << 0,	/* the JSON form instead of the table */
};
/*
 * The same diff of two entries already in hand (registry_show, or filled
 * by the caller for a model not registered yet: id, short_id, params_json
 * and metrics_json are read); needs no repository.
 */
int registry_diff_entries(const struct registry_entry *a, const struct registry_entry *b,
			  enum registry_diff_flags flags, struct buf *out, struct buf *err);

/*
 * What `models list` shows, for `recommender models` and `pancake models`
 * alike. One model as JSON: id, short_id, time, summary, production,
 * candidate, model_bytes, then params and metrics as objects (new
 * reference).
 */
json_t *registry_entry_json(const struct registry_entry *e);

enum registry_list_flags {
	REGISTRY_LIST_JSON = 1 << 0,	/* the JSON array instead of the lines */
	REGISTRY_LIST_COLOR = 1 << 1,	/* lines: the short ids in yellow */
};
/*
 * One model's line, appended to `out` with its newline: "SHORT  WHEN
 * [production]  SUMMARY (rmse 0.8612, ...)", WHEN in local time.
 */
void registry_entry_line(const struct registry_entry *e, enum registry_list_flags flags,
			 struct buf *out);
/*
 * The `n` models of registry_list appended to `out`: a line each, or one
 * saying that the registry at `dir` holds none yet and how to add one;
 * with REGISTRY_LIST_JSON, an array of registry_entry_json objects,
 * indented, reals to 6 digits, and a newline.
 */
void registry_list_render(const struct registry_entry *e, size_t n, const char *dir,
			  enum registry_list_flags flags, struct buf *out);

#endif
