/* cmd-export: `pancake export kubernetes [--out DIR] [--project NAME] [--small]`. */
#include "cli.h"
#include "core/config.h"
#include "core/k8s.h"
#include "util/xalloc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct out_file {
	char *name;
	char *text;
};

static int write_all(const char *path, const char *text, struct buf *err)
{
	size_t n = strlen(text), off = 0;
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	if (fd < 0)
		goto fail;
	while (off < n) {
		ssize_t w = write(fd, text + off, n - off);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			close(fd);
			goto fail;
		}
		off += (size_t)w;
	}
	if (close(fd))
		goto fail;
	return 0;
fail:
	buf_addf(err, "cannot write '%s': %s", path, strerror(errno));
	return -1;
}

static void remove_tree(const char *dir, const struct out_file *files, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		char *p = xstrfmt("%s/%s", dir, files[i].name);

		unlink(p);
		free(p);
	}
	rmdir(dir);
}

/*
 * Everything goes into a fresh folder beside DIR first; only once every file
 * is written does it become DIR (or its files move into an existing DIR),
 * so a failure leaves DIR as it was.
 */
static int write_files(const char *out, const struct out_file *files, int n, struct buf *err)
{
	char *copy = xstrdup(out), *parent = xstrdup(dirname(copy));
	char *tmp = xstrfmt("%s/.pancake-export-XXXXXX", parent);
	struct stat st;
	int i, exists = 0, ret = -1;

	if (!stat(out, &st)) {
		if (!S_ISDIR(st.st_mode)) {
			buf_addf(err, "'%s' exists and is not a folder: pick another --out", out);
			goto out;
		}
		if (access(out, W_OK | X_OK)) {
			buf_addf(err, "cannot write in '%s': %s: pick another --out", out, strerror(errno));
			goto out;
		}
		exists = 1;
	} else if (errno != ENOENT) {
		buf_addf(err, "cannot use '%s': %s: pick another --out", out, strerror(errno));
		goto out;
	}
	if (!mkdtemp(tmp)) {
		buf_addf(err, "cannot write in '%s': %s: pick another --out (its folder must exist "
			 "and be writable)", parent, strerror(errno));
		goto out;
	}
	for (i = 0; i < n; i++) {
		char *p = xstrfmt("%s/%s", tmp, files[i].name);
		int r = write_all(p, files[i].text, err);

		free(p);
		if (r) {
			remove_tree(tmp, files, n);
			goto out;
		}
	}
	chmod(tmp, 0755);
	if (!exists) {
		if (rename(tmp, out)) {
			buf_addf(err, "cannot create '%s': %s: pick another --out", out, strerror(errno));
			remove_tree(tmp, files, n);
			goto out;
		}
	} else {
		for (i = 0; i < n; i++) {
			char *from = xstrfmt("%s/%s", tmp, files[i].name);
			char *to = xstrfmt("%s/%s", out, files[i].name);
			int r = rename(from, to);

			if (r)
				buf_addf(err, "cannot replace '%s': %s: pick another --out", to,
					 strerror(errno));
			free(from);
			free(to);
			if (r) {
				remove_tree(tmp, files, n);
				goto out;
			}
		}
		rmdir(tmp);
	}
	ret = 0;
out:
	free(copy);
	free(parent);
	free(tmp);
	return ret;
}

static int export_kubernetes(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "out", required_argument, NULL, 'o' },
		{ "project", required_argument, NULL, 'p' },
		{ "small", no_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 },
	};
	enum heap_profile profile = PROFILE_DEFAULT;
	const char *out = "k8s", *project = config_project();
	struct out_file files[SERVICE_MAX + 1];
	struct buf err = BUF_INIT;
	struct stack st;
	char q[QUOTE_BUF];
	int c, i, n = 0, ret = RC_FAILED;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
		switch (c) {
		case 'o': out = optarg; break;
		case 'p': project = optarg; break;
		case 's': profile = PROFILE_SMALL; break;
		default: return cli_bad_option("export", argv);
		}
	}
	if (optind < argc)
		return cli_bad_usage("export", "unexpected argument %s", quote(q, argv[optind]));
	if (!*out)
		return cli_bad_usage("export", "--out wants a folder");
	if (!k8s_valid_name(project))
		return cli_bad_usage("export", "project %s is not a Kubernetes label value "
				     "(lowercase letters, digits and '-', at most 63): pass another "
				     "with --project", quote(q, project));
	cli_load_stack(&st, profile, 0);
	for (i = 0; i < st.n; i++) {
		files[n].text = k8s_manifest(&st.svcs[i], project, profile, &err);
		if (!files[n].text) {
			ret = cli_fail(RC_USAGE, "%s", err.s);
			goto out;
		}
		files[n++].name = k8s_file_name(&st.svcs[i]);
	}
	files[n].name = xstrdup("README.md");
	files[n++].text = k8s_readme(st.svcs, st.n, project, profile);
	if (write_files(out, files, n, &err)) {
		ret = cli_fail(RC_FAILED, "%s", err.s);
		goto out;
	}
	for (i = 0; i < st.n; i++)
		printf("%-14s %-12s %s/%s\n", st.svcs[i].name,
		       k8s_kind_name(k8s_workload_of(&st.svcs[i])), out, files[i].name);
	printf("export: %d manifests for project '%s' in '%s' (kubectl apply -f %s; "
	       "push the images to a registry the cluster can pull from first)\n",
	       st.n, project, out, out);
	ret = RC_OK;
out:
	for (i = 0; i < n; i++) {
		free(files[i].name);
		free(files[i].text);
	}
	stack_close(&st);
	buf_release(&err);
	return ret;
}

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
} targets[] = {
	{ "kubernetes", export_kubernetes },
};

int cmd_export(int argc, char **argv)
{
	char q[QUOTE_BUF];
	size_t i;

	if (argc < 2)
		return cli_bad_usage("export", "export what? (kubernetes)");
	for (i = 0; i < sizeof(targets) / sizeof(targets[0]); i++)
		if (!strcmp(argv[1], targets[i].name))
			return targets[i].fn(argc - 1, argv + 1);
	return cli_bad_usage("export", "no export target named %s (kubernetes)", quote(q, argv[1]));
}
