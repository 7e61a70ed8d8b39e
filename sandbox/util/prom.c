/*
 * prom: the Prometheus text format 0.0.4, parsed strictly line by line
 * (a metrics answer cut short or garbled is refused with its line, never
 * half-read), and the lookups the serving monitor asks of it.
 */
#include "util/prom.h"
#include "util/utf8.h"
#include "util/quote.h"
#include "util/xalloc.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STR(x) #x
#define XSTR(x) STR(x)

static const char *const type_names[] = {
	[PROM_UNTYPED] = "untyped", [PROM_COUNTER] = "counter", [PROM_GAUGE] = "gauge",
	[PROM_HISTOGRAM] = "histogram", [PROM_SUMMARY] = "summary",
};

const char *prom_type_name(enum prom_type t)
{
	return (size_t)t < ARRAY_SIZE(type_names) ? type_names[t] : "?";
}

void prom_init(struct prom *p)
{
	memset(p, 0, sizeof(*p));
}

static void sample_release(struct prom_sample *s)
{
	for (size_t i = 0; i < s->nlabels; i++) {
		free(s->labels[i].name);
		free(s->labels[i].value);
	}
	free(s->labels);
	free(s->name);
}

void prom_release(struct prom *p)
{
	for (size_t i = 0; i < p->n; i++)
		sample_release(&p->samples[i]);
	for (size_t i = 0; i < p->nfamilies; i++) {
		free(p->families[i].name);
		free(p->families[i].help);
	}
	free(p->samples);
	free(p->families);
	free(p->hash);
	prom_init(p);
}

/* ---- families by name ---- */

static uint64_t hash_str(const char *s, size_t n)
{
	uint64_t h = 1469598103934665603ULL;

	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
	return h;
}

/* the family named s[0..n), or -1 */
static int family_index(const struct prom *p, const char *s, size_t n)
{
	if (!p->hash_size)
		return -1;
	for (size_t i = hash_str(s, n) & (p->hash_size - 1);; i = (i + 1) & (p->hash_size - 1)) {
		int f = p->hash[i];
		if (f < 0)
			return -1;
		if (strlen(p->families[f].name) == n && !memcmp(p->families[f].name, s, n))
			return f;
	}
}

static void hash_put(struct prom *p, int f)
{
	const char *name = p->families[f].name;
	size_t i = hash_str(name, strlen(name)) & (p->hash_size - 1);

	while (p->hash[i] >= 0)
		i = (i + 1) & (p->hash_size - 1);
	p->hash[i] = f;
}

static int family_add(struct prom *p, const char *name)
{
	int f = (int)p->nfamilies;

	if (p->nfamilies == p->families_alloc) {
		p->families_alloc = p->families_alloc ? 2 * p->families_alloc : 16;
		p->families = xrealloc(p->families, p->families_alloc * sizeof(*p->families));
	}
	memset(&p->families[f], 0, sizeof(p->families[f]));
	p->families[f].name = xstrdup(name);
	p->nfamilies++;
	/* kept at most half full */
	if (2 * p->nfamilies > p->hash_size) {
		p->hash_size = p->hash_size ? 2 * p->hash_size : 64;
		free(p->hash);
		p->hash = xmalloc(p->hash_size * sizeof(*p->hash));
		for (size_t i = 0; i < p->hash_size; i++)
			p->hash[i] = -1;
		for (size_t i = 0; i < p->nfamilies; i++)
			hash_put(p, (int)i);
	} else {
		hash_put(p, f);
	}
	return f;
}

const struct prom_family *prom_family(const struct prom *p, const char *name)
{
	int f = family_index(p, name, strlen(name));

	return f < 0 ? NULL : &p->families[f];
}

/* the family a sample named s[0..n) belongs to: its own name, or NAME_bucket/_sum/_count */
static int sample_family(const struct prom *p, const char *s, size_t n)
{
	static const char *const suffixes[] = { "_bucket", "_sum", "_count" };
	int f = family_index(p, s, n);

	if (f >= 0)
		return f;
	for (size_t i = 0; i < ARRAY_SIZE(suffixes); i++) {
		size_t sl = strlen(suffixes[i]);
		if (n > sl && !memcmp(s + n - sl, suffixes[i], sl)) {
			f = family_index(p, s, n - sl);
			if (f >= 0 && (p->families[f].type == PROM_HISTOGRAM ||
				       (p->families[f].type == PROM_SUMMARY && i > 0)))
				return f;
		}
	}
	return -1;
}

