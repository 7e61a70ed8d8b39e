/*
 * test-serving: the serving binary's pure parts: routes and query
 * strings, request framing (RFC 9112), the bandit policies (a clearly better arm ends up with most
 * traffic; A/B is stable per user and follows the weights) and the
 * feedback ledger (attribution, duplicates, windows closing as no reward).
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "bandit.h"
#include "ledger.h"
#include "route.h"
#include "tap.h"
#include "util/buf.h"
#include "util/rand.h"

static int parse(const char *method, const char *uri, struct route *r, struct route_error *e)
{
	return route_parse(method, uri, strlen(uri), r, e);
}

static void test_routes(void)
{
	struct route r;
	struct route_error e;

	ok(parse("GET", "/recommendations/42", &r, &e) == 0 && r.kind == ROUTE_RECOMMENDATIONS &&
	   r.id == 42 && r.k == ROUTE_K_DEFAULT, "GET /recommendations/42: user 42, default k");
	ok(parse("GET", "/recommendations/7?k=25", &r, &e) == 0 && r.k == 25, "?k=25");
	ok(parse("GET", "/similar/4294967295?k=1", &r, &e) == 0 && r.kind == ROUTE_SIMILAR &&
	   r.id == 4294967295u && r.k == 1, "/similar with the largest id and k=1");
	ok(parse("GET", "/popular?k=100", &r, &e) == 0 && r.kind == ROUTE_POPULAR && r.k == 100,
	   "/popular?k=100");
	ok(parse("POST", "/feedback", &r, &e) == 0 && r.kind == ROUTE_FEEDBACK, "POST /feedback");
	ok(parse("GET", "/healthz", &r, &e) == 0 && r.kind == ROUTE_HEALTHZ, "/healthz");
	ok(parse("GET", "/readyz", &r, &e) == 0 && r.kind == ROUTE_READYZ, "/readyz");
	ok(parse("GET", "/metrics", &r, &e) == 0 && r.kind == ROUTE_METRICS, "/metrics");
	ok(parse("HEAD", "/healthz", &r, &e) == 0, "HEAD is GET without a body");
	ok(parse("GET", "/recommendations/3?variant=b-2&k=5", &r, &e) == 0 &&
	   !strcmp(r.variant, "b-2") && r.k == 5, "?variant= forces an arm");

	static const struct { const char *m, *u; int status; const char *says; } bad[] = {
		{ "GET", "/nope", 404, "no such path" },
		{ "GET", "/recommendations", 404, "no such path" },
		{ "GET", "/recommendations/", 400, "not an id" },
		{ "GET", "/recommendations/-1", 400, "not an id" },
		{ "GET", "/recommendations/12a", 400, "not an id" },
		{ "GET", "/recommendations/007", 400, "not an id" },
		{ "GET", "/recommendations/4294967296", 400, "not an id" },
		{ "GET", "/recommendations/1/2", 400, "not an id" },
		{ "GET", "/recommendations/1?k=0", 400, "k must be" },
		{ "GET", "/recommendations/1?k=101", 400, "k must be" },
		{ "GET", "/recommendations/1?k=", 400, "k must be" },
		{ "GET", "/recommendations/1?k", 400, "k must be" },
		{ "GET", "/recommendations/1?k=1e3", 400, "k must be" },
		{ "GET", "/recommendations/1?limit=3", 400, "unknown parameter" },
		{ "GET", "/recommendations/1?variant=A%20B", 400, "variant names" },
		{ "GET", "/recommendations/1?k=10&k=20", 400, "'k' is given twice" },
		{ "GET", "/recommendations/1?k=10&k=10", 400, "'k' is given twice" },
		{ "GET", "/recommendations/1?variant=a&k=3&variant=b", 400, "'variant' is given twice" },
		{ "POST", "/recommendations/1", 405, "not allowed" },
		{ "GET", "/feedback", 405, "not allowed" },
		{ "DELETE", "/popular", 405, "not allowed" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&e, 0, sizeof(e));
		int ret = parse(bad[i].m, bad[i].u, &r, &e);
		ok(ret < 0 && e.status == bad[i].status && strstr(e.message, bad[i].says),
		   "%s %s: %d (%s)", bad[i].m, bad[i].u, e.status, e.message);
	}
	char longuri[ROUTE_URI_MAX + 20];
	memset(longuri, 'a', sizeof(longuri) - 1);
	longuri[0] = '/';
	longuri[sizeof(longuri) - 1] = '\0';
	ok(parse("GET", longuri, &r, &e) < 0 && e.status == 414, "a URI over 2048 bytes: 414");
	/* a client's bytes in a message go into a JSON body: printable ASCII only */
	static const char *const odd[] = { "/recommendations/\xff\xfe", "/nope\xc3\x28\x01",
					   "/recommendations/1?k=\x80", "/recommendations/1?\xff=1" };
	for (size_t i = 0; i < sizeof(odd) / sizeof(odd[0]); i++) {
		int ascii = parse("GET", odd[i], &r, &e) < 0;
		for (const char *c = e.message; ascii && *c; c++)
			ascii = *c >= ' ' && *c < 127;
		ok(ascii && strchr(e.message, '?'), "bytes that are not ASCII are quoted as '?' (%s)",
		   e.message);
	}
	ok(!strcmp(route_name(ROUTE_SIMILAR), "similar"), "route names for metrics");
}

