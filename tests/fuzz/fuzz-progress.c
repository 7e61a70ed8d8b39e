/* fuzz-progress: a model job's progress line parser on any bytes; what it accepts re-formats and reads back the same. */
#include "fuzz.h"
#include "model/progress.h"

#include <math.h>
#include <string.h>

/* figures are written to 10 significant digits: equal to that, and absent stays absent */
static int same(double a, double b)
{
	if (isnan(a) || isnan(b))
		return isnan(a) && isnan(b);
	return a == b || fabs(a - b) <= 1e-9 * fmax(fabs(a), fabs(b));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct progress_event ev, back;
	struct buf err = BUF_INIT, line = BUF_INIT;

	if (progress_parse((const char *)data, size, &ev, &err)) {
		CHECK(err.len > 0);	/* a refusal says why */
		buf_release(&err);
		return 0;
	}
	CHECK(ev.kind >= PROGRESS_START && ev.kind <= PROGRESS_ERROR);
	CHECK(memchr(ev.job, 0, sizeof(ev.job)) && memchr(ev.what, 0, sizeof(ev.what)) &&
	      memchr(ev.version, 0, sizeof(ev.version)) &&
	      memchr(ev.message, 0, sizeof(ev.message)));
	/* what was accepted is written as one line under the cap that reads back */
	progress_format(&ev, &line);
	CHECK(line.len <= PROGRESS_LINE_MAX);
	CHECK(line.s[line.len - 1] == '\n' && memchr(line.s, '\n', line.len) == line.s + line.len - 1);
	CHECK(!progress_parse(line.s, line.len, &back, &err));
	CHECK(back.kind == ev.kind && back.total == ev.total && back.iter == ev.iter &&
	      back.iters == ev.iters && back.done == ev.done && back.events == ev.events);
	CHECK(same(back.seconds, ev.seconds) && same(back.train_rmse, ev.train_rmse) &&
	      same(back.test_rmse, ev.test_rmse) && same(back.ndcg, ev.ndcg) &&
	      same(back.rate, ev.rate) && same(back.eta, ev.eta) &&
	      same(back.p50_ms, ev.p50_ms) && same(back.p99_ms, ev.p99_ms));
	buf_release(&line);
	buf_release(&err);
	return 0;
}