/* ---- the lexer: one line at a time, `at` moving along it ---- */

struct lex {
	const char *at, *end;    /* the rest of the line, without its newline */
	size_t line;
	struct buf *err;
};

__attribute__((format(printf, 2, 3)))
static int bad(struct lex *x, const char *fmt, ...)
{
	va_list ap;

	if (x->err) {
		buf_addf(x->err, "line %zu: ", x->line);
		va_start(ap, fmt);
		buf_vaddf(x->err, fmt, ap);
		va_end(ap);
	}
	return -1;
}

static void blanks(struct lex *x)
{
	while (x->at < x->end && (*x->at == ' ' || *x->at == '\t'))
		x->at++;
}

static int name_start(int c, int colon)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (colon && c == ':');
}

static int name_char(int c, int colon)
{
	return name_start(c, colon) || (c >= '0' && c <= '9');
}

/* a metric name (colons allowed) or a label name at x->at; its length, 0 if none */
static size_t name_len(const struct lex *x, int colon)
{
	size_t n = 0;

	if (x->at >= x->end || !name_start((unsigned char)*x->at, colon))
		return 0;
	while (x->at + n < x->end && name_char((unsigned char)x->at[n], colon))
		n++;
	return n;
}

/*
 * Unescapes `s`..`e` into `out` (\\ and \n always, \" when `quoted`); a
 * quoted value ends at its closing quote, *stop then points at it. -1 with
 * the reason in `why` (static).
 */
static int unescape(const char *s, const char *e, int quoted, struct buf *out,
		    const char **stop, const char **why)
{
	const char *p = s;

	while (p < e) {
		if (quoted && *p == '"') {
			*stop = p;
			return 0;
		}
		if (*p == '\\') {
			if (p + 1 >= e) {
				*why = "a backslash at the end";
				return -1;
			}
			if (p[1] == '\\')
				buf_addch(out, '\\');
			else if (p[1] == 'n')
				buf_addch(out, '\n');
			else if (p[1] == '"' && quoted)
				buf_addch(out, '"');
			else {
				*why = quoted ? "an escape other than \\\\, \\\" or \\n" :
				       "an escape other than \\\\ or \\n";
				return -1;
			}
			p += 2;
		} else {
			size_t n = utf8_seq((const unsigned char *)p, (const unsigned char *)e);
			if (!n) {
				*why = "bytes that are not UTF-8";
				return -1;
			}
			buf_add(out, p, n);
			p += n;
		}
		if (out->len > PROM_MAX_VALUE) {
			*why = "more than " XSTR(PROM_MAX_VALUE) " bytes";
			return -1;
		}
	}
	if (quoted) {
		*why = "no closing quote";
		return -1;
	}
	*stop = p;
	return 0;
}

/* a float as Go's ParseFloat takes it in this format: decimal, NaN, +Inf, -Inf */
static int parse_value(const char *s, size_t n, double *v)
{
	char tmp[64], *end;

	if ((n == 3 && !memcmp(s, "NaN", 3))) {
		*v = NAN;
		return 0;
	}
	if ((n == 4 && (!memcmp(s, "+Inf", 4))) || (n == 3 && !memcmp(s, "Inf", 3))) {
		*v = INFINITY;
		return 0;
	}
	if (n == 4 && !memcmp(s, "-Inf", 4)) {
		*v = -INFINITY;
		return 0;
	}
	if (!n || n >= sizeof(tmp))
		return -1;
	/* no hex floats, no "infinity" or "nan(...)": digits, a point, an exponent */
	for (size_t i = 0; i < n; i++)
		if (!strchr("0123456789.eE+-", s[i]))
			return -1;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	errno = 0;
	*v = strtod(tmp, &end);
	if (end != tmp + n || (errno == ERANGE && fabs(*v) > 1))
		return -1;
	return 0;
}

static int parse_ts(const char *s, size_t n, int64_t *ts)
{
	char tmp[32], *end;
	long long v;

	if (!n || n >= sizeof(tmp))
		return -1;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (i == 0 && s[i] == '-')))
			return -1;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	errno = 0;
	v = strtoll(tmp, &end, 10);
	if (end != tmp + n || errno == ERANGE)
		return -1;
	*ts = v;
	return 0;
}

/* the next run of non-blank bytes: its start and length */
static size_t token(struct lex *x, const char **start)
{
	blanks(x);
	*start = x->at;
	while (x->at < x->end && *x->at != ' ' && *x->at != '\t')
		x->at++;
	return (size_t)(x->at - *start);
}

