/*
 * decide.c - routing, outbound limits and action texts of the policy
 * daemon.
 *
 * SECURITY: see decide.h. The alert command is run with /bin/sh -c on
 * the operator's text only; user, counts and window are passed in the
 * environment (RBLKIT_USER=...), so a sender address such as
 * "a;rm -rf /"@x is data, never shell syntax. At most 8 alerts run at
 * once; more are logged and skipped.
 */
#include "policy/decide.h"
#include "base/util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>

#define PD_MAX_ALERTS 8

extern char **environ;

void pd_set_config(struct pd_ctx *x, const struct pcfg *cfg)
{
	const struct rl_limits *sets[64];
	size_t ns = pcfg_limit_sets(cfg, sets, 64);

	x->cfg = cfg;
	if (rl_periods(sets, ns, x->periods, &x->nperiods) || x->nperiods == 0) {
		/* no limits: still count per hour and day, for status */
		x->periods[0] = 3600;
		x->periods[1] = 86400;
		x->nperiods = 2;
	}
}

static bool addr_in(const struct pcfg_net *nets, size_t n, const char *text)
{
	uint8_t a[16] = { 0 };

	if (!n)
		return false;
	if (inet_pton(AF_INET, text, a) == 1)
		return pcfg_net_match(nets, n, AF_INET, a);
	if (inet_pton(AF_INET6, text, a) == 1)
		return pcfg_net_match(nets, n, AF_INET6, a);
	return false;
}

enum pd_route pd_route(const struct pcfg *cfg, const struct pp_request *req,
		       const char **key)
{
	const char *client = req->client_address;
	enum pp_state st = pp_state_of(req);

	if (req->sasl_username && req->sasl_username[0]) {
		*key = req->sasl_username;
		return PD_OUTBOUND;
	}
	if (!client || !client[0])
		return PD_NONE;
	if (addr_in(cfg->outnets, cfg->noutnets, client)) {
		*key = req->sender && req->sender[0] ? req->sender : client;
		return PD_OUTBOUND;
	}
	if (st != PS_CONNECT && st != PS_EHLO && st != PS_MAIL && st != PS_RCPT)
		return PD_NONE;
	if (addr_in(cfg->allow, cfg->nallow, client))
		return PD_NONE;
	return PD_INBOUND;
}

/* Run alert_command with vars[0..nv) (RBLKIT_...=...) in its
 * environment; who names the alert in messages. */
static void run_alert(struct pd_ctx *x, const char *who, char *const *vars, size_t nv)
{
	char *envp[512];
	char *argv[] = { "/bin/sh", "-c", x->cfg->alert_command, NULL };
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none, def;
	size_t ne = 0;
	pid_t pid;
	int rc;

	if (!x->cfg->alert_command)
		return;
	if (x->alerts_running >= PD_MAX_ALERTS) {
		log_warn("alert for %s skipped: %u alert commands still running",
			 who, x->alerts_running);
		return;
	}
	for (char **e = environ; e && *e && ne < ARRAY_SIZE(envp) - nv - 1; e++)
		if (strncmp(*e, "RBLKIT_", 7))
			envp[ne++] = *e;
	for (size_t i = 0; i < nv; i++)
		envp[ne++] = vars[i];
	envp[ne] = NULL;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	/* the daemon blocks its signals (signalfd) and ignores SIGPIPE: the
	 * command starts with neither */
	posix_spawnattr_init(&attr);
	sigemptyset(&none);
	sigemptyset(&def);
	sigaddset(&def, SIGPIPE);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &def);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	rc = posix_spawn(&pid, "/bin/sh", &fa, &attr, argv, envp);
	posix_spawnattr_destroy(&attr);
	posix_spawn_file_actions_destroy(&fa);
	if (rc) {
		log_err("alert command for %s: %s", who, strerror(rc));
		return;
	}
	x->alerts_running++;
}

