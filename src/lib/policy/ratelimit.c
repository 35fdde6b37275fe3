/*
 * ratelimit.c - per-user sliding-window counters and limit checks.
 *
 * SECURITY: user names are untrusted (the sender address is the remote
 * client's choice); they are cut at RL_MAX_KEY bytes, hashed with a
 * per-process random seed (no chosen collisions), and the table has a
 * fixed maximum size.
 */
#include "policy/ratelimit.h"
#include "base/util.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct rl_table {
	struct kt_table *kt;	/* of struct rl_user */
};

static const struct {
	const char *name;
	uint32_t sec;
} rl_units[] = {
	{ "second", 1 }, { "minute", 60 }, { "hour", 3600 },
	{ "day", 86400 }, { "week", 604800 },
};

/* "hour", "hours", "10m" at s (length n) into *sec. */
static int rl_parse_period(const char *s, size_t n, uint32_t *sec)
{
	char buf[32];
	const char *end;

	if (n == 0 || n >= sizeof(buf))
		return -1;
	memcpy(buf, s, n);
	buf[n] = '\0';
	if (n > 1 && buf[n - 1] == 's' && isalpha((unsigned char)buf[0]))
		buf[--n] = '\0';
	for (size_t i = 0; i < ARRAY_SIZE(rl_units); i++)
		if (!strcmp(buf, rl_units[i].name)) {
			*sec = rl_units[i].sec;
			return 0;
		}
	end = parse_time(buf, sec);
	if (!end || *end || *sec == 0)
		return -1;
	return 0;
}

/* One "N kind/period" of length n. */
static int rl_parse_one(const char *s, size_t n, struct rl_limit *l, const char **why)
{
	char buf[96], *p, *slash, *end;
	unsigned long v;

	if (n >= sizeof(buf)) {
		*why = "too long";
		return -1;
	}
	memcpy(buf, s, n);
	buf[n] = '\0';
	p = buf;
	v = strtoul(p, &end, 10);
	if (end == p || v == 0 || v > 100000000 || !isspace((unsigned char)*end)) {
		*why = "expected a count of 1..100000000, then 'messages' or 'recipients'";
		return -1;
	}
	l->max = (uint32_t)v;
	p = end + strspn(end, " \t");
	slash = strchr(p, '/');
	if (!slash) {
		*why = "expected '/' and a window (hour, day, 10m, ...)";
		return -1;
	}
	while (slash > p && isspace((unsigned char)slash[-1]))
		slash--;
	if ((size_t)(slash - p) == 8 && !strncmp(p, "messages", 8))
		l->kind = RL_MESSAGES;
	else if ((size_t)(slash - p) == 10 && !strncmp(p, "recipients", 10))
		l->kind = RL_RECIPIENTS;
	else {
		*why = "expected 'messages' or 'recipients'";
		return -1;
	}
	p = strchr(slash, '/') + 1;
	p += strspn(p, " \t");
	if (rl_parse_period(p, strcspn(p, " \t"), &l->period) ||
	    p[strcspn(p, " \t") + strspn(p + strcspn(p, " \t"), " \t")]) {
		*why = "the window must be second, minute, hour, day, week or a "
		       "time such as 10m";
		return -1;
	}
	return 0;
}

int rl_parse_limits(const char *text, struct rl_limits *out, char *err, size_t errlen)
{
	const char *p = text;

	memset(out, 0, sizeof(*out));
	for (;;) {
		const char *why = NULL;
		size_t n;

		p += strspn(p, ", \t\r\n");
		if (!*p)
			return 0;
		n = strcspn(p, ",");
		while (n && isspace((unsigned char)p[n - 1]))
			n--;
		if (out->n == RL_MAX_LIMITS) {
			snprintf(err, errlen, "more than %d limits", RL_MAX_LIMITS);
			return -1;
		}
		if (rl_parse_one(p, n, &out->lim[out->n], &why)) {
			snprintf(err, errlen, "'%.*s': %s", (int)(n > 100 ? 100 : n), p, why);
			return -1;
		}
		out->n++;
		p += n;
	}
}

void rl_period_text(uint32_t period, char *buf, size_t len)
{
	for (size_t i = 0; i < ARRAY_SIZE(rl_units); i++)
		if (rl_units[i].sec == period) {
			snprintf(buf, len, "%s", rl_units[i].name);
			return;
		}
	if (period % 3600 == 0)
		snprintf(buf, len, "%uh", period / 3600);
	else if (period % 60 == 0)
		snprintf(buf, len, "%um", period / 60);
	else
		snprintf(buf, len, "%us", period);
}

void rl_limit_text(const struct rl_limit *l, char *buf, size_t len)
{
	char per[32];

	rl_period_text(l->period, per, sizeof(per));
	snprintf(buf, len, "%u %s/%s", l->max,
		 l->kind == RL_MESSAGES ? "messages" : "recipients", per);
}

/* -- the table ------------------------------------------------------- */

struct rl_table *rl_new(size_t max_users)
{
	struct rl_table *t = xcalloc(1, sizeof(*t));

	t->kt = kt_new(max_users);
	return t;
}

void rl_free(struct rl_table *t)
{
	if (!t)
		return;
	kt_free(t->kt, NULL);
	free(t);
}

struct rl_user *rl_get(struct rl_table *t, const char *key, bool create)
{
	return (struct rl_user *)kt_get(t->kt, key, create ? sizeof(struct rl_user) : 0, NULL);
}

