/*
 * lmtp.c - LMTP server (RFC 2033); see lmtp.h.
 *
 * A connection reads into a buffer; in command mode each complete line
 * is one command (pipelined commands are answered in order, the replies
 * sent together when the input runs dry); in data mode lines are
 * dot-unstuffed into the message until the lone ".".  A message that
 * ended waits (its connection is not read) until lmtp_flush() at the end
 * of the loop's round hands every message of the round to the handler at
 * once; then the replies go out and the commands pipelined behind the
 * data are read.  While the output a client does not read exceeds
 * OUT_HIGH, its input is not read either.
 *
 * SECURITY: network input; a command line is bounded (LMTP_MAX_LINE)
 * before it is looked at, a path by LMTP_MAX_ADDR, recipients by
 * max_rcpt, the kept message by max_size; a line of data of any length
 * is taken in pieces and never held whole.
 */
#define _GNU_SOURCE
#include "list/lmtp.h"
#include "base/util.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#define IN_CAP (64u << 10)
#define OUT_HIGH (64u << 10)

enum mode { M_CMD, M_DATA, M_WAIT };

struct conn {
	struct lmtp_server *s;
	int fd;
	enum mode mode;
	bool lhlo, mail, dead, quit, want_out, skip_line, mid_line;
	char in[IN_CAP];
	size_t inpos, inlen;
	char *out;
	size_t outlen, outoff, outcap;
	struct lmtp_msg m;
	size_t datacap, rcptcap;
	struct ev_timer idle;
	struct conn *prev, *next, *bnext, *dnext;
};

struct lmtp_server {
	ev_loop *ev;
	struct lmtp_conf conf;
	char host[256];
	struct lmtp_handler h;
	struct conn *conns, *batch, *deadl;
	struct lmtp_msg **msgs;         /* the round's batch, for the handler */
	size_t nbatch;
	unsigned nconns;
	struct lmtp_stats st;
};

static void process(struct conn *c);

/* ---- output ---- */

static void set_events(struct conn *c)
{
	bool rd = c->mode != M_WAIT && !c->quit && c->outlen - c->outoff < OUT_HIGH;

	ev_fd_mod(c->s->ev, c->fd, (rd ? EV_READ : 0) | (c->want_out ? EV_WRITE : 0));
}

static void conn_kill(struct conn *c)
{
	struct lmtp_server *s = c->s;

	if (c->dead)
		return;
	ev_timer_stop(s->ev, &c->idle);
	ev_fd_del(s->ev, c->fd);
	close(c->fd);
	c->dead = true;
	if (c->prev)
		c->prev->next = c->next;
	else
		s->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	s->nconns--;
	c->dnext = s->deadl;
	s->deadl = c;
}

/* Queue one reply line (CRLF added).  Out of memory: the client is
 * closed (it retries), never answered wrongly. */
static void say(struct conn *c, const char *fmt, ...)
{
	char line[LMTP_REPLY_MAX + 512];
	va_list ap;
	int n;

	if (c->dead)
		return;
	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 2, fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	if ((size_t)n > sizeof(line) - 3)
		n = (int)sizeof(line) - 3;
	line[n++] = '\r';
	line[n++] = '\n';
	if (c->outlen + (size_t)n > c->outcap) {
		size_t cap = c->outcap ? c->outcap * 2 : 4096;
		char *p;

		while (cap < c->outlen + (size_t)n)
			cap *= 2;
		if (!(p = realloc(c->out, cap))) {
			conn_kill(c);
			return;
		}
		c->out = p;
		c->outcap = cap;
	}
	memcpy(c->out + c->outlen, line, (size_t)n);
	c->outlen += (size_t)n;
}

/* Send what is queued.  Returns 0, or -1 when c was closed. */
static int flush_out(struct conn *c)
{
	while (!c->dead && c->outoff < c->outlen) {
		ssize_t w = send(c->fd, c->out + c->outoff, c->outlen - c->outoff, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (!c->want_out) {
				c->want_out = true;
				set_events(c);
			}
			return 0;
		}
		if (w <= 0) {
			conn_kill(c);
			return -1;
		}
		c->outoff += (size_t)w;
	}
	if (c->dead)
		return -1;
	c->outlen = c->outoff = 0;
	if (c->quit) {
		conn_kill(c);
		return -1;
	}
	if (c->want_out) {
		c->want_out = false;
		set_events(c);
		process(c);	/* input held back while the output was full */
	}
	return 0;
}

