/*
 * admin.c - the operator's console /admin: log-in (argon2id hashes,
 * libsodium crypto_pwhash_str_verify), sessions in the store, roles
 * (viewer sees; operator decides requests, adds, removes, extends;
 * admin also manages API keys), the review queue, search, the audit log.
 *
 *   GET  /admin                 log-in form, or the console
 *   POST /admin/login           user, password, csrf (double-submit cookie)
 *   POST /admin/logout          csrf (the session's)
 *   POST /admin/decide          id, decision=approve|deny, note, csrf
 *   POST /admin/action          zone, key, op=add|remove|extend, reason, ttl, csrf
 *   POST /admin/keys            op=create (name, scopes) | delete (id), csrf
 *   GET  /admin/check?q=        the check page (check.c)
 *   GET  /admin/watch[?days=N]  the watch dashboard (watch.c)
 *
 * SECURITY: the session cookie is 32 random bytes (HttpOnly,
 * SameSite=Strict, Path=/admin, Secure with cookie_secure); the store
 * keeps its digest. Every POST carries the session's CSRF token. Log-in
 * attempts are rate-limited per client; a wrong user and a wrong
 * password look the same. Redirects go to the fixed path /admin only.
 */
#include "web/web_int.h"
#include "web/sodium.h"
#include "base/util.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct admin {
	struct web_req *r;
	struct store_web_session s;
	struct store_web_user u;
};

static void redirect(struct web_req *r)
{
	web_buf_free(&r->out);
	r->status = 303;
	web_header(r, "Location", "/admin");
	H_LIT(&r->out, "<!DOCTYPE html><p><a href=\"/admin\">/admin</a></p>\n");
}

static void login_form(struct web_req *r, int failed)
{
	struct web_buf *b = &r->out;
	const char *tok = web_csrf_token(r);

	web_page_begin(r, web_msg(r->lang, M_ADMIN));
	if (failed) {
		r->status = 403;
		H_LIT(b, "<p class=\"error\">");
		web_text(b, web_msg(r->lang, M_LOGIN_FAILED));
		H_LIT(b, "</p>");
	}
	H_LIT(b, "<form method=\"post\" action=\"/admin/login\">");
	web_csrf_field(r, tok);
	H_LIT(b, "<p><label>");
	web_text(b, web_msg(r->lang, M_USER));
	H_LIT(b, " <input type=\"text\" name=\"user\" id=\"user\" autocomplete=\"username\"></label></p><p><label>");
	web_text(b, web_msg(r->lang, M_PASSWORD));
	H_LIT(b, " <input type=\"password\" name=\"password\" id=\"password\" autocomplete=\"current-password\"></label></p><p><button type=\"submit\" id=\"login\">");
	web_text(b, web_msg(r->lang, M_LOGIN));
	H_LIT(b, "</button></p></form>");
	web_page_end(r);
}

/* A hash to verify against when the user does not exist, so that a
 * wrong user takes as long as a wrong password. */
static char dummy_hash[crypto_pwhash_STRBYTES];
static pthread_once_t dummy_once = PTHREAD_ONCE_INIT;

static void dummy_make(void)
{
	char pw[33];

	web_token(pw, 16);
	if (crypto_pwhash_str(dummy_hash, pw, strlen(pw), crypto_pwhash_OPSLIMIT_INTERACTIVE,
			      crypto_pwhash_MEMLIMIT_INTERACTIVE))
		dummy_hash[0] = 0;
}

