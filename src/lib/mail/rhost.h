/*
 * rhost.h - bounce reasons from the code tables of receiving-host
 * families (Orange/La Poste, Cox, Spectrum, GoDaddy, Mimecast, NTT
 * docomo, Yahoo): codes such as "OFR_506" or "AUP#CXBL" that say more
 * than the status code and words around them.
 *
 * SECURITY: the text is untrusted (a remote server's reply); it is only
 * read, within its NUL terminator, and copied into bounded buffers.
 */
#ifndef RBLKIT_RHOST_H
#define RBLKIT_RHOST_H

struct rhost_in {
	const char *rhost;	/* remote MTA host name or "" */
	const char *recipient;	/* the bounced address or "" */
	const char *status;	/* "5.1.1" or "" */
	const char *reply;	/* "550" or "" */
	const char *command;	/* "RCPT", "DATA", ... or "" */
	const char *diag;	/* the server's words */
};

/* The reason (a static string) the receiving host's own code table gives
 * for this reply, or NULL when the host is not one with a table or the
 * table says nothing about the reply. */
const char *rhost_reason(const struct rhost_in *in);

#endif
