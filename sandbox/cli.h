/* cli: what every subcommand shares: the command table, colors, the engine. */
#ifndef PANCAKE_CLI_H
#define PANCAKE_CLI_H

#include <getopt.h>
#include "clients/docker.h"
#include "core/stack.h"
#include "util/buf.h"
#include "util/human.h"

enum cmd_flags {
	CMD_NEEDS_ENGINE = 1 << 0,   /* connects to docker before running */
};

struct cmd {
	const char *name;
	int (*fn)(int argc, char **argv);
	enum cmd_flags flags;
	const char *usage;           /* "up [--wait] [SERVICE...]" */
	const char *summary;
	const char *help;            /* option lines for --help */
};
extern const struct cmd cmd_table[];

int cmd_up(int argc, char **argv);
int cmd_down(int argc, char **argv);
int cmd_ps(int argc, char **argv);
int cmd_logs(int argc, char **argv);
int cmd_doctor(int argc, char **argv);
int cmd_data(int argc, char **argv);
int cmd_exec(int argc, char **argv);
int cmd_images(int argc, char **argv);
int cmd_launcher(int argc, char **argv);
int cmd_help(int argc, char **argv);

/* prints `pancake CMD --help` from the table; returns 0 */
int cli_usage(const char *name);
/* a parse error: prints it with the usage line; returns 2 */
int cli_bad_usage(const char *name, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Colors that degrade to monochrome (NO_COLOR, not a terminal, TERM=dumb). */
enum cli_color { C_RESET, C_BOLD, C_DIM, C_RED, C_GREEN, C_YELLOW, C_BLUE, C_MAGENTA, C_CYAN };
const char *cli_color(enum cli_color c);
/* a stable color per service name for prefixes */
const char *cli_service_color(const char *name);
int cli_tty(void);

/* Connects to the engine or dies with the way out; borrowed, process-wide. */
struct docker *cli_docker(void);
/* loads the stack with a printing note callback (NULL: quiet) */
void cli_open_stack(struct stack *st, enum heap_profile profile, int verbose);
/* prints a note as "  kafka    ready   metadata: 1 broker(s)" */
void cli_print_note(const struct stack_note *n, void *ctx);
void cli_print_error(const char *msg);

#endif
