/* test-service: service.conf parsing, its error messages, dependencies, overrides and hash. */
#include "core/service.h"
#include "util/buf.h"
#include "util/xalloc.h"
#include "tap.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char tmpdir[] = "/tmp/pancake-test-service-XXXXXX";
static struct strvec created = STRVEC_INIT;   /* files and dirs to remove, in order */

/* writes `text` to tmpdir/rel (one directory level allowed); returns the path (borrowed) */
static const char *write_file(const char *rel, const char *text)
{
	char *path = xstrfmt("%s/%s", tmpdir, rel);
	char *slash = strrchr(path, '/');
	FILE *f;
	size_t i;

	*slash = '\0';
	if (strcmp(path, tmpdir) && !mkdir(path, 0700))
		strvec_push(&created, path);
	*slash = '/';
	f = fopen(path, "w");
	if (!f || fputs(text, f) < 0 || fclose(f))
		die("cannot write '%s'", path);
	for (i = 0; i < created.n; i++)
		if (!strcmp(created.v[i], path))
			break;
	if (i == created.n)
		strvec_push(&created, path);
	free(path);
	return created.v[i];
}

static void cleanup(void)
{
	size_t i;

	/* files were pushed after their directory: remove newest first */
	for (i = created.n; i-- > 0;)
		remove(created.v[i]);
	rmdir(tmpdir);
	strvec_clear(&created);
}

/* ---- a full definition ---- */

static void test_full(void)
{
	const char *path = write_file("full.conf",
		"# feature store, every field\n"
		"description = Feature store (test)\n"
		"image = pancake/kafka # the image\n"
		"\n"
		"port = 9092\n"
		"port = 19093:9093\n"
		"port = 0.0.0.0:18080:8080\n"
		"env = KAFKA_MODE=kraft\n"
		"env = GREETING=hi #there\n"
		"  heap = 512m  \n"
		"heap.small = 256m\n"
		"memory = 1g\n"
		"volume = data:/var/lib/kafka\n"
		"volume = logs:/var/log/kafka\n"
		"depends = zookeeper, redis cassandra\n"
		"probe = http\n"
		"probe.port = 8080\n"
		"probe.path = /health\n"
		"ready_timeout = 90s\n"
		"stop_timeout = 30\n");
	struct service s;
	struct buf err = BUF_INIT;

	is_int(service_load(&s, "kafka", path, &err), 0, "full: valid definition loads");
	is_str(err.s, "", "full: no error text");
	is_str(s.name, "kafka", "full: name");
	is_str(s.path, path, "full: path kept for messages");
	is_str(s.description, "Feature store (test)", "full: description");
	is_str(s.image, "pancake/kafka", "full: image, trailing ' #' comment stripped");
	is_int(s.nports, 3, "full: three ports");
	is_str(s.ports[0].host_ip, "127.0.0.1", "full: CONTAINER form binds 127.0.0.1");
	is_int(s.ports[0].host_port, 9092, "full: CONTAINER form host port = container port");
	is_int(s.ports[0].container_port, 9092, "full: CONTAINER form container port");
	is_str(s.ports[1].host_ip, "127.0.0.1", "full: HOST:CONTAINER form binds 127.0.0.1");
	is_int(s.ports[1].host_port, 19093, "full: HOST:CONTAINER host port");
	is_int(s.ports[1].container_port, 9093, "full: HOST:CONTAINER container port");
	is_str(s.ports[2].host_ip, "0.0.0.0", "full: IP:HOST:CONTAINER ip");
	is_int(s.ports[2].host_port, 18080, "full: IP:HOST:CONTAINER host port");
	is_int(s.ports[2].container_port, 8080, "full: IP:HOST:CONTAINER container port");
	is_int(s.env.n, 2, "full: two env entries");
	is_str(s.env.v[0], "KAFKA_MODE=kraft", "full: env in file order");
	is_str(s.env.v[1], "GREETING=hi #there", "full: ' #' is kept inside an env value");
	is_str(s.heap[PROFILE_DEFAULT], "512m", "full: heap, indented line trimmed");
	is_str(s.heap[PROFILE_SMALL], "256m", "full: heap.small");
	is_int(s.memory[PROFILE_DEFAULT], 1LL << 30, "full: memory 1g in bytes");
	is_int(s.memory[PROFILE_SMALL], 1LL << 30, "full: memory.small absent: default copied");
	is_int(s.nvolumes, 2, "full: two volumes");
	is_str(s.volumes[0].name, "data", "full: volume name");
	is_str(s.volumes[0].target, "/var/lib/kafka", "full: volume target");
	is_str(s.volumes[1].name, "logs", "full: second volume name");
	is_int(s.depends.n, 3, "full: three dependencies, comma or space separated");
	ok(s.depends.n == 3 && !strcmp(s.depends.v[0], "zookeeper") &&
	   !strcmp(s.depends.v[1], "redis") && !strcmp(s.depends.v[2], "cassandra"),
	   "full: dependency names in order");
	is_int(s.probe, PROBE_HTTP, "full: probe http");
	is_str(probe_kind_name(s.probe), "http", "full: probe name round-trips");
	is_int(s.probe_port, 8080, "full: explicit probe.port");
	is_str(s.probe_path, "/health", "full: probe.path");
	is_int(s.ready_timeout_s, 90, "full: ready_timeout with 's' suffix");
	is_int(s.stop_timeout_s, 30, "full: stop_timeout");
	is_int(service_host_port(&s, 9093), 19093, "full: service_host_port maps container to host port");
	is_int(service_host_port(&s, 1234), 0, "full: service_host_port of an unpublished port is 0");
	service_release(&s);
	buf_release(&err);
}

