/*
 * resolve.c - asynchronous DNS lookups: a batching stub resolver, and
 * libunbound for full recursion.
 *
 * Stub: each server gets RS_SOCKS connected UDP sockets (so the kernel
 * drops datagrams from anyone else, and each socket has its own random
 * source port and a full 16-bit ID space).  Queries wait in a FIFO until
 * the window has room; sends and receives go in batches (sendmmsg,
 * recvmmsg).  In-flight queries sit on a list in deadline order: every
 * try has the same timeout, so appending keeps it sorted.  A retry goes
 * to the next server with a new ID.  A truncated answer is asked again
 * over TCP (resolve_tcp.c).  Recursive mode hands the names to libunbound
 * and reads its answer packets with the same parser (resolve_parse.c).
 * The structs are in resolve_int.h, private to these three files.
 *
 * SECURITY: responses are untrusted.  A response is accepted only from
 * the socket the query went out on, with its ID, QR set, and the question
 * it asked (name, type, class); rs_parse() (resolve_parse.c) reads it
 * with the sticky-error reader of wire.c and replaces control bytes in
 * texts.  Server addresses come from the operator or /etc/resolv.conf.
 */
#define _GNU_SOURCE
#include "dnsbl/resolve_int.h"
#include "base/dname.h"
#include "base/util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <unbound.h>

/* ---- set-up ---- */

