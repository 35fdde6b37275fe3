/*
 * api.c - the JSON API /api/v1/ (docs/web.md has examples):
 *   GET  /api/v1/lookup?q=ADDR|NAME      scope lookup
 *   GET  /api/v1/search?zone=Z[&state=listed&limit=N]   scope search
 *   POST /api/v1/report {zone,key,trap,evidence,dry_run}  scope report (a hit)
 *   POST /api/v1/add    {zone,key,reason,code,dry_run}    scope report
 *   POST /api/v1/remove {zone,key,reason,dry_run}         scope remove
 * Authorization: Bearer rk_ID_SECRET. Errors are {"error": "..."} with
 * 400/401/403/404/405/429/500; dry_run says what would happen and
 * changes nothing.
 *
 * SECURITY: hostile requests; the key is compared by its SHA-256 digest
 * in constant time, scopes are checked before anything is read; the
 * body is parsed by web_json_parse (fuzzed). Output goes through the
 * JSON escaper only.
 */
#include "web/web_int.h"
#include "web/mhd.h"
#include "web/sodium.h"
#include "base/util.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void jerr(struct web_req *r, unsigned status, const char *msg)
{
	web_buf_free(&r->out);
	r->status = status;
	H_LIT(&r->out, "{\"error\":");
	web_json(&r->out, msg);
	H_LIT(&r->out, "}\n");
}

/* The scopes of the request's key: 0, or -1 without a valid one. */
static int key_scopes(struct web_req *r, void *ctx, unsigned *scopes)
{
	const char *h = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Authorization");
	struct store_web_key k;
	char id[STORE_WEB_NAME_MAX], digest[65];
	const char *key, *us;

	if (!h || strncmp(h, "Bearer ", 7))
		return -1;
	key = h + 7;
	if (strncmp(key, "rk_", 3) || !(us = strchr(key + 3, '_')) || us - key - 3 <= 0 ||
	    (size_t)(us - key - 3) >= sizeof(id) || strlen(key) > 200)
		return -1;
	memcpy(id, key + 3, (size_t)(us - key - 3));
	id[us - key - 3] = 0;
	if (store_web_key_get(r->t->st, id, &k))
		return -1;
	web_digest(key, digest);
	if (strlen(k.hash) != 64 || sodium_memcmp(digest, k.hash, 64))
		return -1;
	*scopes = k.scopes;
	return 0;
}

static int has_scope(unsigned scopes, const struct web_route *rt)
{
	return (scopes & rt->need) != 0;
}

static void api_deny(struct web_req *r, void *ctx, enum web_deny why, const struct web_route *rt)
{
	char m[80];
	const char *h;

	switch (why) {
	case WEB_DENY_STORE:
		jerr(r, 503, "store unavailable");
		break;
	case WEB_DENY_WHO:
		h = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Authorization");
		jerr(r, 401, h && !strncmp(h, "Bearer ", 7) ? "unknown API key"
			: "an API key is needed: Authorization: Bearer KEY");
		break;
	case WEB_DENY_METHOD:
		jerr(r, 405, r->is_post ? "use GET" : "use POST");
		break;
	case WEB_DENY_RIGHTS:
		snprintf(m, sizeof(m), "this key lacks the scope '%s'", rt->name);
		jerr(r, 403, m);
		break;
	default:
		jerr(r, 404, "no such API");
		break;
	}
}

static const struct web_route api_routes[] = {
	{ "lookup", WEB_GET, WEB_SCOPE_LOOKUP, "lookup", 0 },
	{ "search", WEB_GET, WEB_SCOPE_SEARCH, "search", 0 },
	{ "report", WEB_POST, WEB_SCOPE_REPORT, "report", 0 },
	{ "add", WEB_POST, WEB_SCOPE_REPORT, "report", 0 },
	{ "remove", WEB_POST, WEB_SCOPE_REMOVE, "remove", 0 },
};

static const struct web_guard_ops api_ops = { key_scopes, NULL, has_scope, api_deny };

static void code_json(struct web_buf *b, uint32_t code)
{
	char t[20];

	snprintf(t, sizeof(t), "%u.%u.%u.%u", code >> 24, (code >> 16) & 255, (code >> 8) & 255,
		 code & 255);
	web_json(b, t);
}

static const char *state_name(int s)
{
	static const char *const n[] = { "", "listed", "removed", "expired", "excluded", "pending" };

	return s > 0 && s <= 5 ? n[s] : "unknown";
}

static void listing_json(struct web_buf *b, const struct store_listing *l)
{
	H_LIT(b, "{\"key\":");
	web_json(b, l->key.text);
	H_LIT(b, ",\"state\":");
	web_json(b, state_name(l->state));
	H_LIT(b, ",\"code\":");
	if (l->code)
		code_json(b, l->code);
	else
		H_LIT(b, "null");
	H_LIT(b, ",\"reason\":");
	web_json(b, l->reason);
	H_LIT(b, ",\"first_seen\":");
	web_jsonint(b, l->first_seen);
	H_LIT(b, ",\"last_seen\":");
	web_jsonint(b, l->last_seen);
	H_LIT(b, ",\"expires\":");
	web_jsonint(b, l->expires);
	H_LIT(b, ",\"hits\":");
	web_jsonint(b, l->hits);
	H_LIT(b, ",\"source\":");
	web_json(b, l->source);
	H_LIT(b, "}");
}

