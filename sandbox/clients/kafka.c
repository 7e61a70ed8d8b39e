/* kafka: the Kafka readiness probe, over librdkafka; nothing of it leaks. */
#include "clients/kafka.h"
#include "util/clock.h"
#include "util/xalloc.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

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
	deadline = clock_ms() + timeout_ms;
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
		left = (int)(deadline - clock_ms());
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

/*
 * The producer. `log` comes first: the handle's opaque is the producer,
 * and on_log/on_error read it as a struct probe_log. Delivery reports and
 * error callbacks are served by rd_kafka_poll/flush on the producing
 * thread, so `d` needs no lock; only the log is written from librdkafka's
 * own threads.
 */
struct kafka_producer {
	struct probe_log log;
	rd_kafka_t *rk;
	char *bootstrap;
	int timeout_ms;
	int queue_wait_ms;	/* produce's wait for room; < 0: none */
	rd_kafka_topic_t *rkt;	/* the last topic produced to */
	char *rkt_name;
	struct kafka_delivery d;
	rd_kafka_message_t *batch;	/* scratch of kafka_produce_batch */
	int batch_alloc;
};

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m,
			void *opaque)
{
	struct kafka_producer *p = opaque;

	(void)rk;
	if (!m->err) {
		p->d.delivered++;
		return;
	}
	if (!p->d.failed++) {
		p->d.first_error = m->err;
		snprintf(p->d.first_error_msg, sizeof(p->d.first_error_msg),
			 "%s", rd_kafka_err2str(m->err));
	}
}

/* "within N ms: reason (last log line); is the broker running...?" */
static void net_error(struct kafka_producer *p, const char *what,
		      rd_kafka_resp_err_t kerr, struct buf *err)
{
	if (!err)
		return;
	rd_kafka_poll(p->rk, 0);	/* serves the error callback */
	if (kerr == RD_KAFKA_RESP_ERR__TIMED_OUT ||
	    kerr == RD_KAFKA_RESP_ERR__TRANSPORT)
		buf_addf(err, "kafka at '%s' did not %s within %d ms: %s",
			 p->bootstrap, what, p->timeout_ms, rd_kafka_err2str(kerr));
	else
		buf_addf(err, "kafka at '%s' could not %s: %s", p->bootstrap,
			 what, rd_kafka_err2str(kerr));
	pthread_mutex_lock(&p->log.lock);
	if (p->log.last_error[0])
		buf_addf(err, " (%s)", p->log.last_error);
	pthread_mutex_unlock(&p->log.lock);
	buf_addstr(err, "; is the broker running ('pancake ps') and its "
		   "advertised listener reachable?");
}

static int kerr_status(rd_kafka_resp_err_t kerr)
{
	return kerr == RD_KAFKA_RESP_ERR__TIMED_OUT ? KAFKA_ETIMEOUT
		: kerr == RD_KAFKA_RESP_ERR__TRANSPORT ? KAFKA_EUNREACH
		: KAFKA_EFAIL;
}

struct kafka_producer *kafka_producer_new(const char *bootstrap,
					  const struct kafka_producer_opts *opts,
					  struct buf *err)
{
	struct kafka_producer *p = xcalloc(1, sizeof(*p));
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	int timeout = opts && opts->timeout_ms > 0 ? opts->timeout_ms : 10000;
	int linger = opts && opts->linger_ms > 0 ? opts->linger_ms : 25;
	int life = opts && opts->delivery_timeout_ms > 0
		? opts->delivery_timeout_ms : 120000;
	const char *id = opts && opts->client_id ? opts->client_id : "pancake";
	char why[512];

	pthread_mutex_init(&p->log.lock, NULL);
	p->bootstrap = xstrdup(bootstrap);
	p->timeout_ms = timeout;
	p->queue_wait_ms = opts && opts->queue_wait_ms ? opts->queue_wait_ms : timeout;
	rd_kafka_conf_set_log_cb(conf, on_log);
	rd_kafka_conf_set_error_cb(conf, on_error);
	rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
	rd_kafka_conf_set_opaque(conf, p);

