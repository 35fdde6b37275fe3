/*
 * policy_baseline_sim.c - the baselines of rblkit policy (outbound_baseline)
 * over two simulated weeks: 1,000 honest senders with daily and weekly
 * cycles, and one account that sends ~20 mails a day for two weeks and is
 * then taken over (2,000 messages an hour). Drives the same functions the
 * daemon calls (policy/baseline.h), with the simulated time as their
 * "now" parameter (the clock hook: every baseline function takes now).
 *
 * Honest sender: a daily volume drawn once (log-normal, median 20, spread
 * x/e: most between 7 and 55, a few in the hundreds); each day scaled by a
 * log-normal day factor (sigma 0.5; weekends x0.3); spread over the hours
 * by an office-day profile (night 1 %, 9-17 h full, evenings 40 %), each
 * hour's count Poisson. Messages at uniform times within their hour; each
 * is checked (bl_check) and, when not refused, counted (bl_count), as the
 * daemon does at END-OF-MESSAGE.
 *
 * Recipient domains: an honest sender writes to its own few domains (2 to
 * 12, the first ones most), and one message in ten to a domain of a large
 * pool; the compromised account's spam goes half to 10 big freemail
 * domains, half to domains of a pool of 100,000. Every message is one RCPT
 * (bl_recipient) before its check.
 *
 * Usage: policy_baseline_sim [-f FACTOR] [-m MIN_PER_HOUR] [-n NEW_SENDER]
 *                            [-u USERS] [-s SEED] [-b BURST_PROB]
 *                            [-F DOMAINS_FACTOR] [-M DOMAINS_MIN]
 * -F 0 turns the domains off (5 by default, -M 10).
 * -b: the chance per user and day of a burst (an invitation round: the
 * day's volume again, within one hour), 0 by default.
 * Output: one line per measure (honest held, compromise held after N).
 *
 * Built by bench/policy_redis.sh against build/librblkit.a.
 */
#include "policy/baseline.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define T0 1793577600u		/* Monday 2026-11-02 00:00 UTC */
#define DAYS 14

static uint64_t rs = 88172645463325252ull;

static double urand(void)
{
	rs ^= rs << 13;
	rs ^= rs >> 7;
	rs ^= rs << 17;
	return (double)(rs >> 11) / 9007199254740992.0;
}

/* ln and exp without libm: good enough for a simulation */
static double my_exp(double x)
{
	double s = 1, t = 1;
	int k = 0;

	while (x > 1) {
		x /= 2;
		k++;
	}
	while (x < -1) {
		x /= 2;
		k++;
	}
	for (int i = 1; i < 30; i++) {
		t *= x / i;
		s += t;
	}
	while (k--)
		s *= s;
	return s;
}

static double gauss(void)	/* sum of 12 uniforms */
{
	double s = 0;

	for (int i = 0; i < 12; i++)
		s += urand();
	return s - 6;
}

static unsigned poisson(double l)
{
	double L = my_exp(-l), p = 1;
	unsigned k = 0;

	if (l > 50) {		/* normal approximation */
		double v = l + gauss() * __builtin_sqrt(l);

		return v < 0 ? 0 : (unsigned)(v + 0.5);
	}
	do {
		k++;
		p *= urand();
	} while (p > L);
	return k - 1;
}

static const double profile[24] = {
	0.01, 0.01, 0.01, 0.01, 0.01, 0.01, 0.05, 0.3, 0.8, 1, 1.2, 1.1,
	0.7, 1, 1.2, 1.1, 1, 0.8, 0.4, 0.4, 0.4, 0.3, 0.1, 0.05,
};

struct sim {
	struct bl_table *t;
	unsigned ndom;		/* the current sender's own domains */
	bool spam;
	struct bl_params p;
	unsigned held, held_users, msgs;
};

/* The RCPT of one message of key at now. */
static void recipient(struct sim *s, const char *key, uint32_t now)
{
	char r[64];

	if (s->spam)
		snprintf(r, sizeof(r), "x@%s%u.example", urand() < 0.5 ? "big" : "pool",
			 urand() < 0.5 ? (unsigned)(urand() * 10) : (unsigned)(urand() * 100000));
	else if (urand() < 0.1)
		snprintf(r, sizeof(r), "x@pool%u.example", (unsigned)(urand() * 100000));
	else	/* the first of its own domains most: min of two draws */
		snprintf(r, sizeof(r), "x@own%u-%s", (unsigned)(urand() * s->ndom) <
			 (unsigned)(urand() * s->ndom) ? 0u : (unsigned)(urand() * s->ndom), key);
	bl_recipient(s->t, &s->p, key, r, now);
}

