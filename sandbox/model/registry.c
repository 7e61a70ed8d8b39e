/*
 * registry: the recommender's models in a bare git repository, over libgit2
 * (which does not leak out of this file), and the params/metrics diff.
 */
#include "model/registry.h"
#include "util/buf.h"
#include "util/jsonout.h"
#include "util/xalloc.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <git2.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define REF_MODELS "refs/heads/models"
#define REF_CANDIDATE "refs/heads/candidate"
#define REF_PRODUCTION "refs/heads/production"
#define SIG_NAME "pancake"
#define SIG_EMAIL "pancake@localhost"
#define ROLLBACK_PREFIX "rollback to "
/* the commands the messages send the user to */
#define HINT_ADD "recommender train --register"
#define HINT_PROMOTE "recommender models promote"
#define HINT_LIST "recommender models list"
/* "~N" beyond this is a typo, not a model */
#define MAX_STEPS 1000000UL
#define STREAM_CHUNK ((size_t)1 << 16)

struct registry {
	git_repository *repo;
	git_odb *odb;
	char *dir;
	char *no_reflog;	/* why reflogs could not be enabled; refs stay put */
};

/* the names a REV may start with */
static const struct {
	const char *name, *ref, *hint;
} named_refs[] = {
	{ "production", REF_PRODUCTION, "promote one first with '" HINT_PROMOTE "'" },
	{ "candidate", REF_CANDIDATE, "register one first with '" HINT_ADD "'" },
	{ "models", REF_MODELS, "register one first with '" HINT_ADD "'" },
};

__attribute__((format(printf, 3, 4)))
static int fail(struct buf *err, int code, const char *fmt, ...)
{
	va_list ap;

	if (err) {
		va_start(ap, fmt);
		buf_vaddf(err, fmt, ap);
		va_end(ap);
	}
	return code;
}

/* ": <libgit2's last message>", without the ": " some of them end with */
static void add_git_message(struct buf *err)
{
	const git_error *e = git_error_last();
	const char *m = e && e->message ? e->message : "";
	size_t len = strlen(m);

	while (len && strchr(" :.\n", m[len - 1]))
		len--;
	buf_addstr(err, ": ");
	if (len)
		buf_add(err, m, len);
	else
		buf_addstr(err, "unknown libgit2 error");
}

/* a libgit2 failure `gerr`: the caller's words, then libgit2's */
__attribute__((format(printf, 3, 4)))
static int git_fail(struct buf *err, int gerr, const char *fmt, ...)
{
	va_list ap;

	if (err) {
		va_start(ap, fmt);
		buf_vaddf(err, fmt, ap);
		va_end(ap);
		add_git_message(err);
		if (gerr == GIT_ELOCKED)
			buf_addstr(err, "; another pancake may be updating the registry: "
				    "try again, and if none is running remove that lock file");
	}
	return gerr == GIT_ELOCKED ? REGISTRY_ELOCKED : REGISTRY_EGIT;
}

static void short_hex(char out[13], const git_oid *id)
{
	git_oid_tostr(out, 13, id);
}

/* 1 with *id set when ref `name` exists, 0 when it does not, or < 0 */
static int read_ref(struct registry *r, const char *name, git_oid *id, struct buf *err)
{
	int gerr = git_reference_name_to_id(id, r->repo, name);

	if (!gerr)
		return 1;
	memset(id, 0, sizeof(*id));
	if (gerr == GIT_ENOTFOUND)
		return 0;
	return git_fail(err, gerr, "cannot read '%s' in the registry at '%s'", name, r->dir);
}

/* ---- opening ---------------------------------------------------------- */

/* a missing directory, or an empty one, may become a registry */
static int dir_usable(const char *dir, struct buf *err)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int empty = 1;

	if (!d) {
		if (errno == ENOENT)
			return 0;
		return fail(err, REGISTRY_EINVAL, "cannot create a model registry at '%s': %s",
			    dir, strerror(errno));
	}
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			empty = 0;
	closedir(d);
	if (!empty)
		return fail(err, REGISTRY_EINVAL, "'%s' is not empty and not a model registry: "
			    "choose a new or empty directory", dir);
	return 0;
}

/* core.logAllRefUpdates true or always: a bare repository logs nothing without it */
static int reflogs_enabled(git_repository *repo, int *on)
{
	git_config *snap = NULL;
	const char *v;
	int gerr, b;

	*on = 0;
	if ((gerr = git_repository_config_snapshot(&snap, repo)) < 0)
		return gerr;
	gerr = git_config_get_string(&v, snap, "core.logallrefupdates");
	if (!gerr)
		*on = !strcasecmp(v, "always") || (!git_config_parse_bool(&b, v) && b);
	else if (gerr == GIT_ENOTFOUND)
		gerr = 0;
	git_config_free(snap);
	return gerr;
}

static int enable_reflogs(git_repository *repo)
{
	git_config *cfg = NULL, *local = NULL;
	int gerr;

	if (!(gerr = git_repository_config(&cfg, repo)) &&
	    !(gerr = git_config_open_level(&local, cfg, GIT_CONFIG_LEVEL_LOCAL)))
		gerr = git_config_set_bool(local, "core.logAllRefUpdates", 1);
	git_config_free(local);
	git_config_free(cfg);
	return gerr;
}

static int open_repo(struct registry *r, int create, struct buf *err)
{
	git_repository_init_options opts;
	int gerr, ret;

	gerr = git_repository_open_ext(&r->repo, r->dir, GIT_REPOSITORY_OPEN_NO_SEARCH, NULL);
	if (gerr == GIT_ENOTFOUND) {
		if (!create)
			return fail(err, REGISTRY_ENOTFOUND, "no model registry at '%s': register "
				    "a model with '%s' to create it", r->dir, HINT_ADD);
		if ((ret = dir_usable(r->dir, err)))
			return ret;
		/* not GIT_REPOSITORY_INIT_OPTIONS_INIT: -Wmissing-field-initializers */
		git_repository_init_options_init(&opts, GIT_REPOSITORY_INIT_OPTIONS_VERSION);
		opts.flags = GIT_REPOSITORY_INIT_BARE | GIT_REPOSITORY_INIT_MKPATH |
			     GIT_REPOSITORY_INIT_NO_REINIT;
		opts.initial_head = "models";
		opts.description = "pancake model registry";
		gerr = git_repository_init_ext(&r->repo, r->dir, &opts);
		if (gerr == GIT_EEXISTS)	/* another process created it first */
			gerr = git_repository_open_ext(&r->repo, r->dir,
						       GIT_REPOSITORY_OPEN_NO_SEARCH, NULL);
		if (gerr < 0)
			return git_fail(err, gerr, "cannot create a model registry at '%s'",
					r->dir);
	} else if (gerr == GIT_EOWNER) {
		return fail(err, REGISTRY_EGIT, "the registry at '%s' belongs to another user: "
			    "run as its owner or chown it", r->dir);
	} else if (gerr < 0) {
		return git_fail(err, gerr, "cannot open the registry at '%s'", r->dir);
	}
	if (!git_repository_is_bare(r->repo))
		return fail(err, REGISTRY_EINVAL, "'%s' is a git work tree, not a model registry: "
			    "give the registry's own directory", r->dir);
	return 0;
}

