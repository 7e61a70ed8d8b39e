/*
 * download: fetches a file over HTTP(S) with libcurl, resuming a partial
 * download, for datasets. A stalled transfer fails instead of hanging.
 */
#include "clients/download.h"
#include "clients/libcurl.h"
#include "util/xalloc.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct dl {
	FILE *out;
	int64_t base;              /* bytes already on disk when we started */
	download_progress_fn fn;
	void *ctx;
	int write_failed;
	CURL *curl;
	int checked_status;
	int restart;               /* the server sent the whole file: start over */
};

static size_t on_write(char *data, size_t size, size_t n, void *p)
{
	struct dl *d = p;
	size_t len = size * n;

	if (!d->checked_status) {
		long code = 0;
		curl_easy_getinfo(d->curl, CURLINFO_RESPONSE_CODE, &code);
		d->checked_status = 1;
		/* asked for a range, got 200: the body is the whole file */
		if (d->base && code == 200) {
			if (ftruncate(fileno(d->out), 0) || fseek(d->out, 0, SEEK_SET)) {
				d->write_failed = 1;
				return 0;
			}
			d->base = 0;
			d->restart = 1;
		}
		if (code >= 400)
			return len; /* the status is reported after perform */
	}
	if (fwrite(data, 1, len, d->out) != len) {
		d->write_failed = 1;
		return 0;
	}
	return len;
}

static int on_progress(void *p, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ut, curl_off_t un)
{
	struct dl *d = p;

	(void)ut; (void)un;
	if (d->fn)
		d->fn(d->base + dlnow, dltotal ? d->base + dltotal : 0, d->ctx);
	return 0;
}

int download_file(const char *url, const char *path, download_progress_fn fn,
		  void *ctx, struct buf *err)
{
	char errbuf[CURL_ERROR_SIZE] = "";
	struct stat st;
	struct dl d;
	long code = 0;
	CURLcode cc;
	int ret = DOWNLOAD_EFAIL;

	libcurl_init();
	memset(&d, 0, sizeof(d));
	d.fn = fn;
	d.ctx = ctx;
	if (!stat(path, &st))
		d.base = st.st_size;
	d.out = fopen(path, "ab");
	if (!d.out) {
		buf_addf(err, "cannot write '%s': %s", path, strerror(errno));
		return DOWNLOAD_EFAIL;
	}
	d.curl = curl_easy_init();
	if (!d.curl)
		die("cannot initialise libcurl");
	curl_easy_setopt(d.curl, CURLOPT_URL, url);
	curl_easy_setopt(d.curl, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(d.curl, CURLOPT_MAXREDIRS, 5L);
	curl_easy_setopt(d.curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(d.curl, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(d.curl, CURLOPT_CONNECTTIMEOUT_MS, (long)DOWNLOAD_CONNECT_TIMEOUT_MS);
	/* big files have no overall timeout: a stall is what fails them */
	curl_easy_setopt(d.curl, CURLOPT_LOW_SPEED_LIMIT, (long)DOWNLOAD_STALL_BYTES);
	curl_easy_setopt(d.curl, CURLOPT_LOW_SPEED_TIME, (long)DOWNLOAD_STALL_S);
	curl_easy_setopt(d.curl, CURLOPT_WRITEFUNCTION, on_write);
	curl_easy_setopt(d.curl, CURLOPT_WRITEDATA, &d);
	curl_easy_setopt(d.curl, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(d.curl, CURLOPT_XFERINFODATA, &d);
	curl_easy_setopt(d.curl, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(d.curl, CURLOPT_USERAGENT, "pancake-dataset-fetch/0.1");
	if (d.base)
		curl_easy_setopt(d.curl, CURLOPT_RESUME_FROM_LARGE, (curl_off_t)d.base);
	cc = curl_easy_perform(d.curl);
	curl_easy_getinfo(d.curl, CURLINFO_RESPONSE_CODE, &code);
	if (fclose(d.out) && cc == CURLE_OK) {
		buf_addf(err, "cannot write '%s': %s", path, strerror(errno));
		goto out;
	}
	d.out = NULL;
	if (cc == CURLE_COULDNT_RESOLVE_HOST || cc == CURLE_COULDNT_CONNECT ||
	    cc == CURLE_COULDNT_RESOLVE_PROXY) {
		buf_addf(err, "cannot download '%s': %s; are you offline? copy the file to '%s' "
			 "by other means and run the command again", url,
			 *errbuf ? errbuf : curl_easy_strerror(cc), path);
		ret = DOWNLOAD_EOFFLINE;
	} else if (cc == CURLE_RANGE_ERROR || (code == 416 && d.base)) {
		/* 416: what we have is already the whole file */
		ret = DOWNLOAD_OK;
	} else if (code >= 400) {
		buf_addf(err, "cannot download '%s': the server answered HTTP %ld", url, code);
		ret = DOWNLOAD_EHTTP;
	} else if (d.write_failed) {
		buf_addf(err, "cannot write '%s': %s", path, strerror(errno));
	} else if (cc != CURLE_OK) {
		buf_addf(err, "download of '%s' broke off: %s; run the command again to resume "
			 "from byte %lld", url, *errbuf ? errbuf : curl_easy_strerror(cc),
			 (long long)(stat(path, &st) ? 0 : st.st_size));
	} else {
		ret = DOWNLOAD_OK;
	}
out:
	if (d.out)
		fclose(d.out);
	curl_easy_cleanup(d.curl);
	return ret;
}