size_t rl_count(const struct rl_table *t)
{
	return kt_count(t->kt);
}

int rl_remove(struct rl_table *t, const char *key)
{
	return kt_remove(t->kt, key, NULL);
}

struct each {
	void (*fn)(void *arg, struct rl_user *u);
	void *arg;
};

static void each_user(void *arg, struct kt_node *n)
{
	struct each *e = arg;

	e->fn(e->arg, (struct rl_user *)n);
}

void rl_foreach(struct rl_table *t, void (*fn)(void *arg, struct rl_user *u), void *arg)
{
	struct each e = { fn, arg };

	kt_foreach(t->kt, each_user, &e);
}

/* Have all windows of u run out at now? */
static bool rl_idle(const struct rl_user *u, uint32_t now)
{
	for (int i = 0; i < RL_MAX_PERIODS; i++) {
		const struct rl_counter *c = &u->c[i];

		if (c->period && (uint64_t)c->start + 2ull * c->period > now &&
		    (c->cur[0] || c->cur[1] || c->prev[0] || c->prev[1]))
			return false;
	}
	return true;
}

/* A user rl_expire drops: not blocked, every window run out. */
static bool expired(void *arg, struct kt_node *n)
{
	const struct rl_user *u = (const struct rl_user *)n;

	return !u->blocked && rl_idle(u, *(const uint32_t *)arg);
}

size_t rl_expire(struct rl_table *t, uint32_t now)
{
	return kt_sweep(t->kt, expired, &now);
}

/* -- counting -------------------------------------------------------- */

/* Move c's fixed windows forward to the one that holds now. */
static void rl_rotate(struct rl_counter *c, uint32_t now)
{
	uint64_t end = (uint64_t)c->start + c->period;

	if (now < end)
		return;
	if (now < end + c->period) {
		memcpy(c->prev, c->cur, sizeof(c->prev));
		c->start = (uint32_t)end;
	} else {
		memset(c->prev, 0, sizeof(c->prev));
		c->start = now - now % c->period;
	}
	memset(c->cur, 0, sizeof(c->cur));
}

static struct rl_counter *rl_counter_of(struct rl_user *u, uint32_t period)
{
	if (period == 0)	/* an unused slot, not a window */
		return NULL;
	for (int i = 0; i < RL_MAX_PERIODS; i++)
		if (u->c[i].period == period)
			return &u->c[i];
	return NULL;
}

uint32_t rl_estimate(struct rl_user *u, enum rl_kind kind, uint32_t period, uint32_t now)
{
	struct rl_counter *c = rl_counter_of(u, period);
	uint64_t into, est;

	if (!c)
		return 0;
	if (now < c->start)		/* the clock went back: count it all */
		return c->cur[kind] + c->prev[kind];
	rl_rotate(c, now);
	into = now - c->start;
	est = c->cur[kind] + (uint64_t)c->prev[kind] * (c->period - into) / c->period;
	return est > UINT32_MAX ? UINT32_MAX : (uint32_t)est;
}

int rl_check(struct rl_user *u, const struct rl_limits *l, uint32_t now,
	     uint32_t msgs, uint32_t rcpts, uint32_t *count)
{
	for (size_t i = 0; i < l->n; i++) {
		const struct rl_limit *lim = &l->lim[i];
		uint32_t est = rl_estimate(u, lim->kind, lim->period, now);
		uint64_t add = lim->kind == RL_MESSAGES ? msgs : rcpts;

		if ((uint64_t)est + add > lim->max) {
			if (count)
				*count = est;
			return (int)i;
		}
	}
	return -1;
}

static uint32_t sat_add(uint32_t a, uint32_t b)
{
	return a > UINT32_MAX - b ? UINT32_MAX : a + b;
}

void rl_add(struct rl_user *u, const uint32_t *periods, size_t n,
	    uint32_t now, uint32_t msgs, uint32_t rcpts)
{
	for (size_t i = 0; i < n; i++) {
		struct rl_counter *c = rl_counter_of(u, periods[i]);

		if (!c) {
			/* reuse a slot whose period is no longer configured */
			for (int j = 0; j < RL_MAX_PERIODS && !c; j++) {
				bool used = false;

				for (size_t k = 0; k < n; k++)
					used |= u->c[j].period == periods[k];
				if (!used)
					c = &u->c[j];
			}
			if (!c)
				continue;
			memset(c, 0, sizeof(*c));
			c->period = periods[i];
			c->start = now - now % c->period;
		}
		if (now >= c->start)
			rl_rotate(c, now);
		c->cur[RL_MESSAGES] = sat_add(c->cur[RL_MESSAGES], msgs);
		c->cur[RL_RECIPIENTS] = sat_add(c->cur[RL_RECIPIENTS], rcpts);
	}
	u->last = now;
}

int rl_periods(const struct rl_limits *const *sets, size_t nsets, uint32_t *out, size_t *n)
{
	*n = 0;
	for (size_t s = 0; s < nsets; s++)
		for (size_t i = 0; i < sets[s]->n; i++) {
			uint32_t p = sets[s]->lim[i].period;
			size_t k;

			for (k = 0; k < *n && out[k] != p; k++)
				;
			if (k < *n)
				continue;
			if (*n == RL_MAX_PERIODS)
				return -1;
			out[(*n)++] = p;
		}
	return 0;
}