/* ---- the message ---- */

static void msg_reset(struct conn *c)
{
	c->mail = false;
	c->m.sender[0] = '\0';
	c->m.nrcpt = 0;
	c->m.len = 0;
	c->m.size = 0;
	c->m.truncated = 0;
	c->mid_line = false;
	/* a big buffer is not kept for an idle connection */
	if (c->datacap > (256u << 10)) {
		free(c->m.data);
		c->m.data = NULL;
		c->datacap = 0;
	}
}

/* Take n bytes of the message; past max_size they are only counted. */
static int msg_append(struct conn *c, const char *p, size_t n)
{
	size_t max = c->s->conf.max_size, k;

	c->m.size += n;
	if (c->m.len >= max)
		return 0;
	k = n < max - c->m.len ? n : max - c->m.len;
	if (c->m.len + k > c->datacap) {
		size_t cap = c->datacap ? c->datacap : 16384;
		char *d;

		while (cap < c->m.len + k)
			cap = cap > max / 2 ? max : cap * 2;
		if (!(d = realloc(c->m.data, cap)))
			return -1;
		c->m.data = d;
		c->datacap = cap;
	}
	memcpy(c->m.data + c->m.len, p, k);
	c->m.len += k;
	return 0;
}

static void data_end(struct conn *c)
{
	struct lmtp_server *s = c->s;
	char (*r)[LMTP_REPLY_MAX] = reallocarray(c->m.reply, c->m.nrcpt, sizeof(*r));

	if (!r) {
		/* no reply for anyone: close; the client retries the lot */
		conn_kill(c);
		return;
	}
	c->m.reply = r;
	for (unsigned i = 0; i < c->m.nrcpt; i++)
		snprintf(r[i], LMTP_REPLY_MAX, "451 4.3.0 not delivered");
	c->m.truncated = c->m.size > c->m.len;
	s->st.messages++;
	s->st.truncated += c->m.truncated;
	c->mode = M_WAIT;
	c->bnext = s->batch;
	s->batch = c;
	s->nbatch++;
	set_events(c);
}

/* Data mode: unstuff the complete lines (and the start of a long one). */
static void data_lines(struct conn *c)
{
	while (!c->dead && c->mode == M_DATA && c->inpos < c->inlen) {
		const char *p = c->in + c->inpos;
		size_t avail = c->inlen - c->inpos, n;
		const char *nl = memchr(p, '\n', avail);

		n = nl ? (size_t)(nl - p) + 1 : avail;
		if (!nl && !c->mid_line && n < 3)
			return;		/* may still be ".\r\n": wait */
		if (!c->mid_line && nl && (n == 2 || (n == 3 && p[1] == '\r')) && p[0] == '.') {
			c->inpos += n;
			data_end(c);
			return;
		}
		if (msg_append(c, p + (!c->mid_line && p[0] == '.'),
			       n - (!c->mid_line && p[0] == '.'))) {
			log_warn("lmtp: out of memory for a message of %llu bytes; "
				 "connection closed", (unsigned long long)c->m.size);
			conn_kill(c);
			return;
		}
		c->mid_line = !nl;
		c->inpos += n;
	}
}

/* ---- commands ---- */

/* The path after "FROM:" / "TO:" into out: "<a@b> params" or "a@b".
 * Returns 0, or -1 (syntax, too long, control bytes). */
static int parse_path(const char *s, char *out, size_t outlen)
{
	const char *e;
	size_t n;

	while (*s == ' ')
		s++;
	if (*s == '<') {
		if (!(e = strchr(++s, '>')))
			return -1;
	} else {
		e = s + strcspn(s, " ");
	}
	n = (size_t)(e - s);
	if (n >= outlen)
		return -1;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x21 || s[i] == 0x7f)
			return -1;
	memcpy(out, s, n);
	out[n] = '\0';
	return 0;
}

