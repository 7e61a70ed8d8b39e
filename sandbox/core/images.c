/*
 * images: builds pancake's images from images/ with no registry (debootstrap
 * for the base, Maven Central for the JVM services) and skips unchanged ones.
 */
#include "core/images.h"
#include "core/config.h"
#include "util/clock.h"
#include "util/run.h"
#include "util/sha256.h"
#include "util/tar.h"
#include "util/xalloc.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define LEFTOVERS_MAX 8

struct build_ctx {
	images_note_fn fn;
	void *ctx;
	const char *image;
	double t0;			/* when the image's build began */
	/* what a build leaves untagged: the image its tag named before, and a
	   multi-stage build's stage results (from the classic builder's output) */
	char current[80];		/* the last " ---> ID" of the build's output */
	char leftovers[LEFTOVERS_MAX][80];
	int nleftovers;
};

static void note(struct build_ctx *b, enum images_phase ph, const char *text)
{
	struct images_note n = { b->image, ph, text, clock_s() - b->t0 };

	if (b->fn)
		b->fn(&n, b->ctx);
}

static void on_line(const char *line, void *ctx)
{
	note(ctx, IMAGES_OUTPUT, line);
}

/*
 * Follows the classic builder's "Step N/M : FROM" and " ---> ID" lines: the
 * image a stage ended with is the last ID before the next FROM. Those stay
 * behind untagged (about the size of their base each) unless removed.
 */
static void track_stages(struct build_ctx *b, const char *line)
{
	const char *p;

	while (*line == ' ')
		line++;
	if (!strncmp(line, "---> ", 5) && strlen(line + 5) < sizeof(b->current) &&
	    strspn(line + 5, "0123456789abcdef") == strlen(line + 5)) {
		snprintf(b->current, sizeof(b->current), "%s", line + 5);
	} else if (!strncmp(line, "Step ", 5) && (p = strstr(line, " : ")) &&
		   !strncasecmp(p + 3, "FROM ", 5)) {
		if (b->current[0] && b->nleftovers < LEFTOVERS_MAX)
			snprintf(b->leftovers[b->nleftovers++], sizeof(b->leftovers[0]), "%s", b->current);
		b->current[0] = '\0';
	}
}

static void on_progress(const struct docker_progress *p, void *ctx)
{
	struct buf t = BUF_INIT;

	buf_addstr(&t, p->stream ? p->stream : p->status ? p->status : "");
	buf_rtrim(&t);
	if (p->stream) {
		/* a stream chunk may hold several lines */
		char *line = t.s, *nl;

		for (; line; line = nl ? nl + 1 : NULL) {
			nl = strchr(line, '\n');
			if (nl)
				*nl = '\0';
			track_stages(ctx, line);
			if (*line)
				note(ctx, IMAGES_OUTPUT, line);
		}
	} else if (t.len) {
		note(ctx, IMAGES_OUTPUT, t.s);
	}
	buf_release(&t);
}

/*
 * After a build: the stages' own images and the image the tag named
 * before, untagged now, removed with their untagged layers. One a tag
 * still names (the new image itself when nothing changed, a base a stage
 * never changed) is left alone; one a container uses is refused by the
 * engine and stays.
 */
static void remove_leftovers(struct docker *d, struct build_ctx *b)
{
	struct buf e = BUF_INIT;
	int i, removed = 0;

	for (i = 0; i < b->nleftovers; i++) {
		struct docker_image img;

		buf_reset(&e);
		memset(&img, 0, sizeof(img));
		/* only what no tag names: the engine would untag and delete a tagged
		   one (the new image itself, when the build changed nothing) */
		if (docker_image_inspect(d, b->leftovers[i], &img, &e) || img.tags.n) {
			docker_image_release(&img);
			continue;
		}
		docker_image_release(&img);
		if (!docker_image_remove(d, b->leftovers[i], 0, &e))
			removed++;
	}
	if (removed) {
		char t[96];

		snprintf(t, sizeof(t), "removed %d image%s the build left untagged", removed,
			 removed == 1 ? "" : "s");
		note(b, IMAGES_STEP, t);
	}
	b->nleftovers = 0;
	b->current[0] = '\0';
	buf_release(&e);
}

