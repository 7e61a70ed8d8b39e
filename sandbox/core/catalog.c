/*
 * catalog: the datasets pancake knows (datasets/<name>.conf manifests), where
 * their files live, and fetching them: download, checksum, unpack.
 */
#include "core/catalog.h"
#include "clients/download.h"
#include "core/config.h"
#include "util/md5.h"
#include "util/run.h"
#include "util/sha256.h"
#include "util/xalloc.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const struct {
	const char *name;
	enum dataset_format fmt;
} formats[] = {
	{ "ml100k", DS_ML100K }, { "dat", DS_ML_DAT }, { "csv", DS_ML_CSV },
};

static int is_hex(const char *s, size_t n)
{
	size_t i;

	if (strlen(s) != n)
		return 0;
	for (i = 0; i < n; i++)
		if (!isxdigit((unsigned char)s[i]))
			return 0;
	return 1;
}

#define SETSTR(field) snprintf(e->field, sizeof(e->field), "%s", val)

int catalog_load(struct catalog_entry *e, const char *name, struct buf *err)
{
	struct buf text = BUF_INIT;
	char *line, *next;
	int lineno = 0, ret = -1;
	size_t k;

	memset(e, 0, sizeof(*e));
	snprintf(e->path, sizeof(e->path), "%s/datasets/%s.conf", config_home(), name);
	if (strchr(name, '/') || buf_read_file(&text, e->path, 1 << 16)) {
		buf_addf(err, "no dataset named '%s' (no manifest '%s'): 'pancake data list' "
			 "shows the known ones", name, e->path);
		goto out;
	}
	snprintf(e->name, sizeof(e->name), "%s", name);
	for (line = text.s; line && *line; line = next) {
		char *eq, *key, *val;

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		lineno++;
		line = str_trim(line);
		if (!*line || *line == '#')
			continue;
		eq = strchr(line, '=');
		if (!eq) {
			buf_addf(err, "%s:%d: expected 'field = value'", e->path, lineno);
			goto out;
		}
		*eq = '\0';
		key = str_trim(line);
		val = str_trim(eq + 1);
		if (!strcmp(key, "description"))
			SETSTR(description);
		else if (!strcmp(key, "url"))
			SETSTR(url);
		else if (!strcmp(key, "archive_dir"))
			SETSTR(archive_dir);
		else if (!strcmp(key, "licence"))
			SETSTR(licence);
		else if (!strcmp(key, "md5")) {
			if (*val && !is_hex(val, 32)) {
				buf_addf(err, "%s:%d: field 'md5': '%s' is not 32 hex digits", e->path, lineno, val);
				goto out;
			}
			SETSTR(md5);
		} else if (!strcmp(key, "sha256")) {
			if (*val && !is_hex(val, 64)) {
				buf_addf(err, "%s:%d: field 'sha256': '%s' is not 64 hex digits", e->path, lineno, val);
				goto out;
			}
			SETSTR(sha256);
		} else if (!strcmp(key, "size")) {
			char *end;
			e->size = strtoll(val, &end, 10);
			if (*end || e->size < 0) {
				buf_addf(err, "%s:%d: field 'size': '%s' is not a byte count", e->path, lineno, val);
				goto out;
			}
		} else if (!strcmp(key, "format")) {
			for (k = 0; k < ARRAY_SIZE(formats); k++)
				if (!strcmp(val, formats[k].name))
					e->format = formats[k].fmt;
			if (!e->format) {
				buf_addf(err, "%s:%d: field 'format': '%s' is not ml100k, dat or csv",
					 e->path, lineno, val);
				goto out;
			}
		} else {
			buf_addf(err, "%s:%d: unknown field '%s'", e->path, lineno, key);
			goto out;
		}
	}
	if (!*e->url || !*e->archive_dir || !e->format) {
		buf_addf(err, "%s: fields 'url', 'archive_dir' and 'format' are required", e->path);
		goto out;
	}
	ret = 0;
out:
	buf_release(&text);
	return ret;
}

static int cmp_entries(const void *a, const void *b)
{
	return strcmp(((const struct catalog_entry *)a)->name, ((const struct catalog_entry *)b)->name);
}

int catalog_list(struct catalog_entry *out, int max, struct buf *err)
{
	char *dir = xstrfmt("%s/datasets", config_home());
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	if (!d) {
		buf_addf(err, "cannot read '%s': %s", dir, strerror(errno));
		free(dir);
		return -1;
	}
	while ((de = readdir(d)) && n < max) {
		size_t len = strlen(de->d_name);
		char name[64];
		if (len < 6 || len - 5 >= sizeof(name) || strcmp(de->d_name + len - 5, ".conf"))
			continue;
		memcpy(name, de->d_name, len - 5);
		name[len - 5] = '\0';
		if (catalog_load(&out[n], name, err)) {
			closedir(d);
			free(dir);
			return -1;
		}
		n++;
	}
	closedir(d);
	free(dir);
	qsort(out, (size_t)n, sizeof(*out), cmp_entries);
	return n;
}

