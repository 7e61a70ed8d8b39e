/*
 * service: stack member definitions read from services/<name>/service.conf,
 * with the file and line of every mistake.
 */
#include "core/service.h"
#include "util/quote.h"
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
	strvec_clear(&s->swarm_command);
	for (i = 0; i < s->nvolumes; i++) {
		free(s->volumes[i].name);
		free(s->volumes[i].target);
	}
	memset(s, 0, sizeof(*s));
	strvec_init(&s->env);
	strvec_init(&s->depends);
	strvec_init(&s->command);
	strvec_init(&s->swarm_command);
}

/*
 * ---- the fields ----
 * One table: a field's name, whether it may repeat, and its parser. A
 * parser gets the trimmed value (writable) and says what is wrong in
 * `why`; the loop adds "FILE:LINE: field 'NAME': " and refuses a field
 * that may not repeat with both of its lines.
 */
struct field_ctx {
	struct service *s;
	int profile;		/* PROFILE_SMALL for the ".small" fields */
	int line;
	char q[QUOTE_BUF];	/* for quoting the value */
};

typedef int (*field_fn)(struct field_ctx *f, char *val, struct buf *why);

static int f_description(struct field_ctx *f, char *val, struct buf *why)
{
	(void)why;
	free(f->s->description);
	f->s->description = xstrdup(val);
	return 0;
}

static int f_image(struct field_ctx *f, char *val, struct buf *why)
{
	if (!*val || strpbrk(val, " \t")) {
		buf_addf(why, "%s is not an image name (like pancake/kafka)", quote(f->q, val));
		return -1;
	}
	free(f->s->image);
	f->s->image = xstrdup(val);
	return 0;
}

static int f_port(struct field_ctx *f, char *val, struct buf *why)
{
	struct service *s = f->s;

	if (s->nports == (int)ARRAY_SIZE(s->ports)) {
		buf_addf(why, "at most %zu ports", ARRAY_SIZE(s->ports));
		return -1;
	}
	if (parse_port(val, &s->ports[s->nports])) {
		buf_addf(why, "%s is not a port: use CONTAINER, HOST:CONTAINER or IP:HOST:CONTAINER "
			 "with ports 1-65535", quote(f->q, val));
		return -1;
	}
	s->ports[s->nports++].line = f->line;
	return 0;
}

static int f_env(struct field_ctx *f, char *val, struct buf *why)
{
	if (!strchr(val, '=') || *val == '=') {
		buf_addf(why, "%s is not NAME=VALUE", quote(f->q, val));
		return -1;
	}
	strvec_push(&f->s->env, val);
	return 0;
}

static int f_heap(struct field_ctx *f, char *val, struct buf *why)
{
	if (!jvm_size(val) || parse_size(val) < 16 * 1024 * 1024 ||
	    strlen(val) >= sizeof(f->s->heap[0])) {
		buf_addf(why, "%s is not a heap size like 512m or 1g (16m at least)", quote(f->q, val));
		return -1;
	}
	snprintf(f->s->heap[f->profile], sizeof(f->s->heap[0]), "%s", val);
	return 0;
}

static int f_memory(struct field_ctx *f, char *val, struct buf *why)
{
	int64_t m = parse_size(val);

	if (m < 32 * 1024 * 1024) {
		buf_addf(why, "%s is not a memory limit like 1g or 768m (32m at least)",
			 quote(f->q, val));
		return -1;
	}
	f->s->memory[f->profile] = m;
	return 0;
}

static int f_volume(struct field_ctx *f, char *val, struct buf *why)
{
	struct service *s = f->s;
	char *colon = strchr(val, ':');

	if (s->nvolumes == (int)ARRAY_SIZE(s->volumes)) {
		buf_addf(why, "at most %zu volumes", ARRAY_SIZE(s->volumes));
		return -1;
	}
	if (!colon || colon == val || colon[1] != '/') {
		buf_addf(why, "%s is not NAME:/absolute/path", quote(f->q, val));
		return -1;
	}
	*colon = '\0';
	if (!valid_name(val)) {
		buf_addf(why, "volume name %s must be lowercase letters, digits and '-'",
			 quote(f->q, val));
		return -1;
	}
	s->volumes[s->nvolumes].name = xstrdup(val);
	s->volumes[s->nvolumes].target = xstrdup(colon + 1);
	s->nvolumes++;
	return 0;
}