int registry_open(struct registry **out, const char *dir, int create, struct buf *err)
{
	struct registry *r;
	struct buf why = BUF_INIT;
	int gerr, ret, on;

	*out = NULL;
	if (!dir || !*dir)
		return fail(err, REGISTRY_EINVAL, "no registry directory given: pass one, "
			    "such as 'models.git'");
	if ((gerr = git_libgit2_init()) < 0)
		return git_fail(err, gerr, "cannot initialise libgit2 for the registry at '%s'",
				dir);
	r = xcalloc(1, sizeof(*r));
	r->dir = xstrdup(dir);
	/* a ref must never name an object that a crash left unwritten */
	git_libgit2_opts(GIT_OPT_ENABLE_FSYNC_GITDIR, 1);
	if ((ret = open_repo(r, create, err)))
		goto out;
	if ((gerr = reflogs_enabled(r->repo, &on)) < 0) {
		ret = git_fail(err, gerr, "cannot read the configuration of the registry at '%s'",
			       r->dir);
		goto out;
	}
	if (!on) {
		/*
		 * libgit2 caches the setting per repository object once a ref
		 * is written, so the new value only counts after a reopen.
		 */
		if ((gerr = enable_reflogs(r->repo)) < 0) {
			buf_addf(&why, "cannot enable reflogs (core.logAllRefUpdates) in the "
				 "registry at '%s'", r->dir);
			add_git_message(&why);
			buf_addstr(&why, ": check that you may write to it");
			r->no_reflog = buf_detach(&why, NULL);
		} else {
			git_repository_free(r->repo);
			r->repo = NULL;
			if ((ret = open_repo(r, 0, err)))
				goto out;
		}
	}
	if ((gerr = git_repository_set_ident(r->repo, SIG_NAME, SIG_EMAIL)) < 0 ||
	    (gerr = git_repository_odb(&r->odb, r->repo)) < 0) {
		ret = git_fail(err, gerr, "cannot open the registry at '%s'", r->dir);
		goto out;
	}
out:
	if (ret)
		registry_close(r);
	else
		*out = r;
	return ret;
}

void registry_close(struct registry *r)
{
	if (!r)
		return;
	git_odb_free(r->odb);
	git_repository_free(r->repo);
	free(r->dir);
	free(r->no_reflog);
	free(r);
	git_libgit2_shutdown();
}

const char *registry_dir(const struct registry *r)
{
	return r->dir;
}

/* ---- moving refs ------------------------------------------------------ */

struct ref_move {
	const char *name;
	git_oid old, new;
	int had_old;
	char msg[128];
};

/* a reflog message, cut before a character that would not fit */
__attribute__((format(printf, 2, 3)))
static void set_msg(struct ref_move *m, const char *fmt, ...)
{
	struct buf full = BUF_INIT;
	va_list ap;
	size_t len;

	va_start(ap, fmt);
	buf_vaddf(&full, fmt, ap);
	va_end(ap);
	len = full.len;
	if (len >= sizeof(m->msg)) {
		len = sizeof(m->msg) - 1;
		while (len && ((unsigned char)full.s[len] & 0xc0) == 0x80)
			len--;
	}
	memcpy(m->msg, full.s, len);
	m->msg[len] = '\0';
	buf_release(&full);
}

static int writable(struct registry *r, struct buf *err)
{
	if (r->no_reflog)
		return fail(err, REGISTRY_EGIT, "%s", r->no_reflog);
	return 0;
}

/* locks every ref in `m`, then reads its value under the lock */
static int lock_moves(struct registry *r, git_transaction **tx, struct ref_move *m, size_t n,
		      const char *doing, struct buf *err)
{
	size_t i;
	int gerr, ret;

	if ((gerr = git_transaction_new(tx, r->repo)) < 0)
		return git_fail(err, gerr, "cannot %s in the registry at '%s'", doing, r->dir);
	for (i = 0; i < n; i++)
		if ((gerr = git_transaction_lock_ref(*tx, m[i].name)) < 0)
			return git_fail(err, gerr, "cannot %s in the registry at '%s'", doing,
					r->dir);
	for (i = 0; i < n; i++) {
		if ((ret = read_ref(r, m[i].name, &m[i].old, err)) < 0)
			return ret;
		m[i].had_old = ret;
	}
	return 0;
}

/*
 * A transaction writes its refs one by one, so a failure can leave some
 * moved: put those back (compare-and-swap, best effort, said in `err`).
 */
static void undo_moves(struct registry *r, const struct ref_move *m, size_t n,
		       struct buf *err)
{
	git_reference *ref = NULL;
	git_oid now;
	char was[13], is[13];
	size_t i;
	int gerr;

	for (i = 0; i < n; i++) {
		if (read_ref(r, m[i].name, &now, NULL) != 1 || !git_oid_equal(&now, &m[i].new) ||
		    (m[i].had_old && git_oid_equal(&m[i].old, &m[i].new)))
			continue;
		if (m[i].had_old) {
			gerr = git_reference_create_matching(&ref, r->repo, m[i].name, &m[i].old,
							     1, &m[i].new, "undo a failed update");
		} else if (!(gerr = git_reference_lookup(&ref, r->repo, m[i].name))) {
			gerr = git_reference_delete(ref);
		}
		git_reference_free(ref);
		ref = NULL;
		if (gerr < 0 && err) {
			short_hex(is, &m[i].new);
			if (m[i].had_old)
				short_hex(was, &m[i].old);
			else
				strcpy(was, "nothing");
			buf_addf(err, "; and '%s' is left at %s, not back at %s", m[i].name, is,
				 was);
			add_git_message(err);
		}
	}
}

static int commit_moves(struct registry *r, git_transaction *tx, const struct ref_move *m,
			size_t n, const char *doing, struct buf *err)
{
	git_signature *sig = NULL;
	size_t i;
	int gerr, ret = 0;

	if ((gerr = git_signature_now(&sig, SIG_NAME, SIG_EMAIL)) < 0) {
		ret = git_fail(err, gerr, "cannot %s in the registry at '%s'", doing, r->dir);
		goto out;
	}
	for (i = 0; i < n; i++) {
		gerr = git_transaction_set_target(tx, m[i].name, &m[i].new, sig, m[i].msg);
		if (gerr < 0) {
			ret = git_fail(err, gerr, "cannot %s in the registry at '%s'", doing,
				       r->dir);
			goto out;
		}
	}
	if ((gerr = git_transaction_commit(tx)) < 0) {
		ret = git_fail(err, gerr, "cannot %s in the registry at '%s'", doing, r->dir);
		undo_moves(r, m, n, err);
	}
out:
	git_signature_free(sig);
	return ret;
}

/* ---- reading models --------------------------------------------------- */

struct tips {
	git_oid production, candidate;
	int has_production, has_candidate;
};

static int read_tips(struct registry *r, struct tips *t, struct buf *err)
{
	int ret;

	if ((ret = read_ref(r, REF_PRODUCTION, &t->production, err)) < 0)
		return ret;
	t->has_production = ret;
	if ((ret = read_ref(r, REF_CANDIDATE, &t->candidate, err)) < 0)
		return ret;
	t->has_candidate = ret;
	return 0;
}

static int is_hex(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (!isxdigit((unsigned char)s[i]))
			return 0;
	return 1;
}

/* the model on the models history whose id starts with the `len` hex digits */
static int find_prefix(struct registry *r, const char *rev, size_t len, git_oid *out,
		       struct buf *err)
{
	git_revwalk *walk = NULL;
	git_oid prefix, tip, id, match[3];
	char hex[13];
	size_t n = 0, i;
	int gerr, ret;

