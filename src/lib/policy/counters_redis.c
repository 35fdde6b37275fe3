/*
 * counters_redis.c - the Redis backend of the outbound counter store: a
 * small asynchronous RESP client (plain TCP or TLS) on the daemon's event
 * loop that runs the counting scripts of counters_scripts.c in Redis.
 *
 * A connection: TCP connect, TLS handshake (rediss://), AUTH, SELECT,
 * SCRIPT LOAD of each script, then up. Requests go out as EVALSHA in
 * the order of a FIFO; replies come back in the same order.
 *
 * SECURITY: see counters.h. Replies go through resp_parse(); a reply of
 * an unexpected shape, an error reply, or bytes nobody asked for close
 * the connection (the requests waiting are answered locally).
 */
#define _GNU_SOURCE
#include "policy/counters.h"
#include "policy/counters_scripts.h"
#include "policy/resp.h"
#include "base/openssl.h"
#include "base/util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <time.h>
#include <unistd.h>

#define PCS_IN_MAX (RESP_MAX_BULK + 65536)

enum req_kind { RQ_CHECK, RQ_HANDSHAKE, RQ_LOAD, RQ_FIRE, RQ_STATUS };
enum pcs_st { ST_DOWN, ST_CONNECTING, ST_TLS, ST_HANDSHAKE, ST_UP };

struct pcs_req {
	struct pcs_req *next;
	enum req_kind kind;
	int script;		/* RQ_LOAD */
	pcs_cb *cb;		/* NULL: cancelled */
	pcs_status_cb *scb;	/* RQ_STATUS; NULL: cancelled */
	void *arg;
	size_t nlim;		/* RQ_STATUS: estimates asked for */
	uint64_t deadline;	/* ev_now ms */
};

struct pcs {
	char *url_shown;	/* without the password */
	char *user, *pass;
	int db;
	struct sockaddr_storage addr;
	socklen_t addrlen;
	ev_loop *ev;
	unsigned timeout_ms;
	pcs_state_cb *state;
	void *sarg;
	int fd;
	SSL_CTX *tls;		/* rediss://: NULL for plain TCP */
	SSL *ssl;
	char host[256];		/* what the certificate must name */
	enum pcs_st st;
	bool reported_up, broken, logged_down;
	uint64_t last_try;
	char *out, *in;
	size_t outlen, outcap, inlen, incap;
	struct pcs_req *head, *tail, *freel;
	unsigned hs_left;
	struct ev_timer timer;
	char sha[PCS_SC_N][41];
	uint64_t nok, nfail, nconn;
};

/* -- the URL ------------------------------------------------------------ */

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* s[0..n) with %XX decoded, as a new string (NULL if a %XX is bad). */
static char *pct_decode(const char *s, size_t n)
{
	char *o = xmalloc(n + 1);
	size_t j = 0;

	for (size_t i = 0; i < n; i++) {
		if (s[i] == '%') {
			int h, l;

			if (i + 2 >= n) {
				free(o);
				return NULL;
			}
			h = hexval((unsigned char)s[i + 1]);
			l = hexval((unsigned char)s[i + 2]);
			if (h < 0 || l < 0) {
				free(o);
				return NULL;
			}
			o[j++] = (char)(h * 16 + l);
			i += 2;
		} else {
			o[j++] = s[i];
		}
	}
	o[j] = '\0';
	return o;
}

struct url {
	bool tls;
	char *user, *pass;
	char host[256], port[8];
	int db;
};

static void url_free(struct url *u)
{
	free(u->user);
	free(u->pass);
	u->user = u->pass = NULL;
}

