/*
 * remove.c - removal requests from the public page (POST /remove): the
 * CSRF token, the rate limits per client address and network (in the
 * store), then per the zone's verification: none - removed at once
 * within the self-removal limits (list_do_remove by request), and the
 * page waits until DNS answers NXDOMAIN; beyond them, or "review" - a
 * request in the review queue; "mail" - a link to postmaster@ and
 * abuse@ of the PTR domain (verify.c).
 *
 * SECURITY: the form is hostile: zone must be a configured zone, the key
 * is parsed by store_key_parse, the reason is cut by the store. Every
 * request is in the listing's history (list_do_remove's event) or the
 * request table.
 */
#include "web/web_int.h"
#include "base/util.h"

#include <stdio.h>
#include <string.h>

static void result(struct web_req *r, const char *zone, const char *key)
{
	web_page_begin(r, web_msg(r->lang, M_TITLE));
	H_LIT(&r->out, "<h2 class=\"query\"><code>");
	web_text(&r->out, key);
	H_LIT(&r->out, "</code> &middot; ");
	web_text(&r->out, zone);
	H_LIT(&r->out, "</h2>");
}

static void para(struct web_req *r, const char *cls, const char *text)
{
	H_LIT(&r->out, "<p class=\"");
	web_text(&r->out, cls);
	H_LIT(&r->out, "\">");
	web_text(&r->out, text);
	H_LIT(&r->out, "</p>");
}

static void finish(struct web_req *r, const char *zone, const char *key)
{
	char href[400];

	snprintf(href, sizeof(href), "/?q=%s", key);
	H_LIT(&r->out, "<p><a");
	H_ATTR(&r->out, "href", href);
	H_LIT(&r->out, ">");
	web_text(&r->out, web_msg(r->lang, M_BACK));
	H_LIT(&r->out, "</a></p>");
	web_page_end(r);
}

/* The request in the listing's history (list_do_remove writes its own
 * event; the paths that do not reach it write this one). */
void web_request_event(struct web_req *r, const char *zone, const char *key, const char *how,
		       const char *reason, const char *why)
{
	struct store_event ev = { .time = r->now, .type = STORE_EV_CHANGED };

	snprintf(ev.actor, sizeof(ev.actor), "web:%.56s", r->client);
	str_copy(ev.how, sizeof(ev.how), how);
	snprintf(ev.detail, sizeof(ev.detail), "removal requested: %s%s%.400s", why,
		 reason && *reason ? "; " : "", reason ? reason : "");
	if (store_event_add(r->t->st, zone, key, &ev))
		log_err("web: %s", store_error(r->t->st));
}

/* Queue a request for review; its number into id. */
static int queue(struct web_req *r, const char *zone, const char *key, const char *reason,
		 const char *why, int64_t *id)
{
	struct store_web_request q = { .state = STORE_WEB_PENDING, .created = r->now };

	str_copy(q.zone, sizeof(q.zone), zone);
	str_copy(q.key, sizeof(q.key), key);
	str_copy(q.client, sizeof(q.client), r->client);
	str_copy(q.reason, sizeof(q.reason), reason ? reason : "");
	str_copy(q.why, sizeof(q.why), why);
	if (store_web_request_add(r->t->st, &q, id)) {
		log_err("web: %s", store_error(r->t->st));
		return -1;
	}
	return 0;
}

static void reviewed(struct web_req *r, const char *zone, const char *key, const char *reason,
		     const char *why)
{
	int64_t id;
	char num[32];

	if (queue(r, zone, key, reason, why, &id)) {
		web_page_msg(r, 500, M_INTERNAL);
		return;
	}
	r->status = 202;
	result(r, zone, key);
	H_LIT(&r->out, "<p class=\"review\">");
	web_text_sub(&r->out, web_msg(r->lang, M_REVIEW), why, NULL);
	H_LIT(&r->out, "</p><p>");
	web_text(&r->out, web_msg(r->lang, M_REQUEST_SENT));
	snprintf(num, sizeof(num), " %lld", (long long)id);
	web_text(&r->out, num);
	H_LIT(&r->out, "</p>");
	finish(r, zone, key);
}

void web_remove_page(struct web_req *r)
{
	const char *zone = web_kv_get(&r->form, "zone"), *q = web_kv_get(&r->form, "q");
	const char *reason = web_kv_get(&r->form, "reason");
	const char *verify;
	char net[80], actor[96], err[256];
	struct store_key k;
	struct list_ctx lc;
	struct list_result res;
	int over;

	if (!web_csrf_ok(r, "csrf")) {
		web_page_msg(r, 403, M_FORBIDDEN);
		return;
	}
	if (!web_zone_known(r->srv->conf, zone) || web_lookup_key(q, &k)) {
		web_page_msg(r, 400, M_BAD_REQUEST);
		return;
	}
	if (!r->t->st) {
		web_page_msg(r, 503, M_INTERNAL);
		return;
	}
	web_client_net(r->client, net, sizeof(net));
	over = web_rate_over(r, "rm", r->client, r->srv->conf->rate_client);
	if (over == 0)
		over = web_rate_over(r, "rmnet", net, r->srv->conf->rate_net);
	if (over) {
		web_page_msg(r, over > 0 ? 429 : 500, over > 0 ? M_RATE_LIMITED : M_INTERNAL);
		return;
	}
	verify = web_verify_of(r->srv->conf, zone);
	if (!strcmp(verify, "review")) {
		web_request_event(r, zone, k.text, "review", reason, "this list reviews every removal");
		reviewed(r, zone, k.text, reason, "this list reviews every removal");
		return;
	}
	if (!strcmp(verify, "mail")) {
		web_verify_mail(r, zone, &k, reason);
		return;
	}
	snprintf(actor, sizeof(actor), "web:%s", r->client);
	web_list_ctx(r, &lc);
	if (list_do_remove(&lc, zone, k.text, reason, actor, 1, &res, err, sizeof(err))) {
		log_err("web: remove %s %s: %s", zone, k.text, err);
		web_page_msg(r, 500, M_INTERNAL);
		return;
	}
	if (res.outcome == LIST_REVIEW) {
		reviewed(r, zone, res.key, reason, res.note);
		return;
	}
	if (res.outcome == LIST_NOT_LISTED) {
		struct web_dns_answer a;
		const char *zl[1] = { zone };

		/* DNS may still list it: through a listed network, or a
		 * source the store does not hold; a person decides */
		web_dns_lookup(r, &k, zl, 1, &a);
		if (a.state == WEB_DNS_LISTED) {
			static const char why[] =
				"listed through a network or another source, not by this address";

			web_request_event(r, zone, k.text, "review", reason, why);
			reviewed(r, zone, k.text, reason, why);
			return;
		}
	}
	result(r, zone, res.key);
	if (res.outcome == LIST_NOT_LISTED) {
		para(r, "notlisted", web_msg(r->lang, M_NOT_LISTED_NOW));
	} else if (web_dns_wait_gone(r, &k, zone)) {
		para(r, "removed", web_msg(r->lang, M_REMOVED));
		para(r, "relist", web_msg(r->lang, M_RELIST_WARN));
	} else {
		para(r, "removed lag", web_msg(r->lang, M_REMOVED_DNS_LAG));
		para(r, "relist", web_msg(r->lang, M_RELIST_WARN));
	}
	finish(r, zone, res.key);
}
