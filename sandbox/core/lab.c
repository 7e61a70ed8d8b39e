/* lab: reads a workshop track (labs, steps, front matter, scripts) and refuses a bad one whole. */
#include "core/lab.h"
#include "util/xalloc.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const action_names[LAB_NACTIONS] = {
	[LAB_SETUP] = "setup", [LAB_CHECK] = "check",
	[LAB_SOLVE] = "solve", [LAB_CLEANUP] = "cleanup",
};

const char *lab_action_name(enum lab_action a)
{
	return a < LAB_NACTIONS ? action_names[a] : "?";
}

/* ---- front matter ---- */

enum front_key { K_TITLE, K_COMMAND, K_HINT, K_TIMEOUT };
static const struct {
	const char *name;
	int repeat;     /* may be given more than once */
	int step_only;
} front_keys[] = {
	[K_TITLE] = { "title", 0, 0 },
	[K_COMMAND] = { "command", 1, 1 },
	[K_HINT] = { "hint", 1, 1 },
	[K_TIMEOUT] = { "timeout", 0, 0 },
};

static int is_fence(const char *s, size_t n)
{
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
		n--;
	return n == 3 && !memcmp(s, "---", 3);
}

/* "123" in 1..LAB_TIMEOUT_MAX, or -1 */
static int parse_timeout(const char *s)
{
	long v = 0;

	if (!*s)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (*s - '0');
		if (v > LAB_TIMEOUT_MAX)
			return -1;
	}
	return v > 0 ? (int)v : -1;
}

static int front_line(struct lab_front *f, char *line, const char *file, int lineno,
		      unsigned flags, int seen[], struct buf *err)
{
	char *colon = strchr(line, ':'), *key, *val;
	size_t k;

	if (!colon) {
		buf_addf(err, "%s:%d: expected 'key: value' (or '---' to close the front matter)",
			 file, lineno);
		return -1;
	}
	*colon = '\0';
	key = str_trim(line);
	val = str_trim(colon + 1);
	for (k = 0; k < ARRAY_SIZE(front_keys); k++)
		if (!strcmp(key, front_keys[k].name))
			break;
	if (k == ARRAY_SIZE(front_keys)) {
		buf_addf(err, "%s:%d: unknown key '%.40s': use %s", file, lineno, key,
			 flags & LAB_FRONT_STEP ? "title, command, hint or timeout"
			 : "title or timeout");
		return -1;
	}
	if (front_keys[k].step_only && !(flags & LAB_FRONT_STEP)) {
		buf_addf(err, "%s:%d: '%s' belongs in a step's step.md, not in lab.md",
			 file, lineno, key);
		return -1;
	}
	if (seen[k] && !front_keys[k].repeat) {
		buf_addf(err, "%s:%d: '%s' given twice (first on line %d)", file, lineno, key,
			 seen[k]);
		return -1;
	}
	seen[k] = lineno;
	if (!*val) {
		buf_addf(err, "%s:%d: empty '%s'", file, lineno, key);
		return -1;
	}
	switch ((enum front_key)k) {
	case K_TITLE:
		f->title = xstrdup(val);
		break;
	case K_COMMAND:
		strvec_push(&f->commands, val);
		break;
	case K_HINT:
		strvec_push(&f->hints, val);
		break;
	case K_TIMEOUT:
		f->timeout_s = parse_timeout(val);
		if (f->timeout_s < 0) {
			f->timeout_s = 0;
			buf_addf(err, "%s:%d: timeout '%.40s' is not a whole number of seconds "
				 "from 1 to %d", file, lineno, val, LAB_TIMEOUT_MAX);
			return -1;
		}
		break;
	}
	return 0;
}

