/*
 * watch.c - the dashboard of `rblkit watch` (/admin/watch, behind the
 * console log-in, any role), read from the watch history in the store
 * (store/watch.h; watch_store, default the portal's store): the current
 * listings with the code's meaning, the TXT and the delisting link; the
 * lists in error with why; a timeline of the transitions of the last
 * days drawn as SVG on the server; and the latest transitions.
 *
 * SECURITY: the history holds other parties' texts (TXT records, why,
 * targets from the daemon's configuration): every one goes through the
 * escaping writer, the SVG too (markup literals, numbers, escaped text);
 * a delisting link is only made of an http(s) URL from the catalogue.
 * The store is only read.
 */
#include "web/web_int.h"
#include "base/util.h"
#include "dnsbl/catalog.h"
#include "store/watch.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define LIST_ROWS 500           /* rows of the current listings and errors */
#define TL_MAX 4000             /* transitions drawn */
#define TL_LANES 40             /* (target, list) lanes drawn */
#define TL_W 760                /* SVG width, label column included */
#define TL_LABEL 250
#define TL_LANE_H 20

/* The catalogue entry of a watch list name ("zone" or "zone@addr:port"). */
static const struct list *list_of(const struct web_server *srv, const char *name)
{
	char z[STORE_WATCH_LIST_MAX];

	if (!srv->cat)
		return NULL;
	str_copy(z, sizeof(z), name);
	z[strcspn(z, "@")] = 0;
	return catalog_by_zone(srv->cat, z);
}

/* "127.0.0.2,127.0.0.4" with each code's meaning from the catalogue. */
static void codes_cell(struct web_req *r, const struct list *l, const char *codes)
{
	struct web_buf *b = &r->out;
	char c[STORE_WATCH_CODES_MAX], *save = NULL;
	int first = 1;

	str_copy(c, sizeof(c), codes);
	for (char *w = strtok_r(c, ", ", &save); w; w = strtok_r(NULL, ", ", &save)) {
		struct in_addr a;
		const char *meaning = NULL;

		if (!first)
			H_LIT(b, "<br>");
		first = 0;
		web_text(b, w);
		if (l && inet_pton(AF_INET, w, &a) == 1)
			list_classify(l, ntohl(a.s_addr), &meaning);
		if (meaning && *meaning) {
			H_LIT(b, " &mdash; ");
			web_text(b, meaning);
		}
	}
}

static void delist_cell(struct web_req *r, const struct list *l, const char *target)
{
	char url[512];
	const char *u = l ? list_delist_url(l, target, url, sizeof(url)) : NULL;

	if (u && (!strncmp(u, "https://", 8) || !strncmp(u, "http://", 7))) {
		H_LIT(&r->out, "<a rel=\"noopener noreferrer\"");
		H_ATTR(&r->out, "href", u);
		H_LIT(&r->out, ">");
		web_text(&r->out, web_msg(r->lang, M_CHECK_DELIST));
		H_LIT(&r->out, "</a>");
	}
}

static int listing_row(void *arg, const struct store_watch_status *s)
{
	struct web_req *r = arg;
	struct web_buf *b = &r->out;
	const struct list *l = list_of(r->srv, s->list);

	H_LIT(b, "<tr class=\"listed\"");
	H_ATTR(b, "data-list", s->list);
	H_LIT(b, "><td>");
	web_text(b, s->target);
	H_LIT(b, "</td><td>");
	web_text(b, s->list);
	H_LIT(b, "</td><td>");
	web_time(r, s->since);
	H_LIT(b, "</td><td class=\"codes\">");
	codes_cell(r, l, s->codes);
	H_LIT(b, "</td><td class=\"txt\">");
	web_text(b, s->txt);
	H_LIT(b, "</td><td class=\"delist\">");
	if (s->target[0])
		delist_cell(r, l, s->target);
	H_LIT(b, "</td></tr>\n");
	return 0;
}

static int error_row(void *arg, const struct store_watch_status *s)
{
	struct web_req *r = arg;
	struct web_buf *b = &r->out;

	H_LIT(b, "<tr class=\"error\"");
	H_ATTR(b, "data-list", s->list);
	H_LIT(b, "><td>");
	web_text(b, s->list);
	H_LIT(b, "</td><td>");
	web_text(b, s->target[0] ? s->target : web_msg(r->lang, M_WATCH_LIST_ITSELF));
	H_LIT(b, "</td><td>");
	web_time(r, s->since);
	H_LIT(b, "</td><td class=\"why\">");
	web_text(b, s->why);
	if (s->codes[0]) {
		H_LIT(b, " (");
		web_text(b, s->codes);
		H_LIT(b, ")");
	}
	H_LIT(b, "</td></tr>\n");
	return 0;
}

/* ---- the timeline ---- */

struct lane {
	char target[STORE_WATCH_TARGET_MAX];
	char list[STORE_WATCH_LIST_MAX];
	int start;                      /* the state when the window opens */
};

struct timeline {
	struct store_watch_transition *t;
	size_t n, cap;
	struct lane lanes[TL_LANES];
	size_t nlanes, more;            /* lanes drawn; lanes left out */
};