/* "FROM:" / "TO:" after the verb, then the path; -1 when absent */
static const char *after_kw(const char *arg, const char *kw)
{
	size_t n = strlen(kw);

	if (strncasecmp(arg, kw, n))
		return NULL;
	return arg + n;
}

static void cmd_mail(struct conn *c, const char *arg)
{
	const char *p = after_kw(arg, "FROM:");

	if (!c->lhlo)
		say(c, "503 5.5.1 LHLO first");
	else if (c->mail)
		say(c, "503 5.5.1 MAIL already given");
	else if (!p || parse_path(p, c->m.sender, sizeof(c->m.sender)))
		say(c, "501 5.5.4 syntax: MAIL FROM:<address>");
	else {
		c->mail = true;
		say(c, "250 2.1.0 Ok");
	}
}

static void cmd_rcpt(struct conn *c, const char *arg)
{
	struct lmtp_server *s = c->s;
	char addr[LMTP_MAX_ADDR + 1], reply[LMTP_REPLY_MAX];
	const char *p = after_kw(arg, "TO:");

	if (!c->mail) {
		say(c, "503 5.5.1 MAIL first");
		return;
	}
	if (!p || parse_path(p, addr, sizeof(addr)) || !addr[0]) {
		say(c, "501 5.5.4 syntax: RCPT TO:<address>");
		return;
	}
	if (c->m.nrcpt >= s->conf.max_rcpt) {
		say(c, "452 4.5.3 too many recipients (%u)", s->conf.max_rcpt);
		return;
	}
	reply[0] = '\0';
	if (s->h.rcpt && s->h.rcpt(s->h.arg, addr, reply, sizeof(reply))) {
		say(c, "%s", reply[0] ? reply : "550 5.1.1 not accepted");
		return;
	}
	if (c->m.nrcpt >= c->rcptcap) {
		size_t cap = c->rcptcap ? c->rcptcap * 2 : 8;
		void *r = reallocarray(c->m.rcpt, cap, sizeof(*c->m.rcpt));

		if (!r) {
			say(c, "452 4.3.1 out of memory");
			return;
		}
		c->m.rcpt = r;
		c->rcptcap = cap;
	}
	memcpy(c->m.rcpt[c->m.nrcpt++], addr, sizeof(addr));
	say(c, "250 2.1.5 Ok");
}

static void command(struct conn *c, char *line)
{
	size_t vl = strcspn(line, " ");
	const char *arg = line[vl] ? line + vl + 1 : "";

	line[vl] = '\0';
	if (!strcasecmp(line, "LHLO")) {
		msg_reset(c);
		c->lhlo = true;
		say(c, "250-%s", c->s->host);
		say(c, "250-PIPELINING");
		say(c, "250-ENHANCEDSTATUSCODES");
		say(c, "250 8BITMIME");
	} else if (!strcasecmp(line, "MAIL")) {
		cmd_mail(c, arg);
	} else if (!strcasecmp(line, "RCPT")) {
		cmd_rcpt(c, arg);
	} else if (!strcasecmp(line, "DATA")) {
		if (!c->mail || !c->m.nrcpt) {
			say(c, "503 5.5.1 no valid recipients");
			return;
		}
		c->mode = M_DATA;
		say(c, "354 End data with <CR><LF>.<CR><LF>");
	} else if (!strcasecmp(line, "RSET")) {
		msg_reset(c);
		say(c, "250 2.0.0 Ok");
	} else if (!strcasecmp(line, "NOOP")) {
		say(c, "250 2.0.0 Ok");
	} else if (!strcasecmp(line, "VRFY")) {
		say(c, "252 2.5.2 cannot verify");
	} else if (!strcasecmp(line, "QUIT")) {
		say(c, "221 2.0.0 Bye");
		c->quit = true;
	} else if (!strcasecmp(line, "HELO") || !strcasecmp(line, "EHLO")) {
		say(c, "500 5.5.1 this is LMTP: LHLO");
	} else {
		say(c, "500 5.5.2 command not recognized");
	}
}

