/*
 * dsn.h - delivery reports: who did not get the mail, with which code,
 * from which host, after which command, and why.
 *
 * Reads RFC 3464 delivery-status parts (multipart/report), ARF feedback
 * reports (RFC 5965), RFC 3834 auto-replies, and the plain-text bounces of
 * MTAs that send none (qmail, Exim, Gmail, Exchange, Japanese carriers,
 * ...): recipients are found as addresses that start a line or follow a
 * short label, each followed by its block of explanation; SMTP reply
 * codes, enhanced status codes, remote hosts and commands are then read
 * from the text with rules that do not depend on who wrote it.
 *
 * SECURITY: untrusted input (mail from anywhere); at most DSN_MAX_RCPT
 * recipients per message; all copies are cut to their fixed buffers.
 */
#ifndef RBLKIT_DSN_H
#define RBLKIT_DSN_H

#include <stddef.h>
#include <stdint.h>

#include "mail/mime.h"
#include "mail/msg.h"

#define DSN_MAX_RCPT 512
#define DSN_DIAG_MAX 2048

enum dsn_kind { DSN_MESSAGE, DSN_BOUNCE, DSN_FEEDBACK, DSN_AUTOREPLY };

struct dsn_rcpt {
	char recipient[256];
	char action[16];	/* failed, delayed, delivered, relayed, expanded */
	char status[16];	/* enhanced status code, "" if none */
	char reply[4];		/* SMTP reply code, "" if none */
	char rhost[256];	/* remote MTA */
	char command[16];	/* SMTP command that failed: RCPT, DATA, ... */
	char diag[DSN_DIAG_MAX];/* the server's words, on one line */
	char diag_type[16];	/* "SMTP", "X-UNIX", ... from Diagnostic-Code */
	int64_t last_attempt;	/* Last-Attempt-Date, UTC seconds */
	int has_last_attempt;
	const char *reason;	/* reason.h vocabulary, static */
	int hard;		/* permanent: retrying will not help */
	int temporary;		/* 4xx / delayed */
	const char *rule;	/* the rule that decided reason (reason_last_rule()
				   ids, "rhost", ...): for measuring, not shown */
	const char *phrase;	/* the phrase it matched, or NULL */
	int borrowed;		/* diag is the report's general text, not
				   words about this recipient */
};

struct dsn {
	enum dsn_kind kind;
	struct dsn_rcpt *r;
	size_t n;
	char reporting_mta[256];
	int64_t arrival;	/* Arrival-Date, UTC seconds */
	int has_arrival;
	/* the original message (or its headers), in a buffer the dsn owns;
	 * NULL when the report carries none */
	char *orig;
	size_t olen;
	struct msg om;		/* orig's header section, read (nf 0: none) */
	int attempts;		/* delivery attempts the report counts, 0: none */
};

/* Read message m (MIME parts mm) as a report. Always fills d (kind
 * DSN_MESSAGE with no recipients when it is not one). Returns 0. */
int dsn_read(struct dsn *d, const struct msg *m, const struct mime *mm);
void dsn_free(struct dsn *d);
const char *dsn_kind_name(enum dsn_kind k);

/* For readers of other formats (ses.c): the record of addr (an existing
 * one, case-insensitively, or a new one; addr NULL: a new empty one), or
 * NULL past DSN_MAX_RCPT.  *cap is the allocated size of d->r; records
 * move when it grows, so keep indexes, not pointers, across calls. */
struct dsn_rcpt *dsn_add(struct dsn *d, size_t *cap, const char *addr);
/* Append n bytes of src to the one-line buffer dst (a blank between,
 * blanks squeezed, control bytes dropped, cut at dlen). */
void dsn_append(char *dst, size_t dlen, const char *src, size_t n);

#endif