/* words split on blanks, no quoting: what the container runs; `empty` says why not none */
static int words(struct strvec *out, char *val, const char *empty, struct buf *why)
{
	char *tok, *save = NULL;

	strvec_clear(out);
	for (tok = strtok_r(val, " \t", &save); tok; tok = strtok_r(NULL, " \t", &save))
		strvec_push(out, tok);
	if (!out->n) {
		buf_addstr(why, empty);
		return -1;
	}
	return 0;
}

static int f_command(struct field_ctx *f, char *val, struct buf *why)
{
	return words(&f->s->command, val, "is empty: leave it out to run the image's own command",
		     why);
}

static int f_depends(struct field_ctx *f, char *val, struct buf *why)
{
	char *tok, *save = NULL;

	for (tok = strtok_r(val, " ,", &save); tok; tok = strtok_r(NULL, " ,", &save)) {
		if (!valid_name(tok)) {
			buf_addf(why, "%s is not a service name", quote(f->q, tok));
			return -1;
		}
		strvec_push(&f->s->depends, tok);
	}
	f->s->depends_line = f->line;
	return 0;
}

static int f_probe(struct field_ctx *f, char *val, struct buf *why)
{
	size_t k;

	f->s->probe = PROBE_NONE;
	for (k = 1; k < ARRAY_SIZE(probe_names); k++)
		if (!strcmp(val, probe_names[k]))
			f->s->probe = (enum probe_kind)k;
	if (!f->s->probe) {
		buf_addf(why, "unknown probe %s: use redis, kafka, cql, elasticsearch or http",
			 quote(f->q, val));
		return -1;
	}
	return 0;
}

static int f_probe_port(struct field_ctx *f, char *val, struct buf *why)
{
	const char *end;

	f->s->probe_port = port_num(val, &end);
	if (f->s->probe_port < 0 || *end) {
		buf_addf(why, "%s is not a port", quote(f->q, val));
		return -1;
	}
	return 0;
}

static int f_probe_path(struct field_ctx *f, char *val, struct buf *why)
{
	if (*val != '/' || strlen(val) >= sizeof(f->s->probe_path)) {
		buf_addf(why, "%s is not a path starting with '/' (at most %zu bytes)",
			 quote(f->q, val), sizeof(f->s->probe_path) - 1);
		return -1;
	}
	snprintf(f->s->probe_path, sizeof(f->s->probe_path), "%s", val);
	return 0;
}

static int seconds(struct field_ctx *f, char *val, int *out, struct buf *why)
{
	char *end;
	long t = strtol(val, &end, 10);

	if (*end == 's')
		end++;
	if (*end || end == val || t < 1 || t > 3600) {
		buf_addf(why, "%s is not a number of seconds (1-3600)", quote(f->q, val));
		return -1;
	}
	*out = (int)t;
	return 0;
}

static int f_ready_timeout(struct field_ctx *f, char *val, struct buf *why)
{
	return seconds(f, val, &f->s->ready_timeout_s, why);
}

static int f_stop_timeout(struct field_ctx *f, char *val, struct buf *why)
{
	return seconds(f, val, &f->s->stop_timeout_s, why);
}

static int f_swarm_command(struct field_ctx *f, char *val, struct buf *why)
{
	return words(&f->s->swarm_command, val,
		     "is empty: leave it out to run 'command' on a swarm too", why);
}

static int f_swarm_only(struct field_ctx *f, char *val, struct buf *why)
{
	if (strcmp(val, "yes") && strcmp(val, "no")) {
		buf_addf(why, "%s is not yes or no", quote(f->q, val));
		return -1;
	}
	f->s->swarm_only = !strcmp(val, "yes");
	return 0;
}

static int f_swarm_replicas(struct field_ctx *f, char *val, struct buf *why)
{
	char *end;
	long n = strtol(val, &end, 10);

	if (*end || end == val || n < 1 || n > 64) {
		buf_addf(why, "%s is not a task count (1-64)", quote(f->q, val));
		return -1;
	}
	f->s->swarm_replicas = (int)n;
	return 0;
}

static int f_swarm_apart(struct field_ctx *f, char *val, struct buf *why)
{
	if (!valid_name(val) || strlen(val) >= sizeof(f->s->swarm_apart)) {
		buf_addf(why, "%s is not a service name", quote(f->q, val));
		return -1;
	}
	snprintf(f->s->swarm_apart, sizeof(f->s->swarm_apart), "%s", val);
	return 0;
}

