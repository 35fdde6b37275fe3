/*
 * diagnose.h - one message read end to end: what kind of mail it is, who
 * did not get it and why (dsn.h), the path it took and how long each hop
 * held it (received.h), the address receivers judged, and the blocklist a
 * rejection names (the catalogue of rblkit check).
 *
 * SECURITY: untrusted input (mail from anywhere, any bytes), read with the
 * caller's privileges; sizes are bounded by MAIL_MAX_SIZE and the limits
 * of msg.h, mime.h and dsn.h.
 */
#ifndef RBLKIT_DIAGNOSE_H
#define RBLKIT_DIAGNOSE_H

#include <stddef.h>
#include <stdint.h>

#include "mail/dsn.h"
#include "mail/received.h"

struct catalog;
struct list;

struct diag_rcpt_extra {
	const struct list *bl;	/* blocklist the text names, or NULL */
	int64_t delay;		/* arrival to the last attempt / report */
	int has_delay;
};

struct diag {
	enum dsn_kind kind;
	struct dsn dsn;
	struct diag_rcpt_extra *x;	/* one per dsn.r[] */
	struct rcvd_hop hops[RCVD_MAX_HOPS];
	size_t nhops;
	int judged;			/* index in hops, -1 if none */
	char judged_ip[64];		/* the address receivers judge, "" */
	const char *judged_src;		/* "rejection" (named in the reply),
					   "path" (Received chain) or NULL */
	char sender_ips[8][64];		/* public client addresses, in order */
	size_t nips;
	int64_t total_delay;		/* last hop minus first time known */
	int has_total;
	char subject[512];		/* of the report/message, UTF-8 */
	char from[256];
	int64_t date;			/* Date: of the report/message */
	int has_date;
	int cut;			/* a size limit was hit while reading */
};

/* Read one message (any bytes, any line endings).  cat may be NULL (no
 * blocklist names).  Returns 0, or -1 with a reason in err when the input
 * cannot be a message at all (empty, over MAIL_MAX_SIZE); d is then
 * empty but safe to free. */
int diag_read(struct diag *d, const char *text, size_t len,
	      const struct catalog *cat, char *err, size_t errlen);
void diag_free(struct diag *d);

/* Split mbox text: the next message at or after *pos (a "From " line
 * starts each; text without one is one message).  Returns 1 and sets
 * *msg, *mlen, or 0 at the end. */
int diag_mbox_next(const char *text, size_t len, size_t *pos,
		   const char **msg, size_t *mlen);

#endif
