/*
 * pserver.c - event loop of rblkit policy.
 *
 * A connection reads into a buffer of one maximal request; pp_parse()
 * finds a complete request; the answer is written at once, or when the
 * blocklist lookup it waits for has decided, or when the time budget
 * (dnsbl_budget) is spent (DUNNO: fail open). While a connection waits
 * it is not read (Postfix sends one request at a time). A bad request
 * closes its own connection only.
 *
 * Work that a DNS answer makes possible (answers, closing) is not done
 * inside the resolver's callback chain beyond writing the reply: the
 * connection is put on a ready list that the loop handles after the
 * event, so no connection is freed while the resolver walks its lists.
 *
 * SECURITY: network input goes only through pp_parse() (limits first);
 * control commands only come over the 0600 unix socket in state_dir.
 */
#define _GNU_SOURCE
#include "policy/pserver.h"
#include "policy/plookup.h"
#include "policy/pconfig.h"
#include "policy/pcontrol.h"
#include "policy/pdecide.h"
#include "policy/pproto.h"
#include "policy/pstate.h"
#include "base/util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pwd.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define IN_CAP (PP_MAX_REQUEST + 1)

struct conn {
	int fd;
	bool control, dead, waiting, ready, want_out, in_off;
	char in[IN_CAP];
	size_t inlen, reqlen;
	char out[PD_ACTION_MAX + 32];
	size_t outlen, outoff;
	char *big;			/* control answers */
	size_t biglen, bigoff;
	bool close_after;
	struct pp_request req;
	struct plk_waiter w;
	uint64_t deadline, started, last_active;
	char instance[64];		/* message that got a PREPEND */
	struct conn *prev, *next;	/* all connections */
	struct conn *rnext;		/* ready list */
	struct conn *dnext;		/* dead list (a dead connection may
					   still be on the ready list) */
	struct conn *wprev, *wnext;	/* waiting list */
};

struct srv {
	struct pcfg *cfg;
	struct plk *dnsbl;
	struct rl_table *t;
	struct pst *pst;
	struct pd_ctx pd;
	int ep, lfd, cfd, sfd, dfd;
	char ctlpath[sizeof(((struct sockaddr_un *)0)->sun_path)];
	struct conn *conns, *ready, *deadl, *waiting;
	unsigned nconns;
	bool stop;
	uint64_t last_tick;
	time_t last_full_log;
	uint64_t nreq, nin_refused, nout_refused, nbudget, nbad;
};

static struct srv S;	/* one daemon per process; signal-free access */

/* epoll tags for the fds that are not connections */
static char tag_listen, tag_control, tag_signal, tag_dns;

static void process(struct conn *c);

/* -- connections ----------------------------------------------------- */

static void set_events(struct conn *c)
{
	struct epoll_event ev = { .data.ptr = c };

	ev.events = (c->waiting || c->close_after ? 0 : EPOLLIN) |
		    (c->want_out ? EPOLLOUT : 0);
	epoll_ctl(S.ep, EPOLL_CTL_MOD, c->fd, &ev);
}

static void wait_unlink(struct conn *c)
{
	if (!c->waiting)
		return;
	if (c->wprev)
		c->wprev->wnext = c->wnext;
	else
		S.waiting = c->wnext;
	if (c->wnext)
		c->wnext->wprev = c->wprev;
	c->wprev = c->wnext = NULL;
	c->waiting = false;
}