/* "1.2.3.4", "1.2.3.4:53", "1.2.3.4@53", "::1", "[::1]:53", "::1@53". */
static int parse_server(const char *s, size_t n, struct sockaddr_storage *ss,
			socklen_t *len)
{
	char host[128];
	unsigned port = 53;
	const char *p;

	if (n == 0 || n >= sizeof(host))
		return -1;
	memcpy(host, s, n);
	host[n] = '\0';
	char *h = host, *portp = NULL;
	if (*h == '[') {
		char *e = strchr(h, ']');
		if (!e)
			return -1;
		*e = '\0';
		h++;
		if (e[1] == ':' || e[1] == '@')
			portp = e + 2;
		else if (e[1])
			return -1;
	} else if ((p = strchr(h, '@'))) {
		host[p - host] = '\0';
		portp = host + (p - host) + 1;
	} else if ((p = strchr(h, ':')) && !strchr(p + 1, ':')) {
		host[p - host] = '\0';
		portp = host + (p - host) + 1;
	}
	if (portp) {
		char *end;
		unsigned long v = strtoul(portp, &end, 10);
		if (!*portp || *end || v == 0 || v > 65535)
			return -1;
		port = (unsigned)v;
	}
	memset(ss, 0, sizeof(*ss));
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
	if (inet_pton(AF_INET, h, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		*len = sizeof(*s4);
		return 0;
	}
	if (inet_pton(AF_INET6, h, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		*len = sizeof(*s6);
		return 0;
	}
	return -1;
}

static int add_servers(struct resolver *rs, const char *list, char *err, size_t errlen)
{
	const char *s = list;
	while (*s) {
		while (*s == ',' || *s == ' ')
			s++;
		if (!*s)
			break;
		size_t n = strcspn(s, ", ");
		if (rs->nsrv == RS_MAX_SERVERS) {
			snprintf(err, errlen, "more than %d resolvers", RS_MAX_SERVERS);
			return -1;
		}
		if (parse_server(s, n, &rs->srv[rs->nsrv], &rs->srvlen[rs->nsrv]) < 0) {
			snprintf(err, errlen, "resolver '%.*s': expected ADDR, ADDR:PORT or [ADDR6]:PORT",
				 (int)(n > 100 ? 100 : n), s);
			return -1;
		}
		rs->nsrv++;
		s += n;
	}
	if (!rs->nsrv) {
		snprintf(err, errlen, "no resolver given");
		return -1;
	}
	return 0;
}

/* The nameservers of /etc/resolv.conf; none there means the local host,
 * as the C library does. */
static int system_servers(struct resolver *rs, char *err, size_t errlen)
{
	FILE *f = fopen("/etc/resolv.conf", "r");
	char line[512];
	while (f && fgets(line, sizeof(line), f)) {
		char addr[128];
		if (sscanf(line, " nameserver %127s", addr) != 1 ||
		    rs->nsrv == RS_MAX_SERVERS)
			continue;
		char *pct = strchr(addr, '%');	/* fe80::1%eth0: scope ignored */
		if (pct)
			*pct = '\0';
		if (parse_server(addr, strlen(addr), &rs->srv[rs->nsrv],
				 &rs->srvlen[rs->nsrv]) == 0)
			rs->nsrv++;
	}
	if (f)
		fclose(f);
	if (!rs->nsrv)
		return add_servers(rs, "127.0.0.1", err, errlen);
	return 0;
}

int rs_ep_add(struct resolver *rs, int fd, uint32_t events, struct rs_ref *ref)
{
	struct epoll_event ev = { .events = events, .data.ptr = ref };
	return epoll_ctl(rs->ep, EPOLL_CTL_ADD, fd, &ev);
}

/* Sockets for the servers from index first on. */
static int open_socks(struct resolver *rs, unsigned first, char *err, size_t errlen)
{
	unsigned from = first * RS_SOCKS;
	rs->nsocks = rs->nsrv * RS_SOCKS;
	for (unsigned i = from; i < rs->nsocks; i++) {
		struct rs_sock *k = xcalloc(1, sizeof(*k));
		k->fd = -1;
		k->server = i / RS_SOCKS;
		k->byid = xcalloc(65536, sizeof(*k->byid));
		rs->socks[i] = k;
	}
	for (unsigned i = from; i < rs->nsocks; i++) {
		struct rs_sock *k = rs->socks[i];
		const struct sockaddr *sa = (const struct sockaddr *)&rs->srv[k->server];
		k->fd = socket(sa->sa_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (k->fd < 0 || connect(k->fd, sa, rs->srvlen[k->server]) < 0) {
			snprintf(err, errlen, "UDP socket to resolver: %s", strerror(errno));
			return -1;
		}
		int sz = 1 << 20;
		setsockopt(k->fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
		k->ref.kind = REF_UDP;
		k->ref.p = k;
		if (rs_ep_add(rs, k->fd, EPOLLIN, &k->ref) < 0) {
			snprintf(err, errlen, "epoll: %s", strerror(errno));
			return -1;
		}
	}
	return 0;
}

static int open_unbound(struct resolver *rs, char *err, size_t errlen)
{
	int r;
	rs->ub = ub_ctx_create();
	if (!rs->ub) {
		snprintf(err, errlen, "libunbound: cannot create a context");
		return -1;
	}
	/* zones with servers of their own are stub zones (rs_add_group);
	 * those may be on this host (a local mirror) */
	ub_ctx_set_option(rs->ub, "do-not-query-localhost:", "no");
	/* Without a trust anchor nothing is validated: skip the module. */
	ub_ctx_set_option(rs->ub, "module-config:", "iterator");
	if ((r = ub_ctx_async(rs->ub, 1)) != 0) {
		snprintf(err, errlen, "libunbound: %s", ub_strerror(r));
		return -1;
	}
	rs->ub_ref.kind = REF_UB;
	rs->ub_ref.p = NULL;
	if (rs_ep_add(rs, ub_fd(rs->ub), EPOLLIN, &rs->ub_ref) < 0) {
		snprintf(err, errlen, "epoll: %s", strerror(errno));
		return -1;
	}
	return 0;
}

struct resolver *rs_new(const struct rs_opts *opts, char *err, size_t errlen)
{
	struct resolver *rs = xcalloc(1, sizeof(*rs));
	rs->o = *opts;
	if (!rs->o.timeout_ms)
		rs->o.timeout_ms = 2000;
	if (!rs->o.tries)
		rs->o.tries = 2;
	if (!rs->o.window)
		rs->o.window = 256;
	rs->ep = epoll_create1(EPOLL_CLOEXEC);
	if (rs->ep < 0) {
		snprintf(err, errlen, "epoll: %s", strerror(errno));
		free(rs);
		return NULL;
	}
	rs->inbuf = xmalloc(RS_BATCH * sizeof(*rs->inbuf));
	for (unsigned i = 0; i < RS_BATCH; i++) {
		rs->inv[i].iov_base = rs->inbuf[i];
		rs->inv[i].iov_len = RS_PKT;
		rs->in[i].msg_hdr.msg_iov = &rs->inv[i];
		rs->in[i].msg_hdr.msg_iovlen = 1;
	}
	int rc;
	switch (rs->o.mode) {
	case RS_RECURSIVE:
		rc = open_unbound(rs, err, errlen);
		break;
	case RS_FORWARD:
		rc = add_servers(rs, rs->o.servers ? rs->o.servers : "", err, errlen);
		if (rc == 0)
			rc = open_socks(rs, 0, err, errlen);
		break;
	default:
		rc = system_servers(rs, err, errlen);
		if (rc == 0)
			rc = open_socks(rs, 0, err, errlen);
		break;
	}
	rs->group[0].first = 0;
	rs->group[0].n = rs->nsrv;
	rs->ngroups = 1;
	if (rc < 0) {
		rs_free(rs);
		return NULL;
	}
	return rs;
}

static void free_list(struct rs_list *l)
{
	struct rs_query *q;
	while ((q = l->head)) {
		list_del(l, q);
		free(q);
	}
}

void rs_free(struct resolver *rs)
{
	if (!rs)
		return;
	rs_cancel_all(rs);
	free_list(&rs->free);
	for (unsigned i = 0; i < rs->nsocks; i++) {
		if (!rs->socks[i])
			continue;
		if (rs->socks[i]->fd >= 0)
			close(rs->socks[i]->fd);
		free(rs->socks[i]->byid);
		free(rs->socks[i]);
	}
	if (rs->ub)
		ub_ctx_delete(rs->ub);
	if (rs->ep >= 0)
		close(rs->ep);
	free(rs->inbuf);
	free(rs);
}

int rs_fd(const struct resolver *rs)
{
	return rs->ep;
}

size_t rs_pending(const struct resolver *rs)
{
	return rs->pending;
}

static void answer_reset(struct resolver *rs, struct rs_query *q)
{
	memset(&rs->ans, 0, offsetof(struct rs_answer, u));
	rs->ans.qtype = q->qtype;
	rs->ans.text_used = 0;
	uint64_t now = now_ms();
	rs->ans.ms = (unsigned)(now - q->t_first);
}

/* Take q out of whatever it is in, and recycle it. */
static void query_release(struct resolver *rs, struct rs_query *q)
{
	switch (q->state) {
	case Q_QUEUED:
		list_del(&rs->queue, q);
		break;
	case Q_UDP:
		list_del(&rs->flight, q);
		q->sock->byid[q->id] = NULL;
		break;
	case Q_TCP:
		list_del(&rs->flight, q);
		if (q->tcp_fd >= 0) {
			epoll_ctl(rs->ep, EPOLL_CTL_DEL, q->tcp_fd, NULL);
			close(q->tcp_fd);
		}
		free(q->tcp_buf);
		q->tcp_buf = NULL;
		break;
	case Q_UB:
		list_del(&rs->ubflight, q);
		break;
	case Q_FREE:
		panic("releasing a free query");
	}
	q->state = Q_FREE;
	rs->pending--;
	list_push(&rs->free, q);
}

static void query_done(struct resolver *rs, struct rs_query *q)
{
	rs_callback *cb = q->cb;
	void *arg = q->arg;
	query_release(rs, q);
	cb(arg, &rs->ans);
}

void rs_query_fail(struct resolver *rs, struct rs_query *q,
		   enum rs_status st, const char *why)
{
	answer_reset(rs, q);
	rs->ans.status = st;
	rs->ans.error = why;
	query_done(rs, q);
}

/* libunbound's packets carry no ID of ours; over TCP and from libunbound
 * a truncated answer is taken as it is. */
int rs_take_response(struct resolver *rs, struct rs_query *q,
		     const uint8_t *pkt, size_t len, enum resp_via via)
{
	int r = rs_parse(pkt, len, q->qname, q->qlen, q->qtype,
			 via == RESP_UB ? -1 : q->id, &rs->ans);
	if (r == 2 && via == RESP_UDP)
		return 2;
	if (r == 2) {
		/* TC over TCP: read what is there */
		uint8_t copy[65535];
		size_t n = len < sizeof(copy) ? len : sizeof(copy);
		memcpy(copy, pkt, n);
		copy[2] &= (uint8_t)~0x02;
		r = rs_parse(copy, n, q->qname, q->qlen, q->qtype,
			     via == RESP_UB ? -1 : q->id, &rs->ans);
	}
	if (r != 1)
		return 0;
	rs->ans.ms = (unsigned)(now_ms() - q->t_first);
	query_done(rs, q);
	return 1;
}

/* ---- sending ---- */

static uint16_t new_id(struct rs_sock *k)
{
	for (;;) {
		uint16_t id = (uint16_t)arc4random();
		if (!k->byid[id])
			return id;
	}
}

size_t rs_build_query(const struct rs_query *q, uint8_t *p)
{
	p[0] = q->id >> 8;
	p[1] = q->id & 0xff;
	p[2] = 0x01;			/* RD */
	p[3] = 0;
	p[4] = 0; p[5] = 1;		/* QDCOUNT */
	memset(p + 6, 0, 4);
	p[10] = 0; p[11] = 1;		/* ARCOUNT: OPT */
	memcpy(p + 12, q->qname, q->qlen);
	size_t n = 12 + q->qlen;
	p[n++] = q->qtype >> 8;
	p[n++] = q->qtype & 0xff;
	p[n++] = 0;
	p[n++] = 1;
	/* OPT: root, type 41, UDP size, no flags, no options */
	p[n++] = 0;
	p[n++] = 0; p[n++] = 41;
	p[n++] = RS_EDNS_SIZE >> 8; p[n++] = RS_EDNS_SIZE & 0xff;
	memset(p + n, 0, 6);
	n += 6;
	return n;
}

static void flush_sock(struct rs_sock *k)
{
	unsigned off = 0;
	while (off < k->nout) {
		int r = sendmmsg(k->fd, k->out + off, k->nout - off, 0);
		if (r <= 0) {
			if (r < 0 && errno == EINTR)
				continue;
			/* The kernel buffer is full or the server unreachable:
			 * the queries stay in flight and time out or retry. */
			break;
		}
		off += (unsigned)r;
	}
	k->nout = 0;
}

static void send_udp(struct resolver *rs, struct rs_query *q, uint64_t now)
{
	/* spread over the server's sockets */
	unsigned base = q->server * RS_SOCKS;
	struct rs_sock *k = rs->socks[base + (rs->next_sock++ % RS_SOCKS)];
	if (k->nout == RS_BATCH)
		flush_sock(k);
	q->id = new_id(k);
	q->sock = k;
	k->byid[q->id] = q;
	q->state = Q_UDP;
	q->deadline = now + rs->o.timeout_ms;
	list_push(&rs->flight, q);
	unsigned i = k->nout++;
	size_t len = rs_build_query(q, k->outbuf[i]);
	k->outv[i].iov_base = k->outbuf[i];
	k->outv[i].iov_len = len;
	memset(&k->out[i], 0, sizeof(k->out[i]));
	k->out[i].msg_hdr.msg_iov = &k->outv[i];
	k->out[i].msg_hdr.msg_iovlen = 1;
}

static void ub_answer(void *arg, int err, struct ub_result *res);

static void send_ub(struct resolver *rs, struct rs_query *q, uint64_t now)
{
	char text[DNAME_TEXT_MAX];
	q->state = Q_UB;
	q->deadline = now + (uint64_t)rs->o.timeout_ms * rs->o.tries;
	list_push(&rs->ubflight, q);
	dname_to_text(q->qname, q->qlen, text, sizeof(text));
	int r = ub_resolve_async(rs->ub, text, q->qtype, 1, q, ub_answer, &q->ub_id);
	if (r != 0)
		rs_query_fail(rs, q, RS_ERROR, ub_strerror(r));
}

/* Move queued queries into flight while the window has room. */
static void fill_window(struct resolver *rs)
{
	uint64_t now = now_ms();
	while (rs->queue.head && rs->flight.n + rs->ubflight.n < rs->o.window) {
		struct rs_query *q = rs->queue.head;
		list_del(&rs->queue, q);
		q->t_first = now;
		q->tries = 1;
		if (rs->ub && q->group == 0)
			send_ub(rs, q, now);
		else
			send_udp(rs, q, now);
	}
	for (unsigned i = 0; i < rs->nsocks; i++)
		if (rs->socks[i]->nout)
			flush_sock(rs->socks[i]);
}

/* "ADDR[:PORT]" as libunbound writes it: "ADDR@PORT". */
static int ub_addr(const char *s, size_t n, char *out, size_t outlen)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	char a[INET6_ADDRSTRLEN];
	unsigned port;
	if (parse_server(s, n, &ss, &sl) < 0)
		return -1;
	if (ss.ss_family == AF_INET) {
		inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, a, sizeof(a));
		port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
	} else {
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, a, sizeof(a));
		port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	}
	snprintf(out, outlen, "%s@%u", a, port);
	return 0;
}

int rs_add_group(struct resolver *rs, const char *zone, const char *servers,
		 char *err, size_t errlen)
{
	unsigned first = rs->nsrv;
	if (rs->ub) {
		/* recursive: libunbound asks these servers for the zone */
		const char *s = servers;
		int n = 0;
		while (*s) {
			size_t len = strcspn(s, ", ");
			char addr[160];
			if (len && ub_addr(s, len, addr, sizeof(addr)) < 0) {
				snprintf(err, errlen, "'%.*s': expected ADDR[:PORT]",
					 (int)(len > 100 ? 100 : len), s);
				return -1;
			}
			int r = len ? ub_ctx_set_stub(rs->ub, zone, addr, 0) : 0;
			if (r) {
				snprintf(err, errlen, "libunbound: %s", ub_strerror(r));
				return -1;
			}
			n += len > 0;
			s += len;
			while (*s == ',' || *s == ' ')
				s++;
		}
		if (!n) {
			snprintf(err, errlen, "no server given");
			return -1;
		}
		return 0;
	}
	if (rs->ngroups == RS_MAX_GROUPS) {
		snprintf(err, errlen, "more than %d server groups", RS_MAX_GROUPS - 1);
		return -1;
	}
	if (add_servers(rs, servers, err, errlen) < 0 ||
	    open_socks(rs, first, err, errlen) < 0) {
		rs->nsrv = first;
		return -1;
	}
	rs->group[rs->ngroups].first = first;
	rs->group[rs->ngroups].n = rs->nsrv - first;
	return (int)rs->ngroups++;
}

int rs_submit(struct resolver *rs, const char *name, uint16_t qtype,
	      rs_callback *cb, void *arg)
{
	return rs_submit_group(rs, 0, name, qtype, cb, arg);
}

int rs_submit_group(struct resolver *rs, int group, const char *name,
		    uint16_t qtype, rs_callback *cb, void *arg)
{
	uint8_t wire[DNAME_MAXLEN];
	if (group < 0 || (unsigned)group >= rs->ngroups)
		return -1;
	int n = dname_from_text_lc(name, wire);
	if (n < 2)			/* an error, or the root */
		return -1;
	struct rs_query *q = rs->free.head;
	if (q)
		list_del(&rs->free, q);
	else
		q = xmalloc(sizeof(*q));
	memset(q, 0, offsetof(struct rs_query, tcp_fd));
	memcpy(q->qname, wire, (size_t)n);
	q->qlen = (uint16_t)n;
	q->qtype = qtype;
	q->group = (unsigned)group;
	q->server = rs->group[group].first;
	q->cb = cb;
	q->arg = arg;
	q->tcp_fd = -1;
	q->tcp_buf = NULL;
	q->rs = rs;
	q->state = Q_QUEUED;
	list_push(&rs->queue, q);
	rs->pending++;
	return 0;
}

/* ---- receiving ---- */

static void udp_event(struct resolver *rs, struct rs_sock *k)
{
	for (;;) {
		int n = recvmmsg(k->fd, rs->in, RS_BATCH, MSG_DONTWAIT, NULL);
		if (n <= 0) {
			if (n < 0 && errno == ECONNREFUSED) {
				/* ICMP port unreachable: the server is not there.
				 * The queries on this socket retry or time out. */
				continue;
			}
			return;
		}
		for (int i = 0; i < n; i++) {
			const uint8_t *pkt = rs->inbuf[i];
			size_t len = rs->in[i].msg_len;
			if (len < 12)
				continue;
			struct rs_query *q = k->byid[(uint16_t)(pkt[0] << 8 | pkt[1])];
			if (!q)
				continue;
			if (rs_take_response(rs, q, pkt, len, RESP_UDP) == 2)
				rs_tcp_start(rs, q);
		}
		if (n < RS_BATCH)
			return;
	}
}

/* libunbound's answer (inside ub_process): read its packet like ours. */
static void ub_answer(void *arg, int err, struct ub_result *res)
{
	struct rs_query *q = arg;
	struct resolver *rs = q->rs;
	if (err || !res) {
		rs_query_fail(rs, q, RS_ERROR, err ? ub_strerror(err) : "no answer");
	} else if (!res->answer_packet || res->answer_len <= 0) {
		/* an error libunbound made itself: SERVFAIL, no packet */
		answer_reset(rs, q);
		rs->ans.status = RS_OK;
		rs->ans.rcode = res->rcode;
		query_done(rs, q);
	} else if (rs_take_response(rs, q, res->answer_packet,
				 (size_t)res->answer_len, RESP_UB) != 1) {
		rs_query_fail(rs, q, RS_ERROR, "libunbound's answer does not match the query");
	}
	if (res)
		ub_resolve_free(res);
}

/* ---- timeouts and the loop ---- */

static void handle_timeouts(struct resolver *rs, uint64_t now)
{
	struct rs_query *q;
	while ((q = rs->flight.head) && q->deadline <= now) {
		if (q->state == Q_UDP && q->tries < rs->o.tries) {
			list_del(&rs->flight, q);
			q->sock->byid[q->id] = NULL;
			q->tries++;
			unsigned f = rs->group[q->group].first, n = rs->group[q->group].n;
			q->server = f + (q->server - f + 1) % n;
			send_udp(rs, q, now);
			continue;
		}
		rs_query_fail(rs, q, RS_TIMEOUT, "timeout: no answer from the resolver");
	}
	while ((q = rs->ubflight.head) && q->deadline <= now) {
		ub_cancel(rs->ub, q->ub_id);
		rs_query_fail(rs, q, RS_TIMEOUT, "timeout: no answer while resolving");
	}
	for (unsigned i = 0; i < rs->nsocks; i++)
		if (rs->socks[i]->nout)
			flush_sock(rs->socks[i]);
}

int rs_next_timeout_ms(const struct resolver *rs)
{
	uint64_t next = UINT64_MAX, now = now_ms();
	if (rs->queue.head && rs->flight.n + rs->ubflight.n < rs->o.window)
		return 0;
	if (rs->flight.head)
		next = rs->flight.head->deadline;
	if (rs->ubflight.head && rs->ubflight.head->deadline < next)
		next = rs->ubflight.head->deadline;
	if (next == UINT64_MAX)
		return -1;
	return next <= now ? 0 : (int)(next - now);
}

void rs_process(struct resolver *rs)
{
	struct epoll_event ev[64];
	int n = epoll_wait(rs->ep, ev, 64, 0);
	for (int i = 0; i < n; i++) {
		struct rs_ref *ref = ev[i].data.ptr;
		switch (ref->kind) {
		case REF_UDP:
			udp_event(rs, ref->p);
			break;
		case REF_TCP:
			rs_tcp_event(rs, ref->p);
			break;
		case REF_UB:
			ub_process(rs->ub);
			break;
		}
	}
	handle_timeouts(rs, now_ms());
	fill_window(rs);
}

void rs_cancel_all(struct resolver *rs)
{
	struct rs_query *q;
	while ((q = rs->queue.head))
		rs_query_fail(rs, q, RS_TIMEOUT, "cancelled: the overall deadline passed");
	while ((q = rs->flight.head))
		rs_query_fail(rs, q, RS_TIMEOUT, "cancelled: the overall deadline passed");
	while ((q = rs->ubflight.head)) {
		ub_cancel(rs->ub, q->ub_id);
		rs_query_fail(rs, q, RS_TIMEOUT, "cancelled: the overall deadline passed");
	}
}

void rs_run(struct resolver *rs, uint64_t deadline_ms)
{
	fill_window(rs);
	while (rs->pending) {
		int t = rs_next_timeout_ms(rs);
		if (deadline_ms) {
			uint64_t now = now_ms();
			if (now >= deadline_ms) {
				rs_cancel_all(rs);
				break;
			}
			int left = (int)(deadline_ms - now);
			if (t < 0 || t > left)
				t = left;
		}
		/* the epoll set is itself pollable; rs_process() reads it */
		struct pollfd p = { .fd = rs->ep, .events = POLLIN };
		if (poll(&p, 1, t) < 0 && errno != EINTR)
			break;
		rs_process(rs);
	}
}