/* Run alert_command for u (first crossing of limit l, at count). */
static void alert(struct pd_ctx *x, const struct rl_user *u,
		  const struct rl_limit *l, uint32_t count)
{
	char user[RL_MAX_KEY + 16], cnt[32], lim[32], kind[32], win[48], per[32];
	char *vars[] = { user, cnt, lim, kind, win };

	rl_period_text(l->period, per, sizeof(per));
	snprintf(user, sizeof(user), "RBLKIT_USER=%s", u->kn.key);
	snprintf(cnt, sizeof(cnt), "RBLKIT_COUNT=%u", count);
	snprintf(lim, sizeof(lim), "RBLKIT_LIMIT=%u", l->max);
	snprintf(kind, sizeof(kind), "RBLKIT_KIND=%s",
		 l->kind == RL_MESSAGES ? "messages" : "recipients");
	snprintf(win, sizeof(win), "RBLKIT_WINDOW=%s", per);
	run_alert(x, u->kn.key, vars, ARRAY_SIZE(vars));
}

void pd_reap(struct pd_ctx *x)
{
	int status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		if (x->alerts_running)
			x->alerts_running--;
		if (!WIFEXITED(status) || WEXITSTATUS(status))
			log_warn("alert command (pid %d) failed (status %d)", (int)pid,
				 WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	}
}

/* The refusal for u over limit l at count. */
static void refusal(const struct pd_ctx *x, const struct rl_user *u,
		    const struct rl_limit *l, uint32_t count, char *action, size_t len)
{
	const char *vars[128] = { 0 };
	char cnt[16], lim[16], per[32], text[PD_ACTION_MAX];

	snprintf(cnt, sizeof(cnt), "%u", count);
	snprintf(lim, sizeof(lim), "%u", l->max);
	rl_period_text(l->period, per, sizeof(per));
	vars['u'] = u->kn.key;
	vars['c'] = cnt;
	vars['l'] = lim;
	vars['k'] = l->kind == RL_MESSAGES ? "messages" : "recipients";
	vars['w'] = per;
	pcfg_expand(x->cfg->out_reply, vars, text, sizeof(text));
	snprintf(action, len, "%s %s", x->cfg->out_action == OA_HOLD ? "HOLD" : "DEFER", text);
}

/* The user crossed limit idx of lim (count before this request). */
static void cross(struct pd_ctx *x, struct rl_user *u, const struct rl_limit *l,
		  uint32_t count, uint32_t now)
{
	char lt[64];
	bool again = u->blocked_since && now - u->blocked_since < l->period;

	u->blocked = true;
	if (!again || u->blocked_by.period != l->period || u->blocked_by.kind != l->kind)
		u->blocked_since = now;
	u->blocked_by = *l;
	if (x->pst)
		pst_block(x->pst, u);
	rl_limit_text(l, lt, sizeof(lt));
	log_warn("outbound limit: %s blocked at %u (limit %s)%s", u->kn.key, count, lt,
		 again ? "; alert already sent in this window" : "");
	if (!again)
		alert(x, u, l, count);
}

/* A message of rcpts recipients would take u to count, past l, although
 * u is under l: refused, not a block; alerted once per window of l. */
static void oversize(struct pd_ctx *x, struct rl_user *u, const struct rl_limit *l,
		     uint32_t rcpts, uint32_t count, uint32_t now)
{
	char lt[64];
	bool again = u->over_since && now - u->over_since < l->period &&
		     u->over_by.period == l->period && u->over_by.kind == l->kind;

	if (!again) {
		u->over_since = now;
		u->over_by = *l;
	}
	rl_limit_text(l, lt, sizeof(lt));
	log_warn("outbound limit: %s: a message of %u recipients refused, it would "
		 "make %u (limit %s); not blocked%s", u->kn.key, rcpts, count, lt,
		 again ? "; alert already sent in this window" : "");
	if (!again)
		alert(x, u, l, count);
}

/* recipient_count as Postfix sends it: digits only (at most 100000 are
 * counted). Returns -1 for anything else. */
static int parse_rcpts(const char *s, uint32_t *out)
{
	uint64_t v = 0;

	if (!*s)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		if (v <= 100000)
			v = v * 10 + (uint64_t)(*s - '0');
	}
	*out = v > 100000 ? 100000 : (uint32_t)v;
	return 0;
}

void pd_bl_params(const struct pcfg *cfg, struct bl_params *p)
{
	p->factor = cfg->bl_factor;
	p->min_hour = cfg->bl_min;
	p->min_day = cfg->bl_min * 8;
	p->new_hour = cfg->bl_new;
	p->dom_factor = cfg->bl_dom_factor;
	p->dom_min_hour = cfg->bl_dom_min;
	p->dom_min_day = cfg->bl_dom_min * 8;
	p->dom_new_hour = cfg->bl_dom_new;
}

