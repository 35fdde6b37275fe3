/*
 * lookup.c - the lookup page "/": one box for an address or a domain
 * (the visitor's own address offered), and per zone what DNS answers
 * now, with what the store knows: code and meaning, reason, times,
 * hits, expiry, history, evidence with mail addresses masked, and what
 * to do next. A listed entry gets the removal form.
 *
 * SECURITY: the query is hostile: parsed by store_key_parse before any
 * use, echoed only through the escaping writer. Evidence is trap mail:
 * addresses masked, escaped.
 */
#include "web/web_int.h"
#include "base/util.h"

#include <stdio.h>
#include <string.h>

static void code_text(uint32_t code, char *out, size_t len)
{
	snprintf(out, len, "%u.%u.%u.%u", code >> 24, (code >> 16) & 255, (code >> 8) & 255,
		 code & 255);
}

static int hist_row(void *arg, const struct store_event *ev)
{
	struct web_req *r = arg;

	H_LIT(&r->out, "<tr><td>");
	web_time(r, ev->time);
	H_LIT(&r->out, "</td><td>");
	web_text(&r->out, store_event_name(ev->type));
	H_LIT(&r->out, "</td><td>");
	web_text(&r->out, ev->actor);
	if (ev->how[0]) {
		H_LIT(&r->out, " (");
		web_text(&r->out, ev->how);
		H_LIT(&r->out, ")");
	}
	H_LIT(&r->out, "</td><td>");
	web_text_masked(&r->out, ev->detail);
	H_LIT(&r->out, "</td></tr>");
	return 0;
}

static int evid_row(void *arg, const struct store_evidence *ev)
{
	struct web_req *r = arg;
	char m[STORE_KEY_MAX];

	H_LIT(&r->out, "<div class=\"evidence\"><p>");
	web_time(r, ev->time);
	H_LIT(&r->out, " &middot; ");
	web_text(&r->out, ev->source);
	if (ev->trap[0]) {
		list_mask_addr(ev->trap, m, sizeof(m));
		H_LIT(&r->out, " &middot; ");
		web_text(&r->out, m);
	}
	H_LIT(&r->out, "</p>");
	if (ev->headers[0]) {
		H_LIT(&r->out, "<pre>");
		web_text_masked(&r->out, ev->headers);
		H_LIT(&r->out, "</pre>");
	}
	if (ev->excerpt[0]) {
		H_LIT(&r->out, "<pre>");
		web_text_masked(&r->out, ev->excerpt);
		H_LIT(&r->out, "</pre>");
	}
	H_LIT(&r->out, "</div>");
	return 0;
}

static void row(struct web_req *r, enum web_msg label)
{
	H_LIT(&r->out, "<tr><th>");
	web_text(&r->out, web_msg(r->lang, label));
	H_LIT(&r->out, "</th><td>");
}

/* What the store knows of k in zone; 1 when it has a listing row. */
static int listing_of(struct web_req *r, const char *zone, const struct store_key *k,
		      struct store_listing *l)
{
	struct store_key t = *k;
	int rc;

	if (!r->t->st)
		return 0;
	rc = store_get(r->t->st, zone, k->text, l);
	if (rc == STORE_NOTFOUND && k->kind == STORE_IP6) {
		store_key_truncate(&t, list_rules_for(r->srv->rules, zone)->ip6_bits);
		rc = store_get(r->t->st, zone, t.text, l);
	}
	if (rc < 0)
		log_err("web: %s", store_error(r->t->st));
	return rc == 0;
}