/* One sender's messages of one hour; returns how many were refused. */
static unsigned hour_of(struct sim *s, const char *key, uint32_t start, unsigned n)
{
	unsigned refused = 0;
	uint32_t at[4096];

	if (n > 4096)
		n = 4096;
	for (unsigned i = 0; i < n; i++)
		at[i] = start + (uint32_t)(urand() * 3600);
	for (unsigned i = 1; i < n; i++)	/* insertion sort: time order */
		for (unsigned j = i; j > 0 && at[j - 1] > at[j]; j--) {
			uint32_t x = at[j];

			at[j] = at[j - 1];
			at[j - 1] = x;
		}
	for (unsigned i = 0; i < n; i++) {
		struct bl_verdict v;

		s->msgs++;
		recipient(s, key, at[i]);
		if (bl_check(s->t, &s->p, key, at[i], &v))
			refused++;
		else
			bl_count(s->t, &s->p, key, at[i]);
	}
	return refused;
}

static double profile_sum(void)
{
	double t = 0;

	for (int h = 0; h < 24; h++)
		t += profile[h];
	return t;
}

/* Two weeks of an honest sender of about daily messages a day. */
static unsigned honest(struct sim *s, const char *key, double daily, double burst)
{
	unsigned refused = 0;
	double ps = profile_sum();

	s->ndom = 2 + (unsigned)(urand() * 11);
	s->spam = false;
	for (int d = 0; d < DAYS; d++) {
		double f = my_exp(0.5 * gauss()) * (d % 7 >= 5 ? 0.3 : 1);
		int bh = urand() < burst ? 9 + (int)(urand() * 8) : -1;

		for (int h = 0; h < 24; h++) {
			unsigned n = poisson(daily * f * profile[h] / ps);

			if (h == bh)
				n += (unsigned)(daily * f);
			refused += hour_of(s, key, T0 + (uint32_t)d * 86400 + (uint32_t)h * 3600, n);
		}
	}
	return refused;
}

int main(int argc, char **argv)
{
	struct sim s = { .p = { .factor = 5, .min_hour = 30, .min_day = 240, .new_hour = 2,
				.dom_factor = 5, .dom_min_hour = 10, .dom_min_day = 80,
				.dom_new_hour = 1 } };
	unsigned by_domains = 0;
	unsigned users = 1000, worst = 0;
	double burst = 0;
	int c;

	while ((c = getopt(argc, argv, "f:m:n:u:s:b:F:M:")) != -1) {
		switch (c) {
		case 'f': s.p.factor = atof(optarg); break;
		case 'm': s.p.min_hour = (uint32_t)atoi(optarg); s.p.min_day = 8 * s.p.min_hour; break;
		case 'n': s.p.new_hour = atof(optarg); break;
		case 'u': users = (unsigned)atoi(optarg); break;
		case 's': rs = strtoull(optarg, NULL, 10) | 1; break;
		case 'b': burst = atof(optarg); break;
		case 'F': s.p.dom_factor = atof(optarg); break;
		case 'M': s.p.dom_min_hour = (uint32_t)atoi(optarg);
			s.p.dom_min_day = 8 * s.p.dom_min_hour; break;
		default:
			fprintf(stderr, "usage: %s [-f factor] [-m min] [-n new] [-u users] [-s seed] "
				"[-b burst]\n", argv[0]);
			return 2;
		}
	}
	s.t = bl_new(users + 16);
	for (unsigned u = 0; u < users; u++) {
		char key[32];
		double daily = 20 * my_exp(gauss());
		unsigned r;

		snprintf(key, sizeof(key), "user%u@sim.test", u);
		if ((r = honest(&s, key, daily, burst))) {
			s.held += r;
			s.held_users++;
		}
	}
	printf("honest: %u users, %u messages over %d days, %u users held (%u messages "
	       "held)\n", users, s.msgs, DAYS, s.held_users, s.held);
	/* the compromise, started at several hours of the day after two weeks */
	for (int start = 0; start < 24; start += 3) {
		char key[32];
		unsigned sent = 0;
		uint32_t t0 = T0 + DAYS * 86400u + (uint32_t)start * 3600;

		snprintf(key, sizeof(key), "victim%d@sim.test", start);
		honest(&s, key, 20, 0);
		s.spam = true;
		for (unsigned i = 0; i < 2000; i++) {
			struct bl_verdict v;
			uint32_t at = t0 + i * 9 / 5;	/* 2000 an hour */

			recipient(&s, key, at);
			if (bl_check(s.t, &s.p, key, at, &v)) {
				by_domains += v.domains;
				break;
			}
			bl_count(s.t, &s.p, key, at);
			sent++;
		}
		printf("compromise at %02d:00: held after %u messages\n", start, sent);
		if (sent > worst)
			worst = sent;
	}
	printf("compromise: worst case held after %u messages (target: within 50); "
	       "%u of 8 held for their recipient domains (domains factor %g, min %u)\n", worst,
	       by_domains, s.p.dom_factor, s.p.dom_min_hour);
	bl_free(s.t);
	return 0;
}