int lab_front_parse(struct lab_front *f, const char *text, size_t len, const char *file,
		    unsigned flags, struct buf *err)
{
	const char *p = text, *end = text + len, *nl;
	int lineno = 0, seen[ARRAY_SIZE(front_keys)] = { 0 }, ret = -1;
	char *line = NULL;

	memset(f, 0, sizeof(*f));
	strvec_init(&f->commands);
	strvec_init(&f->hints);
	if (memchr(text, '\0', len)) {
		buf_addf(err, "%s: holds a NUL byte: is it a text file?", file);
		return -1;
	}
	for (;;) {
		size_t n;
		if (p >= end) {
			if (!lineno)
				buf_addf(err, "%s:1: no front matter: the file must start with a "
					 "'---' line", file);
			else
				buf_addf(err, "%s:1: front matter not closed: add a '---' line "
					 "after its last key", file);
			goto out;
		}
		nl = memchr(p, '\n', (size_t)(end - p));
		n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		lineno++;
		if (lineno == 1) {
			if (!is_fence(p, n)) {
				buf_addf(err, "%s:1: no front matter: the file must start with a "
					 "'---' line", file);
				goto out;
			}
		} else if (is_fence(p, n)) {
			p = nl ? nl + 1 : end;
			break;
		} else {
			free(line);
			line = xstrndup(p, n);
			if (*str_trim(line) && front_line(f, line, file, lineno, flags, seen, err))
				goto out;
		}
		p = nl ? nl + 1 : end;
	}
	if (!f->title) {
		buf_addf(err, "%s:%d: no 'title' in the front matter: add 'title: ...'", file,
			 lineno);
		goto out;
	}
	f->body = xstrndup(p, (size_t)(end - p));
	ret = 0;
out:
	free(line);
	return ret;
}

void lab_front_release(struct lab_front *f)
{
	free(f->title);
	free(f->body);
	strvec_clear(&f->commands);
	strvec_clear(&f->hints);
	memset(f, 0, sizeof(*f));
}

/* ---- the track ---- */

