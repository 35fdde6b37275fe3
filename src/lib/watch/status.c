/*
 * status.c - `rblkit watch status` (what the store says now: the lists'
 * health and intervals, current listings, counts, recent transitions,
 * alerts not delivered) and `rblkit watch note` (a policy alert's
 * environment, or a text, recorded for the next alerts to quote).
 *
 * SECURITY: reads the store read-only (status); the note's text comes
 * from rblkit policy's environment (user names are senders' addresses):
 * bound as parameters, cut to size.
 */
#include "watch/watch.h"

#include "base/json.h"
#include "base/util.h"
#include "store/store.h"
#include "store/watch.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *when(int64_t t, char *buf, size_t len)
{
	struct tm tm;
	time_t tt = (time_t)t;

	if (!t)
		return "never";
	gmtime_r(&tt, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return buf;
}

struct sw {
	FILE *f;
	bool json;
	int n;
	const struct watch_plan *p;
	struct store *st;
	bool failed;                    /* a read of the store failed */
};

static int listed_cb(void *arg, const struct store_watch_status *s)
{
	struct sw *w = arg;
	char b[32];

	if (!*s->target)
		return 0;
	if (w->json) {
		fputs(w->n++ ? ",{" : "{", w->f);
		fputs("\"target\":", w->f);
		json_str(w->f, s->target);
		fputs(",\"list\":", w->f);
		json_str(w->f, s->list);
		fprintf(w->f, ",\"since\":%" PRId64 ",\"codes\":", s->since);
		json_str(w->f, s->codes);
		fputs(",\"txt\":", w->f);
		json_str(w->f, s->txt);
		fprintf(w->f, ",\"last_check\":%" PRId64 "}", s->last_check);
		return 0;
	}
	w->n++;
	fprintf(w->f, "  %s on %s since %s: %s%s%s%s\n", s->target, s->list,
		when(s->since, b, sizeof(b)), s->codes, *s->txt ? " \"" : "", s->txt,
		*s->txt ? "\"" : "");
	return 0;
}

static int tr_cb(void *arg, const struct store_watch_transition *t)
{
	struct sw *w = arg;
	char b[32];

	if (w->json) {
		fputs(w->n++ ? ",{" : "{", w->f);
		fprintf(w->f, "\"id\":%" PRId64 ",\"time\":%" PRId64 ",\"target\":", t->id, t->time);
		json_str(w->f, t->target);
		fputs(",\"list\":", w->f);
		json_str(w->f, t->list);
		fprintf(w->f, ",\"from\":\"%s\",\"to\":\"%s\",\"codes\":",
			store_watch_state_name(t->from), store_watch_state_name(t->to));
		json_str(w->f, t->codes);
		fputs(",\"txt\":", w->f);
		json_str(w->f, t->txt);
		fputs(",\"why\":", w->f);
		json_str(w->f, t->why);
		fputc('}', w->f);
		return 0;
	}
	w->n++;
	fprintf(w->f, "  %s  %s%s on %s: %s -> %s%s%s%s%s\n", when(t->time, b, sizeof(b)),
		*t->target ? t->target : "(list)", "", t->list, store_watch_state_name(t->from),
		store_watch_state_name(t->to), *t->codes ? " " : "", t->codes, *t->why ? ": " : "",
		t->why);
	return 0;
}

static int alert_cb(void *arg, const struct store_watch_alert *a)
{
	struct sw *w = arg;
	char b[32];

	if (a->state == STORE_WATCH_ALERT_OK)
		return 0;
	if (w->json) {
		fputs(w->n++ ? ",{" : "{", w->f);
		fprintf(w->f, "\"id\":%" PRId64 ",\"transition\":%" PRId64 ",\"channel\":", a->id,
			a->transition);
		json_str(w->f, a->channel);
		fprintf(w->f, ",\"state\":\"%s\",\"created\":%" PRId64 ",\"attempts\":%u,\"detail\":",
			a->state == STORE_WATCH_ALERT_PENDING ? "pending" : "failed", a->created,
			a->attempts);
		json_str(w->f, a->detail);
		fputc('}', w->f);
		return 0;
	}
	w->n++;
	fprintf(w->f, "  alert %" PRId64 " (%s) %s %s: %s\n", a->id, a->channel,
		a->state == STORE_WATCH_ALERT_PENDING ? "pending since" : "failed, created",
		when(a->created, b, sizeof(b)), a->detail);
	return 0;
}

static void lists_out(struct sw *w, const struct watch_plan *p)
{
	int64_t day = (int64_t)time(NULL) / 86400;

	for (size_t i = 0; i < p->nl; i++) {
		const struct watch_list *l = &p->l[i];
		struct store_watch_status s;
		uint64_t used = 0;
		int rc = store_watch_get(w->st, "", l->key, &s);
		char b[32];

		if (rc < 0)
			w->failed = true;
		if (rc)
			memset(&s, 0, sizeof(s));
		if (store_watch_budget_get(w->st, l->key, day, &used) < 0)
			w->failed = true;
		if (w->json) {
			fputs(i ? ",{" : "{", w->f);
			fputs("\"list\":", w->f);
			json_str(w->f, l->key);
			fprintf(w->f, ",\"state\":\"%s\",\"since\":%" PRId64 ",\"why\":",
				s.state == STORE_WATCH_CLEAN ? "ok" : store_watch_state_name(s.state),
				s.since);
			json_str(w->f, s.why);
			fprintf(w->f, ",\"targets\":%u,\"interval\":%u,\"effective_interval\":%u,"
				      "\"stretched_by_budget\":%s,\"budget\":%" PRIu64
				      ",\"used_today\":%" PRIu64 "}",
				l->ntargets, l->interval, l->effective, l->stretched ? "true" : "false",
				l->budget, used);
			continue;
		}
		fprintf(w->f, "  %-32s %-7s %u targets, every %us%s, %" PRIu64 " of %s%" PRIu64
			" queries today", l->key,
			s.state == STORE_WATCH_CLEAN ? "ok" : store_watch_state_name(s.state),
			l->ntargets, l->effective,
			l->stretched ? " (stretched from the interval to fit the budget)" : "", used,
			l->budget ? "" : "unlimited ", l->budget);
		if (s.state == STORE_WATCH_ERROR)
			fprintf(w->f, "; error since %s: %s", when(s.since, b, sizeof(b)), s.why);
		fputc('\n', w->f);
	}
}

int watch_status(const char *path, bool json, FILE *real, char *err, size_t errlen)
{
	/* written to memory first: a store read that fails half-way is an
	 * error (exit 1), never a report that looks complete ("(none)") */
	char *mb = NULL;
	size_t ml = 0;
	FILE *out = open_memstream(&mb, &ml);
	struct watch_conf *c = NULL;
	struct watch_plan p;
	struct conftab_errors e;
	struct store *st = NULL;
	struct store_watch_filter lf = { .states = 1u << STORE_WATCH_LISTED };
	struct sw w = { out, json, 0, &p, NULL, false };
	uint64_t counts[4];
	int rc = -1;

	memset(&p, 0, sizeof(p));
	if (!out) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (watch_load(path, &c, &p, &e, err, errlen)) {
		if (e.total)
			snprintf(err, errlen, "%s", e.msg[0]);
		goto out;
	}
	if (store_open(p.dsn, STORE_RDONLY, &st, err, errlen)) {
		/* the first question of a new user: before the daemon's first
		 * start there is no history to show, and that is not a fault */
		if (strncmp(p.dsn, "sqlite:", 7) == 0 && access(p.dsn + 7, F_OK) != 0 &&
		    errno == ENOENT) {
			char why[256];

			snprintf(why, sizeof(why), "%s", err);
			snprintf(err, errlen, "no history yet: %s does not exist (the daemon creates it "
				 "at its first start): %s", p.dsn + 7, why);
		}
		goto out;
	}
	w.st = st;
	if (store_watch_counts(st, counts)) {
		snprintf(err, errlen, "%s", store_error(st));
		goto out;
	}
	if (json) {
		fputs("{\"store\":", out);
		json_str(out, p.shown);
		fprintf(out, ",\"counts\":{\"unknown\":%" PRIu64 ",\"clean\":%" PRIu64
			     ",\"listed\":%" PRIu64 ",\"error\":%" PRIu64 "},\"lists\":[",
			counts[0], counts[1], counts[2], counts[3]);
		lists_out(&w, &p);
		fputs("],\"listed\":[", out);
	} else {
		fprintf(out, "store %s: %" PRIu64 " listed, %" PRIu64 " clean, %" PRIu64
			" in error, %" PRIu64 " unknown (lists' own rows included)\nlists:\n",
			p.shown, counts[2], counts[1], counts[3], counts[0]);
		lists_out(&w, &p);
		fputs("listed:\n", out);
	}
	w.n = 0;
	if (store_watch_states(st, &lf, listed_cb, &w) < 0)
		goto fail;
	if (!json && !w.n)
		fputs("  (none)\n", out);
	fputs(json ? "],\"transitions\":[" : "recent changes:\n", out);
	w.n = 0;
	if (store_watch_transitions(st, 0, NULL, NULL, 20, tr_cb, &w) < 0)
		goto fail;
	if (!json && !w.n)
		fputs("  (none)\n", out);
	fputs(json ? "],\"alerts_not_sent\":[" : "alerts not sent:\n", out);
	w.n = 0;
	if (store_watch_alerts(st, 0, 200, alert_cb, &w) < 0 || w.failed)
		goto fail;
	if (!json && !w.n)
		fputs("  (none)\n", out);
	if (json)
		fputs("]}\n", out);
	rc = 0;
	goto out;
fail:
	snprintf(err, errlen, "reading the history: %s", store_error(st));
out:
	fclose(out);
	if (rc == 0)
		fwrite(mb, 1, ml, real);
	free(mb);
	store_close(st);
	if (c)
		conftab_free(&watch_conftab, c);
	watch_plan_free(&p);
	return rc;
}

int watch_note(const char *path, const char *text, char *err, size_t errlen)
{
	struct watch_conf *c = NULL;
	struct watch_plan p;
	struct conftab_errors e;
	struct store *st = NULL;
	struct store_watch_note n;
	const char *user = getenv("RBLKIT_USER"), *ev = getenv("RBLKIT_EVENT");
	const char *cnt = getenv("RBLKIT_COUNT"), *lim = getenv("RBLKIT_LIMIT");
	const char *win = getenv("RBLKIT_WINDOW"), *kind = getenv("RBLKIT_KIND");
	int64_t now = (int64_t)time(NULL);
	int rc = -1;

	memset(&n, 0, sizeof(n));
	n.time = now;
	if (text) {
		str_copy(n.source, sizeof(n.source), "note");
		str_copy(n.text, sizeof(n.text), text);
	} else if (user || ev) {
		str_copy(n.source, sizeof(n.source), "policy");
		str_copy(n.subject, sizeof(n.subject), user ? user : "");
		if (ev && !strcmp(ev, "baseline"))
			snprintf(n.text, sizeof(n.text), "user %s sent %s messages in %s, above its "
				 "baseline (threshold %s)", user ? user : "?", cnt ? cnt : "?",
				 win ? win : "?", lim ? lim : "?");
		else if (ev && *ev)
			snprintf(n.text, sizeof(n.text), "policy: %s%s%s", ev, user ? " " : "",
				 user ? user : "");
		else
			snprintf(n.text, sizeof(n.text), "user %s crossed the %s%slimit: %s messages, "
				 "limit %s per %s", user ? user : "?", kind ? kind : "",
				 kind ? " " : "", cnt ? cnt : "?", lim ? lim : "?", win ? win : "?");
	} else {
		snprintf(err, errlen, "nothing to note: no RBLKIT_USER / RBLKIT_EVENT in the "
			 "environment (run from rblkit policy's alert_command) and no --text");
		return -1;
	}
	if (watch_load(path, &c, &p, &e, err, errlen)) {
		if (e.total)
			snprintf(err, errlen, "%s", e.msg[0]);
		goto out;
	}
	if (store_open(p.dsn, 0, &st, err, errlen))
		goto out;
	if (store_watch_note_add(st, &n, now - 30 * 86400, NULL)) {
		snprintf(err, errlen, "%s", store_error(st));
		goto out;
	}
	rc = 0;
out:
	store_close(st);
	if (c)
		conftab_free(&watch_conftab, c);
	watch_plan_free(&p);
	return rc;
}