/* how long the last build of `image` took, from the cache; 0 if never */
static double last_seconds(const char *image)
{
	char *path = xstrfmt("%s/%s.seconds", config_cache(), image);
	FILE *f = fopen(path, "r");
	double s = 0;

	if (f) {
		if (fscanf(f, "%lf", &s) != 1)
			s = 0;
		fclose(f);
	}
	free(path);
	return s;
}

static void save_seconds(const char *image, double secs)
{
	char *path = xstrfmt("%s/%s.seconds", config_cache(), image);
	FILE *f = fopen(path, "w");

	if (f) {
		fprintf(f, "%.1f\n", secs);
		fclose(f);
	}
	free(path);
}

/* "debootstrap bookworm (the last one took 55 s)": measured, never guessed */
static void note_step(struct build_ctx *b, const char *what, const char *key)
{
	double last = last_seconds(key);
	struct buf t = BUF_INIT;

	buf_addstr(&t, what);
	if (last > 0)
		buf_addf(&t, " (the last one took %.0f s)", last);
	note(b, IMAGES_STEP, t.s);
	buf_release(&t);
}

static int cmp_rows(const void *a, const void *b)
{
	return strcmp(((const struct image_row *)a)->name, ((const struct image_row *)b)->name);
}

int images_defs(struct image_row *out, int max, struct buf *err)
{
	char *dir = xstrfmt("%s/images", config_home());
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 1;

	if (!d) {
		buf_addf(err, "cannot read image definitions in '%s': %s", dir, strerror(errno));
		free(dir);
		return -1;
	}
	memset(&out[0], 0, sizeof(out[0]));
	snprintf(out[0].name, sizeof(out[0].name), "base");
	snprintf(out[0].tag, sizeof(out[0].tag), "%s", IMAGES_BASE_TAG);
	/* the build stage's root filesystem, when the tree has a top-level Dockerfile */
	char *top = xstrfmt("%s/Dockerfile", config_home());
	struct stat tst;
	int has_top = stat(top, &tst) == 0;
	free(top);
	if (has_top) {
		memset(&out[n], 0, sizeof(out[n]));
		snprintf(out[n].name, sizeof(out[n].name), "build");
		snprintf(out[n].tag, sizeof(out[n].tag), "%s", IMAGES_BUILD_TAG);
		n++;
	}
	int first_service = n;
	while ((de = readdir(d)) && n < max - 1) {
		char *df = xstrfmt("%s/%s/Dockerfile", dir, de->d_name);
		struct stat st;
		if (de->d_name[0] != '.' && strlen(de->d_name) < sizeof(out[0].name) &&
		    !stat(df, &st)) {
			memset(&out[n], 0, sizeof(out[n]));
			snprintf(out[n].name, sizeof(out[n].name), "%s", de->d_name);
			snprintf(out[n].tag, sizeof(out[n].tag), "pancake/%s:latest", de->d_name);
			n++;
		}
		free(df);
	}
	closedir(d);
	free(dir);
	qsort(out + first_service, (size_t)(n - first_service), sizeof(*out), cmp_rows);
	if (has_top) {
		memset(&out[n], 0, sizeof(out[n]));
		snprintf(out[n].name, sizeof(out[n].name), "sandbox");
		snprintf(out[n].tag, sizeof(out[n].tag), "%s", IMAGES_SANDBOX_TAG);
		n++;
	}
	return n;
}