static void bl_count_msg(struct pd_ctx *x, const char *key, uint32_t now)
{
	struct bl_params p;

	pd_bl_params(x->cfg, &p);
	bl_count(x->bl, &p, key, now);
}

/* The refusal of a sender far above its normal (v, from the local table
 * or the shared store) into action; the alert when v says so. top: the
 * recipient domains the store counted (NULL: this daemon's). */
static void baseline_act(struct pd_ctx *x, const char *key, const struct bl_verdict *vv,
			 const char *top_shared, char *action, size_t len)
{
	const char *vars[128] = { 0 };
	char cnt[16], th[16], mean[32], text[PD_ACTION_MAX];
	char top[BL_TOP_DOMAINS * (BL_MAX_DOMAIN + 12)];
	const struct bl_verdict v = *vv;
	const char *win, *what = v.domains ? "recipient domains" : "messages";

	win = v.day ? "day" : "hour";
	snprintf(cnt, sizeof(cnt), "%u", v.count);
	snprintf(th, sizeof(th), "%u", v.threshold);
	snprintf(mean, sizeof(mean), "%.1f", v.mean);
	if (v.alert) {
		char e_ev[] = "RBLKIT_EVENT=baseline";
		char e_user[RL_MAX_KEY + 16], e_cnt[32], e_lim[32], e_base[48], e_win[32];
		char e_dom[sizeof(top) + 16], e_what[48];
		char *ev[] = { e_ev, e_user, e_cnt, e_lim, e_base, e_win, e_dom, e_what };

		if (top_shared)
			snprintf(top, sizeof(top), "%s", top_shared);
		else
			bl_top_domains(x->bl, key, top, sizeof(top));
		log_warn("outbound baseline: %s: %u %s this %s, normally %.1f +- %.1f "
			 "(held above %u); recipient domains: %s", key, v.count, what, win, v.mean,
			 v.sd, v.threshold, top[0] ? top : "(none seen)");
		snprintf(e_user, sizeof(e_user), "RBLKIT_USER=%s", key);
		snprintf(e_cnt, sizeof(e_cnt), "RBLKIT_COUNT=%u", v.count);
		snprintf(e_lim, sizeof(e_lim), "RBLKIT_LIMIT=%u", v.threshold);
		snprintf(e_base, sizeof(e_base), "RBLKIT_BASELINE=%.1f", v.mean);
		snprintf(e_win, sizeof(e_win), "RBLKIT_WINDOW=%s", win);
		snprintf(e_dom, sizeof(e_dom), "RBLKIT_DOMAINS=%s", top);
		snprintf(e_what, sizeof(e_what), "RBLKIT_KIND=%s", v.domains ? "domains" : "messages");
		run_alert(x, key, ev, ARRAY_SIZE(ev));
	}
	vars['u'] = key;
	vars['c'] = cnt;
	vars['l'] = th;
	vars['b'] = mean;
	vars['w'] = win;
	pcfg_expand(v.domains ? x->cfg->bl_dom_reply : x->cfg->bl_reply, vars, text, sizeof(text));
	snprintf(action, len, "%s %s", x->cfg->out_action == OA_HOLD ? "HOLD" : "DEFER", text);
}

/* Is key far above its own normal in the local table? Then the refusal
 * is in action (and the alert, once per window, is run). */
static bool baseline_refuse(struct pd_ctx *x, const char *key, uint32_t now, char *action,
			    size_t len)
{
	struct bl_params p;
	struct bl_verdict v;

	pd_bl_params(x->cfg, &p);
	if (!bl_check(x->bl, &p, key, now, &v))
		return false;
	baseline_act(x, key, &v, NULL, action, len);
	return true;
}

/* A count made here while the shared store is down, to merge later. */
static void count_pending(struct pd_ctx *x, const char *key, uint32_t now, uint32_t rcpts)
{
	struct rl_user *p;

	if (!x->pending)
		x->pending = rl_new(x->cfg->max_users);
	if ((p = rl_get(x->pending, key, true)))
		rl_add(p, x->periods, x->nperiods, now, 1, rcpts);
}