static void do_login(struct web_req *r)
{
	const char *user = web_kv_get(&r->form, "user"), *pw = web_kv_get(&r->form, "password");
	struct store_web_user u;
	struct store_web_session s = { 0 };
	char sid[65], cookie[200];
	int over, found;

	if (!web_csrf_ok(r, "csrf")) {
		web_page_msg(r, 403, M_FORBIDDEN);
		return;
	}
	over = web_rate_over(r, "login", r->client, r->srv->conf->rate_login);
	if (over) {
		web_page_msg(r, over > 0 ? 429 : 500, over > 0 ? M_RATE_LIMITED : M_INTERNAL);
		return;
	}
	found = user && pw && strlen(pw) <= 1024 && store_web_user_get(r->t->st, user, &u) == 0;
	if (!found && pw && strlen(pw) <= 1024) {
		pthread_once(&dummy_once, dummy_make);
		if (dummy_hash[0] && crypto_pwhash_str_verify(dummy_hash, pw, strlen(pw)) == 0)
			log_warn("web: a random password matched");
	}
	if (!found || crypto_pwhash_str_verify(u.hash, pw, strlen(pw))) {
		log_warn("web: console log-in refused for '%.64s' from %s", user ? user : "",
			 r->client);
		login_form(r, 1);
		return;
	}
	web_token(sid, 32);
	web_digest(sid, s.id);
	str_copy(s.user, sizeof(s.user), u.name);
	web_token(s.csrf, 32);
	s.expires = r->now + r->srv->conf->session_ttl;
	if (store_web_session_put(r->t->st, &s, r->now)) {
		log_err("web: %s", store_error(r->t->st));
		web_page_msg(r, 500, M_INTERNAL);
		return;
	}
	store_web_audit_add(r->t->st, r->now, u.name, "login", r->client);
	redirect(r);
	snprintf(cookie, sizeof(cookie), "sid=%s; Path=/admin; HttpOnly; SameSite=Strict%s", sid,
		 r->srv->conf->cookie_secure ? "; Secure" : "");
	web_header(r, "Set-Cookie", cookie);
}

/* The session of the request: 0 with a->s, a->u and the role in *role,
 * -1 without one. */
static int session(struct web_req *r, void *ctx, unsigned *role)
{
	struct admin *a = ctx;
	const char *sid = web_kv_get(&r->cookies, "sid");
	char d[65];

	if (!sid || strlen(sid) != 64)
		return -1;
	web_digest(sid, d);
	if (store_web_session_get(r->t->st, d, r->now, &a->s) ||
	    store_web_user_get(r->t->st, a->s.user, &a->u))
		return -1;
	*role = (unsigned)a->u.role;
	return 0;
}

static int csrf_ok(struct web_req *r, void *ctx)
{
	struct admin *a = ctx;
	const char *f = web_kv_get(&r->form, "csrf");

	return f && strlen(f) == 64 && strlen(a->s.csrf) == 64 &&
	       sodium_memcmp(f, a->s.csrf, 64) == 0;
}

static int role_ok(unsigned role, const struct web_route *rt)
{
	return role >= rt->need;
}

static void csrf_field(struct admin *a)
{
	H_LIT(&a->r->out, "<input type=\"hidden\" name=\"csrf\"");
	H_ATTR(&a->r->out, "value", a->s.csrf);
	H_LIT(&a->r->out, ">");
}

static int queue_row(void *arg, const struct store_web_request *q)
{
	struct admin *a = arg;
	struct web_buf *b = &a->r->out;
	char id[24];

	snprintf(id, sizeof(id), "%lld", (long long)q->id);
	H_LIT(b, "<tr class=\"request\"><td>");
	web_text(b, id);
	H_LIT(b, "</td><td>");
	web_time(a->r, q->created);
	H_LIT(b, "</td><td>");
	web_text(b, q->zone);
	H_LIT(b, "</td><td><code>");
	web_text(b, q->key);
	H_LIT(b, "</code></td><td>");
	web_text(b, q->client);
	H_LIT(b, "</td><td>");
	web_text(b, q->reason);
	H_LIT(b, "<br><small>");
	web_text(b, q->why);
	H_LIT(b, "</small></td><td>");
	if (a->u.role >= WEB_OPERATOR) {
		H_LIT(b, "<form method=\"post\" action=\"/admin/decide\">");
		csrf_field(a);
		H_LIT(b, "<input type=\"hidden\" name=\"id\"");
		H_ATTR(b, "value", id);
		H_LIT(b, "><button type=\"submit\" name=\"decision\" value=\"approve\"");
		snprintf(id, sizeof(id), "approve-%lld", (long long)q->id);
		H_ATTR(b, "id", id);
		H_LIT(b, ">");
		web_text(b, web_msg(a->r->lang, M_APPROVE));
		H_LIT(b, "</button> <button type=\"submit\" name=\"decision\" value=\"deny\">");
		web_text(b, web_msg(a->r->lang, M_DENY));
		H_LIT(b, "</button></form>");
	}
	H_LIT(b, "</td></tr>");
	return 0;
}