static void test_command(void)
{
	struct service s;
	struct buf err = BUF_INIT;
	const char *path = write_file("cmd.conf",
		"image = pancake/sandbox\n"
		"probe = http\n"
		"port = 8080\n"
		"command = serving  --port 8080\t--quiet\n");

	int r = service_load(&s, "cmd", path, &err);
	ok(r == 0, "command: loads (%s)", err.s);
	ok(s.command.n == 4 && !strcmp(s.command.v[0], "serving") &&
	   !strcmp(s.command.v[2], "8080") && !strcmp(s.command.v[3], "--quiet"),
	   "command: words split on blanks and tabs");
	service_release(&s);
	path = write_file("cmd2.conf", "image = x\ncommand =   \n");
	buf_reset(&err);
	r = service_load(&s, "cmd2", path, &err);
	ok(r < 0 && strstr(err.s, "cmd2.conf:2:") &&
	   strstr(err.s, "'command'"), "command: an empty one is refused with file:line: %s", err.s);
	buf_release(&err);
}

static void test_defaults(void)
{
	const char *path = write_file("defaults.conf",
		"image = pancake/cassandra\n"
		"port = 9042\n"
		"port = 7199\n"
		"heap = 768m\n"
		"memory = 1280m\n"
		"memory.small = 1g\n"
		"probe = cql\n");
	struct service s;
	struct buf err = BUF_INIT;

	is_int(service_load(&s, "cassandra", path, &err), 0, "defaults: minimal definition loads");
	is_int(s.probe_port, 9042, "defaults: probe.port defaults to the first port");
	is_str(s.heap[PROFILE_SMALL], "768m", "defaults: heap.small absent: default heap copied");
	is_int(s.memory[PROFILE_DEFAULT], 1280LL << 20, "defaults: memory 1280m");
	is_int(s.memory[PROFILE_SMALL], 1LL << 30, "defaults: explicit memory.small kept");
	is_int(s.ready_timeout_s, 120, "defaults: ready_timeout 120 s");
	is_int(s.stop_timeout_s, 20, "defaults: stop_timeout 20 s");
	is_int(s.env.n, 0, "defaults: no env");
	is_int(s.nvolumes, 0, "defaults: no volumes");
	ok(s.description == NULL, "defaults: no description");
	service_release(&s);

	path = write_file("nojvm.conf", "image = pancake/redis\nport = 6379\nprobe = redis\n");
	is_int(service_load(&s, "redis", path, &err), 0, "defaults: non-JVM definition loads");
	is_str(s.heap[PROFILE_DEFAULT], "", "defaults: no heap when not a JVM");
	is_int(s.memory[PROFILE_SMALL], 0, "defaults: no memory limit");
	service_release(&s);
	buf_release(&err);
}

/* ---- mistakes: every one names the file, the line and the field ---- */

static void expect_bad(const char *what, const char *body, int line, const char *field,
		       const char *also)
{
	char *rel = xstrfmt("bad-%s.conf", what);
	const char *path = write_file(rel, body);
	struct service s;
	struct buf err = BUF_INIT, want = BUF_INIT;

	if (line)
		buf_addf(&want, "%s:%d: field '%s': ", path, line, field);
	else
		buf_addf(&want, "%s: field '%s'", path, field);
	is_int(service_load(&s, "svc", path, &err), -1, "bad %s: refused", what);
	if (!ok(!strncmp(err.s, want.s, want.len), "bad %s: error starts '%s'", what, want.s))
		printf("#   got '%s'\n", err.s);
	if (also && !ok(strstr(err.s, also) != NULL, "bad %s: error mentions '%s'", what, also))
		printf("#   got '%s'\n", err.s);
	ok(s.name == NULL && s.image == NULL && s.nports == 0, "bad %s: service left released", what);
	buf_release(&err);
	buf_release(&want);
	free(rel);
}

