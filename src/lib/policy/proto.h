/*
 * proto.h - the Postfix policy delegation protocol (SMTPD_POLICY_README):
 * a request is "name=value" lines ended by an empty line, LF only; the
 * reply is "action=..." and an empty line.
 *
 * The reader works in place on a connection's input buffer: it finds one
 * complete request, NUL-terminates its names and values where they lie
 * and points the fields of struct pp_request at them. Nothing is copied
 * or allocated.
 *
 * SECURITY: the input is untrusted network text from any local process
 * that can connect. Limits (line length, attribute count, request size)
 * are checked before anything else is looked at; a request that breaks
 * one is refused as a whole and the caller closes the connection.
 */
#ifndef RBLKIT_POLICY_PROTO_H
#define RBLKIT_POLICY_PROTO_H

#include <stddef.h>

/* Postfix 3.7 sends about 35 attributes of at most a few hundred bytes
 * (ccert_subject and policy_context are the longest); these limits leave
 * room for future attributes and refuse anything that is not Postfix. */
#define PP_MAX_LINE	2048	/* bytes of one name=value line, LF excluded */
#define PP_MAX_ATTRS	100	/* lines of one request */
#define PP_MAX_REQUEST	16384	/* bytes of one request, final LF included */

enum pp_error {
	PP_NEED_MORE = 0,	/* no complete request yet */
	PP_ELINE = -1,		/* a line longer than PP_MAX_LINE */
	PP_EATTRS = -2,		/* more than PP_MAX_ATTRS lines */
	PP_ESIZE = -3,		/* request larger than PP_MAX_REQUEST */
	PP_ESYNTAX = -4,	/* a line without '=', an empty name, a NUL */
	PP_EDUP = -5,		/* a known attribute given twice */
};

/* The attributes the policy server uses; NULL when absent. Values point
 * into the buffer given to pp_parse(). */
struct pp_request {
	const char *request;		/* "smtpd_access_policy" */
	const char *protocol_state;	/* CONNECT, RCPT, END-OF-MESSAGE, ... */
	const char *client_address;
	const char *client_name;
	const char *helo_name;
	const char *sender;
	const char *recipient;
	const char *recipient_count;
	const char *sasl_username;
	const char *instance;
	const char *queue_id;
	unsigned nattrs;		/* lines, unknown names included */
};

/* Look for one complete request at buf[0..len). Returns 1 and sets *used
 * to its length (the empty line included) when there is one; PP_NEED_MORE
 * when the request is incomplete but within the limits so far; a negative
 * enum pp_error otherwise. Modifies buf[0..*used) (LFs and '=' become NUL).
 * Unknown attribute names are accepted and ignored, as Postfix adds new
 * ones over time. A CR before the LF is dropped (hand-typed tests). */
int pp_parse(char *buf, size_t len, struct pp_request *req, size_t *used);

/* Text for a pp_parse() error code. */
const char *pp_strerror(int err);

/* protocol_state as an enum, for the policy logic. */
enum pp_state {
	PS_OTHER, PS_CONNECT, PS_EHLO, PS_MAIL, PS_RCPT, PS_DATA, PS_EOM,
};
enum pp_state pp_state_of(const struct pp_request *req);

/* Write "action=TEXT\n\n" into out (size cap). Characters of TEXT that
 * would break the protocol (CR, LF, NUL, other control characters) become
 * spaces. Returns the length, or -1 when it does not fit. */
int pp_format_reply(char *out, size_t cap, const char *text);

#endif
