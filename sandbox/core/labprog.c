/* labprog: progress.json (steps done and when, hints used, the current step) under a lock. */
#include "core/labprog.h"
#include "core/config.h"
#include "util/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

void labprog_init(struct labprog *p)
{
	memset(p, 0, sizeof(*p));
}

void labprog_release(struct labprog *p)
{
	size_t i;

	for (i = 0; i < p->n; i++) {
		free(p->v[i].lab);
		free(p->v[i].step);
	}
	free(p->v);
	free(p->lab);
	free(p->step);
	memset(p, 0, sizeof(*p));
}

struct labprog_step *labprog_get(struct labprog *p, const char *lab, const char *step,
				 int create)
{
	struct labprog_step *s;
	size_t i;

	for (i = 0; i < p->n; i++)
		if (!strcmp(p->v[i].lab, lab) && !strcmp(p->v[i].step, step))
			return &p->v[i];
	if (!create)
		return NULL;
	ALLOC_GROW(p->v, p->n + 1, p->alloc);
	s = &p->v[p->n++];
	memset(s, 0, sizeof(*s));
	s->lab = xstrdup(lab);
	s->step = xstrdup(step);
	return s;
}

void labprog_forget(struct labprog *p, const char *lab)
{
	size_t i, j = 0;

	for (i = 0; i < p->n; i++) {
		if (!strcmp(p->v[i].lab, lab)) {
			free(p->v[i].lab);
			free(p->v[i].step);
		} else {
			p->v[j++] = p->v[i];
		}
	}
	p->n = j;
}

void labprog_set_current(struct labprog *p, const char *lab, const char *step)
{
	char *l = lab ? xstrdup(lab) : NULL, *s = step ? xstrdup(step) : NULL;

	free(p->lab);
	free(p->step);
	p->lab = l;
	p->step = s;
}

static void iso_time(char out[32], int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int64_t parse_iso(const char *s)
{
	struct tm tm;
	const char *end;

	memset(&tm, 0, sizeof(tm));
	end = strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (!end || *end)
		return -1;
	return (int64_t)timegm(&tm);
}

/* {"version":1,"current":{"lab","step"},"labs":{LAB:{STEP:{"done","hints"}}}} */
static int from_json(struct labprog *p, json_t *root, const char **why)
{
	json_t *cur, *labs, *steps, *st;
	const char *lab, *step;

	if (!json_is_object(root) || json_integer_value(json_object_get(root, "version")) != 1) {
		*why = "not a version 1 progress object";
		return -1;
	}
	cur = json_object_get(root, "current");
	if (cur && !json_is_null(cur)) {
		json_t *l = json_object_get(cur, "lab"), *s = json_object_get(cur, "step");
		if (!json_is_string(l) || !json_is_string(s)) {
			*why = "'current' lacks its lab or step";
			return -1;
		}
		labprog_set_current(p, json_string_value(l), json_string_value(s));
	}
	labs = json_object_get(root, "labs");
	if (!json_is_object(labs)) {
		*why = "no 'labs' object";
		return -1;
	}
	json_object_foreach(labs, lab, steps) {
		if (!json_is_object(steps)) {
			*why = "a lab's entry is not an object";
			return -1;
		}
		json_object_foreach(steps, step, st) {
			json_t *done = json_object_get(st, "done"), *hints = json_object_get(st, "hints");
			struct labprog_step *e;
			int64_t t = 0;
			if (!json_is_object(st) || (done && !json_is_null(done) && !json_is_string(done)) ||
			    (hints && !json_is_integer(hints))) {
				*why = "a step's entry is malformed";
				return -1;
			}
			if (json_is_string(done) && (t = parse_iso(json_string_value(done))) < 0) {
				*why = "a step's 'done' time is not YYYY-MM-DDTHH:MM:SSZ";
				return -1;
			}
			e = labprog_get(p, lab, step, 1);
			e->done_at = t;
			e->hints = hints ? (int)json_integer_value(hints) : 0;
			if (e->hints < 0) {
				*why = "a step's 'hints' is negative";
				return -1;
			}
		}
	}
	return 0;
}

static json_t *to_json(const struct labprog *p)
{
	json_t *root = json_object(), *labs = json_object();
	size_t i;

	json_object_set_new(root, "version", json_integer(1));
	if (p->lab && p->step)
		json_object_set_new(root, "current", json_pack("{s:s,s:s}", "lab", p->lab,
							       "step", p->step));
	else
		json_object_set_new(root, "current", json_null());
	for (i = 0; i < p->n; i++) {
		const struct labprog_step *s = &p->v[i];
		json_t *l = json_object_get(labs, s->lab), *e = json_object();
		char when[32];
		if (!l) {
			l = json_object();
			json_object_set_new(labs, s->lab, l);
		}
		if (s->done_at) {
			iso_time(when, s->done_at);
			json_object_set_new(e, "done", json_string(when));
		} else {
			json_object_set_new(e, "done", json_null());
		}
		json_object_set_new(e, "hints", json_integer(s->hints));
		json_object_set_new(l, s->step, e);
	}
	json_object_set_new(root, "labs", labs);
	return root;
}

/* 0 read (or no file), -1 unreadable, -2 corrupt; `err` says which */
static int read_file(struct labprog *p, const char *path, struct buf *err)
{
	struct buf text = BUF_INIT;
	json_error_t je;
	json_t *root = NULL;
	const char *why = NULL;
	char jwhy[200];
	int ret = 0;

	if (buf_read_file(&text, path, LABPROG_MAX) < 0) {
		if (errno == ENOENT)
			goto out;
		if (errno != EFBIG) {
			buf_addf(err, "cannot read '%s': %s", path, strerror(errno));
			ret = -1;
			goto out;
		}
		why = "larger than 4 MiB";
	}
	if (!why) {
		root = json_loadb(text.s, text.len, 0, &je);
		if (!root) {
			snprintf(jwhy, sizeof(jwhy), "line %d: %s", je.line, je.text);
			why = jwhy;
		} else {
			from_json(p, root, &why);
		}
	}
	if (why) {
		labprog_release(p);
		buf_addf(err, "'%s' is corrupt (%s): remove it, or run 'pancake lab reset', "
			 "which keeps it aside as progress.json.corrupt and starts the labs over",
			 path, why);
		ret = -2;
	}
out:
	json_decref(root);
	buf_release(&text);
	return ret;
}

int labprog_read(struct labprog *p, const char *dir, struct buf *err)
{
	char *path = xstrfmt("%s/" LABPROG_FILE, dir);
	int ret;

	labprog_init(p);
	ret = read_file(p, path, err) ? -1 : 0;
	free(path);
	return ret;
}

static int write_file(const struct labprog *p, const char *path, struct buf *err)
{
	char *tmp = xstrfmt("%s.tmp.%ld", path, (long)getpid());
	json_t *root = to_json(p);
	char *text = json_dumps(root, JSON_INDENT(2) | JSON_SORT_KEYS);
	size_t len = strlen(text), off = 0;
	int fd, ret = -1;

	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		buf_addf(err, "cannot write '%s': %s", tmp, strerror(errno));
		goto out;
	}
	while (off < len) {
		ssize_t n = write(fd, text + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			buf_addf(err, "cannot write '%s': %s", tmp, strerror(errno));
			close(fd);
			goto unlink;
		}
		off += (size_t)n;
	}
	if ((write(fd, "\n", 1) != 1) | fsync(fd) | close(fd)) {
		buf_addf(err, "cannot write '%s': %s", tmp, strerror(errno));
		goto unlink;
	}
	if (rename(tmp, path)) {
		buf_addf(err, "cannot rename '%s' to '%s': %s", tmp, path, strerror(errno));
		goto unlink;
	}
	ret = 0;
	goto out;
unlink:
	unlink(tmp);
out:
	free(text);
	json_decref(root);
	free(tmp);
	return ret;
}