static void zone_result(struct web_req *r, const char *zone, const struct store_key *k,
			const struct web_dns_answer *a, const char *token)
{
	struct web_buf *b = &r->out;
	struct store_listing l;
	int have = listing_of(r, zone, k, &l);
	char code[20];

	H_LIT(b, "<section class=\"zone\"><h2>");
	web_text(b, zone);
	H_LIT(b, ": ");
	if (a->state == WEB_DNS_LISTED) {
		H_LIT(b, "<span class=\"listed\">");
		web_text(b, web_msg(r->lang, M_LISTED));
	} else if (a->state == WEB_DNS_NOT_LISTED) {
		H_LIT(b, "<span class=\"ok\">");
		web_text(b, web_msg(r->lang, M_NOT_LISTED));
	} else {
		H_LIT(b, "<span class=\"unknown\">");
		web_text_sub(b, web_msg(r->lang, M_DNS_UNKNOWN), a->error, NULL);
	}
	H_LIT(b, "</span></h2><p><small>");
	web_text(b, web_msg(r->lang, M_DNS_SAYS));
	H_LIT(b, "</small></p><table>");
	if (a->state == WEB_DNS_LISTED) {
		for (unsigned i = 0; i < a->na; i++) {
			const char *m = web_meaning(r->srv->conf, a->a[i]);

			row(r, M_CODE);
			code_text(a->a[i], code, sizeof(code));
			web_text(b, code);
			if (m) {
				H_LIT(b, " &mdash; ");
				web_text(b, m);
			}
			H_LIT(b, "</td></tr>");
		}
		if (a->txt[0]) {
			row(r, M_REASON);
			web_text(b, a->txt);
			H_LIT(b, "</td></tr>");
		}
	}
	if (have) {
		if (l.reason[0] && strcmp(l.reason, a->txt)) {
			row(r, M_REASON);
			web_text(b, l.reason);
			H_LIT(b, "</td></tr>");
		}
		row(r, M_FIRST_SEEN);
		web_time(r, l.first_seen);
		H_LIT(b, "</td></tr>");
		row(r, M_LAST_SEEN);
		web_time(r, l.last_seen);
		H_LIT(b, "</td></tr>");
		row(r, M_HITS);
		web_textf(b, "%u", l.hits);
		H_LIT(b, "</td></tr>");
		if (l.state == STORE_LISTED) {
			row(r, M_EXPIRES);
			web_time(r, l.expires);
			H_LIT(b, "</td></tr>");
		}
	}
	H_LIT(b, "</table>");
	if (have) {
		H_LIT(b, "<h3>");
		web_text(b, web_msg(r->lang, M_HISTORY));
		H_LIT(b, "</h3><table>");
		store_history(r->t->st, zone, l.key.text, hist_row, r);
		H_LIT(b, "</table><h3>");
		web_text(b, web_msg(r->lang, M_EVIDENCE));
		H_LIT(b, "</h3>");
		store_evidence(r->t->st, zone, l.key.text, 5, evid_row, r);
	} else if (a->state == WEB_DNS_LISTED) {
		H_LIT(b, "<p>");
		web_text(b, web_msg(r->lang, M_NO_DETAILS));
		H_LIT(b, "</p>");
	}
	H_LIT(b, "<p class=\"next\">");
	web_text(b, web_msg(r->lang, a->state == WEB_DNS_LISTED ? M_NEXT_LISTED
				      : a->state == WEB_DNS_NOT_LISTED ? M_NEXT_NOT_LISTED
				      : M_NEXT_UNKNOWN));
	H_LIT(b, "</p>");
	if (a->state == WEB_DNS_LISTED) {
		H_LIT(b, "<form method=\"post\" action=\"/remove\">");
		web_csrf_field(r, token);
		H_LIT(b, "<input type=\"hidden\" name=\"zone\"");
		H_ATTR(b, "value", zone);
		H_LIT(b, "><input type=\"hidden\" name=\"q\"");
		H_ATTR(b, "value", k->text);
		H_LIT(b, "><label>");
		web_text(b, web_msg(r->lang, M_REMOVE_REASON));
		H_LIT(b, "<input type=\"text\" name=\"reason\" maxlength=\"400\"></label> "
			 "<button type=\"submit\" name=\"remove\">");
		web_text(b, web_msg(r->lang, M_REMOVE_BUTTON));
		H_LIT(b, "</button></form>");
	}
	H_LIT(b, "</section>\n");
}

/* The query as a key for a lookup: one address or a name. 0, or -1. */
int web_lookup_key(const char *q, struct store_key *k)
{
	char why[200];

	if (!q || !*q || strlen(q) > 260 || store_key_parse(q, k, why, sizeof(why)))
		return -1;
	if (k->kind == STORE_WILD || (k->kind == STORE_IP4 && k->bits != 32) ||
	    (k->kind == STORE_IP6 && k->bits != 128))
		return -1;
	return 0;
}

void web_lookup_page(struct web_req *r)
{
	struct web_buf *b = &r->out;
	const char *q = web_kv_get(&r->query, "q");
	const char *token = web_csrf_token(r);
	struct store_key k;

	if (r->srv->conf->rate_lookup && q) {
		int over = web_rate_over(r, "lookup", r->client, r->srv->conf->rate_lookup);

		if (over) {
			web_page_msg(r, over > 0 ? 429 : 500, over > 0 ? M_RATE_LIMITED : M_INTERNAL);
			return;
		}
	}
	web_page_begin(r, web_msg(r->lang, M_TITLE));
	H_LIT(b, "<p>");
	web_text(b, web_msg(r->lang, M_INTRO));
	H_LIT(b, "</p><form method=\"get\" action=\"/\"><label>");
	web_text(b, web_msg(r->lang, M_QUERY_LABEL));
	H_LIT(b, " <input type=\"text\" name=\"q\" id=\"q\" maxlength=\"260\"");
	H_ATTR(b, "value", q ? q : r->client);
	H_LIT(b, "></label> <button type=\"submit\">");
	web_text(b, web_msg(r->lang, M_LOOKUP));
	H_LIT(b, "</button></form><p><small>");
	web_text(b, web_msg(r->lang, M_YOUR_ADDR));
	H_LIT(b, " <a href=\"/?q=");
	web_text(b, r->client);
	H_LIT(b, "\">");
	web_text(b, r->client);
	H_LIT(b, "</a></small></p>\n");
	if (q && *q) {
		if (web_lookup_key(q, &k)) {
			r->status = 400;
			H_LIT(b, "<p class=\"error\">");
			web_text(b, web_msg(r->lang, M_BAD_QUERY));
			H_LIT(b, " <code>");
			web_text(b, q);
			H_LIT(b, "</code></p>");
		} else {
			struct web_dns_answer a[16];
			unsigned n = r->srv->conf->zones.n > 16 ? 16 : (unsigned)r->srv->conf->zones.n;

			web_dns_lookup(r, &k, (const char *const *)r->srv->conf->zones.v, n, a);
			H_LIT(b, "<h2 class=\"query\">");
			web_text(b, web_msg(r->lang, M_RESULTS_FOR));
			H_LIT(b, " <code>");
			web_text(b, k.text);
			H_LIT(b, "</code></h2>");
			for (unsigned i = 0; i < n; i++)
				zone_result(r, r->srv->conf->zones.v[i], &k, &a[i], token);
		}
	}
	web_page_end(r);
}