/* Close c now; free_dead() frees it at the end of the loop iteration. */
static void conn_kill(struct conn *c)
{
	if (c->dead)
		return;
	plk_detach(&c->w);
	wait_unlink(c);
	epoll_ctl(S.ep, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	c->dead = true;
	if (c->prev)
		c->prev->next = c->next;
	else
		S.conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	S.nconns--;
	c->dnext = S.deadl;
	S.deadl = c;
}

static void mark_ready(struct conn *c)
{
	if (c->ready || c->dead)
		return;
	c->ready = true;
	c->rnext = S.ready;
	S.ready = c;
}

/* Write what is queued. Returns 0, or -1 when c was closed. */
static int flush(struct conn *c)
{
	for (;;) {
		const char *p = c->big ? c->big + c->bigoff : c->out + c->outoff;
		size_t n = c->big ? c->biglen - c->bigoff : c->outlen - c->outoff;
		ssize_t w;

		if (n == 0)
			break;
		w = send(c->fd, p, n, MSG_NOSIGNAL);
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
		if (c->big)
			c->bigoff += (size_t)w;
		else
			c->outoff += (size_t)w;
	}
	c->outlen = c->outoff = 0;
	free(c->big);
	c->big = NULL;
	if (c->close_after) {
		conn_kill(c);
		return -1;
	}
	if (c->want_out) {
		c->want_out = false;
		set_events(c);
		mark_ready(c);	/* requests may wait in the buffer */
	}
	return 0;
}

/* Send "action=TEXT" for the current request and drop it from the input. */
static void reply(struct conn *c, const char *action)
{
	int n = pp_format_reply(c->out, sizeof(c->out), action);

	if (n < 0)
		n = pp_format_reply(c->out, sizeof(c->out), "DUNNO");
	c->outlen = (size_t)n;
	c->outoff = 0;
	memmove(c->in, c->in + c->reqlen, c->inlen - c->reqlen);
	c->inlen -= c->reqlen;
	c->reqlen = 0;
	if (flush(c) == 0)
		mark_ready(c);	/* another request may be in the buffer */
}

static void log_decision(const struct conn *c, const char *what, const char *action)
{
	const struct pp_request *r = &c->req;

	log_info("%s: client=%s sasl=%s from=<%s> to=<%s> state=%s: %s", what,
		 r->client_address ? r->client_address : "",
		 r->sasl_username ? r->sasl_username : "",
		 r->sender ? r->sender : "", r->recipient ? r->recipient : "",
		 r->protocol_state ? r->protocol_state : "", action);
}

static void finish_inbound(struct conn *c, const struct plk_result *res)
{
	char action[PD_ACTION_MAX];
	bool waited = c->waiting;

	wait_unlink(c);
	pd_inbound(S.cfg, &c->req, res, action, sizeof(action));
	if (res->listed && S.cfg->dnsbl_action == DA_REJECT) {
		S.nin_refused++;
		log_decision(c, "blocklisted", action);
	} else if (S.cfg->log_requests) {
		log_decision(c, res->cached ? "inbound (cached)" : "inbound", action);
	}
	if (!strncmp(action, "PREPEND", 7) && c->req.instance)
		snprintf(c->instance, sizeof(c->instance), "%s", c->req.instance);
	if (waited && !c->dead)
		set_events(c);	/* read again */
	reply(c, action);
}

static void on_progress(struct plk_waiter *w)
{
	struct conn *c = (struct conn *)((char *)w - offsetof(struct conn, w));
	struct plk_result res;

	if (!plk_eval(w, false, &res))
		return;
	plk_detach(w);
	finish_inbound(c, &res);
}

static void start_wait(struct conn *c)
{
	c->waiting = true;
	c->deadline = now_ms() + S.cfg->budget_ms;
	c->wprev = NULL;
	c->wnext = S.waiting;
	if (S.waiting)
		S.waiting->wprev = c;
	S.waiting = c;
	set_events(c);
}

static void handle_inbound(struct conn *c)
{
	struct plk_result res;

	if (S.cfg->dnsbl_action == DA_PREPEND && c->req.instance &&
	    !strcmp(c->instance, c->req.instance)) {
		reply(c, "DUNNO");	/* this message has its header */
		return;
	}
	c->w.cb = on_progress;
	switch (plk_lookup(S.dnsbl, c->req.client_address, &c->w, &res)) {
	case PLK_DONE:
		finish_inbound(c, &res);
		return;
	case PLK_WAIT:
		start_wait(c);
		return;
	case PLK_BADADDR:
		log_debug("client_address '%s' is not an address; DUNNO",
			  c->req.client_address);
		reply(c, "DUNNO");
		return;
	}
}

static void handle_request(struct conn *c)
{
	char action[PD_ACTION_MAX];
	const char *key = NULL;

	S.nreq++;
	c->started = now_ms();
	if (!c->req.request || strcmp(c->req.request, "smtpd_access_policy")) {
		log_warn("request type '%s' is not smtpd_access_policy; DUNNO",
			 c->req.request ? c->req.request : "(none)");
		reply(c, "DUNNO");
		return;
	}
	switch (pd_route(S.cfg, &c->req, &key)) {
	case PD_NONE:
		reply(c, "DUNNO");
		return;
	case PD_OUTBOUND:
		if (pd_outbound(&S.pd, &c->req, key, (uint32_t)time(NULL), action,
				sizeof(action))) {
			S.nout_refused++;
			log_decision(c, "over limit", action);
		} else if (S.cfg->log_requests) {
			log_decision(c, "outbound", action);
		}
		reply(c, action);
		return;
	case PD_INBOUND:
		handle_inbound(c);
		return;
	}
}

/* Control socket: one command line, one answer, close. */
static void handle_control(struct conn *c)
{
	char *nl = memchr(c->in, '\n', c->inlen), *buf = NULL;
	size_t len = 0;
	FILE *f;

	if (!nl) {
		if (c->inlen >= PCTL_MAX_LINE)
			conn_kill(c);
		return;
	}
	*nl = '\0';
	if (nl > c->in && nl[-1] == '\r')
		nl[-1] = '\0';
	if (!(f = open_memstream(&buf, &len))) {
		conn_kill(c);
		return;
	}
	if (!strncmp(c->in, "status", 6)) {
		fprintf(f, "ok\nrblkit policy %s: %u connections, %llu requests, "
			"%llu refused by lists, %llu over limits, %llu budget "
			"timeouts, %llu bad requests\n", RBLKIT_VERSION, S.nconns - 1,
			(unsigned long long)S.nreq, (unsigned long long)S.nin_refused,
			(unsigned long long)S.nout_refused, (unsigned long long)S.nbudget,
			(unsigned long long)S.nbad);
		if (S.dnsbl) {
			uint64_t h, m;
			unsigned inflight;

			plk_stats(S.dnsbl, &h, &m, &inflight);
			fprintf(f, "blocklist cache: %llu hits, %llu misses, %u lookups "
				"in flight\n", (unsigned long long)h,
				(unsigned long long)m, inflight);
		}
		/* pctl_command prints its own "ok" line: drop it */
		{
			char *sub = NULL;
			size_t sl = 0;
			FILE *g = open_memstream(&sub, &sl);

			if (g) {
				pctl_command(&S.pd, c->in, g);
				fclose(g);
				fputs(sl > 3 ? sub + 3 : "", f);
				free(sub);
			}
		}
	} else {
		pctl_command(&S.pd, c->in, f);
	}
	fclose(f);
	c->big = buf;
	c->biglen = len;
	c->bigoff = 0;
	c->close_after = true;
	c->inlen = 0;
	flush(c);
}

/* Handle the requests in c's buffer, while it is not waiting. */
static void process(struct conn *c)
{
	while (!c->dead && !c->waiting && c->outlen == 0 && !c->big) {
		int rc;

		if (c->control) {
			handle_control(c);
			return;
		}
		rc = pp_parse(c->in, c->inlen, &c->req, &c->reqlen);
		if (rc == PP_NEED_MORE)
			return;
		if (rc < 0) {
			S.nbad++;
			log_warn("bad request on connection %d: %s; connection closed",
				 c->fd, pp_strerror(rc));
			conn_kill(c);
			return;
		}
		handle_request(c);
	}
}

static void conn_read(struct conn *c)
{
	ssize_t n;

	if (c->inlen >= IN_CAP) {	/* cannot happen: pp_parse refuses first */
		conn_kill(c);
		return;
	}
	n = recv(c->fd, c->in + c->inlen, IN_CAP - c->inlen, 0);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		if (c->inlen && !c->control)
			log_warn("connection %d closed in the middle of a request "
				 "(%zu bytes, no empty line)", c->fd, c->inlen);
		conn_kill(c);
		return;
	}
	c->inlen += (size_t)n;
	c->last_active = now_ms();
	process(c);
}

