/*
 * model: the model file. Little-endian, a fixed 256-byte header, then the
 * id tables, the factors and the biases; a SHA-256 over the whole file
 * (its own 32 bytes zeroed) catches truncation and bit rot.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "model/model.h"
#include "util/sha256.h"
#include "util/xalloc.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the model file is little-endian; this host is not"
#endif

/* header offsets */
enum {
	H_MAGIC = 0, H_VERSION = 8, H_HSIZE = 12, H_RANK = 16, H_NUSERS = 20,
	H_NITEMS = 24, H_FLAGS = 28, H_LAMBDA = 32, H_ALPHA = 36, H_MEAN = 40,
	H_ITERS = 44, H_SEED = 48, H_TRAINED = 56, H_FPR = 64, H_PAYLOAD = 72,
	H_DATASET = 80, H_SOLVER = 144, H_SUM = 224,
};

static uint64_t payload_size(uint32_t rank, uint64_t nu, uint64_t ni, uint32_t flags)
{
	uint64_t n = (nu + ni) * 4 + (nu + ni) * rank * 4;
	if (flags & MODEL_BIASES)
		n += (nu + ni) * 4;
	return n;
}

void model_alloc(struct model *m, uint32_t rank, uint32_t nusers, uint32_t nitems,
		 uint32_t flags)
{
	memset(m, 0, sizeof(*m));
	m->rank = rank;
	m->nusers = nusers;
	m->nitems = nitems;
	m->flags = flags;
	m->user_ids = xcalloc(nusers ? nusers : 1, sizeof(uint32_t));
	m->item_ids = xcalloc(nitems ? nitems : 1, sizeof(uint32_t));
	m->user_factors = xcalloc((size_t)nusers * rank + 1, sizeof(float));
	m->item_factors = xcalloc((size_t)nitems * rank + 1, sizeof(float));
	if (flags & MODEL_BIASES) {
		m->user_bias = xcalloc(nusers ? nusers : 1, sizeof(float));
		m->item_bias = xcalloc(nitems ? nitems : 1, sizeof(float));
	}
}

void model_release(struct model *m)
{
	free(m->user_ids);
	free(m->item_ids);
	free(m->user_factors);
	free(m->item_factors);
	free(m->user_bias);
	free(m->item_bias);
	memset(m, 0, sizeof(*m));
}

static void put32(unsigned char *h, int off, uint32_t v) { memcpy(h + off, &v, 4); }
static void put64(unsigned char *h, int off, uint64_t v) { memcpy(h + off, &v, 8); }
static void putf(unsigned char *h, int off, float v) { memcpy(h + off, &v, 4); }
static uint32_t get32(const unsigned char *h, int off) { uint32_t v; memcpy(&v, h + off, 4); return v; }
static uint64_t get64(const unsigned char *h, int off) { uint64_t v; memcpy(&v, h + off, 8); return v; }
static float getf(const unsigned char *h, int off) { float v; memcpy(&v, h + off, 4); return v; }

static void hex(const unsigned char *d, char out[65])
{
	static const char x[] = "0123456789abcdef";
	for (int i = 0; i < 32; i++) {
		out[2 * i] = x[d[i] >> 4];
		out[2 * i + 1] = x[d[i] & 15];
	}
	out[64] = '\0';
}

void model_encode(struct model *m, struct buf *out)
{
	unsigned char h[MODEL_HEADER_SIZE] = { 0 };
	size_t start = out->len;
	uint64_t nu = m->nusers, ni = m->nitems, k = m->rank;

	memcpy(h + H_MAGIC, MODEL_MAGIC, 8);
	put32(h, H_VERSION, MODEL_VERSION);
	put32(h, H_HSIZE, MODEL_HEADER_SIZE);
	put32(h, H_RANK, m->rank);
	put32(h, H_NUSERS, m->nusers);
	put32(h, H_NITEMS, m->nitems);
	put32(h, H_FLAGS, m->flags);
	putf(h, H_LAMBDA, m->lambda);
	putf(h, H_ALPHA, m->alpha);
	putf(h, H_MEAN, m->mean);
	put32(h, H_ITERS, m->iters);
	put64(h, H_SEED, m->seed);
	put64(h, H_TRAINED, m->trained_at);
	put64(h, H_FPR, m->dataset_fingerprint);
	put64(h, H_PAYLOAD, payload_size(m->rank, nu, ni, m->flags));
	memcpy(h + H_DATASET, m->dataset, strnlen(m->dataset, 63));
	memcpy(h + H_SOLVER, m->solver, strnlen(m->solver, 15));

	buf_grow(out, MODEL_HEADER_SIZE + payload_size(m->rank, nu, ni, m->flags));
	buf_add(out, h, sizeof(h));
	buf_add(out, m->user_ids, nu * 4);
	buf_add(out, m->item_ids, ni * 4);
	buf_add(out, m->user_factors, nu * k * 4);
	buf_add(out, m->item_factors, ni * k * 4);
	if (m->flags & MODEL_BIASES) {
		buf_add(out, m->user_bias, nu * 4);
		buf_add(out, m->item_bias, ni * 4);
	}

	struct sha256 c;
	unsigned char sum[32];
	sha256_init(&c);
	sha256_update(&c, out->s + start, out->len - start);
	sha256_final(&c, sum);
	memcpy(out->s + start + H_SUM, sum, 32);
	hex(sum, m->checksum);
}

