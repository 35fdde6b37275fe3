/*
 * output.c - the engine's results as text, JSON, CSV or a Nagios line;
 * see output.h.  Moved here from src/cmd/check.c, output unchanged.
 *
 * SECURITY: target input and DNS answers are untrusted: to a terminal
 * through term_text() (control bytes replaced), to JSON through
 * base/json.h, to CSV through csv_field().
 */
#include "dnsbl/output.h"
#include "base/json.h"
#include "base/util.h"

#include <stdlib.h>
#include <string.h>

struct out {
	FILE *f;
	struct out_opts opt;
	const struct list **lists;
	size_t nlists;
	const struct dnsbl_engine *eng;	/* out_end()'s, for the notes */
	unsigned json_count;		/* targets written to the JSON array */
	struct out_totals tot;
	struct nagios_list {		/* Nagios: per list, over all targets */
		bool listed, error, checked;
		uint32_t code;		/* the first listing's */
	} nagios[OUT_MAX_LISTS];
};

#define C_RED "\033[1;31m"
#define C_GREEN "\033[32m"
#define C_YELLOW "\033[33m"
#define C_DIM "\033[2m"
#define C_BOLD "\033[1m"
#define C_OFF "\033[0m"

static const char *c_on(const struct out *o, const char *code)
{
	return o->opt.color ? code : "";
}

