/*
 * bandit: which model variant serves a request. A/B by a stable hash of
 * the user with weights, or a multi-armed bandit over the variants:
 * Beta-Bernoulli Thompson sampling (default), epsilon-greedy or UCB1.
 * Thread-safe; every choice says how likely it was.
 */
#ifndef PANCAKE_BANDIT_H
#define PANCAKE_BANDIT_H

#include <pthread.h>
#include <stdint.h>

#define BANDIT_MAX_ARMS 8

enum bandit_policy { BANDIT_AB, BANDIT_THOMPSON, BANDIT_EGREEDY, BANDIT_UCB1 };

struct bandit_arm {
	char name[32];
	double weight;		/* A/B share (relative) */
	uint64_t pulls;		/* times chosen */
	double successes;	/* summed rewards (0..1 each) */
	double failures;	/* summed 1 - reward, and closed windows without feedback */
	double prob;		/* the last selection probability of this arm */
};

struct bandit {
	enum bandit_policy policy;
	int narms;
	struct bandit_arm arms[BANDIT_MAX_ARMS];
	double epsilon;
	uint64_t rng;
	uint64_t since_probs;	/* choices since Thompson's probabilities were estimated */
	pthread_mutex_t lock;
};

/* "ab", "thompson", "egreedy", "ucb1" -> 0, else -1 */
int bandit_policy_parse(const char *s, enum bandit_policy *p);
const char *bandit_policy_name(enum bandit_policy p);

void bandit_init(struct bandit *b, enum bandit_policy p, double epsilon, uint64_t seed);
void bandit_release(struct bandit *b);
/* the arm's index, or -1 when full */
int bandit_add(struct bandit *b, const char *name, double weight);
/* the arm named `name`, or -1 */
int bandit_find(const struct bandit *b, const char *name);

/*
 * Picks the arm for `user` and counts a pull; *prob gets the probability
 * that this arm was the one chosen (A/B: its share; epsilon-greedy: exact;
 * UCB1: 1; Thompson: estimated from 256 draws, refreshed every 256 choices).
 */
int bandit_choose(struct bandit *b, uint32_t user, double *prob);
/* feedback for one pull of `arm`: reward in [0, 1] (0 also when a window closed) */
void bandit_reward(struct bandit *b, int arm, double reward);
/* a consistent copy of the arms (for metrics) */
int bandit_snapshot(struct bandit *b, struct bandit_arm *out);

#endif
