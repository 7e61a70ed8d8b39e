/*
 * test-doctor: doctor_ipvs_probe against fake machine trees under /tmp, the
 * ways a kernel shows IPVS (loaded, a module file, built in) and its absence.
 */
#include "core/doctor.h"
#include "util/xalloc.h"
#include "tap.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>

#define RELEASE "6.1.0-test"

static char base[] = "/tmp/test-doctor-XXXXXX";

/* a fresh empty root under base, named `name` */
static const char *tree(const char *name)
{
	static char p[512];

	snprintf(p, sizeof(p), "%s/%s", base, name);
	if (mkdir(p, 0700))
		die("mkdir '%s': %s", p, strerror(errno));
	return p;
}

/* creates root/path, its folders too; a trailing '/' makes a folder */
static void make(const char *root, const char *path, const char *content)
{
	char p[1024], *s;
	FILE *f;

	snprintf(p, sizeof(p), "%s%s", root, path);
	for (s = p + strlen(root) + 1; (s = strchr(s, '/')); s++) {
		*s = '\0';
		mkdir(p, 0700);
		*s = '/';
	}
	if (p[strlen(p) - 1] == '/')
		return;
	f = fopen(p, "w");
	if (!f)
		die("create '%s': %s", p, strerror(errno));
	fputs(content, f);
	fclose(f);
}

static void expect(const char *root, int available, const char *how, const char *what)
{
	struct doctor_ipvs o;

	memset(&o, 0xff, sizeof(o));
	is_int(doctor_ipvs_probe(root, RELEASE, &o), available, "%s: returns %d", what, available);
	is_int(o.available, available, "%s: available %d", what, available);
	is_str(o.how, how, "%s: how '%s'", what, how);
}

int main(void)
{
	const char *r;

	if (!mkdtemp(base))
		die("mkdtemp: %s", strerror(errno));

	r = tree("proc");
	make(r, "/proc/net/ip_vs", "IP Virtual Server version 1.2.1 (size=4096)\n");
	expect(r, 1, "/proc/net/ip_vs", "loaded, seen in /proc/net/ip_vs");

	r = tree("sys");
	make(r, "/sys/module/ip_vs/", "");
	expect(r, 1, "/sys/module/ip_vs", "loaded, seen in /sys/module");

	r = tree("ko");
	make(r, "/lib/modules/" RELEASE "/kernel/net/netfilter/ipvs/ip_vs.ko.zst", "");
	expect(r, 1, "module file", "not loaded, a compressed module file for this release");

	r = tree("builtin");
	make(r, "/lib/modules/" RELEASE "/modules.builtin",
	     "kernel/net/netfilter/nf_conntrack.ko\nkernel/net/netfilter/ipvs/ip_vs.ko\n");
	expect(r, 1, "built in", "built in, listed in modules.builtin");

	r = tree("absent");
	make(r, "/proc/net/", "");
	make(r, "/sys/module/nf_conntrack/", "");
	/* near misses: another release's module, another module's name */
	make(r, "/lib/modules/5.10.0-other/kernel/net/netfilter/ipvs/ip_vs.ko", "");
	make(r, "/lib/modules/" RELEASE "/kernel/net/netfilter/ipvs/ip_vs_rr.ko", "");
	make(r, "/lib/modules/" RELEASE "/modules.builtin", "kernel/net/netfilter/ipvs/not_ip_vs.ko\n");
	expect(r, 0, "", "absent: no /proc/net/ip_vs, no /sys/module/ip_vs, no ip_vs module");

	r = tree("empty");
	expect(r, 0, "", "absent: an empty machine (no /lib/modules at all)");

	tap_rmtree(base);
	return tap_done();
}