	/*
	 * gapless: a failure that could leave a hole in a partition is fatal,
	 * which is what lets a re-run trust "everything up to the last record
	 * on the partition is there"
	 */
	if (conf_set(conf, "bootstrap.servers", bootstrap, err) ||
	    conf_set(conf, "client.id", id, err) ||
	    conf_set(conf, "enable.idempotence", "true", err) ||
	    conf_set(conf, "enable.gapless.guarantee", "true", err) ||
	    conf_set(conf, "acks", "all", err) ||
	    conf_set(conf, "compression.codec", "lz4", err) ||
	    conf_set_ms(conf, "linger.ms", linger, 0, err) ||
	    conf_set(conf, "batch.num.messages", "100000", err) ||
	    conf_set(conf, "batch.size", "1000000", err) ||
	    conf_set(conf, "queue.buffering.max.messages", "1000000", err) ||
	    conf_set(conf, "queue.buffering.max.kbytes", "1048576", err) ||
	    conf_set_ms(conf, "message.timeout.ms", life, 1000, err) ||
	    conf_set(conf, "allow.auto.create.topics", "false", err) ||
	    conf_set(conf, "log.connection.close", "false", err) ||
	    conf_set_ms(conf, "socket.timeout.ms", timeout, 10, err) ||
	    conf_set_ms(conf, "socket.connection.setup.timeout.ms", timeout,
			1000, err) ||
	    conf_set(conf, "reconnect.backoff.ms", "50", err) ||
	    conf_set(conf, "reconnect.backoff.max.ms", "1000", err))
		goto fail;
	p->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, why, sizeof(why));
	if (!p->rk) {
		if (err)
			buf_addf(err, "cannot create a kafka producer for '%s': "
				 "%s", bootstrap, why);
		goto fail;
	}
	return p;
fail:
	rd_kafka_conf_destroy(conf);
	pthread_mutex_destroy(&p->log.lock);
	free(p->bootstrap);
	free(p);
	return NULL;
}

