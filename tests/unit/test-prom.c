/* test-prom: the Prometheus text parser on serving's recorded /metrics and on malformed lines, table-driven. */
#include "tap.h"
#include "util/prom.h"
#include "util/xalloc.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static void parse_file(struct prom *p, const char *path, struct buf *err)
{
	struct buf b = BUF_INIT;

	if (buf_read_file(&b, path, PROM_MAX_BYTES + 1)) {
		ok(0, "read %s", path);
		return;
	}
	ok(prom_parse(p, b.s, b.len, err) == 0, "%s parses (%s)", path, err->s);
	buf_release(&b);
}

/* serving's own bytes, recorded from a running serving with two variants */
static void test_recorded(void)
{
	struct prom p = PROM_INIT;
	struct buf err = BUF_INIT;
	const struct prom_family *f;
	const struct prom_sample *s;
	struct prom_bucket b[16];
	size_t n;

	parse_file(&p, "tests/unit/data/prom-serving-thompson.txt", &err);
	/* every line that is not a comment is a sample */
	is_int(p.n, 126, "the thompson recording has 126 samples");
	f = prom_family(&p, "pancake_request_seconds");
	ok(f && f->type == PROM_HISTOGRAM && f->help &&
	   !strcmp(f->help, "Request latency by route and variant."), "the latency family is a histogram with its HELP");
	f = prom_family(&p, "pancake_redis_errors_total");
	ok(f && f->type == PROM_COUNTER && !f->help, "a TYPE without HELP");
	s = prom_find(&p, "pancake_arm_pulls_total", (const char *[]){ "variant", "b", NULL });
	ok(s && s->value == 30 && !strcmp(prom_label(s, "policy"), "thompson"), "arm b: 30 pulls, thompson");
	is_int((long long)prom_sum(&p, "pancake_requests_total",
				   (const char *[]){ "route", "recommendations", NULL }, &n), 41,
	       "41 recommendations answered");
	is_int(n, 2, "in two series (a variant each)");
	is_int((long long)prom_sum(&p, "pancake_requests_total",
				   (const char *[]){ "status", "4xx", NULL }, NULL), 1, "one 4xx");
	ok(prom_find(&p, "pancake_model_info", (const char *[]){ "variant", "b", "rank", "16", NULL }),
	   "model_info found by two labels");
	ok(!prom_find(&p, "pancake_model_info", (const char *[]){ "variant", "c", NULL }), "no variant c");
	ok(!prom_find(&p, "pancake_arm_weight", NULL), "a bandit has no weights");
	s = prom_find(&p, "pancake_arm_rewards_total", (const char *[]){ "variant", "a", NULL });
	ok(s && s->value == 3.0 && s->family >= 0 && p.families[s->family].type == PROM_COUNTER,
	   "rewards of a: 3.000, a counter");
	/* the buckets of both variants of a route, summed by bound, sorted */
	n = prom_buckets(&p, "pancake_request_seconds", (const char *[]){ "route", "recommendations", NULL },
			 b, 16);
	is_int(n, 13, "13 bounds");
	ok(isinf(b[12].le) && b[12].count == 41 && b[0].le == 0.0001, "from 0.1 ms to +Inf holding 41");
	int sorted = 1;
	for (size_t i = 1; i < n; i++)
		sorted &= b[i].le > b[i - 1].le && b[i].count >= b[i - 1].count;
	ok(sorted, "bounds ascending, counts cumulative");
	prom_release(&p);

	buf_reset(&err);
	parse_file(&p, "tests/unit/data/prom-serving-ab.txt", &err);
	s = prom_find(&p, "pancake_arm_weight", (const char *[]){ "variant", "a", NULL });
	ok(s && s->value == 3, "A/B: arm a weighs 3");
	s = prom_find(&p, "pancake_arm_probability", (const char *[]){ "variant", "b", NULL });
	ok(s && s->value == 0.25, "A/B: b's probability 0.25");
	prom_release(&p);
	buf_release(&err);
}

