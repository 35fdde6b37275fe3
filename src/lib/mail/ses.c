/*
 * ses.c - Amazon SES notifications (bounce, complaint, delivery), which
 * arrive through SNS as JSON in a mail body.  See ses.h.
 *
 * SECURITY: untrusted text; the JSON is not parsed as a whole, only the
 * string values of a few keys are read, each copy bounded by its buffer.
 */
#include "mail/ses.h"
#include "base/util.h"

#include <stdio.h>
#include <string.h>

/* The JSON string that starts at p (after the quote) into out; returns the
 * position after its closing quote, or NULL. */
static const char *json_string(const char *p, char *out, size_t len)
{
	size_t o = 0;

	for (; *p && *p != '"'; p++) {
		char c = *p;

		if (c == '\\' && p[1]) {
			c = *++p;
			if (c == 'n' || c == 't' || c == 'r')
				c = ' ';
			else if (c == 'u') {	/* keep it simple: not text we match */
				c = '?';
				for (int k = 0; k < 4 && p[1]; k++)
					p++;
			}
		}
		if (o + 1 < len)
			out[o++] = c;
	}
	out[o] = '\0';
	return *p == '"' ? p + 1 : NULL;
}

/* The string value of "key" at or after p (before end), or -1. */
static int json_value(const char *p, const char *end, const char *key, char *out,
		      size_t len)
{
	char pat[64];
	const char *k;

	snprintf(pat, sizeof(pat), "\"%s\"", key);
	if (!(k = strstr(p, pat)) || (end && k >= end))
		return -1;
	k += strlen(pat);
	while (*k == ' ' || *k == ':')
		k++;
	if (*k != '"')
		return -1;
	return json_string(k + 1, out, len) ? 0 : -1;
}

int ses_read(struct dsn *d, size_t *cap, const char *text)
{
	const char *j = strstr(text, "{\"notificationType\"");
	char type[32], v[DSN_DIAG_MAX];

	if (!j)
		j = strstr(text, "{\"eventType\"");
	if (!j || (json_value(j, NULL, "notificationType", type, sizeof(type)) &&
		   json_value(j, NULL, "eventType", type, sizeof(type))))
		return 0;
	if (!strcmp(type, "Complaint")) {
		const char *p = strstr(j, "\"complainedRecipients\"");

		d->kind = DSN_FEEDBACK;
		while (p && (p = strstr(p, "\"emailAddress\"")) != NULL &&
		       json_value(p, NULL, "emailAddress", v, sizeof(v)) == 0) {
			struct dsn_rcpt *r = dsn_add(d, cap, v);

			if (r)
				r->reason = "feedback";
			p++;
		}
		return 1;
	}
	if (!strcmp(type, "Delivery")) {
		const char *p = strstr(j, "\"recipients\"");
		char resp[DSN_DIAG_MAX] = "", mta[256] = "";

		d->kind = DSN_BOUNCE;
		json_value(j, NULL, "smtpResponse", resp, sizeof(resp));
		json_value(j, NULL, "reportingMTA", mta, sizeof(mta));
		p = p ? strchr(p, '[') : NULL;
		while (p && *p && *p != ']') {
			const char *q = strchr(p, '"');
			struct dsn_rcpt *r;

			if (!q || (strchr(p, ']') && q > strchr(p, ']')))
				break;
			if (!(p = json_string(q + 1, v, sizeof(v))))
				break;
			if ((r = dsn_add(d, cap, v)) != NULL) {
				snprintf(r->action, sizeof(r->action), "delivered");
				dsn_append(r->diag, sizeof(r->diag), resp, strlen(resp));
				str_copy(r->rhost, sizeof(r->rhost), mta);
			}
		}
		return 1;
	}
	if (!strcmp(type, "Bounce")) {
		const char *p = strstr(j, "\"bouncedRecipients\"");

		d->kind = DSN_BOUNCE;
		while (p && (p = strstr(p, "\"emailAddress\"")) != NULL &&
		       json_value(p, NULL, "emailAddress", v, sizeof(v)) == 0) {
			const char *next = strstr(p + 1, "\"emailAddress\"");
			struct dsn_rcpt *r = dsn_add(d, cap, v);

			if (r) {
				json_value(p, next, "action", r->action, sizeof(r->action));
				json_value(p, next, "status", r->status, sizeof(r->status));
				if (json_value(p, next, "diagnosticCode", v, sizeof(v)) == 0)
					dsn_append(r->diag, sizeof(r->diag), v, strlen(v));
			}
			p++;
		}
		return 1;
	}
	return 0;
}