static int url_parse(const char *url, struct url *u, char *err, size_t el)
{
	const char *p, *at, *hp, *slash, *colon;
	size_t hl;

	memset(u, 0, sizeof(*u));
	if (!strncmp(url, "rediss://", 9)) {
		u->tls = true;
		p = url + 9;
	} else if (!strncmp(url, "redis://", 8)) {
		p = url + 8;
	} else {
		snprintf(err, el, "expected local, or redis[s]://[USER:PASSWORD@]HOST:PORT[/DB]");
		return -1;
	}
	slash = strchr(p, '/');
	at = memrchr(p, '@', slash ? (size_t)(slash - p) : strlen(p));
	if (at) {
		colon = memchr(p, ':', (size_t)(at - p));
		if (!colon) {
			snprintf(err, el, "expected USER:PASSWORD@ (or :PASSWORD@) before the host");
			return -1;
		}
		if (colon > p && !(u->user = pct_decode(p, (size_t)(colon - p))))
			goto bad_pct;
		if (!(u->pass = pct_decode(colon + 1, (size_t)(at - colon - 1))))
			goto bad_pct;
		p = at + 1;
	}
	hp = p;
	hl = slash ? (size_t)(slash - hp) : strlen(hp);
	if (hl && hp[0] == '[') {
		const char *rb = memchr(hp, ']', hl);

		if (!rb || rb[1] != ':' || (size_t)(rb - hp - 1) >= sizeof(u->host))
			goto bad_host;
		memcpy(u->host, hp + 1, (size_t)(rb - hp - 1));
		colon = rb + 1;
	} else {
		colon = memrchr(hp, ':', hl);
		if (!colon || colon == hp || (size_t)(colon - hp) >= sizeof(u->host))
			goto bad_host;
		memcpy(u->host, hp, (size_t)(colon - hp));
	}
	{
		size_t pl = hl - (size_t)(colon + 1 - hp);
		char *end;
		long port;

		if (pl == 0 || pl >= sizeof(u->port))
			goto bad_host;
		memcpy(u->port, colon + 1, pl);
		port = strtol(u->port, &end, 10);
		if (*end || port < 1 || port > 65535)
			goto bad_host;
	}
	if (slash && slash[1]) {
		char *end;
		long db = strtol(slash + 1, &end, 10);

		if (*end || db < 0 || db > 1000000) {
			snprintf(err, el, "the database after '/' must be a number");
			url_free(u);
			return -1;
		}
		u->db = (int)db;
	}
	return 0;
bad_pct:
	snprintf(err, el, "a bad %%XX in the user or password");
	url_free(u);
	return -1;
bad_host:
	snprintf(err, el, "expected HOST:PORT (or [IPv6]:PORT) after redis:// or rediss://");
	url_free(u);
	return -1;
}

int pcs_url_check(const char *url, char *err, size_t errlen)
{
	struct url u;

	if (url_parse(url, &u, err, errlen))
		return -1;
	url_free(&u);
	return 0;
}

/* -- the queue ---------------------------------------------------------- */

static struct pcs_req *req_new(struct pcs *s, enum req_kind kind)
{
	struct pcs_req *r = s->freel;

	if (r)
		s->freel = r->next;
	else
		r = xmalloc(sizeof(*r));
	memset(r, 0, sizeof(*r));
	r->kind = kind;
	r->deadline = ev_now(s->ev) + s->timeout_ms;
	if (s->tail)
		s->tail->next = r;
	else
		s->head = r;
	s->tail = r;
	if (!ev_timer_active(&s->timer))
		ev_timer_start(s->ev, &s->timer, s->timeout_ms);
	return r;
}

static void req_release(struct pcs *s, struct pcs_req *r)
{
	r->next = s->freel;
	s->freel = r;
}

static struct pcs_req *req_pop(struct pcs *s)
{
	struct pcs_req *r = s->head;

	if (r) {
		s->head = r->next;
		if (!s->head)
			s->tail = NULL;
	}
	return r;
}

/* Append a command to the output and ask for EV_WRITE. */
static void send_cmd(struct pcs *s, int argc, const char *const *argv, const size_t *lens)
{
	size_t need = resp_command(NULL, 0, argc, argv, lens);

	if (s->outlen + need > s->outcap) {
		size_t cap = s->outcap ? s->outcap : 4096;

		while (cap < s->outlen + need)
			cap *= 2;
		s->out = xrealloc(s->out, cap);
		s->outcap = cap;
	}
	s->outlen += resp_command(s->out + s->outlen, need, argc, argv, lens);
	ev_fd_mod(s->ev, s->fd, EV_READ | EV_WRITE);
}

/* -- connection state --------------------------------------------------- */

static void set_up(struct pcs *s, bool up)
{
	if (up == s->reported_up)
		return;
	s->reported_up = up;
	if (s->state)
		s->state(s->sarg, up);
}

/* Close with a reset (SO_LINGER 0): a request the kernel still holds
 * because the link is down is dropped, not delivered (and run) later
 * after its request was answered from the local counts. */
static void close_conn(struct pcs *s)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };

	setsockopt(s->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	if (s->ssl) {
		SSL_free(s->ssl);	/* no close_notify: the socket may be dead */
		s->ssl = NULL;
	}
	ev_fd_del(s->ev, s->fd);
	close(s->fd);
	s->fd = -1;
}

/* Bytes out: send() or SSL_write(). >0, 0 for "later", -1 for an error. */
static ssize_t io_write(struct pcs *s, const char *p, size_t n)
{
	ssize_t w;

	if (s->ssl) {
		int r = SSL_write(s->ssl, p, n > INT32_MAX ? INT32_MAX : (int)n);
		int e = r > 0 ? 0 : SSL_get_error(s->ssl, r);

		if (r > 0)
			return r;
		ERR_clear_error();
		return e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ ? 0 : -1;
	}
	do
		w = send(s->fd, p, n, MSG_NOSIGNAL);
	while (w < 0 && errno == EINTR);
	if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return 0;
	return w > 0 ? w : -1;
}

