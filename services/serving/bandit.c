/* bandit: variant choice; the posteriors are Beta(1 + successes, 1 + failures). */
#include <math.h>
#include <string.h>

#include "bandit.h"
#include "util/rand.h"

static const char *const names[] = { "ab", "thompson", "egreedy", "ucb1" };

int bandit_policy_parse(const char *s, enum bandit_policy *p)
{
	for (int i = 0; i < 4; i++)
		if (!strcmp(s, names[i])) {
			*p = (enum bandit_policy)i;
			return 0;
		}
	return -1;
}

const char *bandit_policy_name(enum bandit_policy p)
{
	return (unsigned)p < 4 ? names[p] : "unknown";
}

void bandit_init(struct bandit *b, enum bandit_policy p, double epsilon, uint64_t seed)
{
	memset(b, 0, sizeof(*b));
	b->policy = p;
	b->epsilon = epsilon;
	b->rng = seed ? seed : 0x853c49e6748fea9bULL;
	pthread_mutex_init(&b->lock, NULL);
}

void bandit_release(struct bandit *b)
{
	pthread_mutex_destroy(&b->lock);
}

int bandit_add(struct bandit *b, const char *name, double weight)
{
	if (b->narms >= BANDIT_MAX_ARMS)
		return -1;
	struct bandit_arm *a = &b->arms[b->narms];
	memset(a, 0, sizeof(*a));
	strncpy(a->name, name, sizeof(a->name) - 1);
	a->weight = weight > 0 ? weight : 1;
	return b->narms++;
}

int bandit_find(const struct bandit *b, const char *name)
{
	for (int i = 0; i < b->narms; i++)
		if (!strcmp(b->arms[i].name, name))
			return i;
	return -1;
}

static double uniform(uint64_t *s)
{
	return ((splitmix64(s) >> 11) + 0.5) / 9007199254740992.0;
}

static double normal(uint64_t *s)
{
	return sqrt(-2 * log(uniform(s))) * cos(2 * M_PI * uniform(s));
}

/* Marsaglia and Tsang's gamma variate (shape >= 1 here: 1 + counts) */
static double gamma_draw(uint64_t *s, double shape)
{
	double d = shape - 1.0 / 3, c = 1 / sqrt(9 * d);
	for (;;) {
		double x = normal(s), v = 1 + c * x;
		if (v <= 0)
			continue;
		v = v * v * v;
		double u = uniform(s);
		if (log(u) < 0.5 * x * x + d - d * v + d * log(v))
			return d * v;
	}
}

static double beta_draw(uint64_t *s, double a, double b)
{
	double x = gamma_draw(s, a), y = gamma_draw(s, b);
	return x / (x + y);
}

static int thompson_pick(struct bandit *b)
{
	int best = 0;
	double top = -1;
	for (int i = 0; i < b->narms; i++) {
		double v = beta_draw(&b->rng, 1 + b->arms[i].successes, 1 + b->arms[i].failures);
		if (v > top) {
			top = v;
			best = i;
		}
	}
	return best;
}

static double mean(const struct bandit_arm *a)
{
	double n = a->successes + a->failures;
	return n > 0 ? a->successes / n : 1.0;	/* optimistic until it is tried */
}

int bandit_choose(struct bandit *b, uint32_t user, double *prob)
{
	int arm = 0;

	pthread_mutex_lock(&b->lock);
	if (b->narms <= 1) {
		*prob = 1;
		goto out;
	}
	switch (b->policy) {
	case BANDIT_AB: {
		/* a stable hash of the user: the same user always sees the same variant */
		double total = 0, at;
		uint64_t h = user * 0x9e3779b97f4a7c15ULL;
		h ^= h >> 29;
		for (int i = 0; i < b->narms; i++)
			total += b->arms[i].weight;
		at = (h >> 11) / 9007199254740992.0 * total;
		for (arm = 0; arm < b->narms - 1 && at >= b->arms[arm].weight; arm++)
			at -= b->arms[arm].weight;
		for (int i = 0; i < b->narms; i++)
			b->arms[i].prob = b->arms[i].weight / total;
		break;
	}
	case BANDIT_THOMPSON:
		if (b->since_probs++ % 256 == 0) {
			int wins[BANDIT_MAX_ARMS] = { 0 };
			for (int d = 0; d < 256; d++)
				wins[thompson_pick(b)]++;
			for (int i = 0; i < b->narms; i++)
				b->arms[i].prob = wins[i] / 256.0;
		}
		arm = thompson_pick(b);
		break;
	case BANDIT_EGREEDY: {
		int best = 0;
		for (int i = 1; i < b->narms; i++)
			if (mean(&b->arms[i]) > mean(&b->arms[best]))
				best = i;
		arm = uniform(&b->rng) < b->epsilon ? (int)(splitmix64(&b->rng) % (uint64_t)b->narms) : best;
		for (int i = 0; i < b->narms; i++)
			b->arms[i].prob = b->epsilon / b->narms + (i == best ? 1 - b->epsilon : 0);
		break;
	}
	case BANDIT_UCB1: {
		double total = 0, top = -1;
		for (int i = 0; i < b->narms; i++)
			total += b->arms[i].successes + b->arms[i].failures;
		for (int i = 0; i < b->narms; i++) {
			double n = b->arms[i].successes + b->arms[i].failures;
			double v = n > 0 ? mean(&b->arms[i]) + sqrt(2 * log(total + 1) / n) : INFINITY;
			if (v > top) {
				top = v;
				arm = i;
			}
		}
		for (int i = 0; i < b->narms; i++)
			b->arms[i].prob = i == arm;
		break;
	}
	}
	*prob = b->arms[arm].prob;
out:
	if (b->narms > 0)
		b->arms[arm].pulls++;
	pthread_mutex_unlock(&b->lock);
	return arm;
}

void bandit_reward(struct bandit *b, int arm, double reward)
{
	if (arm < 0 || arm >= b->narms)
		return;
	if (!(reward >= 0))
		reward = 0;
	if (reward > 1)
		reward = 1;
	pthread_mutex_lock(&b->lock);
	b->arms[arm].successes += reward;
	b->arms[arm].failures += 1 - reward;
	pthread_mutex_unlock(&b->lock);
}

int bandit_snapshot(struct bandit *b, struct bandit_arm *out)
{
	pthread_mutex_lock(&b->lock);
	int n = b->narms;
	memcpy(out, b->arms, sizeof(struct bandit_arm) * (size_t)n);
	pthread_mutex_unlock(&b->lock);
	return n;
}