enum pd_verdict pd_outbound(struct pd_ctx *x, const struct pp_request *req,
			    const char *key, uint32_t now, char *action, size_t len)
{
	enum pp_state st = pp_state_of(req);
	const struct rl_limits *lim = pcfg_limits_for(x->cfg, key);
	uint32_t rcpts = 1, count = 0;
	struct rl_user *u;
	int idx;

	memcpy(action, "DUNNO", 6);
	if (st != PS_RCPT && st != PS_EOM)
		return PD_ACCEPTED;
	if (st == PS_EOM && req->recipient_count &&
	    parse_rcpts(req->recipient_count, &rcpts))
		return PD_BADREQ;
	u = rl_get(x->t, key, true);
	/* a full table may hold users idle for long: make room, but walk the
	 * table at most once a minute */
	if (!u && now - x->last_expire >= 60) {
		x->last_expire = now;
		if (rl_expire(x->t, now))
			u = rl_get(x->t, key, true);
	}
	if (!u) {
		log_warn("outbound: %zu users counted already (max_users); %s not counted",
			 rl_count(x->t), key);
		return PD_ACCEPTED;
	}
	if (u->blocked && x->cfg->block_until_reset) {
		count = rl_estimate(u, u->blocked_by.kind, u->blocked_by.period, now);
		refusal(x, u, &u->blocked_by, count, action, len);
		return PD_REFUSED;
	}
	/* blocked: even the smallest request would cross a limit */
	idx = rl_check(u, lim, now, 1, rcpts ? 1 : 0, &count);
	if (idx >= 0) {
		if (!u->blocked || u->blocked_by.period != lim->lim[idx].period ||
		    u->blocked_by.kind != lim->lim[idx].kind)
			cross(x, u, &lim->lim[idx], count, now);
		refusal(x, u, &u->blocked_by, count, action, len);
		return PD_REFUSED;
	}
	if (u->blocked) {
		u->blocked = false;
		if (x->pst)
			pst_unblock(x->pst, u->kn.key);
		log_info("outbound limit: %s is under its limits again", u->kn.key);
	}
	/* not blocked, but this message is larger than what is left */
	idx = rl_check(u, lim, now, 1, rcpts, &count);
	if (idx >= 0) {
		count = count > UINT32_MAX - rcpts ? UINT32_MAX : count + rcpts;
		oversize(x, u, &lim->lim[idx], rcpts, count, now);
		refusal(x, u, &lim->lim[idx], count, action, len);
		return PD_REFUSED;
	}
	if (st == PS_EOM) {
		rl_add(u, x->periods, x->nperiods, now, 1, rcpts);
		if (x->pst)
			pst_add(x->pst, u, x->periods, x->nperiods, now, 1, rcpts);
		if (x->store)
			count_pending(x, u->kn.key, now, rcpts);
		if (x->bl)
			bl_count_msg(x, key, now);
	}
	return PD_ACCEPTED;
}

/* -- the shared store ------------------------------------------------- */

/* The local record of key (for status, blocks and the fail-over), or
 * tmp holding only the key when the table is full. */
static struct rl_user *local_user(struct pd_ctx *x, const char *key, struct rl_user *tmp)
{
	struct rl_user *u = rl_get(x->t, key, true);

	if (u)
		return u;
	memset(tmp, 0, sizeof(*tmp));
	tmp->kn.key = (char *)key;
	return tmp;
}

