/*
 * tcp.c - DNS over TCP and zone transfers; see tcp.h.
 *
 * SECURITY: see tcp.h. Lengths from the wire are checked against the
 * bytes received before use; buffers are fixed per connection.
 */
#define _GNU_SOURCE
#include "serve/tcp.h"
#include "serve/axfr.h"
#include "serve/qlog.h"
#include "serve/query.h"
#include "base/util.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#define IN_CAP (2 + 65535)              /* one whole message fits */
#define OUT_ROOM (2 + 65535)            /* kept free to build one answer */
#define OUT_CAP (OUT_ROOM + 16384)      /* at most 16 KiB more waiting */
#define LISTENER UINT32_MAX
#define SWEEP_MS 100
#define ACCEPT_PAUSE_MS 100             /* after EMFILE and the like */
#define XFR_STALL_MS 5000               /* a transfer's client must read */
#define TURN_MSGS 32                    /* messages of one connection a turn */

struct conn {
	int fd;                 /* -1: a free slot */
	uint8_t *in;            /* received bytes in[ipos..have) */
	size_t ipos, have;
	uint8_t *out;           /* answers to send out[off..len) */
	size_t off, len;
	uint64_t last;          /* last progress: a message in or bytes out */
	uint64_t msg_start;     /* first byte of an incomplete message */
	uint64_t out_since;     /* output pending, or progress on it, since */
	uint32_t events;        /* what epoll watches */
	int eof;                /* the client shut its side down */
	struct sockaddr_storage peer;
};

struct loop {
	struct tcp_listener *l;
	int ep;
	unsigned nconn;
	uint64_t paused_until;  /* accept paused until then, 0: accepting */
	struct conn conns[TCP_MAX_CONN];
};

static _Atomic int xfr_busy;    /* transfer threads running */

/* --- zone transfers --- */

struct xfr_job {
	int fd;
	struct snap *snap;      /* holds z alive */
	const struct zone *z;
	uint8_t *pending;       /* answers queued before the request: */
	size_t poff, npending;  /* pending[poff..poff + npending) */
	uint8_t req[512];       /* header and question (and an IXFR's SOA) */
	size_t qlen, mlen;
};

/* Write all of p; the client may stall at most XFR_STALL_MS at a time. */
static int xfr_write(int fd, const uint8_t *p, size_t n)
{
	while (n) {
		ssize_t r = send(fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (r > 0) {
			p += r;
			n -= (size_t)r;
		} else if (r < 0 && errno == EINTR) {
			continue;
		} else if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			struct pollfd pf = { .fd = fd, .events = POLLOUT };

			if (poll(&pf, 1, XFR_STALL_MS) <= 0)
				return -1;
		} else {
			return -1;
		}
	}
	return 0;
}

static int xfr_send(void *arg, const uint8_t *msg, size_t len)
{
	int fd = *(int *)arg;
	uint8_t l[2] = { (uint8_t)(len >> 8), (uint8_t)len };

	return xfr_write(fd, l, 2) || xfr_write(fd, msg, len) ? -1 : 0;
}

static void *xfr_main(void *arg)
{
	struct xfr_job *j = arg;

	if (xfr_write(j->fd, j->pending + j->poff, j->npending) == 0)
		axfr_serve(j->z, j->req, j->mlen, j->qlen, xfr_send, &j->fd);
	close(j->fd);
	snap_release(j->snap);
	atomic_fetch_sub(&xfr_busy, 1);
	free(j->pending);
	free(j);
	return NULL;
}

/* Take a transfer slot; 0 when all are busy. */
static int xfr_reserve(void)
{
	if (atomic_fetch_add(&xfr_busy, 1) < TCP_XFR_SLOTS)
		return 1;
	atomic_fetch_sub(&xfr_busy, 1);
	return 0;
}

/* Start the transfer of z (held by snap) on a thread that takes the
 * connection and its pending output: 0, or -1 (snap released, slot given
 * back) when it cannot start. */
static int xfr_start(struct loop *lp, struct conn *c, const struct zone *z,
		     struct snap *snap, const uint8_t *req, size_t qlen, size_t mlen)
{
	struct xfr_job *j;
	pthread_attr_t attr;
	pthread_t t;
	int rc;