/* a request's header block "Name: value\n..." through route_framing */
static int framing(const char *version, const char *fields, struct route_error *e)
{
	struct route_framing f;
	const char *p = fields;

	route_framing_init(&f);
	while (*p) {
		const char *nl = strchr(p, '\n'), *colon = memchr(p, ':', (size_t)(nl - p));
		const char *v = colon + 1;
		while (*v == ' ')
			v++;
		route_framing_field(&f, p, (size_t)(colon - p), v, (size_t)(nl - v));
		p = nl + 1;
	}
	memset(e, 0, sizeof(*e));
	return route_framing_check(&f, version, e);
}

static void test_framing(void)
{
	struct route_error e;
	static const struct { const char *version, *fields; int status; const char *says; } cases[] = {
		{ "HTTP/1.1", "Host: a\n", 0, "" },
		{ "HTTP/1.1", "host: 127.0.0.1:8080\nAccept: */*\n", 0, "" },
		{ "HTTP/1.1", "Host: [::1]:8080\n", 0, "" },
		{ "HTTP/1.1", "Host: \n", 0, "" },
		{ "HTTP/1.0", "", 0, "" },
		{ "HTTP/1.2", "Host: a\n", 0, "" },
		{ "HTTP/1.1", "Host: a\nContent-Length: 5\ncontent-length: 5\n", 0, "" },
		{ "HTTP/1.1", "Host: a\nTransfer-Encoding: chunked\n", 0, "" },
		{ "HTTP/1.1", "Host: a\nContent-Length: 5\nContent-Length: 6\n", 400, "different values" },
		{ "HTTP/1.1", "Host: a\nContent-Length: 0\nContent-Length: 00\nContent-Length: 1\n", 400,
		  "different values" },
		{ "HTTP/1.1", "", 400, "needs a Host" },
		{ "HTTP/1.1", "Accept: */*\n", 400, "needs a Host" },
		{ "HTTP/1.10", "", 400, "needs a Host" },
		{ "HTTP/1.1", "Host: a\nHost: b\n", 400, "not several" },
		{ "HTTP/1.0", "Host: a\nHOST: a\n", 400, "not several" },
		{ "HTTP/1.1", "Host: a b\n", 400, "host[:port]" },
		{ "HTTP/1.1", "Host: a:80x\n", 400, "host[:port]" },
		{ "HTTP/1.1", "Host: a/b\n", 400, "host[:port]" },
		{ "HTTP/1.1", "Host: [::1\n", 400, "host[:port]" },
		{ "HTTP/1.1", "Host : a\n", 400, "not a token" },
		{ "HTTP/1.1", "Host: a\nX\tY: 1\n", 400, "not a token" },
		{ "HTTP/1.1", "Host: a\n: empty\n", 400, "not a token" },
		{ "HTTP/1.0", "Transfer-Encoding: chunked\n", 400, "HTTP/1.0" },
		{ "HTTP/1.1", "Host: a\nContent-Length: 4\nTransfer-Encoding: chunked\n", 400,
		  "both Transfer-Encoding and Content-Length" },
		{ "HTTP/1.1", "Host: a\nTransfer-Encoding: gzip\n", 501, "'gzip' is not supported" },
		{ "HTTP/1.1", "Host: a\nTransfer-Encoding: gzip, chunked\n", 501, "'gzip'" },
		{ "HTTP/1.1", "Host: a\nTransfer-Encoding: chunked, chunked\n", 400, "chunked, once" },
		{ "HTTP/1.1", "Host: a\nTransfer-Encoding: chunked\nTransfer-Encoding: chunked\n", 400,
		  "chunked, once" },
		{ "HTTP/1.1", "Host: a\nTransfer-Encoding: \n", 400, "chunked, once" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int ret = framing(cases[i].version, cases[i].fields, &e);
		if (cases[i].status == 0)
			ok(ret == 0, "framing case %zu (%s) is sound (%s)", i, cases[i].version,
			   e.message);
		else
			ok(ret < 0 && e.status == cases[i].status && strstr(e.message, cases[i].says),
			   "framing case %zu: %d (%s)", i, e.status, e.message);
	}
	ok(framing("HTTP/1.1", "Host: a\nX-\xff\x01: 1\n", &e) < 0 && !strchr(e.message, '\xff'),
	   "a field name that is not ASCII is quoted (%s)", e.message);
}

static void test_bandit(void)
{
	struct bandit b;
	enum bandit_policy pol[] = { BANDIT_THOMPSON, BANDIT_EGREEDY, BANDIT_UCB1 };
	enum bandit_policy p;

	ok(bandit_policy_parse("thompson", &p) == 0 && p == BANDIT_THOMPSON &&
	   bandit_policy_parse("ucb1", &p) == 0 && bandit_policy_parse("greedy", &p) < 0,
	   "policy names");
	for (int t = 0; t < 3; t++) {
		uint64_t rng = 12345;
		int late[2] = { 0, 0 };
		bandit_init(&b, pol[t], 0.1, 7);
		bandit_add(&b, "a", 1);
		bandit_add(&b, "b", 1);
		/* arm b pays 30% of the time, arm a 5% */
		for (int i = 0; i < 4000; i++) {
			double prob;
			int arm = bandit_choose(&b, (uint32_t)i, &prob);
			rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
			double u = (rng >> 11) / 9007199254740992.0;
			bandit_reward(&b, arm, u < (arm == 1 ? 0.30 : 0.05));
			if (i >= 3000)
				late[arm]++;
			if (i == 3999)
				ok(prob >= 0 && prob <= 1, "%s: a probability in [0, 1] (%.3f)",
				   bandit_policy_name(pol[t]), prob);
		}
		ok(late[1] > 800, "%s: the better arm gets most of the last 1000 requests (%d)",
		   bandit_policy_name(pol[t]), late[1]);
		struct bandit_arm arms[BANDIT_MAX_ARMS];
		int n = bandit_snapshot(&b, arms);
		ok(n == 2 && arms[0].pulls + arms[1].pulls == 4000, "%s: 4000 pulls counted",
		   bandit_policy_name(pol[t]));
		bandit_release(&b);
	}

	/* A/B: stable per user, shares follow the weights */
	bandit_init(&b, BANDIT_AB, 0, 1);
	bandit_add(&b, "control", 3);
	bandit_add(&b, "test", 1);
	int count[2] = { 0, 0 }, stable = 1;
	double prob;
	for (uint32_t u = 0; u < 20000; u++) {
		int arm = bandit_choose(&b, u, &prob);
		count[arm]++;
		stable &= bandit_choose(&b, u, &prob) == arm;
	}
	ok(stable, "A/B: a user always gets the same variant");
	ok(count[1] > 4500 && count[1] < 5500, "A/B: weights 3:1 give the test arm ~25%% (%d of 20000)",
	   count[1]);
	bandit_choose(&b, 5, &prob);
	ok(prob == 0.75 || prob == 0.25, "A/B: the probability is the arm's share (%.2f)", prob);
	ok(bandit_find(&b, "test") == 1 && bandit_find(&b, "x") < 0, "arms by name");
	bandit_release(&b);
}

static int closed_arms[4];
static void on_closed(int arm, void *ctx)
{
	(void)ctx;
	closed_arms[arm]++;
}

static void test_ledger(void)
{
	struct ledger l;
	int arm = -1;

	ledger_init(&l, 4, 1000, on_closed, NULL);
	uint64_t a = ledger_open(&l, 0, 100), b = ledger_open(&l, 1, 200);
	ok(a != b && a > 0, "request ids are distinct and non-zero");
	ok(ledger_feedback(&l, b, 700, &arm) == LEDGER_OK && arm == 1, "feedback finds its arm");
	is_int(ledger_feedback(&l, b, 800, &arm), LEDGER_DUPLICATE, "a second feedback is a duplicate");
	is_int(ledger_feedback(&l, 999, 800, &arm), LEDGER_UNKNOWN, "an unknown id");
	is_int(ledger_feedback(&l, a, 1200, &arm), LEDGER_EXPIRED, "feedback after the window");
	is_int(ledger_expire(&l, 1300), 2, "the two old windows close");
	is_int(closed_arms[0], 1, "the one without feedback closes as no reward");
	is_int(closed_arms[1], 0, "the one with feedback is not counted again");
	/* a full ring closes its oldest window early */
	for (int i = 0; i < 6; i++)
		ledger_open(&l, 2, 2000);
	is_int(closed_arms[2], 2, "overflow: the two oldest of six close early (ring of 4)");
	is_int(ledger_open_count(&l), 4, "four still open");
	ledger_release(&l);
}

/* the answers' numbers: buf_addg6 writes what printf's %.6g writes */
static void test_numbers(void)
{
	static const double fixed[] = { 0, -0.0, 1, -1, 0.5, 9.9999996, 99999.95, 123456.7,
					0.0001, 0.00012345678, 1e-5, 999999.5, 1e6, 5.22493,
					-0.880877, 3.0000005, 0.099999997, NAN, INFINITY, -INFINITY };
	uint64_t st = 42;
	int bad = 0, n = 0;
	char want[64];

	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++, n++) {
		struct buf b = BUF_INIT;
		buf_addg6(&b, fixed[i]);
		snprintf(want, sizeof(want), "%.6g", fixed[i]);
		if (strcmp(b.s, want) && bad++ < 5)
			fprintf(stderr, "# buf_addg6(%.17g) wrote %s, printf %s\n", fixed[i], b.s, want);
		buf_release(&b);
	}
	for (int i = 0; i < 1000000; i++, n++) {
		/* floats (scores are floats) across the exponents that matter */
		double u = (double)(splitmix64(&st) >> 11) / 9007199254740992.0;
		float f = (float)ldexp(u, (int)(splitmix64(&st) % 44) - 24);
		if (splitmix64(&st) & 1)
			f = -f;
		struct buf b = BUF_INIT;
		buf_addg6(&b, f);
		snprintf(want, sizeof(want), "%.6g", (double)f);
		if (strcmp(b.s, want) && bad++ < 5)
			fprintf(stderr, "# buf_addg6(%.9g) wrote %s, printf %s\n", (double)f, b.s, want);
		buf_release(&b);
	}
	ok(bad == 0, "buf_addg6 writes the bytes of %%.6g (%d of %d differ)", bad, n);
	struct buf b = BUF_INIT;
	buf_addu64(&b, 0);
	buf_addch(&b, ' ');
	buf_addu64(&b, UINT64_MAX);
	is_str(b.s, "0 18446744073709551615", "buf_addu64");
	buf_release(&b);
}