static const struct field {
	const char *name;
	int repeat;		/* may appear on several lines */
	int profile;
	field_fn parse;
} fields[] = {
	{ "description", 0, PROFILE_DEFAULT, f_description },
	{ "image", 0, PROFILE_DEFAULT, f_image },
	{ "port", 1, PROFILE_DEFAULT, f_port },
	{ "env", 1, PROFILE_DEFAULT, f_env },
	{ "command", 0, PROFILE_DEFAULT, f_command },
	{ "heap", 0, PROFILE_DEFAULT, f_heap },
	{ "heap.small", 0, PROFILE_SMALL, f_heap },
	{ "memory", 0, PROFILE_DEFAULT, f_memory },
	{ "memory.small", 0, PROFILE_SMALL, f_memory },
	{ "volume", 1, PROFILE_DEFAULT, f_volume },
	{ "depends", 0, PROFILE_DEFAULT, f_depends },
	{ "probe", 0, PROFILE_DEFAULT, f_probe },
	{ "probe.port", 0, PROFILE_DEFAULT, f_probe_port },
	{ "probe.path", 0, PROFILE_DEFAULT, f_probe_path },
	{ "ready_timeout", 0, PROFILE_DEFAULT, f_ready_timeout },
	{ "stop_timeout", 0, PROFILE_DEFAULT, f_stop_timeout },
	{ "swarm.only", 0, PROFILE_DEFAULT, f_swarm_only },
	{ "swarm.command", 0, PROFILE_DEFAULT, f_swarm_command },
	{ "swarm.replicas", 0, PROFILE_DEFAULT, f_swarm_replicas },
	{ "swarm.apart", 0, PROFILE_DEFAULT, f_swarm_apart },
};
#define NFIELDS ARRAY_SIZE(fields)

static const struct field *field_find(const char *name)
{
	size_t i;

	for (i = 0; i < NFIELDS; i++)
		if (!strcmp(fields[i].name, name))
			return &fields[i];
	return NULL;
}

static void known_fields(struct buf *b)
{
	size_t i;

	buf_addstr(b, "known are ");
	for (i = 0; i < NFIELDS; i++)
		buf_addf(b, "%s%s", i ? ", " : "", fields[i].name);
}

int service_load(struct service *s, const char *name, const char *path, struct buf *err)
{
	struct buf text = BUF_INIT, why = BUF_INIT;
	int seen[NFIELDS] = { 0 };	/* the line a field was first given on */
	struct field_ctx f;
	char *line, *next, *nul, q[QUOTE_BUF];
	int lineno = 0;

	memset(s, 0, sizeof(*s));
	strvec_init(&s->env);
	strvec_init(&s->depends);
	strvec_init(&s->command);
	strvec_init(&s->swarm_command);
	s->name = xstrdup(name);
	s->path = xstrdup(path);
	s->ready_timeout_s = 120;
	s->stop_timeout_s = 20;
	if (!valid_name(name)) {
		buf_addf(err, "%s: service name %s must be lowercase letters, digits and '-'",
			 path, quote(q, name));
		goto fail;
	}
	if (buf_read_file(&text, path, SERVICE_FILE_MAX)) {
		if (errno == EFBIG)
			buf_addf(err, "%s: the definition is larger than %d KiB, the most pancake "
				 "reads: is it the right file?", path, SERVICE_FILE_MAX / 1024);
		else
			buf_addf(err, "cannot read service definition '%s': %s", path, strerror(errno));
		goto fail;
	}
	/* a definition is text: a NUL would silently end a line early */
	nul = memchr(text.s, '\0', text.len);
	if (nul) {
		const char *p;

		for (p = text.s, lineno = 1; p < nul; p++)
			lineno += *p == '\n';
		buf_addf(err, "%s:%d: a NUL byte (at byte %zu): a definition is text; is it the "
			 "right file?", path, lineno, (size_t)(nul - text.s));
		goto fail;
	}
	memset(&f, 0, sizeof(f));
	f.s = s;
	for (line = text.s, lineno = 0; line && *line; line = next) {
		const struct field *fd;
		char *eq, *val, *hash, *key;

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		lineno++;
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
			buf_addf(err, "%s:%d: expected 'field = value', got %s", path, lineno,
				 quote(q, line));
			goto fail;
		}
		*eq = '\0';
		key = str_trim(line);
		val = str_trim(eq + 1);
		fd = field_find(key);
		if (!fd) {
			buf_addf(err, "%s:%d: field %s: unknown field: ", path, lineno, quote(q, key));
			known_fields(err);
			goto fail;
		}
		if (seen[fd - fields] && !fd->repeat) {
			buf_addf(err, "%s:%d: field '%s': given again (first on line %d): keep one",
				 path, lineno, fd->name, seen[fd - fields]);
			goto fail;
		}
		if (!seen[fd - fields])
			seen[fd - fields] = lineno;
		f.profile = fd->profile;
		f.line = lineno;
		buf_reset(&why);
		if (fd->parse(&f, val, &why)) {
			buf_addf(err, "%s:%d: field '%s': %s", path, lineno, fd->name, why.s);
			goto fail;
		}
	}
	if (!seen[field_find("image") - fields]) {
		buf_addf(err, "%s: field 'image' is missing", path);
		goto fail;
	}
	if (!seen[field_find("probe") - fields]) {
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
			 path, seen[field_find("probe.port") - fields], s->probe_port);
		goto fail;
	}
	if (s->heap[PROFILE_SMALL][0] == '\0')
		memcpy(s->heap[PROFILE_SMALL], s->heap[PROFILE_DEFAULT], sizeof(s->heap[0]));
	if (!s->memory[PROFILE_SMALL])
		s->memory[PROFILE_SMALL] = s->memory[PROFILE_DEFAULT];
	buf_release(&text);
	buf_release(&why);
	return 0;