void kafka_producer_free(struct kafka_producer *p)
{
	if (!p)
		return;
	rd_kafka_purge(p->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
	rd_kafka_poll(p->rk, 0);
	if (p->rkt)
		rd_kafka_topic_destroy(p->rkt);
	rd_kafka_destroy(p->rk);
	pthread_mutex_destroy(&p->log.lock);
	free(p->batch);
	free(p->rkt_name);
	free(p->bootstrap);
	free(p);
}

static void fatal_error(struct kafka_producer *p, struct buf *err)
{
	char why[512];
	rd_kafka_resp_err_t kerr = rd_kafka_fatal_error(p->rk, why, sizeof(why));

	if (err)
		buf_addf(err, "kafka producer for '%s' stopped: %s: %s",
			 p->bootstrap, rd_kafka_err2name(kerr), why);
}

/* the topic handle of `topic`, kept for the next call */
static int use_topic(struct kafka_producer *p, const char *topic, struct buf *err)
{
	if (p->rkt && !strcmp(p->rkt_name, topic))
		return 0;
	if (p->rkt)
		rd_kafka_topic_destroy(p->rkt);
	free(p->rkt_name);
	p->rkt = rd_kafka_topic_new(p->rk, topic, NULL);
	p->rkt_name = xstrdup(topic);
	if (!p->rkt) {
		if (err)
			buf_addf(err, "kafka topic '%s': %s", topic,
				 rd_kafka_err2str(rd_kafka_last_error()));
		free(p->rkt_name);
		p->rkt_name = NULL;
		return KAFKA_EFAIL;
	}
	return 0;
}

/* what a record that could not be queued says, and its return code */
static int produce_error(struct kafka_producer *p, const char *topic,
			 rd_kafka_resp_err_t kerr, struct buf *err)
{
	if (kerr == RD_KAFKA_RESP_ERR__FATAL) {
		fatal_error(p, err);
		return KAFKA_EDELIVERY;
	}
	if (err) {
		if (kerr == RD_KAFKA_RESP_ERR__QUEUE_FULL)
			buf_addf(err, "kafka at '%s' acknowledged nothing for "
				 "%d ms (local queue full); is the broker up?",
				 p->bootstrap, p->timeout_ms);
		else
			buf_addf(err, "cannot queue a record for kafka topic "
				 "'%s': %s", topic, rd_kafka_err2str(kerr));
	}
	return kerr == RD_KAFKA_RESP_ERR__QUEUE_FULL ? KAFKA_ETIMEOUT : KAFKA_EFAIL;
}

int kafka_produce_batch(struct kafka_producer *p, const char *topic,
			const struct kafka_msg *msgs, int n, struct buf *err)
{
	rd_kafka_resp_err_t kerr = RD_KAFKA_RESP_ERR_NO_ERROR;
	int64_t deadline = 0;
	int i, left, ret;

	if ((ret = use_topic(p, topic, err)))
		return ret;
	ALLOC_GROW(p->batch, n, p->batch_alloc);
	for (i = 0; i < n; i++) {
		rd_kafka_message_t *m = &p->batch[i];

		memset(m, 0, sizeof(*m));
		m->partition = msgs[i].partition;
		/* F_COPY: the casts drop a const librdkafka never writes through */
		m->payload = (void *)msgs[i].value;
		m->len = msgs[i].len;
		m->key = (void *)msgs[i].key;
		m->key_len = msgs[i].key ? msgs[i].keylen : 0;
	}
	left = n;
	for (;;) {
		int queued = rd_kafka_produce_batch(p->rkt, RD_KAFKA_PARTITION_UA,
						    RD_KAFKA_MSG_F_COPY | RD_KAFKA_MSG_F_PARTITION,
						    p->batch, left);
		int k = 0;

		p->d.produced += (uint64_t)(queued > 0 ? queued : 0);
		if (queued == left)
			return 0;
		/* keep the refused ones, in order, and try them again */
		kerr = RD_KAFKA_RESP_ERR_NO_ERROR;
		for (i = 0; i < left; i++) {
			if (!p->batch[i].err)
				continue;
			if (p->batch[i].err != RD_KAFKA_RESP_ERR__QUEUE_FULL && !kerr)
				kerr = p->batch[i].err;
			p->batch[i].err = RD_KAFKA_RESP_ERR_NO_ERROR;
			p->batch[k++] = p->batch[i];
		}
		left = k;
		if (kerr)
			break;
		if (!deadline)
			deadline = clock_ms() + p->timeout_ms;
		else if (clock_ms() >= deadline) {
			kerr = RD_KAFKA_RESP_ERR__QUEUE_FULL;
			break;
		}
		rd_kafka_poll(p->rk, 10);
	}
	return produce_error(p, topic, kerr, err);
}

int kafka_produce(struct kafka_producer *p, const char *topic, int32_t partition,
		  const void *key, size_t keylen, const void *value, size_t len,
		  const struct kafka_header *hdrs, int nhdrs, struct buf *err)
{
	rd_kafka_headers_t *h = NULL;
	rd_kafka_resp_err_t kerr;
	int64_t deadline = 0;
	int i, ret;

	if ((ret = use_topic(p, topic, err)))
		return ret;
	if (nhdrs > 0) {
		h = rd_kafka_headers_new((size_t)nhdrs);
		for (i = 0; i < nhdrs; i++)
			rd_kafka_header_add(h, hdrs[i].name, -1, hdrs[i].value,
					    (ssize_t)hdrs[i].len);
	}
	for (;;) {
		/* F_COPY: the casts drop a const librdkafka never writes through */
		if (!h) {
			/* no headers: the plain call, without producev's varargs */
			kerr = rd_kafka_produce(p->rkt, partition, RD_KAFKA_MSG_F_COPY,
						(void *)value, len, key,
						key ? keylen : 0, NULL) ?
				rd_kafka_last_error() : RD_KAFKA_RESP_ERR_NO_ERROR;
			if (!kerr) {
				p->d.produced++;
				return 0;
			}
			if (kerr != RD_KAFKA_RESP_ERR__QUEUE_FULL)
				break;
			if (p->queue_wait_ms < 0)
				break;
			if (!deadline)
				deadline = clock_ms() + p->queue_wait_ms;
			else if (clock_ms() >= deadline)
				break;
			rd_kafka_poll(p->rk, 10);
			continue;
		}
		kerr = rd_kafka_producev(p->rk, RD_KAFKA_V_RKT(p->rkt),
					 RD_KAFKA_V_PARTITION(partition),
					 RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
					 RD_KAFKA_V_KEY((void *)key, key ? keylen : 0),
					 RD_KAFKA_V_VALUE((void *)value, len),
					 RD_KAFKA_V_HEADERS(h), RD_KAFKA_V_END);
		if (!kerr) {
			p->d.produced++;
			return 0;	/* the headers belong to the record now */
		}
		if (kerr != RD_KAFKA_RESP_ERR__QUEUE_FULL)
			break;
		if (p->queue_wait_ms < 0)
			break;
		if (!deadline)
			deadline = clock_ms() + p->queue_wait_ms;
		else if (clock_ms() >= deadline)
			break;
		rd_kafka_poll(p->rk, 10);
	}
	if (h)
		rd_kafka_headers_destroy(h);
	return produce_error(p, topic, kerr, err);
}

void kafka_producer_poll(struct kafka_producer *p, int ms)
{
	rd_kafka_poll(p->rk, ms);
}

int kafka_producer_flush(struct kafka_producer *p, int timeout_ms, struct buf *err)
{
	rd_kafka_resp_err_t kerr = rd_kafka_flush(p->rk, timeout_ms);
	char why[8];

	if (p->d.failed) {
		if (err) {
			buf_addf(err, "kafka refused %llu record(s) from this "
				 "run: first error: %s",
				 (unsigned long long)p->d.failed,
				 p->d.first_error_msg);
			if (rd_kafka_fatal_error(p->rk, why, sizeof(why))) {
				buf_addstr(err, "; ");
				fatal_error(p, err);
			}
		}
		return KAFKA_EDELIVERY;
	}
	if (kerr) {
		if (err)
			buf_addf(err, "kafka at '%s' did not acknowledge %d "
				 "record(s) within %d ms", p->bootstrap,
				 rd_kafka_outq_len(p->rk), timeout_ms);
		return KAFKA_ETIMEOUT;
	}
	return 0;
}

void kafka_producer_stats(struct kafka_producer *p, struct kafka_delivery *d)
{
	*d = p->d;
}

/* the topic's metadata entry, or NULL; `md` is freed by the caller */
static const struct rd_kafka_metadata_topic *
find_topic(const struct rd_kafka_metadata *md, const char *topic)
{
	int i;

	for (i = 0; i < md->topic_cnt; i++)
		if (!strcmp(md->topics[i].topic, topic))
			return &md->topics[i];
	return NULL;
}

/* all topics: asking for one by name could make the broker create it */
static int topic_meta(struct kafka_producer *p, const char *topic,
		      int *partitions, int *leaders, struct buf *err)
{
	const struct rd_kafka_metadata *md = NULL;
	const struct rd_kafka_metadata_topic *t;
	rd_kafka_resp_err_t kerr;
	int i;

	kerr = rd_kafka_metadata(p->rk, 1, NULL, &md, p->timeout_ms);
	if (kerr) {
		net_error(p, "answer a metadata request", kerr, err);
		return kerr_status(kerr);
	}
	t = find_topic(md, topic);
	if (!t || t->err || t->partition_cnt < 1) {
		rd_kafka_metadata_destroy(md);
		return KAFKA_ENOTOPIC;
	}
	*partitions = t->partition_cnt;
	*leaders = 0;
	for (i = 0; i < t->partition_cnt; i++)
		if (!t->partitions[i].err && t->partitions[i].leader >= 0)
			(*leaders)++;
	rd_kafka_metadata_destroy(md);
	return 0;
}

int kafka_topic_partitions(struct kafka_producer *p, const char *topic,
			   struct buf *err)
{
	int n, leaders, ret = topic_meta(p, topic, &n, &leaders, err);

	return ret ? ret : n;
}

/* runs one admin request on a temporary queue and waits for its result */
static rd_kafka_event_t *admin_result(struct kafka_producer *p,
				      rd_kafka_queue_t *q, const char *what,
				      struct buf *err)
{
	rd_kafka_event_t *ev = rd_kafka_queue_poll(q, p->timeout_ms + 1000);

	if (!ev) {
		net_error(p, what, RD_KAFKA_RESP_ERR__TIMED_OUT, err);
		return NULL;
	}
	if (rd_kafka_event_error(ev)) {
		if (err)
			buf_addf(err, "kafka at '%s' did not %s: %s", p->bootstrap,
				 what, rd_kafka_event_error_string(ev));
		rd_kafka_event_destroy(ev);
		return NULL;
	}
	return ev;
}

static rd_kafka_AdminOptions_t *admin_options(struct kafka_producer *p,
					      rd_kafka_admin_op_t op)
{
	rd_kafka_AdminOptions_t *o = rd_kafka_AdminOptions_new(p->rk, op);
	char why[256];

	rd_kafka_AdminOptions_set_request_timeout(o, p->timeout_ms, why, sizeof(why));
	rd_kafka_AdminOptions_set_operation_timeout(o, p->timeout_ms, why, sizeof(why));
	return o;
}

int kafka_topic_ensure(struct kafka_producer *p, const char *topic, int partitions,
		       const char *const *config, struct buf *err)
{
	rd_kafka_NewTopic_t *nt = NULL;
	rd_kafka_AdminOptions_t *o = NULL;
	rd_kafka_queue_t *q = NULL;
	rd_kafka_event_t *ev = NULL;
	const rd_kafka_topic_result_t **res;
	size_t nres;
	char why[512];
	int64_t deadline;
	int n, leaders, ret;

	ret = topic_meta(p, topic, &n, &leaders, err);
	if (ret != KAFKA_ENOTOPIC)
		return ret ? ret : n;

	nt = rd_kafka_NewTopic_new(topic, partitions < 1 ? 1 : partitions, 1,
				   why, sizeof(why));
	if (!nt) {
		if (err)
			buf_addf(err, "cannot describe kafka topic '%s': %s",
				 topic, why);
		return KAFKA_EFAIL;
	}
	for (; config && config[0] && config[1]; config += 2)
		if (rd_kafka_NewTopic_set_config(nt, config[0], config[1])) {
			if (err)
				buf_addf(err, "bad config '%s=%s' for kafka "
					 "topic '%s'", config[0], config[1], topic);
			ret = KAFKA_ECONFIG;
			goto out;
		}
	o = admin_options(p, RD_KAFKA_ADMIN_OP_CREATETOPICS);
	q = rd_kafka_queue_new(p->rk);
	rd_kafka_CreateTopics(p->rk, &nt, 1, o, q);
	if (!(ev = admin_result(p, q, "create a topic", err))) {
		ret = KAFKA_ETIMEOUT;
		goto out;
	}
	res = rd_kafka_CreateTopics_result_topics(
		rd_kafka_event_CreateTopics_result(ev), &nres);
	if (nres == 1 && rd_kafka_topic_result_error(res[0]) &&
	    rd_kafka_topic_result_error(res[0]) !=
	    RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
		if (err)
			buf_addf(err, "kafka refused to create topic '%s': %s",
				 topic, rd_kafka_topic_result_error_string(res[0]));
		ret = KAFKA_EFAIL;
		goto out;
	}
	/* the controller said yes; wait until the brokers' metadata agrees */
	deadline = clock_ms() + p->timeout_ms;
	for (;;) {
		ret = topic_meta(p, topic, &n, &leaders, err);
		if (!ret && leaders == n) {
			ret = n;
			break;
		}
		if (ret && ret != KAFKA_ENOTOPIC)
			break;
		if (clock_ms() >= deadline) {
			if (err)
				buf_addf(err, "kafka topic '%s' was created but "
					 "has no leader after %d ms", topic,
					 p->timeout_ms);
			ret = KAFKA_ETIMEOUT;
			break;
		}
		rd_kafka_poll(p->rk, 100);
	}
out:
	if (ev)
		rd_kafka_event_destroy(ev);
	if (q)
		rd_kafka_queue_destroy(q);
	if (o)
		rd_kafka_AdminOptions_destroy(o);
	rd_kafka_NewTopic_destroy(nt);
	return ret;
}

int kafka_topic_delete(struct kafka_producer *p, const char *topic, struct buf *err)
{
	rd_kafka_DeleteTopic_t *dt = rd_kafka_DeleteTopic_new(topic);
	rd_kafka_AdminOptions_t *o = admin_options(p, RD_KAFKA_ADMIN_OP_DELETETOPICS);
	rd_kafka_queue_t *q = rd_kafka_queue_new(p->rk);
	rd_kafka_event_t *ev;
	const rd_kafka_topic_result_t **res;
	rd_kafka_resp_err_t kerr;
	size_t nres;
	int ret = 0;

	rd_kafka_DeleteTopics(p->rk, &dt, 1, o, q);
	if (!(ev = admin_result(p, q, "delete a topic", err))) {
		ret = KAFKA_ETIMEOUT;
		goto out;
	}
	res = rd_kafka_DeleteTopics_result_topics(
		rd_kafka_event_DeleteTopics_result(ev), &nres);
	kerr = nres == 1 ? rd_kafka_topic_result_error(res[0]) : 0;
	if (kerr && kerr != RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) {
		if (err)
			buf_addf(err, "kafka refused to delete topic '%s': %s",
				 topic, rd_kafka_topic_result_error_string(res[0]));
		ret = KAFKA_EFAIL;
	}
	rd_kafka_event_destroy(ev);
out:
	rd_kafka_queue_destroy(q);
	rd_kafka_AdminOptions_destroy(o);
	rd_kafka_DeleteTopic_destroy(dt);
	return ret;
}

int kafka_topic_offsets(struct kafka_producer *p, const char *topic, int32_t partition,
			int64_t *low, int64_t *high, struct buf *err)
{
	int64_t deadline = clock_ms() + p->timeout_ms;
	rd_kafka_resp_err_t kerr;

	/* a partition just created can say "not leader" for a moment */
	for (;;) {
		kerr = rd_kafka_query_watermark_offsets(p->rk, topic, partition,
							low, high, p->timeout_ms);
		if ((kerr != RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION &&
		     kerr != RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE &&
		     kerr != RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) ||
		    clock_ms() >= deadline)
			break;
		rd_kafka_poll(p->rk, 100);
	}
	if (kerr == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART)
		return KAFKA_ENOTOPIC;
	if (kerr) {
		net_error(p, "report the offsets of a partition", kerr, err);
		if (err)
			buf_addf(err, " (topic '%s' partition %d)", topic,
				 (int)partition);
		return kerr_status(kerr);
	}
	return 0;
}

int kafka_topic_count(struct kafka_producer *p, const char *topic, int64_t *count,
		      struct buf *err)
{
	int64_t lo, hi;
	int i, n = kafka_topic_partitions(p, topic, err);

	*count = 0;
	if (n < 0)
		return n;
	for (i = 0; i < n; i++) {
		int ret = kafka_topic_offsets(p, topic, i, &lo, &hi, err);

		if (ret)
			return ret;
		*count += hi - lo;
	}
	return 0;
}

void kafka_record_release(struct kafka_record *r)
{
	size_t i;

	for (i = 0; i < r->nheaders; i++) {
		free(r->header_names[i]);
		free(r->header_values[i]);
	}
	free(r->header_names);
	free(r->header_values);
	free(r->key);
	free(r->value);
	memset(r, 0, sizeof(*r));
	r->offset = -1;
}

const char *kafka_record_header(const struct kafka_record *r, const char *name)
{
	size_t i;

	/* the last one wins, as rd_kafka_header_get_last does */
	for (i = r->nheaders; i-- > 0;)
		if (!strcmp(r->header_names[i], name))
			return r->header_values[i];
	return NULL;
}

static char *copy_bytes(const void *p, size_t len)
{
	char *s;

	if (!p)
		return NULL;
	s = xmalloc(len + 1);
	memcpy(s, p, len);
	s[len] = '\0';
	return s;
}

static void record_copy(struct kafka_record *r, const rd_kafka_message_t *m)
{
	rd_kafka_headers_t *h = NULL;
	const char *name;
	const void *val;
	size_t i, size;

	rd_kafka_timestamp_type_t tstype;

	r->partition = m->partition;
	r->offset = m->offset;
	r->timestamp_ms = rd_kafka_message_timestamp(m, &tstype);
	r->key = copy_bytes(m->key, m->key_len);
	r->value = copy_bytes(m->payload, m->len);
	if (rd_kafka_message_headers(m, &h) || !h)
		return;
	r->nheaders = rd_kafka_header_cnt(h);
	r->header_names = xcalloc(r->nheaders ? r->nheaders : 1, sizeof(char *));
	r->header_values = xcalloc(r->nheaders ? r->nheaders : 1, sizeof(char *));
	for (i = 0; i < r->nheaders; i++) {
		if (rd_kafka_header_get_all(h, i, &name, &val, &size)) {
			r->nheaders = i;
			break;
		}
		r->header_names[i] = xstrdup(name);
		r->header_values[i] = val ? copy_bytes(val, size) : xstrdup("");
	}
}

int kafka_topic_last_records(struct kafka_producer *p, const char *topic, int npart,
			     struct kafka_record *recs, struct buf *err)
{
	struct probe_log log;
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	rd_kafka_t *rk = NULL;
	rd_kafka_topic_partition_list_t *tp = NULL;
	rd_kafka_message_t *m;
	int64_t lo, hi, deadline;
	char why[512];
	int i, want = 0, ret;

	memset(&log, 0, sizeof(log));
	pthread_mutex_init(&log.lock, NULL);
	for (i = 0; i < npart; i++) {
		memset(&recs[i], 0, sizeof(recs[i]));
		recs[i].partition = i;
		recs[i].offset = -1;
	}
	tp = rd_kafka_topic_partition_list_new(npart);
	for (i = 0; i < npart; i++) {
		if ((ret = kafka_topic_offsets(p, topic, i, &lo, &hi, err)))
			goto out;
		if (hi > lo) {
			rd_kafka_topic_partition_list_add(tp, topic, i)->offset = hi - 1;
			want++;
		}
	}
	ret = 0;
	if (!want)
		goto out;

	rd_kafka_conf_set_log_cb(conf, on_log);
	rd_kafka_conf_set_error_cb(conf, on_error);
	rd_kafka_conf_set_opaque(conf, &log);
	/* assign() only: the group is never joined, nothing is committed */
	if ((ret = conf_set(conf, "bootstrap.servers", p->bootstrap, err)) ||
	    (ret = conf_set(conf, "group.id", "pancake-peek", err)) ||
	    (ret = conf_set(conf, "enable.auto.commit", "false", err)) ||
	    (ret = conf_set(conf, "enable.auto.offset.store", "false", err)) ||
	    (ret = conf_set(conf, "auto.offset.reset", "error", err)) ||
	    (ret = conf_set(conf, "log.connection.close", "false", err)) ||
	    (ret = conf_set_ms(conf, "socket.timeout.ms", p->timeout_ms, 10, err)))
		goto out;
	rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, why, sizeof(why));
	if (!rk) {
		if (err)
			buf_addf(err, "cannot create a kafka consumer for '%s': "
				 "%s", p->bootstrap, why);
		ret = KAFKA_ECONFIG;
		goto out;
	}
	conf = NULL;
	if (rd_kafka_assign(rk, tp)) {
		if (err)
			buf_addf(err, "cannot assign kafka topic '%s'", topic);
		ret = KAFKA_EFAIL;
		goto out;
	}
	deadline = clock_ms() + p->timeout_ms;
	while (want > 0) {
		int left = (int)(deadline - clock_ms());

		if (left <= 0) {
			if (err) {
				buf_addf(err, "kafka at '%s' did not return the "
					 "last record of topic '%s' within %d ms",
					 p->bootstrap, topic, p->timeout_ms);
				pthread_mutex_lock(&log.lock);
				if (log.last_error[0])
					buf_addf(err, " (%s)", log.last_error);
				pthread_mutex_unlock(&log.lock);
			}
			ret = KAFKA_ETIMEOUT;
			break;
		}
		m = rd_kafka_consumer_poll(rk, left < 100 ? left : 100);
		if (!m)
			continue;
		if (m->err) {
			if (err)
				buf_addf(err, "reading the last record of kafka "
					 "topic '%s' partition %d: %s", topic,
					 (int)m->partition, rd_kafka_message_errstr(m));
			rd_kafka_message_destroy(m);
			ret = KAFKA_EFAIL;
			break;
		}
		if (m->partition >= 0 && m->partition < npart &&
		    recs[m->partition].offset < 0) {
			record_copy(&recs[m->partition], m);
			want--;
		}
		rd_kafka_message_destroy(m);
	}
out:
	if (rk) {
		rd_kafka_consumer_close(rk);
		rd_kafka_destroy(rk);
	}
	if (conf)
		rd_kafka_conf_destroy(conf);
	if (tp)
		rd_kafka_topic_partition_list_destroy(tp);
	pthread_mutex_destroy(&log.lock);
	if (ret)
		for (i = 0; i < npart; i++)
			kafka_record_release(&recs[i]);
	return ret;
}