static int tl_add(void *arg, const struct store_watch_transition *t)
{
	struct timeline *tl = arg;

	if (tl->n == tl->cap) {
		tl->cap = tl->cap ? tl->cap * 2 : 64;
		tl->t = xreallocarray(tl->t, tl->cap, sizeof(*tl->t));
	}
	tl->t[tl->n++] = *t;
	return tl->n >= TL_MAX;
}

static int lane_of(struct timeline *tl, const char *target, const char *list)
{
	for (size_t i = 0; i < tl->nlanes; i++)
		if (!strcmp(tl->lanes[i].target, target) && !strcmp(tl->lanes[i].list, list))
			return (int)i;
	return -1;
}

static const char *state_fill(int s)
{
	return s == STORE_WATCH_LISTED ? "#b00" : s == STORE_WATCH_ERROR ? "#d80" :
	       s == STORE_WATCH_CLEAN ? "#3a3" : "#bbb";
}

/* The SVG: one lane per (target, list), coloured by state over time. */
static void timeline_svg(struct web_req *r, struct timeline *tl, int64_t from, int64_t to)
{
	struct web_buf *b = &r->out;
	double scale = (double)(TL_W - TL_LABEL - 10) / (double)(to - from);
	size_t h = 40 + tl->nlanes * TL_LANE_H;
	char num[160];

	H_LIT(b, "<svg id=\"timeline\" xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" width=\"100%\"");
	snprintf(num, sizeof(num), "0 0 %d %zu", TL_W, h);
	H_ATTR(b, "viewBox", num);
	H_ATTR(b, "aria-label", web_msg(r->lang, M_WATCH_TIMELINE));
	H_LIT(b, ">");
	/* a tick and a date per day */
	for (int64_t d = from - from % 86400 + 86400; d < to; d += 86400) {
		char day[16];
		time_t tt = (time_t)d;
		struct tm tm;

		gmtime_r(&tt, &tm);
		strftime(day, sizeof(day), "%m-%d", &tm);
		snprintf(num, sizeof(num), "%.1f", TL_LABEL + (double)(d - from) * scale);
		H_LIT(b, "<line y1=\"16\" stroke=\"#ccc\"");
		H_ATTR(b, "x1", num);
		H_ATTR(b, "x2", num);
		snprintf(num, sizeof(num), "%zu", h - 10);
		H_ATTR(b, "y2", num);
		H_LIT(b, "/><text y=\"12\" font-size=\"10\" text-anchor=\"middle\"");
		snprintf(num, sizeof(num), "%.1f", TL_LABEL + (double)(d - from) * scale);
		H_ATTR(b, "x", num);
		H_LIT(b, ">");
		web_text(b, day);
		H_LIT(b, "</text>");
	}
	for (size_t i = 0; i < tl->nlanes; i++) {
		struct lane *ln = &tl->lanes[i];
		int64_t t0 = from;
		int s = ln->start;

		H_LIT(b, "<g class=\"lane\"");
		H_ATTR(b, "data-target", ln->target);
		H_ATTR(b, "data-list", ln->list);
		H_LIT(b, "><text x=\"4\" font-size=\"11\"");
		snprintf(num, sizeof(num), "%zu", 24 + i * TL_LANE_H + 11);
		H_ATTR(b, "y", num);
		H_LIT(b, ">");
		web_textf(b, "%.30s %.60s", ln->target[0] ? ln->target : "*", ln->list);
		H_LIT(b, "</text>");
		for (size_t k = 0; k <= tl->n; k++) {
			const struct store_watch_transition *t = k < tl->n ? &tl->t[k] : NULL;
			int64_t t1 = t ? t->time : to;

			if (t && (strcmp(t->target, ln->target) || strcmp(t->list, ln->list)))
				continue;
			if (t1 > t0) {
				H_LIT(b, "<rect");
				snprintf(num, sizeof(num), "s%d", s);
				H_ATTR(b, "class", num);
				H_ATTR(b, "fill", state_fill(s));
				snprintf(num, sizeof(num), "%.1f", TL_LABEL + (double)(t0 - from) * scale);
				H_ATTR(b, "x", num);
				snprintf(num, sizeof(num), "%zu", 24 + i * TL_LANE_H);
				H_ATTR(b, "y", num);
				snprintf(num, sizeof(num), "%.1f",
					 (double)(t1 - t0) * scale < 1 ? 1 : (double)(t1 - t0) * scale);
				H_ATTR(b, "width", num);
				snprintf(num, sizeof(num), "%d", TL_LANE_H - 6);
				H_ATTR(b, "height", num);
				H_LIT(b, "><title>");
				web_text(b, store_watch_state_name(s));
				H_LIT(b, "</title></rect>");
			}
			if (t) {
				t0 = t1;
				s = t->to;
			}
		}
		H_LIT(b, "</g>");
	}
	H_LIT(b, "</svg>");
	if (tl->more) {
		H_LIT(b, "<p>");
		web_textf(b, "+%zu", tl->more);
		H_LIT(b, "</p>");
	}
}

