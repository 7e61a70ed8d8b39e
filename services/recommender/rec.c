/* rec: the helpers the recommender's subcommands share. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/catalog.h"
#include "core/config.h"
#include "core/load-targets.h"
#include "core/loadrun.h"
#include "model/registry.h"
#include "rec.h"
#include "util/hostport.h"
#include "util/quote.h"
#include "util/xalloc.h"
#include "util/sig.h"

int rec_bad_usage(const char *name, const char *fmt, ...)
{
	const struct command *c;
	struct buf msg = BUF_INIT, shown = BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	buf_vaddf(&msg, fmt, ap);
	va_end(ap);
	/* what the user typed is echoed escaped: it cannot drive the terminal */
	quote_text(&shown, msg.s);
	fprintf(stderr, "error: %s\n", shown.s);
	buf_release(&msg);
	buf_release(&shown);
	c = command_find(rec_cmds, name);
	if (c)
		fprintf(stderr, "usage: recommender %s\n", c->usage);
	fprintf(stderr, "('recommender %s --help' lists the options)\n", name);
	return 2;
}

int rec_int(const char *cmd, const char *opt, const char *s, long lo, long hi, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < lo || v > hi) {
		rec_bad_usage(cmd, "%s wants a whole number from %ld to %ld, not '%s'", opt, lo,
			      hi, s);
		return -1;
	}
	*out = v;
	return 0;
}

int rec_float(const char *cmd, const char *opt, const char *s, double lo, double hi,
	      double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !isfinite(v) || v < lo || v > hi) {
		rec_bad_usage(cmd, "%s wants a number from %g to %g, not '%s'", opt, lo, hi, s);
		return -1;
	}
	*out = v;
	return 0;
}

int rec_read_dataset(const char *arg, enum dataset_on_error on_error,
		     struct dataset *ds, char **name)
{
	struct dataset_report rep;
	struct buf err = BUF_INIT;
	char *dir = catalog_resolve(arg, name);
	int ret = -1;

	if (!dir) {
		error("no dataset '%s': give a folder, a fetched dataset "
			"('pancake data list') or a generated one ('pancake data gen' puts "
			"them in datasets/generated)", arg);
		return -1;
	}
	dataset_init(ds);
	dataset_report_init(&rep);
	if (dataset_read(ds, dir, DS_AUTO, on_error, &rep, &err)) {
		error("%s", err.s);
		if (on_error == DS_ABORT)
			fprintf(stderr, "hint: fix the file, or leave bad lines out with "
				"--on-error=skip\n");
		free(*name);
		*name = NULL;
		goto out;
	}
	if (rep.skipped)
		fprintf(stderr, "warning: skipped %zu bad line(s), e.g.\n%s\n", rep.skipped,
			rep.examples.s);
	ret = 0;
out:
	dataset_report_release(&rep);
	buf_release(&err);
	free(dir);
	return ret;
}

int rec_read_cassandra(const char *name, struct dataset *ds, char **out_name)
{
	struct load_opts o;
	struct buf err = BUF_INIT;
	char host[64];
	int port;

	memset(&o, 0, sizeof(o));
	if (strchr(name, '/')) {
		error("--from cassandra wants a dataset name, not a folder ('%s')",
			name);
		return -1;
	}
	if (rec_endpoint("cassandra", NULL, host, sizeof(host), &port))
		return -1;
	o.host = host;
	o.port = port;
	o.dataset = name;
	o.timeout_ms = 10000;
	if (cassandra_read_ratings(name, &o, ds, &err)) {
		error("%s", err.s);
		buf_release(&err);
		return -1;
	}
	*out_name = xstrdup(name);
	return 0;
}

int rec_endpoint(const char *service, const char *given, char *host, size_t size, int *port)
{
	struct buf err = BUF_INIT;

	if (given) {
		int r = hostport_parse(given, host, size, port);

		if (r == HOSTPORT_EHOST)
			error("'%s' is not HOST:PORT (e.g. 127.0.0.1:6379)", given);
		else if (r)
			error("'%s' is not HOST:PORT (the port is 1 to 65535)", given);
		return r ? -1 : 0;
	}
	const struct load_target *t = loadrun_find(service);
	if (!t || loadrun_endpoint(t, host, size, port, &err)) {
		error("%s", err.len ? err.s : "unknown service");
		buf_release(&err);
		return -1;
	}
	return 0;
}