	if ((ret = read_ref(r, REF_MODELS, &tip, err)) <= 0) {
		if (!ret)
			ret = fail(err, REGISTRY_ENOTFOUND, "no model '%s' in the registry at '%s': "
				   "it holds no models yet; register one with '%s'", rev, r->dir,
				   HINT_ADD);
		return ret;
	}
	if ((gerr = git_oid_fromstrn(&prefix, rev, len)) < 0 ||
	    (gerr = git_revwalk_new(&walk, r->repo)) < 0 ||
	    (gerr = git_revwalk_push(walk, &tip)) < 0 ||
	    (gerr = git_revwalk_simplify_first_parent(walk)) < 0) {
		ret = git_fail(err, gerr, "cannot walk the models in the registry at '%s'", r->dir);
		goto out;
	}
	while (!(gerr = git_revwalk_next(&id, walk)))
		if (!git_oid_ncmp(&id, &prefix, len)) {
			if (n < ARRAY_SIZE(match))
				match[n] = id;
			n++;
		}
	if (gerr != GIT_ITEROVER) {
		ret = git_fail(err, gerr, "cannot walk the models in the registry at '%s'", r->dir);
		goto out;
	}
	if (!n) {
		ret = fail(err, REGISTRY_ENOTFOUND, "no model '%s' in the registry at '%s': see '%s'",
			   rev, r->dir, HINT_LIST);
		goto out;
	}
	if (n > 1) {
		ret = fail(err, REGISTRY_EAMBIGUOUS, "model id '%s' is ambiguous in the registry "
			   "at '%s': it matches %zu models (", rev, r->dir, n);
		for (i = 0; err && i < n && i < ARRAY_SIZE(match); i++) {
			short_hex(hex, &match[i]);
			buf_addf(err, "%s%s", i ? ", " : "", hex);
		}
		if (err)
			buf_addf(err, "%s); give more digits", n > ARRAY_SIZE(match) ? ", ..." : "");
		goto out;
	}
	*out = match[0];
	ret = 0;
out:
	git_revwalk_free(walk);
	return ret;
}

static int bad_rev(struct registry *r, const char *rev, struct buf *err)
{
	return fail(err, REGISTRY_EINVAL, "'%s' is not a model in the registry at '%s': name one "
		    "as 'production', 'candidate', 'models', 4 to 40 hex digits of its id, or one "
		    "of those followed by '~N'", rev, r->dir);
}

/* "~N", "~" and "^" (or "^1") after a REV's base: how many parents to go back */
static int parse_steps(struct registry *r, const char *rev, const char *s,
		       unsigned long *steps, struct buf *err)
{
	unsigned long n;
	char *end;

	*steps = 0;
	while (*s) {
		n = 1;
		if (*s == '~' && isdigit((unsigned char)s[1])) {
			errno = 0;
			n = strtoul(s + 1, &end, 10);
			if (errno || n > MAX_STEPS)
				return bad_rev(r, rev, err);
			s = end;
		} else if (*s == '~' || (*s == '^' && s[1] != '1')) {
			s++;
		} else if (*s == '^') {
			s += 2;
		} else {
			return bad_rev(r, rev, err);
		}
		*steps += n;
		if (*steps > MAX_STEPS)
			return bad_rev(r, rev, err);
	}
	return 0;
}

/* the commit REV names (new, git_commit_free) */
static int resolve(struct registry *r, const char *rev, git_commit **out, struct buf *err)
{
	git_commit *c = NULL, *parent = NULL;
	unsigned long steps;
	size_t baselen, i;
	git_oid id;
	int gerr, ret;

	*out = NULL;
	if (!rev || !*rev)
		return fail(err, REGISTRY_EINVAL, "no model named in the registry at '%s': give "
			    "'production', 'candidate' or an id from '%s'", r->dir, HINT_LIST);
	baselen = strcspn(rev, "~^");
	if ((ret = parse_steps(r, rev, rev + baselen, &steps, err)))
		return ret;
	for (i = 0; i < ARRAY_SIZE(named_refs); i++)
		if (strlen(named_refs[i].name) == baselen &&
		    !strncmp(rev, named_refs[i].name, baselen))
			break;
	if (i < ARRAY_SIZE(named_refs)) {
		if ((ret = read_ref(r, named_refs[i].ref, &id, err)) < 0)
			return ret;
		if (!ret)
			return fail(err, REGISTRY_ENOTFOUND, "no model '%s' in the registry at "
				    "'%s': %s", named_refs[i].name, r->dir, named_refs[i].hint);
	} else if (baselen >= 4 && baselen <= GIT_OID_HEXSZ && is_hex(rev, baselen)) {
		if ((ret = find_prefix(r, rev, baselen, &id, err)))
			return ret;
	} else {
		return bad_rev(r, rev, err);
	}
	if ((gerr = git_commit_lookup(&c, r->repo, &id)) < 0) {
		ret = git_fail(err, gerr, "cannot read model '%s' in the registry at '%s'", rev,
			       r->dir);
		goto out;
	}
	for (; steps; steps--) {
		if ((gerr = git_commit_parent(&parent, c, 0)) == GIT_ENOTFOUND) {
			ret = fail(err, REGISTRY_ENOTFOUND, "no model '%s' in the registry at '%s': "
				   "there are not that many older models; see '%s'", rev, r->dir,
				   HINT_LIST);
			goto out;
		}
		if (gerr < 0) {
			ret = git_fail(err, gerr, "cannot read model '%s' in the registry at '%s'",
				       rev, r->dir);
			goto out;
		}
		git_commit_free(c);
		c = parent;
	}
	*out = c;
	c = NULL;
	ret = 0;
out:
	git_commit_free(c);
	return ret;
}

/* model.bin of a commit's tree: 0, or an error naming `rev` */
static int model_blob(struct registry *r, git_tree *tree, const char *rev, git_oid *id,
		      size_t *size, struct buf *err)
{
	const git_tree_entry *te = git_tree_entry_byname(tree, "model.bin");
	git_object_t type;
	int gerr;

	if (!te || git_tree_entry_type(te) != GIT_OBJECT_BLOB)
		return fail(err, REGISTRY_ENOTFOUND, "'%s' in the registry at '%s' is not a model "
			    "(its commit has no model.bin): see '%s'", rev, r->dir, HINT_LIST);
	*id = *git_tree_entry_id(te);
	/* the header only: a model can be hundreds of megabytes */
	if ((gerr = git_odb_read_header(size, &type, r->odb, id)) < 0)
		return git_fail(err, gerr, "cannot read model.bin of '%s' in the registry at '%s'",
				rev, r->dir);
	return 0;
}

