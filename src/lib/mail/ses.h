/*
 * ses.h - Amazon SES notifications read into a struct dsn.
 *
 * SECURITY: untrusted text; see ses.c.
 */
#ifndef RBLKIT_SES_H
#define RBLKIT_SES_H

#include <stddef.h>

#include "mail/dsn.h"

/* If text holds an SES notification: recipients added to d (kind set:
 * bounce for Bounce and Delivery, feedback for Complaint) and 1 returned;
 * else 0 and d untouched.  *cap is d's allocation (see dsn_add). */
int ses_read(struct dsn *d, size_t *cap, const char *text);

#endif
