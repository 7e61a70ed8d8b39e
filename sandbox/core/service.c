/*
 * service: stack member definitions read from services/<name>/service.conf,
 * with the file and line of every mistake.
 */
#include "core/service.h"
#include "util/sha256.h"
#include "util/xalloc.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#define SERVICE_FILE_MAX (64 * 1024)

static const char *const probe_names[] = {
	[PROBE_NONE] = "none", [PROBE_REDIS] = "redis", [PROBE_KAFKA] = "kafka",
	[PROBE_CQL] = "cql", [PROBE_ES] = "elasticsearch", [PROBE_HTTP] = "http",
};

const char *probe_kind_name(enum probe_kind k)
{
	return probe_names[k];
}

int64_t parse_size(const char *s)
{
	char *end;
	unsigned long long v;
	int64_t mul = 1;

	if (!isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -1;
	switch (tolower((unsigned char)*end)) {
	case '\0': case 'b': break;
	case 'k': mul = 1024; end++; break;
	case 'm': mul = 1024 * 1024; end++; break;
	case 'g': mul = 1024LL * 1024 * 1024; end++; break;
	default: return -1;
	}
	/* "1g", "1gb", "1gib" alike; a bare number may end in "b" */
	if (mul > 1 && tolower((unsigned char)*end) == 'i')
		end++;
	if (tolower((unsigned char)*end) == 'b')
		end++;
	if (*end || v > (unsigned long long)(INT64_MAX / mul))
		return -1;
	return (int64_t)v * mul;
}

static int valid_name(const char *s)
{
	if (!*s || !islower((unsigned char)*s))
		return 0;
	for (; *s; s++)
		if (!islower((unsigned char)*s) && !isdigit((unsigned char)*s) && *s != '-')
			return 0;
	return 1;
}

/* a decimal port 1-65535; -1 otherwise. `*end` is set after the digits. */
static int port_num(const char *s, const char **end)
{
	int v = 0, n = 0;

	/* by hand, not sscanf("%d"), which wraps 4294973296 to 6000 */
	while (n < 6 && isdigit((unsigned char)s[n]))
		v = v * 10 + (s[n++] - '0');
	*end = s + n;
	return n && n < 6 && v >= 1 && v <= 65535 ? v : -1;
}

/* "[ip:]host:container" or "container" (published on the same host port) */
static int parse_port(const char *v, struct service_port *p)
{
	char ip[64] = "127.0.0.1";
	const char *first = strchr(v, ':'), *s = v, *end;
	int a, b;

	memset(p, 0, sizeof(*p));
	if (first && strrchr(v, ':') != first) {
		if (first == v || (size_t)(first - v) >= sizeof(ip))
			return -1;
		memcpy(ip, v, (size_t)(first - v));
		ip[first - v] = '\0';
		s = first + 1;
	}
	a = b = port_num(s, &end);
	if (*end == ':')
		b = port_num(end + 1, &end);
	if (a < 0 || b < 0 || *end)
		return -1;
	snprintf(p->host_ip, sizeof(p->host_ip), "%s", ip);
	p->host_port = a;
	p->container_port = b;
	return 0;
}

/* what the JVM's -Xmx takes: digits and one optional k, m or g */
static int jvm_size(const char *v)
{
	size_t n = strspn(v, "0123456789");

	if (v[n] && strchr("kKmMgG", v[n]))
		n++;
	return n && !v[n];
}

void service_release(struct service *s)
{
	int i;

	free(s->name);
	free(s->path);
	free(s->description);
	free(s->image);
	strvec_clear(&s->env);
	strvec_clear(&s->depends);
	strvec_clear(&s->command);
	for (i = 0; i < s->nvolumes; i++) {
		free(s->volumes[i].name);
		free(s->volumes[i].target);
	}
	memset(s, 0, sizeof(*s));
	strvec_init(&s->env);
	strvec_init(&s->depends);
	strvec_init(&s->command);
}

#define BAD(...) do { buf_addf(err, "%s:%d: field '%s': ", path, lineno, key); \
	buf_addf(err, __VA_ARGS__); goto fail; } while (0)

