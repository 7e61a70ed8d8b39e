/*
 * http-halfclose: requests sent the way HTTP/1.0 tools and some proxies
 * send them, each on its own connection followed at once by the client's
 * half-close (shutdown(SHUT_WR)), to check that a server answers them
 * without waiting for its idle timeout.
 *
 *   http-halfclose --port N [--host A] [--path P] [--count N]
 *                  [--parallel C] [--deadline-ms MS] [--shut-after-ms D]
 *                  [--http10]
 *
 * Sends N requests "GET P HTTP/1.1" (or 1.0), C connections at a time,
 * each half-closed at once or, with D, D milliseconds after it was sent
 * (while the server may be busy with it).
 * A request is answered once its whole response (status, headers and
 * Content-Length bytes of body) has come; one not answered within MS
 * milliseconds of its connect is given up. Prints one line:
 * "requests N answered N 2xx N unanswered N open N errors N slowest_ms X"
 * (open: answered, but the server had not closed the connection when the
 * deadline came; slowest_ms: the slowest answer, or the deadline if one was
 * not answered). Asserts nothing; exits 1 only on bad usage.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "util/clock.h"

#define RESP_MAX 65536

struct req {
	int fd;
	int answered, status;
	int64_t start_ms, shut_ms;	/* shut_ms: when to half-close, 0 done */
	size_t len;
	char in[RESP_MAX];
};

static struct {
	const char *host, *path;
	int port, count, parallel, deadline_ms, shut_after_ms, http10;
} O = { "127.0.0.1", "/healthz", 0, 1000, 50, 10000, 0, 0 };

static struct {
	int answered, ok, unanswered, open, errors;
	int64_t slowest_ms;
} R;

/* 1 once `r` holds a whole response (status line, headers, Content-Length body) */
static int complete(struct req *r)
{
	char *end = memmem(r->in, r->len, "\r\n\r\n", 4), *cl;
	size_t want = 0;

	if (!end)
		return 0;
	r->in[r->len < RESP_MAX ? r->len : RESP_MAX - 1] = '\0';
	if (sscanf(r->in, "HTTP/1.%*d %d", &r->status) != 1)
		r->status = 0;
	for (cl = r->in; (cl = strcasestr(cl, "\r\ncontent-length:")) && cl < end; cl += 2)
		want = strtoul(cl + 17, NULL, 10);
	return r->len >= (size_t)(end + 4 - r->in) + want;
}

/* the request is over: answered or not, and whether the server had closed */
static void finish(int ep, struct req *r, int closed)
{
	int64_t took = clock_ms() - r->start_ms;

	if (r->answered) {
		R.answered++;
		R.ok += r->status >= 200 && r->status < 300;
		R.open += !closed;
	} else {
		R.unanswered++;
		if (took > R.slowest_ms)
			R.slowest_ms = took;
	}
	epoll_ctl(ep, EPOLL_CTL_DEL, r->fd, NULL);
	close(r->fd);
	r->fd = -1;
}

/* connects and sends the request, then half-closes: 0, or -1 (counted) */
static int start(int ep, struct req *r)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)O.port) };
	char msg[1024];
	int n = snprintf(msg, sizeof(msg), "GET %s HTTP/1.%d\r\nHost: %s:%d\r\n\r\n", O.path,
			 O.http10 ? 0 : 1, O.host, O.port);

	r->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	r->len = 0;
	r->answered = r->status = 0;
	r->start_ms = clock_ms();
	if (r->fd < 0 || inet_pton(AF_INET, O.host, &a.sin_addr) != 1 ||
	    connect(r->fd, (struct sockaddr *)&a, sizeof(a)) ||
	    send(r->fd, msg, (size_t)n, MSG_NOSIGNAL) != n ||
	    (!O.shut_after_ms && shutdown(r->fd, SHUT_WR))) {
		if (r->fd >= 0)
			close(r->fd);
		r->fd = -1;
		R.errors++;
		return -1;
	}
	r->shut_ms = O.shut_after_ms ? r->start_ms + O.shut_after_ms : 0;
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = r };
	epoll_ctl(ep, EPOLL_CTL_ADD, r->fd, &ev);
	return 0;
}