/* params.json or metrics.json as a new string (free with free()), "{}" when absent */
static int read_text(struct registry *r, git_tree *tree, const char *name, const char *rev,
		     char **out, struct buf *err)
{
	const git_tree_entry *te = git_tree_entry_byname(tree, name);
	git_blob *blob = NULL;
	git_object_size_t size;
	int gerr;

	*out = NULL;
	if (!te) {
		*out = xstrdup("{}");
		return 0;
	}
	if (git_tree_entry_type(te) != GIT_OBJECT_BLOB)
		return fail(err, REGISTRY_EINVAL, "%s of '%s' in the registry at '%s' is not a "
			    "file: re-register the model", name, rev, r->dir);
	if ((gerr = git_blob_lookup(&blob, r->repo, git_tree_entry_id(te))) < 0)
		return git_fail(err, gerr, "cannot read %s of '%s' in the registry at '%s'", name,
				rev, r->dir);
	size = git_blob_rawsize(blob);
	if (size > REGISTRY_JSON_MAX) {
		git_blob_free(blob);
		return fail(err, REGISTRY_EINVAL, "%s of '%s' in the registry at '%s' is %llu "
			    "bytes, over the %zu-byte cap: re-register the model with less",
			    name, rev, r->dir, (unsigned long long)size, REGISTRY_JSON_MAX);
	}
	*out = xmalloc((size_t)size + 1);
	memcpy(*out, git_blob_rawcontent(blob), (size_t)size);
	(*out)[size] = '\0';
	git_blob_free(blob);
	return 0;
}

/* fills `e` (new, registry_entry_release) from commit `c`, named `rev` in messages */
static int fill_entry(struct registry *r, git_commit *c, const char *rev,
		      const struct tips *t, struct registry_entry *e, struct buf *err)
{
	const git_oid *id = git_commit_id(c);
	const char *msg = git_commit_message(c);
	git_tree *tree = NULL;
	git_oid blob;
	int gerr, ret;

	memset(e, 0, sizeof(*e));
	git_oid_tostr(e->id, sizeof(e->id), id);
	short_hex(e->short_id, id);
	e->time = git_commit_time(c);
	msg = msg ? msg : "";
	e->summary = xstrndup(msg, strcspn(msg, "\r\n"));
	e->is_production = t->has_production && git_oid_equal(id, &t->production);
	e->is_candidate = t->has_candidate && git_oid_equal(id, &t->candidate);
	if ((gerr = git_commit_tree(&tree, c)) < 0) {
		ret = git_fail(err, gerr, "cannot read model '%s' in the registry at '%s'", rev,
			       r->dir);
		goto out;
	}
	if ((ret = model_blob(r, tree, rev, &blob, &e->model_size, err)) ||
	    (ret = read_text(r, tree, "params.json", rev, &e->params_json, err)) ||
	    (ret = read_text(r, tree, "metrics.json", rev, &e->metrics_json, err)))
		goto out;
out:
	git_tree_free(tree);
	if (ret)
		registry_entry_release(e);
	return ret;
}

void registry_entry_release(struct registry_entry *e)
{
	free(e->summary);
	free(e->params_json);
	free(e->metrics_json);
	memset(e, 0, sizeof(*e));
}

int registry_show(struct registry *r, const char *rev, struct registry_entry *out,
		  struct buf *err)
{
	git_commit *c = NULL;
	struct tips t;
	int ret;

	memset(out, 0, sizeof(*out));
	if (!(ret = resolve(r, rev, &c, err)) && !(ret = read_tips(r, &t, err)))
		ret = fill_entry(r, c, rev, &t, out, err);
	git_commit_free(c);
	return ret;
}

/* fills `out` for commit `id`, when the caller wants it */
static int show_id(struct registry *r, const git_oid *id, struct registry_entry *out,
		   struct buf *err)
{
	git_commit *c = NULL;
	char hex[GIT_OID_HEXSZ + 1];
	struct tips t;
	int gerr, ret;

	if (!out)
		return 0;
	git_oid_tostr(hex, sizeof(hex), id);
	if ((gerr = git_commit_lookup(&c, r->repo, id)) < 0)
		return git_fail(err, gerr, "cannot read model '%s' in the registry at '%s'", hex,
				r->dir);
	if (!(ret = read_tips(r, &t, err)))
		ret = fill_entry(r, c, hex, &t, out, err);
	git_commit_free(c);
	return ret;
}

int registry_model(struct registry *r, const char *rev, struct buf *out, struct buf *err)
{
	git_commit *c = NULL;
	git_tree *tree = NULL;
	git_blob *blob = NULL;
	git_oid id;
	size_t size;
	int gerr, ret;

	if ((ret = resolve(r, rev, &c, err)))
		goto out;
	if ((gerr = git_commit_tree(&tree, c)) < 0) {
		ret = git_fail(err, gerr, "cannot read model '%s' in the registry at '%s'", rev,
			       r->dir);
		goto out;
	}
	if ((ret = model_blob(r, tree, rev, &id, &size, err)))
		goto out;
	if (size > REGISTRY_MODEL_MAX) {
		ret = fail(err, REGISTRY_EINVAL, "model.bin of '%s' in the registry at '%s' is %zu "
			   "bytes, over the %zu-byte cap: it is not a pancake model", rev, r->dir,
			   size, REGISTRY_MODEL_MAX);
		goto out;
	}
	if ((gerr = git_blob_lookup(&blob, r->repo, &id)) < 0) {
		ret = git_fail(err, gerr, "cannot read model.bin of '%s' in the registry at '%s'",
			       rev, r->dir);
		goto out;
	}
	buf_add(out, git_blob_rawcontent(blob), (size_t)git_blob_rawsize(blob));
out:
	git_blob_free(blob);
	git_tree_free(tree);
	git_commit_free(c);
	return ret;
}

int registry_list(struct registry *r, struct registry_entry **out, size_t *n, struct buf *err)
{
	struct registry_entry *e = NULL;
	git_revwalk *walk = NULL;
	git_commit *c = NULL;
	size_t alloc = 0, i;
	git_oid tip, id;
	char hex[GIT_OID_HEXSZ + 1];
	struct tips t;
	int gerr, ret;

	*out = NULL;
	*n = 0;
	if ((ret = read_ref(r, REF_MODELS, &tip, err)) <= 0 || (ret = read_tips(r, &t, err)))
		return ret;
	if ((gerr = git_revwalk_new(&walk, r->repo)) < 0 ||
	    (gerr = git_revwalk_push(walk, &tip)) < 0 ||
	    (gerr = git_revwalk_simplify_first_parent(walk)) < 0) {
		ret = git_fail(err, gerr, "cannot walk the models in the registry at '%s'", r->dir);
		goto out;
	}
	/* first parents only, child before parent: newest first */
	while (!(gerr = git_revwalk_next(&id, walk))) {
		git_oid_tostr(hex, sizeof(hex), &id);
		if ((gerr = git_commit_lookup(&c, r->repo, &id)) < 0) {
			ret = git_fail(err, gerr, "cannot read model '%s' in the registry at '%s'",
				       hex, r->dir);
			goto out;
		}
		ALLOC_GROW(e, *n + 1, alloc);
		ret = fill_entry(r, c, hex, &t, &e[*n], err);
		git_commit_free(c);
		c = NULL;
		if (ret)
			goto out;
		(*n)++;
	}
	if (gerr != GIT_ITEROVER) {
		ret = git_fail(err, gerr, "cannot walk the models in the registry at '%s'", r->dir);
		goto out;
	}
	ret = 0;
out:
	git_revwalk_free(walk);
	if (ret) {
		for (i = 0; i < *n; i++)
			registry_entry_release(&e[i]);
		free(e);
		e = NULL;
		*n = 0;
	}
	*out = e;
	return ret;
}

void registry_list_free(struct registry_entry *e, size_t n)
{
	size_t i;

	for (i = 0; e && i < n; i++)
		registry_entry_release(&e[i]);
	free(e);
}

/* ---- registering ------------------------------------------------------ */