static void conn_accept(int lfd, bool control)
{
	for (;;) {
		int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct epoll_event ev;
		struct conn *c;

		if (fd < 0) {
			if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
				log_warn("accept: %s", strerror(errno));
			return;
		}
		if (!control && S.nconns >= S.cfg->max_connections) {
			if (time(NULL) - S.last_full_log >= 60) {
				S.last_full_log = time(NULL);
				log_warn("max_connections (%u) reached; new connections "
					 "are closed", S.cfg->max_connections);
			}
			close(fd);
			continue;
		}
		c = xcalloc(1, sizeof(*c));
		c->fd = fd;
		c->control = control;
		c->last_active = now_ms();
		ev.events = EPOLLIN;
		ev.data.ptr = c;
		if (epoll_ctl(S.ep, EPOLL_CTL_ADD, fd, &ev)) {
			close(fd);
			free(c);
			continue;
		}
		c->next = S.conns;
		if (S.conns)
			S.conns->prev = c;
		S.conns = c;
		S.nconns++;
	}
}

/* -- timers ---------------------------------------------------------- */

static void budget_expired(struct conn *c)
{
	struct plk_result res;
	char pend[256];

	if (plk_eval(&c->w, true, &res)) {
		plk_detach(&c->w);
		finish_inbound(c, &res);
		return;
	}
	plk_pending_zones(&c->w, pend, sizeof(pend));
	plk_detach(&c->w);
	wait_unlink(c);
	S.nbudget++;
	log_warn("dnsbl_budget of %u ms spent for client %s, still waiting for: %s; "
		 "DUNNO (fail open)", S.cfg->budget_ms, c->req.client_address, pend);
	set_events(c);
	reply(c, "DUNNO");
}

