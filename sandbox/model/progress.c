/*
 * progress: a model job's events as JSON lines, written and read from one
 * table of members per event, so the writer and the reader never disagree.
 */
#include "model/progress.h"
#include "util/utf8.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>

#include "util/quote.h"
#include "util/xalloc.h"

static const char *const kind_names[] = {
	[PROGRESS_START] = "start",
	[PROGRESS_ITER] = "iter",
	[PROGRESS_PUBLISH] = "publish",
	[PROGRESS_FOLDIN] = "foldin",
	[PROGRESS_DONE] = "done",
	[PROGRESS_ERROR] = "error",
};

enum field_type { F_STR, F_U64, F_INT, F_NUM };

/* a figure's magnitude at most: beyond it a line neither carries nor accepts one */
#define FIGURE_MAX 1e300

#define K(kind) (1u << (kind))

/* every member an event of a kind carries, in the order lines show them */
static const struct field {
	const char *name;
	enum field_type type;
	size_t off, size;		/* size: a string's buffer */
	unsigned kinds;
} fields[] = {
#define FIELD(name, type, member, kinds) \
	{ name, type, offsetof(struct progress_event, member), \
	  sizeof(((struct progress_event *)0)->member), kinds }
	FIELD("job", F_STR, job, K(PROGRESS_START)),
	FIELD("total", F_U64, total, K(PROGRESS_START)),
	FIELD("what", F_STR, what, K(PROGRESS_START)),
	FIELD("iter", F_INT, iter, K(PROGRESS_ITER)),
	FIELD("iters", F_INT, iters, K(PROGRESS_ITER)),
	FIELD("seconds", F_NUM, seconds, K(PROGRESS_ITER)),
	FIELD("loss", F_NUM, loss, K(PROGRESS_ITER)),
	FIELD("train_rmse", F_NUM, train_rmse, K(PROGRESS_ITER)),
	FIELD("test_rmse", F_NUM, test_rmse, K(PROGRESS_ITER)),
	FIELD("ndcg", F_NUM, ndcg, K(PROGRESS_ITER)),
	FIELD("done", F_U64, done, K(PROGRESS_PUBLISH)),
	FIELD("total", F_U64, total, K(PROGRESS_PUBLISH)),
	FIELD("rate", F_NUM, rate, K(PROGRESS_PUBLISH)),
	FIELD("eta", F_NUM, eta, K(PROGRESS_PUBLISH)),
	FIELD("events", F_U64, events, K(PROGRESS_FOLDIN)),
	FIELD("p50_ms", F_NUM, p50_ms, K(PROGRESS_FOLDIN)),
	FIELD("p99_ms", F_NUM, p99_ms, K(PROGRESS_FOLDIN)),
	FIELD("version", F_STR, version, K(PROGRESS_DONE)),
	FIELD("message", F_STR, message, K(PROGRESS_DONE) | K(PROGRESS_ERROR)),
#undef FIELD
};

void progress_init(struct progress_event *ev, enum progress_kind kind)
{
	size_t i;

	memset(ev, 0, sizeof(*ev));
	ev->kind = kind;
	for (i = 0; i < ARRAY_SIZE(fields); i++)
		if (fields[i].type == F_NUM)
			*(double *)((char *)ev + fields[i].off) = NAN;
}

/*
 * A field's text as JSON can hold it on one line: valid UTF-8 kept, a
 * broken byte as '?', control bytes as spaces. Escaped, it is then at
 * most twice its length ('"' and '\\'), so every line fits the cap.
 */
static json_t *clean_string(const char *s, size_t size)
{
	char out[256];
	size_t n = strnlen(s, size - 1), i = 0, o = 0, l;

	while (i < n) {
		l = utf8_seq((const unsigned char *)s + i, (const unsigned char *)s + n);
		if (!l) {
			out[o++] = '?';
			i++;
		} else if (l == 1) {
			out[o++] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? ' ' : s[i];
			i++;
		} else {
			memcpy(out + o, s + i, l);
			o += l;
			i += l;
		}
	}
	out[o] = '\0';
	return json_string(out);
}