#define HEAD "image = pancake/x\nprobe = redis\n"

static void test_errors(void)
{
	expect_bad("port-70000", HEAD "port = 70000\n", 3, "port", "'70000'");
	expect_bad("port-abc", HEAD "port = abc\n", 3, "port", "'abc'");
	expect_bad("port-4parts", HEAD "port = 1:2:3:4\n", 3, "port", "'1:2:3:4'");
	expect_bad("port-zero", HEAD "port = 0\n", 3, "port", NULL);
	expect_bad("port-host-range", HEAD "port = 65536:80\n", 3, "port", NULL);
	expect_bad("port-trailing", HEAD "port = 80x\n", 3, "port", NULL);
	/* sscanf("%d") would wrap 2^32 + 6000 to 6000 */
	expect_bad("port-wraps", HEAD "port = 4294973296\n", 3, "port", NULL);
	expect_bad("port-empty-ip", HEAD "port = :80:80\n", 3, "port", NULL);
	expect_bad("unknown-field", HEAD "colour = red\n", 3, "colour", "unknown field");
	expect_bad("heap-word", HEAD "heap = lots\n", 3, "heap", "'lots'");
	expect_bad("heap-small", HEAD "heap = 8m\n", 3, "heap", "16m at least");
	expect_bad("heap-fraction", HEAD "heap.small = 1.5g\n", 3, "heap.small", NULL);
	/* the heap goes to -Xmx verbatim, which does not take "gb" */
	expect_bad("heap-gb", HEAD "heap = 1gb\n", 3, "heap", NULL);
	expect_bad("memory-fraction", HEAD "memory = 1.5g\n", 3, "memory", "'1.5g'");
	expect_bad("memory-tiny", HEAD "memory.small = 1m\n", 3, "memory.small", NULL);
	expect_bad("volume-nocolon", HEAD "volume = data\n", 3, "volume", "NAME:/absolute/path");
	expect_bad("volume-relative", HEAD "volume = data:var/lib\n", 3, "volume", NULL);
	expect_bad("volume-name", HEAD "volume = Data:/x\n", 3, "volume", "'Data'");
	expect_bad("probe-unknown", "image = pancake/x\nport = 1\nprobe = mysql\n", 3, "probe", "'mysql'");
	expect_bad("probe-port-word", HEAD "probe.port = web\n", 3, "probe.port", NULL);
	expect_bad("probe-port-trailing", HEAD "probe.port = 6379x\n", 3, "probe.port", NULL);
	expect_bad("probe-path", HEAD "probe.path = health\n", 3, "probe.path", NULL);
	expect_bad("timeout-zero", HEAD "ready_timeout = 0\n", 3, "ready_timeout", NULL);
	expect_bad("timeout-minutes", HEAD "stop_timeout = 5m\n", 3, "stop_timeout", NULL);
	expect_bad("image-space", "# c\nimage = pancake x\n", 2, "image", NULL);
	expect_bad("env-noeq", HEAD "env = JUST_A_NAME\n", 3, "env", NULL);
	expect_bad("missing-image", "port = 6379\nprobe = redis\n", 0, "image", "missing");
	expect_bad("missing-probe", "image = pancake/x\nport = 6379\n", 0, "probe", "missing");
	expect_bad("missing-port", HEAD, 0, "port", "missing");
	expect_bad("probe-port-unpublished",
		   HEAD "port = 6379\nprobe.port = 9999\n", 4, "probe.port", "9999");

	{	/* a line without '=' has no field yet: file and line, and the line */
		const char *path = write_file("bad-noeq.conf", HEAD "image pancake/y\n");
		struct service s;
		struct buf err = BUF_INIT, want = BUF_INIT;

		buf_addf(&want, "%s:3: expected 'field = value', got 'image pancake/y'", path);
		is_int(service_load(&s, "svc", path, &err), -1, "bad no-equals: refused");
		is_str(err.s, want.s, "bad no-equals: error names file, line and the line");
		buf_release(&err);
		buf_release(&want);
	}
	/* a field that cannot repeat, given twice: both lines named, not the second silently */
	expect_bad("dup-image", HEAD "port = 1\nimage = pancake/y\n", 4, "image", "first on line 1");
	expect_bad("dup-heap", HEAD "port = 1\nheap = 1g\n# c\nheap = 2g\n", 6, "heap",
		   "first on line 4");
	expect_bad("dup-depends", HEAD "port = 1\ndepends = a\ndepends = b\n", 5, "depends",
		   "first on line 4");
	{	/* port, env and volume repeat */
		const char *path = write_file("ok-repeat.conf", HEAD "port = 1\nport = 2\nenv = A=1\n"
					      "env = B=2\nvolume = a:/a\nvolume = b:/b\n");
		struct service s;
		struct buf err = BUF_INIT;

		is_int(service_load(&s, "svc", path, &err), 0, "repeatable fields: accepted: '%s'", err.s);
		ok(s.nports == 2 && s.env.n == 2 && s.nvolumes == 2, "repeatable fields: all kept");
		service_release(&s);
		buf_release(&err);
	}
	{	/* echoed input cannot drive the terminal: ESC [2J, ESC ]0;title BEL */
		const char *path = write_file("bad-escape.conf", HEAD "port = 1\nheap = \033[2J\033]0;owned\007\n");
		struct service s;
		struct buf err = BUF_INIT;

		is_int(service_load(&s, "svc", path, &err), -1, "escape: refused");
		ok(!strchr(err.s, '\033') && !strchr(err.s, '\007'), "escape: no raw ESC or BEL in '%s'",
		   err.s);
		ok(strstr(err.s, "\\x1b[2J\\x1b]0;owned\\x07") != NULL, "escape: shown as \\xNN: '%s'",
		   err.s);
		buf_reset(&err);
		path = write_file("bad-escape2.conf", HEAD "\033]0;title\007\n");
		is_int(service_load(&s, "svc", path, &err), -1, "escape in a line without '=': refused");
		ok(!strchr(err.s, '\033') && strstr(err.s, "\\x1b]0;title\\x07"),
		   "escape in a line without '=': escaped: '%s'", err.s);
		buf_release(&err);
	}
	{	/* a NUL byte, and a file over the size cap: true messages */
		char *path = xstrfmt("%s/bad-nul.conf", tmpdir);
		static const char body[] = "image = pancake/x\nprobe = redis\nport = 1\0 \nheap = 1g\n";
		struct service s;
		struct buf err = BUF_INIT;
		FILE *f = fopen(path, "w");

		if (!f || fwrite(body, 1, sizeof(body) - 1, f) != sizeof(body) - 1 || fclose(f))
			die("cannot write '%s'", path);
		strvec_push(&created, path);
		is_int(service_load(&s, "svc", path, &err), -1, "NUL byte: refused");
		ok(strstr(err.s, "bad-nul.conf:3: a NUL byte (at byte 40)") != NULL,
		   "NUL byte: file, line and offset named: '%s'", err.s);
		buf_reset(&err);
		free(path);
		path = xstrfmt("%s/bad-big.conf", tmpdir);
		f = fopen(path, "w");
		if (!f)
			die("cannot write '%s'", path);
		for (int i = 0; i < 5000; i++)
			fputs("# a long comment line\n", f);
		fclose(f);
		strvec_push(&created, path);
		is_int(service_load(&s, "svc", path, &err), -1, "oversized file: refused");
		ok(strstr(err.s, "larger than 64 KiB") != NULL, "oversized file: says the limit: '%s'",
		   err.s);
		free(path);
		buf_release(&err);
	}
	{
		struct service s;
		struct buf err = BUF_INIT;
		char *path = xstrfmt("%s/absent.conf", tmpdir);

		is_int(service_load(&s, "svc", path, &err), -1, "bad missing file: refused");
		ok(strstr(err.s, path) && strstr(err.s, "No such file"),
		   "bad missing file: error names the path and the reason: '%s'", err.s);
		buf_reset(&err);
		is_int(service_load(&s, "Svc_1", path, &err), -1, "bad name: refused");
		ok(strstr(err.s, "'Svc_1'") != NULL, "bad name: error quotes the name: '%s'", err.s);
		free(path);
		buf_release(&err);
	}
}