const char *rec_registry_dir(const char *given)
{
	return given ? given : config_registry();
}

int rec_load_model(const char *arg, const char *registry, struct model *m)
{
	struct buf err = BUF_INIT, bytes = BUF_INIT, label = BUF_INIT;
	struct registry *r = NULL;
	struct stat st;
	int ret = -1;

	if (stat(arg, &st) == 0 && S_ISREG(st.st_mode)) {
		if (model_load(m, arg, &err))
			goto out;
		ret = 0;
		goto out;
	}
	if (strchr(arg, '/')) {
		buf_addf(&err, "cannot read model file '%s': %s", arg, strerror(ENOENT));
		goto out;
	}
	if (registry_open(&r, rec_registry_dir(registry), 0, &err))
		goto out;
	if (registry_model(r, arg, &bytes, &err))
		goto out;
	buf_addf(&label, "%s (registry %s)", arg, rec_registry_dir(registry));
	if (model_decode(m, bytes.s, bytes.len, label.s, &err))
		goto out;
	ret = 0;
out:
	if (ret)
		error("%s", err.s);
	if (r)
		registry_close(r);
	buf_release(&label);
	buf_release(&bytes);
	buf_release(&err);
	return ret;
}

volatile int rec_interrupted;

static void on_signal(int sig)
{
	(void)sig;
	rec_interrupted = 1;
}

void rec_catch_signals(void)
{
	sig_catch(on_signal, 0);
}

const char *rec_color(const char *code)
{
	static int use = -1;
	if (use < 0) {
		const char *t = getenv("TERM"), *nc = getenv("NO_COLOR");
		/* its colours go to stderr; an empty NO_COLOR does not turn them off */
		use = isatty(2) && !(nc && *nc) && !(t && !strcmp(t, "dumb"));
	}
	return use ? code : "";
}

int rec_progress_fd = -1;
static char last_error[256];
static int progress_ended;

/* the first line of an error() message, for the "error" event */
static void keep_error(const char *msg)
{
	size_t n = strcspn(msg, "\n");

	snprintf(last_error, sizeof(last_error), "%.*s", (int)n, msg);
}

/* die() exits at once: its message is the end line */
static void end_on_die(const char *msg)
{
	keep_error(msg);
	rec_progress_fail(NULL);
}

int rec_progress_open(const char *cmd, const char *arg)
{
	long fd;

	if (rec_int(cmd, "--progress-fd", arg, 0, 1 << 20, &fd))
		return -1;
	if (fcntl((int)fd, F_GETFD) < 0) {
		rec_bad_usage(cmd, "--progress-fd %ld is not an open file descriptor", fd);
		return -1;
	}
	rec_progress_fd = (int)fd;
	signal(SIGPIPE, SIG_IGN);
	error_message_hook = keep_error;
	die_message_hook = end_on_die;
	return 0;
}

void rec_progress(const struct progress_event *ev)
{
	if (rec_progress_fd >= 0)
		progress_write(rec_progress_fd, ev);
}

void rec_progress_start(const char *job, uint64_t total, const char *fmt, ...)
{
	struct progress_event ev;
	va_list ap;

	if (rec_progress_fd < 0)
		return;
	progress_init(&ev, PROGRESS_START);
	snprintf(ev.job, sizeof(ev.job), "%s", job);
	ev.total = total;
	va_start(ap, fmt);
	vsnprintf(ev.what, sizeof(ev.what), fmt, ap);
	va_end(ap);
	rec_progress(&ev);
}

void rec_progress_done(const char *version, const char *fmt, ...)
{
	struct progress_event ev;
	va_list ap;

	if (rec_progress_fd < 0 || progress_ended)
		return;
	progress_ended = 1;
	progress_init(&ev, PROGRESS_DONE);
	snprintf(ev.version, sizeof(ev.version), "%s", version);
	va_start(ap, fmt);
	vsnprintf(ev.message, sizeof(ev.message), fmt, ap);
	va_end(ap);
	rec_progress(&ev);
}

void rec_progress_fail(const char *message)
{
	struct progress_event ev;

	if (rec_progress_fd < 0 || progress_ended)
		return;
	progress_ended = 1;
	progress_init(&ev, PROGRESS_ERROR);
	snprintf(ev.message, sizeof(ev.message), "%s",
		 message ? message : *last_error ? last_error : "failed (its log says why)");
	rec_progress(&ev);
}