/* Bytes in: >0, 0 for "nothing now", -1 for closed or an error. */
static ssize_t io_read(struct pcs *s, char *p, size_t n)
{
	ssize_t r;

	if (s->ssl) {
		int k = SSL_read(s->ssl, p, n > INT32_MAX ? INT32_MAX : (int)n);
		int e = k > 0 ? 0 : SSL_get_error(s->ssl, k);

		if (k > 0)
			return k;
		ERR_clear_error();
		return e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE ? 0 : -1;
	}
	do
		r = recv(s->fd, p, n, 0);
	while (r < 0 && errno == EINTR);
	if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return 0;
	return r > 0 ? r : -1;
}

/* Close the connection and answer every waiting request with PCS_ERROR. */
static void fail(struct pcs *s, const char *fmt, const char *detail)
{
	struct pcs_req *r;
	struct pcs_result res = { .code = PCS_ERROR };

	if (s->st != ST_DOWN) {
		/* once per outage, not once per reconnection */
		if (!s->logged_down)
			log_warn("outbound_store %s: %s%s", s->url_shown, fmt, detail ? detail : "");
		s->logged_down = true;
		close_conn(s);
	}
	s->st = ST_DOWN;
	s->broken = false;
	s->outlen = s->inlen = 0;
	ev_timer_stop(s->ev, &s->timer);
	while ((r = req_pop(s))) {
		pcs_cb *cb = r->cb;

		r->cb = NULL;
		if (cb && r->kind == RQ_CHECK) {
			s->nfail++;
			cb(r->arg, &res);
		}
		if (r->scb && r->kind == RQ_STATUS) {
			pcs_status_cb *scb = r->scb;

			r->scb = NULL;
			scb(r->arg, NULL);
		}
		req_release(s, r);
	}
	set_up(s, false);
}

static void on_timer(ev_loop *ev, struct ev_timer *t, void *arg)
{
	struct pcs *s = arg;
	uint64_t now = ev_now(ev);
	char why[64];

	(void)t;
	if (s->broken) {
		fail(s, "write failed", NULL);
		return;
	}
	if (s->st == ST_CONNECTING || s->st == ST_TLS) {
		snprintf(why, sizeof(why), "%u ms", s->timeout_ms);
		fail(s, s->st == ST_TLS ? "TLS handshake timed out after " :
		     "connect timed out after ", why);
		return;
	}
	if (s->head && s->head->deadline <= now) {
		snprintf(why, sizeof(why), "%u ms (outbound_store_timeout)", s->timeout_ms);
		fail(s, "no answer within ", why);
		return;
	}
	if (s->head)
		ev_timer_start(ev, &s->timer, s->head->deadline - now);
}

static void flush_out(struct pcs *s)
{
	size_t off = 0;

	while (off < s->outlen) {
		ssize_t w = io_write(s, s->out + off, s->outlen - off);

		if (w == 0)
			break;
		if (w < 0) {
			/* failed from the timer: callers never see a callback
			 * from inside pcs_check */
			s->broken = true;
			ev_timer_start(s->ev, &s->timer, 0);
			s->outlen = 0;
			return;
		}
		off += (size_t)w;
	}
	memmove(s->out, s->out + off, s->outlen - off);
	s->outlen -= off;
	ev_fd_mod(s->ev, s->fd, EV_READ | (s->outlen ? EV_WRITE : 0));
}

/* An integer element of a, into *v within [lo, hi]. */
static int int_elem(const struct resp_reply *rp, const struct resp_node *a, int i,
		    long long lo, long long hi, long long *v)
{
	const struct resp_node *e = resp_elem(rp, a, i);

	if (!e || e->type != RESP_INT || e->i < lo || e->i > hi)
		return -1;
	*v = e->i;
	return 0;
}

/* n bytes of s into dst (a NUL after them), control characters and
 * non-ASCII replaced: the text goes to logs and alert environments. */
static void clean_copy(char *dst, const char *src, size_t n)
{
	for (size_t i = 0; i < n; i++)
		dst[i] = (unsigned char)src[i] < 0x20 || (unsigned char)src[i] >= 0x7f ? '?' : src[i];
	dst[n] = '\0';
}

/* A number in a bulk string element (the baseline's fields): 0, or -1
 * when the element is not a number in [0, 1e24] ('' is def). */
static int num_elem(const struct resp_reply *rp, const struct resp_node *a, int i, double def,
		    double *v)
{
	const struct resp_node *e = resp_elem(rp, a, i);
	char buf[64], *end;

	if (!e || e->type != RESP_BULK || e->len >= sizeof(buf))
		return -1;
	if (e->len == 0) {
		*v = def;
		return 0;
	}
	memcpy(buf, e->s, e->len);
	buf[e->len] = '\0';
	*v = strtod(buf, &end);
	return *end || !(*v >= -1 && *v <= 1e24) ? -1 : 0;
}