/* The store's answer r for w, as pd_outbound() would have answered. */
static enum pd_verdict apply_shared(struct pd_ctx *x, struct pd_wait *w,
				    const struct pcs_result *r)
{
	const struct rl_limits *lim = pcfg_limits_for(x->cfg, w->key);
	struct rl_user tmp, *u = local_user(x, w->key, &tmp);
	char *action = w->action;
	size_t len = sizeof(w->action);
	struct rl_limit l;
	char lt[64];

	if ((r->code == PCS_CROSS || r->code == PCS_OVERSIZE) && r->idx >= (int)lim->n)
		return PD_BADREQ;	/* the configuration changed meanwhile */
	switch (r->code) {
	case PCS_ACCEPT:
		if (u->blocked && u != &tmp) {
			u->blocked = false;
			if (x->pst)
				pst_unblock(x->pst, u->kn.key);
			log_info("outbound limit: %s is under its limits again", u->kn.key);
		}
		if (w->eom && u != &tmp) {
			rl_add(u, x->periods, x->nperiods, w->now, 1, w->rcpts);
			if (x->pst)
				pst_add(x->pst, u, x->periods, x->nperiods, w->now, 1, w->rcpts);
		}
		if (w->eom && x->bl)
			bl_count_msg(x, w->key, w->now);
		memcpy(action, "DUNNO", 6);
		return PD_ACCEPTED;
	case PCS_CROSS:
		l = lim->lim[r->idx];
		if (!u->blocked || u->blocked_by.period != l.period || u->blocked_by.kind != l.kind ||
		    r->first) {
			u->blocked = true;
			u->blocked_since = w->now;
			u->blocked_by = l;
			if (x->pst && u != &tmp)
				pst_block(x->pst, u);
			rl_limit_text(&l, lt, sizeof(lt));
			log_warn("outbound limit: %s blocked at %u (limit %s, shared)%s", u->kn.key,
				 r->count, lt, r->first ? "" : "; alert already sent in this window");
		}
		if (r->first)
			alert(x, u, &l, r->count);
		refusal(x, u, &l, r->count, action, len);
		return PD_REFUSED;
	case PCS_OVERSIZE: {
		uint32_t count = r->count > UINT32_MAX - w->rcpts ? UINT32_MAX : r->count + w->rcpts;

		l = lim->lim[r->idx];
		rl_limit_text(&l, lt, sizeof(lt));
		log_warn("outbound limit: %s: a message of %u recipients refused, it would "
			 "make %u (limit %s, shared); not blocked%s", u->kn.key, w->rcpts, count, lt,
			 r->first ? "" : "; alert already sent in this window");
		if (r->first)
			alert(x, u, &l, count);
		refusal(x, u, &l, count, action, len);
		return PD_REFUSED;
	}
	case PCS_BASELINE: {
		struct bl_verdict v = { .over = true, .alert = r->first, .day = r->idx == 1,
					.domains = r->kind == 1, .count = r->count,
					.mean = r->mean, .sd = r->sd, .threshold = r->threshold };

		baseline_act(x, w->key, &v, r->top, action, len);
		return PD_REFUSED;
	}
	case PCS_BLOCKED:
		memset(&l, 0, sizeof(l));
		l.kind = r->kind ? RL_RECIPIENTS : RL_MESSAGES;
		l.period = r->period;
		for (size_t i = 0; i < lim->n; i++)
			if (lim->lim[i].kind == l.kind && lim->lim[i].period == l.period)
				l = lim->lim[i];
		refusal(x, u, &l, r->count, action, len);
		return PD_REFUSED;
	case PCS_ERROR:
		break;
	}
	return PD_BADREQ;
}

static void on_shared(void *arg, const struct pcs_result *r)
{
	struct pd_wait *w = arg;
	struct pd_ctx *x = w->x;
	enum pd_verdict v;

	w->r = NULL;
	v = r->code == PCS_ERROR ? PD_BADREQ : apply_shared(x, w, r);
	if (v == PD_BADREQ) {	/* no usable answer: the local counters decide */
		if (x->bl && baseline_refuse(x, w->key, w->now, w->action, sizeof(w->action)))
			v = PD_REFUSED;
		else
			v = pd_outbound(x, w->req, w->key, w->now, w->action, sizeof(w->action));
	}
	w->done(w, v, w->action);
}

enum pd_verdict pd_outbound_async(struct pd_ctx *x, const struct pp_request *req,
				  const char *key, uint32_t now, char *action, size_t len,
				  struct pd_wait *w, pd_done_cb *done)
{
	enum pp_state st = pp_state_of(req);
	struct pcs_args a = { 0 };
	uint32_t rcpts = 1;

