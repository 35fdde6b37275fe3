/*
 * baseline.h - each outbound sender against its own normal.
 *
 * Per key (the user of the outbound limits), an exponentially weighted
 * mean and variance of the messages per hour (every hour, the quiet ones
 * too, so a daily cycle is part of the spread) and per day. A sender
 * whose current hour (or day) goes past
 *     max(minimum, factor * (mean + 3 * standard deviation))
 * is refused before any fixed limit is reached. A new sender starts from
 * an assumed normal (baseline_new_sender messages per hour, its square as
 * the variance). The recipient domains of the current hour are kept
 * (the 8 most frequent, Space-Saving) for the alert and status.
 *
 * Distinct recipient domains (when dom_factor is not 0): per hour and per
 * day the number of distinct domains the sender wrote to, counted exactly
 * up to 32 and estimated above (a HyperLogLog of 128 registers, about 9 %
 * error, in the same 132 bytes), and an EWMA mean and variance of it like
 * the volume's. A sender whose distinct domains of the hour (day) go past
 *     max(dom_min, dom_factor * (mean + 3 * standard deviation))
 * is refused as well: spam goes to many domains, people write to a few.
 *
 * Time is always a parameter (now, epoch seconds): the simulation in
 * bench/policy_baseline_sim.c drives two simulated weeks through the same
 * functions the daemon calls with time(NULL).
 *
 * SECURITY: keys and recipient domains are untrusted (the remote client
 * chooses them); they are cut (RL_MAX_KEY, BL_MAX_DOMAIN), hashed with a
 * random seed, and the table has a fixed maximum size.
 */
#ifndef RBLKIT_POLICY_BASELINE_H
#define RBLKIT_POLICY_BASELINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define BL_TOP_DOMAINS 8
#define BL_MAX_DOMAIN 64

struct bl_params {
	double factor;		/* baseline_factor */
	uint32_t min_hour;	/* baseline_min: never refused below (per hour) */
	uint32_t min_day;	/* 8 * min_hour */
	double new_hour;	/* baseline_new_sender: assumed messages per hour */
	/* distinct recipient domains (baseline_domains_*): 0 is off */
	double dom_factor;
	uint32_t dom_min_hour, dom_min_day;
	double dom_new_hour;	/* assumed distinct domains per hour */
};

struct bl_table;
struct bl_user;

/* A table of at most max_users senders. */
struct bl_table *bl_new(size_t max_users);
void bl_free(struct bl_table *t);

/* What bl_check() found. */
struct bl_verdict {
	bool over;
	bool alert;		/* first time in this window: alert */
	bool day;		/* the day was crossed (else the hour) */
	bool domains;		/* the distinct recipient domains crossed */
	uint32_t count;		/* the window's count (messages with this
				 * one, or distinct domains) */
	double mean, sd;	/* its baseline */
	uint32_t threshold;
};

/* Would one more message of key at now go past its normal? Fills v;
 * returns true when over. An unknown key is checked against the default
 * for new senders (and not created). */
bool bl_check(struct bl_table *t, const struct bl_params *p, const char *key,
	      uint32_t now, struct bl_verdict *v);
/* The same question without its side effects (no alert is claimed):
 * for status. */
bool bl_held(struct bl_table *t, const struct bl_params *p, const char *key,
	     uint32_t now, struct bl_verdict *v);
/* Count one accepted message of key at now. */
void bl_count(struct bl_table *t, const struct bl_params *p, const char *key, uint32_t now);
/* A recipient of key at now (RCPT): its domain joins the hour's top and
 * (with dom_factor) the distinct domains of the hour and the day. The
 * domain counts whether the message is then refused or not, so a sender
 * held for its domains stays held for the window. */
void bl_recipient(struct bl_table *t, const struct bl_params *p, const char *key,
		  const char *rcpt, uint32_t now);
/* "example.com:12 example.org:3" (most first) into buf. */
void bl_top_domains(struct bl_table *t, const char *key, char *buf, size_t len);
/* One status line for key ("  baseline: ..."), and "  baseline: HELD
 * ..." when its next message would be refused; nothing if unknown. */
void bl_status(FILE *f, struct bl_table *t, const struct bl_params *p, const char *key,
	       uint32_t now);

/* A baseline as the shared store keeps it (the fields of the Redis hash
 * rblkit:bl:USER, counters_scripts.c), for the cluster's status. */
struct bl_shared {
	uint32_t hour_start, hour_n, day_start, day_n;
	double h_mean, h_var, d_mean, d_var;
	uint32_t hour_dom, day_dom;	/* distinct domains (PFCOUNT) */
	double x_mean, x_var, y_mean, y_var;
	const char *top;		/* "a.example:3 b.example:1" */
};
/* The status lines of bl_status() for a shared baseline s, rolled to
 * now as the store's script would roll it. */
void bl_status_shared(FILE *f, const struct bl_params *p, const struct bl_shared *s,
		      uint32_t now);
/* max(min, factor * (mean + 3 sd)), capped at 4e9: the threshold of a
 * window. */
uint32_t bl_threshold(double mean, double var, double factor, uint32_t min);
size_t bl_count_users(const struct bl_table *t);

/* Write every baseline (and the table's hash seed, so that the
 * recipient domains of the current windows are recognised again) to path (a temporary file, fsync'd and renamed):
 * the local store keeps them in state_dir/baselines across restarts.
 * Returns 0, or -1 with errno. */
int bl_save(struct bl_table *t, const char *path);
/* Load what bl_save wrote into t (which should be empty: the file's seed
 * is taken only then). Files of version 1 (no domains) load too. A missing file
 * is no error (0). Returns the number of senders loaded, or -1 with the
 * reason (file, line) in err for a damaged file (what came before the
 * damage is kept). */
long bl_load(struct bl_table *t, const char *path, char *err, size_t errlen);

#endif