/* The STATUS script's answer for nlim limits into st. */
static int status_result(const struct resp_reply *rp, size_t nlim, struct pcs_status *st)
{
	const struct resp_node *a = &rp->n[0], *e;
	double f[16];
	long long v;

	memset(st, 0, sizeof(*st));
	if (a->type != RESP_ARRAY || a->i != (long long)nlim + 18)
		return -1;
	for (size_t i = 0; i < nlim; i++) {
		if (int_elem(rp, a, (int)i, 0, UINT32_MAX, &v))
			return -1;
		st->est[i] = (uint32_t)v;
	}
	st->nest = nlim;
	e = resp_elem(rp, a, (int)nlim);
	if (!e || e->type != RESP_BULK || e->len >= sizeof(st->blocked))
		return -1;
	clean_copy(st->blocked, e->s, e->len);
	/* fields 10..15 (the domains) are missing in a hash of an older
	 * version: 0 until its next request */
	for (int j = 0; j < 16; j++)
		if (num_elem(rp, a, (int)nlim + 1 + j, j < 10 ? -2 : 0, &f[j]))
			return -1;
	st->has_baseline = f[0] != -2;
	e = resp_elem(rp, a, (int)nlim + 17);
	if (!e || e->type != RESP_BULK || e->len >= sizeof(st->top))
		return -1;
	clean_copy(st->top, e->s, e->len);
	if (!st->has_baseline)
		return 0;
	for (int j = 0; j < 16; j++)
		if (f[j] < 0 && j != 8 && j != 9)
			return -1;
	st->bl.hour_start = (uint32_t)f[0];
	st->bl.hour_n = (uint32_t)f[1];
	st->bl.h_mean = f[2];
	st->bl.h_var = f[3];
	st->bl.day_start = (uint32_t)f[4];
	st->bl.day_n = (uint32_t)f[5];
	st->bl.d_mean = f[6];
	st->bl.d_var = f[7];
	st->bl.x_mean = f[10] >= 0 ? f[10] : 0;
	st->bl.x_var = f[11];
	st->bl.y_mean = f[12];
	st->bl.y_var = f[13];
	st->bl.hour_dom = f[14] > UINT32_MAX ? UINT32_MAX : (uint32_t)f[14];
	st->bl.day_dom = f[15] > UINT32_MAX ? UINT32_MAX : (uint32_t)f[15];
	st->bl.top = st->top;
	return 0;
}

static int check_result(const struct resp_reply *rp, struct pcs_result *res)
{
	const struct resp_node *a = &rp->n[0];
	long long v[9];

	const struct resp_node *top;

	if (a->type != RESP_ARRAY || a->i != 10)
		return -1;
	if (int_elem(rp, a, 0, 0, 4, &v[0]) || int_elem(rp, a, 1, 0, RL_MAX_LIMITS - 1, &v[1]) ||
	    int_elem(rp, a, 2, 0, UINT32_MAX, &v[2]) || int_elem(rp, a, 3, 0, 1, &v[3]) ||
	    int_elem(rp, a, 4, 0, 1, &v[4]) || int_elem(rp, a, 5, 0, UINT32_MAX, &v[5]) ||
	    int_elem(rp, a, 6, 0, UINT32_MAX, &v[6]) || int_elem(rp, a, 7, 0, 1ll << 50, &v[7]) ||
	    int_elem(rp, a, 8, 0, 1ll << 50, &v[8]))
		return -1;
	top = resp_elem(rp, a, 9);
	if (!top || top->type != RESP_BULK || top->len >= sizeof(res->top))
		return -1;
	clean_copy(res->top, top->s, top->len);
	res->threshold = (uint32_t)v[6];
	res->mean = (double)v[7] / 1000;
	res->sd = (double)v[8] / 1000;
	res->code = (enum pcs_code)v[0];
	res->idx = (int)v[1];
	res->count = (uint32_t)v[2];
	res->first = v[3] == 1;
	res->kind = (uint32_t)v[4];
	res->period = (uint32_t)v[5];
	return 0;
}