static void test_parse_size(void)
{
	is_int(parse_size("512m"), 512LL << 20, "parse_size 512m");
	is_int(parse_size("1g"), 1LL << 30, "parse_size 1g");
	is_int(parse_size("1G"), 1LL << 30, "parse_size 1G (case-insensitive)");
	is_int(parse_size("64k"), 64LL << 10, "parse_size 64k");
	is_int(parse_size("1024"), 1024, "parse_size 1024 (bytes)");
	is_int(parse_size("1GiB"), 1LL << 30, "parse_size 1GiB");
	is_int(parse_size("768MB"), 768LL << 20, "parse_size 768MB");
	is_int(parse_size("1.5g"), -1, "parse_size 1.5g invalid");
	is_int(parse_size("12x"), -1, "parse_size 12x invalid");
	is_int(parse_size(""), -1, "parse_size empty invalid");
	is_int(parse_size("-1g"), -1, "parse_size negative invalid");
	is_int(parse_size(" 1g"), -1, "parse_size leading space invalid");
	is_int(parse_size("1gx"), -1, "parse_size trailing junk after unit invalid");
	is_int(parse_size("1024i"), -1, "parse_size 'i' without a unit invalid");
	is_int(parse_size("99999999999g"), -1, "parse_size overflow of int64 invalid");
	is_int(parse_size("99999999999999999999999"), -1, "parse_size overflow of strtoull invalid");
}

