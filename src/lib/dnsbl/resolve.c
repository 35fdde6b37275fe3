/*
 * resolve.c - asynchronous DNS lookups: a batching stub resolver, and
 * libunbound for full recursion.
 *
 * Stub: each server gets RS_SOCKS connected UDP sockets (so the kernel
 * drops datagrams from anyone else, and each socket has its own random
 * source port and a full 16-bit ID space).  Queries wait in a FIFO per
 * server group until a server's congestion window has room (flow control
 * and the timer heap: resolve_flow.c); sends and receives go in batches
 * (sendmmsg, recvmmsg).  A lost try (its RTO ran out, or a query sent
 * after it on its socket was answered) waits in the group's retry list
 * and goes again, to the next server of the group, or to the same one
 * with the same ID so that an answer to either send counts, until the
 * query's time (tries x timeout) is up.  A server that answered nothing
 * during a whole query's time is down: one probe at a time, and what is
 * queued for it ends at once.  A truncated answer is asked again over
 * TCP (resolve_tcp.c).  Recursive mode hands the names to libunbound
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
#include "base/dynlib.h"
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
#include <time.h>
#include <unistd.h>
#include <unbound.h>

/* libunbound is opened when a resolver recurses itself (base/dynlib.h):
 * the stub path (our own UDP client) and the commands without DNS do not
 * pay for it and its OpenSSL. */
#define UB_FUNCS(X) \
	X(ub_cancel) \
	X(ub_ctx_async) \
	X(ub_ctx_create) \
	X(ub_ctx_delete) \
	X(ub_ctx_set_option) \
	X(ub_ctx_set_stub) \
	X(ub_fd) \
	X(ub_process) \
	X(ub_resolve_async) \
	X(ub_resolve_free) \
	X(ub_strerror)
static struct { UB_FUNCS(DYNLIB_SLOT) } ub;
DYNLIB_DEFINE(ub_lib, ub, UB_FUNCS, "libunbound.so.8", "libunbound8");
#define ub_cancel ub.ub_cancel
#define ub_ctx_async ub.ub_ctx_async
#define ub_ctx_create ub.ub_ctx_create
#define ub_ctx_delete ub.ub_ctx_delete
#define ub_ctx_set_option ub.ub_ctx_set_option
#define ub_ctx_set_stub ub.ub_ctx_set_stub
#define ub_fd ub.ub_fd
#define ub_process ub.ub_process
#define ub_resolve_async ub.ub_resolve_async
#define ub_resolve_free ub.ub_resolve_free
#define ub_strerror ub.ub_strerror

static uint64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

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

/* Room for the answers of a full window spread over a server's sockets
 * (the default buffer holds a few hundred): forced past rmem_max when we
 * may, else as much as the limit allows. */
static void size_rcvbuf(int fd, unsigned window)
{
	uint64_t want = ((uint64_t)window + RS_SOCKS - 1) / RS_SOCKS * RS_RCVBUF_SLOT;
	if (want < 256 * 1024)
		want = 256 * 1024;
	if (want > 64u << 20)
		want = 64u << 20;
	int sz = (int)want;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
}

/* Sockets for the servers from index first on. */
static int open_socks(struct resolver *rs, unsigned first, char *err, size_t errlen)
{
	unsigned from = first * RS_SOCKS;
	for (unsigned i = first; i < rs->nsrv; i++)
		rs_flow_init(&rs->flow[i], rs->o.window);
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
		size_rcvbuf(k->fd, rs->o.window);
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
	if (dynlib_load(&ub_lib, err, errlen) < 0)
		return -1;
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
	if (rs->o.root_hints &&
	    (r = ub_ctx_set_option(rs->ub, "root-hints:", rs->o.root_hints)) != 0) {
		snprintf(err, errlen, "libunbound: root hints %s: %s", rs->o.root_hints,
			 ub_strerror(r));
		return -1;
	}
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
	snprintf(rs->group[0].why_timeout, sizeof(rs->group[0].why_timeout),
		 "timeout: no answer from the resolver (is it running and reachable?)");
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
	free(rs->heap);
	free(rs);
}

int rs_fd(const struct resolver *rs)
{
	return rs->ep;
}

bool rs_recursive(const struct resolver *rs)
{
	return rs->ub != NULL;
}

size_t rs_pending(const struct resolver *rs)
{
	return rs->pending;
}

/* q's time so far, in ms: from its first send, or from its submission
 * when it never went out (a query that fails in the queue, its servers
 * down, has no send time: t_first is 0, not a time). */
static unsigned query_ms(const struct rs_query *q)
{
	uint64_t now = now_ms(), from = q->t_first ? q->t_first : q->t_queued;
	return now > from ? (unsigned)(now - from) : 0;
}

static void answer_reset(struct resolver *rs, struct rs_query *q)
{
	memset(&rs->ans, 0, offsetof(struct rs_answer, u));
	rs->ans.qtype = q->qtype;
	rs->ans.text_used = 0;
	rs->ans.ms = query_ms(q);
}