static int audit_row(void *arg, const struct store_web_audit *e)
{
	struct admin *a = arg;
	struct web_buf *b = &a->r->out;

	H_LIT(b, "<tr><td>");
	web_time(a->r, e->time);
	H_LIT(b, "</td><td>");
	web_text(b, e->actor);
	H_LIT(b, "</td><td>");
	web_text(b, e->action);
	H_LIT(b, "</td><td>");
	web_text(b, e->detail);
	H_LIT(b, "</td></tr>");
	return 0;
}

static int key_row(void *arg, const struct store_web_key *k)
{
	struct admin *a = arg;
	struct web_buf *b = &a->r->out;

	H_LIT(b, "<tr><td><code>");
	web_text(b, k->id);
	H_LIT(b, "</code></td><td>");
	web_text(b, k->name);
	H_LIT(b, "</td><td>");
	web_textf(b, "%s%s%s%s", k->scopes & WEB_SCOPE_LOOKUP ? "lookup " : "",
		  k->scopes & WEB_SCOPE_REPORT ? "report " : "",
		  k->scopes & WEB_SCOPE_REMOVE ? "remove " : "",
		  k->scopes & WEB_SCOPE_SEARCH ? "search" : "");
	H_LIT(b, "</td><td><form method=\"post\" action=\"/admin/keys\">");
	csrf_field(a);
	H_LIT(b, "<input type=\"hidden\" name=\"op\" value=\"delete\"><input type=\"hidden\" name=\"id\"");
	H_ATTR(b, "value", k->id);
	H_LIT(b, "><button type=\"submit\">x</button></form></td></tr>");
	return 0;
}

static int search_row(void *arg, const struct store_listing *l)
{
	struct admin *a = arg;
	struct web_buf *b = &a->r->out;
	static const char *const st[] = { "", "listed", "removed", "expired", "excluded", "pending" };

	H_LIT(b, "<tr><td><code>");
	web_text(b, l->key.text);
	H_LIT(b, "</code></td><td>");
	web_text(b, l->state > 0 && l->state <= 5 ? st[l->state] : "?");
	H_LIT(b, "</td><td>");
	web_text(b, l->reason);
	H_LIT(b, "</td><td>");
	web_time(a->r, l->expires);
	H_LIT(b, "</td></tr>");
	return 0;
}

/* Listings of zone by the query's state (listed) and network (within). */
static void search(struct admin *a, const char *zone)
{
	static const char *const states[] = { "any", "listed", "removed", "expired", "excluded",
					      "pending" };
	struct web_req *r = a->r;
	const char *st = web_kv_get(&r->query, "state"), *w = web_kv_get(&r->query, "within");
	struct store_filter f = { .state = STORE_LISTED, .limit = 200 };
	struct store_key net;
	char why[200] = "";

	for (int i = 0; st && i < 6; i++)
		if (!strcmp(st, states[i]))
			f.state = i;
	if (w && *w) {
		if (store_key_parse(w, &net, why, sizeof(why)) || net.kind == STORE_NAME ||
		    net.kind == STORE_WILD) {
			H_LIT(&r->out, "<p class=\"error\">");
			web_text(&r->out, why[0] ? why : "expected a network");
			H_LIT(&r->out, "</p>");
			return;
		}
		f.within = &net;
	}
	H_LIT(&r->out, "<table id=\"search\">");
	if (store_search(r->t->st, zone, &f, search_row, a))
		log_err("web: search: %s", store_error(r->t->st));
	H_LIT(&r->out, "</table>");
}

static void h2(struct web_req *r, enum web_msg m)
{
	H_LIT(&r->out, "<h2>");
	web_text(&r->out, web_msg(r->lang, m));
	H_LIT(&r->out, "</h2>");
}