/* One reply for the request at the head. Returns 0, or -1 after fail(). */
static int on_reply(struct pcs *s, const struct resp_reply *rp)
{
	struct pcs_req *r = req_pop(s);
	const struct resp_node *n = &rp->n[0];
	enum req_kind kind;
	int script;
	char detail[128];
	pcs_cb *cb;
	pcs_status_cb *scb;
	size_t nlim;
	void *arg;

	if (!r) {
		fail(s, "a reply nobody asked for", NULL);
		return -1;
	}
	/* the node goes back first: a callback may queue another */
	kind = r->kind;
	script = r->script;
	cb = r->cb;
	scb = r->scb;
	nlim = r->nlim;
	arg = r->arg;
	req_release(s, r);
	if (n->type == RESP_ERROR) {
		snprintf(detail, sizeof(detail), "%.*s", (int)(n->len > 100 ? 100 : n->len), n->s);
		for (char *c = detail; *c; c++)
			if ((unsigned char)*c < 0x20 || *c == 0x7f)
				*c = '?';
		if (cb && kind == RQ_CHECK) {
			struct pcs_result res = { .code = PCS_ERROR };

			s->nfail++;
			cb(arg, &res);
		}
		if (scb && kind == RQ_STATUS)
			scb(arg, NULL);
		fail(s, "error reply: ", detail);
		return -1;
	}
	switch (kind) {
	case RQ_CHECK: {
		struct pcs_result res = { 0 };

		if (check_result(rp, &res)) {
			if (cb) {
				res.code = PCS_ERROR;
				s->nfail++;
				cb(arg, &res);
			}
			fail(s, "a reply that is not the script's", NULL);
			return -1;
		}
		s->nok++;
		if (cb)
			cb(arg, &res);
		break;
	}
	case RQ_STATUS: {
		struct pcs_status st;

		if (status_result(rp, nlim, &st)) {
			if (scb)
				scb(arg, NULL);
			fail(s, "a status reply that is not the script's", NULL);
			return -1;
		}
		if (scb)
			scb(arg, &st);
		break;
	}
	case RQ_LOAD:
		if (n->type != RESP_BULK || n->len != 40) {
			fail(s, "SCRIPT LOAD: not a SHA1", NULL);
			return -1;
		}
		memcpy(s->sha[script], n->s, 40);
		s->sha[script][40] = '\0';
		break;
	case RQ_HANDSHAKE:
	case RQ_FIRE:
		break;
	}
	if (s->st == ST_HANDSHAKE && (kind == RQ_LOAD || kind == RQ_HANDSHAKE) &&
	    --s->hs_left == 0) {
		s->st = ST_UP;
		s->logged_down = false;
		log_info("outbound_store %s: connected; counts are shared", s->url_shown);
		set_up(s, true);
	}
	return 0;
}

static void read_in(struct pcs *s)
{
	for (;;) {
		ssize_t n;

		if (s->incap - s->inlen < 4096) {
			if (s->incap >= PCS_IN_MAX) {
				fail(s, "a reply past the size limit", NULL);
				return;
			}
			s->incap = s->incap ? s->incap * 2 : 16384;
			s->in = xrealloc(s->in, s->incap);
		}
		n = io_read(s, s->in + s->inlen, s->incap - s->inlen);
		if (n == 0)
			break;
		if (n < 0) {
			fail(s, "connection closed", NULL);
			return;
		}
		s->inlen += (size_t)n;
	}
	for (size_t off = 0;;) {
		struct resp_reply rp;
		size_t used = 0;
		int rc = resp_parse(s->in + off, s->inlen - off, &rp, &used);

		if (rc == RESP_MORE) {
			memmove(s->in, s->in + off, s->inlen - off);
			s->inlen -= off;
			break;
		}
		if (rc < 0) {
			fail(s, rc == RESP_ELIMIT ? "a reply past the protocol limits"
						  : "a reply that is not RESP", NULL);
			return;
		}
		if (on_reply(s, &rp))
			return;
		off += used;
	}
	if (s->head)
		ev_timer_start(s->ev, &s->timer, s->head->deadline > ev_now(s->ev) ?
			       s->head->deadline - ev_now(s->ev) : 0);
	else
		ev_timer_stop(s->ev, &s->timer);
}

/* The TCP connection is made: AUTH, SELECT, SCRIPT LOAD, then up. */
static void handshake(struct pcs *s)
{
	s->st = ST_HANDSHAKE;
	s->nconn++;
	s->hs_left = 0;
	if (s->pass) {
		const char *av[3] = { "AUTH", s->user ? s->user : s->pass, s->pass };

		send_cmd(s, s->user ? 3 : 2, av, NULL);
		req_new(s, RQ_HANDSHAKE);
		s->hs_left++;
	}
	if (s->db) {
		char db[16];
		const char *av[2] = { "SELECT", db };

		snprintf(db, sizeof(db), "%d", s->db);
		send_cmd(s, 2, av, NULL);
		req_new(s, RQ_HANDSHAKE);
		s->hs_left++;
	}
	for (int i = 0; i < PCS_SC_N; i++) {
		const char *av[3] = { "SCRIPT", "LOAD", pcs_scripts[i] };

		send_cmd(s, 3, av, NULL);
		req_new(s, RQ_LOAD)->script = i;
		s->hs_left++;
	}
}