char *catalog_data_dir(const char *name)
{
	return xstrfmt("%s/datasets/%s", config_cache(), name);
}

int catalog_present(const char *name)
{
	char *dir = catalog_data_dir(name), *stamp = xstrfmt("%s/.pancake-fetched", dir);
	struct stat st;
	int r = !stat(stamp, &st);

	free(dir);
	free(stamp);
	return r;
}

struct fetch_view {
	catalog_progress_fn fn;
	void *ctx;
};

static void on_bytes(int64_t done, int64_t total, void *p)
{
	struct fetch_view *v = p;

	if (v->fn)
		v->fn(FETCH_DOWNLOAD, done, total, NULL, v->ctx);
}

static int check_sums(const struct catalog_entry *e, const char *zip, struct buf *err)
{
	unsigned char chunk[1 << 16];
	struct sha256 s;
	struct md5 m;
	char sh[65], mh[33];
	size_t n;
	FILE *f = fopen(zip, "rb");

	if (!f) {
		buf_addf(err, "cannot read '%s': %s", zip, strerror(errno));
		return -1;
	}
	sha256_init(&s);
	md5_init(&m);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		sha256_update(&s, chunk, n);
		md5_update(&m, chunk, n);
	}
	fclose(f);
	sha256_hex(&s, sh);
	md5_hex(&m, mh);
	if ((*e->sha256 && strcasecmp(sh, e->sha256)) || (*e->md5 && strcasecmp(mh, e->md5))) {
		buf_addf(err, "'%s' does not match its manifest '%s' (sha256 %s, md5 %s): the "
			 "download is damaged or the file changed upstream; it was removed, run "
			 "the command again", zip, e->path, sh, mh);
		unlink(zip);
		return -1;
	}
	return 0;
}

int catalog_fetch(const struct catalog_entry *e, catalog_progress_fn fn, void *ctx,
		  struct buf *err)
{
	struct fetch_view v = { fn, ctx };
	char *root = xstrfmt("%s/datasets", config_cache());
	char *zip = xstrfmt("%s/%s.zip", root, e->name);
	char *part = xstrfmt("%s.part", zip);
	char *tmp = xstrfmt("%s/.%s.unpack", root, e->name);
	char *dest = catalog_data_dir(e->name);
	char *inner = xstrfmt("%s/%s", tmp, e->archive_dir);
	char *stamp = xstrfmt("%s/.pancake-fetched", dest);
	const char *mirror = getenv("PANCAKE_DATASETS_URL");
	char *url = NULL;
	struct buf tail = BUF_INIT;
	struct stat st;
	int ret = -1, rc;

	if (config_mkdirs(root)) {
		buf_addf(err, "cannot create '%s': %s", root, strerror(errno));
		goto out;
	}
	if (mirror && *mirror) {
		const char *file = strrchr(e->url, '/');
		url = xstrfmt("%s%s%s", mirror, mirror[strlen(mirror) - 1] == '/' ? "" : "/",
			      file ? file + 1 : e->url);
	} else {
		url = xstrdup(e->url);
	}
	if (stat(zip, &st)) {
		if (fn)
			fn(FETCH_DOWNLOAD, 0, e->size, url, ctx);
		rc = download_file(url, part, on_bytes, &v, err);
		if (rc == DOWNLOAD_EOFFLINE) {
			buf_reset(err);
			buf_addf(err, "cannot download '%s': no network route to it (are you offline?); "
				 "copy the archive to '%s' by other means, or set PANCAKE_DATASETS_URL "
				 "to a mirror, and run the command again", url, zip);
		}
		if (rc)
			goto out;
		if (rename(part, zip)) {
			buf_addf(err, "cannot rename '%s': %s", part, strerror(errno));
			goto out;
		}
	}
	if (fn)
		fn(FETCH_VERIFY, 0, 0, zip, ctx);
	if (check_sums(e, zip, err))
		goto out;
	if (!run_have("unzip")) {
		buf_addstr(err, "unzip is not installed: run 'sudo apt-get install unzip'");
		goto out;
	}
	if (fn)
		fn(FETCH_UNPACK, 0, 0, dest, ctx);
	if (run_remove_tree(tmp, err) || config_mkdirs(tmp)) {
		buf_addf(err, "cannot prepare '%s'", tmp);
		goto out;
	}
	{
		const char *argv[] = { "unzip", "-q", "-o", zip, "-d", tmp, NULL };
		rc = run_command(argv, NULL, &tail, err);
		if (rc) {
			if (rc > 0)
				buf_addf(err, "cannot unpack '%s' (unzip exit %d): %s", zip, rc, tail.s);
			goto out;
		}
	}
	if (stat(inner, &st) || !S_ISDIR(st.st_mode)) {
		buf_addf(err, "'%s' has no folder '%s' inside: check field 'archive_dir' of '%s'",
			 zip, e->archive_dir, e->path);
		goto out;
	}
	if (run_remove_tree(dest, err) || rename(inner, dest)) {
		buf_addf(err, "cannot move the unpacked files to '%s': %s", dest, strerror(errno));
		goto out;
	}
	{
		FILE *f = fopen(stamp, "w");
		if (!f || fprintf(f, "%s\n", url) < 0 || fclose(f)) {
			buf_addf(err, "cannot write '%s': %s", stamp, strerror(errno));
			goto out;
		}
	}
	if (fn)
		fn(FETCH_DONE, 0, 0, dest, ctx);
	ret = 0;
out:
	if (tmp)
		run_remove_tree(tmp, &tail);
	buf_release(&tail);
	free(root);
	free(zip);
	free(part);
	free(tmp);
	free(dest);
	free(inner);
	free(stamp);
	free(url);
	return ret;
}