int service_load(struct service *s, const char *name, const char *path, struct buf *err)
{
	struct buf text = BUF_INIT;
	char *line, *next, *key = "";
	int lineno = 0, seen_image = 0, seen_probe = 0, probe_port_line = 0;

	memset(s, 0, sizeof(*s));
	strvec_init(&s->env);
	strvec_init(&s->depends);
	strvec_init(&s->command);
	s->name = xstrdup(name);
	s->path = xstrdup(path);
	s->ready_timeout_s = 120;
	s->stop_timeout_s = 20;
	if (!valid_name(name)) {
		buf_addf(err, "%s: service name '%s' must be lowercase letters, digits and '-'",
			 path, name);
		goto fail;
	}
	if (buf_read_file(&text, path, SERVICE_FILE_MAX)) {
		buf_addf(err, "cannot read service definition '%s': %s", path, strerror(errno));
		goto fail;
	}
	for (line = text.s; line && *line; line = next) {
		char *eq, *val, *hash;
		int profile = PROFILE_DEFAULT;

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		lineno++;
		key = "";
		/* a '#' starts a comment unless it is inside a value after "env" */
		hash = strstr(line, " #");
		if (*str_trim(line) == '#')
			continue;
		if (hash && strncmp(str_trim(line), "env", 3))
			*hash = '\0';
		line = str_trim(line);
		if (!*line)
			continue;
		eq = strchr(line, '=');
		if (!eq) {
			buf_addf(err, "%s:%d: expected 'field = value', got '%s'", path, lineno, line);
			goto fail;
		}
		*eq = '\0';
		key = str_trim(line);
		val = str_trim(eq + 1);
		if (!strcmp(key, "heap.small") || !strcmp(key, "memory.small"))
			profile = PROFILE_SMALL;

		if (!strcmp(key, "description")) {
			free(s->description);
			s->description = xstrdup(val);
		} else if (!strcmp(key, "image")) {
			if (!*val || strchr(val, ' '))
				BAD("'%s' is not an image name (like pancake/kafka)", val);
			free(s->image);
			s->image = xstrdup(val);
			seen_image = 1;
		} else if (!strcmp(key, "port")) {
			if (s->nports == (int)ARRAY_SIZE(s->ports))
				BAD("at most %zu ports", ARRAY_SIZE(s->ports));
			if (parse_port(val, &s->ports[s->nports]))
				BAD("'%s' is not a port: use CONTAINER, HOST:CONTAINER or IP:HOST:CONTAINER "
				    "with ports 1-65535", val);
			s->nports++;
		} else if (!strcmp(key, "env")) {
			if (!strchr(val, '=') || *val == '=')
				BAD("'%s' is not NAME=VALUE", val);
			strvec_push(&s->env, val);
		} else if (!strcmp(key, "heap") || !strcmp(key, "heap.small")) {
			if (!jvm_size(val) || parse_size(val) < 16 * 1024 * 1024 ||
			    strlen(val) >= sizeof(s->heap[0]))
				BAD("'%s' is not a heap size like 512m or 1g (16m at least)", val);
			snprintf(s->heap[profile], sizeof(s->heap[0]), "%s", val);
		} else if (!strcmp(key, "memory") || !strcmp(key, "memory.small")) {
			int64_t m = parse_size(val);
			if (m < 32 * 1024 * 1024)
				BAD("'%s' is not a memory limit like 1g or 768m (32m at least)", val);
			s->memory[profile] = m;
		} else if (!strcmp(key, "volume")) {
			char *colon = strchr(val, ':');
			if (s->nvolumes == (int)ARRAY_SIZE(s->volumes))
				BAD("at most %zu volumes", ARRAY_SIZE(s->volumes));
			if (!colon || colon == val || colon[1] != '/')
				BAD("'%s' is not NAME:/absolute/path", val);
			*colon = '\0';
			if (!valid_name(val))
				BAD("volume name '%s' must be lowercase letters, digits and '-'", val);
			s->volumes[s->nvolumes].name = xstrdup(val);
			s->volumes[s->nvolumes].target = xstrdup(colon + 1);
			s->nvolumes++;
		} else if (!strcmp(key, "command")) {
			/* words split on blanks, no quoting: what the container runs */
			char *tok, *save = NULL;
			strvec_clear(&s->command);
			for (tok = strtok_r(val, " \t", &save); tok; tok = strtok_r(NULL, " \t", &save))
				strvec_push(&s->command, tok);
			if (!s->command.n)
				BAD("is empty: leave it out to run the image's own command");
		} else if (!strcmp(key, "depends")) {
			char *tok, *save = NULL;
			for (tok = strtok_r(val, " ,", &save); tok; tok = strtok_r(NULL, " ,", &save))
				strvec_push(&s->depends, tok);
		} else if (!strcmp(key, "probe")) {
			size_t k;
			s->probe = PROBE_NONE;
			for (k = 1; k < ARRAY_SIZE(probe_names); k++)
				if (!strcmp(val, probe_names[k]))
					s->probe = (enum probe_kind)k;
			if (!s->probe)
				BAD("unknown probe '%s': use redis, kafka, cql, elasticsearch or http", val);
			seen_probe = 1;
		} else if (!strcmp(key, "probe.port")) {
			const char *end;
			s->probe_port = port_num(val, &end);
			if (s->probe_port < 0 || *end)
				BAD("'%s' is not a port", val);
			probe_port_line = lineno;
		} else if (!strcmp(key, "probe.path")) {
			if (*val != '/' || strlen(val) >= sizeof(s->probe_path))
				BAD("'%s' is not a path starting with '/'", val);
			snprintf(s->probe_path, sizeof(s->probe_path), "%s", val);
		} else if (!strcmp(key, "ready_timeout") || !strcmp(key, "stop_timeout")) {
			char *end;
			long t = strtol(val, &end, 10);
			if (*end == 's')
				end++;
			if (*end || t < 1 || t > 3600)
				BAD("'%s' is not a number of seconds (1-3600)", val);
			if (key[0] == 'r')
				s->ready_timeout_s = (int)t;
			else
				s->stop_timeout_s = (int)t;
		} else {
			BAD("unknown field: known are description, image, port, env, heap, "
			    "heap.small, memory, memory.small, volume, depends, probe, "
			    "probe.port, probe.path, ready_timeout, stop_timeout");
		}
	}
	key = "image";
	lineno = 0;
	if (!seen_image) {
		buf_addf(err, "%s: field 'image' is missing", path);
		goto fail;
	}
	if (!seen_probe) {
		buf_addf(err, "%s: field 'probe' is missing (how pancake knows the service is ready)", path);
		goto fail;
	}
	if (!s->nports) {
		buf_addf(err, "%s: field 'port' is missing (the probe needs a published port)", path);
		goto fail;
	}
	if (!s->probe_port)
		s->probe_port = s->ports[0].container_port;
	if (!service_host_port(s, s->probe_port)) {
		buf_addf(err, "%s:%d: field 'probe.port': container port %d is not published by a 'port' line",
			 path, probe_port_line, s->probe_port);
		goto fail;
	}
	if (s->heap[PROFILE_SMALL][0] == '\0')
		memcpy(s->heap[PROFILE_SMALL], s->heap[PROFILE_DEFAULT], sizeof(s->heap[0]));
	if (!s->memory[PROFILE_SMALL])
		s->memory[PROFILE_SMALL] = s->memory[PROFILE_DEFAULT];
	buf_release(&text);
	return 0;
fail:
	buf_release(&text);
	service_release(s);
	return -1;
}
#undef BAD