/* The Debian mirror from the host's apt sources, so no host name is ours. */
static char *debian_mirror(void)
{
	static const char *const files[] = {
		"/etc/apt/sources.list.d/debian.sources", "/etc/apt/sources.list",
	};
	const char *e = getenv("PANCAKE_DEBIAN_MIRROR");
	size_t i;

	if (e && *e)
		return xstrdup(e);
	for (i = 0; i < ARRAY_SIZE(files); i++) {
		struct buf t = BUF_INIT;
		char *line, *save = NULL;
		if (buf_read_file(&t, files[i], 1 << 20)) {
			buf_release(&t);
			continue;
		}
		for (line = strtok_r(t.s, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
			char url[512];
			while (isspace((unsigned char)*line))
				line++;
			if ((sscanf(line, "URIs: %511s", url) == 1 ||
			     sscanf(line, "deb %511s", url) == 1) &&
			    strstr(url, "debian") && !strstr(url, "security")) {
				char *r = xstrdup(url);
				buf_release(&t);
				return r;
			}
		}
		buf_release(&t);
	}
	return NULL;
}

static int read_packages(const char *image, struct buf *list, struct buf *err)
{
	char *path = xstrfmt("%s/images/%s/packages", config_home(), image);
	struct buf t = BUF_INIT;
	char *line, *save = NULL;
	int ret = -1;

	if (buf_read_file(&t, path, 1 << 16)) {
		buf_addf(err, "cannot read '%s': %s", path, strerror(errno));
		goto out;
	}
	for (line = strtok_r(t.s, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char name[128];
		if (sscanf(line, " %127[a-z0-9.+-]", name) != 1 || line[strspn(line, " ")] == '#')
			continue;
		buf_addf(list, "%s%s", list->len ? "," : "", name);
	}
	ret = 0;
out:
	buf_release(&t);
	free(path);
	return ret;
}

static int label_matches(struct docker *d, const char *tag, const char *hash)
{
	struct docker_image img;
	struct buf e = BUF_INIT;
	int same = 0;

	if (!docker_image_inspect(d, tag, &img, &e)) {
		const char *h = kvlist_get(&img.labels, LABEL_CONTENT_HASH);
		same = h && !strcmp(h, hash);
		docker_image_release(&img);
	}
	buf_release(&e);
	return same;
}

/* starts `tar -C dir -c .` and returns its stdout */
static FILE *tar_pipe(const char *dir, pid_t *pid, struct buf *err)
{
	int fd[2];
	FILE *f;

	if (pipe(fd)) {
		buf_addf(err, "cannot create a pipe: %s", strerror(errno));
		return NULL;
	}
	*pid = fork();
	if (*pid < 0) {
		buf_addf(err, "cannot start tar: %s", strerror(errno));
		close(fd[0]);
		close(fd[1]);
		return NULL;
	}
	if (!*pid) {
		dup2(fd[1], 1);
		close(fd[0]);
		close(fd[1]);
		execlp("tar", "tar", "--numeric-owner", "-C", dir, "-c", ".", (char *)NULL);
		_exit(127);
	}
	close(fd[1]);
	f = fdopen(fd[0], "rb");
	if (!f)
		die("fdopen failed");
	return f;
}

/*
 * A root filesystem image from images/<name>/packages: "base" (what the
 * services and the native binaries run on) or "build" (compilers and
 * development libraries, the first stage of the top-level Dockerfile).
 */
static int build_rootfs(struct docker *d, const char *name, int force, struct build_ctx *b,
			struct buf *err)
{
	char *repo = xstrfmt("pancake/%s", name), *tag = xstrfmt("%s:bookworm", repo);
	struct buf pkgs = BUF_INIT, id = BUF_INIT, tail = BUF_INIT, e2 = BUF_INIT;
	char hash[65], *mirror = NULL, *root = NULL, *stamp = NULL;
	struct kvlist labels = KVLIST_INIT;
	struct sha256 c;
	struct stat st;
	FILE *in = NULL;
	pid_t pid = -1;
	int ret = -1;

	if (read_packages(name, &pkgs, err))
		goto out;
	sha256_init(&c);
	sha256_update(&c, "bookworm minbase\n", 17);
	sha256_update(&c, pkgs.s, pkgs.len);
	sha256_hex(&c, hash);
	if (!force && label_matches(d, tag, hash)) {
		note(b, IMAGES_SKIP, "up to date");
		ret = 0;
		goto out;
	}
	root = xstrfmt("%s/rootfs-%.12s", config_cache(), hash);
	stamp = xstrfmt("%s/.pancake-complete", root);
	if (stat(stamp, &st)) {
		const char *argv[] = { "debootstrap", "--variant=minbase", NULL, "bookworm",
				       root, NULL, NULL };
		struct run_opts ro = { NULL, on_line, b, -1, 1800 };
		char *inc = xstrfmt("--include=%s", pkgs.s);
		int rc;

		mirror = debian_mirror();
		if (!mirror) {
			buf_addstr(err, "cannot find a Debian mirror in /etc/apt/sources.list*: "
				   "set PANCAKE_DEBIAN_MIRROR=http://your.mirror/debian");
			free(inc);
			goto out;
		}
		if (!run_have("debootstrap")) {
			buf_addstr(err, "debootstrap is not installed: run 'sudo apt-get install "
				   "debootstrap' (the base image is made with it)");
			free(inc);
			goto out;
		}
		if (geteuid() != 0) {
			buf_addstr(err, "building the base image runs debootstrap, which needs root: "
				   "run 'sudo pancake images build'");
			free(inc);
			goto out;
		}
		if (config_mkdirs(config_cache())) {
			buf_addf(err, "cannot create cache directory '%s': %s", config_cache(), strerror(errno));
			free(inc);
			goto out;
		}
		/* a half-made tree from an interrupted run is not reused */
		if (run_remove_tree(root, err)) {
			free(inc);
			goto out;
		}
		argv[2] = inc;
		argv[5] = mirror;
		{
			char *key = xstrfmt("debootstrap-%s", name);
			double t = clock_s();

			note_step(b, "debootstrap bookworm", key);
			rc = run_command(argv, &ro, &tail, err);
			if (!rc)
				save_seconds(key, clock_s() - t);
			free(key);
		}
		free(inc);
		if (rc) {
			if (rc > 0)
				buf_addf(err, "debootstrap failed (exit %d); its last lines:\n%s", rc, tail.s);
			goto out;
		}
		if (!fopen(stamp, "w")) {
			buf_addf(err, "cannot write '%s': %s", stamp, strerror(errno));
			goto out;
		}
	} else {
		note(b, IMAGES_STEP, "reusing the root filesystem made earlier");
	}
	note(b, IMAGES_STEP, "importing the root filesystem");
	in = tar_pipe(root, &pid, err);
	if (!in)
		goto out;
	kvlist_set(&labels, LABEL_CONTENT_HASH, hash);
	kvlist_set(&labels, LABEL_IMAGE, name);
	ret = docker_image_import(d, in, repo, "bookworm", &labels, on_progress, b, &id, err);
	fclose(in);
	in = NULL;
	if (pid > 0) {
		int status;
		waitpid(pid, &status, 0);
		if (!ret && (!WIFEXITED(status) || WEXITSTATUS(status))) {
			buf_addf(err, "tar of '%s' failed", root);
			ret = -1;
		}
	}
	if (!ret)
		note(b, IMAGES_DONE, id.s);
out:
	if (in)
		fclose(in);
	kvlist_clear(&labels);
	buf_release(&pkgs);
	buf_release(&id);
	buf_release(&tail);
	buf_release(&e2);
	free(mirror);
	free(root);
	free(stamp);
	free(repo);
	free(tag);
	return ret;
}

/* fetches the jars of images/<name>/pom.xml unless the same pom fetched them */
static int fetch_jars(const char *name, const char *dir, const char *lib,
		      struct build_ctx *b, struct buf *err)
{
	char *pom = xstrfmt("%s/pom.xml", dir), *stampf = xstrfmt("%s/.pom-sha256", lib);
	struct buf pt = BUF_INIT, old = BUF_INIT, tail = BUF_INIT;
	char hash[65];
	struct sha256 c;
	int ret = -1, rc;

	(void)name;
	if (buf_read_file(&pt, pom, 1 << 20)) {
		if (errno == ENOENT)
			ret = 0; /* no jars to fetch */
		else
			buf_addf(err, "cannot read '%s': %s", pom, strerror(errno));
		goto out;
	}
	sha256_init(&c);
	sha256_update(&c, pt.s, pt.len);
	sha256_hex(&c, hash);
	if (!buf_read_file(&old, stampf, 256)) {
		buf_rtrim(&old);
		if (!strcmp(old.s, hash)) {
			note(b, IMAGES_STEP, "jars already fetched for this pom.xml");
			ret = 0;
			goto out;
		}
	}
	if (!run_have("mvn")) {
		buf_addstr(err, "Maven is not installed: run 'sudo apt-get install maven' "
			   "(the JVM images take their jars from Maven Central)");
		goto out;
	}
	{
		char *outdir = xstrfmt("-DoutputDirectory=%s", lib);
		const char *argv[] = { "mvn", "-B", "-q", "-Dstyle.color=never", "-f", pom,
				       "dependency:copy-dependencies", outdir,
				       "-DincludeScope=runtime", NULL };
		struct run_opts ro = { NULL, on_line, b, -1, 1800 };

		if (run_remove_tree(lib, err) || config_mkdirs(lib)) {
			buf_addf(err, "cannot prepare '%s'", lib);
			free(outdir);
			goto out;
		}
		note(b, IMAGES_STEP, "fetching jars from Maven Central (mvn)");
		rc = run_command(argv, &ro, &tail, err);
		free(outdir);
		if (rc) {
			if (rc > 0)
				buf_addf(err, "mvn could not fetch the jars of '%s' (exit %d); its last lines:\n%s",
					 pom, rc, tail.s);
			goto out;
		}
	}
	{
		FILE *f = fopen(stampf, "w");
		if (!f || fprintf(f, "%s\n", hash) < 0 || fclose(f)) {
			buf_addf(err, "cannot write '%s': %s", stampf, strerror(errno));
			goto out;
		}
	}
	ret = 0;
out:
	buf_release(&pt);
	buf_release(&old);
	buf_release(&tail);
	free(pom);
	free(stampf);
	return ret;
}

/*
 * Builds `def` from the context archive in `f`, whose hash `c` has covered
 * every byte of it and the images it builds on, unless the image already
 * carries that hash. `step` is the progress note; `where` names the build
 * definition in an error.
 */
static int build_context(struct docker *d, const struct image_row *def, int force,
			 struct build_ctx *b, FILE *f, struct sha256 *c, const char *step,
			 const char *where, struct buf *err)
{
	struct kvlist labels = KVLIST_INIT;
	struct buf id = BUF_INIT, e = BUF_INIT;
	struct docker_image old;
	char hash[65];
	int ret;
	double t;

	sha256_hex(c, hash);
	if (!force && label_matches(d, def->tag, hash)) {
		note(b, IMAGES_SKIP, "up to date");
		return 0;
	}
	rewind(f);
	note_step(b, step, def->name);
	kvlist_set(&labels, LABEL_CONTENT_HASH, hash);
	kvlist_set(&labels, LABEL_IMAGE, def->name);
	b->nleftovers = 0;
	b->current[0] = '\0';
	/* the image the tag named before: untagged by this build, then removed */
	memset(&old, 0, sizeof(old));
	if (!docker_image_inspect(d, def->tag, &old, &e))
		snprintf(b->leftovers[b->nleftovers++], sizeof(b->leftovers[0]), "%s", old.id);
	docker_image_release(&old);
	buf_release(&e);
	t = clock_s();
	ret = docker_image_build(d, f, def->tag, &labels, on_progress, b, &id, err);
	if (!ret) {
		save_seconds(def->name, clock_s() - t);
		remove_leftovers(d, b);
	}
	if (ret) {
		struct buf m = BUF_INIT;
		buf_addf(&m, "image '%s' failed to build: %s", def->name, err->s);
		buf_reset(err);
		buf_addf(err, "%s\n  (build definition: %s)", m.s, where);
		buf_release(&m);
	} else {
		note(b, IMAGES_DONE, id.s);
	}
	kvlist_clear(&labels);
	buf_release(&id);
	return ret;
}

static int build_service(struct docker *d, const struct image_row *def, int force,
			 struct build_ctx *b, struct buf *err)
{
	char *dir = xstrfmt("%s/images/%s", config_home(), def->name);
	char *cdir = xstrfmt("%s/%s", config_cache(), def->name);
	char *lib = xstrfmt("%s/lib", cdir), *ctxf = xstrfmt("%s/context.tar", cdir);
	char *where = xstrfmt("%s/Dockerfile", dir);
	struct docker_image base;
	struct sha256 c;
	struct stat st;
	struct tar t;
	FILE *f = NULL;
	int ret = -1;

	if (config_mkdirs(cdir)) {
		buf_addf(err, "cannot create cache directory '%s': %s", cdir, strerror(errno));
		goto out;
	}
	if (fetch_jars(def->name, dir, lib, b, err))
		goto out;
	if (docker_image_inspect(d, IMAGES_BASE_TAG, &base, err)) {
		buf_addstr(err, ": build the base first ('pancake images build base')");
		goto out;
	}
	f = fopen(ctxf, "w+b");
	if (!f) {
		buf_addf(err, "cannot write '%s': %s", ctxf, strerror(errno));
		docker_image_release(&base);
		goto out;
	}
	/* the context's hash covers every file and the base it builds on */
	sha256_init(&c);
	sha256_update(&c, base.id, strlen(base.id) + 1);
	docker_image_release(&base);
	t.out = f;
	t.hash = &c;
	t.bytes = 0;
	if (tar_add_tree(&t, "", dir, err))
		goto out;
	if (!stat(lib, &st) && tar_add_dir(&t, "lib", err) == 0) {
		if (tar_add_tree(&t, "lib", lib, err))
			goto out;
	}
	if (tar_finish(&t, err))
		goto out;
	ret = build_context(d, def, force, b, f, &c, "building through the engine (classic builder)",
			    where, err);
out:
	if (f)
		fclose(f);
	unlink(ctxf);
	free(dir);
	free(cdir);
	free(lib);
	free(ctxf);
	free(where);
	return ret;
}

/* the sources `make all` needs: Makefile, *.c, *.h, sorted, under `prefix` */
static int add_sources(struct tar *t, const char *prefix, const char *dir, struct buf *err)
{
	struct dirent **ents = NULL;
	int n = scandir(dir, &ents, NULL, alphasort), ret = 0;

	if (n < 0) {
		buf_addf(err, "cannot read '%s': %s", dir, strerror(errno));
		return -1;
	}
	for (int i = 0; i < n; i++) {
		const char *nm = ents[i]->d_name;
		char *path = xstrfmt("%s/%s", dir, nm);
		char *name = *prefix ? xstrfmt("%s/%s", prefix, nm) : xstrdup(nm);
		size_t len = strlen(nm);
		struct stat st;
		if (!ret && nm[0] != '.' && !lstat(path, &st)) {
			if (S_ISDIR(st.st_mode) && strcmp(nm, "models") && strcmp(nm, "target"))
				ret = tar_add_dir(t, name, err) || add_sources(t, name, path, err);
			else if (S_ISREG(st.st_mode) &&
				 (!strcmp(nm, "Makefile") ||
				  (len > 2 && (!strcmp(nm + len - 2, ".c") || !strcmp(nm + len - 2, ".h")))))
				ret = tar_add_file(t, name, path, err);
		}
		free(path);
		free(name);
		free(ents[i]);
	}
	free(ents);
	return ret ? -1 : 0;
}

/*
 * The top-level Dockerfile: its first stage builds the native binaries from
 * the sources on pancake/build, its second copies them onto pancake/base.
 * The context holds the Dockerfile, the Makefile and the sources only.
 */
static int build_sandbox(struct docker *d, const struct image_row *def, int force,
			 struct build_ctx *b, struct buf *err)
{
	const char *home = config_home();
	char *cdir = xstrfmt("%s/sandbox", config_cache());
	char *ctxf = xstrfmt("%s/context.tar", cdir), *df = xstrfmt("%s/Dockerfile", home);
	char *mk = xstrfmt("%s/Makefile", home);
	char *src_sandbox = xstrfmt("%s/sandbox", home), *src_services = xstrfmt("%s/services", home);
	struct docker_image base, build;
	struct sha256 c;
	struct tar t;
	FILE *f = NULL;
	int ret = -1;

	if (config_mkdirs(cdir)) {
		buf_addf(err, "cannot create cache directory '%s': %s", cdir, strerror(errno));
		goto out;
	}
	if (docker_image_inspect(d, IMAGES_BASE_TAG, &base, err)) {
		buf_addstr(err, ": build the base first ('pancake images build base')");
		goto out;
	}
	if (docker_image_inspect(d, IMAGES_BUILD_TAG, &build, err)) {
		docker_image_release(&base);
		buf_addstr(err, ": build it first ('pancake images build build')");
		goto out;
	}
	f = fopen(ctxf, "w+b");
	if (!f) {
		buf_addf(err, "cannot write '%s': %s", ctxf, strerror(errno));
		docker_image_release(&base);
		docker_image_release(&build);
		goto out;
	}
	sha256_init(&c);
	sha256_update(&c, base.id, strlen(base.id) + 1);
	sha256_update(&c, build.id, strlen(build.id) + 1);
	docker_image_release(&base);
	docker_image_release(&build);
	t.out = f;
	t.hash = &c;
	t.bytes = 0;
	if (tar_add_file(&t, "Dockerfile", df, err) || tar_add_file(&t, "Makefile", mk, err) ||
	    tar_add_dir(&t, "sandbox", err) || add_sources(&t, "sandbox", src_sandbox, err) ||
	    tar_add_dir(&t, "services", err) || add_sources(&t, "services", src_services, err) ||
	    tar_finish(&t, err))
		goto out;
	ret = build_context(d, def, force, b, f, &c,
			    "building the native binaries in the build stage", df,
			    err);
out:
	if (f)
		fclose(f);
	unlink(ctxf);
	free(cdir);
	free(ctxf);
	free(df);
	free(mk);
	free(src_sandbox);
	free(src_services);
	return ret;
}

static int wanted(const char *const *only, const char *name)
{
	if (!only)
		return 1;
	for (; *only; only++)
		if (!strcmp(*only, name))
			return 1;
	return 0;
}

int images_build(struct docker *d, const char *const *only, int force,
		 images_note_fn fn, void *ctx, struct buf *err)
{
	struct image_row defs[IMAGES_MAX];
	struct build_ctx b;
	struct buf e = BUF_INIT;
	int n = images_defs(defs, IMAGES_MAX, err), i;
	const char *const *o;

	memset(&b, 0, sizeof(b));
	b.fn = fn;
	b.ctx = ctx;
	if (n < 0)
		return -1;
	for (o = only; o && *o; o++) {
		for (i = 0; i < n; i++)
			if (!strcmp(defs[i].name, *o))
				break;
		if (i == n) {
			buf_addf(err, "no image named '%s' in '%s/images'", *o, config_home());
			return -1;
		}
	}
	int want_sandbox = wanted(only, "sandbox") && defs[n - 1].name[0] &&
			   !strcmp(defs[n - 1].name, "sandbox");
	for (i = 0; i < n; i++) {
		struct docker_image img;
		const char *name = defs[i].name;
		int need = wanted(only, name);
		int rootfs = !strcmp(name, "base") || !strcmp(name, "build");
		/*
		 * The services need the base and the sandbox needs the build root:
		 * build them when they are missing even if not asked for.
		 */
		int needed_by = !strcmp(name, "base") || (!strcmp(name, "build") && want_sandbox);
		if (rootfs && !need) {
			if (!needed_by)
				continue;
			if (docker_image_inspect(d, defs[i].tag, &img, &e) == 0) {
				docker_image_release(&img);
				continue;
			}
			buf_reset(&e);
		}
		if (!rootfs && !need)
			continue;
		b.image = name;
		b.t0 = clock_s();
		note(&b, IMAGES_START, defs[i].tag);
		if (rootfs ? build_rootfs(d, name, force && need, &b, err)
		    : !strcmp(name, "sandbox") ? build_sandbox(d, &defs[i], force, &b, err)
		    : build_service(d, &defs[i], force, &b, err)) {
			buf_release(&e);
			return -1;
		}
	}
	buf_release(&e);
	return 0;
}

int images_list(struct docker *d, struct image_row *rows, int max, struct buf *err)
{
	int n = images_defs(rows, max, err), i;

	for (i = 0; i < n; i++) {
		struct docker_image img;
		struct buf e = BUF_INIT;
		int r = docker_image_inspect(d, rows[i].tag, &img, &e);
		if (r == DOCKER_ENOTFOUND) {
			buf_release(&e);
			continue;
		}
		if (r) {
			buf_addstr(err, e.s);
			buf_release(&e);
			return -1;
		}
		snprintf(rows[i].id, sizeof(rows[i].id), "%s", img.id);
		snprintf(rows[i].hash, sizeof(rows[i].hash), "%s",
			 kvlist_get(&img.labels, LABEL_CONTENT_HASH) ?
			 kvlist_get(&img.labels, LABEL_CONTENT_HASH) : "");
		rows[i].size = img.size;
		rows[i].created = img.created;
		docker_image_release(&img);
		buf_release(&e);
	}
	return n;
}

int images_save(struct docker *d, const char *file, const char *const *only,
		struct buf *err)
{
	struct image_row rows[IMAGES_MAX];
	const char *names[IMAGES_MAX];
	char *tmp = xstrfmt("%s.part", file);
	size_t k = 0;
	FILE *f;
	int n = images_list(d, rows, IMAGES_MAX, err), i, ret;

	if (n < 0) {
		free(tmp);
		return -1;
	}
	for (i = 0; i < n; i++)
		if (rows[i].id[0] && wanted(only, rows[i].name))
			names[k++] = rows[i].tag;
	for (; only && *only; only++) {
		for (i = 0; i < n; i++)
			if (!strcmp(rows[i].name, *only) && rows[i].id[0])
				break;
		if (i == n) {
			buf_addf(err, "no built image named '%s': see 'pancake images list'", *only);
			free(tmp);
			return -1;
		}
	}
	if (!k) {
		buf_addstr(err, "no pancake image is built yet: run 'pancake images build' first");
		free(tmp);
		return -1;
	}
	f = fopen(tmp, "wb");
	if (!f) {
		buf_addf(err, "cannot write '%s': %s", tmp, strerror(errno));
		free(tmp);
		return -1;
	}
	ret = docker_image_save(d, names, k, f, err);
	if (fclose(f) && !ret) {
		buf_addf(err, "cannot write '%s': %s", tmp, strerror(errno));
		ret = -1;
	}
	/* only a whole bundle gets the real name */
	if (!ret && rename(tmp, file)) {
		buf_addf(err, "cannot rename '%s' to '%s': %s", tmp, file, strerror(errno));
		ret = -1;
	}
	if (ret)
		unlink(tmp);
	free(tmp);
	return ret;
}

int images_load(struct docker *d, const char *file, images_note_fn fn, void *ctx,
		struct buf *err)
{
	struct build_ctx b;
	FILE *f = fopen(file, "rb");
	int ret;

	memset(&b, 0, sizeof(b));
	b.fn = fn;
	b.ctx = ctx;
	b.image = "bundle";
	b.t0 = clock_s();

	if (!f) {
		buf_addf(err, "cannot read image bundle '%s': %s", file, strerror(errno));
		return -1;
	}
	ret = docker_image_load(d, f, on_progress, &b, err);
	fclose(f);
	if (ret) {
		struct buf m = BUF_INIT;
		buf_addf(&m, "cannot load '%s': %s (is it a file made by 'pancake images save'?)",
			 file, err->s);
		buf_reset(err);
		buf_addstr(err, m.s);
		buf_release(&m);
	}
	return ret;
}