/* ---- lines ---- */

/* "# HELP name text" or "# TYPE name type"; other comments are ignored */
static int comment_line(struct prom *p, struct lex *x)
{
	const char *word, *name, *stop, *why = NULL;
	size_t wl, nl;
	int help, f;
	char q[QUOTE_BUF];

	x->at++;	/* '#' */
	blanks(x);
	word = x->at;
	while (x->at < x->end && *x->at != ' ' && *x->at != '\t')
		x->at++;
	wl = (size_t)(x->at - word);
	if (!((wl == 4 && !memcmp(word, "HELP", 4)) || (wl == 4 && !memcmp(word, "TYPE", 4))))
		return 0;
	help = word[0] == 'H';
	blanks(x);
	name = x->at;
	nl = name_len(x, 1);
	if (!nl)
		return bad(x, "%s wants a metric name, not %s", help ? "HELP" : "TYPE",
			   quote_n(q, name, (size_t)(x->end - name)));
	if (nl > PROM_MAX_NAME)
		return bad(x, "a metric name longer than %d bytes", PROM_MAX_NAME);
	x->at += nl;
	if (x->at < x->end && *x->at != ' ' && *x->at != '\t')
		return bad(x, "%s: %s is not a metric name", help ? "HELP" : "TYPE",
			   quote_n(q, name, (size_t)(x->end - name)));
	f = family_index(p, name, nl);
	if (f < 0) {
		char *tmp;
		if (p->nfamilies >= PROM_MAX_FAMILIES)
			return bad(x, "more than %d metric families", PROM_MAX_FAMILIES);
		tmp = xstrndup(name, nl);
		f = family_add(p, tmp);
		free(tmp);
	}
	struct prom_family *fam = &p->families[f];
	if (help) {
		struct buf text = BUF_INIT;
		if (fam->help)
			return bad(x, "a second HELP for %s", quote_n(q, name, nl));
		if (x->at < x->end)
			x->at++;	/* the one blank after the name; the rest is the text */
		if (unescape(x->at, x->end, 0, &text, &stop, &why)) {
			buf_release(&text);
			return bad(x, "HELP of %s: %s", quote_n(q, name, nl), why);
		}
		fam->help = buf_detach(&text, NULL);
		return 0;
	}
	const char *t;
	size_t tl = token(x, &t);
	size_t k;
	for (k = 0; k < ARRAY_SIZE(type_names); k++)
		if (strlen(type_names[k]) == tl && !memcmp(type_names[k], t, tl))
			break;
	if (k == ARRAY_SIZE(type_names)) {
		char qt[QUOTE_BUF];
		return bad(x, "TYPE of %s is %s: not counter, gauge, histogram, summary or untyped",
			   quote_n(q, name, nl), tl ? quote_n(qt, t, tl) : "missing");
	}
	blanks(x);
	if (x->at < x->end)
		return bad(x, "TYPE of %s: unexpected %s after the type", fam->name,
			   quote_n(q, x->at, (size_t)(x->end - x->at)));
	if (fam->typed)
		return bad(x, "a second TYPE for %s", quote_n(q, name, nl));
	/* the samples of a family follow its TYPE */
	if (fam->sampled)
		return bad(x, "TYPE of %s after its samples", fam->name);
	if (k == PROM_HISTOGRAM || k == PROM_SUMMARY) {
		static const char *const parts[] = { "_bucket", "_sum", "_count" };
		for (size_t i = 0; i < ARRAY_SIZE(parts); i++) {
			char part[PROM_MAX_NAME + 16];
			int pf;
			snprintf(part, sizeof(part), "%s%s", fam->name, parts[i]);
			pf = family_index(p, part, strlen(part));
			if (pf >= 0 && p->families[pf].sampled)
				return bad(x, "TYPE of %s after its samples (%s)", fam->name, part);
		}
	}
	fam->type = (enum prom_type)k;
	fam->typed = 1;
	return 0;
}