	if (qlen == 0 || qlen > sizeof(j->req))
		goto fail;
	j = xcalloc(1, sizeof(*j));
	j->fd = c->fd;
	j->snap = snap;
	j->z = z;
	j->qlen = qlen;
	/* the whole request when it fits (an IXFR's SOA); else the question
	 * alone, answered as AXFR */
	j->mlen = mlen <= sizeof(j->req) ? mlen : qlen;
	memcpy(j->req, req, j->mlen);
	j->pending = c->out;
	j->poff = c->off;
	j->npending = c->len - c->off;
	epoll_ctl(lp->ep, EPOLL_CTL_DEL, c->fd, NULL);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	rc = pthread_create(&t, &attr, xfr_main, j);
	pthread_attr_destroy(&attr);
	if (rc == 0) {
		c->out = NULL;          /* the job owns it and the socket */
		c->fd = -1;
		return 0;
	}
	c->events = 0;                  /* conn_watch() adds it again */
	free(j);
fail:
	snap_release(snap);
	atomic_fetch_sub(&xfr_busy, 1);
	return -1;
}

/* SERVFAIL for the request req (header and question, qlen bytes). */
static size_t servfail(const uint8_t *req, size_t qlen, uint8_t *out)
{
	memcpy(out, req, qlen);
	out[2] = (uint8_t)(0x80 | (req[2] & 0x79));    /* QR, opcode, RD */
	out[3] = 2;
	out[4] = 0;
	out[5] = 1;
	memset(out + 6, 0, 6);
	return qlen;
}

/* --- connections --- */

/* A whole message is waiting in c->in. */
static int has_msg(const struct conn *c)
{
	const uint8_t *p = c->in + c->ipos;
	size_t n = c->have - c->ipos;

	return n >= 2 && n >= 2 + ((size_t)p[0] << 8 | p[1]);
}

static void conn_close(struct loop *lp, struct conn *c)
{
	if (c->fd >= 0) {
		epoll_ctl(lp->ep, EPOLL_CTL_DEL, c->fd, NULL);
		close(c->fd);
	}
	free(c->in);
	free(c->out);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
	lp->nconn--;
}

/* Free the slot of a connection given to a transfer thread. */
static void conn_forget(struct loop *lp, struct conn *c)
{
	free(c->in);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
	lp->nconn--;
}

/* Watch for what c can do next: read while it has no whole message
 * waiting (so a client that does not read stops being read); write while
 * output is pending, or while whole messages wait for their turn (the
 * socket is writable at once then, and the next turn serves them). */
static void conn_watch(struct loop *lp, struct conn *c)
{
	uint32_t want = 0;
	struct epoll_event ev;

	if (!c->eof && !has_msg(c) && c->have < IN_CAP)
		want |= EPOLLIN;
	if (c->len > c->off || has_msg(c))
		want |= EPOLLOUT;
	if (want == c->events)
		return;
	ev.events = want;
	ev.data.u32 = (uint32_t)(c - lp->conns);
	if (epoll_ctl(lp->ep, EPOLL_CTL_MOD, c->fd, &ev) != 0)
		epoll_ctl(lp->ep, EPOLL_CTL_ADD, c->fd, &ev);
	c->events = want;
}

/* Read what is there; -1 on an error. */
static int conn_read(struct conn *c)
{
	ssize_t r;

	if (c->ipos) {
		memmove(c->in, c->in + c->ipos, c->have - c->ipos);
		c->have -= c->ipos;
		c->ipos = 0;
	}
	if (c->have == IN_CAP)
		return 0;
	r = recv(c->fd, c->in + c->have, IN_CAP - c->have, 0);
	if (r > 0)
		c->have += (size_t)r;
	else if (r == 0)
		c->eof = 1;
	else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
		return -1;
	return 0;
}

/* Send pending output without blocking; -1 on an error. */
static int conn_flush(struct conn *c, uint64_t now)
{
	while (c->off < c->len) {
		ssize_t r = send(c->fd, c->out + c->off, c->len - c->off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (r > 0) {
			c->off += (size_t)r;
			c->last = c->out_since = now;
		} else if (r < 0 && errno == EINTR) {
			continue;
		} else if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			return 0;
		} else {
			return -1;
		}
	}
	c->off = c->len = 0;
	return 0;
}

