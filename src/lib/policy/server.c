/*
 * server.c - event loop of rblkit policy.
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
 * round of events, so no connection is freed while the resolver walks
 * its lists.
 *
 * The daemon base does the rest: listen.h binds the sockets, daemon.h
 * drops privileges and blocks the signals, evloop.h runs the loop (each
 * connection has a budget and an idle timer; a 1 s tick drives probes,
 * the state's syncing and alert commands).  A service is a value (struct
 * srv): nothing here is process-wide but the log and the signal mask.
 *
 * SECURITY: network input goes only through pp_parse() (limits first);
 * control commands only come over the 0600 unix socket in state_dir.
 */
#define _GNU_SOURCE
#include "policy/server.h"
#include "policy/lookup.h"
#include "policy/config.h"
#include "policy/control.h"
#include "policy/decide.h"
#include "policy/proto.h"
#include "policy/state.h"
#include "base/daemon.h"
#include "base/evloop.h"
#include "base/listen.h"
#include "base/util.h"

#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define IN_CAP (PP_MAX_REQUEST + 1)

struct srv;

struct conn {
	struct srv *s;
	int fd;
	bool control, dead, waiting, ready, want_out;
	char in[IN_CAP];
	size_t inlen, reqlen;
	char out[PD_ACTION_MAX + 32];
	size_t outlen, outoff;
	char *big;			/* control answers */
	size_t biglen, bigoff;
	bool close_after;
	struct pp_request req;
	struct plk_waiter w;
	struct pd_wait pw;		/* waiting for the shared counter store */
	struct pcs_req *ctl_req;	/* control: status USER asked the store */
	struct ev_timer budget;		/* dnsbl_budget, while waiting */
	struct ev_timer idle;		/* idle_timeout, while not waiting */
	char instance[64];		/* message that got a PREPEND */
	struct conn *prev, *next;	/* all connections */
	struct conn *rnext;		/* ready list */
	struct conn *dnext;		/* dead list (a dead connection may
					   still be on the ready list) */
};

/* One policy service: everything a daemon has, as a value (no global
 * state here; the log and the signal mask are the process's). */
struct srv {
	struct pcfg *cfg;
	struct plk *dnsbl;
	struct rl_table *t;
	struct pst *pst;
	struct pd_ctx pd;
	ev_loop *ev;
	struct ev_timer tick;
	int lfd, cfd, dfd;
	struct listen_addr ctl_addr;	/* state_dir/control */
	struct conn *conns, *ready, *deadl;
	unsigned nconns;
	time_t last_full_log, last_badaddr_log, last_badcount_log;
	uint64_t nreq, nin_refused, nout_refused, nbudget, nbad;
	uint64_t last_bl_save;		/* ev_now of the last baselines file */
};

static void process(struct conn *c);

/* -- connections ----------------------------------------------------- */

static void set_events(struct conn *c)
{
	ev_fd_mod(c->s->ev, c->fd, (c->waiting || c->close_after ? 0 : EV_READ) |
		  (c->want_out ? EV_WRITE : 0));
}

static void wait_unlink(struct conn *c)
{
	if (!c->waiting)
		return;
	ev_timer_stop(c->s->ev, &c->budget);
	c->waiting = false;
}