/* Drive the TLS handshake; the Redis handshake follows it. */
static void tls_step(struct pcs *s)
{
	int r = SSL_connect(s->ssl);
	char why[256];

	if (r == 1) {
		ev_timer_stop(s->ev, &s->timer);
		handshake(s);
		flush_out(s);
		return;
	}
	switch (SSL_get_error(s->ssl, r)) {
	case SSL_ERROR_WANT_READ:
		ev_fd_mod(s->ev, s->fd, EV_READ);
		return;
	case SSL_ERROR_WANT_WRITE:
		ev_fd_mod(s->ev, s->fd, EV_READ | EV_WRITE);
		return;
	default: {
		long v = SSL_get_verify_result(s->ssl);
		unsigned long e = ERR_get_error();

		if (v != X509_V_OK)
			snprintf(why, sizeof(why), "certificate: %s", X509_verify_cert_error_string(v));
		else
			ERR_error_string_n(e, why, sizeof(why));
		ERR_clear_error();
		fail(s, "TLS handshake failed: ", why);
	}
	}
}

static void tls_start(struct pcs *s)
{
	X509_VERIFY_PARAM *vp;
	unsigned char ip[16];

	s->st = ST_TLS;
	if (!(s->ssl = SSL_new(s->tls)) || !SSL_set_fd(s->ssl, s->fd)) {
		fail(s, "TLS: out of memory", NULL);
		return;
	}
	vp = SSL_get0_param(s->ssl);
	if (inet_pton(AF_INET, s->host, ip) == 1 || inet_pton(AF_INET6, s->host, ip) == 1) {
		X509_VERIFY_PARAM_set1_ip_asc(vp, s->host);
	} else {
		SSL_set_tlsext_host_name(s->ssl, s->host);
		X509_VERIFY_PARAM_set1_host(vp, s->host, 0);
	}
	SSL_set_verify(s->ssl, SSL_VERIFY_PEER, NULL);
	tls_step(s);
}

static void on_fd(ev_loop *ev, int fd, unsigned events, void *arg)
{
	struct pcs *s = arg;

	(void)ev;
	if (s->st == ST_CONNECTING) {
		int e = 0;
		socklen_t el = sizeof(e);

		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &el) || e) {
			fail(s, "connect: ", strerror(e ? e : errno));
			return;
		}
		if (s->tls) {
			tls_start(s);
			return;
		}
		ev_timer_stop(s->ev, &s->timer);
		handshake(s);
		flush_out(s);
		return;
	}
	if (s->st == ST_TLS) {
		tls_step(s);
		return;
	}
	if (events & EV_WRITE)
		flush_out(s);
	if (s->st != ST_DOWN && (events & (EV_READ | EV_ERROR)))
		read_in(s);
}