/* Command mode: each complete line, up to LMTP_MAX_LINE bytes. */
static void command_lines(struct conn *c)
{
	while (!c->dead && c->mode == M_CMD && !c->quit && c->inpos < c->inlen) {
		char *p = c->in + c->inpos;
		size_t avail = c->inlen - c->inpos, n;
		char *nl = memchr(p, '\n', avail);

		if (!nl) {
			if (c->skip_line) {
				c->inpos = c->inlen;
			} else if (avail >= LMTP_MAX_LINE) {
				c->s->st.long_lines++;
				say(c, "500 5.5.2 line too long");
				c->skip_line = true;
				c->inpos = c->inlen;
			}
			return;
		}
		n = (size_t)(nl - p) + 1;
		c->inpos += n;
		if (c->skip_line) {
			c->skip_line = false;
			continue;
		}
		if (n > LMTP_MAX_LINE) {
			c->s->st.long_lines++;
			say(c, "500 5.5.2 line too long");
			continue;
		}
		*nl = '\0';
		if (nl > p && nl[-1] == '\r')
			nl[-1] = '\0';
		command(c, p);
	}
}

static void process(struct conn *c)
{
	while (!c->dead && !c->quit && c->mode != M_WAIT && c->inpos < c->inlen &&
	       c->outlen - c->outoff < OUT_HIGH) {
		size_t before = c->inpos;
		enum mode m = c->mode;

		if (c->mode == M_DATA)
			data_lines(c);
		else
			command_lines(c);
		if (c->inpos == before && c->mode == m)
			break;	/* needs more input */
	}
	/* a message waiting for delivery: its envelope replies go out with
	 * the recipients' (one segment, no Nagle wait between them) */
	if (!c->dead && c->mode != M_WAIT)
		flush_out(c);
}

static void conn_read(struct conn *c)
{
	ssize_t n;

	if (c->inpos) {
		memmove(c->in, c->in + c->inpos, c->inlen - c->inpos);
		c->inlen -= c->inpos;
		c->inpos = 0;
	}
	if (c->inlen >= IN_CAP) {	/* cannot happen: both modes consume */
		conn_kill(c);
		return;
	}
	n = recv(c->fd, c->in + c->inlen, IN_CAP - c->inlen, 0);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		if (c->mode == M_DATA || c->mail) {
			c->s->st.dropped_mid++;
			log_warn("lmtp: client closed the connection in the middle of a "
				 "message (%llu bytes read, %u recipients); dropped",
				 (unsigned long long)c->m.size, c->m.nrcpt);
		}
		conn_kill(c);
		return;
	}
	c->inlen += (size_t)n;
	ev_timer_start(c->s->ev, &c->idle, (uint64_t)c->s->conf.idle_timeout * 1000);
	process(c);
}

static void on_conn(ev_loop *ev, int fd, unsigned events, void *arg)
{
	struct conn *c = arg;

	(void)ev;
	(void)fd;
	if (c->dead)
		return;
	if ((events & EV_WRITE) && flush_out(c))
		return;
	if (c->mode == M_WAIT)
		return;		/* read once the replies are out */
	if (events & (EV_READ | EV_ERROR))
		conn_read(c);
}

static void idle_expired(ev_loop *ev, struct ev_timer *t, void *arg)
{
	struct conn *c = arg;

	(void)ev;
	(void)t;
	if (c->dead)
		return;
	if (c->mode == M_WAIT) {	/* not idle: delivered at the round's end */
		ev_timer_start(ev, t, (uint64_t)c->s->conf.idle_timeout * 1000);
		return;
	}
	c->s->st.idle_closed++;
	if (c->mode == M_DATA || c->mail) {
		c->s->st.dropped_mid++;
		log_warn("lmtp: client silent for %u s in the middle of a message "
			 "(%llu bytes read); connection closed, message dropped",
			 c->s->conf.idle_timeout, (unsigned long long)c->m.size);
	}
	/* best effort, no waiting for a client that does not read */
	send(c->fd, "421 4.4.2 idle timeout\r\n", 24, MSG_NOSIGNAL | MSG_DONTWAIT);
	conn_kill(c);
}

/* ---- accepting ---- */