/* "NN-name": two digits, '-', then lowercase letters, digits and '-' */
static int is_numbered(const char *s)
{
	if (s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9' || s[2] != '-' || !s[3])
		return 0;
	for (s += 3; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-'))
			return 0;
	return 1;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* the numbered folders in `dir`, sorted; -1 with `err` */
static int numbered_dirs(const char *dir, struct strvec *out, struct buf *err)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	size_t i;

	if (!d) {
		buf_addf(err, "cannot read '%s': %s", dir, strerror(errno));
		return -1;
	}
	while ((de = readdir(d))) {
		struct stat st;
		char *p;
		if (!is_numbered(de->d_name))
			continue;
		p = xstrfmt("%s/%s", dir, de->d_name);
		if (!stat(p, &st) && S_ISDIR(st.st_mode))
			strvec_push(out, de->d_name);
		free(p);
	}
	closedir(d);
	qsort(out->v, out->n, sizeof(*out->v), cmp_str);
	for (i = 1; i < out->n; i++) {
		if (!memcmp(out->v[i - 1], out->v[i], 2)) {
			buf_addf(err, "'%s/%s' and '%s/%s' share the number %.2s: renumber one",
				 dir, out->v[i - 1], dir, out->v[i], out->v[i]);
			return -1;
		}
	}
	return 0;
}

static int read_front(struct lab_front *f, const char *path, unsigned flags, struct buf *err)
{
	struct buf text = BUF_INIT;
	int ret;

	memset(f, 0, sizeof(*f));
	strvec_init(&f->commands);
	strvec_init(&f->hints);
	if (buf_read_file(&text, path, LAB_FILE_MAX) < 0) {
		buf_addf(err, "cannot read '%s': %s", path,
			 errno == EFBIG ? "larger than 1 MiB" : strerror(errno));
		buf_release(&text);
		return -1;
	}
	ret = lab_front_parse(f, text.s, text.len, path, flags, err);
	buf_release(&text);
	return ret;
}

char *lab_script(const struct lab_step *s, enum lab_action a)
{
	return xstrfmt("%s/%s", s->dir, lab_action_name(a));
}

static int load_scripts(struct lab_step *s, struct buf *err)
{
	enum lab_action a;

	for (a = 0; a < LAB_NACTIONS; a++) {
		char *p = lab_script(s, a);
		struct stat st;
		int ret = 0;
		if (stat(p, &st)) {
			if (a == LAB_CHECK) {
				buf_addf(err, "'%s' is missing: every step needs a check script", p);
				ret = -1;
			}
		} else if (!S_ISREG(st.st_mode)) {
			buf_addf(err, "'%s' is not a file", p);
			ret = -1;
		} else if (access(p, X_OK)) {
			buf_addf(err, "'%s' is not executable: chmod +x it", p);
			ret = -1;
		} else {
			s->has[a] = 1;
		}
		free(p);
		if (ret)
			return -1;
	}
	return 0;
}

static int load_lab(struct lab *l, const char *track, const char *name, struct buf *err)
{
	struct strvec steps = STRVEC_INIT;
	char *md;
	size_t i;
	int ret = -1;

	l->name = xstrdup(name);
	l->dir = xstrfmt("%s/%s", track, name);
	md = xstrfmt("%s/lab.md", l->dir);
	if (access(md, F_OK)) {
		buf_addf(err, "'%s' is missing: every lab has one, with its title", md);
		goto out;
	}
	if (read_front(&l->front, md, 0, err) || numbered_dirs(l->dir, &steps, err))
		goto out;
	if (!steps.n) {
		buf_addf(err, "lab '%s' has no steps: add a folder NN-name with a step.md and "
			 "a check script", l->dir);
		goto out;
	}
	l->steps = xcalloc(steps.n, sizeof(*l->steps));
	for (i = 0; i < steps.n; i++) {
		struct lab_step *s = &l->steps[l->nsteps++];
		char *smd;
		int r;
		s->name = xstrdup(steps.v[i]);
		s->dir = xstrfmt("%s/%s", l->dir, steps.v[i]);
		smd = xstrfmt("%s/step.md", s->dir);
		if (access(smd, F_OK)) {
			buf_addf(err, "'%s' is missing: every step has one, with its title", smd);
			free(smd);
			goto out;
		}
		r = read_front(&s->front, smd, LAB_FRONT_STEP, err);
		free(smd);
		if (r || load_scripts(s, err))
			goto out;
		s->timeout_s = s->front.timeout_s ? s->front.timeout_s
			: l->front.timeout_s ? l->front.timeout_s : LAB_TIMEOUT_DEFAULT;
	}
	ret = 0;
out:
	free(md);
	strvec_clear(&steps);
	return ret;
}

int lab_track_load(struct lab_track *t, const char *dir, struct buf *err)
{
	struct strvec names = STRVEC_INIT;
	char real[PATH_MAX];
	size_t i;
	int ret = -1;

	memset(t, 0, sizeof(*t));
	if (!realpath(dir, real)) {
		buf_addf(err, "cannot read the track '%s': %s; point --labs or PANCAKE_LABS "
			 "at a track folder", dir, strerror(errno));
		return -1;
	}
	t->dir = xstrdup(real);
	if (numbered_dirs(t->dir, &names, err))
		goto out;
	t->labs = xcalloc(names.n ? names.n : 1, sizeof(*t->labs));
	for (i = 0; i < names.n; i++)
		if (load_lab(&t->labs[t->nlabs++], t->dir, names.v[i], err))
			goto out;
	ret = 0;
out:
	strvec_clear(&names);
	return ret;
}

void lab_track_release(struct lab_track *t)
{
	size_t i, j;

	for (i = 0; i < t->nlabs; i++) {
		struct lab *l = &t->labs[i];
		for (j = 0; j < l->nsteps; j++) {
			free(l->steps[j].name);
			free(l->steps[j].dir);
			lab_front_release(&l->steps[j].front);
		}
		free(l->steps);
		free(l->name);
		free(l->dir);
		lab_front_release(&l->front);
	}
	free(t->labs);
	free(t->dir);
	memset(t, 0, sizeof(*t));
}

/* `word` names `name` in full or by its number ("01" or "1") */
static int names(const char *word, size_t n, const char *name)
{
	if (strlen(name) == n && !strncmp(word, name, n))
		return 1;
	if (n == 2 && !strncmp(word, name, 2))
		return 1;
	return n == 1 && name[0] == '0' && word[0] == name[1];
}

int lab_find(const struct lab_track *t, const char *spec, const struct lab **lab,
	     const struct lab_step **step, struct buf *err)
{
	const char *slash = strchr(spec, '/');
	size_t n = slash ? (size_t)(slash - spec) : strlen(spec), i;

	*lab = NULL;
	*step = NULL;
	for (i = 0; i < t->nlabs; i++)
		if (names(spec, n, t->labs[i].name))
			*lab = &t->labs[i];
	if (!*lab) {
		buf_addf(err, "no lab '%.*s' in '%s': 'pancake lab list' shows them", (int)n,
			 spec, t->dir);
		return -1;
	}
	if (!slash || !slash[1])
		return 0;
	for (i = 0; i < (*lab)->nsteps; i++)
		if (names(slash + 1, strlen(slash + 1), (*lab)->steps[i].name))
			*step = &(*lab)->steps[i];
	if (!*step) {
		buf_addf(err, "no step '%s' in lab '%s': 'pancake lab show %s' lists its steps",
			 slash + 1, (*lab)->name, (*lab)->name);
		return -1;
	}
	return 0;
}