int labprog_update(const char *dir, labprog_fn fn, void *ctx, unsigned flags,
		   struct buf *err)
{
	char *path = xstrfmt("%s/" LABPROG_FILE, dir), *lock = xstrfmt("%s/progress.lock", dir);
	struct labprog p;
	int fd = -1, ret = -1, r;

	labprog_init(&p);
	if (config_mkdirs(dir)) {
		buf_addf(err, "cannot create '%s': %s", dir, strerror(errno));
		goto out;
	}
	fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0) {
		buf_addf(err, "cannot open '%s': %s", lock, strerror(errno));
		goto out;
	}
	while ((r = flock(fd, LOCK_EX)) && errno == EINTR)
		;
	if (r) {
		buf_addf(err, "cannot lock '%s': %s", lock, strerror(errno));
		goto out;
	}
	r = read_file(&p, path, err);
	if (r == -2 && (flags & LABPROG_DISCARD_CORRUPT)) {
		char *aside = xstrfmt("%s.corrupt", path);
		r = rename(path, aside);
		if (r)
			buf_addf(err, "; and it cannot be moved aside: %s", strerror(errno));
		else
			buf_reset(err);
		free(aside);
		labprog_init(&p);
	}
	if (r)
		goto out;
	ret = fn(&p, ctx);
	if (ret)
		goto out;
	ret = write_file(&p, path, err);
out:
	if (fd >= 0)
		close(fd);	/* releases the lock */
	labprog_release(&p);
	free(path);
	free(lock);
	return ret;
}

int labprog_change_apply(struct labprog *p, void *ctx)
{
	struct labprog_change *ch = ctx;
	struct labprog_step *e;

	if (ch->forget)
		labprog_forget(p, ch->lab);
	if (ch->set_current)
		labprog_set_current(p, ch->lab, ch->step);
	if (ch->mark_done || ch->add_hint) {
		e = labprog_get(p, ch->lab, ch->step, 1);
		if (ch->mark_done)
			e->done_at = (int64_t)time(NULL);
		if (ch->add_hint && e->hints < ch->hints_max)
			e->hints++;
		ch->hints = e->hints;
	}
	return 0;
}