/* ---- the group consumer ---- */

struct kafka_consumer {
	struct probe_log log;
	rd_kafka_t *rk;
	char *bootstrap, *topic;
	int timeout_ms, from_beginning;
	int ready;			/* set by the rebalance callback */
};

/*
 * On assignment: partitions without a committed offset start at the
 * watermark asked for now, not whenever the fetcher first resets, so a
 * record produced once ready() is true is always seen.
 */
static void on_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t why,
			 rd_kafka_topic_partition_list_t *parts, void *opaque)
{
	struct kafka_consumer *c = opaque;

	if (why != RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
		rd_kafka_assign(rk, NULL);
		c->ready = 0;
		return;
	}
	rd_kafka_committed(rk, parts, c->timeout_ms);
	for (int i = 0; i < parts->cnt; i++) {
		rd_kafka_topic_partition_t *p = &parts->elems[i];
		int64_t lo = 0, hi = 0;
		if (p->offset >= 0)
			continue;
		if (rd_kafka_query_watermark_offsets(rk, p->topic, p->partition, &lo, &hi,
						     c->timeout_ms) == RD_KAFKA_RESP_ERR_NO_ERROR)
			p->offset = c->from_beginning ? lo : hi;
		else
			p->offset = c->from_beginning ? RD_KAFKA_OFFSET_BEGINNING
						      : RD_KAFKA_OFFSET_END;
	}
	rd_kafka_assign(rk, parts);
	c->ready = parts->cnt > 0;
}