static int fb(const char *body, struct feedback *f, struct route_error *e)
{
	return route_feedback(body, strlen(body), f, e);
}

/* POST /feedback's body */
static void test_feedback(void)
{
	struct feedback f;
	struct route_error e;

	ok(fb("{\"request_id\":\"0a1b2c3d-42\",\"item\":7,\"reward\":0.5}", &f, &e) == 0 &&
	   !strcmp(f.request_id, "0a1b2c3d-42") && !strcmp(f.instance, "0a1b2c3d") && f.seq == 42 &&
	   f.item == 7 && f.reward == 0.5, "a whole feedback body");
	ok(fb("{\"request_id\":\"0a1b2c3d-1\"}", &f, &e) == 0 && f.item == -1 && f.reward == 1,
	   "item and reward are optional (a click)");
	static const char *const bad[] = {
		"{\"request_id\":\"0a1b2c3d-42\\\"}\"}",	/* a quote after the id */
		"{\"request_id\":\"0a1b2c3d-42x\"}", "{\"request_id\":\"0A1B2C3D-42\"}",
		"{\"request_id\":\"abc-5\"}", "{\"request_id\":\"0a1b2c3d-\"}",
		"{\"request_id\":\"0a1b2c3d-99999999999999999999\"}",	/* > 2^64 */
		"{\"request_id\":5}", "{\"item\":3}", "{\"request_id\":\"0a1b2c3d-1\",\"reward\":7}",
		"{\"request_id\":\"0a1b2c3d-1\",\"reward\":\"1\"}",
		"{\"request_id\":\"0a1b2c3d-1\",\"item\":-3}",
		"{\"request_id\":\"0a1b2c3d-1\",\"item\":1.5}",
		"{\"request_id\":\"0a1b2c3d-1\",\"request_id\":\"0a1b2c3d-2\"}",
		"{\"request_id\": 5", "[1,2]", "", "null",
	};
	int refused = 0;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&e, 0, sizeof(e));
		if (fb(bad[i], &f, &e) == -1 && e.status == 400 && e.message[0])
			refused++;
		else
			fprintf(stderr, "# accepted: %s\n", bad[i]);
	}
	is_int(refused, (int)(sizeof(bad) / sizeof(bad[0])),
	       "malformed bodies, ids with anything after them, out-of-range values: 400");
}

int main(void)
{
	test_numbers();
	test_feedback();
	test_routes();
	test_framing();
	test_bandit();
	test_ledger();
	return tap_done();
}
