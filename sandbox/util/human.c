/* human: numbers for people: "1.2 GiB", "3m 12s", "3.2M". */
#include "util/human.h"

#include <stdio.h>

void human_bytes(char *out, size_t size, double b)
{
	if (b >= 1024.0 * 1024 * 1024)
		snprintf(out, size, "%.1f GiB", b / (1024.0 * 1024 * 1024));
	else if (b >= 1024.0 * 1024)
		snprintf(out, size, "%.0f MiB", b / (1024.0 * 1024));
	else
		snprintf(out, size, "%.0f KiB", b / 1024.0);
}

void human_duration(char *out, size_t size, long long s)
{
	if (s < 0)
		s = 0;
	if (s < 60)
		snprintf(out, size, "%llds", s);
	else if (s < 3600)
		snprintf(out, size, "%lldm %02llds", s / 60, s % 60);
	else if (s < 86400)
		snprintf(out, size, "%lldh %02lldm", s / 3600, s % 3600 / 60);
	else
		snprintf(out, size, "%lldd %02lldh", s / 86400, s % 86400 / 3600);
}

void human_count(char *out, size_t size, double n)
{
	if (n >= 1e9)
		snprintf(out, size, "%.1fG", n / 1e9);
	else if (n >= 1e6)
		snprintf(out, size, "%.1fM", n / 1e6);
	else if (n >= 1e4)
		snprintf(out, size, "%.0fk", n / 1e3);
	else
		snprintf(out, size, "%.0f", n);
}