static int usage(void)
{
	fprintf(stderr, "usage: http-halfclose --port N [--host A] [--path P] [--count N] "
		"[--parallel C] [--deadline-ms MS] [--shut-after-ms D] [--http10]\n");
	return 1;
}

int main(int argc, char **argv)
{
	static const struct option longs[] = {
		{ "port", 1, NULL, 'p' }, { "host", 1, NULL, 'H' }, { "path", 1, NULL, 'P' },
		{ "count", 1, NULL, 'n' }, { "parallel", 1, NULL, 'c' },
		{ "deadline-ms", 1, NULL, 'd' }, { "shut-after-ms", 1, NULL, 's' },
		{ "http10", 0, NULL, '0' }, { NULL, 0, NULL, 0 },
	};
	int c, started = 0, inflight = 0;

	while ((c = getopt_long(argc, argv, "", longs, NULL)) != -1) {
		switch (c) {
		case 'p': O.port = atoi(optarg); break;
		case 'H': O.host = optarg; break;
		case 'P': O.path = optarg; break;
		case 'n': O.count = atoi(optarg); break;
		case 'c': O.parallel = atoi(optarg); break;
		case 'd': O.deadline_ms = atoi(optarg); break;
		case 's': O.shut_after_ms = atoi(optarg); break;
		case '0': O.http10 = 1; break;
		default: return usage();
		}
	}
	if (optind != argc || O.port < 1 || O.port > 65535 || O.count < 1 || O.parallel < 1 ||
	    O.parallel > 1000 || O.deadline_ms < 1 || O.shut_after_ms < 0 ||
	    O.shut_after_ms >= O.deadline_ms || strlen(O.path) > 512)
		return usage();

	int ep = epoll_create1(EPOLL_CLOEXEC);
	struct req *reqs = calloc((size_t)O.parallel, sizeof(*reqs));
	if (ep < 0 || !reqs) {
		perror("http-halfclose");
		return 1;
	}
	for (int i = 0; i < O.parallel; i++)
		reqs[i].fd = -1;
	while (started < O.count || inflight > 0) {
		for (int i = 0; i < O.parallel && started < O.count; i++)
			if (reqs[i].fd < 0) {
				started++;
				inflight += start(ep, &reqs[i]) == 0;
			}
		struct epoll_event evs[64];
		int n = epoll_wait(ep, evs, 64, O.shut_after_ms ? 1 : 50);
		for (int i = 0; i < n; i++) {
			struct req *r = evs[i].data.ptr;
			ssize_t got = recv(r->fd, r->in + r->len, RESP_MAX - 1 - r->len, 0);
			if (got > 0) {
				r->len += (size_t)got;
				if (!r->answered && complete(r)) {
					r->answered = 1;
					int64_t took = clock_ms() - r->start_ms;
					if (took > R.slowest_ms)
						R.slowest_ms = took;
				}
				if (r->len < RESP_MAX - 1)
					continue;
			}
			if (got < 0 && (errno == EAGAIN || errno == EINTR))
				continue;
			/* closed by the server (or an error, or a response too large) */
			if (!r->answered && complete(r)) {
				r->answered = 1;
				if (clock_ms() - r->start_ms > R.slowest_ms)
					R.slowest_ms = clock_ms() - r->start_ms;
			}
			if (got < 0)
				R.errors++;
			finish(ep, r, 1);
			inflight--;
		}
		int64_t t = clock_ms();
		for (int i = 0; i < O.parallel; i++)
			if (reqs[i].fd >= 0 && reqs[i].shut_ms && t >= reqs[i].shut_ms) {
				reqs[i].shut_ms = 0;
				shutdown(reqs[i].fd, SHUT_WR);
			}
		for (int i = 0; i < O.parallel; i++)
			if (reqs[i].fd >= 0 && t - reqs[i].start_ms >= O.deadline_ms) {
				finish(ep, &reqs[i], 0);
				inflight--;
			}
	}
	printf("requests %d answered %d 2xx %d unanswered %d open %d errors %d slowest_ms %lld\n",
	       O.count, R.answered, R.ok, R.unanswered, R.open, R.errors,
	       (long long)R.slowest_ms);
	free(reqs);
	close(ep);
	return 0;
}
