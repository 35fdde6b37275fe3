/*
 * resolve_tcp.c - the stub resolver's TCP fallback: a query whose UDP
 * answer was truncated is asked again over TCP, to the same server, with
 * one connection per query (RFC 7766 framing: a two-byte length).  The
 * connection is non-blocking and driven by the resolver's epoll set.
 *
 * SECURITY: the length prefix and the response are untrusted; the
 * response buffer is 2 + 65535 bytes, so no length read from the stream
 * can overrun it, and the response goes through the same checks as over
 * UDP (rs_take_response(): ID, question, QR).
 */
#define _GNU_SOURCE
#include "dnsbl/resolve_int.h"
#include "base/util.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

void rs_tcp_start(struct resolver *rs, struct rs_query *q)
{
	const struct sockaddr *sa = (const struct sockaddr *)&rs->srv[q->server];
	list_del(&rs->flight, q);
	q->sock->byid[q->id] = NULL;
	q->sock = NULL;
	q->state = Q_TCP;
	q->deadline = now_ms() + rs->o.timeout_ms;
	list_push(&rs->flight, q);
	q->tcp_fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (q->tcp_fd < 0) {
		rs_query_fail(rs, q, RS_ERROR, "TCP socket failed");
		return;
	}
	if (connect(q->tcp_fd, sa, rs->srvlen[q->server]) < 0 && errno != EINPROGRESS) {
		rs_query_fail(rs, q, RS_ERROR, "TCP connect to the resolver failed");
		return;
	}
	q->tcp_buf = xmalloc(2 + 65535);
	size_t len = rs_build_query(q, q->tcp_buf + 2);
	q->tcp_buf[0] = (uint8_t)(len >> 8);
	q->tcp_buf[1] = (uint8_t)len;
	q->tcp_len = len + 2;
	q->tcp_pos = 0;
	q->tcp_sent = false;
	q->tcp_ref.kind = REF_TCP;
	q->tcp_ref.p = q;
	if (rs_ep_add(rs, q->tcp_fd, EPOLLOUT, &q->tcp_ref) < 0)
		rs_query_fail(rs, q, RS_ERROR, "epoll failed");
}

/* Send what is left of the query; once it is out, wait for the length. */
static void tcp_send(struct resolver *rs, struct rs_query *q)
{
	ssize_t r = send(q->tcp_fd, q->tcp_buf + q->tcp_pos, q->tcp_len - q->tcp_pos,
			 MSG_NOSIGNAL);
	if (r < 0) {
		if (errno == EAGAIN || errno == EINTR)
			return;
		rs_query_fail(rs, q, RS_ERROR, "TCP to the resolver failed");
		return;
	}
	q->tcp_pos += (size_t)r;
	if (q->tcp_pos < q->tcp_len)
		return;
	q->tcp_sent = true;
	q->tcp_pos = 0;
	q->tcp_len = 2;
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &q->tcp_ref };
	epoll_ctl(rs->ep, EPOLL_CTL_MOD, q->tcp_fd, &ev);
}

/* Read the length, then the response; take it when it is complete. */
static void tcp_recv(struct resolver *rs, struct rs_query *q)
{
	ssize_t r = recv(q->tcp_fd, q->tcp_buf + q->tcp_pos, q->tcp_len - q->tcp_pos, 0);
	if (r <= 0) {
		if (r < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		rs_query_fail(rs, q, RS_ERROR, "the resolver closed the TCP connection");
		return;
	}
	q->tcp_pos += (size_t)r;
	if (q->tcp_pos < q->tcp_len)
		return;
	if (q->tcp_len == 2) {
		size_t n = (size_t)q->tcp_buf[0] << 8 | q->tcp_buf[1];
		if (n < 12) {
			rs_query_fail(rs, q, RS_ERROR, "short TCP response");
			return;
		}
		q->tcp_len = 2 + n;
		return;
	}
	if (rs_take_response(rs, q, q->tcp_buf + 2, q->tcp_len - 2, RESP_TCP) != 1)
		rs_query_fail(rs, q, RS_ERROR, "the TCP response does not answer the query");
}

void rs_tcp_event(struct resolver *rs, struct rs_query *q)
{
	if (!q->tcp_sent)
		tcp_send(rs, q);
	else
		tcp_recv(rs, q);
}