char *catalog_generated_dir(void)
{
	return xstrfmt("%s/datasets/generated", config_home());
}

static int is_dir(const char *p)
{
	struct stat st;

	return !stat(p, &st) && S_ISDIR(st.st_mode);
}

/* a generated dataset is complete once its ratings.csv is in place */
static int generated_complete(const char *dir)
{
	char *p = xstrfmt("%s/ratings.csv", dir);
	struct stat st;
	int r = !stat(p, &st) && S_ISREG(st.st_mode);

	free(p);
	return r;
}

static int cmp_local(const void *a, const void *b)
{
	const struct catalog_local *x = a, *y = b;

	if (x->fetched != y->fetched)
		return y->fetched - x->fetched;
	return strcmp(x->name, y->name);
}

int catalog_local_list(struct catalog_local *out, int max)
{
	struct catalog_entry es[32];
	struct buf err = BUF_INIT;
	char *gen = catalog_generated_dir();
	struct dirent *de;
	DIR *d;
	int n = 0, ne, i;

	ne = catalog_list(es, 32, &err);
	for (i = 0; i < ne && n < max; i++) {
		char *dir;

		if (!catalog_present(es[i].name))
			continue;
		dir = catalog_data_dir(es[i].name);
		memcpy(out[n].name, es[i].name, sizeof(es[i].name));
		snprintf(out[n].dir, sizeof(out[n].dir), "%s", dir);
		out[n].fetched = 1;
		free(dir);
		n++;
	}
	if ((d = opendir(gen))) {
		while ((de = readdir(d)) && n < max) {
			char *dir;

			if (de->d_name[0] == '.' || strlen(de->d_name) >= sizeof(out[n].name))
				continue;
			dir = xstrfmt("%s/%s", gen, de->d_name);
			if (is_dir(dir) && generated_complete(dir) &&
			    strlen(dir) < sizeof(out[n].dir)) {
				memcpy(out[n].name, de->d_name, strlen(de->d_name) + 1);
				memcpy(out[n].dir, dir, strlen(dir) + 1);
				out[n].fetched = 0;
				n++;
			}
			free(dir);
		}
		closedir(d);
	}
	free(gen);
	buf_release(&err);
	qsort(out, (size_t)n, sizeof(*out), cmp_local);
	return n;
}

char *catalog_resolve(const char *arg, char **name)
{
	const char *slash;
	char *gen, *p;

	*name = NULL;
	if (is_dir(arg)) {
		/* "dir/" names the folder, not "" */
		size_t len = strlen(arg);
		char *copy = xstrdup(arg);

		while (len > 1 && copy[len - 1] == '/')
			copy[--len] = '\0';
		slash = strrchr(copy, '/');
		*name = xstrdup(slash && slash[1] ? slash + 1 : copy);
		free(copy);
		return xstrdup(arg);
	}
	if (strchr(arg, '/') || !*arg)
		return NULL;
	if (catalog_present(arg)) {
		*name = xstrdup(arg);
		return catalog_data_dir(arg);
	}
	gen = catalog_generated_dir();
	p = xstrfmt("%s/%s", gen, arg);
	free(gen);
	if (is_dir(p) && generated_complete(p)) {
		*name = xstrdup(arg);
		return p;
	}
	free(p);
	return NULL;
}
