/*
 * servingloc: the stack's serving from its definition, host servings from
 * their announcements (one file per process, "key=value" lines, under the
 * state folder), so the launcher and `pancake serving` find them all.
 */
#include "core/servingloc.h"
#include "core/config.h"
#include "core/service.h"
#include "util/xalloc.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SERVING_PORT 8080	/* the container's own port (services/serving/service.conf) */

char *servingloc_dir(void)
{
	return xstrfmt("%s/serving", config_state());
}

static char *announce_path(pid_t pid)
{
	char *dir = servingloc_dir(), *p = xstrfmt("%s/%ld", dir, (long)pid);

	free(dir);
	return p;
}

int servingloc_announce(const char *bind, int port, struct buf *err)
{
	char *dir = servingloc_dir(), *path = announce_path(getpid());
	char *tmp = xstrfmt("%s.tmp", path);
	const char *project = getenv("PANCAKE_PROJECT");
	FILE *f = NULL;
	int ret = -1;

	if (config_mkdirs(dir)) {
		buf_addf(err, "cannot create '%s': %s (PANCAKE_STATE names another state folder)",
			 dir, strerror(errno));
		goto out;
	}
	f = fopen(tmp, "w");
	if (!f || fprintf(f, "pid=%ld\nbind=%s\nport=%d\nproject=%s\n", (long)getpid(), bind,
			  port, project ? project : "") < 0 || fclose(f)) {
		buf_addf(err, "cannot write '%s': %s", tmp, strerror(errno));
		if (f)
			unlink(tmp);
		goto out;
	}
	if (rename(tmp, path)) {
		buf_addf(err, "cannot rename '%s': %s", tmp, strerror(errno));
		unlink(tmp);
		goto out;
	}
	ret = 0;
out:
	free(tmp);
	free(path);
	free(dir);
	return ret;
}

void servingloc_withdraw(void)
{
	char *path = announce_path(getpid());

	unlink(path);
	free(path);
}

/* the stack's serving: where its definition publishes port 8080 (never fails: 8080 at worst) */
static void container_loc(struct servingloc *l)
{
	char *path = xstrfmt("%s/services/serving/service.conf", config_home());
	struct buf err = BUF_INIT;
	struct service s;
	int hp, i;

	memset(l, 0, sizeof(*l));
	l->kind = SERVINGLOC_CONTAINER;
	snprintf(l->host, sizeof(l->host), "127.0.0.1");
	l->port = SERVING_PORT;
	memset(&s, 0, sizeof(s));
	if (!service_load(&s, "serving", path, &err) && !service_apply_env(&s, &err) &&
	    (hp = service_host_port(&s, SERVING_PORT)) > 0) {
		l->port = hp;
		for (i = 0; i < s.nports; i++)
			if (s.ports[i].host_port == hp && s.ports[i].host_ip[0] &&
			    strcmp(s.ports[i].host_ip, "0.0.0.0"))
				snprintf(l->host, sizeof(l->host), "%s", s.ports[i].host_ip);
	}
	snprintf(l->project, sizeof(l->project), "%s", config_project());
	snprintf(l->label, sizeof(l->label), "container %s", l->project);
	service_release(&s);
	buf_release(&err);
	free(path);
}

/* the process is alive and is a serving (its pid not taken by another program since) */
static int alive(pid_t pid)
{
	char *p, *slash;
	struct buf cmd = BUF_INIT;
	int ok;

	if (kill(pid, 0) && errno == ESRCH)
		return 0;
	p = xstrfmt("/proc/%ld/cmdline", (long)pid);
	if (buf_read_file(&cmd, p, 4096)) {
		ok = errno != ENOENT;	/* no /proc to ask: the pid stands */
	} else {
		/* argv[0], up to its NUL */
		slash = strrchr(cmd.s, '/');
		ok = strstr(slash ? slash + 1 : cmd.s, "serving") != NULL;
	}
	buf_release(&cmd);
	free(p);
	return ok;
}

/* an announcement: 0 with `l` filled, -1 when it is not one */
static int read_announce(const char *path, struct servingloc *l)
{
	struct buf b = BUF_INIT;
	char *line, *save = NULL;
	int got = 0;

	memset(l, 0, sizeof(*l));
	l->kind = SERVINGLOC_HOST;
	if (buf_read_file(&b, path, 4096))
		return -1;
	for (line = strtok_r(b.s, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *eq = strchr(line, '=');
		if (!eq)
			continue;
		*eq++ = '\0';
		if (!strcmp(line, "pid")) {
			l->pid = (pid_t)atol(eq);
			got |= 1;
		} else if (!strcmp(line, "bind")) {
			snprintf(l->host, sizeof(l->host), "%s", strcmp(eq, "0.0.0.0") ? eq : "127.0.0.1");
			got |= 2;
		} else if (!strcmp(line, "port")) {
			l->port = atoi(eq);
			got |= 4;
		} else if (!strcmp(line, "project")) {
			snprintf(l->project, sizeof(l->project), "%s", eq);
		}
	}
	buf_release(&b);
	if (got != 7 || l->pid <= 0 || l->port < 1 || l->port > 65535)
		return -1;
	snprintf(l->label, sizeof(l->label), "host pid %ld", (long)l->pid);
	return 0;
}

struct found {
	struct servingloc l;
	time_t mtime;
};

static int by_age(const void *a, const void *b)
{
	const struct found *x = a, *y = b;

	if (x->mtime != y->mtime)
		return x->mtime < y->mtime ? -1 : 1;
	return x->l.pid < y->l.pid ? -1 : x->l.pid > y->l.pid;
}

int servingloc_list(struct servingloc *out, int max)
{
	char *dir = servingloc_dir();
	struct found *f = NULL;
	size_t nf = 0, alloc = 0;
	struct dirent *e;
	DIR *d;
	int n = 0;

	if (max <= 0)
		goto out;
	container_loc(&out[n++]);
	d = opendir(dir);
	while (d && (e = readdir(d))) {
		struct servingloc l;
		struct stat st;
		char *path;
		char *end;

		strtol(e->d_name, &end, 10);
		if (e->d_name[0] < '1' || e->d_name[0] > '9' || *end)
			continue;	/* not PID: a .tmp being written, or something else */
		path = xstrfmt("%s/%s", dir, e->d_name);
		if (stat(path, &st) || read_announce(path, &l) || atol(e->d_name) != (long)l.pid) {
			free(path);
			continue;
		}
		if (!alive(l.pid)) {
			unlink(path);	/* stale: it was killed before it could withdraw */
			free(path);
			continue;
		}
		free(path);
		if (nf == alloc) {
			alloc = alloc ? 2 * alloc : 8;
			f = xrealloc(f, alloc * sizeof(*f));
		}
		f[nf].l = l;
		f[nf].mtime = st.st_mtime;
		nf++;
	}
	if (d)
		closedir(d);
	if (nf)
		qsort(f, nf, sizeof(*f), by_age);
	for (size_t i = 0; i < nf && n < max; i++)
		out[n++] = f[i].l;
out:
	free(f);
	free(dir);
	return n;
}

void servingloc_addr(const struct servingloc *l, char *out, size_t size)
{
	snprintf(out, size, "%s:%d", l->host, l->port);
}