static void try_connect(struct pcs *s)
{
	int one = 1;

	s->fd = socket(s->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->fd < 0) {
		log_warn("outbound_store %s: socket: %s", s->url_shown, strerror(errno));
		return;
	}
	setsockopt(s->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (ev_fd_add(s->ev, s->fd, EV_WRITE, on_fd, s)) {
		close(s->fd);
		s->fd = -1;
		return;
	}
	s->st = ST_CONNECTING;
	if (connect(s->fd, (struct sockaddr *)&s->addr, s->addrlen) && errno != EINPROGRESS) {
		fail(s, "connect: ", strerror(errno));
		return;
	}
	ev_timer_start(s->ev, &s->timer, s->timeout_ms);
}

/* -- the interface ------------------------------------------------------ */

/* The TLS context of rediss://: TLS 1.2 or later, the server's
 * certificate checked against ca (a PEM file) or the system's CAs. */
static SSL_CTX *tls_ctx(const char *ca, char *err, size_t errlen)
{
	SSL_CTX *c;

	if (openssl_load(err, errlen) < 0)
		return NULL;
	if (!(c = SSL_CTX_new(TLS_client_method()))) {
		snprintf(err, errlen, "TLS: cannot make a context");
		return NULL;
	}
	SSL_CTX_set_min_proto_version(c, TLS1_2_VERSION);
	SSL_CTX_set_mode(c, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	if (ca ? SSL_CTX_load_verify_locations(c, ca, NULL) != 1
	       : SSL_CTX_set_default_verify_paths(c) != 1) {
		snprintf(err, errlen, "TLS: cannot load the CA certificates%s%s", ca ? " of " : "",
			 ca ? ca : "");
		ERR_clear_error();
		SSL_CTX_free(c);
		return NULL;
	}
	return c;
}

struct pcs *pcs_new(const char *url, const char *ca, ev_loop *ev, unsigned timeout_ms,
		    pcs_state_cb *state, void *arg, char *err, size_t errlen)
{
	SSL_CTX *tls = NULL;
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV };
	struct addrinfo *ai = NULL;
	struct pcs *s;
	struct url u;
	int rc;

	if (url_parse(url, &u, err, errlen))
		return NULL;
	if ((rc = getaddrinfo(u.host, u.port, &hints, &ai)) || !ai) {
		snprintf(err, errlen, "%s: %s", u.host, gai_strerror(rc));
		url_free(&u);
		return NULL;
	}
	if (u.tls && !(tls = tls_ctx(ca, err, errlen))) {
		freeaddrinfo(ai);
		url_free(&u);
		return NULL;
	}
	s = xcalloc(1, sizeof(*s));
	s->tls = tls;
	snprintf(s->host, sizeof(s->host), "%s", u.host);
	memcpy(&s->addr, ai->ai_addr, ai->ai_addrlen);
	s->addrlen = ai->ai_addrlen;
	freeaddrinfo(ai);
	s->user = u.user;
	s->pass = u.pass;
	s->db = u.db;
	{
		char shown[400];

		snprintf(shown, sizeof(shown), "%s://%s%s%s%s:%s/%d", u.tls ? "rediss" : "redis",
			 u.pass ? "***@" : "",
			 strchr(u.host, ':') ? "[" : "", u.host, strchr(u.host, ':') ? "]" : "",
			 u.port, u.db);
		s->url_shown = xstrdup(shown);
	}
	s->ev = ev;
	s->timeout_ms = timeout_ms;
	s->state = state;
	s->sarg = arg;
	s->fd = -1;
	ev_timer_init(&s->timer, on_timer, s);
	return s;
}

void pcs_free(struct pcs *s)
{
	struct pcs_req *r;

	if (!s)
		return;
	if (s->fd >= 0)
		close_conn(s);
	if (s->tls)		/* without TLS libssl was never opened */
		SSL_CTX_free(s->tls);
	ev_timer_stop(s->ev, &s->timer);
	while ((r = req_pop(s)))
		free(r);
	while ((r = s->freel)) {
		s->freel = r->next;
		free(r);
	}
	free(s->out);
	free(s->in);
	free(s->url_shown);
	free(s->user);
	free(s->pass);
	free(s);
}

void pcs_tick(struct pcs *s, uint64_t now)
{
	if (s->st != ST_DOWN || now - s->last_try < 1000)
		return;
	s->last_try = now;
	try_connect(s);
}

bool pcs_up(const struct pcs *s)
{
	return s && s->st == ST_UP;
}

/* EVALSHA script with argv (the script's ARGV). */
static void eval(struct pcs *s, int script, int argc, const char **argv, const size_t *lens)
{
	const char *av[RESP_MAX_ARGS + 3];
	size_t lv[RESP_MAX_ARGS + 3];

	av[0] = "EVALSHA";
	av[1] = s->sha[script];
	av[2] = "0";
	for (int i = 0; i < 3; i++)
		lv[i] = strlen(av[i]);
	for (int i = 0; i < argc; i++) {
		av[i + 3] = argv[i];
		lv[i + 3] = lens ? lens[i] : strlen(argv[i]);
	}
	/* written when the loop finds the socket writable: the requests of
	 * one round of events go out in one send() */
	send_cmd(s, argc + 3, av, lv);
}

struct pcs_req *pcs_check(struct pcs *s, const struct pcs_args *a, pcs_cb *cb, void *arg)
{
	char num[RESP_MAX_ARGS][16];
	const char *av[RESP_MAX_ARGS];
	size_t lv[RESP_MAX_ARGS];
	int n = 0, k = 0;
	struct pcs_req *r;

	if (!pcs_up(s))
		return NULL;
#define NUM(v) do { snprintf(num[k], sizeof(num[k]), "%lu", (unsigned long)(v)); \
		av[n] = num[k++]; lv[n] = strlen(av[n]); n++; } while (0)
	av[n] = a->key;
	lv[n++] = strnlen(a->key, RL_MAX_KEY);
	NUM(a->now);
	NUM(a->rcpts);
	NUM(a->add);
	NUM(a->until_reset);
	NUM(a->lim->n);
	for (size_t i = 0; i < a->lim->n; i++) {
		NUM(a->lim->lim[i].kind);
		NUM(a->lim->lim[i].max);
		NUM(a->lim->lim[i].period);
	}
	NUM(a->nperiods);
	for (size_t i = 0; i < a->nperiods; i++)
		NUM(a->periods[i]);
	NUM(a->baseline);
	NUM(a->bl_factor);
	NUM(a->bl_min);
	NUM(a->bl_new);
	NUM(a->bl_dom_factor);
	NUM(a->bl_dom_min);
	NUM(a->bl_dom_new);
	av[n] = a->domain ? a->domain : "";
	lv[n++] = a->domain ? strnlen(a->domain, PCS_MAX_DOMAIN) : 0;
#undef NUM
	r = req_new(s, RQ_CHECK);
	r->cb = cb;
	r->arg = arg;
	eval(s, PCS_SC_CHECK, n, av, lv);
	return r;
}