/* well-formed inputs: what each gives */
static void test_valid(void)
{
	struct prom p = PROM_INIT;
	struct buf err = BUF_INIT;
	const struct prom_sample *s;
	static const char text[] =
		"# a comment that is neither HELP nor TYPE\n"
		"\n"
		"# HELP esc A help with \\\\ and \\n in it.\n"
		"# TYPE esc gauge\n"
		"esc{l=\"back\\\\slash \\\"quote\\\" new\\nline\",m=\"\"} 1.5\n"
		"  spaced  {  a = \"1\" , b=\"2\" , }   -2e3   1700000000000  \n"
		"inf +Inf\n"
		"ninf -Inf\n"
		"nan NaN\n"
		"neg_ts 7 -5\n"
		"empty{} 0\n"
		"utf{l=\"caf\xc3\xa9 \xe2\x82\xac\"} 1\n"
		"colon:name 3\n"
		"# TYPE h histogram\n"
		"h_bucket{le=\"0.5\"} 1\n"
		"h_bucket{le=\"+Inf\"} 2\n"
		"h_sum 0.7\n"
		"h_count 2\n"
		"# TYPE s summary\n"
		"s{quantile=\"0.5\"} 1\n"
		"s_sum 1\n"
		"s_count 1\n";

	ok(prom_parse(&p, text, sizeof(text) - 1, &err) == 0, "the valid forms parse (%s)", err.s);
	s = prom_find(&p, "esc", NULL);
	ok(s && !strcmp(prom_label(s, "l"), "back\\slash \"quote\" new\nline") &&
	   !strcmp(prom_label(s, "m"), "") && s->value == 1.5, "escapes unescaped, empty value kept");
	ok(s && p.families[s->family].help && !strcmp(p.families[s->family].help, "A help with \\ and \n in it."),
	   "HELP unescaped");
	s = prom_find(&p, "spaced", (const char *[]){ "a", "1", "b", "2", NULL });
	ok(s && s->value == -2000 && s->has_ts && s->ts_ms == 1700000000000LL,
	   "blanks around tokens, a trailing comma, a timestamp");
	s = prom_find(&p, "inf", NULL);
	ok(s && isinf(s->value) && s->value > 0, "+Inf");
	s = prom_find(&p, "ninf", NULL);
	ok(s && isinf(s->value) && s->value < 0, "-Inf");
	s = prom_find(&p, "nan", NULL);
	ok(s && isnan(s->value), "NaN");
	s = prom_find(&p, "neg_ts", NULL);
	ok(s && s->ts_ms == -5, "a negative timestamp");
	s = prom_find(&p, "empty", NULL);
	ok(s && s->nlabels == 0, "empty braces");
	s = prom_find(&p, "utf", NULL);
	ok(s && !strcmp(prom_label(s, "l"), "caf\xc3\xa9 \xe2\x82\xac"), "UTF-8 label values");
	ok(prom_find(&p, "colon:name", NULL) != NULL, "colons in a metric name");
	s = prom_find(&p, "h_sum", NULL);
	ok(s && p.families[s->family].type == PROM_HISTOGRAM && !strcmp(p.families[s->family].name, "h"),
	   "h_sum belongs to histogram h");
	s = prom_find(&p, "s_count", NULL);
	ok(s && p.families[s->family].type == PROM_SUMMARY, "s_count belongs to summary s");
	s = prom_find(&p, "nan", NULL);
	ok(s && p.families[s->family].type == PROM_UNTYPED, "an untyped sample has a family of its own");
	/* an empty input is no metrics, not an error */
	ok(prom_parse(&p, "", 0, &err) == 0 && p.n == 0, "empty input: no samples");
	prom_release(&p);
	buf_release(&err);
}

struct bad_case {
	const char *text;
	size_t len;              /* 0: strlen */
	const char *want;        /* the start of the message */
	const char *also;        /* a part of it, or NULL */
};