static int check_summary(const char *summary, struct buf *err)
{
	const char *s;

	for (s = summary; s && *s && isspace((unsigned char)*s); s++)
		;
	if (!s || !*s)
		return fail(err, REGISTRY_EINVAL, "a model needs a one-line summary: say what was "
			    "trained on what, such as 'als rank 10 on ml-1m: rmse 0.861'");
	if (strpbrk(summary, "\r\n"))
		return fail(err, REGISTRY_EINVAL, "the summary '%.*s...' spans several lines: give "
			    "the model a one-line summary", (int)strcspn(summary, "\r\n"), summary);
	return 0;
}

/* `what` ("params") must be a JSON object, within the size cap */
static int check_json(const char *text, const char *what, struct buf *err)
{
	json_error_t je;
	json_t *v;
	size_t len = strlen(text);

	if (len > REGISTRY_JSON_MAX)
		return fail(err, REGISTRY_EINVAL, "the model's %s are %zu bytes of JSON, over the "
			    "registry's %zu-byte cap: keep them to a flat object", what, len,
			    REGISTRY_JSON_MAX);
	v = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
	if (!v)
		return fail(err, REGISTRY_EINVAL, "the model's %s are not valid JSON (line %d: %s): "
			    "give a JSON object such as '{\"rank\": 10}'", what, je.line, je.text);
	if (!json_is_object(v)) {
		json_decref(v);
		return fail(err, REGISTRY_EINVAL, "the model's %s are JSON but not an object: give "
			    "one such as '{\"rank\": 10}'", what);
	}
	json_decref(v);
	return 0;
}

static int check_add(struct registry *r, const char *params, const char *metrics,
		     const char *summary, struct buf *err)
{
	int ret;

	if ((ret = writable(r, err)) || (ret = check_summary(summary, err)) ||
	    (ret = check_json(params, "params", err)) ||
	    (ret = check_json(metrics, "metrics", err)))
		return ret;
	return 0;
}

/*
 * The tree and commit for `model` (a blob already written), then models and
 * candidate move together. Both refs are locked before the commit is made,
 * so its parent is the tip no other process can move meanwhile.
 */
static int add_commit(struct registry *r, const git_oid *model, const char *params,
		      const char *metrics, const char *summary, struct registry_entry *out,
		      struct buf *err)
{
	git_treebuilder *tb = NULL;
	git_tree *tree = NULL;
	git_transaction *tx = NULL;
	git_commit *parent = NULL;
	git_signature *sig = NULL;
	const git_commit *parents[1];
	struct ref_move mv[2];
	git_oid pblob, mblob, tree_id, id;
	char *msg = NULL, hex[13];
	int gerr, ret;

	memset(mv, 0, sizeof(mv));
	mv[0].name = REF_MODELS;
	mv[1].name = REF_CANDIDATE;
	if ((gerr = git_blob_create_from_buffer(&pblob, r->repo, params, strlen(params))) < 0 ||
	    (gerr = git_blob_create_from_buffer(&mblob, r->repo, metrics, strlen(metrics))) < 0 ||
	    (gerr = git_treebuilder_new(&tb, r->repo, NULL)) < 0 ||
	    (gerr = git_treebuilder_insert(NULL, tb, "model.bin", model, GIT_FILEMODE_BLOB)) < 0 ||
	    (gerr = git_treebuilder_insert(NULL, tb, "params.json", &pblob,
					   GIT_FILEMODE_BLOB)) < 0 ||
	    (gerr = git_treebuilder_insert(NULL, tb, "metrics.json", &mblob,
					   GIT_FILEMODE_BLOB)) < 0 ||
	    (gerr = git_treebuilder_write(&tree_id, tb)) < 0 ||
	    (gerr = git_tree_lookup(&tree, r->repo, &tree_id)) < 0) {
		ret = git_fail(err, gerr, "cannot write the model to the registry at '%s'", r->dir);
		goto out;
	}
	if ((ret = lock_moves(r, &tx, mv, 2, "register a model", err)))
		goto out;
	if (mv[0].had_old && (gerr = git_commit_lookup(&parent, r->repo, &mv[0].old)) < 0) {
		ret = git_fail(err, gerr, "cannot read the newest model in the registry at '%s'",
			       r->dir);
		goto out;
	}
	parents[0] = parent;
	msg = xstrfmt("%s\n", summary);
	if ((gerr = git_signature_now(&sig, SIG_NAME, SIG_EMAIL)) < 0 ||
	    (gerr = git_commit_create(&id, r->repo, NULL, sig, sig, NULL, msg, tree,
				      parent ? 1 : 0, parents)) < 0) {
		ret = git_fail(err, gerr, "cannot write the model to the registry at '%s'", r->dir);
		goto out;
	}
	short_hex(hex, &id);
	mv[0].new = mv[1].new = id;
	set_msg(&mv[0], "register %s: %s", hex, summary);
	set_msg(&mv[1], "register %s", hex);
	if ((ret = commit_moves(r, tx, mv, 2, "register a model", err)))
		goto out;
	ret = show_id(r, &id, out, err);
out:
	git_signature_free(sig);
	free(msg);
	git_commit_free(parent);
	git_transaction_free(tx);	/* unlocks what was not committed */
	git_tree_free(tree);
	git_treebuilder_free(tb);
	return ret;
}

int registry_add(struct registry *r, const void *model, size_t model_len,
		 const char *params_json, const char *metrics_json, const char *summary,
		 struct registry_entry *out_entry, struct buf *err)
{
	const char *params = params_json ? params_json : "{}";
	const char *metrics = metrics_json ? metrics_json : "{}";
	git_oid blob;
	int gerr, ret;

	if (out_entry)
		memset(out_entry, 0, sizeof(*out_entry));
	if ((ret = check_add(r, params, metrics, summary, err)))
		return ret;
	if (model_len > REGISTRY_MODEL_MAX)
		return fail(err, REGISTRY_EINVAL, "the model is %zu bytes, over the registry's "
			    "%zu-byte cap: it is not a pancake model", model_len,
			    REGISTRY_MODEL_MAX);
	if ((gerr = git_blob_create_from_buffer(&blob, r->repo, model_len ? model : "",
						model_len)) < 0)
		return git_fail(err, gerr, "cannot write the model to the registry at '%s'",
				r->dir);
	return add_commit(r, &blob, params, metrics, summary, out_entry, err);
}

/* streams the file into a blob: no filters (no hint path), never all in memory */
static int stream_file(struct registry *r, const char *path, git_oid *blob, struct buf *err)
{
	git_writestream *ws = NULL;
	char *chunk = NULL;
	size_t total = 0;
	ssize_t got;
	int fd, gerr, ret = 0;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return fail(err, errno == ENOENT ? REGISTRY_ENOTFOUND : REGISTRY_EGIT,
			    "cannot read the model file '%s': %s", path, strerror(errno));
	if ((gerr = git_blob_create_from_stream(&ws, r->repo, NULL)) < 0) {
		ret = git_fail(err, gerr, "cannot write the model to the registry at '%s'", r->dir);
		goto out;
	}
	chunk = xmalloc(STREAM_CHUNK);
	while ((got = read(fd, chunk, STREAM_CHUNK)) != 0) {
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			ret = fail(err, REGISTRY_EGIT, "cannot read the model file '%s': %s", path,
				   strerror(errno));
			goto out;
		}
		total += (size_t)got;
		if (total > REGISTRY_MODEL_MAX) {
			ret = fail(err, REGISTRY_EINVAL, "the model file '%s' is over the registry's "
				   "%zu-byte cap: it is not a pancake model", path,
				   REGISTRY_MODEL_MAX);
			goto out;
		}
		if ((gerr = ws->write(ws, chunk, (size_t)got)) < 0) {
			ret = git_fail(err, gerr, "cannot write the model to the registry at '%s'",
				       r->dir);
			goto out;
		}
	}
	gerr = git_blob_create_from_stream_commit(blob, ws);
	ws = NULL;	/* freed by the commit, whatever it returns */
	if (gerr < 0)
		ret = git_fail(err, gerr, "cannot write the model to the registry at '%s'", r->dir);