/* Lanes from the transitions, in the order first seen. */
static void timeline_lanes(struct timeline *tl)
{
	for (size_t k = 0; k < tl->n; k++) {
		const struct store_watch_transition *t = &tl->t[k];

		if (lane_of(tl, t->target, t->list) >= 0)
			continue;
		if (tl->nlanes == TL_LANES) {
			tl->more++;
			continue;
		}
		str_copy(tl->lanes[tl->nlanes].target, STORE_WATCH_TARGET_MAX, t->target);
		str_copy(tl->lanes[tl->nlanes].list, STORE_WATCH_LIST_MAX, t->list);
		tl->lanes[tl->nlanes++].start = t->from;
	}
}

static void transition_rows(struct web_req *r, const struct timeline *tl)
{
	struct web_buf *b = &r->out;
	size_t first = tl->n > 100 ? tl->n - 100 : 0;

	for (size_t k = tl->n; k-- > first;) {      /* newest first */
		const struct store_watch_transition *t = &tl->t[k];

		H_LIT(b, "<tr class=\"transition\"><td>");
		web_time(r, t->time);
		H_LIT(b, "</td><td>");
		web_text(b, t->target[0] ? t->target : "*");
		H_LIT(b, "</td><td>");
		web_text(b, t->list);
		H_LIT(b, "</td><td>");
		web_text(b, store_watch_state_name(t->from));
		H_LIT(b, " &rarr; ");
		web_text(b, store_watch_state_name(t->to));
		H_LIT(b, "</td><td>");
		web_text(b, t->codes);
		H_LIT(b, "</td><td>");
		web_text(b, t->to == STORE_WATCH_ERROR ? t->why : t->txt);
		H_LIT(b, "</td></tr>\n");
	}
}

static void h2(struct web_req *r, enum web_msg m)
{
	H_LIT(&r->out, "<h2>");
	web_text(&r->out, web_msg(r->lang, m));
	H_LIT(&r->out, "</h2>");
}

void web_watch_page(struct web_req *r)
{
	const char *wdsn = r->srv->conf->watch_store;
	/* a watch_store of its own that could not be opened is no reason to
	 * show the portal's store instead */
	struct store *ws = wdsn && *wdsn && strcmp(wdsn, r->srv->conf->store) ? r->t->wst
									      : r->t->st;
	struct store_watch_filter f = { .limit = LIST_ROWS };
	struct timeline tl = { 0 };
	struct web_buf *b = &r->out;
	const char *d = web_kv_get(&r->query, "days");
	long days = d ? strtol(d, NULL, 10) : 7;
	uint64_t counts[4] = { 0 };
	char n1[24], n2[24];
	int64_t from;

	if (!ws) {
		web_page_msg(r, 503, M_INTERNAL);
		return;
	}
	if (days < 1 || days > 90)
		days = 7;
	from = r->now - days * 86400;
	if (store_watch_counts(ws, counts) ||
	    store_watch_transitions(ws, from, NULL, NULL, TL_MAX, tl_add, &tl) < 0) {
		log_err("web: watch: %s", store_error(ws));
		free(tl.t);
		web_page_msg(r, 500, M_INTERNAL);
		return;
	}
	web_page_begin(r, web_msg(r->lang, M_WATCH_TITLE));
	H_LIT(b, "<p id=\"counts\">");
	snprintf(n1, sizeof(n1), "%llu", (unsigned long long)counts[STORE_WATCH_LISTED]);
	snprintf(n2, sizeof(n2), "%llu", (unsigned long long)counts[STORE_WATCH_ERROR]);
	web_text_sub(b, web_msg(r->lang, M_WATCH_COUNTS), n1, n2);
	H_LIT(b, " <a href=\"/admin\">");
	web_text(b, web_msg(r->lang, M_ADMIN));
	H_LIT(b, "</a></p>");
	h2(r, M_WATCH_LISTINGS);
	H_LIT(b, "<table id=\"listings\">");
	f.states = 1u << STORE_WATCH_LISTED;
	if (store_watch_states(ws, &f, listing_row, r) < 0)
		goto failed;
	H_LIT(b, "</table>");
	h2(r, M_WATCH_ERRORS);
	H_LIT(b, "<table id=\"errors\">");
	f.states = 1u << STORE_WATCH_ERROR;
	if (store_watch_states(ws, &f, error_row, r) < 0)
		goto failed;
	H_LIT(b, "</table>");
	h2(r, M_WATCH_TIMELINE);
	timeline_lanes(&tl);
	timeline_svg(r, &tl, from, r->now);
	H_LIT(b, "<table id=\"transitions\">");
	transition_rows(r, &tl);
	H_LIT(b, "</table>");
	web_page_end(r);
	free(tl.t);
	return;
failed:
	/* a page half drawn is not shown: empty tables would say "nothing
	 * listed" of a history that could not be read */
	log_err("web: watch: %s", store_error(ws));
	free(tl.t);
	web_page_msg(r, 500, M_INTERNAL);       /* drops what was drawn */
}
