/*
 * trap.c - spamtrap intake: the message path (bytes to address, evidence
 * and skip reason), the delivery of one recipient into the store, and
 * the quarantine of what cannot be read.  See trap.h for the Received
 * selection; trapd.c is the LMTP daemon around it.
 *
 * SECURITY: the message is hostile.  It is read with the mail reader,
 * whose limits apply (msg.h); only the first TRAP_MAX_RCVD Received
 * fields from the top are parsed, so a forged chain of any length below
 * the MX host's field costs nothing and is never read.  The quarantine
 * file is created O_EXCL | O_NOFOLLOW, mode 0600, in the operator's
 * directory.  Runs as the unprivileged trap user.
 */
#define _GNU_SOURCE
#include "list/trap.h"
#include "mail/mime.h"
#include "mail/msg.h"
#include "mail/received.h"
#include "base/util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

const char *trap_skip_name(enum trap_skip s)
{
	static const char *const names[TRAP_NSKIP] = {
		"ok", "bounce", "autoreply", "no-mx-hop", "not-public", "unreadable",
	};

	return (unsigned)s < TRAP_NSKIP ? names[s] : "unknown";
}

/* ---- host and address matching ---- */

/* a host name or address literal as written in a Received field or the
 * configuration, compared without brackets, "IPv6:" and a final dot */
static void host_norm(const char *in, char *out, size_t len)
{
	size_t n;

	if (*in == '[')
		in++;
	if (!strncasecmp(in, "ipv6:", 5))
		in += 5;
	str_copy(out, len, in);
	n = strlen(out);
	while (n && (out[n - 1] == ']' || out[n - 1] == '.'))
		out[--n] = '\0';
}

/* Same host: the same address (any spelling inet_pton reads), or the
 * same name ignoring case. */
static int host_eq(const char *a, const char *b)
{
	unsigned char x[16], y[16];
	char na[256], nb[256];

	host_norm(a, na, sizeof(na));
	host_norm(b, nb, sizeof(nb));
	if (!na[0] || !nb[0])
		return 0;
	if (inet_pton(AF_INET, na, x) == 1)
		return inet_pton(AF_INET, nb, y) == 1 && !memcmp(x, y, 4);
	if (inet_pton(AF_INET6, na, x) == 1)
		return inet_pton(AF_INET6, nb, y) == 1 && !memcmp(x, y, 16);
	return !strcasecmp(na, nb);
}

static int is_mx(const struct conftab_list *mx, const char *host)
{
	for (size_t i = 0; mx && i < mx->n; i++)
		if (host_eq(mx->v[i], host))
			return 1;
	return 0;
}

static int is_loopback(const char *ip)
{
	unsigned char a[16];
	static const unsigned char one[16] = { [15] = 1 };

	if (inet_pton(AF_INET, ip, a) == 1)
		return a[0] == 127;
	return inet_pton(AF_INET6, ip, a) == 1 && !memcmp(a, one, 16);
}

/* An IPv4-mapped IPv6 address (a dual-stack listener's view) as the
 * IPv4 address it is; other addresses unchanged. */
static void unmap_ip(char *ip, size_t len)
{
	unsigned char a[16];
	static const unsigned char pre[12] = { [10] = 0xff, [11] = 0xff };

	if (inet_pton(AF_INET6, ip, a) == 1 && !memcmp(a, pre, 12))
		inet_ntop(AF_INET, a + 12, ip, (socklen_t)len);
}

/* ---- what the message is ---- */

static int is_bounce(const struct msg *m, const char *sender, char *why, size_t wl)
{
	const char *ct = msg_get(m, "Content-Type");
	char rt[64];

	if (sender && (!*sender || !strcmp(sender, "<>"))) {
		snprintf(why, wl, "null envelope sender (a bounce)");
		return 1;
	}
	if (sender && !strncasecmp(sender, "mailer-daemon", 13) &&
	    (sender[13] == '@' || sender[13] == '\0')) {
		snprintf(why, wl, "sender %.200s (a bounce)", sender);
		return 1;
	}
	if (ct && !strncasecmp(ct, "multipart/report", 16) &&
	    mime_param(ct, "report-type", rt, sizeof(rt), 1) == 0 &&
	    !strcmp(rt, "delivery-status")) {
		snprintf(why, wl, "a delivery status report (multipart/report)");
		return 1;
	}
	return 0;
}

