/* fuzz-lab: the lab front-matter parser (lab.md and step.md) on any bytes. */
#include "fuzz.h"
#include "core/lab.h"

#include <string.h>

static void check_front(const struct lab_front *f, unsigned flags)
{
	size_t i;

	CHECK(f->title && *f->title);
	CHECK(f->body);
	CHECK(f->timeout_s >= 0 && f->timeout_s <= LAB_TIMEOUT_MAX);
	if (!(flags & LAB_FRONT_STEP))
		CHECK(!f->commands.n && !f->hints.n);
	for (i = 0; i < f->commands.n; i++)
		CHECK(*f->commands.v[i] && !strchr(f->commands.v[i], '\n'));
	for (i = 0; i < f->hints.n; i++)
		CHECK(*f->hints.v[i] && !strchr(f->hints.v[i], '\n'));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned flags;

	for (flags = 0; flags <= LAB_FRONT_STEP; flags++) {
		struct lab_front f;
		struct buf err = BUF_INIT;
		int r = lab_front_parse(&f, (const char *)data, size, "step.md", flags, &err);
		CHECK(r == 0 || r == -1);
		/* a refusal always says where, and only a refusal says anything */
		CHECK(!r == !err.len);
		if (r)
			CHECK(!strncmp(err.s, "step.md:", 8) || !strncmp(err.s, "step.md: holds a NUL", 20));
		else
			check_front(&f, flags);
		lab_front_release(&f);
		buf_release(&err);
	}
	return 0;
}