int model_decode(struct model *m, const void *data, size_t len, const char *name,
		 struct buf *err)
{
	const unsigned char *p = data;

	if (len < 8 || memcmp(p, MODEL_MAGIC, 8)) {
		buf_addf(err, "'%s' is not a pancake model file (no model header): "
			 "train one with 'recommender train'", name);
		return -1;
	}
	if (len < MODEL_HEADER_SIZE) {
		buf_addf(err, "model file '%s' is truncated: %zu bytes, shorter than its "
			 "header: train it again or take it from the registry", name, len);
		return -1;
	}
	uint32_t version = get32(p, H_VERSION);
	if (version != MODEL_VERSION || get32(p, H_HSIZE) != MODEL_HEADER_SIZE) {
		buf_addf(err, "model file '%s' is version %u; this binary reads version %d: "
			 "use the recommender that wrote it, or train again", name, version,
			 MODEL_VERSION);
		return -1;
	}
	uint32_t rank = get32(p, H_RANK), nu = get32(p, H_NUSERS), ni = get32(p, H_NITEMS);
	uint32_t flags = get32(p, H_FLAGS);
	uint64_t want = payload_size(rank, nu, ni, flags);
	if (rank == 0 || rank > 4096 || get64(p, H_PAYLOAD) != want) {
		buf_addf(err, "model file '%s' is corrupt: its header does not add up "
			 "(rank %u, %u users, %u items): train it again", name, rank, nu, ni);
		return -1;
	}
	if (len != MODEL_HEADER_SIZE + want) {
		buf_addf(err, "model file '%s' is %s: %zu bytes, its header says %llu: "
			 "train it again or take it from the registry", name,
			 len < MODEL_HEADER_SIZE + want ? "truncated" : "too long", len,
			 (unsigned long long)(MODEL_HEADER_SIZE + want));
		return -1;
	}

	unsigned char zero[32] = { 0 }, sum[32];
	struct sha256 c;
	sha256_init(&c);
	sha256_update(&c, p, H_SUM);
	sha256_update(&c, zero, 32);
	sha256_update(&c, p + H_SUM + 32, len - (H_SUM + 32));
	sha256_final(&c, sum);
	if (memcmp(sum, p + H_SUM, 32)) {
		buf_addf(err, "model file '%s' is corrupt: its checksum does not match "
			 "its contents: train it again or take it from the registry", name);
		return -1;
	}

	model_alloc(m, rank, nu, ni, flags);
	m->lambda = getf(p, H_LAMBDA);
	m->alpha = getf(p, H_ALPHA);
	m->mean = getf(p, H_MEAN);
	m->iters = get32(p, H_ITERS);
	m->seed = get64(p, H_SEED);
	m->trained_at = get64(p, H_TRAINED);
	m->dataset_fingerprint = get64(p, H_FPR);
	memcpy(m->dataset, p + H_DATASET, 63);
	memcpy(m->solver, p + H_SOLVER, 15);

	const unsigned char *q = p + MODEL_HEADER_SIZE;
	uint64_t k = rank;
	memcpy(m->user_ids, q, (size_t)nu * 4), q += (size_t)nu * 4;
	memcpy(m->item_ids, q, (size_t)ni * 4), q += (size_t)ni * 4;
	memcpy(m->user_factors, q, nu * k * 4), q += nu * k * 4;
	memcpy(m->item_factors, q, ni * k * 4), q += ni * k * 4;
	if (flags & MODEL_BIASES) {
		memcpy(m->user_bias, q, (size_t)nu * 4), q += (size_t)nu * 4;
		memcpy(m->item_bias, q, (size_t)ni * 4);
	}
	for (uint32_t i = 1; i < nu; i++)
		if (m->user_ids[i] <= m->user_ids[i - 1])
			goto unsorted;
	for (uint32_t i = 1; i < ni; i++)
		if (m->item_ids[i] <= m->item_ids[i - 1])
			goto unsorted;
	hex(sum, m->checksum);
	return 0;
unsorted:
	model_release(m);
	buf_addf(err, "model file '%s' is corrupt: its id table is not in order: "
		 "train it again", name);
	return -1;
}

