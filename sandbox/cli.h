/* cli: what every subcommand shares: the command table, colors, the engine. */
#ifndef PANCAKE_CLI_H
#define PANCAKE_CLI_H

#include <getopt.h>
#include "core/stack.h"
#include "util/buf.h"
#include "util/command.h"
#include "util/exitcode.h"
#include "util/human.h"
#include "util/quote.h"

enum cmd_flags {
	CMD_NEEDS_ENGINE = 1 << 0,   /* talks to docker (it connects once its
					arguments and the definitions are checked) */
	CMD_JSON = 1 << 1,           /* has --json: failures are JSON on stdout too */
};

/* pancake's commands (main.c); flags are enum cmd_flags */
extern const struct command cmd_table[];

int cmd_up(int argc, char **argv);
int cmd_down(int argc, char **argv);
int cmd_ps(int argc, char **argv);
int cmd_logs(int argc, char **argv);
int cmd_doctor(int argc, char **argv);
int cmd_data(int argc, char **argv);
int cmd_exec(int argc, char **argv);
int cmd_images(int argc, char **argv);
int cmd_launcher(int argc, char **argv);
int cmd_models(int argc, char **argv);
int cmd_lab(int argc, char **argv);
int cmd_serving(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_class(int argc, char **argv);
int cmd_help(int argc, char **argv);

/* prints `pancake CMD --help` from the table; RC_OK, or RC_USAGE for no such command */
int cli_usage(const char *name);
/* a parse error: prints it with the usage line; returns RC_USAGE */
int cli_bad_usage(const char *name, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* getopt_long returned '?': names the word it refused (set opterr = 0 first) */
int cli_bad_option(const char *name, char **argv);

/*
 * Failures. Text goes to stderr as "error: MSG"; in --json mode stdout
 * also carries {"error": MSG, "hint": HINT, "exit_code": RC}, where HINT
 * is the way out (the part of MSG after its first "; ", or what the exit
 * code says to do). Messages echo user input through quote() (quote.h).
 */
/* before anything else: die() then prints JSON too in --json mode */
void cli_init(void);
/* --json was given: failures are JSON on stdout as well */
void cli_set_json(int on);
/* the command being run, for the hints ("ps") */
void cli_set_command(const char *name);
/* prints a failure and returns `rc` (for `return cli_fail(...)`) */
int cli_fail(int rc, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* prints a failure and exits with `rc` */
__attribute__((noreturn, format(printf, 2, 3)))
void cli_die(int rc, const char *fmt, ...);
/* a message on stderr only (a failure of one part that the output also reports) */
void cli_print_error(const char *msg);

/*
 * Colors that degrade to monochrome, decided per stream: a stream that is
 * not a terminal, a non-empty NO_COLOR, or TERM=dumb turn them off.
 */
enum cli_color { C_RESET, C_BOLD, C_DIM, C_RED, C_GREEN, C_YELLOW, C_BLUE, C_MAGENTA, C_CYAN };
/* for stdout */
const char *cli_color(enum cli_color c);
/* for stderr */
const char *cli_ecolor(enum cli_color c);
/* a stable color per service name for prefixes (stdout) */
const char *cli_service_color(const char *name);
/* stdout is a terminal */
int cli_tty(void);

/*
 * Connects to the engine, or exits with RC_NO_ENGINE and the way out;
 * borrowed, process-wide. Call it only once the arguments are checked.
 */
struct docker *cli_docker(void);
/*
 * Loads the definitions, no engine asked: a malformed one exits with
 * RC_USAGE. Prints notes when `verbose`. Release with stack_close.
 */
void cli_load_stack(struct stack *st, enum heap_profile profile, int verbose);
/* then connects it to the engine (or exits with RC_NO_ENGINE) */
void cli_connect_stack(struct stack *st);
/* both */
void cli_open_stack(struct stack *st, enum heap_profile profile, int verbose);
/* prints a note as "  kafka    ready   metadata: 1 broker(s)" */
void cli_print_note(const struct stack_note *n, void *ctx);

#endif