static int is_autoreply(const struct msg *m, char *why, size_t wl)
{
	const char *v = msg_get(m, "Auto-Submitted");

	if (v && strncasecmp(v, "no", 2) == 0 &&
	    (v[2] == '\0' || v[2] == ';' || v[2] == ' ' || v[2] == '\t'))
		v = NULL;
	if (v) {
		snprintf(why, wl, "Auto-Submitted: %.100s (an automatic reply)", v);
		return 1;
	}
	if (msg_get(m, "X-Autoreply") || msg_get(m, "X-Autorespond")) {
		snprintf(why, wl, "X-Autoreply (an automatic reply)");
		return 1;
	}
	if ((v = msg_get(m, "Precedence")) && !strncasecmp(v, "auto_reply", 10)) {
		snprintf(why, wl, "Precedence: auto_reply (an automatic reply)");
		return 1;
	}
	return 0;
}

/* The Received selection of trap.h, over the fields of m from the top. */
static void find_client(const struct msg *m, const struct conftab_list *mx,
			struct trap_msg *t)
{
	size_t seen = 0;
	int found = 0;

	for (size_t i = 0; i < m->nf && seen < TRAP_MAX_RCVD; i++) {
		struct rcvd_hop hop;

		if (strcasecmp(m->f[i].name, "Received"))
			continue;
		seen++;
		rcvd_parse(m->f[i].value, &hop);
		if (!is_mx(mx, hop.by))
			continue;	/* an internal hop above, or between MX hosts */
		found = 1;
		str_copy(t->mx, sizeof(t->mx), hop.by);
		if (!hop.ip[0]) {
			t->skip = TRAP_NO_MX_HOP;
			snprintf(t->why, sizeof(t->why), "the Received field by %.100s "
				 "names no client address", hop.by);
			return;
		}
		unmap_ip(hop.ip, sizeof(hop.ip));
		if (is_loopback(hop.ip) || is_mx(mx, hop.ip))
			continue;	/* a content filter or a relay of ours */
		str_copy(t->ip, sizeof(t->ip), hop.ip);
		if (!rcvd_ip_public(hop.ip)) {
			t->skip = TRAP_NOT_PUBLIC;
			snprintf(t->why, sizeof(t->why), "client %s (in the Received field "
				 "by %.100s) is not a public address", hop.ip, hop.by);
		}
		return;
	}
	t->skip = TRAP_NO_MX_HOP;
	if (found)
		snprintf(t->why, sizeof(t->why), "every Received field by an MX host "
			 "names one of ours (loopback or an MX host) as the client");
	else if (!mx || !mx->n)
		snprintf(t->why, sizeof(t->why), "no MX host is configured (trap_mx)");
	else
		snprintf(t->why, sizeof(t->why), "no Received field by an MX host "
			 "(trap_mx) in the first %u", TRAP_MAX_RCVD);
}

/* The evidence: the header section cut at a line, the start of the body
 * (text is the normalised message, LF line ends). */
static void evidence(const char *text, size_t len, const struct msg *m, struct trap_msg *t)
{
	size_t hlen = m->body ? (size_t)(m->body - text) : len, n;

	n = hlen < sizeof(t->headers) ? hlen : sizeof(t->headers) - 1;
	if (n < hlen) {
		const char *nl = memrchr(text, '\n', n);

		n = nl ? (size_t)(nl - text) + 1 : n;
		t->cut = 1;
	}
	memcpy(t->headers, text, n);
	t->headers[n] = '\0';
	if (!m->body)
		return;
	n = m->blen < sizeof(t->excerpt) ? m->blen : sizeof(t->excerpt) - 1;
	if (n < m->blen)
		t->cut = 1;
	memcpy(t->excerpt, m->body, n);
	t->excerpt[n] = '\0';
}

int trap_read(const char *data, size_t len, const char *sender,
	      const struct conftab_list *mx, struct trap_msg *t)
{
	struct msg m = { 0 };
	size_t tlen;
	char *text;

	memset(t, 0, offsetof(struct trap_msg, headers));
	t->headers[0] = t->excerpt[0] = '\0';
	t->cut = 0;
	if (len > MAIL_MAX_SIZE)
		len = MAIL_MAX_SIZE;
	text = msg_normalize(data, len, &tlen);
	msg_parse(&m, text, tlen);
	if (m.nf == 0) {
		t->skip = TRAP_UNREADABLE;
		snprintf(t->why, sizeof(t->why), "no header section (%zu bytes that are "
			 "not a message)", len);
		goto out;
	}
	evidence(text, tlen, &m, t);
	if (is_bounce(&m, sender, t->why, sizeof(t->why)))
		t->skip = TRAP_BOUNCE;
	else if (is_autoreply(&m, t->why, sizeof(t->why)))
		t->skip = TRAP_AUTOREPLY;
	else
		find_client(&m, mx, t);
out:
	msg_free(&m);
	free(text);
	return 0;
}