static int sample_line(struct prom *p, struct lex *x)
{
	struct prom_sample s;
	const char *name = x->at, *t;
	size_t nl = name_len(x, 1), tl;
	struct buf v = BUF_INIT;
	char q[QUOTE_BUF];
	int ret = -1, blanked;

	memset(&s, 0, sizeof(s));
	s.line = x->line;
	if (!nl)
		return bad(x, "%s is not a metric name", quote_n(q, name, (size_t)(x->end - name)));
	if (nl > PROM_MAX_NAME)
		return bad(x, "a metric name longer than %d bytes", PROM_MAX_NAME);
	if (p->n >= PROM_MAX_SAMPLES)
		return bad(x, "more than %d samples", PROM_MAX_SAMPLES);
	s.name = xstrndup(name, nl);
	x->at += nl;
	blanks(x);
	blanked = x->at > name + nl;
	if (x->at < x->end && *x->at == '{') {
		x->at++;
		for (;;) {
			const char *ln, *stop, *why = NULL;
			size_t ll;

			blanks(x);
			if (x->at < x->end && *x->at == '}')
				break;
			ln = x->at;
			ll = name_len(x, 0);
			if (!ll) {
				bad(x, "%s: %s is not a label name", s.name,
				    quote_n(q, ln, (size_t)(x->end - ln)));
				goto out;
			}
			if (ll > PROM_MAX_NAME) {
				bad(x, "%s: a label name longer than %d bytes", s.name, PROM_MAX_NAME);
				goto out;
			}
			x->at += ll;
			for (size_t i = 0; i < s.nlabels; i++)
				if (strlen(s.labels[i].name) == ll && !memcmp(s.labels[i].name, ln, ll)) {
					bad(x, "%s: label %s given twice", s.name, quote_n(q, ln, ll));
					goto out;
				}
			if (s.nlabels >= PROM_MAX_LABELS) {
				bad(x, "%s: more than %d labels", s.name, PROM_MAX_LABELS);
				goto out;
			}
			blanks(x);
			if (x->at >= x->end || *x->at != '=') {
				bad(x, "%s: label %s wants '=' and a quoted value", s.name,
				    quote_n(q, ln, ll));
				goto out;
			}
			x->at++;
			blanks(x);
			if (x->at >= x->end || *x->at != '"') {
				bad(x, "%s: the value of label %s is not quoted", s.name,
				    quote_n(q, ln, ll));
				goto out;
			}
			x->at++;
			buf_reset(&v);
			if (unescape(x->at, x->end, 1, &v, &stop, &why)) {
				bad(x, "%s: the value of label %s has %s", s.name, quote_n(q, ln, ll), why);
				goto out;
			}
			x->at = stop + 1;
			s.labels = xrealloc(s.labels, (s.nlabels + 1) * sizeof(*s.labels));
			s.labels[s.nlabels].name = xstrndup(ln, ll);
			s.labels[s.nlabels].value = buf_detach(&v, NULL);
			s.nlabels++;
			blanks(x);
			if (x->at < x->end && *x->at == ',') {
				x->at++;
				continue;
			}
			if (x->at < x->end && *x->at == '}')
				break;
			bad(x, "%s: after label %s comes %s, not ',' or '}'", s.name, quote_n(q, ln, ll),
			    x->at < x->end ? "something else" : "the end of the line");
			goto out;
		}
		x->at++;	/* '}' */
		blanked = 0;
	}
	if (!blanked && x->at < x->end && *x->at != ' ' && *x->at != '\t') {
		bad(x, "%s: %s where a blank and the value should be", s.name,
		    quote_n(q, x->at, (size_t)(x->end - x->at)));
		goto out;
	}
	tl = token(x, &t);
	if (!tl) {
		bad(x, "%s has no value", s.name);
		goto out;
	}
	if (parse_value(t, tl, &s.value)) {
		bad(x, "%s: the value %s is not a number", s.name, quote_n(q, t, tl));
		goto out;
	}
	tl = token(x, &t);
	if (tl) {
		if (parse_ts(t, tl, &s.ts_ms)) {
			bad(x, "%s: the timestamp %s is not milliseconds", s.name, quote_n(q, t, tl));
			goto out;
		}
		s.has_ts = 1;
	}
	blanks(x);
	if (x->at < x->end) {
		bad(x, "%s: unexpected %s after the value", s.name,
		    quote_n(q, x->at, (size_t)(x->end - x->at)));
		goto out;
	}
	s.family = sample_family(p, s.name, nl);
	if (s.family < 0) {
		/* untyped: its family, so that a TYPE after it is refused */
		if (p->nfamilies >= PROM_MAX_FAMILIES) {
			bad(x, "more than %d metric names", PROM_MAX_FAMILIES);
			goto out;
		}
		s.family = family_add(p, s.name);
	}
	p->families[s.family].sampled = 1;
	if (p->families[s.family].type == PROM_HISTOGRAM &&
	    nl > 7 && !strcmp(s.name + nl - 7, "_bucket")) {
		const char *le = prom_label(&s, "le");
		double d;
		if (!le) {
			bad(x, "%s: a histogram bucket without an 'le' label", s.name);
			goto out;
		}
		if (parse_value(le, strlen(le), &d) || isnan(d)) {
			bad(x, "%s: le=%s is not a bound", s.name, quote(q, le));
			goto out;
		}
	}
	if (p->n == p->alloc) {
		p->alloc = p->alloc ? 2 * p->alloc : 64;
		p->samples = xrealloc(p->samples, p->alloc * sizeof(*p->samples));
	}
	p->samples[p->n++] = s;
	memset(&s, 0, sizeof(s));
	ret = 0;
out:
	sample_release(&s);
	buf_release(&v);
	return ret;
}

