/*
 * test-tar: util/tar's ustar archives (docker build contexts), checked byte
 * for byte against the format and read back by the system's tar.
 */
#include "util/buf.h"
#include "util/sha256.h"
#include "util/tar.h"
#include "util/xalloc.h"
#include "tap.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static char *tmpdir;

/* ---- reading an archive back ---- */

static unsigned long long oct(const unsigned char *field, size_t n)
{
	char tmp[16];

	memcpy(tmp, field, n);
	tmp[n] = '\0';
	return strtoull(tmp, NULL, 8);
}

/* the ustar header checksum: every byte, the checksum field read as spaces */
static unsigned header_sum(const unsigned char *h)
{
	unsigned sum = 0;
	int i;

	for (i = 0; i < 512; i++)
		sum += (i >= 148 && i < 156) ? ' ' : h[i];
	return sum;
}

static int all_zero(const unsigned char *p, size_t n)
{
	while (n--)
		if (*p++)
			return 0;
	return 1;
}

/* reads `path` whole into `b`; dies if it cannot */
static void slurp(struct buf *b, const char *path)
{
	buf_reset(b);
	if (buf_read_file(b, path, 1 << 26))
		die("cannot read '%s': %s", path, strerror(errno));
}

/* runs a shell command; returns its exit code */
static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
	struct buf cmd = BUF_INIT;
	va_list ap;
	int rc;

	va_start(ap, fmt);
	buf_vaddf(&cmd, fmt, ap);
	va_end(ap);
	fflush(stdout);
	rc = system(cmd.s);
	buf_release(&cmd);
	return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

/* the output of a shell command */
static void sh_out(struct buf *out, const char *cmd)
{
	FILE *p;
	char chunk[4096];
	size_t n;

	buf_reset(out);
	fflush(stdout);
	p = popen(cmd, "r");
	if (!p)
		die("popen: %s", strerror(errno));
	while ((n = fread(chunk, 1, sizeof(chunk), p)) > 0)
		buf_add(out, chunk, n);
	pclose(p);
}

static void write_file(const char *path, const char *data, size_t len, int mode)
{
	FILE *f = fopen(path, "wb");

	if (!f || fwrite(data, 1, len, f) != len || fclose(f))
		die("cannot write '%s': %s", path, strerror(errno));
	chmod(path, (mode_t)mode);
}

static FILE *open_out(const char *name, char **path)
{
	FILE *f;

	*path = xstrfmt("%s/%s", tmpdir, name);
	f = fopen(*path, "wb");
	if (!f)
		die("cannot write '%s': %s", *path, strerror(errno));
	return f;
}

/* ---- the format, byte for byte ---- */

