/*
 * signal_int.h - helpers shared by the signal sources (signal_*.c); not
 * part of the watch interface.
 *
 * SECURITY: the helpers see untrusted text (remote SMTP replies, bounce
 * messages); each takes a length and writes a bounded, terminated copy.
 */
#ifndef RBLKIT_WATCH_SIGNAL_INT_H
#define RBLKIT_WATCH_SIGNAL_INT_H

#include <stddef.h>

/* Copy n bytes of src to dst (size > 0) as printable text: printable
 * ASCII and whole valid UTF-8 sequences are kept, any other byte becomes
 * '?'; cut at a character boundary to fit; always terminated. */
void wsig_clean(char *dst, size_t size, const char *src, size_t n);

/* The first IP address written in text (n bytes): one in brackets
 * ("[192.0.2.1]", "[IPv6:2001:db8::1]") first, else a bare one that is
 * not part of a host name; written to out (size bytes).  Returns 1, or 0
 * with out "" when there is none. */
int wsig_find_ip(const char *text, size_t n, char *out, size_t size);

/* The domain of address addr (n bytes: after its last '@'), lowercased
 * and cleaned, to out; "" when there is no '@'. */
void wsig_domain(const char *addr, size_t n, char *out, size_t size);

#endif