/* ---- a directory of services ---- */

static const char *svc(const char *name, const char *extra)
{
	static int next_port = 7000;	/* each its own: one host port is published once */
	char *rel = xstrfmt("%s/service.conf", name);
	char *text = xstrfmt("image = pancake/%s\nport = %d\nprobe = redis\n%s", name,
			     next_port++, extra);
	const char *p = write_file(rel, text);

	free(rel);
	free(text);
	return p;
}

static char *subdir(const char *name)
{
	char *d = xstrfmt("%s/%s", tmpdir, name);
	if (mkdir(d, 0700))
		die("cannot create '%s'", d);
	strvec_push(&created, d);
	free(d);
	return xstrfmt("%s/%s", tmpdir, name);
}

static void test_load_dir(void)
{
	struct service all[SERVICE_MAX];
	struct buf err = BUF_INIT;
	char *d;
	const char *cpath, *apath;
	int n, i;

	unsetenv("PANCAKE_BIND");
	d = subdir("ok");
	svc("ok/b", "");
	cpath = svc("ok/c", "depends = a\n");
	svc("ok/a", "");
	write_file("ok/README", "not a service\n");
	n = service_load_dir(all, d, &err);
	is_int(n, 3, "load_dir: three services found (README ignored)");
	is_str(err.s, "", "load_dir: no error");
	if (n == 3) {
		is_str(all[0].name, "a", "load_dir: sorted by name (a)");
		is_str(all[1].name, "b", "load_dir: sorted by name (b)");
		is_str(all[2].name, "c", "load_dir: sorted by name (c)");
		is_str(all[2].path, cpath, "load_dir: path recorded");
		ok(all[2].depends.n == 1 && !strcmp(all[2].depends.v[0], "a"), "load_dir: c depends on a");
	}
	for (i = 0; i < n; i++)
		service_release(&all[i]);
	free(d);

	d = subdir("unknown");
	svc("unknown/a", "");
	cpath = svc("unknown/c", "depends = a, nosuch\n");
	buf_reset(&err);
	is_int(service_load_dir(all, d, &err), -1, "load_dir: unknown dependency refused");
	ok(!strncmp(err.s, cpath, strlen(cpath)), "load_dir: error starts with the depending file: '%s'", err.s);
	ok(strstr(err.s, "service.conf:4: field 'depends'") != NULL,
	   "load_dir: unknown dependency names FILE:LINE of its 'depends': '%s'", err.s);
	ok(strstr(err.s, "'nosuch'") != NULL, "load_dir: error names the missing service");
	ok(strstr(err.s, "field 'depends'") != NULL, "load_dir: error names the field");
	free(d);

	d = subdir("cycle");
	apath = svc("cycle/a", "depends = b\n");
	svc("cycle/b", "depends = a\n");
	svc("cycle/c", "");
	buf_reset(&err);
	is_int(service_load_dir(all, d, &err), -1, "load_dir: cycle a->b->a refused");
	ok(strstr(err.s, "cycle") != NULL, "load_dir: error says cycle: '%s'", err.s);
	ok(!strncmp(err.s, apath, strlen(apath)) || strstr(err.s, "/cycle/b/service.conf"),
	   "load_dir: cycle error names a file of the cycle");
	ok(strstr(err.s, "service.conf:4: field 'depends'") != NULL,
	   "load_dir: cycle error names FILE:LINE of a 'depends' line: '%s'", err.s);
	ok(strstr(err.s, "a -> b -> a") != NULL, "load_dir: cycle error shows the cycle: '%s'", err.s);
	free(d);

	/* two services publishing one host port can never both run */
	d = subdir("clash");
	svc("clash/a", "port = 18080:80\n");
	cpath = svc("clash/b-x", "port = 127.0.0.1:18080:8080\n");
	buf_reset(&err);
	is_int(service_load_dir(all, d, &err), -1, "load_dir: one host port published twice refused");
	ok(!strncmp(err.s, cpath, strlen(cpath)) && strstr(err.s, ":4: field 'port'"),
	   "load_dir: clash names the second file and line: '%s'", err.s);
	ok(strstr(err.s, "/clash/a/service.conf:4") && strstr(err.s, "PANCAKE_B_X_PORT_8080"),
	   "load_dir: clash names the first file and line and the variable that moves it");
	free(d);

	/* a stack with no services is no stack */
	d = subdir("empty");
	write_file("empty/README", "nothing here\n");
	buf_reset(&err);
	is_int(service_load_dir(all, d, &err), -1, "load_dir: no definitions refused");
	ok(strstr(err.s, "no service definitions") != NULL, "load_dir: says there are none: '%s'",
	   err.s);
	free(d);

	d = subdir("self");
	svc("self/a", "depends = a\n");
	buf_reset(&err);
	is_int(service_load_dir(all, d, &err), -1, "load_dir: self-dependency refused");
	ok(strstr(err.s, "cycle") != NULL, "load_dir: self-dependency is a cycle");
	free(d);

	d = subdir("broken");
	svc("broken/a", "");
	cpath = svc("broken/b", "port = 99999\n");
	buf_reset(&err);
	is_int(service_load_dir(all, d, &err), -1, "load_dir: a broken member fails the load");
	ok(!strncmp(err.s, cpath, strlen(cpath)) && strstr(err.s, ":4: field 'port'"),
	   "load_dir: error is the member's own FILE:LINE: field message: '%s'", err.s);
	free(d);

	d = subdir("many");
	for (i = 0; i < SERVICE_MAX + 1; i++) {
		char name[16];
		snprintf(name, sizeof(name), "many/s%02d", i);
		svc(name, "");
	}
	buf_reset(&err);
	is_int(service_load_dir(all, d, &err), -1, "load_dir: more than SERVICE_MAX refused");
	ok(strstr(err.s, "at most") != NULL, "load_dir: says the limit: '%s'", err.s);
	free(d);

	buf_reset(&err);
	d = xstrfmt("%s/nonexistent", tmpdir);
	is_int(service_load_dir(all, d, &err), -1, "load_dir: missing directory refused");
	ok(strstr(err.s, d) && strstr(err.s, "PANCAKE_HOME"), "load_dir: names the dir and the way out");
	free(d);
	buf_release(&err);
}

