/*
 * fuzz-service: service.conf parsing. Each input is written to a file under
 * /dev/shm (or $TMPDIR) and read back by service_load(), as the launcher
 * reads services/<name>/service.conf; the input up to its first NUL is also
 * read as a size by parse_size().
 */
#include "fuzz.h"
#include "core/service.h"
#include "util/xalloc.h"

#include <ctype.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

static char conf_path[256];

/*
 * The scratch file, one per process so parallel fuzzers do not collide.
 * It is removed after every input: libFuzzer ends without running atexit.
 */
static const char *scratch(void)
{
	const char *dir = access("/dev/shm", W_OK) ? getenv("TMPDIR") : "/dev/shm";

	if (!conf_path[0])
		snprintf(conf_path, sizeof(conf_path), "%s/pancake-fuzz-service-%d.conf",
			 dir && *dir ? dir : "/tmp", (int)getpid());
	return conf_path;
}

static void write_conf(const char *path, const uint8_t *data, size_t size)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	size_t off = 0;

	if (fd < 0) {
		perror(path);
		abort();
	}
	while (off < size) {
		ssize_t n = write(fd, data + off, size - off);

		if (n <= 0) {
			perror(path);
			abort();
		}
		off += (size_t)n;
	}
	close(fd);
}

static void check_service(const struct service *s)
{
	char hash[65];
	int i;

	CHECK(!strcmp(s->name, "fuzz") && s->image && *s->image);
	CHECK(s->nports >= 1 && s->nports <= (int)ARRAY_SIZE(s->ports));
	for (i = 0; i < s->nports; i++) {
		CHECK(s->ports[i].host_port >= 1 && s->ports[i].host_port <= 65535);
		CHECK(s->ports[i].container_port >= 1 && s->ports[i].container_port <= 65535);
		CHECK(memchr(s->ports[i].host_ip, '\0', sizeof(s->ports[i].host_ip)));
	}
	CHECK(service_host_port(s, s->probe_port) > 0);
	CHECK(s->probe > PROBE_NONE && s->probe <= PROBE_HTTP);
	CHECK(strcmp(probe_kind_name(s->probe), "none"));
	CHECK(s->nvolumes >= 0 && s->nvolumes <= (int)ARRAY_SIZE(s->volumes));
	for (i = 0; i < s->nvolumes; i++)
		CHECK(s->volumes[i].name && s->volumes[i].target[0] == '/');
	for (i = 0; i < 2; i++) {
		CHECK(memchr(s->heap[i], '\0', sizeof(s->heap[i])));
		CHECK(s->memory[i] == 0 || s->memory[i] >= 32 * 1024 * 1024);
		service_config_hash(s, (enum heap_profile)i, i ? "sha256:x" : NULL, hash);
		CHECK(strlen(hash) == 64);
	}
	CHECK(s->ready_timeout_s >= 1 && s->ready_timeout_s <= 3600);
	CHECK(s->stop_timeout_s >= 1 && s->stop_timeout_s <= 3600);
}

static void fuzz_parse_size(const uint8_t *data, size_t size)
{
	char *s = xstrndup((const char *)data, size);
	int64_t v = parse_size(s);
	size_t digits = strspn(s, "0123456789");

	CHECK(v >= -1);
	/* digits alone, or with a "b", are bytes */
	if (digits && (!s[digits] || (tolower((unsigned char)s[digits]) == 'b' && !s[digits + 1])) &&
	    digits < 19)
		CHECK(v == (int64_t)strtoll(s, NULL, 10));
	free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *path = scratch();
	struct service s;
	struct buf err = BUF_INIT;
	int r;

	write_conf(path, data, size);
	r = service_load(&s, "fuzz", path, &err);
	unlink(path);
	CHECK(r == 0 || r == -1);
	CHECK(!r == !err.len);
	if (!r) {
		check_service(&s);
		CHECK(service_apply_env(&s, &err) == 0 || err.len);
	}
	service_release(&s);
	buf_release(&err);

	fuzz_parse_size(data, size);
	return 0;
}
