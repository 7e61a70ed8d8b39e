/* kafka: the Kafka readiness probe, over librdkafka; nothing of it leaks. */
#include "clients/kafka.h"
#include "util/xalloc.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <librdkafka/rdkafka.h>

/* Cap on how much of librdkafka's last log line we keep. */
#define KAFKA_LOG_MAX 512

/*
 * librdkafka logs from its own threads: the last line is kept under a
 * lock and quoted in our message instead of being printed.
 */
struct probe_log {
	pthread_mutex_t lock;
	char last[KAFKA_LOG_MAX];
	char last_error[KAFKA_LOG_MAX];
};

static void on_log(const rd_kafka_t *rk, int level, const char *fac,
		   const char *line)
{
	struct probe_log *log = rk ? rd_kafka_opaque(rk) : NULL;

	(void)level;
	if (!log)
		return;
	pthread_mutex_lock(&log->lock);
	snprintf(log->last, sizeof(log->last), "%s: %s", fac, line);
	pthread_mutex_unlock(&log->lock);
}

static void on_error(rd_kafka_t *rk, int code, const char *reason,
		     void *opaque)
{
	struct probe_log *log = opaque;

	(void)rk;
	(void)code;
	pthread_mutex_lock(&log->lock);
	snprintf(log->last_error, sizeof(log->last_error), "%s", reason);
	pthread_mutex_unlock(&log->lock);
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int conf_set(rd_kafka_conf_t *conf, const char *key, const char *value,
		    struct buf *err)
{
	char why[256];

	if (rd_kafka_conf_set(conf, key, value, why, sizeof(why)) ==
	    RD_KAFKA_CONF_OK)
		return 0;
	if (err)
		buf_addf(err, "librdkafka refused '%s=%s': %s", key, value, why);
	return KAFKA_ECONFIG;
}

static int conf_set_ms(rd_kafka_conf_t *conf, const char *key, int ms,
		       int min, struct buf *err)
{
	char v[24];

	snprintf(v, sizeof(v), "%d", ms < min ? min : ms);
	return conf_set(conf, key, v, err);
}

int kafka_probe(const char *bootstrap, int timeout_ms, struct kafka_meta *meta,
		struct buf *err)
{
	struct probe_log log;
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	rd_kafka_t *rk = NULL;
	const struct rd_kafka_metadata *md = NULL;
	rd_kafka_resp_err_t kerr;
	int64_t deadline;
	char why[512];
	char *cid;
	int i, left, ret;

	if (timeout_ms < 1)
		timeout_ms = 1;
	deadline = now_ms() + timeout_ms;
	memset(&log, 0, sizeof(log));
	pthread_mutex_init(&log.lock, NULL);
	rd_kafka_conf_set_log_cb(conf, on_log);
	rd_kafka_conf_set_error_cb(conf, on_error);
	rd_kafka_conf_set_opaque(conf, &log);

	/* fail fast and keep retrying often: this is a probe, not a client */
	if ((ret = conf_set(conf, "bootstrap.servers", bootstrap, err)) ||
	    (ret = conf_set(conf, "client.id", "pancake-probe", err)) ||
	    (ret = conf_set(conf, "log.connection.close", "false", err)) ||
	    (ret = conf_set_ms(conf, "socket.timeout.ms", timeout_ms, 10,
			       err)) ||
	    (ret = conf_set_ms(conf, "socket.connection.setup.timeout.ms",
			       timeout_ms, 1000, err)) ||
	    (ret = conf_set_ms(conf, "api.version.request.timeout.ms",
			       timeout_ms, 10, err)) ||
	    (ret = conf_set(conf, "reconnect.backoff.ms", "50", err)) ||
	    (ret = conf_set(conf, "reconnect.backoff.max.ms", "500", err)))
		goto out;

	rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, why, sizeof(why));
	if (!rk) {
		if (err)
			buf_addf(err, "cannot create a kafka handle for '%s': "
				 "%s", bootstrap, why);
		ret = KAFKA_ECONFIG;
		goto out;
	}
	conf = NULL;	/* rd_kafka_new() took it */

	/* all topics, so that `topics` counts something */
	kerr = rd_kafka_metadata(rk, 1, NULL, &md, timeout_ms);
	if (kerr != RD_KAFKA_RESP_ERR_NO_ERROR) {
		/* error callbacks are only served by poll() */
		rd_kafka_poll(rk, 0);
		ret = kerr == RD_KAFKA_RESP_ERR__TIMED_OUT ? KAFKA_ETIMEOUT
			: kerr == RD_KAFKA_RESP_ERR__TRANSPORT ? KAFKA_EUNREACH
			: KAFKA_EFAIL;
		if (err) {
			pthread_mutex_lock(&log.lock);
			buf_addf(err, "no metadata from kafka at '%s' within "
				 "%d ms: %s", bootstrap, timeout_ms,
				 rd_kafka_err2str(kerr));
			if (log.last_error[0])
				buf_addf(err, " (%s)", log.last_error);
			else if (log.last[0])
				buf_addf(err, " (%s)", log.last);
			pthread_mutex_unlock(&log.lock);
			buf_addstr(err, "; is the broker running and its "
				   "advertised listener reachable?");
		}
		goto out;
	}
	if (meta) {
		memset(meta, 0, sizeof(*meta));
		meta->brokers = md->broker_cnt;
		for (i = 0; i < md->topic_cnt; i++)
			if (strncmp(md->topics[i].topic, "__", 2))
				meta->topics++;
		/* both come from the metadata just fetched: no new request */
		left = (int)(deadline - now_ms());
		left = left < 0 ? 0 : left;
		meta->controller_id = rd_kafka_controllerid(rk, left);
		cid = rd_kafka_clusterid(rk, 0);
		if (cid) {
			snprintf(meta->cluster_id, sizeof(meta->cluster_id),
				 "%s", cid);
			rd_kafka_mem_free(rk, cid);
		}
	}
	ret = 0;
out:
	if (md)
		rd_kafka_metadata_destroy(md);
	if (rk)
		rd_kafka_destroy(rk);
	if (conf)
		rd_kafka_conf_destroy(conf);
	pthread_mutex_destroy(&log.lock);
	return ret;
}
