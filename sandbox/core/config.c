/* config: where pancake's files are (its home, its cache) and its project name. */
#include "core/config.h"
#include "util/xalloc.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char *home, *cache, *models, *registry, *state;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static int has_services(const char *dir)
{
	char *p = xstrfmt("%s/services", dir);
	struct stat st;
	int r = !stat(p, &st) && S_ISDIR(st.st_mode);

	free(p);
	return r;
}

static void resolve(void)
{
	const char *e = getenv("PANCAKE_HOME");
	char exe[PATH_MAX];
	ssize_t n;

	if (e && *e) {
		home = xstrdup(e);
	} else {
		n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
		if (n > 0) {
			char *slash;
			exe[n] = '\0';
			/* the launcher lives at the top of the tree; test binaries deeper */
			while ((slash = strrchr(exe, '/')) && slash != exe) {
				*slash = '\0';
				if (has_services(exe)) {
					home = xstrdup(exe);
					break;
				}
			}
		}
		if (!home)
			home = xstrdup(".");
	}
	e = getenv("PANCAKE_MODELS");
	models = e && *e ? xstrdup(e) : xstrfmt("%s/models", home);
	registry = xstrfmt("%s/registry", models);
	e = getenv("PANCAKE_CACHE");
	if (e && *e)
		cache = xstrdup(e);
	else if (geteuid() == 0)
		cache = xstrdup("/var/cache/pancake");
	else
		cache = xstrfmt("%s/.cache/pancake", getenv("HOME") ? getenv("HOME") : "/tmp");
	e = getenv("PANCAKE_STATE");
	if (e && *e)
		state = xstrdup(e);
	else if ((e = getenv("XDG_STATE_HOME")) && *e)
		state = xstrfmt("%s/pancake", e);
	else
		state = xstrfmt("%s/.local/state/pancake", getenv("HOME") ? getenv("HOME") : "/tmp");
}

const char *config_home(void)
{
	pthread_once(&once, resolve);
	return home;
}

const char *config_cache(void)
{
	pthread_once(&once, resolve);
	return cache;
}

const char *config_models(void)
{
	pthread_once(&once, resolve);
	return models;
}

const char *config_registry(void)
{
	pthread_once(&once, resolve);
	return registry;
}

const char *config_state(void)
{
	pthread_once(&once, resolve);
	return state;
}

const char *config_project(void)
{
	const char *p = getenv("PANCAKE_PROJECT");
	return p && *p ? p : "pancake";
}

int config_mkdirs(const char *path)
{
	char *p = xstrdup(path), *s;

	for (s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0755) && errno != EEXIST) {
			free(p);
			return -1;
		}
		*s = '/';
	}
	if (mkdir(p, 0755) && errno != EEXIST) {
		free(p);
		return -1;
	}
	free(p);
	return 0;
}