struct kafka_consumer *kafka_consumer_new(const char *bootstrap, const char *topic,
					  const struct kafka_consumer_opts *opts,
					  struct buf *err)
{
	struct kafka_consumer *c = xcalloc(1, sizeof(*c));
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	rd_kafka_topic_partition_list_t *sub = NULL;
	char why[512];

	c->bootstrap = xstrdup(bootstrap);
	c->topic = xstrdup(topic);
	c->timeout_ms = opts->timeout_ms > 0 ? opts->timeout_ms : 10000;
	c->from_beginning = opts->from_beginning;
	pthread_mutex_init(&c->log.lock, NULL);
	rd_kafka_conf_set_log_cb(conf, on_log);
	rd_kafka_conf_set_error_cb(conf, on_error);
	rd_kafka_conf_set_opaque(conf, c);
	rd_kafka_conf_set_rebalance_cb(conf, on_rebalance);
	/* the log callbacks take the probe_log at the start of the struct */
	if (conf_set(conf, "bootstrap.servers", bootstrap, err) ||
	    conf_set(conf, "group.id", opts->group, err) ||
	    conf_set(conf, "client.id", opts->client_id ? opts->client_id : "pancake", err) ||
	    conf_set(conf, "enable.auto.commit", "true", err) ||
	    conf_set(conf, "auto.commit.interval.ms", "1000", err) ||
	    conf_set(conf, "enable.auto.offset.store", "false", err) ||
	    conf_set(conf, "auto.offset.reset", opts->from_beginning ? "earliest" : "latest", err) ||
	    conf_set(conf, "fetch.wait.max.ms", "10", err) ||
	    conf_set(conf, "log.connection.close", "false", err) ||
	    conf_set_ms(conf, "socket.timeout.ms", c->timeout_ms, 10, err) ||
	    conf_set_ms(conf, "session.timeout.ms", 10000, 6000, err))
		goto fail;
	c->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, why, sizeof(why));
	if (!c->rk) {
		buf_addf(err, "cannot create a kafka consumer for '%s': %s", bootstrap, why);
		goto fail;
	}
	conf = NULL;
	rd_kafka_poll_set_consumer(c->rk);
	sub = rd_kafka_topic_partition_list_new(1);
	rd_kafka_topic_partition_list_add(sub, topic, RD_KAFKA_PARTITION_UA);
	if (rd_kafka_subscribe(c->rk, sub)) {
		buf_addf(err, "cannot subscribe to kafka topic '%s' at '%s'", topic, bootstrap);
		goto fail;
	}
	rd_kafka_topic_partition_list_destroy(sub);
	return c;