static void check_deadlines(uint64_t now)
{
	struct conn *c = S.waiting, *nx;

	for (; c; c = nx) {
		nx = c->wnext;
		if (c->deadline <= now)
			budget_expired(c);
	}
}

static int next_timeout(uint64_t now)
{
	int64_t t = 1000 - (int64_t)(now - S.last_tick);
	int dt = S.dnsbl ? plk_timeout_ms(S.dnsbl) : -1;

	if (t < 0)
		t = 0;
	if (dt >= 0 && dt < t)
		t = dt;
	for (struct conn *c = S.waiting; c; c = c->wnext)
		if ((int64_t)(c->deadline - now) < t)
			t = c->deadline > now ? (int64_t)(c->deadline - now) : 0;
	return (int)t;
}

static void tick(uint64_t now)
{
	uint64_t idle = (uint64_t)S.cfg->idle_timeout * 1000;

	S.last_tick = now;
	if (S.pst)
		pst_tick(S.pst, now);
	pd_reap(&S.pd);
	for (struct conn *c = S.conns, *nx; c; c = nx) {
		nx = c->next;
		if (!c->waiting && now - c->last_active > idle)
			conn_kill(c);
	}
}

/* -- set-up ---------------------------------------------------------- */

static int open_listener(const char *spec)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	int fd, one = 1;

	memset(&ss, 0, sizeof(ss));
	if (spec[0] == '/') {
		struct sockaddr_un *sun = (struct sockaddr_un *)&ss;

		sun->sun_family = AF_UNIX;
		snprintf(sun->sun_path, sizeof(sun->sun_path), "%s", spec);
		sl = sizeof(*sun);
		unlink(spec);
	} else {
		char host[64];
		const char *colon = strrchr(spec, ':');
		size_t hl = (size_t)(colon - spec);
		int port = atoi(colon + 1);

		if (spec[0] == '[') {
			struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

			snprintf(host, sizeof(host), "%.*s", (int)hl - 2, spec + 1);
			s6->sin6_family = AF_INET6;
			s6->sin6_port = htons((uint16_t)port);
			inet_pton(AF_INET6, host, &s6->sin6_addr);
			sl = sizeof(*s6);
		} else {
			struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

			snprintf(host, sizeof(host), "%.*s", (int)hl, spec);
			s4->sin_family = AF_INET;
			s4->sin_port = htons((uint16_t)port);
			inet_pton(AF_INET, host, &s4->sin_addr);
			sl = sizeof(*s4);
		}
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, sl) || listen(fd, 1024)) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	if (spec[0] == '/')
		chmod(spec, 0666);	/* Postfix's private/ directory guards it */
	return fd;
}

static int open_control(void)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	mode_t old;
	int fd;

	if ((size_t)snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/%s", S.cfg->state_dir,
			     PCTL_SOCKET) >= sizeof(sun.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	snprintf(S.ctlpath, sizeof(S.ctlpath), "%s", sun.sun_path);
	unlink(sun.sun_path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	old = umask(0077);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) || listen(fd, 16)) {
		int e = errno;

		umask(old);
		close(fd);
		errno = e;
		return -1;
	}
	umask(old);
	return fd;
}