out:
	if (ws)
		ws->free(ws);
	free(chunk);
	close(fd);
	return ret;
}

int registry_add_file(struct registry *r, const char *model_path,
		      const char *params_json, const char *metrics_json, const char *summary,
		      struct registry_entry *out_entry, struct buf *err)
{
	const char *params = params_json ? params_json : "{}";
	const char *metrics = metrics_json ? metrics_json : "{}";
	git_oid blob;
	int ret;

	if (out_entry)
		memset(out_entry, 0, sizeof(*out_entry));
	if ((ret = check_add(r, params, metrics, summary, err)) ||
	    (ret = stream_file(r, model_path, &blob, err)))
		return ret;
	return add_commit(r, &blob, params, metrics, summary, out_entry, err);
}

/* ---- production ------------------------------------------------------- */

int registry_promote(struct registry *r, const char *rev, struct registry_entry *out,
		     struct buf *err)
{
	git_transaction *tx = NULL;
	git_commit *c = NULL;
	struct ref_move mv;
	char hex[13];
	int ret;

	if (out)
		memset(out, 0, sizeof(*out));
	if ((ret = writable(r, err)) || (ret = resolve(r, rev ? rev : "candidate", &c, err)))
		goto out;
	memset(&mv, 0, sizeof(mv));
	mv.name = REF_PRODUCTION;
	mv.new = *git_commit_id(c);
	if ((ret = lock_moves(r, &tx, &mv, 1, "promote a model", err)))
		goto out;
	if (!mv.had_old || !git_oid_equal(&mv.old, &mv.new)) {
		short_hex(hex, &mv.new);
		set_msg(&mv, "promote %s", hex);
		if ((ret = commit_moves(r, tx, &mv, 1, "promote a model", err)))
			goto out;
	}
	ret = show_id(r, &mv.new, out, err);
out:
	git_transaction_free(tx);
	git_commit_free(c);
	return ret;
}

/*
 * Replays the reflog oldest first as an undo stack: a promotion pushes
 * its model, a rollback pops one. What lies under the current value (and
 * its repeats) is where a rollback goes.
 */
static int rollback_target(struct registry *r, const git_oid *cur, git_oid *target,
			   struct buf *err)
{
	const git_reflog_entry *e;
	git_reflog *log = NULL;
	const git_oid *id;
	const char *msg;
	git_oid *stack = NULL;
	size_t n, i, top = 0;
	char hex[13];
	int gerr, ret = 0;

	if ((gerr = git_reflog_read(&log, r->repo, REF_PRODUCTION)) < 0) {
		ret = git_fail(err, gerr, "cannot read the history of production in the registry "
			       "at '%s'", r->dir);
		goto out;
	}
	n = git_reflog_entrycount(log);
	stack = xcalloc(n + 1, sizeof(*stack));
	for (i = n; i-- > 0;) {
		e = git_reflog_entry_byindex(log, i);
		id = git_reflog_entry_id_new(e);
		msg = git_reflog_entry_message(e);
		if (git_oid_is_zero(id)) {	/* deleted: what came before is gone */
			top = 0;
			continue;
		}
		if (msg && !strncmp(msg, ROLLBACK_PREFIX, strlen(ROLLBACK_PREFIX)) && top)
			top--;
		if (!top || !git_oid_equal(&stack[top - 1], id))
			stack[top++] = *id;
	}
	/* a move the reflog missed (written by hand) still counts */
	if (!top || !git_oid_equal(&stack[top - 1], cur))
		stack[top++] = *cur;
	while (top && git_oid_equal(&stack[top - 1], cur))
		top--;
	if (!top) {
		short_hex(hex, cur);
		ret = fail(err, REGISTRY_ENOHISTORY, "production has no earlier version to roll "
			   "back to in the registry at '%s' (it has been %s since it was first "
			   "promoted): promote another model with '%s'", r->dir, hex, HINT_PROMOTE);
		goto out;
	}
	*target = stack[top - 1];
out:
	free(stack);
	git_reflog_free(log);
	return ret;
}

int registry_rollback(struct registry *r, struct registry_entry *out, struct buf *err)
{
	git_transaction *tx = NULL;
	struct ref_move mv;
	char hex[13];
	int ret;

	if (out)
		memset(out, 0, sizeof(*out));
	memset(&mv, 0, sizeof(mv));
	mv.name = REF_PRODUCTION;
	if ((ret = writable(r, err)) ||
	    (ret = lock_moves(r, &tx, &mv, 1, "roll production back", err)))
		goto out;
	if (!mv.had_old) {
		ret = fail(err, REGISTRY_ENOTFOUND, "no model 'production' in the registry at '%s': "
			   "promote one first with '%s'", r->dir, HINT_PROMOTE);
		goto out;
	}
	if ((ret = rollback_target(r, &mv.old, &mv.new, err)))
		goto out;
	short_hex(hex, &mv.new);
	set_msg(&mv, ROLLBACK_PREFIX "%s", hex);
	if ((ret = commit_moves(r, tx, &mv, 1, "roll production back", err)))
		goto out;
	ret = show_id(r, &mv.new, out, err);
out:
	git_transaction_free(tx);
	return ret;
}

int registry_rollback_target(struct registry *r, char id[41], struct buf *err)
{
	git_oid cur, target;
	int ret;

	id[0] = '\0';
	if ((ret = read_ref(r, REF_PRODUCTION, &cur, err)) < 0)
		return ret;
	if (!ret)
		return fail(err, REGISTRY_ENOTFOUND, "no model 'production' in the registry at '%s': "
			    "promote one first with '%s'", r->dir, HINT_PROMOTE);
	if ((ret = rollback_target(r, &cur, &target, err)))
		return ret;
	git_oid_tostr(id, 41, &target);
	return 0;
}

int registry_production_log(struct registry *r, struct registry_move **out, size_t *n,
			    struct buf *err)
{
	const git_reflog_entry *e;
	const git_signature *who;
	git_reflog *log = NULL;
	struct registry_move *m;
	const git_oid *old;
	const char *msg;
	size_t count, i;
	int gerr;

	*out = NULL;
	*n = 0;
	/* no reflog reads as an empty one */
	if ((gerr = git_reflog_read(&log, r->repo, REF_PRODUCTION)) < 0)
		return git_fail(err, gerr, "cannot read the history of production in the "
				"registry at '%s'", r->dir);
	count = git_reflog_entrycount(log);
	m = xcalloc(count ? count : 1, sizeof(*m));
	for (i = 0; i < count; i++) {	/* index 0 is the newest */
		e = git_reflog_entry_byindex(log, i);
		git_oid_tostr(m[i].id, sizeof(m[i].id), git_reflog_entry_id_new(e));
		old = git_reflog_entry_id_old(e);
		if (!git_oid_is_zero(old))
			git_oid_tostr(m[i].old_id, sizeof(m[i].old_id), old);
		who = git_reflog_entry_committer(e);
		m[i].time = who ? (int64_t)who->when.time : 0;
		msg = git_reflog_entry_message(e);
		m[i].message = xstrdup(msg ? msg : "");
	}
	git_reflog_free(log);
	*out = m;
	*n = count;
	return 0;
}