/* ---- environment overrides ---- */

static void load_two_ports(struct service *s, const char *name)
{
	char *rel = xstrfmt("env-%s.conf", name);
	const char *p = write_file(rel, "image = pancake/x\nport = 6379\nport = 0.0.0.0:18080:8080\nprobe = redis\n");
	struct buf err = BUF_INIT;

	if (service_load(s, name, p, &err))
		die("%s", err.s);
	buf_release(&err);
	free(rel);
}

static void test_apply_env(void)
{
	struct service s;
	struct buf err = BUF_INIT;

	unsetenv("PANCAKE_BIND");
	load_two_ports(&s, "feature-store");
	is_int(service_apply_env(&s, &err), 0, "env: no overrides is fine");
	is_str(s.ports[0].host_ip, "127.0.0.1", "env: no overrides keep ip");
	is_int(s.ports[0].host_port, 6379, "env: no overrides keep port");

	setenv("PANCAKE_BIND", "0.0.0.0", 1);
	setenv("PANCAKE_FEATURE_STORE_PORT_6379", "16379", 1);
	is_int(service_apply_env(&s, &err), 0, "env: PANCAKE_BIND and a port override apply");
	is_str(s.ports[0].host_ip, "0.0.0.0", "env: PANCAKE_BIND sets the ip of port 1");
	is_str(s.ports[1].host_ip, "0.0.0.0", "env: PANCAKE_BIND sets the ip of port 2");
	is_int(s.ports[0].host_port, 16379, "env: PANCAKE_<NAME>_PORT_<CPORT> ('-' as '_') sets the host port");
	is_int(s.ports[0].container_port, 6379, "env: the container port is unchanged");
	is_int(s.ports[1].host_port, 18080, "env: the other port is unchanged");
	service_release(&s);

	unsetenv("PANCAKE_BIND");
	unsetenv("PANCAKE_FEATURE_STORE_PORT_6379");
	setenv("PANCAKE_REDIS_PORT_8080", "10.1.2.3:9000", 1);
	load_two_ports(&s, "redis");
	is_int(service_apply_env(&s, &err), 0, "env: IP:PORT override applies");
	is_str(s.ports[1].host_ip, "10.1.2.3", "env: IP:PORT sets the ip");
	is_int(s.ports[1].host_port, 9000, "env: IP:PORT sets the port");
	is_int(s.ports[1].container_port, 8080, "env: IP:PORT keeps the container port");
	is_str(s.ports[0].host_ip, "127.0.0.1", "env: the other port keeps its ip");
	service_release(&s);

	setenv("PANCAKE_REDIS_PORT_8080", "http", 1);
	load_two_ports(&s, "redis");
	buf_reset(&err);
	is_int(service_apply_env(&s, &err), -1, "env: a bad value is refused");
	ok(strstr(err.s, "PANCAKE_REDIS_PORT_8080") && strstr(err.s, "'http'"),
	   "env: the error names the variable and the value: '%s'", err.s);
	service_release(&s);

	setenv("PANCAKE_REDIS_PORT_8080", "70000", 1);
	load_two_ports(&s, "redis");
	buf_reset(&err);
	is_int(service_apply_env(&s, &err), -1, "env: an out-of-range port is refused");
	service_release(&s);

	setenv("PANCAKE_REDIS_PORT_8080", "1.2.3.4:5:6", 1);
	load_two_ports(&s, "redis");
	buf_reset(&err);
	is_int(service_apply_env(&s, &err), -1, "env: IP:HOST:CONTAINER is not an override value");
	service_release(&s);
	unsetenv("PANCAKE_REDIS_PORT_8080");
	buf_release(&err);
}