static void lookup(struct web_req *r)
{
	struct web_buf *b = &r->out;
	const char *q = web_kv_get(&r->query, "q");
	const struct web_conf *c = r->srv->conf;
	struct web_dns_answer a[16];
	struct store_key k;
	unsigned n = c->zones.n > 16 ? 16 : (unsigned)c->zones.n;

	if (web_lookup_key(q, &k)) {
		jerr(r, 400, "q: expected one IPv4 or IPv6 address or a domain name");
		return;
	}
	web_dns_lookup(r, &k, (const char *const *)c->zones.v, n, a);
	H_LIT(b, "{\"query\":");
	web_json(b, k.text);
	H_LIT(b, ",\"zones\":[");
	for (unsigned i = 0; i < n; i++) {
		struct store_listing l;
		struct store_key t = k;
		int rc = STORE_NOTFOUND;

		if (i)
			H_LIT(b, ",");
		H_LIT(b, "{\"zone\":");
		web_json(b, c->zones.v[i]);
		H_LIT(b, ",\"dns\":");
		web_json(b, a[i].state == WEB_DNS_LISTED ? "listed"
			    : a[i].state == WEB_DNS_NOT_LISTED ? "not_listed" : "unknown");
		if (a[i].state == WEB_DNS_UNKNOWN) {
			H_LIT(b, ",\"dns_error\":");
			web_json(b, a[i].error);
		}
		H_LIT(b, ",\"codes\":[");
		for (unsigned j = 0; j < a[i].na; j++) {
			if (j)
				H_LIT(b, ",");
			code_json(b, a[i].a[j]);
		}
		H_LIT(b, "],\"txt\":");
		web_json(b, a[i].txt[0] ? a[i].txt : NULL);
		if (r->t->st) {
			rc = store_get(r->t->st, c->zones.v[i], k.text, &l);
			if (rc == STORE_NOTFOUND && k.kind == STORE_IP6) {
				store_key_truncate(&t, list_rules_for(r->srv->rules,
								      c->zones.v[i])->ip6_bits);
				rc = store_get(r->t->st, c->zones.v[i], t.text, &l);
			}
		}
		H_LIT(b, ",\"listing\":");
		if (rc == 0)
			listing_json(b, &l);
		else
			H_LIT(b, "null");
		H_LIT(b, "}");
	}
	H_LIT(b, "]}\n");
}

struct search_out {
	struct web_buf *b;
	unsigned n;
};

static int search_row(void *arg, const struct store_listing *l)
{
	struct search_out *s = arg;

	if (s->n++)
		H_LIT(s->b, ",");
	listing_json(s->b, l);
	return 0;
}

static void search(struct web_req *r)
{
	const char *zone = web_kv_get(&r->query, "zone"), *state = web_kv_get(&r->query, "state");
	const char *lim = web_kv_get(&r->query, "limit");
	struct store_filter f = { .limit = 1000 };
	struct search_out s = { &r->out, 0 };

	if (!web_zone_known(r->srv->conf, zone)) {
		jerr(r, 400, "zone: not one of this portal's zones");
		return;
	}
	if (state) {
		for (int i = 1; i <= 5; i++)
			if (!strcmp(state, state_name(i)))
				f.state = i;
		if (!f.state) {
			jerr(r, 400, "state: listed, removed, expired, excluded or pending");
			return;
		}
	}
	if (lim) {
		unsigned long v = strtoul(lim, NULL, 10);

		f.limit = v == 0 || v > 1000 ? 1000 : (unsigned)v;
	}
	H_LIT(&r->out, "{\"zone\":");
	web_json(&r->out, zone);
	H_LIT(&r->out, ",\"listings\":[");
	if (store_search(r->t->st, zone, &f, search_row, &s)) {
		log_err("web: search: %s", store_error(r->t->st));
		jerr(r, 500, "internal error");
		return;
	}
	H_LIT(&r->out, "]}\n");
}

/* The body's fields: JSON or a form. 0, or -1 (answered). */
static int body_fields(struct web_req *r, struct web_kv *kv, char **buf)
{
	const char *ct = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Content-Type");

	if (ct && !strncasecmp(ct, "application/x-www-form-urlencoded", 33)) {
		*kv = r->form;
		return 0;
	}
	*buf = malloc(web_kv_bufsize(r->body_len));
	if (!*buf) {
		jerr(r, 500, "internal error");
		return -1;
	}
	web_kv_init(kv, *buf, web_kv_bufsize(r->body_len));
	if (web_json_parse(kv, r->body ? r->body : "", r->body_len)) {
		jerr(r, 400, "the body is not a flat JSON object");
		return -1;
	}
	return 0;
}

static int truthy(const char *v)
{
	return v && (!strcmp(v, "true") || !strcmp(v, "1") || !strcmp(v, "yes"));
}