static void test_layout(void)
{
	struct buf err = BUF_INIT, a = BUF_INIT;
	char *path, content[600];
	struct tar t = { NULL, NULL, 0 };
	const unsigned char *h;
	char want[16];

	memset(content, 'c', sizeof(content));
	t.out = open_out("layout.tar", &path);
	is_int(tar_add_data(&t, "hello.txt", 0644, "hello\n", 6, &err), 0,
	       "tar_add_data of 6 bytes");
	is_int(tar_add_data(&t, "empty", 0600, "", 0, &err), 0,
	       "tar_add_data of an empty file");
	is_int(tar_add_dir(&t, "sub", &err), 0, "tar_add_dir");
	is_int(tar_add_data(&t, "sub/run.sh", 04755 | 0100000, content, 512, &err), 0,
	       "a file of exactly one block, mode with file-type bits");
	is_int(tar_add_data(&t, "sub/big", 0644, content, 600, &err), 0,
	       "a file of a block and a bit");
	is_int(tar_finish(&t, &err), 0, "tar_finish");
	fclose(t.out);
	slurp(&a, path);

	/* 5 headers; data blocks 1 + 0 + 0 + 1 + 2; two zero blocks */
	is_int(a.len, (5 + 1 + 1 + 2 + 2) * 512, "archive size: headers, padded data, end");
	is_int(t.bytes, a.len, "t.bytes counts every byte written");
	if (a.len != 11 * 512)
		goto out;

	h = (const unsigned char *)a.s;
	ok(!memcmp(h, "hello.txt", 10) && all_zero(h + 9, 100 - 9),
	   "name field: the name, NUL-padded to 100");
	ok(!memcmp(h + 100, "0000644", 8), "mode field: 7 octal digits and NUL");
	ok(!memcmp(h + 108, "0000000", 8) && !memcmp(h + 116, "0000000", 8),
	   "uid and gid 0 (root)");
	ok(!memcmp(h + 124, "00000000006", 12), "size field: 11 octal digits and NUL");
	snprintf(want, sizeof(want), "%011llo", 1700000000ULL);
	ok(!memcmp(h + 136, want, 12), "mtime fixed at 1700000000 (%s)", want);
	is_int(oct(h + 148, 6), header_sum(h), "checksum is the byte sum");
	ok(h[154] == '\0' && h[155] == ' ',
	   "checksum field: 6 octal digits, NUL, space");
	is_int(h[156], '0', "typeflag '0' for a regular file");
	ok(!memcmp(h + 257, "ustar\0" "00", 8), "magic \"ustar\\0\" and version \"00\"");
	ok(all_zero(h + 157, 100) && all_zero(h + 265, 512 - 265),
	   "link name, owner names, devices and prefix left empty");
	ok(!memcmp(h + 512, "hello\n", 6) && all_zero(h + 518, 512 - 6),
	   "data, then zeros to the block's end");

	h += 1024;
	ok(!memcmp(h, "empty", 6) && !memcmp(h + 124, "00000000000", 12) &&
	   !memcmp(h + 100, "0000600", 8), "empty file: size 0, its own mode");
	is_int(oct(h + 148, 6), header_sum(h), "its checksum");
	h += 512;	/* no data block for an empty file */
	ok(!memcmp(h, "sub/", 5) && h[156] == '5' && !memcmp(h + 100, "0000755", 8) &&
	   !memcmp(h + 124, "00000000000", 12),
	   "directory: name with a slash, typeflag '5', mode 0755, size 0");
	is_int(oct(h + 148, 6), header_sum(h), "its checksum");
	h += 512;
	ok(!memcmp(h, "sub/run.sh", 11) && !memcmp(h + 100, "0004755", 8),
	   "mode keeps the setuid bit, drops the file-type bits");
	ok(!memcmp(h + 124, "00000001000", 12) && h[512] == 'c' && h[1023] == 'c' &&
	   !memcmp(h + 1024, "sub/big", 8),
	   "a 512-byte file takes one block, no padding, next header right after");
	h += 1024;
	ok(!memcmp(h + 124, "00000001130", 12), "size 600 in octal is 1130");
	ok(h[512 + 599] == 'c' && all_zero(h + 512 + 600, 1024 - 600),
	   "600 bytes padded to 1024 with zeros");
	h += 512 + 1024;
	ok(h == (const unsigned char *)a.s + a.len - 1024 && all_zero(h, 1024),
	   "two zero blocks end the archive");

	/* the system's tar reads it back */
	is_int(sh("mkdir -p %s/x && tar -xpf %s -C %s/x", tmpdir, path, tmpdir), 0,
	       "tar -xpf extracts it without complaint");
	{
		struct buf f = BUF_INIT;
		struct stat st;
		char *p = xstrfmt("%s/x/hello.txt", tmpdir);

		slurp(&f, p);
		is_str(f.s, "hello\n", "extracted hello.txt has its content");
		free(p);
		p = xstrfmt("%s/x/sub/big", tmpdir);
		slurp(&f, p);
		ok(f.len == 600 && !memcmp(f.s, content, 600), "extracted sub/big: 600 bytes");
		free(p);
		p = xstrfmt("%s/x/sub/run.sh", tmpdir);
		ok(!stat(p, &st) && (st.st_mode & 07777) == 04755,
		   "sub/run.sh extracted with mode 4755 (%o)", st.st_mode & 07777);
		free(p);
		p = xstrfmt("%s/x/empty", tmpdir);
		ok(!stat(p, &st) && st.st_size == 0 && (st.st_mode & 0777) == 0600,
		   "empty extracted empty, mode 600");
		ok(st.st_mtime == 1700000000, "with the fixed mtime");
		free(p);
		buf_release(&f);
	}
out:
	free(path);
	buf_release(&a);
	buf_release(&err);
}

