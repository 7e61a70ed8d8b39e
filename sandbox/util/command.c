/* command: finding a subcommand in its table, listing the table, one command's help. */
#include "util/command.h"

#include <string.h>

const struct command *command_find(const struct command *table, const char *name)
{
	const struct command *c;

	for (c = table; c->name; c++)
		if (!strcmp(c->name, name))
			return c;
	return NULL;
}

void command_list(const struct command *table, FILE *out)
{
	const struct command *c;

	for (c = table; c->name; c++) {
		const char *nl = strchr(c->summary, '\n');

		fprintf(out, "  %-10s %.*s\n", c->name,
			nl ? (int)(nl - c->summary) : (int)strlen(c->summary), c->summary);
	}
}

void command_usage(const char *prog, const struct command *c)
{
	printf("usage: %s %s\n\n%s\n", prog, c->usage, c->summary);
	if (c->help && *c->help)
		printf("\n%s", c->help);
}

int command_has_word(int argc, char **argv, const char *word, const char *alias)
{
	int i;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--"))
			break;
		if (!strcmp(argv[i], word) || (alias && !strcmp(argv[i], alias)))
			return 1;
	}
	return 0;
}
