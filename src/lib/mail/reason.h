/*
 * reason.h - why a recipient bounced, in sisimai's vocabulary
 * (userunknown, mailboxfull, blocked, expired, ...), from the enhanced
 * status code, the SMTP reply code, the failed command and the text.
 *
 * SECURITY: the text is untrusted (a remote server's reply); matching
 * reads it only within the length given, with no backtracking beyond one
 * word per wildcard.
 */
#ifndef RBLKIT_REASON_H
#define RBLKIT_REASON_H

#include <stddef.h>

struct reason_in {
	const char *status;	/* "5.1.1" or "" */
	const char *reply;	/* "550" or "" */
	const char *action;	/* "failed", "delayed", ... or "" */
	const char *command;	/* "RCPT", "DATA", "EHLO", ... or "" */
	const char *diag;	/* diagnostic text, any case */
	int unix_mailer;	/* Diagnostic-Code type was X-Unix/X-Postfix */
	int stageless;		/* the bounce's format never records the SMTP
				   command: none given is not evidence of RCPT */
};

/* The reason (a static string) for one recipient; never NULL. */
const char *reason_classify(const struct reason_in *in);
/* Which rule decided this thread's last reason_classify(): *step is a
 * static rule id ("1:userunknown/rcpt", "s:status", ...), *phrase the
 * phrase whose match made the rule hold (static, or NULL).  A measuring
 * aid for tests; no output of rblkit shows it. */
void reason_last_rule(const char **step, const char **phrase);
/* Reason of a status code alone ("5.2.2" -> "mailboxfull"), or NULL. */
const char *reason_of_status(const char *status);
/* The reason named by the text alone, or NULL. */
const char *reason_of_text(const char *text);
/* sisimai's internal status for a reason without one ("5.0.911", or
 * "4.0.9xx" when temporary) into out; "" for an unknown reason. */
void reason_pseudo_status(const char *reason, int temporary, char out[16]);
/* A hard bounce: retrying the same address will never work. */
int reason_is_hard(const char *reason, const char *status, const char *reply);
/* Is the text an out-of-office reply? */
int reason_is_vacation(const char *text);

#endif