/* ---- recipients ---- */

const char *trap_zone_for(const struct list_trap_conf *t, const char *rcpt)
{
	const char *at = strrchr(rcpt, '@'), *dom;
	size_t dl;

	if (!at || !at[1] || at == rcpt)
		return NULL;
	dom = at + 1;
	dl = strlen(dom);
	if (dl && dom[dl - 1] == '.')
		dl--;
	for (size_t i = 0; i < t->domains.n; i++) {
		const char *d = t->domains.v[i], *eq = strchr(d, '=');
		size_t n = eq ? (size_t)(eq - d) : strlen(d);

		if (n != dl || strncasecmp(d, dom, n))
			continue;
		if (eq && eq[1])
			return eq + 1;
		return t->zone && *t->zone ? t->zone : NULL;
	}
	if (t->domains.n == 0 && t->zone && *t->zone)
		return t->zone;
	return NULL;
}

/* text with every occurrence of addr (any case) written as masked, cut
 * to outlen: a trap address must not be shown with its evidence */
static void mask_in(const char *text, const char *addr, const char *masked, char *out,
		    size_t outlen)
{
	size_t al = strlen(addr), ml = strlen(masked), o = 0;
	const char *p = text, *hit;

	while (al && (hit = strcasestr(p, addr)) != NULL) {
		size_t n = (size_t)(hit - p);

		if (o + n + ml >= outlen)
			break;
		memcpy(out + o, p, n);
		memcpy(out + o + n, masked, ml);
		o += n + ml;
		p = hit + al;
	}
	str_copy(out + o, outlen - o, p);
}

enum trap_result trap_deliver(struct list_ctx *c, const struct trap_msg *m, const char *rcpt,
			      struct list_result *r, struct trap_stats *s,
			      char *err, size_t errlen)
{
	const char *zone = c->conf ? trap_zone_for(&c->conf->trap, rcpt) : NULL;
	struct evbuf { char headers[STORE_HEADERS_MAX], excerpt[STORE_EXCERPT_MAX]; } *ev;
	struct list_hit h = { rcpt, "trap", NULL, NULL, 0 };
	char masked[STORE_KEY_MAX];
	int rc;

	if (!zone) {
		snprintf(err, errlen, "<%.200s> is not a trap address", rcpt);
		return TRAP_R_REJECT;
	}
	if (s)
		s->recipients++;
	if (m->skip != TRAP_OK) {
		if (s)
			s->skipped[m->skip]++;
		return TRAP_R_SKIPPED;
	}
	if (!(ev = malloc(sizeof(*ev)))) {
		snprintf(err, errlen, "out of memory");
		if (s)
			s->store_errors++;
		return TRAP_R_TEMPFAIL;
	}
	list_mask_addr(rcpt, masked, sizeof(masked));
	mask_in(m->headers, rcpt, masked, ev->headers, sizeof(ev->headers));
	mask_in(m->excerpt, rcpt, masked, ev->excerpt, sizeof(ev->excerpt));
	h.headers = ev->headers;
	h.excerpt = ev->excerpt;
	rc = list_do_hit(c, zone, m->ip, &h, r, err, errlen);
	free(ev);
	if (rc) {
		if (s)
			s->store_errors++;
		return TRAP_R_TEMPFAIL;
	}
	if (s) {
		switch (r->outcome) {
		case LIST_LISTED: s->listed++; break;
		case LIST_EXTENDED: s->extended++; break;
		case LIST_ALLOWED: s->allowed++; break;
		default: s->counted++; break;
		}
	}
	return TRAP_R_STORED;
}

/* ---- quarantine ---- */

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return w < 0 ? -errno : -EIO;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int trap_quarantine(const char *dir, const char *data, size_t len, char *path,
		    size_t pathlen, char *err, size_t errlen)
{
	static unsigned seq;
	int fd = -1, rc;

	if (!dir || !*dir) {
		snprintf(err, errlen, "no quarantine directory (trap_quarantine)");
		return -ENOENT;
	}
	for (unsigned tries = 0; fd < 0 && tries < 100; tries++) {
		snprintf(path, pathlen, "%s/trap-%lld-%ld-%u.eml", dir,
			 (long long)time(NULL), (long)getpid(), ++seq);
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd < 0 && errno != EEXIST)
			break;
	}
	if (fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return rc;
	}
	if ((rc = write_all(fd, data, len)) == 0 && fsync(fd))
		rc = -errno;
	if (close(fd) && !rc)
		rc = -errno;
	if (rc) {
		snprintf(err, errlen, "%s: %s", path, strerror(-rc));
		unlink(path);
	}
	return rc;
}