int model_check_writable(const char *path, struct buf *err)
{
	char *dir = xstrdup(path), *slash = strrchr(dir, '/');
	struct buf tmp = BUF_INIT;
	struct stat st;
	int fd, ret = -1;

	if (slash)
		slash[slash == dir ? 1 : 0] = '\0';
	else
		snprintf(dir, strlen(dir) + 1, ".");
	if (!*path) {
		buf_addstr(err, "the model file's name is empty");
	} else if (stat(dir, &st)) {
		buf_addf(err, "cannot write model file '%s': its folder '%s' %s; create it "
			 "(mkdir -p '%s') or name another file", path, dir,
			 errno == ENOENT ? "does not exist" : strerror(errno), dir);
	} else if (!S_ISDIR(st.st_mode)) {
		buf_addf(err, "cannot write model file '%s': '%s' is not a folder", path, dir);
	} else if (!stat(path, &st) && S_ISDIR(st.st_mode)) {
		buf_addf(err, "cannot write model file '%s': it is a folder; name a file in it "
			 "(like '%s/NAME.model')", path, path);
	} else {
		/* the same kind of file model_save makes, made and removed at once */
		buf_addf(&tmp, "%s.tmp.%d", path, (int)getpid());
		fd = open(tmp.s, O_WRONLY | O_CREAT | O_EXCL, 0644);
		if (fd < 0) {
			buf_addf(err, "cannot write model file '%s': %s", path, strerror(errno));
		} else {
			close(fd);
			unlink(tmp.s);
			ret = 0;
		}
	}
	buf_release(&tmp);
	free(dir);
	return ret;
}

int model_save(struct model *m, const char *path, struct buf *err)
{
	struct buf b = BUF_INIT, tmp = BUF_INIT;
	int fd = -1, ret = -1;

	model_encode(m, &b);
	buf_addf(&tmp, "%s.tmp.%d", path, (int)getpid());
	fd = open(tmp.s, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0) {
		buf_addf(err, "cannot write model file '%s': %s", path, strerror(errno));
		goto out;
	}
	for (size_t off = 0; off < b.len;) {
		ssize_t n = write(fd, b.s + off, b.len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			buf_addf(err, "cannot write model file '%s': %s", path,
				 n < 0 ? strerror(errno) : "short write");
			goto out;
		}
		off += (size_t)n;
	}
	if (fsync(fd) < 0 || close(fd) < 0) {
		fd = -1;
		buf_addf(err, "cannot write model file '%s': %s", path, strerror(errno));
		goto out;
	}
	fd = -1;
	if (rename(tmp.s, path) < 0) {
		buf_addf(err, "cannot write model file '%s': %s", path, strerror(errno));
		goto out;
	}
	ret = 0;
out:
	if (fd >= 0)
		close(fd);
	if (ret)
		unlink(tmp.s);
	buf_release(&tmp);
	buf_release(&b);
	return ret;
}

int model_load(struct model *m, const char *path, struct buf *err)
{
	struct buf b = BUF_INIT;
	int ret;

	if (buf_read_file(&b, path, MODEL_MAX_BYTES) < 0) {
		buf_addf(err, "cannot read model file '%s': %s", path, strerror(errno));
		buf_release(&b);
		return -1;
	}
	ret = model_decode(m, b.s, b.len, path, err);
	buf_release(&b);
	return ret;
}

int64_t model_id_find(const uint32_t *ids, uint32_t n, uint32_t id)
{
	uint32_t lo = 0, hi = n;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (ids[mid] < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n && ids[lo] == id ? (int64_t)lo : -1;
}

int64_t model_user_index(const struct model *m, uint32_t user)
{
	return model_id_find(m->user_ids, m->nusers, user);
}

int64_t model_item_index(const struct model *m, uint32_t item)
{
	return model_id_find(m->item_ids, m->nitems, item);
}

void model_version(const struct model *m, char out[13])
{
	memcpy(out, m->checksum, 12);
	out[12] = '\0';
}