void progress_format(const struct progress_event *ev, struct buf *out)
{
	json_t *j = json_object();
	const char *p = (const char *)ev;
	char *text;
	size_t i;

	json_object_set_new(j, "event", json_string(kind_names[ev->kind]));
	for (i = 0; i < ARRAY_SIZE(fields); i++) {
		const struct field *f = &fields[i];
		json_t *v = NULL;
		double d;

		if (!(f->kinds & K(ev->kind)))
			continue;
		switch (f->type) {
		case F_STR:
			v = clean_string(p + f->off, f->size);
			break;
		case F_U64: {
			uint64_t u = *(const uint64_t *)(p + f->off);
			v = json_integer(u > INT64_MAX ? INT64_MAX : (json_int_t)u);
			break;
		}
		case F_INT:
			v = json_integer(*(const int *)(p + f->off));
			break;
		case F_NUM:
			d = *(const double *)(p + f->off);
			/* JSON has no NaN: an absent figure is left out, and one too
			 * large to read back once rounded to 10 digits is absent too */
			if (isfinite(d) && fabs(d) <= FIGURE_MAX)
				v = json_real(d);
			break;
		}
		if (v)
			json_object_set_new(j, f->name, v);
	}
	text = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));
	if (!text)
		BUG("progress: jansson could not write an event");
	buf_addstr(out, text);
	buf_addch(out, '\n');
	free(text);
	json_decref(j);
}

int progress_write(int fd, const struct progress_event *ev)
{
	struct buf line = BUF_INIT;
	ssize_t n;

	if (fd < 0)
		return -1;
	progress_format(ev, &line);
	do
		n = write(fd, line.s, line.len);
	while (n < 0 && errno == EINTR);
	n = n == (ssize_t)line.len ? 0 : -1;
	buf_release(&line);
	return (int)n;
}

static int parse_field(const struct field *f, json_t *v, struct progress_event *ev,
		       struct buf *err)
{
	char *p = (char *)ev + f->off;
	json_int_t i;

	switch (f->type) {
	case F_STR:
		if (!json_is_string(v))
			goto type;
		if (json_string_length(v) >= f->size) {
			buf_addf(err, "progress line: \"%s\" is longer than %zu bytes", f->name,
				 f->size - 1);
			return -1;
		}
		/* a "\u0000" inside cuts it short, as C strings do */
		memcpy(p, json_string_value(v), json_string_length(v) + 1);
		return 0;
	case F_U64:
		if (!json_is_integer(v) || (i = json_integer_value(v)) < 0)
			goto type;
		*(uint64_t *)p = (uint64_t)i;
		return 0;
	case F_INT:
		if (!json_is_integer(v) || (i = json_integer_value(v)) < INT32_MIN ||
		    i > INT32_MAX)
			goto type;
		*(int *)p = (int)i;
		return 0;
	case F_NUM:
		if (!json_is_number(v) || fabs(json_number_value(v)) > FIGURE_MAX)
			goto type;
		*(double *)p = json_number_value(v);
		return 0;
	}
type:
	buf_addf(err, "progress line: \"%s\" is not %s", f->name,
		 f->type == F_STR ? "a string" : f->type == F_NUM ? "a number in range"
		 : "a whole number in range");
	return -1;
}

int progress_parse(const char *line, size_t len, struct progress_event *ev, struct buf *err)
{
	json_error_t jerr;
	json_t *j = NULL, *e;
	const char *name;
	size_t i, k;
	int ret = -1;

	if (len && line[len - 1] == '\n')
		len--;
	if (len >= PROGRESS_LINE_MAX) {
		buf_addf(err, "progress line of %zu bytes: at most %d", len, PROGRESS_LINE_MAX - 1);
		return -1;
	}
	j = json_loadb(line, len, 0, &jerr);
	if (!j) {
		buf_addf(err, "progress line is not JSON: %s at column %d", jerr.text,
			 jerr.column);
		return -1;
	}
	if (!json_is_object(j)) {
		buf_addstr(err, "progress line is not a JSON object");
		goto out;
	}
	e = json_object_get(j, "event");
	if (!json_is_string(e)) {
		buf_addstr(err, "progress line has no \"event\"");
		goto out;
	}
	name = json_string_value(e);
	for (k = 0; k < ARRAY_SIZE(kind_names); k++)
		if (!strcmp(name, kind_names[k]))
			break;
	if (k == ARRAY_SIZE(kind_names)) {
		char q[QUOTE_BUF];

		buf_addf(err, "progress line has an unknown event %s", quote(q, name));
		goto out;
	}
	progress_init(ev, (enum progress_kind)k);
	for (i = 0; i < ARRAY_SIZE(fields); i++) {
		json_t *v;

		if (!(fields[i].kinds & K(k)) || !(v = json_object_get(j, fields[i].name)))
			continue;
		if (parse_field(&fields[i], v, ev, err))
			goto out;
	}
	ret = 0;
out:
	json_decref(j);
	return ret;
}