static void console(struct admin *a, const char *notice, const char *shown_key)
{
	struct web_req *r = a->r;
	struct web_buf *b = &r->out;
	const char *sz = web_kv_get(&r->query, "zone");

	web_page_begin(r, web_msg(r->lang, M_ADMIN));
	H_LIT(b, "<p>");
	web_text(b, a->u.name);
	H_LIT(b, " (");
	web_text(b, web_role_name(a->u.role));
	H_LIT(b, ")</p><form method=\"post\" action=\"/admin/logout\">");
	csrf_field(a);
	H_LIT(b, "<button type=\"submit\">");
	web_text(b, web_msg(r->lang, M_LOGOUT));
	H_LIT(b, "</button></form>");
	if (notice) {
		H_LIT(b, "<p class=\"notice\" id=\"notice\">");
		web_text(b, notice);
		H_LIT(b, "</p>");
	}
	if (shown_key) {
		H_LIT(b, "<p>API key (shown once): <code id=\"newkey\">");
		web_text(b, shown_key);
		H_LIT(b, "</code></p>");
	}
	h2(r, M_QUEUE);
	H_LIT(b, "<table id=\"queue\">");
	store_web_requests(r->t->st, STORE_WEB_PENDING, 200, queue_row, a);
	H_LIT(b, "</table>");
	if (a->u.role >= WEB_OPERATOR) {
		H_LIT(b, "<h2>add / remove / extend</h2><form method=\"post\" action=\"/admin/action\">");
		csrf_field(a);
		H_LIT(b, "<select name=\"zone\">");
		for (size_t i = 0; i < r->srv->conf->zones.n; i++) {
			H_LIT(b, "<option");
			H_ATTR(b, "value", r->srv->conf->zones.v[i]);
			H_LIT(b, ">");
			web_text(b, r->srv->conf->zones.v[i]);
			H_LIT(b, "</option>");
		}
		H_LIT(b, "</select> <input type=\"text\" name=\"key\" placeholder=\"192.0.2.1\"> "
			 "<select name=\"op\"><option>add</option><option>remove</option>"
			 "<option>extend</option></select> <input type=\"text\" name=\"ttl\" "
			 "placeholder=\"7d\"> <input type=\"text\" name=\"reason\" placeholder=\"reason\">"
			 " <button type=\"submit\">OK</button></form>");
	}
	h2(r, M_SEARCH);
	H_LIT(b, "<form method=\"get\" action=\"/admin\"><select name=\"zone\">");
	for (size_t i = 0; i < r->srv->conf->zones.n; i++) {
		H_LIT(b, "<option");
		H_ATTR(b, "value", r->srv->conf->zones.v[i]);
		H_LIT(b, ">");
		web_text(b, r->srv->conf->zones.v[i]);
		H_LIT(b, "</option>");
	}
	H_LIT(b, "</select> <select name=\"state\"><option>listed</option><option>removed</option>"
		 "<option>expired</option><option>pending</option><option>any</option></select> "
		 "<input type=\"text\" name=\"within\" placeholder=\"192.0.2.0/24\"> "
		 "<button type=\"submit\">");
	web_text(b, web_msg(r->lang, M_SEARCH));
	H_LIT(b, "</button></form>");
	if (web_zone_known(r->srv->conf, sz))
		search(a, sz);
	if (a->u.role >= WEB_ADMIN) {
		h2(r, M_KEYS);
		H_LIT(b, "<table>");
		store_web_keys(r->t->st, key_row, a);
		H_LIT(b, "</table><form method=\"post\" action=\"/admin/keys\">");
		csrf_field(a);
		H_LIT(b, "<input type=\"hidden\" name=\"op\" value=\"create\"><input type=\"text\" "
			 "name=\"name\" placeholder=\"name\"> <input type=\"text\" name=\"scopes\" "
			 "placeholder=\"lookup,search\"> <button type=\"submit\">+</button></form>");
	}
	h2(r, M_AUDIT);
	H_LIT(b, "<table id=\"audit\">");
	store_web_audit(r->t->st, 50, audit_row, a);
	H_LIT(b, "</table>");
	web_page_end(r);
}

