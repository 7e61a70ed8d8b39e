/* tar: writes ustar archives (docker build contexts) to a stdio stream. */
#include "util/tar.h"
#include "util/xalloc.h"

#include <dirent.h>
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#define TAR_MTIME 1700000000ULL

static void octal(char *field, size_t size, unsigned long long v)
{
	snprintf(field, size, "%0*llo", (int)size - 1, v);
}

static int write_header(struct tar *t, const char *name, int type, int mode,
			unsigned long long size, struct buf *err)
{
	unsigned char h[512];
	size_t len = strlen(name), split = 0;
	unsigned sum = 0;
	int i;

	/* the size field holds 11 octal digits: 8 GiB would be cut to 0 */
	if (size >= 1ULL << 33) {
		buf_addf(err, "cannot put '%s' in a tar archive: 8 GiB or more", name);
		return -1;
	}
	memset(h, 0, sizeof(h));
	/* names over 100 bytes go in ustar's 155-byte prefix, split at a '/' */
	if (len > 100) {
		for (split = len - 1; split > 0; split--)
			if (name[split] == '/' && split <= 155 && len - split - 1 <= 100)
				break;
		if (!split) {
			buf_addf(err, "cannot put '%s' in a tar archive: name too long", name);
			return -1;
		}
		memcpy(h + 345, name, split);
		memcpy(h, name + split + 1, len - split - 1);
	} else {
		memcpy(h, name, len);
	}
	octal((char *)h + 100, 8, (unsigned)mode & 07777);
	octal((char *)h + 108, 8, 0);
	octal((char *)h + 116, 8, 0);
	octal((char *)h + 124, 12, size);
	octal((char *)h + 136, 12, TAR_MTIME);
	memset(h + 148, ' ', 8);
	h[156] = (unsigned char)type;
	memcpy(h + 257, "ustar", 6);
	memcpy(h + 263, "00", 2);
	for (i = 0; i < 512; i++)
		sum += h[i];
	snprintf((char *)h + 148, 8, "%06o", sum);
	h[155] = ' ';
	if (fwrite(h, 1, 512, t->out) != 512) {
		buf_addf(err, "cannot write tar archive: %s", strerror(errno));
		return -1;
	}
	t->bytes += 512;
	if (t->hash) {
		char meta[64];
		sha256_update(t->hash, name, len + 1);
		snprintf(meta, sizeof(meta), "%c%o %llu", type, mode, size);
		sha256_update(t->hash, meta, strlen(meta) + 1);
	}
	return 0;
}

static int pad(struct tar *t, unsigned long long size, struct buf *err)
{
	static const char zero[512];
	size_t n = (512 - size % 512) % 512;

	if (n && fwrite(zero, 1, n, t->out) != n) {
		buf_addf(err, "cannot write tar archive: %s", strerror(errno));
		return -1;
	}
	t->bytes += n;
	return 0;
}

int tar_add_data(struct tar *t, const char *name, int mode,
		 const void *data, size_t len, struct buf *err)
{
	if (write_header(t, name, '0', mode, len, err))
		return -1;
	if (len && fwrite(data, 1, len, t->out) != len) {
		buf_addf(err, "cannot write tar archive: %s", strerror(errno));
		return -1;
	}
	if (t->hash)
		sha256_update(t->hash, data, len);
	t->bytes += len;
	return pad(t, len, err);
}

int tar_add_dir(struct tar *t, const char *name, struct buf *err)
{
	char *n = xstrfmt("%s/", name);
	int r = write_header(t, n, '5', 0755, 0, err);

	free(n);
	return r;
}

int tar_add_file(struct tar *t, const char *name, const char *path,
		 struct buf *err)
{
	char chunk[65536];
	struct stat st;
	unsigned long long left;
	FILE *in = fopen(path, "rb");
	int ret = -1;

	if (!in || fstat(fileno(in), &st)) {
		buf_addf(err, "cannot read '%s': %s", path, strerror(errno));
		goto out;
	}
	if (write_header(t, name, '0', (st.st_mode & 0111) ? 0755 : 0644,
			 (unsigned long long)st.st_size, err))
		goto out;
	for (left = (unsigned long long)st.st_size; left; ) {
		size_t want = left < sizeof(chunk) ? (size_t)left : sizeof(chunk);
		size_t got = fread(chunk, 1, want, in);
		if (got != want) {
			buf_addf(err, "'%s' changed while it was read", path);
			goto out;
		}
		if (fwrite(chunk, 1, got, t->out) != got) {
			buf_addf(err, "cannot write tar archive: %s", strerror(errno));
			goto out;
		}
		if (t->hash)
			sha256_update(t->hash, chunk, got);
		left -= got;
	}
	t->bytes += (unsigned long long)st.st_size;
	ret = pad(t, (unsigned long long)st.st_size, err);
out:
	if (in)
		fclose(in);
	return ret;
}

static int cmpstr(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int tar_add_tree(struct tar *t, const char *prefix, const char *dir,
		 struct buf *err)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char **names = NULL;
	size_t n = 0, alloc = 0, i;
	int ret = -1;

	if (!d) {
		buf_addf(err, "cannot read directory '%s': %s", dir, strerror(errno));
		return -1;
	}
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		ALLOC_GROW(names, n + 1, alloc);
		names[n++] = xstrdup(de->d_name);
	}
	closedir(d);
	if (n)	/* an empty directory: qsort may not see NULL */
		qsort(names, n, sizeof(*names), cmpstr);
	for (i = 0; i < n; i++) {
		char *path = xstrfmt("%s/%s", dir, names[i]);
		char *name = *prefix ? xstrfmt("%s/%s", prefix, names[i]) : xstrdup(names[i]);
		struct stat st;
		int r;

		if (stat(path, &st)) {
			buf_addf(err, "cannot read '%s': %s", path, strerror(errno));
			r = -1;
		} else if (S_ISDIR(st.st_mode)) {
			r = tar_add_dir(t, name, err);
			if (!r)
				r = tar_add_tree(t, name, path, err);
		} else if (S_ISREG(st.st_mode)) {
			r = tar_add_file(t, name, path, err);
		} else {
			r = 0; /* sockets, fifos: not part of a build context */
		}
		free(path);
		free(name);
		if (r)
			goto out;
	}
	ret = 0;
out:
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return ret;
}

int tar_finish(struct tar *t, struct buf *err)
{
	static const char zero[1024];

	if (fwrite(zero, 1, sizeof(zero), t->out) != sizeof(zero) || fflush(t->out)) {
		buf_addf(err, "cannot write tar archive: %s", strerror(errno));
		return -1;
	}
	t->bytes += sizeof(zero);
	return 0;
}
