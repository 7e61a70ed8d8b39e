/*
 * http-pace: an open-loop HTTP/1.1 load at a fixed rate, for latency at a
 * given load. wrk's pacing (its delay() hook) fires on millisecond ticks,
 * so its paced connections send in bursts; here request i is due at
 * start + i / rate (microseconds apart, spread over keep-alive
 * connections), and its latency counts from when it was due, so a server
 * that falls behind shows it (no coordinated omission).
 *
 *   http-pace --port N [--host A] --rate R --conns C --seconds S
 *             [--threads T] [--path P] [--users U] [--warmup S]
 *
 * P may hold "{user}", replaced by a random id from 1 to U. Prints one
 * line: "rate R sent N p50 US p90 US p99 US p999 US max US non2xx N
 * errors N" (achieved rate; latencies in microseconds). Asserts nothing.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "util/clock.h"
#include "util/rand.h"

#define BUFSZ 65536

struct conn {
	int fd;
	int busy;		/* a request is out */
	int64_t due_ns;		/* when it was due */
	char in[BUFSZ];
	size_t len;
};

struct worker {
	pthread_t th;
	int id;
	double rate;		/* this thread's share */
	int nconns;
	struct conn *c;
	int64_t *lat;		/* ns, measured requests */
	size_t nlat, caplat;
	uint64_t sent, non2xx, errors;
	uint64_t rng;
	unsigned cursor;	/* the next connection to try */
};

static struct {
	const char *host, *path;
	int port, threads, conns, users;
	double rate, seconds, warmup;
	int64_t start_ns;
} O = { "127.0.0.1", "/", 0, 1, 16, 6040, 1000, 10, 1, 0 };

static int dial(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)O.port) };
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

	if (fd < 0 || inet_pton(AF_INET, O.host, &a.sin_addr) != 1 ||
	    connect(fd, (struct sockaddr *)&a, sizeof(a))) {
		fprintf(stderr, "http-pace: cannot connect to %s:%d: %s\n", O.host, O.port,
			strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

static int send_request(struct worker *w, struct conn *c, int64_t due)
{
	char req[512], path[256];
	const char *u = strstr(O.path, "{user}");

	if (u)
		snprintf(path, sizeof(path), "%.*s%llu%s", (int)(u - O.path), O.path,
			 (unsigned long long)(splitmix64(&w->rng) % (uint64_t)O.users + 1), u + 6);
	else
		snprintf(path, sizeof(path), "%s", O.path);
	int n = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: %s:%d\r\n\r\n", path, O.host,
			 O.port);
	if (write(c->fd, req, (size_t)n) != n)
		return -1;
	c->busy = 1;
	c->due_ns = due;
	w->sent++;
	return 0;
}

/* a whole response in c->in: its length, 0 when more is needed, -1 if malformed */
static long response_length(struct conn *c, int *status)
{
	char *end = memmem(c->in, c->len, "\r\n\r\n", 4);
	long clen = 0;

	if (!end)
		return c->len >= BUFSZ ? -1 : 0;
	if (c->len < 12 || memcmp(c->in, "HTTP/1.", 7))
		return -1;
	*status = atoi(c->in + 9);
	for (char *p = c->in; p < end; p++) {
		if ((p == c->in || p[-1] == '\n') && !strncasecmp(p, "content-length:", 15)) {
			clen = strtol(p + 15, NULL, 10);
			break;
		}
	}
	long total = (end + 4 - c->in) + clen;
	if (total > BUFSZ)
		return -1;
	return (size_t)total <= c->len ? total : 0;
}

static void record(struct worker *w, int64_t ns)
{
	if (w->nlat == w->caplat) {
		w->caplat = w->caplat ? 2 * w->caplat : 65536;
		w->lat = realloc(w->lat, sizeof(*w->lat) * w->caplat);
		if (!w->lat) {
			fprintf(stderr, "http-pace: out of memory\n");
			exit(2);
		}
	}
	w->lat[w->nlat++] = ns;
}

static void *run(void *arg)
{
	struct worker *w = arg;
	int ep = epoll_create1(0);
	struct epoll_event evs[64];
	/* thread t's requests are due at start + (t + i * threads) / rate */
	double interval = 1e9 / O.rate;
	int64_t next = O.start_ns + (int64_t)(interval * w->id);
	int64_t measure_from = O.start_ns + (int64_t)(O.warmup * 1e9);
	int64_t end = measure_from + (int64_t)(O.seconds * 1e9);
	uint64_t k = 0;

	for (int i = 0; i < w->nconns; i++) {
		struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &w->c[i] };
		if ((w->c[i].fd = dial()) < 0)
			exit(2);
		epoll_ctl(ep, EPOLL_CTL_ADD, w->c[i].fd, &ev);
	}
	for (;;) {
		int64_t now = clock_ns();
		int busy = 0;
		for (int i = 0; i < w->nconns; i++)
			busy += w->c[i].busy;
		/* after the window: the answers still out, for at most 2 s */
		if (now >= end && (!busy || now >= end + 2000000000LL)) {
			w->errors += (uint64_t)busy;	/* never answered */
			break;
		}
		/* everything due goes out on idle connections (late ones keep their due time) */
		for (int i = 0; i < w->nconns && next <= now && next < end; i++) {
			/* round the connections, so each carries its share */
			struct conn *c = &w->c[w->cursor++ % (unsigned)w->nconns];
			if (c->busy)
				continue;
			if (send_request(w, c, next)) {
				w->errors++;
				continue;
			}
			k++;
			next = O.start_ns + (int64_t)(interval * (double)(w->id + k * (uint64_t)O.threads));
		}
		int64_t wait = next - clock_ns();
		struct timespec ts = { 0, wait > 0 ? (wait > 1000000 ? 1000000 : wait) : 0 };
		int n = epoll_pwait2(ep, evs, 64, &ts, NULL);
		for (int e = 0; e < n; e++) {
			struct conn *c = evs[e].data.ptr;
			ssize_t r = read(c->fd, c->in + c->len, BUFSZ - c->len);
			if (r <= 0) {
				fprintf(stderr, "http-pace: the server closed a connection\n");
				w->errors++;
				exit(2);
			}
			c->len += (size_t)r;
			int status = 0;
			long total;
			while (c->busy && (total = response_length(c, &status)) != 0) {
				if (total < 0) {
					fprintf(stderr, "http-pace: a malformed response\n");
					exit(2);
				}
				int64_t t = clock_ns();
				if (c->due_ns >= measure_from) {
					record(w, t - c->due_ns);
					if (status < 200 || status > 299)
						w->non2xx++;
				}
				memmove(c->in, c->in + total, c->len - (size_t)total);
				c->len -= (size_t)total;
				c->busy = 0;
			}
		}
	}
	for (int i = 0; i < w->nconns; i++)
		close(w->c[i].fd);
	close(ep);
	return NULL;
}