/* ---- names: up to 100 bytes plain, longer split into ustar's prefix ---- */

static void test_names(void)
{
	struct buf err = BUF_INIT, a = BUF_INIT, list = BUF_INIT, want = BUF_INIT;
	struct tar t = { NULL, NULL, 0 };
	char n100[101], dir150[151], leaf100[101], *longname, *toolong, *deep;
	char *longdir, d160[161];
	char *path, *cmd;
	unsigned long long before;
	const unsigned char *h;

	memset(n100, 'n', 100);
	n100[100] = '\0';
	memset(dir150, 'd', 150);
	dir150[150] = '\0';
	memset(leaf100, 'l', 100);
	leaf100[100] = '\0';
	longname = xstrfmt("%s/%s", dir150, leaf100);	/* 251 bytes */
	toolong = xstrfmt("%s/%sx", dir150, leaf100);	/* leaf of 101 */
	memset(d160, 'd', 160);
	d160[160] = '\0';
	deep = xstrfmt("%s/leaf", d160);		/* only slash past 155 */
	longdir = xstrfmt("%s/%.99s", dir150, leaf100);	/* 250, 251 with '/' */

	t.out = open_out("names.tar", &path);
	is_int(tar_add_data(&t, n100, 0644, "a", 1, &err), 0,
	       "a name of exactly 100 bytes fits the name field");
	is_int(tar_add_data(&t, longname, 0644, "b", 1, &err), 0,
	       "a 251-byte name with a '/' goes in the prefix");
	before = t.bytes;
	is_int(tar_add_data(&t, toolong, 0644, "c", 1, &err), -1,
	       "a last component of 101 bytes is refused");
	ok(strstr(err.s, "name too long") && strstr(err.s, leaf100),
	   "the message says why and names it: %.60s...", err.s);
	is_int(t.bytes, before, "and nothing was written for it");
	buf_reset(&err);
	{
		char *flat = xstrfmt("%sz", n100);	/* 101, no slash */
		is_int(tar_add_data(&t, flat, 0644, "d", 1, &err), -1,
		       "a 101-byte name without a slash is refused");
		free(flat);
	}
	buf_reset(&err);
	is_int(tar_add_data(&t, deep, 0644, "e", 1, &err), -1,
	       "a name whose directory part passes 155 bytes is refused");
	ok(strstr(err.s, "cannot put '") == err.s && strstr(err.s, "name too long"),
	   "in the module's words: %.40s...", err.s);
	buf_reset(&err);
	is_int(tar_add_dir(&t, longdir, &err), 0,
	       "a long directory name splits too, its slash counted in the leaf");
	buf_reset(&err);
	is_int(tar_add_dir(&t, longname, &err), -1,
	       "a directory whose leaf and slash make 101 bytes is refused");
	is_int(tar_finish(&t, &err), 0, "finished");
	fclose(t.out);
	slurp(&a, path);
	is_int(a.len, 5 * 512 + 1024, "only the accepted entries are in it");

	h = (const unsigned char *)a.s;
	ok(!memcmp(h, n100, 100) && h[100] == '0',
	   "100-byte name fills the field with no NUL, mode right after");
	is_int(oct(h + 148, 6), header_sum(h), "its checksum");
	h += 1024;
	ok(!memcmp(h + 345, dir150, 150) && h[345 + 150] == '\0',
	   "the directory part in the prefix field, without the slash");
	ok(!memcmp(h, leaf100, 100), "the leaf in the name field");
	is_int(oct(h + 148, 6), header_sum(h), "its checksum");

	buf_addf(&want, "%s\n%s\n%s/\n", n100, longname, longdir);
	cmd = xstrfmt("tar -tf %s", path);
	sh_out(&list, cmd);
	is_str(list.s, want.s, "tar -tf lists the full names, in order");
	free(cmd);
	cmd = xstrfmt("tar -tvf %s --numeric-owner", path);
	sh_out(&list, cmd);
	ok(strstr(list.s, "-rw-r--r-- 0/0") && strstr(list.s, "drwxr-xr-x 0/0") &&
	   strstr(list.s, "2023-11-1"),
	   "tar -tvf: modes, owner 0/0, the fixed date");
	free(cmd);

	free(path);
	free(longname);
	free(toolong);
	free(deep);
	free(longdir);
	buf_release(&a);
	buf_release(&list);
	buf_release(&want);
	buf_release(&err);
}