/* ---- configuration hash ---- */

static void test_hash(void)
{
	struct service s;
	char base[65], again[65], h[65];
	size_t i;
	int hex = 1;

	load_two_ports(&s, "hashme");
	snprintf(s.heap[PROFILE_DEFAULT], sizeof(s.heap[0]), "512m");
	snprintf(s.heap[PROFILE_SMALL], sizeof(s.heap[0]), "512m");
	service_config_hash(&s, PROFILE_DEFAULT, "sha256:aaa", base);
	is_int(strlen(base), 64, "hash: 64 characters");
	for (i = 0; i < 64; i++)
		hex &= isxdigit((unsigned char)base[i]) && !isupper((unsigned char)base[i]);
	ok(hex, "hash: lowercase hex");
	service_config_hash(&s, PROFILE_DEFAULT, "sha256:aaa", again);
	is_str(again, base, "hash: stable across calls");
	service_config_hash(&s, PROFILE_SMALL, "sha256:aaa", h);
	is_str(h, base, "hash: same heap and memory in both profiles give the same hash");

	free(s.description);
	s.description = xstrdup("changed");
	s.ready_timeout_s = 5;
	s.probe_path[0] = '/';
	service_config_hash(&s, PROFILE_DEFAULT, "sha256:aaa", h);
	is_str(h, base, "hash: description, timeouts and probe do not change it");

	strvec_push(&s.command, "serving");
	service_config_hash(&s, PROFILE_DEFAULT, "sha256:aaa", h);
	ok(strcmp(h, base) != 0, "hash: a command changes it");
	strvec_clear(&s.command);

	service_config_hash(&s, PROFILE_DEFAULT, "sha256:bbb", h);
	ok(strcmp(h, base) != 0, "hash: image id changes it");
	service_config_hash(&s, PROFILE_DEFAULT, NULL, h);
	ok(strcmp(h, base) != 0, "hash: no image id differs from an image id");

	s.ports[0].host_port = 16379;
	service_config_hash(&s, PROFILE_DEFAULT, "sha256:aaa", h);
	ok(strcmp(h, base) != 0, "hash: host port changes it");
	s.ports[0].host_port = 6379;
	snprintf(s.ports[0].host_ip, sizeof(s.ports[0].host_ip), "0.0.0.0");
	service_config_hash(&s, PROFILE_DEFAULT, "sha256:aaa", h);
	ok(strcmp(h, base) != 0, "hash: bind ip changes it");
	snprintf(s.ports[0].host_ip, sizeof(s.ports[0].host_ip), "127.0.0.1");
	service_config_hash(&s, PROFILE_DEFAULT, "sha256:aaa", h);
	is_str(h, base, "hash: restoring the port restores the hash");

	strvec_push(&s.env, "A=1");
	service_config_hash(&s, PROFILE_DEFAULT, "sha256:aaa", h);
	ok(strcmp(h, base) != 0, "hash: an env entry changes it");
	strvec_clear(&s.env);
	service_config_hash(&s, PROFILE_DEFAULT, "sha256:aaa", h);
	is_str(h, base, "hash: removing the env entry restores it");

	snprintf(s.heap[PROFILE_DEFAULT], sizeof(s.heap[0]), "1g");
	service_config_hash(&s, PROFILE_DEFAULT, "sha256:aaa", h);
	ok(strcmp(h, base) != 0, "hash: heap changes it");
	service_config_hash(&s, PROFILE_SMALL, "sha256:aaa", h);
	is_str(h, base, "hash: the other profile's heap does not");
	snprintf(s.heap[PROFILE_DEFAULT], sizeof(s.heap[0]), "512m");

	s.memory[PROFILE_DEFAULT] = 1LL << 30;
	service_config_hash(&s, PROFILE_DEFAULT, "sha256:aaa", h);
	ok(strcmp(h, base) != 0, "hash: memory changes it");
	s.memory[PROFILE_DEFAULT] = 0;

	free(s.image);
	s.image = xstrdup("pancake/y");
	service_config_hash(&s, PROFILE_DEFAULT, "sha256:aaa", h);
	ok(strcmp(h, base) != 0, "hash: image name changes it");
	service_release(&s);
}