static void conn_accept(struct lmtp_server *s, int lfd)
{
	for (;;) {
		int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct conn *c;

		if (fd < 0) {
			if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
				log_warn("lmtp: accept: %s", strerror(errno));
			return;
		}
		if (s->nconns >= s->conf.max_clients) {
			static const char full[] = "421 4.3.2 too many connections, try later\r\n";

			s->st.refused_full++;
			send(fd, full, sizeof(full) - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
			close(fd);
			continue;
		}
		if (!(c = calloc(1, sizeof(*c)))) {
			close(fd);
			continue;
		}
		c->s = s;
		c->fd = fd;
		/* replies are whole lines, sent together: no Nagle delay (fails
		 * harmlessly on a unix socket) */
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &(int){ 1 }, sizeof(int));
		ev_timer_init(&c->idle, idle_expired, c);
		if (ev_fd_add(s->ev, fd, EV_READ, on_conn, c) ||
		    ev_timer_start(s->ev, &c->idle, (uint64_t)s->conf.idle_timeout * 1000)) {
			ev_fd_del(s->ev, fd);
			close(fd);
			free(c);
			continue;
		}
		c->next = s->conns;
		if (s->conns)
			s->conns->prev = c;
		s->conns = c;
		s->nconns++;
		s->st.connections++;
		say(c, "220 %s LMTP rblkit trap ready", s->host);
		flush_out(c);
	}
}

static void on_listen(ev_loop *ev, int fd, unsigned events, void *arg)
{
	(void)ev;
	(void)events;
	conn_accept(arg, fd);
}

/* ---- the server ---- */

struct lmtp_server *lmtp_new(ev_loop *ev, const struct lmtp_conf *conf,
			     const struct lmtp_handler *h, char *err, size_t errlen)
{
	struct lmtp_server *s = calloc(1, sizeof(*s));

	if (!s) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->ev = ev;
	s->conf = *conf;
	str_copy(s->host, sizeof(s->host), conf->hostname && *conf->hostname ?
		 conf->hostname : "localhost");
	s->conf.hostname = s->host;
	if (!s->conf.max_size)
		s->conf.max_size = 1;
	if (!s->conf.max_rcpt)
		s->conf.max_rcpt = 100;
	if (!s->conf.max_clients)
		s->conf.max_clients = 64;
	if (!s->conf.idle_timeout)
		s->conf.idle_timeout = 300;
	s->h = *h;
	return s;
}

int lmtp_listen(struct lmtp_server *s, int fd)
{
	return ev_fd_add(s->ev, fd, EV_READ, on_listen, s);
}

static void free_conn(struct conn *c)
{
	free(c->out);
	free(c->m.data);
	free(c->m.rcpt);
	free(c->m.reply);
	free(c);
}

void lmtp_flush(struct lmtp_server *s)
{
	/* a client may have pipelined its next message behind the replies:
	 * it ends (a new batch) while this one is answered */
	while (s->batch) {
		struct conn *b = s->batch;
		struct lmtp_msg **msgs = reallocarray(s->msgs, s->nbatch, sizeof(*msgs));
		size_t n = 0;

		s->batch = NULL;
		s->nbatch = 0;
		if (msgs)
			s->msgs = msgs;
		for (struct conn *c = b; msgs && c; c = c->bnext)
			if (!c->dead)
				msgs[n++] = &c->m;
		if (n)
			s->h.deliver(s->h.arg, (struct lmtp_msg *const *)msgs, n);
		for (struct conn *c = b, *next; c; c = next) {
			next = c->bnext;
			c->bnext = NULL;
			if (c->dead)
				continue;
			if (!msgs) {
				conn_kill(c);	/* no memory: no reply; it retries */
				continue;
			}
			for (unsigned j = 0; j < c->m.nrcpt; j++)
				say(c, "%s", c->m.reply[j]);
			msg_reset(c);
			c->mode = M_CMD;
			set_events(c);
			process(c);
		}
	}
	while (s->deadl) {
		struct conn *c = s->deadl;

		s->deadl = c->dnext;
		free_conn(c);
	}
}

unsigned lmtp_clients(const struct lmtp_server *s)
{
	return s->nconns;
}

const struct lmtp_stats *lmtp_stats(const struct lmtp_server *s)
{
	return &s->st;
}

void lmtp_free(struct lmtp_server *s)
{
	if (!s)
		return;
	s->batch = NULL;
	while (s->conns)
		conn_kill(s->conns);
	lmtp_flush(s);
	free(s->msgs);
	free(s);
}