static int cmp64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

static void usage(FILE *f)
{
	fprintf(f, "usage: http-pace --port N [--host A] --rate R [--conns C] [--seconds S]\n"
		"                 [--threads T] [--path P] [--users U] [--warmup S]\n"
		"An open-loop HTTP/1.1 load at R requests/s over C keep-alive connections;\n"
		"latency counts from when each request was due. P may hold {user} (1..U).\n");
}

int main(int argc, char **argv)
{
	static const struct option longs[] = {
		{ "host", 1, NULL, 'h' }, { "port", 1, NULL, 'p' }, { "rate", 1, NULL, 'r' },
		{ "conns", 1, NULL, 'c' }, { "seconds", 1, NULL, 's' }, { "threads", 1, NULL, 't' },
		{ "path", 1, NULL, 'P' }, { "users", 1, NULL, 'u' }, { "warmup", 1, NULL, 'w' },
		{ "help", 0, NULL, 'H' }, { NULL, 0, NULL, 0 },
	};
	int ch;

	while ((ch = getopt_long(argc, argv, "", longs, NULL)) != -1) {
		switch (ch) {
		case 'h': O.host = optarg; break;
		case 'p': O.port = atoi(optarg); break;
		case 'r': O.rate = atof(optarg); break;
		case 'c': O.conns = atoi(optarg); break;
		case 's': O.seconds = atof(optarg); break;
		case 't': O.threads = atoi(optarg); break;
		case 'P': O.path = optarg; break;
		case 'u': O.users = atoi(optarg); break;
		case 'w': O.warmup = atof(optarg); break;
		case 'H': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (O.port < 1 || O.port > 65535 || !(O.rate > 0) || O.threads < 1 || O.threads > 64 ||
	    O.conns < O.threads || !(O.seconds > 0) || O.users < 1 || O.warmup < 0) {
		usage(stderr);
		return 2;
	}
	struct worker *w = calloc((size_t)O.threads, sizeof(*w));
	O.start_ns = clock_ns() + 50 * 1000000;	/* after every thread connected */
	for (int t = 0; t < O.threads; t++) {
		w[t].id = t;
		w[t].nconns = O.conns / O.threads + (t < O.conns % O.threads);
		w[t].c = calloc((size_t)w[t].nconns, sizeof(struct conn));
		w[t].rng = 0x9e3779b97f4a7c15ULL * (uint64_t)(t + 1);
		if (!w[t].c || pthread_create(&w[t].th, NULL, run, &w[t])) {
			fprintf(stderr, "http-pace: cannot start thread %d\n", t);
			return 2;
		}
	}
	size_t n = 0;
	uint64_t sent = 0, non2xx = 0, errors = 0;
	for (int t = 0; t < O.threads; t++) {
		pthread_join(w[t].th, NULL);
		n += w[t].nlat;
		non2xx += w[t].non2xx;
		errors += w[t].errors;
		sent += w[t].sent;
	}
	int64_t *all = malloc(sizeof(*all) * (n + 1));
	size_t k = 0;
	for (int t = 0; t < O.threads; t++) {
		memcpy(all + k, w[t].lat, sizeof(*all) * w[t].nlat);
		k += w[t].nlat;
	}
	if (!n) {
		fprintf(stderr, "http-pace: no response was measured\n");
		return 1;
	}
	qsort(all, n, sizeof(*all), cmp64);
#define PCT(p) (all[(size_t)((double)(n - 1) * (p))] / 1000.0)
	printf("rate %.0f sent %llu p50 %.0f p90 %.0f p99 %.0f p999 %.0f max %.0f non2xx %llu "
	       "errors %llu\n", n / O.seconds, (unsigned long long)sent, PCT(0.5), PCT(0.9),
	       PCT(0.99), PCT(0.999), all[n - 1] / 1000.0, (unsigned long long)non2xx,
	       (unsigned long long)errors);
	return 0;
}