int service_host_port(const struct service *s, int container_port)
{
	int i;

	for (i = 0; i < s->nports; i++)
		if (s->ports[i].container_port == container_port)
			return s->ports[i].host_port;
	return 0;
}

int service_apply_env(struct service *s, struct buf *err)
{
	const char *bind = getenv("PANCAKE_BIND");
	int i;

	for (i = 0; i < s->nports; i++) {
		struct buf var = BUF_INIT;
		const char *v, *p;
		struct service_port np;

		if (bind && *bind)
			snprintf(s->ports[i].host_ip, sizeof(s->ports[i].host_ip), "%s", bind);
		buf_addstr(&var, "PANCAKE_");
		for (p = s->name; *p; p++)
			buf_addch(&var, *p == '-' ? '_' : toupper((unsigned char)*p));
		buf_addf(&var, "_PORT_%d", s->ports[i].container_port);
		v = getenv(var.s);
		if (v && *v) {
			char *spec = strchr(v, ':') ? xstrfmt("%s:%d", v, s->ports[i].container_port)
						    : xstrfmt("%s:%s:%d", s->ports[i].host_ip, v,
							      s->ports[i].container_port);
			if (parse_port(spec, &np)) {
				buf_addf(err, "environment %s='%s' is not a port: use PORT or IP:PORT", var.s, v);
				free(spec);
				buf_release(&var);
				return -1;
			}
			s->ports[i] = np;
			free(spec);
		}
		buf_release(&var);
	}
	return 0;
}