/* Room for one more answer in c->out (moving pending output first). */
static int out_room(struct conn *c)
{
	if (!c->out)
		c->out = xmalloc(OUT_CAP);
	if (OUT_CAP - c->len >= OUT_ROOM)
		return 1;
	if (c->off) {
		memmove(c->out, c->out + c->off, c->len - c->off);
		c->len -= c->off;
		c->off = 0;
	}
	return OUT_CAP - c->len >= OUT_ROOM;
}

/* Answer one whole message at c->in + c->ipos into c->out; 1 when a
 * transfer thread took the connection. */
static int serve_one(struct loop *lp, struct conn *c, uint64_t now)
{
	struct tcp_listener *l = lp->l;
	const uint8_t *m = c->in + c->ipos + 2;
	size_t mlen = (size_t)m[-2] << 8 | m[-1], len;
	uint8_t *dst = c->out + c->len + 2;
	struct query_ctx qc = { .stats = l->stats, .global = l->global,
				.version = l->version, .lazy = l->lazy,
				.tcp = 1, .peer = (struct sockaddr *)&c->peer,
				.xfr_allow = l->xfr_allow };
	struct snap *snap = NULL;

	qc.zs = snap_enter(l->rd);
	len = query_answer(&qc, m, mlen, dst, 65535);
	if (!len && qc.xfr_zone && xfr_reserve())
		snap = snap_hold(l->rd);
	snap_leave(l->rd);
	if (!len && qc.xfr_zone) {
		size_t ql = axfr_question_len(m, mlen);

		if (snap && xfr_start(lp, c, qc.xfr_zone, snap, m, ql, mlen) == 0)
			return 1;
		len = servfail(m, ql, dst);     /* every slot busy */
	}
	if (len && l->querylog)
		qlog_query(qc.peer, m, mlen, dst, len);
	if (len) {
		if (c->len == c->off)
			c->out_since = now;
		dst[-2] = (uint8_t)(len >> 8);
		dst[-1] = (uint8_t)len;
		c->len += 2 + len;
	}
	c->ipos += 2 + mlen;
	c->last = now;
	return 0;
}

/* Serve the whole messages received while there is room for answers and
 * send what can be sent; returns 1 when the connection was given away,
 * -1 to close it. */
static int conn_work(struct loop *lp, struct conn *c, uint64_t now)
{
	int served = 0, budget = TURN_MSGS;

	for (;;) {
		while (budget && has_msg(c) && out_room(c)) {
			if (serve_one(lp, c, now))
				return 1;
			served = 1;
			budget--;
		}
		if (conn_flush(c, now))
			return -1;
		if (!budget || !has_msg(c) || OUT_CAP - (c->len - c->off) < OUT_ROOM)
			break;
	}
	if (c->have == c->ipos)
		c->msg_start = 0;
	else if (served || !c->msg_start)
		c->msg_start = now;
	if (c->eof && !has_msg(c) && c->off == c->len)
		return -1;
	return 0;
}

static void conn_event(struct loop *lp, struct conn *c, uint32_t ev, uint64_t now)
{
	int rc;

	if (ev & EPOLLERR) {
		conn_close(lp, c);
		return;
	}
	if ((ev & (EPOLLIN | EPOLLHUP)) && !c->eof && conn_read(c)) {
		conn_close(lp, c);
		return;
	}
	rc = conn_work(lp, c, now);
	if (rc < 0)
		conn_close(lp, c);
	else if (rc == 0)
		conn_watch(lp, c);
	else
		conn_forget(lp, c);
}

/* Close the connections past their deadline. */
static void sweep(struct loop *lp, uint64_t now)
{
	uint64_t idle = (uint64_t)lp->l->idle_ms;

	for (unsigned i = 0; i < TCP_MAX_CONN; i++) {
		struct conn *c = &lp->conns[i];
		int late;

		if (c->fd < 0)
			continue;
		if (c->len > c->off)                    /* waiting for the client to read */
			late = now - c->out_since > TCP_MSG_MS;
		else if (has_msg(c))                    /* waiting for its turn */
			late = 0;
		else if (c->have > c->ipos)             /* inside a message */
			late = now - c->msg_start > TCP_MSG_MS;
		else
			late = now - c->last > idle;
		if (late)
			conn_close(lp, c);
	}
}