static int drop_privileges(const char *user)
{
	struct passwd *pw;

	if (!user)
		return 0;
	if (!(pw = getpwnam(user))) {
		log_err("user %s: no such user", user);
		return -1;
	}
	if (setgroups(1, &pw->pw_gid) || setgid(pw->pw_gid) || setuid(pw->pw_uid)) {
		log_err("cannot become %s: %s", user, strerror(errno));
		return -1;
	}
	return 0;
}

static int add_fd(int fd, void *tag)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = tag };

	return epoll_ctl(S.ep, EPOLL_CTL_ADD, fd, &ev);
}

static int set_dnsbl(struct plk *d)
{
	if (S.dfd >= 0)
		epoll_ctl(S.ep, EPOLL_CTL_DEL, S.dfd, NULL);
	S.dnsbl = d;
	S.dfd = plk_fd(d);
	return S.dfd >= 0 ? add_fd(S.dfd, &tag_dns) : 0;
}

static void reload(void)
{
	char err[1024];
	struct pcfg *n = pcfg_load(S.cfg->path, err, sizeof(err));
	struct plk *d;

	if (!n) {
		log_err("reload: %s; the old configuration stays", err);
		return;
	}
	if (strcmp(n->listen, S.cfg->listen) || strcmp(n->state_dir, S.cfg->state_dir) ||
	    (n->user ? !S.cfg->user || strcmp(n->user, S.cfg->user) : S.cfg->user != NULL))
		log_warn("reload: listen, state_dir and user take effect at the next "
			 "start only");
	if (!(d = plk_new(n, err, sizeof(err)))) {
		log_err("reload: %s: %s; the old configuration stays", n->path, err);
		pcfg_unref(n);
		return;
	}
	/* lookups of the old configuration end now; their waiters answer
	 * with what has arrived, through the old configuration */
	plk_free(S.dnsbl);
	S.dnsbl = NULL;
	free(n->listen);
	n->listen = xstrdup(S.cfg->listen);
	free(n->state_dir);
	n->state_dir = xstrdup(S.cfg->state_dir);
	pcfg_unref(S.cfg);
	S.cfg = n;
	pd_set_config(&S.pd, n);
	set_dnsbl(d);
	log_info("reloaded %s: %zu sites, %zu limits, %zu overrides", n->path,
		 n->sites->n, n->limits.n, n->nov);
}

static void on_signal(void)
{
	struct signalfd_siginfo si;

	while (read(S.sfd, &si, sizeof(si)) == sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGHUP:
			reload();
			break;
		case SIGCHLD:
			pd_reap(&S.pd);
			break;
		default:
			log_info("signal %u: stopping", si.ssi_signo);
			S.stop = true;
		}
	}
}

static void dispatch(struct epoll_event *ev)
{
	void *p = ev->data.ptr;
	struct conn *c = p;

	if (p == &tag_listen)
		conn_accept(S.lfd, false);
	else if (p == &tag_control)
		conn_accept(S.cfd, true);
	else if (p == &tag_signal)
		on_signal();
	else if (p == &tag_dns)
		plk_process(S.dnsbl);
	else if (!c->dead) {
		if ((ev->events & EPOLLOUT) && flush(c))
			return;
		if (ev->events & (EPOLLIN | EPOLLHUP | EPOLLERR))
			conn_read(c);
	}
}

static void run_ready(void)
{
	while (S.ready) {
		struct conn *c = S.ready;

		S.ready = c->rnext;
		c->ready = false;
		if (!c->dead)
			process(c);
	}
}

/* Free the closed connections. Only between two epoll_wait() calls: an
 * event later in the same batch may still point at a connection that an
 * earlier event (a DNS answer, a reload) closed. */
static void free_dead(void)
{
	while (S.deadl) {
		struct conn *c = S.deadl;

		S.deadl = c->dnext;
		free(c->big);
		free(c);
	}
}