fail:
	buf_release(&text);
	buf_release(&why);
	service_release(s);
	return -1;
}

int service_host_port(const struct service *s, int container_port)
{
	int i;

	for (i = 0; i < s->nports; i++)
		if (s->ports[i].container_port == container_port)
			return s->ports[i].host_port;
	return 0;
}

/* PANCAKE_<SERVICE>_PORT_<CPORT>, the service's name upper case, '-' as '_' */
static void port_variable(struct buf *var, const struct service *s, int container_port)
{
	const char *p;

	buf_addstr(var, "PANCAKE_");
	for (p = s->name; *p; p++)
		buf_addch(var, *p == '-' ? '_' : toupper((unsigned char)*p));
	buf_addf(var, "_PORT_%d", container_port);
}

int service_apply_env(struct service *s, struct buf *err)
{
	const char *bind = getenv("PANCAKE_BIND");
	int i;

	for (i = 0; i < s->nports; i++) {
		struct buf var = BUF_INIT;
		const char *v;
		struct service_port np;

		if (bind && *bind)
			snprintf(s->ports[i].host_ip, sizeof(s->ports[i].host_ip), "%s", bind);
		port_variable(&var, s, s->ports[i].container_port);
		v = getenv(var.s);
		if (v && *v) {
			char *spec = strchr(v, ':') ? xstrfmt("%s:%d", v, s->ports[i].container_port)
						    : xstrfmt("%s:%s:%d", s->ports[i].host_ip, v,
							      s->ports[i].container_port);
			if (parse_port(spec, &np)) {
				{ char q[QUOTE_BUF]; buf_addf(err, "environment %s=%s is not a port: use PORT or IP:PORT", var.s, quote(q, v)); }
				free(spec);
				buf_release(&var);
				return -1;
			}
			np.line = s->ports[i].line;
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
	for (i = 0; i < s->swarm_command.n; i++)
		buf_addf(&b, "swarm.command=%s\n", s->swarm_command.v[i]);
	sha256_init(&c);
	sha256_update(&c, b.s, b.len);
	sha256_hex(&c, out);
	buf_release(&b);
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* depth first; `path` holds the services being visited, to name a cycle */
static int visit(struct service *all, int n, int i, int *mark, int *path, int depth,
		 const char *dir, struct buf *err)
{
	size_t d;
	char q[QUOTE_BUF];

	if (mark[i] == 2)
		return 0;
	path[depth] = i;
	if (mark[i] == 1) {
		int k = 0, j;

		while (path[k] != i)
			k++;
		/* the line of the first member's 'depends' closes the cycle */
		buf_addf(err, "%s:%d: field 'depends': a dependency cycle: ", all[path[k]].path,
			 all[path[k]].depends_line);
		for (j = k; j <= depth; j++)
			buf_addf(err, "%s%s", j > k ? " -> " : "", all[path[j]].name);
		buf_addstr(err, "; a service cannot wait for itself: remove one of these "
			   "dependencies");
		return -1;
	}
	mark[i] = 1;
	for (d = 0; d < all[i].depends.n; d++) {
		int j;
		for (j = 0; j < n; j++)
			if (!strcmp(all[j].name, all[i].depends.v[d]))
				break;
		if (j == n) {
			buf_addf(err, "%s:%d: field 'depends': no service named %s in '%s'",
				 all[i].path, all[i].depends_line, quote(q, all[i].depends.v[d]), dir);
			return -1;
		}
		if (depth + 1 >= SERVICE_MAX)
			BUG("dependency chain deeper than the services");
		if (visit(all, n, j, mark, path, depth + 1, dir, err))
			return -1;
	}
	mark[i] = 2;
	return 0;
}

/* one address can be published once: the same host port on the same IP, or on any IP */
static int ports_clash(const struct service_port *a, const struct service_port *b)
{
	return a->host_port == b->host_port &&
	       (!strcmp(a->host_ip, b->host_ip) || !strcmp(a->host_ip, "0.0.0.0") ||
		!strcmp(b->host_ip, "0.0.0.0"));
}

static int check_ports(const struct service *all, int n, struct buf *err)
{
	int i, j, a, b;

	for (i = 0; i < n; i++)
		for (a = 0; a < all[i].nports; a++)
			for (j = i; j < n; j++)
				for (b = j == i ? a + 1 : 0; b < all[j].nports; b++) {
					const struct service_port *p = &all[i].ports[a], *o = &all[j].ports[b];

					struct buf var = BUF_INIT;

					/* a swarm-only member never runs beside the one-machine stack */
					if (all[i].swarm_only != all[j].swarm_only || !ports_clash(p, o))
						continue;
					port_variable(&var, &all[j], o->container_port);
					buf_addf(err, "%s:%d: field 'port': host port %s:%d is published "
						 "by '%s' too (%s:%d): only one can have it; move one "
						 "(in its definition, or with %s=OTHER)",
						 all[j].path, o->line, o->host_ip, o->host_port,
						 all[i].name, all[i].path, p->line, var.s);
					buf_release(&var);
					return -1;
				}
	return 0;
}

static int find_def(const struct service *svcs, int n, const char *name)
{
	int i;

	for (i = 0; i < n; i++)
		if (!strcmp(svcs[i].name, name))
			return i;
	return -1;
}

/* swarm.apart names a service; a one-machine member needs no swarm-only one */
static int check_swarm_keys(const struct service *svcs, int n, struct buf *err)
{
	size_t d;
	int i, k;

	for (i = 0; i < n; i++) {
		if (svcs[i].swarm_apart[0] && find_def(svcs, n, svcs[i].swarm_apart) < 0) {
			buf_addf(err, "%s: field 'swarm.apart': no service named '%s'", svcs[i].path,
				 svcs[i].swarm_apart);
			return -1;
		}
		if (svcs[i].swarm_only)
			continue;
		for (d = 0; d < svcs[i].depends.n; d++) {
			k = find_def(svcs, n, svcs[i].depends.v[d]);
			if (k >= 0 && svcs[k].swarm_only) {
				buf_addf(err, "%s:%d: field 'depends': '%s' runs on a swarm only "
					 "(swarm.only = yes), and '%s' runs on one machine too",
					 svcs[i].path, svcs[i].depends_line, svcs[k].name, svcs[i].name);
				return -1;
			}
		}
	}
	return 0;
}

int service_load_dir(struct service *out, const char *dir, struct buf *err)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char *names[64];
	int n = 0, count = 0, i, mark[SERVICE_MAX] = { 0 }, path[SERVICE_MAX];

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
	if (!count) {
		buf_addf(err, "'%s' holds no service definitions (NAME/service.conf): a stack needs "
			 "at least one; run pancake from its source tree or set PANCAKE_HOME", dir);
		goto fail;
	}
	for (i = 0; i < count; i++)
		if (visit(out, count, i, mark, path, 0, dir, err))
			goto fail;
	if (check_ports(out, count, err) || check_swarm_keys(out, count, err))
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