static const struct bad_case bad_cases[] = {
	{ "a 1", 0, "line 1: no newline at the end", NULL },
	{ "ok 1\nok2 2\na 1", 0, "line 3: no newline", NULL },
	{ "a{l=\"v} 1\n", 0, "line 1: a: the value of label 'l' has no closing quote", NULL },
	{ "a{l=v} 1\n", 0, "line 1: a: the value of label 'l' is not quoted", NULL },
	{ "a{l=\"\\x\"} 1\n", 0, "line 1: a: the value of label 'l' has an escape other than", NULL },
	{ "a{l=\"v\\", 0, "line 1: no newline", NULL },
	{ "a{l=\"v\\\n", 0, "line 1: a: the value of label 'l' has a backslash at the end", NULL },
	{ "a{l=\"v\",l=\"w\"} 1\n", 0, "line 1: a: label 'l' given twice", NULL },
	{ "a{1l=\"v\"} 1\n", 0, "line 1: a: '1l=\"v\"} 1' is not a label name", NULL },
	{ "a{l:x=\"v\"} 1\n", 0, "line 1: a: label 'l' wants '='", NULL },
	{ "a{l=\"v\" m=\"w\"} 1\n", 0, "line 1: a: after label 'l' comes something else", NULL },
	{ "a{l=\"v\"\n", 0, "line 1: a: after label 'l' comes the end of the line", NULL },
	{ "a{l=\"v\"}1\n", 0, "line 1: a: '1' where a blank and the value should be", NULL },
	{ "a one\n", 0, "line 1: a: the value 'one' is not a number", NULL },
	{ "a 0x10\n", 0, "line 1: a: the value '0x10' is not a number", NULL },
	{ "a Infinity\n", 0, "line 1: a: the value 'Infinity' is not a number", NULL },
	{ "a nan\n", 0, "line 1: a: the value 'nan' is not a number", NULL },
	{ "a 1e999\n", 0, "line 1: a: the value '1e999' is not a number", NULL },
	{ "a 1 2.5\n", 0, "line 1: a: the timestamp '2.5' is not milliseconds", NULL },
	{ "a 1 99999999999999999999\n", 0, "line 1: a: the timestamp", NULL },
	{ "a 1 2 3\n", 0, "line 1: a: unexpected '3' after the value", NULL },
	{ "a\n", 0, "line 1: a has no value", NULL },
	{ "a{l=\"v\"}\n", 0, "line 1: a has no value", NULL },
	{ "9a 1\n", 0, "line 1: '9a 1' is not a metric name", NULL },
	{ "{l=\"v\"} 1\n", 0, "line 1: '{l=\"v\"} 1' is not a metric name", NULL },
	{ "a-b 1\n", 0, "line 1: a: '-b 1' where a blank and the value should be", NULL },
	{ "# TYPE a counter\n# TYPE a gauge\n", 0, "line 2: a second TYPE for 'a'", NULL },
	{ "# TYPE a countr\n", 0, "line 1: TYPE of 'a' is 'countr': not counter", NULL },
	{ "# TYPE a\n", 0, "line 1: TYPE of 'a' is missing", NULL },
	{ "# TYPE a counter extra\n", 0, "line 1: TYPE of a: unexpected 'extra'", NULL },
	{ "# TYPE\n", 0, "line 1: TYPE wants a metric name", NULL },
	{ "# TYPE 1a counter\n", 0, "line 1: TYPE wants a metric name", NULL },
	{ "a 1\n# TYPE a counter\n", 0, "line 2: TYPE of a after its samples", NULL },
	{ "h_bucket{le=\"1\"} 1\n# TYPE h histogram\n", 0, "line 2: TYPE of h after its samples (h_bucket)", NULL },
	{ "# HELP a x\n# HELP a y\n", 0, "line 2: a second HELP for 'a'", NULL },
	{ "# HELP a bad\\q\n", 0, "line 1: HELP of 'a': an escape other than \\\\ or \\n", NULL },
	{ "# HELP a \xff\n", 0, "line 1: HELP of 'a': bytes that are not UTF-8", NULL },
	{ "# TYPE h histogram\nh_bucket{x=\"1\"} 1\n", 0, "line 2: h_bucket: a histogram bucket without an 'le' label", NULL },
	{ "# TYPE h histogram\nh_bucket{le=\"abc\"} 1\n", 0, "line 2: h_bucket: le='abc' is not a bound", NULL },
	{ "# TYPE h histogram\nh_bucket{le=\"NaN\"} 1\n", 0, "line 2: h_bucket: le='NaN' is not a bound", NULL },
	{ "a{l=\"\xff\"} 1\n", 0, "line 1: a: the value of label 'l' has bytes that are not UTF-8", NULL },
	{ "a{l=\"\xc0\xaf\"} 1\n", 0, "line 1: a: the value of label 'l' has bytes that are not UTF-8", NULL },
	{ "a{l=\"\xed\xa0\x80\"} 1\n", 0, "line 1: a: the value of label 'l' has bytes that are not UTF-8", NULL },
	{ "a 1\n\0 2\n", 8, "line 2: a NUL byte", NULL },
	{ "ok 1\n\n# c\nbad line here\n", 0, "line 4: bad: the value 'line' is not a number", NULL },
};

