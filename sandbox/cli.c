/* cli: what every subcommand shares: the command table, colors, the engine. */
#include "cli.h"
#include "core/config.h"
#include "util/jsonout.h"
#include "util/xalloc.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* per stream: 1 stdout, 2 stderr; -1 not decided yet */
static int color_state[3] = { -1, -1, -1 };

int cli_tty(void)
{
	return isatty(1);
}

static int use_color(int fd)
{
	if (color_state[fd] < 0) {
		const char *t = getenv("TERM"), *nc = getenv("NO_COLOR");
		/* no-color.org: NO_COLOR disables only when set to a non-empty value */
		color_state[fd] = isatty(fd) && !(nc && *nc) && !(t && !strcmp(t, "dumb"));
	}
	return color_state[fd];
}

static const char *const color_seq[] = {
	[C_RESET] = "\033[0m", [C_BOLD] = "\033[1m", [C_DIM] = "\033[2m",
	[C_RED] = "\033[31m", [C_GREEN] = "\033[32m", [C_YELLOW] = "\033[33m",
	[C_BLUE] = "\033[34m", [C_MAGENTA] = "\033[35m", [C_CYAN] = "\033[36m",
};

const char *cli_color(enum cli_color c)
{
	return use_color(1) ? color_seq[c] : "";
}

const char *cli_ecolor(enum cli_color c)
{
	return use_color(2) ? color_seq[c] : "";
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
	const struct command *c = command_find(cmd_table, name);
	char q[QUOTE_BUF];

	if (!c)
		return cli_fail(RC_USAGE, "%s is not a pancake command: 'pancake help' lists them",
				quote(q, name));
	command_usage("pancake", c);
	printf("\nexit codes: 0 ok, 1 failed, 2 usage or a malformed definition, "
	       "3 no docker engine, 130 interrupted\n");
	return RC_OK;
}

/* ---- failures ---- */

static int json_mode;
static const char *command = "";

void cli_set_json(int on)
{
	json_mode = on;
}

void cli_set_command(const char *name)
{
	command = name;
}

/* what the exit code says to do, for a message that names no way out */
static json_t *hint_for(int rc)
{
	switch (rc) {
	case RC_USAGE:
		return json_sprintf("see 'pancake %s --help'", *command ? command : "help");
	case RC_NO_ENGINE:
		return json_string("start the engine ('sudo systemctl start docker' or "
				   "'sudo dockerd &'), or point DOCKER_HOST at a running one");
	case RC_INTERRUPTED:
		return json_string("run the same command again: it resumes");
	default:
		return json_null();
	}
}

/*
 * {"error": WHAT, "hint": WAY OUT, "exit_code": RC} on stdout; `msg`
 * already escaped. Messages say "what; way out": split at the first "; ".
 */
static void print_json_failure(int rc, const char *msg)
{
	const char *semi = strstr(msg, "; ");
	json_t *o = json_object(), *m;

	m = semi && semi[2] ? json_stringn(msg, (size_t)(semi - msg)) : json_string(msg);
	/* json_string refuses text that is not UTF-8 */
	json_object_set_new(o, "error", m ? m : json_string("(a message that is not UTF-8)"));
	json_object_set_new(o, "hint", semi && semi[2] ? json_string(semi + 2) : hint_for(rc));
	json_object_set_new(o, "exit_code", json_integer(rc));
	jsonout_print(o);
	fflush(stdout);
}

/* "error: MSG" on stderr, escaped; `shown` gets the escaped text when not NULL */
static void print_line(const char *label, enum cli_color c, const char *msg, struct buf *shown)
{
	struct buf b = BUF_INIT;

	quote_text(&b, msg);
	fprintf(stderr, "%s%s:%s %s\n", cli_ecolor(c), label, cli_ecolor(C_RESET), b.s);
	fflush(stderr);
	if (shown)
		buf_addstr(shown, b.s);
	buf_release(&b);
}

static void print_failure(int rc, const char *msg)
{
	struct buf b = BUF_INIT;

	print_line("error", C_RED, msg, &b);
	if (json_mode)
		print_json_failure(rc, b.s);
	buf_release(&b);
}

static void vfail(int rc, const char *fmt, va_list ap)
{
	struct buf msg = BUF_INIT;

	buf_vaddf(&msg, fmt, ap);
	print_failure(rc, msg.s);
	buf_release(&msg);
}

int cli_fail(int rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfail(rc, fmt, ap);
	va_end(ap);
	return rc;
}

void cli_die(int rc, const char *fmt, ...)
{
	va_list ap;

	if (die_hook)
		die_hook();
	va_start(ap, fmt);
	vfail(rc, fmt, ap);
	va_end(ap);
	exit(rc);
}

/* die() from below the commands: stderr has the text, stdout gets the JSON */
static void on_die(const char *msg)
{
	struct buf b = BUF_INIT;

	if (!json_mode)
		return;
	quote_text(&b, msg);
	print_json_failure(RC_FAILED, b.s);
	buf_release(&b);
}

void cli_init(void)
{
	die_message_hook = on_die;
}

int cli_bad_usage(const char *name, const char *fmt, ...)
{
	const struct command *c = command_find(cmd_table, name);
	va_list ap;

	va_start(ap, fmt);
	vfail(RC_USAGE, fmt, ap);
	va_end(ap);
	if (c)
		fprintf(stderr, "usage: pancake %s (see 'pancake %s --help')\n", c->usage, name);
	return RC_USAGE;
}

void cli_print_error(const char *msg)
{
	print_line("error", C_RED, msg, NULL);
}


/* ---- the engine ---- */

static struct docker *engine;

struct docker *cli_docker(void)
{
	struct buf err = BUF_INIT;
	int down;

	if (engine)
		return engine;
	engine = stack_engine_open(&down, &err);
	if (!engine)
		cli_die(down ? RC_NO_ENGINE : RC_FAILED, "%s", err.s);
	buf_release(&err);
	return engine;
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

void cli_load_stack(struct stack *st, enum heap_profile profile, int verbose)
{
	struct buf err = BUF_INIT;

	if (stack_open(st, NULL, profile, verbose ? cli_print_note : NULL, NULL, &err))
		cli_die(RC_USAGE, "%s", err.s);
	buf_release(&err);
}

void cli_connect_stack(struct stack *st)
{
	st->d = cli_docker();
}

void cli_open_stack(struct stack *st, enum heap_profile profile, int verbose)
{
	cli_load_stack(st, profile, verbose);
	cli_connect_stack(st);
}

int cli_bad_option(const char *name, char **argv)
{
	char q[QUOTE_BUF];

	/* getopt left optind after the word it could not take */
	return cli_bad_usage(name, "unknown option %s, or it lacks its value",
			     quote(q, optind > 0 ? argv[optind - 1] : ""));
}