/* Untrusted text to a terminal: control bytes become '?'. */
static void term_text(FILE *f, const char *s)
{
	for (; s && *s; s++)
		putc((unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s, f);
}

/* An error and the front end's hint for it, as one text: "ERROR (HINT)";
 * in buf when there is a hint.  NULL for no error. */
static const char *with_hint(const struct out *o, const char *error, enum dnsbl_hint h,
			     char *buf, size_t len)
{
	if (!error || h <= DNSBL_HINT_NONE || h >= DNSBL_HINT_MAX || !o->opt.hints[h])
		return error;
	snprintf(buf, len, "%s (%s)", error, o->opt.hints[h]);
	return buf;
}

static void csv_field(FILE *f, const char *s)
{
	if (!s)
		s = "";
	if (!strpbrk(s, ",\"\r\n")) {
		term_text(f, s);
		return;
	}
	putc('"', f);
	for (; *s; s++) {
		if (*s == '"')
			putc('"', f);
		putc((unsigned char)*s < 0x20 && *s != '\n' ? ' ' : *s, f);
	}
	putc('"', f);
}

/* The n strings of v joined with sep into buf (len > 0), cut where buf
 * is full; NULL ones left out.  Returns buf. */
static const char *join(char *buf, size_t len, const char *sep,
			const char *const *v, size_t n)
{
	size_t o = 0;

	buf[0] = '\0';
	for (size_t j = 0; j < n && o < len - 1; j++) {
		int w;

		if (!v[j])
			continue;
		w = snprintf(buf + o, len - o, "%s%s", j ? sep : "", v[j]);
		o = w < 0 || (size_t)w >= len - o ? len - 1 : o + (size_t)w;
	}
	return buf;
}

static const char *code_text(uint32_t c, char *buf)
{
	snprintf(buf, 16, "%u.%u.%u.%u", c >> 24, (c >> 16) & 255, (c >> 8) & 255, c & 255);
	return buf;
}

static int status_rank(enum dnsbl_status s)
{
	switch (s) {
	case DS_LISTED: return 0;
	case DS_ERROR: return 1;
	case DS_ALLOWED: return 2;
	default: return 3;
	}
}

static int result_cmp(const void *a, const void *b)
{
	const struct dnsbl_result *x = a, *y = b;
	int d = status_rank(x->status) - status_rank(y->status);
	return d ? d : strcmp(x->list->zone, y->list->zone);
}

/* ---- per-format output of one target ---- */

/* How many results of a target have each status. */
struct tally {
	unsigned listed, allowed, clean, errors;
};

static struct tally tally(const struct dnsbl_target *t)
{
	struct tally n = { 0, 0, 0, 0 };
	for (size_t i = 0; i < t->nresults; i++)
		switch (t->results[i].status) {
		case DS_LISTED: n.listed++; break;
		case DS_ALLOWED: n.allowed++; break;
		case DS_CLEAN: n.clean++; break;
		default: n.errors++; break;
		}
	return n;
}

/* The same counted by list and by subject, for the verdict line of a
 * target with several subjects (a CIDR block, a host, a mail domain): lists
 * listing any subject; else with an error; else clean or allowlisted. */
struct lists_tally {
	unsigned lists, listed, errors, ok, allowed;
	unsigned addrs, addrs_listed;	/* IP subjects */
	bool domain, domain_listed;	/* the name itself, on domain lists */
	bool multi;			/* more than one subject */
};

static bool is_addr_subject(const struct dnsbl_target *t, const char *subject)
{
	for (size_t i = 0; i < t->naddrs; i++)
		if (t->addrs[i] == subject)
			return true;
	return false;
}

static struct lists_tally lists_tally(const struct dnsbl_target *t)
{
	struct lists_tally n = { 0 };
	for (size_t i = 0; i < t->nresults; i++) {
		const struct dnsbl_result *r = &t->results[i];
		bool first = true, listed = false, error = false, allowed = false;
		for (size_t j = 0; j < t->nresults; j++) {
			if (t->results[j].list != r->list)
				continue;
			if (j < i) {
				first = false;
				break;
			}
			listed |= t->results[j].status == DS_LISTED;
			error |= t->results[j].status == DS_ERROR;
			allowed |= t->results[j].status == DS_ALLOWED;
		}
		if (!first)
			continue;
		n.lists++;
		if (listed)
			n.listed++;
		else if (error)
			n.errors++;
		else
			n.ok++;
		n.allowed += allowed;
	}
	for (size_t i = 0; i < t->naddrs; i++) {
		bool listed = false;
		for (size_t j = 0; j < t->nresults; j++)
			listed |= t->results[j].subject == t->addrs[i] &&
				  t->results[j].status == DS_LISTED;
		n.addrs++;
		n.addrs_listed += listed;
	}
	for (size_t j = 0; j < t->nresults; j++)
		if (!is_addr_subject(t, t->results[j].subject)) {
			n.domain = true;
			n.domain_listed |= t->results[j].status == DS_LISTED;
		}
	n.multi = n.addrs + n.domain > 1;
	return n;
}

/* After the counts of a verdict on several subjects: which ones. */
static void verdict_subjects(FILE *f, const struct lists_tally *n)
{
	if (!n->multi)
		return;
	if (n->listed)
		fprintf(f, " (%u of %u address%s%s)", n->addrs_listed, n->addrs,
			n->addrs == 1 ? "" : "es", n->domain_listed ? ", and the domain" : "");
	else
		fprintf(f, " (%u address%s%s)", n->addrs, n->addrs == 1 ? "" : "es",
			n->domain ? " and the domain" : "");
}

/* The target, its addresses (the first 8) and its own error. */
static void text_head(struct out *o, const struct dnsbl_target *t)
{
	FILE *f = o->f;
	fprintf(f, "%s", c_on(o, C_BOLD));
	term_text(f, t->input);
	fprintf(f, "%s", c_on(o, C_OFF));
	if (t->naddrs && !(t->naddrs == 1 && !strcmp(t->addrs[0], t->input))) {
		fprintf(f, " (");
		for (size_t i = 0; i < t->naddrs && i < 8; i++)
			fprintf(f, "%s%s", i ? ", " : "", t->addrs[i]);
		fprintf(f, "%s)", t->naddrs > 8 ? ", ..." : "");
	}
	fprintf(f, "\n");
	if (t->error) {
		char buf[1024];
		fprintf(f, "  %sERROR%s    ", c_on(o, C_YELLOW), c_on(o, C_OFF));
		term_text(f, with_hint(o, t->error, t->hint, buf, sizeof(buf)));
		fprintf(f, "\n");
	}
}

/* A clean list, without show_clean: one more entry on the "clean" line. */
static void text_clean(struct out *o, const struct dnsbl_result *r, bool multi,
		       size_t *shown)
{
	FILE *f = o->f;
	if (!(*shown)++)
		fprintf(f, "  %sclean%s    ", c_on(o, C_DIM), c_on(o, C_OFF));
	else
		fprintf(f, ", ");
	fprintf(f, "%s", r->list->zone);
	if (multi || r->reduced) {
		fprintf(f, r->reduced ? " (asked as " : " (");
		term_text(f, r->subject);
		fprintf(f, ")");
	}
}

/* A detail line under a result: indented, untrusted text. */
static void text_detail(FILE *f, const char *label, const char *s)
{
	fprintf(f, "           %s", label);
	term_text(f, s);
	fprintf(f, "\n");
}

/* A result on a line of its own: its status, list and subject; then the
 * codes and their meanings (not for an error), the TXT reasons, what went
 * wrong (an error) and where to get off (a listing). */
static void text_result(struct out *o, const struct dnsbl_result *r, bool multi)
{
	FILE *f = o->f;
	const char *tag, *col;
	switch (r->status) {
	case DS_LISTED: tag = "LISTED"; col = C_RED; break;
	case DS_ALLOWED: tag = "ALLOWED"; col = C_GREEN; break;
	case DS_ERROR: tag = "ERROR"; col = C_YELLOW; break;
	default: tag = "clean"; col = C_DIM; break;
	}
	fprintf(f, "  %s%-8s%s %-28s %s", c_on(o, col), tag, c_on(o, C_OFF),
		r->list->zone, r->list->name);
	if (multi) {
		fprintf(f, " [");
		term_text(f, r->subject);
		fprintf(f, "]");
	}
	fprintf(f, "\n");
	if (r->reduced)		/* the list wants the registered domain */
		text_detail(f, "asked as ", r->subject);
	char code[16], label[24];
	for (size_t j = 0; j < r->ncodes && r->status != DS_ERROR; j++) {
		snprintf(label, sizeof(label), "%s  ", code_text(r->codes[j], code));
		text_detail(f, label, r->meanings[j]);
	}
	for (size_t j = 0; j < r->ntxt; j++)
		text_detail(f, "reason: ", r->txt[j]);
	if (r->status == DS_ERROR && r->error) {
		char buf[1024];
		text_detail(f, "", with_hint(o, r->error, r->hint, buf, sizeof(buf)));
	}
	if (r->status == DS_LISTED) {
		char url[1024];
		if (list_delist_url(r->list, r->subject, url, sizeof(url)))
			text_detail(f, "delist: ", url);
		if (r->list->advice)
			text_detail(f, "advice: ", r->list->advice);
	}
}

/* The results, listed first (they are sorted here). */
static void text_results(struct out *o, struct dnsbl_target *t)
{
	bool multi = t->naddrs > 1 || t->kind == TK_MX;
	size_t clean_shown = 0;
	if (t->nresults)
		qsort(t->results, t->nresults, sizeof(*t->results), result_cmp);
	for (size_t i = 0; i < t->nresults; i++) {
		const struct dnsbl_result *r = &t->results[i];
		if (r->status == DS_CLEAN && !o->opt.show_clean)
			text_clean(o, r, multi, &clean_shown);
		else
			text_result(o, r, multi);
	}
	if (clean_shown)
		fprintf(o->f, "\n");
}

/* One line: listed, clean, not listed on some (others could not be
 * checked), or NO VERDICT when no list could be checked: never "not
 * listed" without a list that said so. */
/* Addresses and lists are counted apart: a /29 on 3 lists is 8
 * addresses and 3 lists, never "24 lists". */
static void text_verdict(struct out *o, const struct dnsbl_target *t,
			 const struct lists_tally *n)
{
	FILE *f = o->f;
	fprintf(f, "%s", c_on(o, n->listed ? C_RED : n->errors || t->error ||
			   !t->nresults ? C_YELLOW : C_GREEN));
	term_text(f, t->input);
	if (t->error && !t->nresults) {
		fprintf(f, ": could not check");
		if (o->opt.quiet) {	/* the ERROR line is not shown: why */
			char buf[1024];
			fprintf(f, ": ");
			term_text(f, with_hint(o, t->error, t->hint, buf, sizeof(buf)));
		}
	} else if (!t->nresults)		/* e.g. an address, only domain lists */
		fprintf(f, ": NO VERDICT: none of the lists selected takes this kind "
			"of target");
	else if (n->listed)
		fprintf(f, ": LISTED on %u of %u list%s", n->listed, n->lists,
			n->lists == 1 ? "" : "s");
	else if (n->errors && !n->ok)	/* no list gave a verdict */
		if (n->errors == 1)
			fprintf(f, ": NO VERDICT: the 1 list could not be checked");
		else
			fprintf(f, ": NO VERDICT: none of %u lists could be checked",
				n->errors);
	else if (n->errors)
		fprintf(f, ": not listed on %u list%s; %u could not be checked", n->ok,
			n->ok == 1 ? "" : "s", n->errors);
	else
		fprintf(f, ": clean on %u list%s", n->lists, n->lists == 1 ? "" : "s");
	if (t->nresults)
		verdict_subjects(f, n);
	if (n->allowed)
		fprintf(f, " (allowlisted on %u)", n->allowed);
	fprintf(f, "%s\n", c_on(o, C_OFF));
}

/* The verdict of a target in one word, as text_verdict() says it:
 * "no-verdict" when no list could be checked, never "clean". */
const char *out_verdict(const struct dnsbl_target *t)
{
	struct lists_tally n = lists_tally(t);
	if (n.listed)
		return "listed";
	if (!n.ok)
		return "no-verdict";
	if (n.errors || t->error)
		return "incomplete";
	return "clean";
}

static void out_text_target(struct out *o, struct dnsbl_target *t)
{
	struct lists_tally n = lists_tally(t);
	if (!o->opt.quiet) {
		text_head(o, t);
		text_results(o, t);
	}
	text_verdict(o, t, &n);
	if (!o->opt.quiet)
		fprintf(o->f, "\n");
}

static void out_json_target(struct out *o, struct dnsbl_target *t, bool lines)
{
	FILE *f = o->f;
	if (!lines)
		fprintf(f, o->json_count++ ? ",\n" : "[\n");
	fprintf(f, "{\"target\": ");
	json_str(f, t->input);
	fprintf(f, ", \"addresses\": [");
	for (size_t i = 0; i < t->naddrs; i++) {
		fprintf(f, i ? ", " : "");
		json_str(f, t->addrs[i]);
	}
	char hinted[1024];
	fprintf(f, "], \"error\": ");
	json_str(f, with_hint(o, t->error, t->hint, hinted, sizeof(hinted)));
	fprintf(f, ", \"results\": [");
	for (size_t i = 0; i < t->nresults; i++) {
		struct dnsbl_result *r = &t->results[i];
		char code[16], url[1024];
		fprintf(f, "%s{\"zone\": ", i ? ", " : "");
		json_str(f, r->list->zone);
		fprintf(f, ", \"list\": ");
		json_str(f, r->list->name);
		fprintf(f, ", \"subject\": ");
		json_str(f, r->subject);
		fprintf(f, ", \"status\": \"%s\", \"codes\": [", dnsbl_status_text(r->status));
		for (size_t j = 0; j < r->ncodes; j++)
			fprintf(f, "%s\"%s\"", j ? ", " : "", code_text(r->codes[j], code));
		fprintf(f, "], \"meanings\": [");
		for (size_t j = 0; j < r->ncodes; j++) {
			fprintf(f, j ? ", " : "");
			json_str(f, r->meanings[j]);
		}
		fprintf(f, "], \"txt\": [");
		for (size_t j = 0; j < r->ntxt; j++) {
			fprintf(f, j ? ", " : "");
			json_str(f, r->txt[j]);
		}
		fprintf(f, "], \"ttl\": %u, \"ms\": %u, \"delist\": ", r->ttl, r->ms);
		json_str(f, list_delist_url(r->list, r->subject, url, sizeof(url)));
		fprintf(f, ", \"advice\": ");
		json_str(f, r->list->advice);
		fprintf(f, ", \"error\": ");
		json_str(f, r->status == DS_ERROR ?
			 with_hint(o, r->error, r->hint, hinted, sizeof(hinted)) : NULL);
		fprintf(f, "}");
	}
	struct lists_tally n = lists_tally(t);
	fprintf(f, "], \"verdict\": \"%s\", \"lists\": %u, \"lists_listed\": %u, "
		"\"lists_unchecked\": %u}%s", out_verdict(t), n.lists, n.listed,
		n.errors, lines ? "\n" : "");
}

static void out_csv_target(struct out *o, struct dnsbl_target *t)
{
	FILE *f = o->f;
	if (t->error && !t->nresults) {
		char buf[1024];
		csv_field(f, t->input);
		fprintf(f, ",,,error,,,,,,,");
		csv_field(f, with_hint(o, t->error, t->hint, buf, sizeof(buf)));
		fprintf(f, "\n");
		return;
	}
	for (size_t i = 0; i < t->nresults; i++) {
		struct dnsbl_result *r = &t->results[i];
		char buf[1024];
		csv_field(f, t->input);
		putc(',', f);
		csv_field(f, r->subject);
		putc(',', f);
		csv_field(f, r->list->zone);
		fprintf(f, ",%s,", dnsbl_status_text(r->status));
		const char *codes[RS_MAX_RR];
		char ctext[RS_MAX_RR][16];

		for (size_t j = 0; j < r->ncodes; j++)
			codes[j] = code_text(r->codes[j], ctext[j]);
		csv_field(f, join(buf, sizeof(buf), " ", codes, r->ncodes));
		putc(',', f);
		csv_field(f, join(buf, sizeof(buf), "; ", r->meanings, r->ncodes));
		putc(',', f);
		csv_field(f, join(buf, sizeof(buf), " | ", (const char *const *)r->txt, r->ntxt));
		fprintf(f, ",%u,%u,", r->ttl, r->ms);
		csv_field(f, list_delist_url(r->list, r->subject, buf, sizeof(buf)));
		putc(',', f);
		csv_field(f, r->status == DS_ERROR ?
			  with_hint(o, r->error, r->hint, buf, sizeof(buf)) : "");
		putc('\n', f);
	}
}

/* Nagios counts lists, not address x list pairs: what each list said
 * about any target. */
static void nagios_collect(struct out *o, struct dnsbl_target *t)
{
	for (size_t i = 0; i < t->nresults; i++) {
		const struct dnsbl_result *r = &t->results[i];
		size_t k = 0;
		while (k < o->nlists && o->lists[k] != r->list)
			k++;
		if (k == o->nlists)
			continue;
		struct nagios_list *nl = &o->nagios[k];
		if (r->status == DS_LISTED && !nl->listed) {
			nl->listed = true;
			nl->code = r->ncodes ? r->codes[0] : 0;
		}
		if (r->status == DS_ERROR)
			nl->error = true;
		else
			nl->checked = true;
	}
}

static void account(struct out *o, struct dnsbl_target *t)
{
	struct tally n = tally(t);
	o->tot.targets++;
	o->tot.listed += n.listed;
	o->tot.allowed += n.allowed;
	o->tot.clean += n.clean;
	o->tot.errors += n.errors;
	if (n.listed)
		o->tot.listed_targets++;
	else if (n.errors || t->error || !t->nresults)	/* no list asked: no verdict */
		o->tot.error_targets++;
}

void out_catalog(FILE *f, const struct catalog *cat)
{
	fprintf(f, "%-22s %-34s %-14s %-6s %-9s %s\n", "ID", "ZONE", "KIND", "TYPE",
	       "STATUS", "SETS");
	for (size_t i = 0; i < cat->n; i++) {
		const struct list *l = cat->lists[i];
		char kinds[32], sets[256] = "";
		size_t n = 0;
		for (size_t j = 0; j < l->nsets && n < sizeof(sets) - 1; j++)
			n += (size_t)snprintf(sets + n, sizeof(sets) - n, "%s%s",
					      j ? "," : "", l->sets[j]);
		fprintf(f, "%-22s %-34s %-14s %-6s %-9s %s\n", l->id, l->zone ? l->zone : "-",
		       list_kind_text(l->kinds, kinds, sizeof(kinds)),
		       l->type == LT_ALLOW ? "allow" : "block",
		       l->status == LS_ACTIVE ? "active" :
		       l->status == LS_NEEDS_KEY ? "needs-key" : "retired", sets);
	}
}

/* Whether a list's note is due: it misbehaved and this run asked it. */
static bool note_due(struct out *o, size_t i)
{
	const char *why;
	enum dnsbl_health h = dnsbl_list_health(o->eng, o->lists[i], &why);
	return (h == DH_BROKEN || h == DH_REFUSING || h == DH_NO_TESTPOINT) &&
	       dnsbl_list_asked(o->eng, o->lists[i]);
}

/* Whether list j's test point failed as list i's did, through the
 * resolver (a list asked at its own server has a note of its own). */
static bool testpoint_alike(struct out *o, size_t i, size_t j)
{
	const char *why;
	return note_due(o, j) && !o->lists[j]->server &&
	       dnsbl_list_health(o->eng, o->lists[j], &why) == DH_NO_TESTPOINT &&
	       !strcmp(dnsbl_list_testpoint_got(o->eng, o->lists[j]),
		       dnsbl_list_testpoint_got(o->eng, o->lists[i]));
}

/* One note for the lists whose test point got the same "got" as list i's
 * (two or more of them; marks them done): the resolver is the likely
 * cause, so say what to do; when it did not answer at all, say that
 * (nothing of refusing or rewriting).  Returns false for a single list. */
static bool print_testpoint_group(struct out *o, size_t i, bool *done)
{
	const char *got = dnsbl_list_testpoint_got(o->eng, o->lists[i]);
	bool silent = dnsbl_list_testpoint_silent(o->eng, o->lists[i]);
	size_t count = 0;
	if (o->lists[i]->server)
		return false;
	for (size_t j = i; j < o->nlists; j++)
		if (testpoint_alike(o, i, j))
			count++;
	if (count < 2)
		return false;
	if (silent)
		fprintf(o->f, "%snote%s: %zu lists got no answer for their RFC 5782 test point "
			"(%s): ", c_on(o, C_YELLOW), c_on(o, C_OFF), count, got);
	else
		fprintf(o->f, "%snote%s: %zu lists cannot really be asked through this resolver: "
			"their RFC 5782 test point is not listed (%s): ", c_on(o, C_YELLOW),
			c_on(o, C_OFF), count, got);
	for (size_t j = i, k = 0; j < o->nlists; j++)
		if (testpoint_alike(o, i, j)) {
			fprintf(o->f, "%s%s", k++ ? ", " : "", o->lists[j]->zone);
			done[j] = true;
		}
	if (silent)
		fprintf(o->f, "; %s\n", o->opt.silence_hint ? o->opt.silence_hint :
			"no answer came: is the server running and reachable?");
	else
		fprintf(o->f, "; %s\n", o->opt.testpoint_hint ? o->opt.testpoint_hint :
			"the resolver may be one the lists refuse, or one that rewrites answers");
	return true;
}

/* Notes on lists that misbehaved, once per run (text output), for the
 * lists this run asked; lists whose test point failed the same way share
 * one note. */
static void print_notes(struct out *o)
{
	bool done[OUT_MAX_LISTS] = { false };
	for (size_t i = 0; i < o->nlists; i++) {
		const char *why;
		if (done[i] || !note_due(o, i))
			continue;
		enum dnsbl_health h = dnsbl_list_health(o->eng, o->lists[i], &why);
		if (h == DH_NO_TESTPOINT && print_testpoint_group(o, i, done))
			continue;
		fprintf(o->f, "%snote%s: %s: %s\n", c_on(o, C_YELLOW), c_on(o, C_OFF),
		       o->lists[i]->zone, why);
	}
}

/* check_rbl's line; returns its exit status (0 OK ... 3 UNKNOWN): the
 * listings against -w and -c; else UNKNOWN when no list gave a verdict,
 * WARNING when one could not be checked, OK. */
static int nagios_summary(struct out *o, const char *target, uint64_t elapsed_ms)
{
	static const char *names[] = { "OK", "WARNING", "CRITICAL", "UNKNOWN" };
	char listed[2048] = "", errors[1024] = "", code[16];
	unsigned nlisted = 0, nerrors = 0, checked = 0;
	size_t n;
	int st;

	for (size_t i = 0; i < o->nlists; i++) {
		const struct nagios_list *nl = &o->nagios[i];
		checked += nl->checked;
		if (nl->listed) {
			n = strlen(listed);
			snprintf(listed + n, sizeof(listed) - n, "%s%s (%s)", nlisted++ ? " " : "",
				 o->lists[i]->zone, code_text(nl->code, code));
		} else if (nl->error) {
			n = strlen(errors);
			snprintf(errors + n, sizeof(errors) - n, "%s%s", nerrors++ ? ", " : "",
				 o->lists[i]->zone);
		}
	}
	if (nlisted >= (unsigned)o->opt.crit)
		st = 2;
	else if (nlisted >= (unsigned)o->opt.warn)
		st = 1;
	else if (!checked)
		st = 3;
	else if (nerrors)
		st = 1;
	else
		st = 0;
	double secs = (double)elapsed_ms / 1000.0;
	if (st == 3 && nerrors)		/* no list gave a verdict */
		fprintf(o->f, "CHECK_RBL UNKNOWN - %s: %s%u list%s could %sbe checked (%s)", target,
		       nerrors == 1 ? "the " : "none of ", nerrors, nerrors == 1 ? "" : "s",
		       nerrors == 1 ? "not " : "", errors);
	else if (st == 3)
		fprintf(o->f, "CHECK_RBL UNKNOWN - %s: could not be checked", target);
	else
		fprintf(o->f, "CHECK_RBL %s - %s BLACKLISTED on %u server%s of %zu", names[st],
		       target, nlisted, nlisted == 1 ? "" : "s", o->nlists);
	if (nlisted)
		fprintf(o->f, " (%s)", listed);
	if (nerrors && st != 3)
		fprintf(o->f, " (%u could not be checked: %s)", nerrors, errors);
	fprintf(o->f, " | servers=%u;%d;%d time=%.3fs;;\n", nlisted, o->opt.warn - 1,
	       o->opt.crit - 1, secs);
	return st;
}

/* ---- the writer ---- */

struct out *out_new(FILE *f, const struct out_opts *opts, const struct list **lists,
		    size_t nlists)
{
	struct out *o = xcalloc(1, sizeof(*o));
	o->f = f;
	o->opt = *opts;
	o->lists = lists;
	o->nlists = nlists < OUT_MAX_LISTS ? nlists : OUT_MAX_LISTS;
	return o;
}

void out_free(struct out *o)
{
	free(o);
}

void out_begin(struct out *o)
{
	if (o->opt.fmt == OUT_CSV)
		fprintf(o->f, "target,subject,zone,status,codes,meanings,txt,ttl,ms,delist,"
			"error\n");
}

void out_target(struct out *o, struct dnsbl_target *t)
{
	account(o, t);
	switch (o->opt.fmt) {
	case OUT_TEXT: out_text_target(o, t); break;
	case OUT_JSON: out_json_target(o, t, false); break;
	case OUT_JSONL: out_json_target(o, t, true); break;
	case OUT_CSV: out_csv_target(o, t); break;
	case OUT_NAGIOS: nagios_collect(o, t); break;
	}
}

int out_end(struct out *o, const struct dnsbl_engine *eng, const char *target,
	    uint64_t elapsed_ms)
{
	o->eng = eng;
	if (o->opt.fmt == OUT_TEXT && !o->opt.quiet && eng)
		print_notes(o);
	if (o->opt.fmt == OUT_JSON)
		fprintf(o->f, o->json_count ? "\n]\n" : "[]\n");
	if (o->opt.fmt == OUT_NAGIOS)
		return nagios_summary(o, target ? target : "targets", elapsed_ms);
	return -1;
}

const struct out_totals *out_totals(const struct out *o)
{
	return &o->tot;
}