static void test_malformed(void)
{
	struct prom p = PROM_INIT;
	struct buf err = BUF_INIT;

	for (size_t i = 0; i < ARRAY_SIZE(bad_cases); i++) {
		const struct bad_case *c = &bad_cases[i];
		size_t len = c->len ? c->len : strlen(c->text);
		int r;

		buf_reset(&err);
		r = prom_parse(&p, c->text, len, &err);
		if (!ok(r == -1 && !strncmp(err.s, c->want, strlen(c->want)) && p.n == 0 &&
			(!c->also || strstr(err.s, c->also)), "refused: %s", c->want))
			printf("#   got %d: '%s'\n", r, err.s);
	}
	prom_release(&p);
	buf_release(&err);
}

static void test_caps(void)
{
	struct prom p = PROM_INIT;
	struct buf err = BUF_INIT, b = BUF_INIT;

	/* too many labels on one sample */
	buf_addstr(&b, "a{");
	for (int i = 0; i <= PROM_MAX_LABELS; i++)
		buf_addf(&b, "l%d=\"v\",", i);
	buf_addstr(&b, "} 1\n");
	ok(prom_parse(&p, b.s, b.len, &err) == -1 && strstr(err.s, "more than 32 labels"),
	   "over %d labels refused (%s)", PROM_MAX_LABELS, err.s);
	/* a label value over the cap */
	buf_reset(&b);
	buf_reset(&err);
	buf_addstr(&b, "a{l=\"");
	for (int i = 0; i <= PROM_MAX_VALUE; i++)
		buf_addch(&b, 'x');
	buf_addstr(&b, "\"} 1\n");
	ok(prom_parse(&p, b.s, b.len, &err) == -1 && strstr(err.s, "more than 4096 bytes"),
	   "a label value over the cap refused (%s)", err.s);
	/* too many samples */
	buf_reset(&b);
	buf_reset(&err);
	for (int i = 0; i <= PROM_MAX_SAMPLES; i++)
		buf_addstr(&b, "a 1\n");
	ok(prom_parse(&p, b.s, b.len, &err) == -1 && strstr(err.s, "line 65537: more than 65536 samples"),
	   "over %d samples refused (%s)", PROM_MAX_SAMPLES, err.s);
	/* too many bytes: refused before reading */
	buf_reset(&err);
	ok(prom_parse(&p, b.s, PROM_MAX_BYTES + 1, &err) == -1 && strstr(err.s, "more than the"),
	   "over %u bytes refused (%s)", PROM_MAX_BYTES, err.s);
	/* a good parse after a refused one starts clean */
	ok(prom_parse(&p, "x 1\n", 4, &err) == 0 && p.n == 1, "a parse after a refusal");
	prom_release(&p);
	buf_release(&b);
	buf_release(&err);
}

int main(void)
{
	test_recorded();
	test_valid();
	test_malformed();
	test_caps();
	return tap_done();
}
