/* command: a program's subcommand table, its lookup and its help text (pancake, the recommender). */
#ifndef PANCAKE_COMMAND_H
#define PANCAKE_COMMAND_H

#include <stdio.h>

/*
 * One subcommand. A table is an array of these ended by an entry whose
 * name is NULL; every string is static.
 */
struct command {
	const char *name;
	int (*fn)(int argc, char **argv);	/* argv[0] is the command's name */
	unsigned flags;			/* the program's own (pancake: enum cmd_flags) */
	const char *usage;		/* "up [--wait] [SERVICE...]" */
	const char *summary;		/* its first line is the one the listing shows */
	const char *help;		/* option lines for --help, or "" */
};

/* the entry of `table` named `name`; borrowed (from the table), or NULL */
const struct command *command_find(const struct command *table, const char *name);
/* one line a command on `out`: "  NAME       first line of its summary" */
void command_list(const struct command *table, FILE *out);
/* a command's help on stdout: "usage: PROG USAGE", the summary, the option lines */
void command_usage(const char *prog, const struct command *c);
/*
 * 1 when one of argv[1..argc-1] before a "--" is `word` or `alias`
 * (NULL: none), else 0: "--help" and "-h", or "--json", anywhere among a
 * command's arguments.
 */
int command_has_word(int argc, char **argv, const char *word, const char *alias);

#endif