	if (x->cfg->baseline && (st == PS_RCPT || st == PS_EOM)) {
		struct bl_params p;

		if (!x->bl)
			x->bl = bl_new(x->cfg->max_users);
		pd_bl_params(x->cfg, &p);
		if (st == PS_RCPT)	/* a local copy, for an outage of the store */
			bl_recipient(x->bl, &p, key, req->recipient, now);
		/* with the store up, the shared baseline decides (below) */
		if (!pcs_up(x->store) && baseline_refuse(x, key, now, action, len))
			return PD_REFUSED;
	}
	if (!pcs_up(x->store) || (st != PS_RCPT && st != PS_EOM))
		return pd_outbound(x, req, key, now, action, len);
	if (st == PS_EOM && req->recipient_count && parse_rcpts(req->recipient_count, &rcpts))
		return pd_outbound(x, req, key, now, action, len);
	a.key = key;
	a.lim = pcfg_limits_for(x->cfg, key);
	a.periods = x->periods;
	a.nperiods = x->nperiods;
	a.now = now;
	a.rcpts = rcpts;
	a.add = st == PS_EOM;
	a.until_reset = x->cfg->block_until_reset;
	a.baseline = x->cfg->baseline;
	a.bl_factor = x->cfg->bl_factor;
	a.bl_min = x->cfg->bl_min;
	a.bl_new = x->cfg->bl_new;
	a.bl_dom_factor = x->cfg->bl_dom_factor;
	a.bl_dom_min = x->cfg->bl_dom_min;
	a.bl_dom_new = x->cfg->bl_dom_new;
	/* the domain of this RCPT: the cluster's top domains (and, with
	 * baseline_domains_factor, its distinct domains) */
	if (st == PS_RCPT && x->cfg->baseline && req->recipient && strrchr(req->recipient, '@'))
		a.domain = strrchr(req->recipient, '@') + 1;
	w->x = x;
	w->req = req;
	w->key = key;
	w->done = done;
	w->now = now;
	w->rcpts = rcpts;
	w->eom = st == PS_EOM;
	if (!(w->r = pcs_check(x->store, &a, on_shared, w)))
		return pd_outbound(x, req, key, now, action, len);
	return PD_WAIT;
}

void pd_cancel(struct pd_wait *w)
{
	if (w->r) {
		pcs_cancel(w->r);
		w->r = NULL;
	}
}

static void merge_one(void *arg, struct rl_user *u)
{
	struct pd_ctx *x = arg;

	pcs_merge(x->store, u, (uint32_t)time(NULL));
}

void pd_store_state(void *arg, bool up)
{
	struct pd_ctx *x = arg;

	if (!up) {
		if (x->store_alerted)
			return;
		x->store_alerted = true;
		log_warn("outbound_store unreachable: limits are counted by this daemon "
			 "alone until it returns (fail open)");
		if (x->cfg->alert_command) {
			char ev[] = "RBLKIT_EVENT=store_unreachable";
			char *vars[] = { ev };

			run_alert(x, "outbound_store", vars, 1);
		}
		return;
	}
	x->store_alerted = false;
	if (x->pending && rl_count(x->pending)) {
		log_info("outbound_store is back: merging the counts of %zu users made "
			 "meanwhile", rl_count(x->pending));
		rl_foreach(x->pending, merge_one, x);
	}
	rl_free(x->pending);
	x->pending = NULL;
}

void pd_inbound(const struct pcfg *cfg, const struct pp_request *req,
		const struct plk_result *res, char *action, size_t len)
{
	const char *vars[128] = { 0 };
	char score[16];

	if (!res->detail[0] || (!res->listed && cfg->dnsbl_action == DA_REJECT)) {
		memcpy(action, "DUNNO", 6);	/* the common case, without printf */
		return;
	}
	snprintf(score, sizeof(score), "%d", res->score);
	vars['a'] = req->client_address ? req->client_address : "";
	vars['z'] = res->zone;
	vars['t'] = res->txt;
	vars['s'] = score;
	vars['d'] = res->detail;
	if (cfg->dnsbl_action == DA_PREPEND) {
		if (!res->detail[0]) {
			snprintf(action, len, "DUNNO");
			return;
		}
		snprintf(action, len, "PREPEND %s: score=%d threshold=%d lists=%s%s",
			 cfg->dnsbl_header, res->score, cfg->threshold, res->detail,
			 res->listed ? " listed" : "");
		return;
	}
	if (!res->listed) {
		snprintf(action, len, "DUNNO");
		return;
	}
	pcfg_expand(cfg->dnsbl_reply, vars, action, len);
}