/* the swarm keys: swarm.only, swarm.replicas, swarm.apart, swarm.command */
static void test_swarm_keys(void)
{
	struct service all[SERVICE_MAX];
	struct buf err = BUF_INIT;
	char *d;
	const char *p;
	int n, i;

	d = subdir("sw");
	svc("sw/db", "");
	svc("sw/db-copy", "swarm.only = yes\nswarm.apart = db\ndepends = db\n");
	svc("sw/watch", "swarm.only = yes\nswarm.replicas = 3\n");
	svc("sw/web", "command = web --db db\nswarm.command = web --db db-copy,db\n");
	n = service_load_dir(all, d, &err);
	is_int(n, 4, "swarm keys: four definitions load (%s)", err.s);
	if (n == 4) {
		ok(!all[0].swarm_only && all[1].swarm_only && all[2].swarm_only && !all[3].swarm_only,
		   "swarm.only = yes marks db-copy and watch only");
		is_str(all[1].swarm_apart, "db", "swarm.apart = db");
		is_int(all[2].swarm_replicas, 3, "swarm.replicas = 3");
		is_int(all[3].command.n, 3, "command kept");
		ok(all[3].swarm_command.n == 3 && !strcmp(all[3].swarm_command.v[2], "db-copy,db"),
		   "swarm.command word by word");
		{
			char h1[65], h2[65];
			service_config_hash(&all[3], PROFILE_DEFAULT, "", h1);
			strvec_clear(&all[3].swarm_command);
			service_config_hash(&all[3], PROFILE_DEFAULT, "", h2);
			ok(strcmp(h1, h2), "swarm.command is in the hash");
		}
	}
	for (i = 0; i < n; i++)
		service_release(&all[i]);
	free(d);

	d = subdir("sw2");
	svc("sw2/db", "swarm.only = yes\n");
	p = svc("sw2/web", "depends = db\n");
	buf_reset(&err);
	is_int(service_load_dir(all, d, &err), -1, "a one-machine member depending on a swarm-only one is refused");
	ok(strstr(err.s, p) && strstr(err.s, "swarm only"), "... naming the file and why: %s", err.s);
	free(d);

	d = subdir("sw3");
	p = svc("sw3/db", "swarm.apart = nosuch\n");
	buf_reset(&err);
	is_int(service_load_dir(all, d, &err), -1, "swarm.apart naming no service is refused");
	ok(strstr(err.s, p) && strstr(err.s, "'nosuch'"), "... naming the file and the name: %s", err.s);
	free(d);

	d = subdir("sw4");
	svc("sw4/db", "swarm.replicas = 0\n");
	buf_reset(&err);
	is_int(service_load_dir(all, d, &err), -1, "swarm.replicas = 0 is refused");
	ok(strstr(err.s, "swarm.replicas") && strstr(err.s, "1-64"), "... with the range: %s", err.s);
	free(d);

	/* a swarm-only member may share a port with a one-machine one (never beside it) */
	d = subdir("sw6");
	write_file("sw6/db/service.conf", "image = pancake/db\nport = 26379\nprobe = redis\n");
	write_file("sw6/watch/service.conf", "image = pancake/w\nport = 26379\nprobe = redis\nswarm.only = yes\n");
	buf_reset(&err);
	n = service_load_dir(all, d, &err);
	is_int(n, 2, "a swarm-only member and a one-machine one may publish the same port (%s)", err.s);
	for (i = 0; i < n; i++)
		service_release(&all[i]);
	free(d);
	d = subdir("sw7");
	write_file("sw7/w1/service.conf", "image = pancake/w\nport = 26379\nprobe = redis\nswarm.only = yes\n");
	write_file("sw7/w2/service.conf", "image = pancake/w\nport = 26379\nprobe = redis\nswarm.only = yes\n");
	buf_reset(&err);
	is_int(service_load_dir(all, d, &err), -1, "two swarm-only members on one port are refused");
	free(d);

	d = subdir("sw5");
	svc("sw5/db", "swarm.only = maybe\n");
	buf_reset(&err);
	is_int(service_load_dir(all, d, &err), -1, "swarm.only = maybe is refused");
	free(d);
	buf_release(&err);
}

int main(void)
{
	if (!mkdtemp(tmpdir))
		die("cannot create a temporary directory");
	test_full();
	test_command();
	test_defaults();
	test_errors();
	test_parse_size();
	test_load_dir();
	test_apply_env();
	test_hash();
	test_swarm_keys();
	cleanup();
	return tap_done();
}