void registry_moves_free(struct registry_move *m, size_t n)
{
	size_t i;

	for (i = 0; m && i < n; i++)
		free(m[i].message);
	free(m);
}

int registry_production_history(struct registry *r, char (**ids)[41], size_t *n,
				struct buf *err)
{
	struct registry_move *m;
	size_t count, i;
	int ret;

	*ids = NULL;
	*n = 0;
	if ((ret = registry_production_log(r, &m, &count, err)))
		return ret;
	*ids = xcalloc(count ? count : 1, sizeof(**ids));
	for (i = 0; i < count; i++)
		memcpy((*ids)[i], m[i].id, sizeof((*ids)[i]));
	*n = count;
	registry_moves_free(m, count);
	return 0;
}

/* ---- diff ------------------------------------------------------------- */

/* the members of `src` into `dst`, nested objects as "outer.inner" keys */
static void flatten(json_t *dst, const char *prefix, json_t *src)
{
	const char *key;
	json_t *v;
	char *k;

	json_object_foreach(src, key, v) {
		k = prefix ? xstrfmt("%s.%s", prefix, key) : xstrdup(key);
		if (json_is_object(v) && json_object_size(v))
			flatten(dst, k, v);
		else
			json_object_set(dst, k, v);
		free(k);
	}
}

/* `text` (`file` of `e`) as a new flat JSON object (json_decref) */
static int parse_object(const struct registry_entry *e, const char *text, const char *file,
			json_t **out, struct buf *err)
{
	json_error_t je;
	json_t *v;

	*out = NULL;
	v = json_loads(text ? text : "{}", 0, &je);
	if (v && json_is_object(v)) {
		*out = json_object();
		flatten(*out, NULL, v);
		json_decref(v);
		return 0;
	}
	if (v)
		json_decref(v);
	return fail(err, REGISTRY_EINVAL, "%s of model '%s' is not a JSON object (line %d: %s): "
		    "re-register the model with one", file, e->short_id, je.line,
		    v ? "not an object" : je.text);
}

/* keys of `a`, then those of `b` that `a` lacks; *out new (free()), keys borrowed */
static const char **union_keys(json_t *a, json_t *b, size_t *n)
{
	const char **keys = xcalloc(json_object_size(a) + json_object_size(b) + 1,
				    sizeof(*keys));
	const char *key;
	json_t *v;

	*n = 0;
	json_object_foreach(a, key, v)
		keys[(*n)++] = key;
	json_object_foreach(b, key, v)
		if (!json_object_get(a, key))
			keys[(*n)++] = key;
	return keys;
}

/* new string (free()): a value as a table cell, "-" when missing */
static char *cell_value(const json_t *v)
{
	const char *s;
	char *dump, *ret;

	if (!v)
		return xstrdup("-");
	if (json_is_integer(v))
		return xstrfmt("%" JSON_INTEGER_FORMAT, json_integer_value(v));
	if (json_is_real(v))
		return xstrfmt("%.15g", json_real_value(v));
	s = json_string_value(v);
	if (s && *s && !strpbrk(s, " \t\r\n"))
		return xstrdup(s);
	dump = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
	ret = xstrdup(dump ? dump : "?");
	free(dump);
	return ret;
}

static double round_digits(double x)
{
	char s[32];

	snprintf(s, sizeof(s), "%.12g", x);
	return strtod(s, NULL);
}

struct delta {
	int ok, integer, has_pct;
	json_int_t i;
	double d, pct;
};

/* b - a when both are numbers, and the change relative to a when a != 0 */
static struct delta delta_of(const json_t *a, const json_t *b)
{
	struct delta dl = { 0 };
	double x, y;

	if (!json_is_number(a) || !json_is_number(b))
		return dl;
	x = json_number_value(a);
	y = json_number_value(b);
	dl.ok = 1;
	dl.d = y - x;
	dl.integer = json_is_integer(a) && json_is_integer(b) &&
		     !__builtin_sub_overflow(json_integer_value(b), json_integer_value(a), &dl.i);
	if (x != 0 && isfinite(dl.d / fabs(x))) {
		dl.has_pct = 1;
		dl.pct = dl.d / fabs(x) * 100;
	}
	if (!isfinite(dl.d))
		dl.ok = 0;
	/* 12 digits: 0.855 - 0.861 is -0.006, not -0.006000000000000005 */
	dl.d = round_digits(dl.d);
	dl.pct = round_digits(dl.pct);
	return dl;
}

static char *cell_delta(const json_t *a, const json_t *b)
{
	struct delta dl = delta_of(a, b);
	struct buf s = BUF_INIT;

	if (!dl.ok)
		return NULL;
	if (dl.integer)
		buf_addf(&s, "%+" JSON_INTEGER_FORMAT, dl.i);
	else
		buf_addf(&s, "%+.6g", dl.d);
	if (dl.has_pct)
		buf_addf(&s, " (%+.2f%%)", dl.pct);
	return buf_detach(&s, NULL);
}

struct row {
	char *cell[4];		/* key, a, b, delta (may be NULL); owned */
};

static void add_row(struct row **rows, size_t *n, size_t *alloc, char *k, char *a, char *b,
		    char *d)
{
	ALLOC_GROW(*rows, *n + 1, *alloc);
	(*rows)[*n].cell[0] = k;
	(*rows)[*n].cell[1] = a;
	(*rows)[*n].cell[2] = b;
	(*rows)[*n].cell[3] = d;
	(*n)++;
}

static void diff_text(const struct registry_entry *a, const struct registry_entry *b,
		      json_t *pa, json_t *pb, json_t *ma, json_t *mb, struct buf *out)
{
	struct row *rows = NULL;
	size_t nrows = 0, alloc = 0, nkeys, i, c, width[3] = { 0 }, start;
	const char **keys;
	json_t *va, *vb;

	add_row(&rows, &nrows, &alloc, xstrdup("key"), xstrdup(a->short_id),
		xstrdup(b->short_id), xstrdup("delta"));
	keys = union_keys(pa, pb, &nkeys);
	for (i = 0; i < nkeys; i++) {
		va = json_object_get(pa, keys[i]);
		vb = json_object_get(pb, keys[i]);
		if (va && vb && json_equal(va, vb))
			continue;
		add_row(&rows, &nrows, &alloc, xstrdup(keys[i]), cell_value(va), cell_value(vb),
			NULL);
	}
	free(keys);
	keys = union_keys(ma, mb, &nkeys);
	for (i = 0; i < nkeys; i++) {
		va = json_object_get(ma, keys[i]);
		vb = json_object_get(mb, keys[i]);
		add_row(&rows, &nrows, &alloc, xstrdup(keys[i]), cell_value(va), cell_value(vb),
			cell_delta(va, vb));
	}
	free(keys);
	for (i = 0; i < nrows; i++)
		for (c = 0; c < 3; c++)
			if (strlen(rows[i].cell[c]) > width[c])
				width[c] = strlen(rows[i].cell[c]);
	for (i = 0; i < nrows; i++) {
		start = out->len;
		for (c = 0; c < 3; c++)
			buf_addf(out, "%-*s  ", (int)width[c], rows[i].cell[c]);
		if (rows[i].cell[3])
			buf_addstr(out, rows[i].cell[3]);
		while (out->len > start && out->s[out->len - 1] == ' ')
			buf_setlen(out, out->len - 1);
		buf_addch(out, '\n');
		for (c = 0; c < 4; c++)
			free(rows[i].cell[c]);
	}
	free(rows);
}