static void decide(struct admin *a)
{
	struct web_req *r = a->r;
	const char *id = web_kv_get(&r->form, "id"), *d = web_kv_get(&r->form, "decision");
	const char *note = web_kv_get(&r->form, "note");
	struct store_web_request q;
	struct list_ctx lc;
	struct list_result res;
	char actor[160], err[256], why[300], msg[320];
	long long n = id ? strtoll(id, NULL, 10) : 0;
	int approve = d && !strcmp(d, "approve");

	if (!d || (!approve && strcmp(d, "deny")) || n <= 0 ||
	    store_web_request_get(r->t->st, n, &q)) {
		web_page_msg(r, 400, M_BAD_REQUEST);
		return;
	}
	snprintf(actor, sizeof(actor), "admin:%s", a->u.name);
	if (store_web_request_decide(r->t->st, n, STORE_WEB_PENDING,
				     approve ? STORE_WEB_APPROVED : STORE_WEB_DENIED, r->now,
				     a->u.name, note)) {
		console(a, "already decided", NULL);
		return;
	}
	if (approve) {
		snprintf(why, sizeof(why), "request %lld approved%s%.200s", n,
			 q.reason[0] ? ": " : "", q.reason);
		web_list_ctx(r, &lc);
		if (list_do_remove(&lc, q.zone, q.key, why, actor, 0, &res, err, sizeof(err))) {
			log_err("web: approve %lld: %s", n, err);
			web_page_msg(r, 500, M_INTERNAL);
			return;
		}
	}
	snprintf(msg, sizeof(msg), "%s request %lld: %.100s %.150s",
		 approve ? "approved" : "denied", n, q.zone, q.key);
	store_web_audit_add(r->t->st, r->now, a->u.name, approve ? "approve" : "deny", msg);
	console(a, msg, NULL);
}

static void action(struct admin *a)
{
	struct web_req *r = a->r;
	const char *zone = web_kv_get(&r->form, "zone"), *key = web_kv_get(&r->form, "key");
	const char *op = web_kv_get(&r->form, "op"), *reason = web_kv_get(&r->form, "reason");
	const char *ttl = web_kv_get(&r->form, "ttl");
	struct list_ctx lc;
	struct list_result res;
	char actor[160], err[256], msg[400], why[200];
	struct store_key k;
	uint32_t t = 0;
	int rc;

	if (!web_zone_known(r->srv->conf, zone) || !key || !op ||
	    (ttl && *ttl && (!parse_time(ttl, &t) || *parse_time(ttl, &t)))) {
		web_page_msg(r, 400, M_BAD_REQUEST);
		return;
	}
	if (store_key_parse(key, &k, why, sizeof(why))) {
		console(a, why, NULL);  /* what is wrong with the operator's key */
		return;
	}
	if (reason && !*reason)
		reason = NULL;
	snprintf(actor, sizeof(actor), "admin:%s", a->u.name);
	web_list_ctx(r, &lc);
	if (!strcmp(op, "remove")) {
		rc = list_do_remove(&lc, zone, key, reason, actor, 0, &res, err, sizeof(err));
	} else if (!strcmp(op, "add") || !strcmp(op, "extend")) {
		struct list_add ad = { .reason = reason, .ttl = t, .source = "web", .actor = actor };

		rc = list_do_add(&lc, zone, key, &ad, &res, err, sizeof(err));
	} else {
		web_page_msg(r, 400, M_BAD_REQUEST);
		return;
	}
	if (rc) {
		/* the engine's words may name files or hosts: to the log only */
		log_err("web: %s %s %s: %s", op, zone, key, err);
		web_page_msg(r, 500, M_INTERNAL);
		return;
	}
	snprintf(msg, sizeof(msg), "%s %s %s: %s", op, zone, res.key, list_outcome_name(res.outcome));
	store_web_audit_add(r->t->st, r->now, a->u.name, op, msg);
	console(a, msg, NULL);
}

