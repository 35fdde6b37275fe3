/*
 * trap.h - spamtrap intake: one message (its bytes, the envelope sender
 * and recipients) turned into per-recipient outcomes in the store.
 *
 * trap_read() is the message path and touches no store: it reads the
 * message with the mail reader (msg.h, received.h, mime.h), finds the
 * connecting address in the Received field that one of the operator's MX
 * hosts added (trap_mx: host names or addresses matched against the "by"
 * part), skips bounces, auto-replies and non-public addresses, and cuts
 * the evidence (headers, an excerpt of the body) to what the store keeps.
 * trap_deliver() then applies the zone's rules (list_do_hit) for one
 * recipient; trap_quarantine() keeps a message that could not be read.
 *
 * The Received selection, top (newest) to bottom: fields added by other
 * hosts above the first one by an MX host are the operator's internal
 * hops and are passed over; that MX field's client ("from ... [IP]") is
 * the sender, unless the client is loopback or itself an MX host (a
 * content filter or a relay between the MX hosts: then the next field by
 * an MX host below is read the same way).  Fields below the one chosen
 * are the sender's own and never trusted.
 *
 * SECURITY: the message is hostile (mail from anywhere, up to the size
 * the intake keeps); every field read is bounded by msg.h, every copy cut
 * to its buffer, and only the first TRAP_MAX_RCVD Received fields from
 * the top are read.  Runs as the unprivileged trap user.
 */
#ifndef RBLKIT_TRAP_H
#define RBLKIT_TRAP_H

#include <stddef.h>
#include <stdint.h>

#include "list/list.h"

#define TRAP_MAX_RCVD 100       /* Received fields read from the top */

/* Why a message lists nobody (TRAP_OK: it does). */
enum trap_skip {
	TRAP_OK = 0,
	TRAP_BOUNCE,            /* null sender, MAILER-DAEMON, delivery report */
	TRAP_AUTOREPLY,         /* Auto-Submitted, X-Autoreply, Precedence: auto_reply */
	TRAP_NO_MX_HOP,         /* no Received field by an MX host (or none with a client address) */
	TRAP_NOT_PUBLIC,        /* the client is private, loopback or reserved */
	TRAP_UNREADABLE,        /* not a message: no header section */
};
#define TRAP_NSKIP (TRAP_UNREADABLE + 1)

/* "ok", "bounce", "autoreply", "no-mx-hop", "not-public", "unreadable". */
const char *trap_skip_name(enum trap_skip s);

/* What a message says, for every recipient alike. */
struct trap_msg {
	enum trap_skip skip;
	char why[256];                  /* the reason in words, for logs and JSON */
	char ip[64];                    /* the connecting address (TRAP_OK, TRAP_NOT_PUBLIC) */
	char mx[128];                   /* the MX host whose field was read */
	char headers[STORE_HEADERS_MAX];/* header section, cut at a line */
	char excerpt[STORE_EXCERPT_MAX];/* the start of the body */
	int cut;                        /* headers or body were cut */
};

/* Read the message data[0..len) sent by sender (envelope: "" or "<>"
 * is the null sender; NULL: not known) into m, with mx the operator's MX hosts.  Always fills
 * m (m->skip says whether it lists); returns 0, or -ENOMEM. */
int trap_read(const char *data, size_t len, const char *sender,
	      const struct conftab_list *mx, struct trap_msg *m);

/* The zone that mail to rcpt (local@domain) lists in: the domain's entry
 * in trap_domains ("domain=ZONE", or "domain" for trap_zone), or trap_zone
 * when trap_domains is empty.  NULL: not a trap address (LMTP: 550).
 * The result points into t. */
const char *trap_zone_for(const struct list_trap_conf *t, const char *rcpt);

/* Counters of an intake (a daemon's life, or one --stdin run). */
struct trap_stats {
	uint64_t messages;              /* read */
	uint64_t recipients;            /* outcomes given */
	uint64_t listed, counted, allowed, extended;
	uint64_t skipped[TRAP_NSKIP];   /* by reason (skipped[TRAP_OK] unused) */
	uint64_t quarantined;
	uint64_t store_errors;          /* answered 451 / EX_TEMPFAIL */
	uint64_t truncated;             /* over max_size: first bytes kept */
};

/* The outcome for one recipient. */
enum trap_result {
	TRAP_R_STORED = 0,      /* committed (a hit, a listing, or allowed) */
	TRAP_R_SKIPPED,         /* nothing to store: m->skip says why */
	TRAP_R_TEMPFAIL,        /* the store failed: retry later (451, 75) */
	TRAP_R_REJECT,          /* not a trap address (550) */
};

/* Apply m to recipient rcpt: list_do_hit on the recipient's zone with
 * m's address and evidence, rcpt masked in it (list_mask_addr: the
 * evidence may be shown to the listed party); a skipped m stores
 * nothing.  r gets what
 * the rules did (r->outcome) for TRAP_R_STORED.  err gets the why of a
 * TEMPFAIL or REJECT.  Counts into s (may be NULL). */
enum trap_result trap_deliver(struct list_ctx *c, const struct trap_msg *m, const char *rcpt,
			      struct list_result *r, struct trap_stats *s,
			      char *err, size_t errlen);

/* Keep data[0..len) in dir as a new file "trap-TIME-PID-N.eml" (mode
 * 0600, never replacing a file).  The name goes to path.  Returns 0, or
 * -errno with what failed in err. */
int trap_quarantine(const char *dir, const char *data, size_t len, char *path,
		    size_t pathlen, char *err, size_t errlen);

/* The LMTP intake daemon (rblkit trap). */
struct trap_daemon_opts {
	const char *config;             /* list.conf */
	const char *listen;             /* NULL: trap_listen of the configuration */
	const char *user;               /* drop to USER[:GROUP] after binding (NULL: stay) */
	const char *pidfile;            /* NULL: none */
	const char *hostname;           /* greeting (NULL: gethostname) */
	unsigned max_clients;           /* 0: 64 */
	unsigned max_rcpt;              /* 0: 100 */
	unsigned idle_timeout;          /* seconds; 0: 300 */
};

/* Run the daemon until SIGTERM or SIGINT: bind, write the pid file, drop
 * privileges, open the store, answer LMTP; expire listings every second.
 * Returns the exit status: 0, or 1 after a start-up error (logged). */
int trap_daemon_run(const struct trap_daemon_opts *o);

#endif
