/* cli: what every subcommand shares: the command table, colors, the engine. */
#include "cli.h"
#include "core/config.h"
#include "util/xalloc.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int color_state = -1;

int cli_tty(void)
{
	return isatty(1);
}

static int use_color(void)
{
	if (color_state < 0) {
		const char *t = getenv("TERM");
		color_state = isatty(1) && !getenv("NO_COLOR") && !(t && !strcmp(t, "dumb"));
	}
	return color_state;
}

const char *cli_color(enum cli_color c)
{
	static const char *const seq[] = {
		[C_RESET] = "\033[0m", [C_BOLD] = "\033[1m", [C_DIM] = "\033[2m",
		[C_RED] = "\033[31m", [C_GREEN] = "\033[32m", [C_YELLOW] = "\033[33m",
		[C_BLUE] = "\033[34m", [C_MAGENTA] = "\033[35m", [C_CYAN] = "\033[36m",
	};
	return use_color() ? seq[c] : "";
}

const char *cli_service_color(const char *name)
{
	static const enum cli_color palette[] = { C_CYAN, C_MAGENTA, C_YELLOW, C_BLUE, C_GREEN };
	unsigned h = 5381;

	for (; *name; name++)
		h = h * 33 + (unsigned char)*name;
	return cli_color(palette[h % ARRAY_SIZE(palette)]);
}

int cli_usage(const char *name)
{
	const struct cmd *c;

	for (c = cmd_table; c->name; c++)
		if (!strcmp(c->name, name)) {
			printf("usage: pancake %s\n\n%s\n", c->usage, c->summary);
			if (c->help && *c->help)
				printf("\n%s", c->help);
			return 0;
		}
	return 0;
}

int cli_bad_usage(const char *name, const char *fmt, ...)
{
	const struct cmd *c;
	va_list ap;

	fprintf(stderr, "error: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	for (c = cmd_table; c->name; c++)
		if (!strcmp(c->name, name))
			fprintf(stderr, "usage: pancake %s (see 'pancake %s --help')\n", c->usage, name);
	return 2;
}

static struct docker *engine;

struct docker *cli_docker(void)
{
	struct buf err = BUF_INIT;
	int code;

	if (engine)
		return engine;
	engine = docker_open(NULL, &code, &err);
	if (!engine)
		die("%s", err.s);
	buf_release(&err);
	return engine;
}

void cli_print_error(const char *msg)
{
	fprintf(stderr, "%serror:%s %s\n", cli_color(C_RED), cli_color(C_RESET), msg);
}

static const char *const note_words[] = {
	[NOTE_INFO] = "", [NOTE_CREATE] = "created", [NOTE_RECREATE] = "recreate",
	[NOTE_START] = "started", [NOTE_UNCHANGED] = "running", [NOTE_WAITING] = "waiting",
	[NOTE_READY] = "ready", [NOTE_FAILED] = "FAILED", [NOTE_STOP] = "stopped",
	[NOTE_REMOVE] = "removed", [NOTE_RESTART] = "restart", [NOTE_GIVEUP] = "gave up",
	[NOTE_DIED] = "died",
};

void cli_print_note(const struct stack_note *n, void *ctx)
{
	enum cli_color c = n->kind == NOTE_READY ? C_GREEN :
			   n->kind == NOTE_FAILED || n->kind == NOTE_GIVEUP || n->kind == NOTE_DIED ? C_RED :
			   n->kind == NOTE_WAITING ? C_DIM : C_RESET;
	FILE *out = ctx ? ctx : stdout;

	if (!n->service) {
		if (n->kind == NOTE_INFO)
			fprintf(out, "%s[%5.1fs] %s%s\n", cli_color(C_DIM), n->elapsed, n->text, cli_color(C_RESET));
		else
			fprintf(out, "[%5.1fs] %-13s %-8s %s\n", n->elapsed, "", note_words[n->kind], n->text);
	} else {
		fprintf(out, "[%5.1fs] %s%-13s%s %s%-8s%s %s\n", n->elapsed,
			cli_service_color(n->service), n->service, cli_color(C_RESET),
			cli_color(c), note_words[n->kind], cli_color(C_RESET), n->text);
	}
	fflush(out);
}

void cli_open_stack(struct stack *st, enum heap_profile profile, int verbose)
{
	struct buf err = BUF_INIT;

	if (stack_open(st, cli_docker(), profile, verbose ? cli_print_note : NULL, NULL, &err))
		die("%s", err.s);
	buf_release(&err);
}