static void keys(struct admin *a)
{
	struct web_req *r = a->r;
	const char *op = web_kv_get(&r->form, "op");
	char msg[200], key[128];

	if (op && !strcmp(op, "create")) {
		const char *name = web_kv_get(&r->form, "name");
		long s = web_scopes_parse(web_kv_get(&r->form, "scopes"));
		struct store_web_key k;

		if (!name || s <= 0) {
			web_page_msg(r, 400, M_BAD_REQUEST);
			return;
		}
		web_key_make((unsigned)s, name, key, sizeof(key), &k);
		if (store_web_key_put(r->t->st, &k)) {
			web_page_msg(r, 500, M_INTERNAL);
			return;
		}
		snprintf(msg, sizeof(msg), "key %s (%s)", k.id, name);
		store_web_audit_add(r->t->st, r->now, a->u.name, "key create", msg);
		console(a, msg, key);
	} else if (op && !strcmp(op, "delete")) {
		const char *id = web_kv_get(&r->form, "id");

		if (!id || store_web_key_del(r->t->st, id)) {
			web_page_msg(r, 400, M_BAD_REQUEST);
			return;
		}
		snprintf(msg, sizeof(msg), "key %s deleted", id);
		store_web_audit_add(r->t->st, r->now, a->u.name, "key delete", msg);
		console(a, msg, NULL);
	} else {
		web_page_msg(r, 400, M_BAD_REQUEST);
	}
}

static void admin_deny(struct web_req *r, void *ctx, enum web_deny why,
		       const struct web_route *rt)
{
	if (why == WEB_DENY_STORE)
		web_page_msg(r, 503, M_INTERNAL);
	else if (why == WEB_DENY_WHO && !r->is_post && !strcmp(r->path, "/admin"))
		login_form(r, 0);
	else if (why == WEB_DENY_RIGHTS)
		web_page_msg(r, 403, M_NO_RIGHTS);
	else if ((why == WEB_DENY_WHO || why == WEB_DENY_CSRF) && r->is_post)
		web_page_msg(r, 403, M_FORBIDDEN);
	else                            /* a wrong path or method: nothing is there */
		web_page_msg(r, 404, M_NOT_FOUND);
}

static const struct web_route admin_routes[] = {
	{ "", WEB_GET, WEB_VIEWER, NULL, 0 },
	{ "/login", WEB_POST, 0, NULL, WEB_ROUTE_PUBLIC },
	{ "/logout", WEB_POST, WEB_VIEWER, NULL, 0 },
	{ "/decide", WEB_POST, WEB_OPERATOR, NULL, 0 },
	{ "/action", WEB_POST, WEB_OPERATOR, NULL, 0 },
	{ "/keys", WEB_POST, WEB_ADMIN, NULL, 0 },
	{ "/check", WEB_GET, WEB_VIEWER, NULL, 0 },
	{ "/watch", WEB_GET, WEB_VIEWER, NULL, 0 },
};

static const struct web_guard_ops admin_ops = { session, csrf_ok, role_ok, admin_deny };

void web_admin(struct web_req *r)
{
	struct admin a = { .r = r };
	const struct web_route *rt;
	const char *p;

	if (!(rt = web_guard(r, "/admin", admin_routes,
			     sizeof(admin_routes) / sizeof(admin_routes[0]), &admin_ops, &a)))
		return;
	p = rt->path;
	if (!strcmp(p, "/login")) {
		do_login(r);
	} else if (!*p) {
		console(&a, NULL, NULL);
	} else if (!strcmp(p, "/logout")) {
		store_web_session_del(r->t->st, a.s.id);
		redirect(r);
		web_header(r, "Set-Cookie", "sid=; Path=/admin; HttpOnly; SameSite=Strict; Max-Age=0");
	} else if (!strcmp(p, "/decide")) {
		decide(&a);
	} else if (!strcmp(p, "/action")) {
		action(&a);
	} else if (!strcmp(p, "/check")) {
		web_check_page(r);
	} else if (!strcmp(p, "/watch")) {
		web_watch_page(r);
	} else {
		keys(&a);
	}
}