static void outcome_json(struct web_req *r, const char *zone, const struct list_result *res,
			 int dry)
{
	struct web_buf *b = &r->out;

	H_LIT(b, "{\"zone\":");
	web_json(b, zone);
	H_LIT(b, ",\"key\":");
	web_json(b, res->key[0] ? res->key : res->l.key.text);
	H_LIT(b, ",\"dry_run\":");
	if (dry)
		H_LIT(b, "true");
	else
		H_LIT(b, "false");
	H_LIT(b, ",\"outcome\":");
	web_json(b, list_outcome_name(res->outcome));
	if (res->note[0]) {
		H_LIT(b, ",\"note\":");
		web_json(b, res->note);
	}
	if (!dry) {
		H_LIT(b, ",\"listing\":");
		listing_json(b, &res->l);
	}
	H_LIT(b, "}\n");
}

/* What a write would do, without doing it: from the listing's state. */
static void dry_outcome(struct web_req *r, const char *zone, const char *key, const char *what,
			struct list_result *res)
{
	struct store_key k;
	struct store_listing l;
	char why[200];
	int listed;

	memset(res, 0, sizeof(*res));
	if (store_key_parse(key, &k, why, sizeof(why)))
		return;
	str_copy(res->key, sizeof(res->key), k.text);
	listed = store_get(r->t->st, zone, k.text, &l) == 0 && l.state == STORE_LISTED;
	if (!strcmp(what, "remove"))
		res->outcome = listed ? LIST_REMOVED : LIST_NOT_LISTED;
	else if (!strcmp(what, "add"))
		res->outcome = listed ? LIST_UPDATED : LIST_LISTED;
	else
		res->outcome = listed ? LIST_EXTENDED : LIST_COUNTED;
	str_copy(res->note, sizeof(res->note), "dry run: nothing was changed");
}

static void write_op(struct web_req *r, const char *what)
{
	struct web_kv kv;
	char *buf = NULL, err[256], actor[96], why[200];
	const char *zone, *key, *reason;
	struct list_ctx lc;
	struct list_result res;
	struct store_key k;
	int rc, dry;

	if (body_fields(r, &kv, &buf))
		goto out;
	zone = web_kv_get(&kv, "zone");
	key = web_kv_get(&kv, "key");
	reason = web_kv_get(&kv, "reason");
	dry = truthy(web_kv_get(&kv, "dry_run"));
	if (!web_zone_known(r->srv->conf, zone)) {
		jerr(r, 400, "zone: not one of this portal's zones");
		goto out;
	}
	if (!key || store_key_parse(key, &k, why, sizeof(why))) {
		jerr(r, 400, "key: expected an address, network or domain name");
		goto out;
	}
	if (dry) {
		dry_outcome(r, zone, key, what, &res);
		outcome_json(r, zone, &res, 1);
		goto out;
	}
	snprintf(actor, sizeof(actor), "api:%s", r->client);
	web_list_ctx(r, &lc);
	if (!strcmp(what, "remove")) {
		rc = list_do_remove(&lc, zone, key, reason, actor, 0, &res, err, sizeof(err));
	} else if (!strcmp(what, "add")) {
		struct list_add a = { .reason = reason, .source = "api", .actor = actor };
		const char *code = web_kv_get(&kv, "code");
		struct in_addr ia;

		if (code && inet_pton(AF_INET, code, &ia) != 1) {
			jerr(r, 400, "code: expected an IPv4 address (127.0.0.2)");
			goto out;
		}
		if (code)
			a.code = ntohl(ia.s_addr);
		rc = list_do_add(&lc, zone, key, &a, &res, err, sizeof(err));
	} else {
		struct list_hit h = { .trap = web_kv_get(&kv, "trap"), .source = "report",
				      .excerpt = web_kv_get(&kv, "evidence"),
				      .headers = web_kv_get(&kv, "headers") };

		rc = list_do_hit(&lc, zone, key, &h, &res, err, sizeof(err));
	}
	if (rc) {
		log_err("web: api %s %s %s: %s", what, zone, key, err);
		jerr(r, 500, "internal error");
		goto out;
	}
	{
		char detail[400];

		snprintf(detail, sizeof(detail), "%s %s %s: %s", what, zone, res.key,
			 list_outcome_name(res.outcome));
		store_web_audit_add(r->t->st, r->now, actor, "api", detail);
	}
	outcome_json(r, zone, &res, 0);
out:
	free(buf);
}

void web_api(struct web_req *r)
{
	const struct web_route *rt;

	r->ctype = "application/json";
	if (!(rt = web_guard(r, "/api/v1/", api_routes, sizeof(api_routes) / sizeof(api_routes[0]),
			     &api_ops, NULL)))
		return;
	if (r->srv->conf->rate_lookup) {
		int over = web_rate_over(r, "api", r->client, r->srv->conf->rate_lookup);

		if (over) {
			jerr(r, over > 0 ? 429 : 500, over > 0 ? "rate limit" : "internal error");
			return;
		}
	}
	if (!strcmp(rt->path, "lookup"))
		lookup(r);
	else if (!strcmp(rt->path, "search"))
		search(r);
	else
		write_op(r, rt->path);
}
