/*
 * watch.h - `rblkit watch`: a daemon that checks the operator's own
 * addresses, ranges, hosts and mail domains against blocklists on a
 * schedule, keeps the history in the store (store/watch.h) and alerts
 * once per change of state.
 *
 * Parts:
 *   conf.c     the configuration (conftab), the targets, the lists, and
 *              each list's effective interval under its daily budget
 *   daemon.c   the scheduler, the state machine (K confirmations), the
 *              metrics listener, SIGHUP / SIGTERM
 *   alert.c    delivery of one alert (command, webhook, mail), run in a
 *              child process (`rblkit watch deliver`) so that a hanging
 *              channel never stops the checks
 *   status.c   `rblkit watch status` and `rblkit watch note`
 *
 * Verdicts are those of `rblkit check` (dnsbl.h): a refusal code, an
 * answer outside 127/8, a timeout or a failed RFC 5782 probe is an error
 * of the list (its row with target "" in the store), never a listing.
 *
 * SECURITY: the configuration is the operator's. DNS answers (codes,
 * TXT) are other parties' text: they reach alerts as environment
 * variables, JSON strings (escaped) and a mail body (one line each,
 * control characters replaced), never a shell command line.
 */
#ifndef RBLKIT_WATCH_H
#define RBLKIT_WATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "base/conftab.h"
#include "dnsbl/catalog.h"

/* The configuration (conftab keys of the same names). */
struct watch_conf {
	struct conftab_list watch;      /* targets: ADDR, CIDR, HOST, mx:DOMAIN */
	char *lists;                    /* check --lists SPEC plus ZONE@ADDR[:PORT] words */
	char *resolver;                 /* "recursive" or ADDR[:PORT][,...] */
	char *root_hints;               /* recursive: a root hints file (tests) */
	char *catalog;                  /* an extra catalogue file */
	char *store;                    /* DSN; "" = sqlite:STATE_DIR/watch.db */
	char *state_dir;
	unsigned confirm;               /* K */
	uint32_t interval;              /* seconds, every list */
	struct conftab_list list_interval;      /* ZONE=TIME, per list */
	unsigned default_budget;        /* queries a day of a list without a limit */
	struct conftab_list budget;     /* ZONE=N, per list (0: unlimited) */
	uint32_t probe_interval;        /* RFC 5782 probe at least this often */
	uint32_t confirm_delay;         /* re-check of a change after this */
	unsigned reminder;              /* hours; 0: off */
	uint32_t timeout;               /* per DNS try */
	char *alert_command, *alert_webhook, *alert_mail;
	uint32_t webhook_timeout;
	unsigned webhook_retries;
	char *webhook_ca;               /* https: trust these CAs (PEM) instead of the system's */
	char *sendmail;
	char *mail_log, *bounce_maildir;
	char *metrics;                  /* ADDR:PORT */
	uint32_t note_window;           /* notes quoted by an alert: this far back */
	char *log_level;
};

extern const struct conftab watch_conftab;

/* One target as watched: an address, or a host / mail domain that the
 * engine expands at each check. */
struct watch_target {
	char *name;                     /* the store's target text ("mx:" kept) */
	const char *query;              /* what dnsbl_add() is given (in name) */
	unsigned kinds;                 /* LK_IP4 / LK_IP6, or every kind for names */
	bool mx;
};

/* One list as watched. */
struct watch_list {
	const struct list *l;           /* the catalogue's (cat owns it) */
	char key[320];                  /* the store's list text: zone or zone@server */
	char server[160];               /* ask this server ("": the resolver) */
	uint32_t interval;              /* configured */
	uint32_t effective;             /* stretched to fit the budget */
	uint64_t budget;                /* queries a day; 0: unlimited */
	bool stretched;                 /* effective > interval because of it */
	unsigned ntargets;              /* targets of a kind it answers for */
};

/* What a configuration expands to. */
struct watch_plan {
	struct catalog *cat;
	struct watch_target *t;
	size_t nt, at;
	struct watch_list *l;
	size_t nl;
	char dsn[1024];
	char shown[1024];               /* dsn for messages: a password hidden */
};

/* Load and check path: the configuration, its targets (a CIDR up to a
 * /16 of IPv4, a /112 of IPv6, is expanded into its addresses) and its
 * lists with their intervals and budgets. 0, or -1 with every error in
 * e (FILE:LINE: key: why) or the reason in err. *conf and *plan are the
 * caller's: watch_plan_free / conftab_free. */
int watch_load(const char *path, struct watch_conf **conf, struct watch_plan *plan,
	       struct conftab_errors *e, char *err, size_t errlen);
void watch_plan_free(struct watch_plan *p);

/* The effective interval of a list: its interval, or longer so that
 * checks of ntargets (plus the probes) stay within budget a day. */
uint32_t watch_effective_interval(uint32_t interval, uint64_t budget, unsigned ntargets,
				  uint32_t probe_interval);

/* Run the daemon (foreground) until SIGTERM / SIGINT. self is the path
 * of this program, for the delivery children. Returns the exit status. */
int watch_daemon(const char *path, const char *self);

/* Deliver the alert alert_id (store/watch.h) on its channel, recording
 * the outcome in the store: what `rblkit watch deliver` runs. Exit
 * status: 0 delivered, 1 failed. */
int watch_deliver(const char *path, int64_t alert_id);

/* `rblkit watch status`: from the store; json or text on out. 0, or -1
 * with the reason in err. */
int watch_status(const char *path, bool json, FILE *out, char *err, size_t errlen);

/* `rblkit watch note`: record the policy alert described by the
 * RBLKIT_* environment (or text when given) as a note. 0 or -1. */
int watch_note(const char *path, const char *text, char *err, size_t errlen);

#endif
