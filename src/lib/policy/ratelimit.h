/*
 * ratelimit.h - outbound sending limits: messages and recipients per
 * window, per user, several windows at once, per-user overrides.
 *
 * Counting is a sliding-window estimate from two fixed windows (the
 * current one and the one before, weighted by how much of it still lies
 * inside the sliding window): two counters per window and user, no event
 * list, and the same numbers after a replay of the journal because every
 * change carries its wall-clock time.
 *
 * SECURITY: user names come from Postfix requests (sasl_username, sender,
 * client_address: the sender is chosen by the remote client). They are
 * only hashed, compared and copied with a length limit.
 */
#ifndef RBLKIT_RATELIMIT_H
#define RBLKIT_RATELIMIT_H

#include "policy/keytab.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RL_MAX_LIMITS 4		/* limits of one outbound_limits value */
#define RL_MAX_PERIODS 4	/* distinct windows counted per user */
#define RL_MAX_KEY KT_MAX_KEY	/* longer user names are cut here */

enum rl_kind { RL_MESSAGES = 0, RL_RECIPIENTS = 1 };

struct rl_limit {
	enum rl_kind kind;
	uint32_t max;
	uint32_t period;	/* seconds */
};

struct rl_limits {
	struct rl_limit lim[RL_MAX_LIMITS];
	size_t n;
};

/* "100 messages/hour, 1000 recipients/day" (units: second minute hour
 * day week, or a time like 10m / 2h). Returns 0, or -1 with err. An empty
 * text is no limit at all. */
int rl_parse_limits(const char *text, struct rl_limits *out,
		    char *err, size_t errlen);
/* "100 messages/hour" back into text. */
void rl_limit_text(const struct rl_limit *l, char *buf, size_t len);
/* "hour", "day", "10m": the window of a limit. */
void rl_period_text(uint32_t period, char *buf, size_t len);

struct rl_counter {
	uint32_t period;	/* 0: slot unused */
	uint32_t start;		/* start of the current fixed window (epoch s) */
	uint32_t cur[2], prev[2];	/* by enum rl_kind */
};

struct rl_user {
	struct kt_node kn;		/* kn.key: the user name (keytab.h) */
	uint32_t last;			/* last change (epoch s) */
	bool blocked;
	uint32_t blocked_since;
	struct rl_limit blocked_by;	/* the limit crossed first */
	/* the last alert for a message too large for what was left of a
	 * limit (no block; memory only, not in the state files) */
	uint32_t over_since;
	struct rl_limit over_by;
	struct rl_counter c[RL_MAX_PERIODS];
};

struct rl_table;

/* A table of at most max_users users. */
struct rl_table *rl_new(size_t max_users);
void rl_free(struct rl_table *t);
/* The user with this key, created when create is set (NULL when absent
 * or when the table is full). The key is cut at RL_MAX_KEY bytes. */
struct rl_user *rl_get(struct rl_table *t, const char *key, bool create);
size_t rl_count(const struct rl_table *t);
/* Forget a user: counters and block. Returns 0, or -1 if unknown. */
int rl_remove(struct rl_table *t, const char *key);
/* Call fn for every user (the order is the hash table's). */
void rl_foreach(struct rl_table *t, void (*fn)(void *arg, struct rl_user *u),
		void *arg);
/* Drop users whose windows have all run out and who are not blocked.
 * Returns how many were dropped. */
size_t rl_expire(struct rl_table *t, uint32_t now);

/* The sliding-window estimate of kind over period at time now (0 when the
 * user has no counter for that period). */
uint32_t rl_estimate(struct rl_user *u, enum rl_kind kind, uint32_t period,
		     uint32_t now);
/* The first limit that adding msgs messages and rcpts recipients at now
 * would take past its maximum, or -1. *count gets that limit's estimate
 * before the addition. */
int rl_check(struct rl_user *u, const struct rl_limits *l, uint32_t now,
	     uint32_t msgs, uint32_t rcpts, uint32_t *count);
/* Add msgs and rcpts at time now to the counters of every period in
 * periods[0..n) (slots for other periods are reused). */
void rl_add(struct rl_user *u, const uint32_t *periods, size_t n,
	    uint32_t now, uint32_t msgs, uint32_t rcpts);

/* The distinct periods of several limit sets, into out (at most
 * RL_MAX_PERIODS; returns -1 if there are more). */
int rl_periods(const struct rl_limits *const *sets, size_t nsets,
	       uint32_t *out, size_t *n);

#endif