/* ---- files and trees from disk ---- */

static void test_tree(void)
{
	struct buf err = BUF_INIT, list = BUF_INIT, diff = BUF_INIT;
	struct tar t = { NULL, NULL, 0 };
	char *src = xstrfmt("%s/src", tmpdir), *p, *path, *cmd;
	char big[70000];
	size_t i;

	for (i = 0; i < sizeof(big); i++)
		big[i] = (char)(i * 7 + i / 300);
	p = xstrfmt("mkdir -p %s/b/inner %s/a %s/emptydir && mkfifo %s/b/fifo",
		    src, src, src, src);
	if (sh("%s", p))
		die("cannot make the source tree");
	free(p);
#define PUT(rel, data, len, mode) do { p = xstrfmt("%s/%s", src, rel); \
	write_file(p, data, len, mode); free(p); } while (0)
	PUT("z.txt", "last\n", 5, 0644);
	PUT("a/run", "#!/bin/sh\n", 10, 0700);
	PUT("b/inner/big.bin", big, sizeof(big), 0640);
	PUT("b/empty", "", 0, 0644);
	PUT("B-upper", "upper", 5, 0644);
#undef PUT

	t.out = open_out("tree.tar", &path);
	is_int(tar_add_tree(&t, "ctx", src, &err), 0, "tar_add_tree of a tree with a fifo");
	if (err.len)
		printf("# %s\n", err.s);
	is_int(tar_finish(&t, &err), 0, "finished");
	fclose(t.out);

	cmd = xstrfmt("tar -tf %s", path);
	sh_out(&list, cmd);
	is_str(list.s, "ctx/B-upper\nctx/a/\nctx/a/run\nctx/b/\nctx/b/empty\n"
	       "ctx/b/inner/\nctx/b/inner/big.bin\nctx/emptydir/\nctx/z.txt\n",
	       "entries sorted by name (bytewise), directories before their "
	       "contents, the fifo left out");
	free(cmd);
	cmd = xstrfmt("tar -tvf %s", path);
	sh_out(&list, cmd);
	ok(strstr(list.s, "-rwxr-xr-x") && strstr(list.s, "ctx/a/run"),
	   "an executable file becomes 0755");
	ok(!strstr(list.s, "-rwx------") && !strstr(list.s, "-rw-r-----"),
	   "modes are normalised to 0755 / 0644, not copied");
	free(cmd);

	is_int(sh("mkdir -p %s/out && tar -xf %s -C %s/out", tmpdir, path, tmpdir), 0,
	       "tar -xf extracts the tree");
	cmd = xstrfmt("diff -r %s %s/out/ctx 2>&1", src, tmpdir);
	sh_out(&diff, cmd);
	free(cmd);
	cmd = xstrfmt("Only in %s/b: fifo\n", src);
	is_str(diff.s, cmd, "diff -r: the same files with the same bytes, "
	       "but for the fifo");
	free(cmd);
	free(path);

	/* a missing file, a missing tree */
	t.out = open_out("bad.tar", &path);
	t.bytes = 0;
	buf_reset(&err);
	p = xstrfmt("%s/nope", tmpdir);
	is_int(tar_add_file(&t, "nope", p, &err), -1, "tar_add_file of a missing file fails");
	ok(strstr(err.s, "cannot read '") && strstr(err.s, "No such file"),
	   "naming it and why: %s", err.s);
	buf_reset(&err);
	is_int(tar_add_tree(&t, "", p, &err), -1, "tar_add_tree of a missing directory fails");
	ok(strstr(err.s, "cannot read directory '"), "naming it: %s", err.s);
	is_int(t.bytes, 0, "nothing written for either");
	fclose(t.out);
	free(p);
	free(path);

	free(src);
	buf_release(&err);
	buf_release(&list);
	buf_release(&diff);
}

/* ---- sizes past the 11-digit field, and write failures ---- */