static json_t *or_null(json_t *v)
{
	return v ? v : json_null();
}

static void diff_json(const struct registry_entry *a, const struct registry_entry *b,
		      json_t *pa, json_t *pb, json_t *ma, json_t *mb, struct buf *out)
{
	json_t *root = json_object(), *params = json_object(), *metrics = json_object();
	json_t *va, *vb, *m;
	const char **keys;
	struct delta dl;
	size_t nkeys, i;
	char *s;

	json_object_set_new(root, "a", json_string(a->id));
	json_object_set_new(root, "b", json_string(b->id));
	keys = union_keys(pa, pb, &nkeys);
	for (i = 0; i < nkeys; i++) {
		va = json_object_get(pa, keys[i]);
		vb = json_object_get(pb, keys[i]);
		if (va && vb && json_equal(va, vb))
			continue;
		json_object_set_new(params, keys[i], json_pack("[OO]", or_null(va), or_null(vb)));
	}
	free(keys);
	keys = union_keys(ma, mb, &nkeys);
	for (i = 0; i < nkeys; i++) {
		va = json_object_get(ma, keys[i]);
		vb = json_object_get(mb, keys[i]);
		dl = delta_of(va, vb);
		m = json_pack("{sOsO}", "a", or_null(va), "b", or_null(vb));
		json_object_set_new(m, "delta", !dl.ok ? json_null() :
				    dl.integer ? json_integer(dl.i) : json_real(dl.d));
		json_object_set_new(m, "pct", dl.ok && dl.has_pct ? json_real(dl.pct) : json_null());
		json_object_set_new(metrics, keys[i], m);
	}
	free(keys);
	json_object_set_new(root, "params", params);
	json_object_set_new(root, "metrics", metrics);
	/* 15 digits, so the values as written print as written (0.861, not 0.86099...) */
	s = json_dumps(root, JSON_COMPACT | JSON_REAL_PRECISION(15));
	if (!s)
		die("registry: cannot encode a diff as JSON: out of memory");
	buf_addstr(out, s);
	free(s);
	json_decref(root);
}

int registry_diff_entries(const struct registry_entry *a, const struct registry_entry *b,
			  enum registry_diff_flags flags, struct buf *out, struct buf *err)
{
	json_t *pa = NULL, *pb = NULL, *ma = NULL, *mb = NULL;
	int ret;

	if ((ret = parse_object(a, a->params_json, "params.json", &pa, err)) ||
	    (ret = parse_object(b, b->params_json, "params.json", &pb, err)) ||
	    (ret = parse_object(a, a->metrics_json, "metrics.json", &ma, err)) ||
	    (ret = parse_object(b, b->metrics_json, "metrics.json", &mb, err)))
		goto out;
	if (flags & REGISTRY_DIFF_JSON)
		diff_json(a, b, pa, pb, ma, mb, out);
	else
		diff_text(a, b, pa, pb, ma, mb, out);
out:
	json_decref(pa);
	json_decref(pb);
	json_decref(ma);
	json_decref(mb);
	return ret;
}

static int diff_revs(struct registry *r, const char *rev_a, const char *rev_b,
		     enum registry_diff_flags flags, struct buf *out, struct buf *err)
{
	struct registry_entry a = { 0 }, b = { 0 };
	int ret;

	if (!(ret = registry_show(r, rev_a, &a, err)) && !(ret = registry_show(r, rev_b, &b, err)))
		ret = registry_diff_entries(&a, &b, flags, out, err);
	registry_entry_release(&a);
	registry_entry_release(&b);
	return ret;
}

int registry_diff(struct registry *r, const char *rev_a, const char *rev_b, struct buf *out,
		  struct buf *err)
{
	return diff_revs(r, rev_a, rev_b, 0, out, err);
}

int registry_diff_json(struct registry *r, const char *rev_a, const char *rev_b,
		       struct buf *out, struct buf *err)
{
	return diff_revs(r, rev_a, rev_b, REGISTRY_DIFF_JSON, out, err);
}

/* ---- what `models list` shows ---- */

json_t *registry_entry_json(const struct registry_entry *e)
{
	json_t *j = json_pack("{s:s, s:s, s:I, s:s, s:b, s:b, s:I}", "id", e->id,
			      "short_id", e->short_id, "time", (json_int_t)e->time,
			      "summary", e->summary ? e->summary : "",
			      "production", e->is_production, "candidate", e->is_candidate,
			      "model_bytes", (json_int_t)e->model_size);
	json_t *p = json_loads(e->params_json ? e->params_json : "{}", 0, NULL);
	json_t *m = json_loads(e->metrics_json ? e->metrics_json : "{}", 0, NULL);
	json_object_set_new(j, "params", p ? p : json_object());
	json_object_set_new(j, "metrics", m ? m : json_object());
	return j;
}

/* "rmse 0.8612" from a metrics text, or "" */
static void metric_brief(const char *metrics, char *out, size_t size)
{
	json_t *m = json_loads(metrics ? metrics : "{}", 0, NULL);
	const char *keys[] = { "rmse", "ndcg@10", "precision@10" };

	out[0] = '\0';
	for (size_t i = 0; m && i < sizeof(keys) / sizeof(keys[0]); i++) {
		json_t *v = json_object_get(m, keys[i]);
		if (json_is_number(v)) {
			size_t n = strlen(out);
			snprintf(out + n, size - n, "%s%s %.4f", n ? ", " : "", keys[i],
				 json_number_value(v));
		}
	}
	json_decref(m);
}

void registry_entry_line(const struct registry_entry *e, enum registry_list_flags flags,
			 struct buf *out)
{
	int color = !!(flags & REGISTRY_LIST_COLOR);
	char when[32], brief[96];
	time_t t = (time_t)e->time;
	struct tm tm;

	localtime_r(&t, &tm);
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M", &tm);
	metric_brief(e->metrics_json, brief, sizeof(brief));
	buf_addf(out, "%s%s%s  %s  %-12s %s%s%s%s\n", color ? "\033[33m" : "", e->short_id,
		 color ? "\033[0m" : "", when, e->is_production && e->is_candidate ? "[prod,cand]"
		 : e->is_production ? "[production]" : e->is_candidate ? "[candidate]" : "",
		 e->summary ? e->summary : "", *brief ? " (" : "", brief, *brief ? ")" : "");
}

void registry_list_render(const struct registry_entry *e, size_t n, const char *dir,
			  enum registry_list_flags flags, struct buf *out)
{
	if (flags & REGISTRY_LIST_JSON) {
		json_t *a = json_array();

		for (size_t i = 0; i < n; i++)
			json_array_append_new(a, registry_entry_json(&e[i]));
		jsonout_add(out, a);
	} else if (!n) {
		buf_addf(out, "no models in %s yet: 'recommender train NAME --register' adds one\n",
			 dir);
	} else {
		for (size_t i = 0; i < n; i++)
			registry_entry_line(&e[i], flags, out);
	}
}