static int start(const char *path, sigset_t *mask)
{
	char err[1024];

	S.lfd = S.cfd = S.sfd = S.dfd = S.ep = -1;
	/* blocked before any thread starts (the state's syncer, libunbound's),
	 * so that they reach the signalfd only */
	sigemptyset(mask);
	sigaddset(mask, SIGHUP);
	sigaddset(mask, SIGTERM);
	sigaddset(mask, SIGINT);
	sigaddset(mask, SIGCHLD);
	sigprocmask(SIG_BLOCK, mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (!(S.cfg = pcfg_load(path, err, sizeof(err)))) {
		log_err("%s", err);
		return -1;
	}
	if (S.cfg->syslog)
		log_use_syslog("rblkit-policy");
	if ((S.lfd = open_listener(S.cfg->listen)) < 0) {
		log_err("listen %s: %s", S.cfg->listen, strerror(errno));
		return -1;
	}
	if (drop_privileges(S.cfg->user))
		return -1;
	S.t = rl_new(S.cfg->max_users);
	if (!(S.pst = pst_open(S.cfg->state_dir, S.t, false, err, sizeof(err)))) {
		log_err("state: %s", err);
		return -1;
	}
	if ((S.cfd = open_control()) < 0) {
		log_err("control socket in %s: %s", S.cfg->state_dir, strerror(errno));
		return -1;
	}
	S.pd.t = S.t;
	S.pd.pst = S.pst;
	pd_set_config(&S.pd, S.cfg);
	S.ep = epoll_create1(EPOLL_CLOEXEC);
	S.sfd = signalfd(-1, mask, SFD_NONBLOCK | SFD_CLOEXEC);
	{
		struct plk *d = plk_new(S.cfg, err, sizeof(err));

		if (!d) {
			log_err("%s: %s", S.cfg->path, err);
			return -1;
		}
		if (add_fd(S.lfd, &tag_listen) || add_fd(S.cfd, &tag_control) ||
		    add_fd(S.sfd, &tag_signal) || set_dnsbl(d)) {
			log_err("epoll: %s", strerror(errno));
			return -1;
		}
	}
	log_info("rblkit policy %s listening on %s: %zu sites (threshold %d, %s), "
		 "%zu limits, %zu overrides, %zu users loaded from %s", RBLKIT_VERSION,
		 S.cfg->listen, S.cfg->sites->n, S.cfg->threshold,
		 S.cfg->dnsbl_action == DA_REJECT ? "reject" : "prepend",
		 S.cfg->limits.n, S.cfg->nov, rl_count(S.t), S.cfg->state_dir);
	return 0;
}

static void shutdown_all(void)
{
	while (S.conns)
		conn_kill(S.conns);
	run_ready();
	if (S.dnsbl)
		plk_free(S.dnsbl);
	run_ready();
	free_dead();
	if (S.pst) {
		rl_expire(S.t, (uint32_t)time(NULL));
		pst_close(S.pst);	/* final snapshot */
	}
	rl_free(S.t);
	if (S.ctlpath[0])
		unlink(S.ctlpath);
	if (S.cfg && S.cfg->listen[0] == '/')
		unlink(S.cfg->listen);
	if (S.lfd >= 0)
		close(S.lfd);
	if (S.cfd >= 0)
		close(S.cfd);
	if (S.sfd >= 0)
		close(S.sfd);
	if (S.ep >= 0)
		close(S.ep);
	pcfg_unref(S.cfg);
}

int psrv_run(const char *path)
{
	struct epoll_event evs[256];
	sigset_t mask;
	int rc = 0;

	memset(&S, 0, sizeof(S));
	if (start(path, &mask)) {
		rc = 1;
		goto out;
	}
	S.last_tick = now_ms();
	while (!S.stop) {
		uint64_t now = now_ms();
		int n = epoll_wait(S.ep, evs, (int)ARRAY_SIZE(evs), next_timeout(now));

		if (n < 0 && errno != EINTR) {
			log_err("epoll_wait: %s", strerror(errno));
			rc = 1;
			break;
		}
		for (int i = 0; i < n; i++) {
			dispatch(&evs[i]);
			run_ready();
		}
		now = now_ms();
		if (S.dnsbl && plk_timeout_ms(S.dnsbl) == 0)
			plk_process(S.dnsbl);
		check_deadlines(now);
		run_ready();
		if (now - S.last_tick >= 1000)
			tick(now);
		run_ready();
		free_dead();
	}
out:
	shutdown_all();
	if (!rc)
		log_info("stopped; state saved");
	return rc;
}