void rs_query_detach(struct resolver *rs, struct rs_query *q)
{
	struct rs_group *g = &rs->group[q->group];
	rs_timer_del(rs, q);
	if (q->counted)
		rs_flow_forget(&rs->flow[q->server]);
	q->counted = false;
	struct rs_sock *k = q->sock;
	if (k && (q->state == Q_UDP || q->state == Q_RETRY)) {
		k->byid[q->id] = NULL;
		q->sock = NULL;
	}
	switch (q->state) {
	case Q_QUEUED:
		list_del(&g->queue, q);
		break;
	case Q_RETRY:
		list_del(&g->retry, q);
		break;
	case Q_UDP:
		list_del(&k->sent, q);
		rs->nflight--;
		break;
	case Q_TCP:
		rs->nflight--;
		if (q->tcp_fd >= 0) {
			epoll_ctl(rs->ep, EPOLL_CTL_DEL, q->tcp_fd, NULL);
			close(q->tcp_fd);
			q->tcp_fd = -1;
		}
		free(q->tcp_buf);
		q->tcp_buf = NULL;
		break;
	case Q_UB:
		list_del(&rs->ubflight, q);
		break;
	case Q_FREE:
		panic("detaching a free query");
	}
}

/* Take q out of whatever it is in, and recycle it. */
static void query_release(struct resolver *rs, struct rs_query *q)
{
	rs_query_detach(rs, q);
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
	rs->ans.ms = query_ms(q);
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

/* Send q to server (a try, first or again), under its window.  Again to
 * the same server it keeps its socket and ID, so that an answer to the
 * earlier send still ends it. */
static void send_udp(struct resolver *rs, struct rs_query *q, unsigned server,
		     uint64_t now)
{
	struct rs_flow *f = &rs->flow[server];
	struct rs_sock *k = q->sock;
	if (!k || q->server != server) {
		if (k)
			k->byid[q->id] = NULL;
		/* spread over the server's sockets */
		k = rs->socks[server * RS_SOCKS + (rs->next_sock++ % RS_SOCKS)];
		q->id = new_id(k);
		q->sock = k;
		k->byid[q->id] = q;
	}
	if (k->nout == RS_BATCH)
		flush_sock(k);
	q->server = server;
	q->state = Q_UDP;
	q->sends++;
	q->sent_mask |= 1u << (server % 32);
	q->seq = rs_flow_sent(f);
	q->counted = true;
	q->t_send_us = now_us();
	list_push(&k->sent, q);
	rs->nflight++;
	/* the RTO, doubled for each earlier send of this query */
	uint64_t rto = rs_flow_rto_ms(f, rs->o.timeout_ms);
	unsigned sh = q->sends - 1 < RS_BACKOFF_MAX ? q->sends - 1 : RS_BACKOFF_MAX;
	rto <<= sh;
	if (rto > rs->o.timeout_ms)
		rto = rs->o.timeout_ms;
	rs_timer_set(rs, q, now + rto < q->giveup ? now + rto : q->giveup);
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

static bool room_total(const struct resolver *rs)
{
	return rs->nflight + rs->ubflight.n < rs->o.window;
}

/* A server of group g with room in its window, trying them in order
 * from the one after `after` (-1: from the first); a server that is down
 * only when all of them are.  -1 when none has room. */
static int pick_server(const struct resolver *rs, const struct rs_group *g, int after)
{
	unsigned start = after < 0 ? 0 : (unsigned)after - g->first + 1;
	bool all_down = true;
	for (unsigned i = 0; i < g->n; i++) {
		unsigned s = g->first + (start + i) % g->n;
		if (!rs->flow[s].down) {
			all_down = false;
			if (rs_flow_room(&rs->flow[s]))
				return (int)s;
		}
	}
	if (!all_down)
		return -1;
	for (unsigned i = 0; i < g->n; i++) {
		unsigned s = g->first + (start + i) % g->n;
		if (rs_flow_room(&rs->flow[s]))
			return (int)s;
	}
	return -1;
}

static bool group_down(const struct resolver *rs, const struct rs_group *g)
{
	for (unsigned i = 0; i < g->n; i++)
		if (!rs->flow[g->first + i].down)
			return false;
	return g->n > 0;
}

/* Every server of g is down and its probes are out: the queries not sent
 * yet end now, as their tries would (a callback may queue more: those
 * wait for the next round). */
static void fail_group(struct resolver *rs, struct rs_group *g)
{
	size_t n = g->queue.n;
	struct rs_query *q;
	while (n-- && (q = g->queue.head))
		rs_query_fail(rs, q, RS_TIMEOUT, g->why_timeout);
}

/* Send what the windows allow: per group the queries to send again
 * first, then the new ones, in order. */
static void fill_window(struct resolver *rs)
{
	uint64_t now = now_ms();
	struct rs_query *q;
	rs->dirty = false;
	for (unsigned gi = 0; gi < rs->ngroups; gi++) {
		struct rs_group *g = &rs->group[gi];
		while ((q = g->retry.head) && room_total(rs)) {
			int s = pick_server(rs, g, (int)q->server);
			if (s < 0)
				break;
			list_del(&g->retry, q);
			send_udp(rs, q, (unsigned)s, now);
		}
		while ((q = g->queue.head) && room_total(rs)) {
			int s = 0;
			if (!(rs->ub && gi == 0) && (s = pick_server(rs, g, -1)) < 0) {
				if (group_down(rs, g))
					fail_group(rs, g);
				break;
			}
			list_del(&g->queue, q);
			q->t_first = now;
			q->tries = 1;
			q->giveup = now + (uint64_t)rs->o.timeout_ms * rs->o.tries;
			if (rs->ub && gi == 0)
				send_ub(rs, q, now);
			else
				send_udp(rs, q, (unsigned)s, now);
		}
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
	snprintf(rs->group[rs->ngroups].why_timeout, sizeof(rs->group[rs->ngroups].why_timeout),
		 "timeout: no answer from the list's server %.100s (is it running and reachable?)",
		 servers);
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
	q->sock = NULL;
	q->hidx = 0;
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
	q->t_queued = now_ms();
	q->state = Q_QUEUED;
	list_push(&rs->group[group].queue, q);
	rs->pending++;
	rs->dirty = true;
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
			/* the flow learns from q before the callback recycles
			 * it; an RTT sample only from a query sent once */
			struct rs_flow *f = &rs->flow[q->server];
			bool counted = q->counted;
			if (q->sends == 1 && q->t_send_us > k->rack_us)
				k->rack_us = q->t_send_us;
			int64_t rtt = counted && q->sends == 1 ?
				(int64_t)(now_us() - q->t_send_us) : -1;
			/* lost by its RTO, not sent again, answered now */
			bool late = q->state == Q_RETRY && q->sends == 1;
			uint64_t seq = q->seq;
			q->counted = false;
			int r = rs_take_response(rs, q, pkt, len, RESP_UDP);
			if (r == 0) {
				q->counted = counted;
				continue;
			}
			rs_flow_answer(f, counted, rtt, now_ms());
			if (late)
				rs_flow_spurious(f, seq);
			if (r == 2)
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

/* q's time is up with no answer: each server it went to that has
 * answered nothing since q was first sent is down. */
static void mark_down(struct resolver *rs, const struct rs_query *q)
{
	const struct rs_group *g = &rs->group[q->group];
	for (unsigned i = 0; i < g->n; i++) {
		unsigned s = g->first + i;
		if ((q->sent_mask & (1u << (s % 32))) && rs->flow[s].last_answer < q->t_first)
			rs->flow[s].down = true;
	}
}

/* A try that is lost: its server's window shrinks, and q waits to go
 * again (fill_window) until its time is up.  Returns false when its time
 * is up already (q stays Q_UDP for the caller to end). */
static bool lose_try(struct resolver *rs, struct rs_query *q, uint64_t now, bool rack)
{
	if (q->counted)
		rs_flow_loss(&rs->flow[q->server], q->seq, rack);
	q->counted = false;
	if (now >= q->giveup)
		return false;
	list_del(&q->sock->sent, q);
	rs->nflight--;
	q->state = Q_RETRY;
	list_push(&rs->group[q->group].retry, q);
	rs_timer_set(rs, q, q->giveup);
	return true;
}

/* Queries that went out before ones already answered, a round trip and
 * a bit ago: lost, without waiting for their RTO. */
static void detect_losses(struct resolver *rs, uint64_t now)
{
	uint64_t us = now_us();
	for (unsigned i = 0; i < rs->nsocks; i++) {
		struct rs_sock *k = rs->socks[i];
		struct rs_query *q;
		/* a query whose time is up is left to its timer */
		while ((q = k->sent.head) && now < q->giveup &&
		       rs_flow_lost(&rs->flow[k->server], k->rack_us, q->t_send_us, us))
			lose_try(rs, q, now, true);
	}
}

/* A try that timed out is lost (lose_try); a query whose time is up
 * ends. */
static void handle_timeouts(struct resolver *rs, uint64_t now)
{
	struct rs_query *q;
	detect_losses(rs, now);
	while (rs->nheap && (q = rs->heap[0])->deadline <= now) {
		if (q->state == Q_UDP && lose_try(rs, q, now, false))
			continue;
		if (q->state != Q_TCP)
			mark_down(rs, q);
		rs_query_fail(rs, q, RS_TIMEOUT, rs->group[q->group].why_timeout);
	}
	while ((q = rs->ubflight.head) && q->deadline <= now) {
		ub_cancel(rs->ub, q->ub_id);
		rs_query_fail(rs, q, RS_TIMEOUT, "timeout: no answer while resolving");
	}
}

int rs_next_timeout_ms(const struct resolver *rs)
{
	uint64_t next = UINT64_MAX, now = now_ms();
	if (rs->dirty)
		return 0;
	if (rs->nheap)
		next = rs->heap[0]->deadline;
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
	for (unsigned gi = 0; gi < rs->ngroups; gi++)
		while ((q = rs->group[gi].queue.head))
			rs_query_fail(rs, q, RS_TIMEOUT, "cancelled: the overall deadline passed");
	while (rs->nheap) {
		q = rs->heap[0];
		rs_query_fail(rs, q, RS_TIMEOUT, "cancelled: the overall deadline passed");
	}
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