void service_config_hash(const struct service *s, enum heap_profile p,
			 const char *image_id, char out[65])
{
	struct sha256 c;
	struct buf b = BUF_INIT;
	size_t i;
	int k;

	buf_addf(&b, "name=%s\nimage=%s\nimage_id=%s\nheap=%s\nmemory=%lld\n", s->name,
		 s->image, image_id ? image_id : "", s->heap[p], (long long)s->memory[p]);
	for (k = 0; k < s->nports; k++)
		buf_addf(&b, "port=%s:%d:%d\n", s->ports[k].host_ip, s->ports[k].host_port,
			 s->ports[k].container_port);
	for (i = 0; i < s->env.n; i++)
		buf_addf(&b, "env=%s\n", s->env.v[i]);
	for (k = 0; k < s->nvolumes; k++)
		buf_addf(&b, "volume=%s:%s\n", s->volumes[k].name, s->volumes[k].target);
	for (i = 0; i < s->command.n; i++)
		buf_addf(&b, "command=%s\n", s->command.v[i]);
	sha256_init(&c);
	sha256_update(&c, b.s, b.len);
	sha256_hex(&c, out);
	buf_release(&b);
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int visit(struct service *all, int n, int i, int *mark, const char *dir,
		 struct buf *err)
{
	size_t d;

	if (mark[i] == 2)
		return 0;
	if (mark[i] == 1) {
		buf_addf(err, "%s: field 'depends': dependency cycle through '%s'",
			 all[i].path, all[i].name);
		return -1;
	}
	mark[i] = 1;
	for (d = 0; d < all[i].depends.n; d++) {
		int j;
		for (j = 0; j < n; j++)
			if (!strcmp(all[j].name, all[i].depends.v[d]))
				break;
		if (j == n) {
			buf_addf(err, "%s: field 'depends': no service named '%s' in '%s'",
				 all[i].path, all[i].depends.v[d], dir);
			return -1;
		}
		if (visit(all, n, j, mark, dir, err))
			return -1;
	}
	mark[i] = 2;
	return 0;
}

int service_load_dir(struct service *out, const char *dir, struct buf *err)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char *names[64];
	int n = 0, count = 0, i, mark[SERVICE_MAX] = { 0 };

	if (!d) {
		buf_addf(err, "cannot read service definitions in '%s': %s; run pancake from its "
			 "source tree or set PANCAKE_HOME", dir, strerror(errno));
		return -1;
	}
	while ((de = readdir(d)) && n < (int)ARRAY_SIZE(names)) {
		char *conf;
		struct stat st;
		if (de->d_name[0] == '.')
			continue;
		conf = xstrfmt("%s/%s/service.conf", dir, de->d_name);
		if (!stat(conf, &st))
			names[n++] = xstrdup(de->d_name);
		free(conf);
	}
	closedir(d);
	qsort(names, (size_t)n, sizeof(*names), cmp_names);
	if (n > SERVICE_MAX) {
		buf_addf(err, "'%s' defines %d services; pancake handles at most %d", dir, n, SERVICE_MAX);
		goto fail;
	}
	for (i = 0; i < n; i++) {
		char *conf = xstrfmt("%s/%s/service.conf", dir, names[i]);
		int r = service_load(&out[count], names[i], conf, err);
		free(conf);
		if (r)
			goto fail;
		count++;
		if (service_apply_env(&out[count - 1], err))
			goto fail;
	}
	for (i = 0; i < count; i++)
		if (visit(out, count, i, mark, dir, err))
			goto fail;
	for (i = 0; i < n; i++)
		free(names[i]);
	return count;
fail:
	for (i = 0; i < count; i++)
		service_release(&out[i]);
	for (i = 0; i < n; i++)
		free(names[i]);
	return -1;
}