static void test_limits(void)
{
	struct buf err = BUF_INIT;
	struct tar t = { NULL, NULL, 0 };
	char *huge = xstrfmt("%s/huge", tmpdir), *out;
	FILE *f = fopen(huge, "wb");

	/* 8 GiB needs 12 octal digits: the size field holds 11 */
	if (!f || ftruncate(fileno(f), 8LL << 30) || fclose(f))
		die("cannot make a sparse file: %s", strerror(errno));
	t.out = open_out("huge.tar", &out);
	is_int(tar_add_file(&t, "huge", huge, &err), -1,
	       "a file of 8 GiB is refused, not written with a cut size");
	ok(strstr(err.s, "'huge'") && strstr(err.s, "8 GiB"), "says so: %s", err.s);
	is_int(t.bytes, 0, "nothing written for it");
	fclose(t.out);
	unlink(huge);
	free(huge);
	free(out);

	t.out = fopen("/dev/full", "w");
	if (t.out) {
		static char block[1 << 16];

		buf_reset(&err);
		is_int(tar_add_data(&t, "x", 0644, block, sizeof(block), &err), -1,
		       "a full disk fails the write");
		ok(strstr(err.s, "cannot write tar archive") &&
		   strstr(err.s, "No space left"), "and says so: %s", err.s);
		fclose(t.out);
		t.out = fopen("/dev/full", "w");
		buf_reset(&err);
		is_int(tar_finish(&t, &err), -1,
		       "tar_finish fails when the buffered end cannot be flushed");
		fclose(t.out);
	} else {
		ok(0, "no /dev/full: %s", strerror(errno));
	}
	buf_release(&err);
}

/* ---- the content hash ---- */

static void hash_of(unsigned char out[32], const char *name, int mode,
		    const char *data)
{
	struct buf err = BUF_INIT;
	struct sha256 h;
	char *mem = NULL;
	size_t len = 0;
	struct tar t = { NULL, &h, 0 };

	sha256_init(&h);
	t.out = open_memstream(&mem, &len);
	tar_add_dir(&t, "d", &err);
	tar_add_data(&t, name, mode, data, strlen(data), &err);
	tar_finish(&t, &err);
	fclose(t.out);
	sha256_final(&h, out);
	free(mem);
	buf_release(&err);
}

static void test_hash(void)
{
	unsigned char a[32], b[32];

	hash_of(a, "d/f", 0644, "content");
	hash_of(b, "d/f", 0644, "content");
	ok(!memcmp(a, b, 32), "the same entries hash the same");
	hash_of(b, "d/f", 0644, "contenT");
	ok(memcmp(a, b, 32), "a changed byte changes the hash");
	hash_of(b, "d/g", 0644, "content");
	ok(memcmp(a, b, 32), "a renamed file changes the hash");
	hash_of(b, "d/f", 0755, "content");
	ok(memcmp(a, b, 32), "a changed mode changes the hash");
	hash_of(b, "d/fc", 0644, "ontent");
	ok(memcmp(a, b, 32), "moving a byte from content to name changes the hash");
}

static void test_deterministic(void)
{
	struct buf err = BUF_INIT, one = BUF_INIT, two = BUF_INIT;
	char *p1, *p2;
	struct tar t = { NULL, NULL, 0 };
	char *src = xstrfmt("%s/src", tmpdir);

	t.out = open_out("one.tar", &p1);
	tar_add_tree(&t, "", src, &err);
	tar_finish(&t, &err);
	fclose(t.out);
	sh("touch -d '2001-01-01' %s/z.txt", src);
	t.out = open_out("two.tar", &p2);
	t.bytes = 0;
	tar_add_tree(&t, "", src, &err);
	tar_finish(&t, &err);
	fclose(t.out);
	slurp(&one, p1);
	slurp(&two, p2);
	ok(one.len > 70000 && one.len == two.len && !memcmp(one.s, two.s, one.len),
	   "the same tree gives the same bytes, whatever the files' times");
	free(p1);
	free(p2);
	free(src);
	buf_release(&one);
	buf_release(&two);
	buf_release(&err);
}

int main(void)
{
	char tmpl[] = "/tmp/test-tar.XXXXXX";

	tmpdir = mkdtemp(tmpl);
	if (!tmpdir)
		die("mkdtemp: %s", strerror(errno));
	test_layout();
	test_names();
	test_tree();
	test_limits();
	test_hash();
	test_deterministic();
	tap_rmtree(tmpdir);
	return tap_done();
}