/* Close c now; free_dead() frees it at the end of the loop iteration. */
static void conn_kill(struct conn *c)
{
	struct srv *s = c->s;

	if (c->dead)
		return;
	plk_detach(&c->w);
	pd_cancel(&c->pw);
	if (c->ctl_req)
		pcs_cancel(c->ctl_req);
	wait_unlink(c);
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

static void mark_ready(struct conn *c)
{
	struct srv *s = c->s;

	if (c->ready || c->dead)
		return;
	c->ready = true;
	c->rnext = s->ready;
	s->ready = c;
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
	struct srv *s = c->s;

	wait_unlink(c);
	pd_inbound(s->cfg, &c->req, res, action, sizeof(action));
	if (res->listed && s->cfg->dnsbl_action == DA_REJECT) {
		s->nin_refused++;
		log_decision(c, "blocklisted", action);
	} else if (s->cfg->log_requests) {
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
	if (ev_timer_start(c->s->ev, &c->budget, c->s->cfg->budget_ms)) {
		/* no memory for the timer: never wait without a bound */
		plk_detach(&c->w);
		c->waiting = false;
		reply(c, "DUNNO");
		return;
	}
	set_events(c);
}

static void handle_inbound(struct conn *c)
{
	struct srv *s = c->s;
	struct plk_result res;

	if (s->cfg->dnsbl_action == DA_PREPEND && c->req.instance &&
	    !strcmp(c->instance, c->req.instance)) {
		reply(c, "DUNNO");	/* this message has its header */
		return;
	}
	c->w.cb = on_progress;
	switch (plk_lookup(s->dnsbl, c->req.client_address, &c->w, &res)) {
	case PLK_DONE:
		finish_inbound(c, &res);
		return;
	case PLK_WAIT:
		start_wait(c);
		return;
	case PLK_BADADDR:
		/* Postfix always sends an address: another client, or a
		 * restriction in the wrong place. Told with log_requests,
		 * else once in 10 minutes. */
		if (s->cfg->log_requests) {
			log_decision(c, "client_address is not an IP address", "DUNNO");
		} else if (time(NULL) - s->last_badaddr_log >= 600) {
			s->last_badaddr_log = time(NULL);
			log_warn("client_address '%s' is not an IP address; DUNNO "
				 "(logged once in 10 minutes; log_requests = yes "
				 "logs each)", c->req.client_address ? c->req.client_address : "");
		}
		reply(c, "DUNNO");
		return;
	}
}

/* Log and send the outbound verdict v. */
static void finish_outbound(struct conn *c, enum pd_verdict v, const char *action)
{
	struct srv *s = c->s;

	switch (v) {
	case PD_REFUSED:
		s->nout_refused++;
		log_decision(c, "over limit", action);
		break;
	case PD_BADREQ:
		/* Postfix sends digits: another client. Told as a
		 * bad client_address is. */
		if (s->cfg->log_requests) {
			log_decision(c, "recipient_count is not a number", action);
		} else if (time(NULL) - s->last_badcount_log >= 600) {
			s->last_badcount_log = time(NULL);
			log_warn("recipient_count '%s' is not a number; DUNNO "
				 "(logged once in 10 minutes; log_requests = yes "
				 "logs each)", c->req.recipient_count);
		}
		break;
	case PD_ACCEPTED:
	case PD_WAIT:
		if (s->cfg->log_requests)
			log_decision(c, "outbound", action);
		break;
	}
	reply(c, action);
}

/* The shared store answered (or failed and the local counts decided). */
static void outbound_done(struct pd_wait *w, enum pd_verdict v, const char *action)
{
	struct conn *c = (struct conn *)((char *)w - offsetof(struct conn, pw));

	c->waiting = false;
	if (c->dead)
		return;
	set_events(c);	/* read again */
	finish_outbound(c, v, action);
}

static void handle_request(struct conn *c)
{
	char action[PD_ACTION_MAX];
	const char *key = NULL;
	struct srv *s = c->s;
	enum pd_verdict v;

	s->nreq++;
	if (!c->req.request || strcmp(c->req.request, "smtpd_access_policy")) {
		log_warn("request type '%s' is not smtpd_access_policy; DUNNO",
			 c->req.request ? c->req.request : "(none)");
		reply(c, "DUNNO");
		return;
	}
	switch (pd_route(s->cfg, &c->req, &key)) {
	case PD_NONE:
		reply(c, "DUNNO");
		return;
	case PD_OUTBOUND:
		v = pd_outbound_async(&s->pd, &c->req, key, (uint32_t)time(NULL), action,
				      sizeof(action), &c->pw, outbound_done);
		if (v == PD_WAIT) {
			c->waiting = true;	/* not read until answered */
			set_events(c);
			return;
		}
		finish_outbound(c, v, action);
		return;
	case PD_INBOUND:
		handle_inbound(c);
		return;
	}
}

/* "metrics": the counters of status in Prometheus text format. */
static void write_metrics(const struct srv *s, FILE *f)
{
	static const struct { const char *name, *help; size_t off; } ctr[] = {
		{ "requests", "Policy requests read.", offsetof(struct srv, nreq) },
		{ "refused_by_lists", "Clients refused by the lists' score.",
		  offsetof(struct srv, nin_refused) },
		{ "over_limits", "Messages deferred or held by outbound limits.",
		  offsetof(struct srv, nout_refused) },
		{ "budget_timeouts", "Requests answered DUNNO when dnsbl_budget ran out.",
		  offsetof(struct srv, nbudget) },
		{ "bad_requests", "Connections closed for a bad request.",
		  offsetof(struct srv, nbad) },
	};

	fprintf(f, "ok\n");
	for (size_t i = 0; i < ARRAY_SIZE(ctr); i++)
		fprintf(f, "# HELP rblkit_policy_%s_total %s\n# TYPE rblkit_policy_%s_total "
			"counter\nrblkit_policy_%s_total %llu\n", ctr[i].name, ctr[i].help,
			ctr[i].name, ctr[i].name,
			(unsigned long long)*(const uint64_t *)((const char *)s + ctr[i].off));
	fprintf(f, "# HELP rblkit_policy_connections Open Postfix connections.\n"
		"# TYPE rblkit_policy_connections gauge\nrblkit_policy_connections %u\n",
		s->nconns - 1);
	if (s->dnsbl)
		plk_health_metrics(s->dnsbl, f);
}

/* The control answer in buf (len bytes, malloc'd) goes out, then the
 * connection closes. */
static void control_answer(struct conn *c, char *buf, size_t len)
{
	c->big = buf;
	c->biglen = len;
	c->bigoff = 0;
	c->close_after = true;
	c->inlen = 0;
	flush(c);
}

/* The shared store answered "status USER" (st NULL: it did not). */
static void on_ctl_status(void *arg, const struct pcs_status *st)
{
	struct conn *c = arg;
	const char *user = c->in + 7;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	c->ctl_req = NULL;
	c->waiting = false;
	if (!(f = open_memstream(&buf, &len))) {
		conn_kill(c);
		return;
	}
	if (!st) {
		pctl_command(&c->s->pd, c->in, f);
		fprintf(f, "(outbound_store did not answer: this daemon's share only)\n");
	} else {
		char *sub = NULL;
		size_t sl = 0;
		FILE *g = open_memstream(&sub, &sl);

		if (g && !pctl_status_cluster(g, &c->s->pd, user, st, (uint32_t)time(NULL))) {
			fclose(g);
			fprintf(f, "ok\n%s", sub);
		} else {
			if (g)
				fclose(g);
			fprintf(f, "error: %s is not counted by any daemon\n", user);
		}
		free(sub);
	}
	fclose(f);
	control_answer(c, buf, len);
}

/* "status USER" with the shared store up: ask it (the answer comes in
 * on_ctl_status). Returns true when asked. */
static bool control_ask_store(struct conn *c)
{
	struct srv *s = c->s;
	struct rl_limits lim;
	unsigned top;

	if (strncmp(c->in, "status ", 7) || !c->in[7] || !pctl_status_top(c->in + 7, &top) ||
	    !pcs_up(s->pd.store))
		return false;
	pctl_status_limits(s->cfg, c->in + 7, &lim);
	if (!(c->ctl_req = pcs_status(s->pd.store, c->in + 7, &lim, on_ctl_status, c)))
		return false;
	c->waiting = true;
	return true;
}

/* Control socket: one command line, one answer, close. */
static void handle_control(struct conn *c)
{
	struct srv *s = c->s;
	char *nl = memchr(c->in, '\n', c->inlen), *buf = NULL;
	size_t len = 0;
	unsigned top;
	FILE *f;

	if (!nl) {
		if (c->inlen >= PCTL_MAX_LINE)
			conn_kill(c);
		return;
	}
	*nl = '\0';
	if (nl > c->in && nl[-1] == '\r')
		nl[-1] = '\0';
	if (control_ask_store(c))
		return;
	if (!(f = open_memstream(&buf, &len))) {
		conn_kill(c);
		return;
	}
	if (!strncmp(c->in, "status", 6) && (c->in[6] == '\0' || c->in[6] == ' ') &&
	    pctl_status_top(c->in[6] ? c->in + 7 : "", &top) == 0) {
		fprintf(f, "ok\nrblkit policy %s: %u connections, %llu requests, "
			"%llu refused by lists, %llu over limits, %llu budget "
			"timeouts, %llu bad requests\n", RBLKIT_VERSION, s->nconns - 1,
			(unsigned long long)s->nreq, (unsigned long long)s->nin_refused,
			(unsigned long long)s->nout_refused, (unsigned long long)s->nbudget,
			(unsigned long long)s->nbad);
		if (s->dnsbl) {
			uint64_t h, m;
			unsigned inflight;

			plk_stats(s->dnsbl, &h, &m, &inflight);
			fprintf(f, "blocklist cache: %llu hits, %llu misses, %u lookups "
				"in flight\n", (unsigned long long)h,
				(unsigned long long)m, inflight);
			plk_health_report(s->dnsbl, f);
		}
		if (s->pd.store) {
			uint64_t ok, failed, conns;

			pcs_stats(s->pd.store, &ok, &failed, &conns);
			fprintf(f, "outbound store: %s, %llu answers, %llu failed (answered "
				"locally), %llu connections\n", pcs_up(s->pd.store) ? "up" : "DOWN",
				(unsigned long long)ok, (unsigned long long)failed,
				(unsigned long long)conns);
		}
		/* pctl_command prints its own "ok" line: drop it */
		{
			char *sub = NULL;
			size_t sl = 0;
			FILE *g = open_memstream(&sub, &sl);

			if (g) {
				pctl_command(&s->pd, c->in, g);
				fclose(g);
				fputs(sl > 3 ? sub + 3 : "", f);
				free(sub);
			}
		}
	} else if (!strcmp(c->in, "metrics")) {
		write_metrics(s, f);
	} else {
		pctl_command(&s->pd, c->in, f);
	}
	fclose(f);
	control_answer(c, buf, len);
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
			c->s->nbad++;
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
	ev_timer_start(c->s->ev, &c->idle, (uint64_t)c->s->cfg->idle_timeout * 1000);
	process(c);
}

static void on_conn(ev_loop *ev, int fd, unsigned events, void *arg)
{
	struct conn *c = arg;

	(void)ev;
	(void)fd;
	if (c->dead)
		return;
	if ((events & EV_WRITE) && flush(c))
		return;
	if (events & (EV_READ | EV_ERROR))
		conn_read(c);
}

/* -- timers ---------------------------------------------------------- */

static void budget_expired(ev_loop *ev, struct ev_timer *t, void *arg)
{
	struct conn *c = arg;
	struct srv *s = c->s;
	struct plk_result res;
	char pend[256];

	(void)ev;
	(void)t;
	if (c->dead || !c->waiting)
		return;
	if (plk_eval(&c->w, true, &res)) {
		plk_detach(&c->w);
		finish_inbound(c, &res);
		return;
	}
	plk_pending_zones(&c->w, pend, sizeof(pend));
	plk_detach(&c->w);
	wait_unlink(c);
	s->nbudget++;
	log_warn("dnsbl_budget of %u ms spent for client %s, still waiting for: %s; "
		 "DUNNO (fail open)", s->cfg->budget_ms, c->req.client_address, pend);
	set_events(c);
	reply(c, "DUNNO");
}

/* idle_timeout since the last read; a connection waiting for the lists
 * is not idle (its budget ends the wait) */
static void idle_expired(ev_loop *ev, struct ev_timer *t, void *arg)
{
	struct conn *c = arg;

	if (c->dead)
		return;
	if (c->waiting)
		ev_timer_start(ev, t, (uint64_t)c->s->cfg->idle_timeout * 1000);
	else
		conn_kill(c);
}

/* state_dir/baselines: written every 5 minutes and at the end. */
static void save_baselines(struct srv *s)
{
	char path[4200];

	if (!s->pd.bl)
		return;
	snprintf(path, sizeof(path), "%s/baselines", s->cfg->state_dir);
	if (bl_save(s->pd.bl, path))
		log_warn("%s: %s; baselines not saved", path, strerror(errno));
}

/* Once a second: the lists' probes, the state's syncing, alert commands. */
static void tick(ev_loop *ev, struct ev_timer *t, void *arg)
{
	struct srv *s = arg;

	if (s->dnsbl)
		plk_tick(s->dnsbl, ev_now(ev));
	if (s->pst)
		pst_tick(s->pst, ev_now(ev));
	if (s->pd.store)
		pcs_tick(s->pd.store, ev_now(ev));
	if (s->pd.bl && ev_now(ev) - s->last_bl_save >= 300000) {
		s->last_bl_save = ev_now(ev);
		save_baselines(s);
	}
	pd_reap(&s->pd);
	ev_timer_start(ev, t, 1000);
}

/* -- connections: accept --------------------------------------------- */

static void conn_accept(struct srv *s, int lfd, bool control)
{
	for (;;) {
		int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct conn *c;

		if (fd < 0) {
			if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
				log_warn("accept: %s", strerror(errno));
			return;
		}
		if (!control && s->nconns >= s->cfg->max_connections) {
			if (time(NULL) - s->last_full_log >= 60) {
				s->last_full_log = time(NULL);
				log_warn("max_connections (%u) reached; new connections "
					 "are closed", s->cfg->max_connections);
			}
			close(fd);
			continue;
		}
		c = xcalloc(1, sizeof(*c));
		c->s = s;
		c->fd = fd;
		c->control = control;
		ev_timer_init(&c->budget, budget_expired, c);
		ev_timer_init(&c->idle, idle_expired, c);
		if (ev_fd_add(s->ev, fd, EV_READ, on_conn, c) ||
		    ev_timer_start(s->ev, &c->idle, (uint64_t)s->cfg->idle_timeout * 1000)) {
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
	}
}

static void on_listen(ev_loop *ev, int fd, unsigned events, void *arg)
{
	(void)ev;
	(void)events;
	conn_accept(arg, fd, false);
}

static void on_control(ev_loop *ev, int fd, unsigned events, void *arg)
{
	(void)ev;
	(void)events;
	conn_accept(arg, fd, true);
}

/* -- set-up ---------------------------------------------------------- */

/* state_dir/control: mode 0600 (made under umask 0077). */
static int open_control(struct srv *s, char *err, size_t el)
{
	struct listen_list l;
	char spec[4200];
	mode_t old;
	int fd;

	snprintf(spec, sizeof(spec), "unix:%s/%s", s->cfg->state_dir, PCTL_SOCKET);
	if (listen_parse(spec, LISTEN_UNIX, NULL, 0, &l, err, el))
		return -EINVAL;
	s->ctl_addr = l.a[0];
	old = umask(0077);
	fd = listen_bind(&s->ctl_addr, SOCK_STREAM, LISTEN_O_NONBLOCK, 16, err, el);
	umask(old);
	return fd;
}

static void on_dns(ev_loop *ev, int fd, unsigned events, void *arg)
{
	struct srv *s = arg;

	(void)ev;
	(void)fd;
	(void)events;
	plk_process(s->dnsbl);
}

static int set_dnsbl(struct srv *s, struct plk *d)
{
	if (s->dfd >= 0)
		ev_fd_del(s->ev, s->dfd);
	s->dnsbl = d;
	s->dfd = plk_fd(d);
	return s->dfd >= 0 ? ev_fd_add(s->ev, s->dfd, EV_READ, on_dns, s) : 0;
}

/* Log each line of a configuration's errors (pcfg_load: one a line). */
static void log_errors(const char *prefix, const char *err)
{
	while (*err) {
		size_t n = strcspn(err, "\n");

		log_err("%s%.*s", prefix, (int)n, err);
		err += n;
		err += *err == '\n';
	}
}

/* SIGHUP.  Not conftab_reload: the new configuration must also give a
 * resolver (plk_new) before it replaces the old one, and the old one
 * lives on (a reference) in the lookups that still run. */
static void reload(struct srv *s)
{
	char err[PCFG_ERR_MAX];
	struct pcfg *n = pcfg_load(s->cfg->path, err, sizeof(err));
	struct plk *d;

	if (!n) {
		log_errors("reload: ", err);
		log_err("reload: %s has errors; the old configuration stays", s->cfg->path);
		return;
	}
	if (strcmp(n->store, s->cfg->store))
		log_warn("reload: outbound_store takes effect at the next start only");
	if (strcmp(n->listen, s->cfg->listen) || strcmp(n->state_dir, s->cfg->state_dir) ||
	    (n->user ? !s->cfg->user || strcmp(n->user, s->cfg->user) : s->cfg->user != NULL))
		log_warn("reload: listen, state_dir and user take effect at the next "
			 "start only");
	if (!(d = plk_new(n, err, sizeof(err)))) {
		log_err("reload: %s: %s; the old configuration stays", n->path, err);
		pcfg_unref(n);
		return;
	}
	plk_inherit_health(d, s->dnsbl);
	/* lookups of the old configuration end now; their waiters answer
	 * with what has arrived, through the old configuration */
	plk_free(s->dnsbl);
	s->dnsbl = NULL;
	free(n->listen);
	n->listen = xstrdup(s->cfg->listen);
	n->listen_addr = s->cfg->listen_addr;	/* the socket bound at the start */
	free(n->state_dir);
	n->state_dir = xstrdup(s->cfg->state_dir);
	pcfg_unref(s->cfg);
	s->cfg = n;
	pd_set_config(&s->pd, n);
	set_dnsbl(s, d);
	log_info("reloaded %s: %zu sites, %zu limits, %zu overrides", n->path,
		 n->sites->n, n->limits.n, n->nov);
}

static void on_signal(ev_loop *ev, int signo, void *arg)
{
	struct srv *s = arg;

	switch (signo) {
	case SIGHUP:
		reload(s);
		break;
	case SIGCHLD:
		pd_reap(&s->pd);
		break;
	default:
		log_info("signal %d: stopping", signo);
		ev_stop(ev);
	}
}

static void run_ready(struct srv *s)
{
	while (s->ready) {
		struct conn *c = s->ready;

		s->ready = c->rnext;
		c->ready = false;
		if (!c->dead)
			process(c);
	}
}

/* Free the closed connections.  Only between two rounds of the loop: a
 * callback later in the same round may still point at a connection that
 * an earlier one (a DNS answer, a reload) closed. */
static void free_dead(struct srv *s)
{
	while (s->deadl) {
		struct conn *c = s->deadl;

		s->deadl = c->dnext;
		free(c->big);
		free(c);
	}
}

static const int signals[] = { SIGHUP, SIGTERM, SIGINT, SIGCHLD };

static int start(struct srv *s, const char *path)
{
	char err[PCFG_ERR_MAX];
	struct plk *d;

	s->lfd = s->cfd = s->dfd = -1;
	/* blocked before any thread starts (the state's syncer, libunbound's),
	 * so that they reach the signalfd only */
	if (daemon_block_signals(signals, ARRAY_SIZE(signals), NULL)) {
		log_err("signals: %s", strerror(errno));
		return -1;
	}
	if (!(s->cfg = pcfg_load(path, err, sizeof(err)))) {
		log_errors("", err);
		return -1;
	}
	if (s->cfg->syslog)
		log_use_syslog("rblkit-policy");
	if ((s->lfd = listen_bind(&s->cfg->listen_addr, SOCK_STREAM,
				  LISTEN_O_NONBLOCK | LISTEN_O_WORLD, 1024, err, sizeof(err))) < 0) {
		log_err("listen %s", err);
		return -1;
	}
	if (daemon_drop_privileges(s->cfg->user, NULL, NULL, err, sizeof(err))) {
		log_err("%s", err);
		return -1;
	}
	s->t = rl_new(s->cfg->max_users);
	if (!(s->pst = pst_open(s->cfg->state_dir, s->t, false, err, sizeof(err)))) {
		log_err("state: %s", err);
		return -1;
	}
	if ((s->cfd = open_control(s, err, sizeof(err))) < 0) {
		log_err("control socket in %s: %s", s->cfg->state_dir, err);
		return -1;
	}
	s->pd.t = s->t;
	s->pd.pst = s->pst;
	if (s->cfg->baseline) {
		char blpath[4200];
		long n;

		s->pd.bl = bl_new(s->cfg->max_users);
		snprintf(blpath, sizeof(blpath), "%s/baselines", s->cfg->state_dir);
		if ((n = bl_load(s->pd.bl, blpath, err, sizeof(err))) < 0)
			log_warn("%s", err);
		else if (n)
			log_info("%ld baselines loaded from %s", n, blpath);
	}
	pd_set_config(&s->pd, s->cfg);
	if (!(s->ev = ev_new(err, sizeof(err)))) {
		log_err("%s", err);
		return -1;
	}
	if (!(d = plk_new(s->cfg, err, sizeof(err)))) {
		log_err("%s: %s", s->cfg->path, err);
		return -1;
	}
	for (size_t i = 0; i < ARRAY_SIZE(signals); i++)
		if (ev_signal_add(s->ev, signals[i], on_signal, s)) {
			plk_free(d);
			log_err("signalfd: %s", strerror(errno));
			return -1;
		}
	if (strcmp(s->cfg->store, "local")) {
		s->pd.store = pcs_new(s->cfg->store, s->cfg->store_ca, s->ev, s->cfg->store_timeout_ms,
				      pd_store_state, &s->pd, err, sizeof(err));
		if (!s->pd.store) {
			log_err("outbound_store: %s", err);
			return -1;
		}
		pcs_tick(s->pd.store, ev_now(s->ev));
	}
	ev_timer_init(&s->tick, tick, s);
	if (ev_fd_add(s->ev, s->lfd, EV_READ, on_listen, s) ||
	    ev_fd_add(s->ev, s->cfd, EV_READ, on_control, s) || set_dnsbl(s, d) ||
	    ev_timer_start(s->ev, &s->tick, 1000)) {
		log_err("event loop: cannot watch the sockets");
		return -1;
	}
	log_info("rblkit policy %s listening on %s: %zu sites (threshold %d, %s), "
		 "%zu limits, %zu overrides, %zu users loaded from %s", RBLKIT_VERSION,
		 s->cfg->listen, s->cfg->sites->n, s->cfg->threshold,
		 s->cfg->dnsbl_action == DA_REJECT ? "reject" : "prepend",
		 s->cfg->limits.n, s->cfg->nov, rl_count(s->t), s->cfg->state_dir);
	return 0;
}

static void shutdown_all(struct srv *s)
{
	while (s->conns)
		conn_kill(s->conns);
	run_ready(s);
	if (s->dnsbl)
		plk_free(s->dnsbl);
	run_ready(s);
	free_dead(s);
	pcs_free(s->pd.store);
	rl_free(s->pd.pending);
	if (s->cfg)
		save_baselines(s);
	bl_free(s->pd.bl);
	if (s->pst) {
		rl_expire(s->t, (uint32_t)time(NULL));
		pst_close(s->pst);	/* final snapshot */
	}
	rl_free(s->t);
	if (s->cfd >= 0)
		listen_close(&s->ctl_addr, s->cfd);
	if (s->lfd >= 0 && s->cfg)
		listen_close(&s->cfg->listen_addr, s->lfd);
	ev_free(s->ev);
	pcfg_unref(s->cfg);
}

int psrv_run(const char *path)
{
	struct srv srv = { 0 }, *s = &srv;
	int rc = 0;

	if (start(s, path)) {
		rc = 1;
		goto out;
	}
	while (!ev_stopped(s->ev)) {
		int dt = s->dnsbl ? plk_timeout_ms(s->dnsbl) : -1;
		int n = ev_run_once(s->ev, dt);

		if (n < 0) {
			log_err("epoll_wait: %s", strerror(-n));
			rc = 1;
			break;
		}
		run_ready(s);
		if (s->dnsbl && plk_timeout_ms(s->dnsbl) == 0)
			plk_process(s->dnsbl);
		run_ready(s);
		free_dead(s);
	}
out:
	shutdown_all(s);
	if (!rc)
		log_info("stopped; state saved");
	return rc;
}