fail:
	if (sub)
		rd_kafka_topic_partition_list_destroy(sub);
	if (conf)
		rd_kafka_conf_destroy(conf);
	kafka_consumer_free(c);
	return NULL;
}

void kafka_consumer_free(struct kafka_consumer *c)
{
	if (!c)
		return;
	if (c->rk) {
		rd_kafka_commit(c->rk, NULL, 0);
		rd_kafka_consumer_close(c->rk);
		rd_kafka_destroy(c->rk);
	}
	pthread_mutex_destroy(&c->log.lock);
	free(c->bootstrap);
	free(c->topic);
	free(c);
}

int kafka_consumer_poll(struct kafka_consumer *c, int timeout_ms, struct kafka_record *r,
			struct buf *err)
{
	rd_kafka_message_t *m = rd_kafka_consumer_poll(c->rk, timeout_ms);
	int ret = 1;

	if (!m)
		return 0;
	if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
		ret = 0;
	} else if (m->err) {
		/* an unknown topic or an unreachable broker: say which */
		buf_addf(err, "kafka at '%s', topic '%s': %s", c->bootstrap, c->topic,
			 rd_kafka_message_errstr(m));
		if (m->err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART ||
		    m->err == RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC) {
			buf_addf(err, ": load a dataset first ('pancake data load NAME --into kafka')");
			ret = KAFKA_ENOTOPIC;
		} else {
			ret = KAFKA_EFAIL;
		}
	} else {
		memset(r, 0, sizeof(*r));
		record_copy(r, m);
	}
	rd_kafka_message_destroy(m);
	return ret;
}

void kafka_consumer_done(struct kafka_consumer *c, int32_t partition, int64_t offset)
{
	rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);

	/* the committed offset is the next one to read */
	rd_kafka_topic_partition_list_add(l, c->topic, partition)->offset = offset + 1;
	rd_kafka_offsets_store(c->rk, l);
	rd_kafka_topic_partition_list_destroy(l);
}

int kafka_consumer_commit(struct kafka_consumer *c, struct buf *err)
{
	rd_kafka_resp_err_t e = rd_kafka_commit(c->rk, NULL, 0);

	if (e && e != RD_KAFKA_RESP_ERR__NO_OFFSET) {
		buf_addf(err, "cannot commit offsets to kafka at '%s': %s", c->bootstrap,
			 rd_kafka_err2str(e));
		return KAFKA_EFAIL;
	}
	return 0;
}

int kafka_consumer_ready(struct kafka_consumer *c)
{
	/* the callback runs inside poll, on the caller's thread */
	return c->ready;
}