/* A slot for a new connection: a free one, else the one idle longest. */
static struct conn *conn_slot(struct loop *lp)
{
	struct conn *old = NULL;

	for (unsigned i = 0; i < TCP_MAX_CONN; i++) {
		struct conn *c = &lp->conns[i];

		if (c->fd < 0)
			return c;
		if (!old || c->last < old->last)
			old = c;
	}
	conn_close(lp, old);
	return old;
}

static void listener_watch(struct loop *lp, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.u32 = LISTENER };

	epoll_ctl(lp->ep, EPOLL_CTL_MOD, lp->l->fd, &ev);
}

static void accept_some(struct loop *lp, uint64_t now)
{
	for (int k = 0; k < 16; k++) {
		struct sockaddr_storage peer;
		socklen_t sl = sizeof(peer);
		struct epoll_event ev = { .events = EPOLLIN };
		struct conn *c;
		int fd = accept4(lp->l->fd, (struct sockaddr *)&peer, &sl,
				 SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
			    errno == ENOMEM) {
				/* the connection stays queued: do not spin on it */
				listener_watch(lp, 0);
				lp->paused_until = now + ACCEPT_PAUSE_MS;
			}
			if (errno == ECONNABORTED || errno == EINTR)
				continue;
			return;
		}
		c = conn_slot(lp);
		c->fd = fd;
		c->peer = peer;
		c->in = xmalloc(IN_CAP);
		c->last = now;
		c->events = EPOLLIN;
		ev.data.u32 = (uint32_t)(c - lp->conns);
		if (epoll_ctl(lp->ep, EPOLL_CTL_ADD, fd, &ev) != 0) {
			free(c->in);
			close(fd);
			c->in = NULL;
			c->fd = -1;
			continue;
		}
		lp->nconn++;
	}
}

int tcp_prepare(struct tcp_listener *l, char *err, size_t errlen)
{
	struct loop *lp = xcalloc(1, sizeof(*lp));
	struct epoll_event lev = { .events = EPOLLIN, .data.u32 = LISTENER };
	int rc;

	lp->l = l;
	for (unsigned i = 0; i < TCP_MAX_CONN; i++)
		lp->conns[i].fd = -1;
	lp->ep = epoll_create1(EPOLL_CLOEXEC);
	if (lp->ep < 0 || epoll_ctl(lp->ep, EPOLL_CTL_ADD, l->fd, &lev) != 0) {
		rc = -errno;
		snprintf(err, errlen, "tcp: epoll: %s", strerror(errno));
		if (lp->ep >= 0)
			close(lp->ep);
		free(lp);
		return rc;
	}
	l->loop = lp;
	return 0;
}

void *tcp_main(void *arg)
{
	struct loop *lp = ((struct tcp_listener *)arg)->loop;
	struct epoll_event ev[64];
	uint64_t next_sweep = now_ms() + SWEEP_MS;

	while (!atomic_load(lp->l->stopping)) {
		int n = epoll_wait(lp->ep, ev, 64, SWEEP_MS), listener = 0;
		uint64_t now = now_ms();

		for (int i = 0; i < n; i++) {
			struct conn *c;

			if (ev[i].data.u32 == LISTENER) {
				listener = 1;
				continue;
			}
			c = &lp->conns[ev[i].data.u32];
			if (c->fd >= 0)
				conn_event(lp, c, ev[i].events, now);
		}
		/* after the connections' events: a slot freed above may be
		 * taken now, and no stale event can reach it */
		if (listener)
			accept_some(lp, now);
		if (lp->paused_until && now >= lp->paused_until) {
			lp->paused_until = 0;
			listener_watch(lp, EPOLLIN);
		}
		if (now >= next_sweep) {
			sweep(lp, now);
			next_sweep = now + SWEEP_MS;
		}
	}
	for (unsigned i = 0; i < TCP_MAX_CONN; i++)
		if (lp->conns[i].fd >= 0)
			conn_close(lp, &lp->conns[i]);
	close(lp->ep);
	free(lp);
	return NULL;
}