int prom_parse(struct prom *p, const char *text, size_t len, struct buf *err)
{
	struct lex x = { .err = err };
	const char *at = text, *end = text + len;

	prom_release(p);
	if (len > PROM_MAX_BYTES) {
		if (err)
			buf_addf(err, "metrics of %zu bytes: more than the %u this reads", len,
				 PROM_MAX_BYTES);
		return -1;
	}
	while (at < end) {
		const char *nl = memchr(at, '\n', (size_t)(end - at));
		x.line++;
		x.at = at;
		x.end = nl ? nl : end;
		if (!nl) {
			bad(&x, "no newline at the end: cut short?");
			goto fail;
		}
		if (memchr(at, '\0', (size_t)(nl - at))) {
			bad(&x, "a NUL byte");
			goto fail;
		}
		blanks(&x);
		if (x.at < x.end && (*x.at == '#' ? comment_line(p, &x) : sample_line(p, &x)))
			goto fail;
		at = nl + 1;
	}
	return 0;
fail:
	prom_release(p);
	return -1;
}

/* ---- lookups ---- */

const char *prom_label(const struct prom_sample *s, const char *name)
{
	for (size_t i = 0; i < s->nlabels; i++)
		if (!strcmp(s->labels[i].name, name))
			return s->labels[i].value;
	return NULL;
}

int prom_matches(const struct prom_sample *s, const char *name, const char *const *match)
{
	if (strcmp(s->name, name))
		return 0;
	for (size_t i = 0; match && match[i]; i += 2) {
		const char *v = prom_label(s, match[i]);
		if (!v || !match[i + 1] || strcmp(v, match[i + 1]))
			return 0;
	}
	return 1;
}

const struct prom_sample *prom_find(const struct prom *p, const char *name,
				    const char *const *match)
{
	for (size_t i = 0; i < p->n; i++)
		if (prom_matches(&p->samples[i], name, match))
			return &p->samples[i];
	return NULL;
}

double prom_sum(const struct prom *p, const char *name, const char *const *match, size_t *n)
{
	double sum = 0;
	size_t k = 0;

	for (size_t i = 0; i < p->n; i++)
		if (prom_matches(&p->samples[i], name, match)) {
			sum += p->samples[i].value;
			k++;
		}
	if (n)
		*n = k;
	return sum;
}

size_t prom_buckets(const struct prom *p, const char *name, const char *const *match,
		    struct prom_bucket *out, size_t max)
{
	char *bname = xstrfmt("%s_bucket", name);
	struct prom_bucket *all = NULL;
	size_t n = 0, alloc = 0;

	for (size_t i = 0; i < p->n; i++) {
		const struct prom_sample *s = &p->samples[i];
		const char *le;
		double bound;
		size_t k;

		if (!prom_matches(s, bname, match) || !(le = prom_label(s, "le")) ||
		    parse_value(le, strlen(le), &bound) || isnan(bound))
			continue;
		for (k = 0; k < n && all[k].le < bound; k++)
			;
		if (k < n && all[k].le == bound) {
			all[k].count += s->value;
			continue;
		}
		if (n == alloc) {
			alloc = alloc ? 2 * alloc : 16;
			all = xrealloc(all, alloc * sizeof(*all));
		}
		memmove(&all[k + 1], &all[k], (n - k) * sizeof(*all));
		all[k].le = bound;
		all[k].count = s->value;
		n++;
	}
	if (n && out)
		memcpy(out, all, (n < max ? n : max) * sizeof(*all));
	free(all);
	free(bname);
	return n;
}