void pcs_cancel(struct pcs_req *r)
{
	if (r) {
		r->cb = NULL;
		r->scb = NULL;
	}
}

struct pcs_req *pcs_status(struct pcs *s, const char *key, const struct rl_limits *lim,
			   pcs_status_cb *cb, void *arg)
{
	char num[2 + 2 * RL_MAX_LIMITS][16];
	const char *av[3 + 2 * RL_MAX_LIMITS];
	size_t lv[3 + 2 * RL_MAX_LIMITS];
	int n = 0, k = 0;
	struct pcs_req *r;

	if (!pcs_up(s))
		return NULL;
#define NUM(v) do { snprintf(num[k], sizeof(num[k]), "%lu", (unsigned long)(v)); \
		av[n] = num[k++]; lv[n] = strlen(av[n]); n++; } while (0)
	av[n] = key;
	lv[n++] = strnlen(key, RL_MAX_KEY);
	NUM(time(NULL));
	NUM(lim->n);
	for (size_t i = 0; i < lim->n && i < RL_MAX_LIMITS; i++) {
		NUM(lim->lim[i].kind);
		NUM(lim->lim[i].period);
	}
#undef NUM
	r = req_new(s, RQ_STATUS);
	r->scb = cb;
	r->arg = arg;
	r->nlim = lim->n;
	eval(s, PCS_SC_STATUS, n, av, lv);
	return r;
}

int pcs_merge(struct pcs *s, const struct rl_user *u, uint32_t now)
{
	char num[RESP_MAX_ARGS][16];
	const char *av[RESP_MAX_ARGS];
	size_t lv[RESP_MAX_ARGS];
	int n = 0, k = 0, cnt = 0;

	if (!pcs_up(s))
		return -1;
#define NUM(v) do { snprintf(num[k], sizeof(num[k]), "%lu", (unsigned long)(v)); \
		av[n] = num[k++]; lv[n] = strlen(av[n]); n++; } while (0)
	av[n] = u->kn.key;
	lv[n++] = strlen(u->kn.key);
	NUM(now);
	n++;		/* the count, below */
	k++;
	for (int i = 0; i < RL_MAX_PERIODS; i++) {
		const struct rl_counter *c = &u->c[i];

		if (!c->period)
			continue;
		NUM(c->period);
		NUM(c->start);
		NUM(c->cur[RL_MESSAGES]);
		NUM(c->cur[RL_RECIPIENTS]);
		cnt++;
		if (c->start >= c->period && (c->prev[0] || c->prev[1])) {
			NUM(c->period);
			NUM(c->start - c->period);
			NUM(c->prev[RL_MESSAGES]);
			NUM(c->prev[RL_RECIPIENTS]);
			cnt++;
		}
	}
#undef NUM
	snprintf(num[1], sizeof(num[1]), "%d", cnt);
	av[2] = num[1];
	lv[2] = strlen(num[1]);
	req_new(s, RQ_FIRE);
	eval(s, PCS_SC_MERGE, n, av, lv);
	return 0;
}

int pcs_reset(struct pcs *s, const char *key, const uint32_t *periods, size_t np, uint32_t now)
{
	char num[RESP_MAX_ARGS][16];
	const char *av[RESP_MAX_ARGS];
	size_t lv[RESP_MAX_ARGS];
	int n = 0;

	if (!pcs_up(s))
		return -1;
	av[n] = key;
	lv[n++] = strnlen(key, RL_MAX_KEY);
	snprintf(num[0], sizeof(num[0]), "%lu", (unsigned long)now);
	snprintf(num[1], sizeof(num[1]), "%zu", np);
	av[n] = num[0];
	lv[n] = strlen(num[0]);
	n++;
	av[n] = num[1];
	lv[n] = strlen(num[1]);
	n++;
	for (size_t i = 0; i < np && i < RL_MAX_PERIODS; i++) {
		snprintf(num[2 + i], sizeof(num[2 + i]), "%lu", (unsigned long)periods[i]);
		av[n] = num[2 + i];
		lv[n] = strlen(av[n]);
		n++;
	}
	req_new(s, RQ_FIRE);
	eval(s, PCS_SC_RESET, n, av, lv);
	return 0;
}

void pcs_stats(const struct pcs *s, uint64_t *ok, uint64_t *failed, uint64_t *connects)
{
	*ok = s->nok;
	*failed = s->nfail;
	*connects = s->nconn;
}
