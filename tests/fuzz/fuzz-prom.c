/* fuzz-prom: the Prometheus text parser on any bytes; what it accepts, written out again, parses to the same samples. */
#include "fuzz.h"
#include "util/prom.h"

#include <math.h>
#include <string.h>

static void escape(struct buf *b, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\' || *s == '"')
			buf_addch(b, '\\');
		if (*s == '\n')
			buf_addstr(b, "\\n");
		else
			buf_addch(b, *s);
	}
}

static void value(struct buf *b, double v)
{
	if (isnan(v))
		buf_addstr(b, "NaN");
	else if (isinf(v))
		buf_addstr(b, v > 0 ? "+Inf" : "-Inf");
	else
		buf_addf(b, "%.17g", v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct prom p = PROM_INIT, q = PROM_INIT;
	struct buf err = BUF_INIT, out = BUF_INIT;
	struct prom_bucket b[8];

	if (prom_parse(&p, (const char *)data, size, &err)) {
		/* a refusal always names its line, or the size cap */
		CHECK(p.n == 0 && p.nfamilies == 0);
		CHECK(!strncmp(err.s, "line ", 5) || !strncmp(err.s, "metrics of ", 11));
		goto out;
	}
	CHECK(err.len == 0);
	for (size_t i = 0; i < p.n; i++) {
		const struct prom_sample *s = &p.samples[i];
		CHECK(s->family >= 0 && (size_t)s->family < p.nfamilies);
		CHECK(s->line >= 1);
		buf_addstr(&out, s->name);
		buf_addch(&out, '{');
		for (size_t k = 0; k < s->nlabels; k++) {
			CHECK(prom_label(s, s->labels[k].name) != NULL);
			buf_addf(&out, "%s%s=\"", k ? "," : "", s->labels[k].name);
			escape(&out, s->labels[k].value);
			buf_addch(&out, '"');
		}
		buf_addstr(&out, "} ");
		value(&out, s->value);
		if (s->has_ts)
			buf_addf(&out, " %lld", (long long)s->ts_ms);
		buf_addch(&out, '\n');
		/* a sample is found by its own name and labels */
		CHECK(prom_find(&p, s->name, NULL) != NULL);
		prom_buckets(&p, s->name, NULL, b, 8);
	}
	/* untyped, written again: the same samples */
	CHECK(prom_parse(&q, out.s, out.len, &err) == 0);
	CHECK(q.n == p.n);
	for (size_t i = 0; i < p.n; i++) {
		const struct prom_sample *x = &p.samples[i], *y = &q.samples[i];
		CHECK(!strcmp(x->name, y->name) && x->nlabels == y->nlabels);
		CHECK((isnan(x->value) && isnan(y->value)) || x->value == y->value);
		CHECK(x->has_ts == y->has_ts && x->ts_ms == y->ts_ms);
		for (size_t k = 0; k < x->nlabels; k++)
			CHECK(!strcmp(x->labels[k].name, y->labels[k].name) &&
			      !strcmp(x->labels[k].value, y->labels[k].value));
	}
out:
	prom_release(&p);
	prom_release(&q);
	buf_release(&err);
	buf_release(&out);
	return 0;
}
