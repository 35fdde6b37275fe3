/*
 * diagnose.c - "rblkit diagnose": read bounces, feedback reports or plain
 * messages (.eml files, mbox files, stdin) and say why the mail did not
 * arrive: text (summary first), --json or --html.
 *
 * SECURITY: reads untrusted mail with the invoking user's privileges; the
 * library (src/lib/mail) bounds every read.  No network unless --check.
 */
#include "mail/batch.h"
#include "dnsbl/catalog.h"
#include "cmd.h"
#include "mail/diagnose.h"
#include "mail/lang.h"
#include "dnsbl/dnsbl.h"
#include "mail/mime.h"
#include "mail/report.h"
#include "dnsbl/resolve.h"
#include "base/util.h"

#include <errno.h>
#include <getopt.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* With --check every message is read first, the judged addresses are
 * looked up together, then everything is printed. */
struct held {
	char *file;
	unsigned index;
	int ok;
	struct diag d;
	char err[160];
	const struct report_check *chk;
};

struct ipcheck {
	char ip[64];
	struct dnsbl_target *t;
	struct report_check chk;
	struct report_hit *hits;
	struct report_err *errs;
};

/* The messages --check holds back until their lookups are done. */
struct run {
	struct held *held;
	size_t nheld, capheld;
};

void cmd_diagnose_help(void)
{
	printf(
"usage: rblkit diagnose [options] [FILE...]\n"
"\n"
"Read bounces (RFC 3464 DSNs and the plain-text reports of Postfix, Exim,\n"
"Sendmail, qmail, Exchange, Gmail, ...), feedback reports, auto-replies or\n"
"plain messages, and say why the mail did not arrive: recipient, status,\n"
"reply code, remote host, failed command, reason (sisimai's vocabulary),\n"
"the blocklist a rejection names and how to get off it, and the path of the\n"
"message with the delay of every hop.  FILE is an .eml file or an mbox\n"
"(several messages); none or \"-\" reads standard input.\n"
"\n"
"  --json           one JSON array, an object per message (docs/diagnose.md)\n"
"  --html           one self-contained HTML page with a hop timeline\n"
"  --catalog FILE   read FILE after the built-in catalogue of blocklists\n"
"  -q               text: the summary line only\n"
"  --lang en|ja     language of the text and HTML reports (default: ja when\n"
"                   LC_ALL, LC_MESSAGES or LANG starts with \"ja\"; JSON is\n"
"                   always English)\n"
"  --check          look the address receivers judged up on the blocklists\n"
"                   (the engine of rblkit check; DNS queries leave the host)\n"
"  --lists SPEC     with --check: sets, ids or zones (default: default)\n"
"  --resolver ADDR[:PORT][,...]  with --check: ask these servers\n"
"  --recursive      with --check: resolve from the root (libunbound)\n"
"  --timeout S      with --check: give up after S seconds (default 10)\n"
"  --files-from F   also read the files named in F, one per line (\"-\":\n"
"                   standard input)\n"
"  -j, --jobs N     read files with N threads (default 0: one per CPU, at\n"
"                   most 8); the output is in the order of the files\n"
"\n"
"Exit status: 0 every input was read; 1 some input could not be read as\n"
"mail (reported, the others still are) or the output could not be\n"
"written; 2 usage error.\n");
}

/* batch_keep_fn: keep a message (its diag moves here) for --check. */
static void hold(void *arg, const char *name, unsigned idx, struct diag *d,
		 const char *err)
{
	struct run *rn = arg;
	struct held *h;

	if (rn->nheld == rn->capheld) {
		rn->capheld = rn->capheld ? rn->capheld * 2 : 16;
		rn->held = xreallocarray(rn->held, rn->capheld, sizeof(*rn->held));
	}
	h = &rn->held[rn->nheld++];
	memset(h, 0, sizeof(*h));
	h->file = xstrdup(name);
	h->index = idx;
	h->ok = !err;
	h->d = *d;		/* the diag's buffers move with it */
	str_copy(h->err, sizeof(h->err), err ? err : "");
}

/* The n strings of v that are not NULL, each once, joined with "; ";
 * NULL when there is none.  The caller frees it. */
static char *join(const char *const *v, size_t n)
{
	size_t len = 1;
	char *s, *o;

	for (size_t i = 0; i < n; i++)
		len += v[i] ? strlen(v[i]) + 2 : 0;
	o = s = xmalloc(len);
	for (size_t i = 0; i < n; i++) {
		int dup = 0;

		for (size_t k = 0; k < i && v[i]; k++)
			dup |= v[k] && !strcmp(v[k], v[i]);
		if (!v[i] || dup)
			continue;
		if (o > s) {
			memcpy(o, "; ", 2);
			o += 2;
		}
		memcpy(o, v[i], strlen(v[i]));
		o += strlen(v[i]);
	}
	*o = '\0';
	if (o == s) {
		free(s);
		return NULL;
	}
	return s;
}

/* Look the judged address of every held message up; 0 or -1 (err). */
static int run_checks(struct run *rn, const struct catalog *cat, const char *spec,
		      const struct rs_opts *ro,
		      unsigned timeout_s, struct ipcheck **out, size_t *nout,
		      struct resolver **rsp, struct dnsbl_engine **engp)
{
	static const struct list *sel[256];
	struct dnsbl_opts dopt = { .cidr_limit = 1 };
	struct ipcheck *ic = NULL;
	size_t nsel = 0, n = 0;
	char err[256];
	struct dnsbl_target *t;

	/* a word naming only domain lists is passed over; nothing at all
	 * selected is an error */
	catalog_select(cat, spec, LK_IP4 | LK_IP6, sel, &nsel, ARRAY_SIZE(sel),
		       err, sizeof(err));
	if (!nsel) {
		fprintf(stderr, "rblkit diagnose: --lists: no IP list named '%s'\n", spec);
		return -1;
	}
	if (!(*rsp = rs_new(ro, err, sizeof(err))) ||
	    !(*engp = dnsbl_new(*rsp, sel, nsel, &dopt, err, sizeof(err)))) {
		fprintf(stderr, "rblkit diagnose: --check: %s\n", err);
		return -1;
	}
	for (size_t i = 0; i < rn->nheld; i++) {
		const struct diag *d = &rn->held[i].d;
		const char *ip;
		int dup = 0;

		if (!rn->held[i].ok || !d->judged_ip[0])
			continue;
		ip = d->judged_ip;
		for (size_t k = 0; k < n; k++)
			dup |= !strcmp(ic[k].ip, ip);
		if (dup)
			continue;
		ic = xreallocarray(ic, n + 1, sizeof(*ic));
		memset(&ic[n], 0, sizeof(*ic));
		snprintf(ic[n].ip, sizeof(ic[n].ip), "%s", ip);
		dnsbl_add(*engp, ip, false);
		n++;
	}
	rs_run(*rsp, now_ms() + (uint64_t)timeout_s * 1000);
	for (size_t k = 0; k < n && (t = dnsbl_next_done(*engp)) != NULL; k++) {
		struct ipcheck *c = &ic[k];

		c->t = t;
		c->hits = xcalloc(t->nresults ? t->nresults : 1, sizeof(*c->hits));
		c->chk.ip = c->ip;
		c->chk.hits = c->hits;
		c->errs = xcalloc(t->nresults ? t->nresults : 1, sizeof(*c->errs));
		c->chk.errs = c->errs;
		for (size_t r = 0; r < t->nresults; r++) {
			const struct dnsbl_result *res = &t->results[r];
			struct report_hit *h = &c->hits[c->chk.nhits];

			if (res->status == DS_CLEAN || res->status == DS_ALLOWED) {
				c->chk.nclean++;
				continue;
			}
			if (res->status != DS_LISTED) {
				c->errs[c->chk.nerror].zone = res->list->zone;
				c->errs[c->chk.nerror].error = res->error ? res->error : "no answer";
				c->chk.nerror++;
				continue;
			}
			h->list = res->list->name;
			h->zone = res->list->zone;
			/* every code of a multi-code answer, not the first only */
			h->ncodes = res->ncodes;
			h->codes = res->codes;
			h->meanings = res->meanings;
			h->meaning = join(res->meanings, res->ncodes);
			h->txt = join((const char *const *)res->txt, res->ntxt);
			h->delist = res->list->delist;
			c->chk.nhits++;
		}
	}
	for (size_t i = 0; i < rn->nheld; i++)
		for (size_t k = 0; k < n; k++)
			if (rn->held[i].ok && ic[k].t &&
			    !strcmp(ic[k].ip, rn->held[i].d.judged_ip))
				rn->held[i].chk = &ic[k].chk;
	*out = ic;
	*nout = n;
	return 0;
}

static void emit_held(struct run *rn, enum batch_fmt fmt, enum lang lang)
{
	for (size_t i = 0; i < rn->nheld; i++) {
		struct held *h = &rn->held[i];
		struct report_item it = { h->file, h->index, h->ok ? &h->d : NULL,
					  h->ok ? NULL : h->err, h->chk, lang };

		batch_emit(fmt, stdout, &it, i == 0);
	}
}

static void free_held(struct run *rn, struct ipcheck *ic, size_t nic,
		      struct resolver *rs, struct dnsbl_engine *eng)
{
	for (size_t i = 0; i < rn->nheld; i++) {
		diag_free(&rn->held[i].d);
		free(rn->held[i].file);
	}
	free(rn->held);
	for (size_t k = 0; k < nic; k++) {
		if (ic[k].t)
			dnsbl_target_free(ic[k].t);
		for (size_t h = 0; h < ic[k].chk.nhits; h++) {
			free((char *)ic[k].hits[h].meaning);
			free((char *)ic[k].hits[h].txt);
		}
		free(ic[k].hits);
		free(ic[k].errs);
	}
	free(ic);
	if (eng)
		dnsbl_free(eng);
	if (rs)
		rs_free(rs);
}

/* The inputs: the n command-line names in args, then one name per line
 * of the file path ("-": standard input; empty lines skipped, a CR before
 * the LF dropped).  *buf holds the names, *names the vector (both the
 * caller's to free), *count their number.  -1 with a message when the
 * list cannot be read. */
static int read_list(const char *path, char *const *args, size_t n, char **buf,
		     char ***names, size_t *count)
{
	size_t cap = 0, len = 0, k = 0, room;
	char *p;

	if (batch_read(path, buf, &cap, &len)) {
		fprintf(stderr, "rblkit diagnose: --files-from %s: %s\n", path, strerror(errno));
		return -1;
	}
	*buf = xrealloc(*buf, len + 1);
	(*buf)[len] = '\0';
	room = n + 1;
	for (size_t i = 0; i < len; i++)
		room += (*buf)[i] == '\n';
	*names = xreallocarray(NULL, room, sizeof(**names));
	for (size_t i = 0; i < n; i++)
		(*names)[k++] = args[i];
	for (p = *buf; p < *buf + len;) {
		char *nl = memchr(p, '\n', (size_t)(*buf + len - p)), *e;

		e = nl ? nl : *buf + len;
		*e = '\0';
		if (e > p && e[-1] == '\r')
			e[-1] = '\0';
		if (*p)
			(*names)[k++] = p;
		p = e + 1;
	}
	*count = k;
	return 0;
}

/* stdout's buffer (see cmd_diagnose()) */
static char outbuf[64 << 10];

int cmd_diagnose(int argc, char **argv)
{
	enum { O_JSON = 256, O_HTML, O_CATALOG, O_CHECK, O_LISTS, O_RESOLVER,
	       O_RECURSIVE, O_TIMEOUT, O_FILES_FROM, O_LANG };
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, O_JSON },
		{ "html", no_argument, NULL, O_HTML },
		{ "catalog", required_argument, NULL, O_CATALOG },
		{ "check", no_argument, NULL, O_CHECK },
		{ "lists", required_argument, NULL, O_LISTS },
		{ "resolver", required_argument, NULL, O_RESOLVER },
		{ "recursive", no_argument, NULL, O_RECURSIVE },
		{ "timeout", required_argument, NULL, O_TIMEOUT },
		{ "jobs", required_argument, NULL, 'j' },
		{ "files-from", required_argument, NULL, O_FILES_FROM },
		{ "lang", required_argument, NULL, O_LANG },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct run rn = { 0 };
	struct batch_opts bo = { .fmt = BATCH_TEXT, .out = stdout, .lang = lang_from_env() };
	int quiet = 0, check = 0;
	unsigned fmts = 0;		/* 1 --json, 2 --html, 4 -q */
	size_t errors;
	struct rs_opts ro = { .mode = RS_SYSTEM, .timeout_ms = 2000, .tries = 2,
			      .window = 256 };
	struct catalog *cat = catalog_new();
	const char *catfile = NULL, *lists = "default";
	struct ipcheck *ic = NULL;
	size_t nic = 0;
	struct resolver *rs = NULL;
	struct dnsbl_engine *eng = NULL;
	unsigned timeout_s = 10, jobs = 0;
	static char *stdin_only[] = { "-" };	/* no FILE: standard input */
	char *const *files = stdin_only;
	size_t nfiles = 1;
	const char *files_from = NULL;
	char *listbuf = NULL, **listed = NULL;
	char err[256], *end;
	int c, rc = 2;

	while ((c = getopt_long(argc, argv, "qhj:", longopts, NULL)) != -1) {
		switch (c) {
		case O_JSON: bo.fmt = BATCH_JSON; fmts |= 1; break;
		case O_HTML: bo.fmt = BATCH_HTML; fmts |= 2; break;
		case O_CATALOG: catfile = optarg; break;
		case O_CHECK: check = 1; break;
		case O_LISTS: lists = optarg; break;
		case O_RESOLVER: ro.mode = RS_FORWARD; ro.servers = optarg; break;
		case O_RECURSIVE: ro.mode = RS_RECURSIVE; break;
		case O_TIMEOUT:
			timeout_s = (unsigned)strtoul(optarg, &end, 10);
			if (*end || !timeout_s || timeout_s > 3600) {
				fprintf(stderr, "rblkit diagnose: --timeout: 1 to 3600 seconds\n");
				goto out;
			}
			break;
		case 'q': quiet = 1; fmts |= 4; break;
		case O_FILES_FROM: files_from = optarg; break;
		case O_LANG:
			if (lang_parse(optarg, &bo.lang)) {
				fprintf(stderr, "rblkit diagnose: --lang: en or ja\n");
				goto out;
			}
			break;
		case 'j':
			jobs = (unsigned)strtoul(optarg, &end, 10);
			if (*end || !*optarg || jobs > BATCH_JOBS_MAX) {
				fprintf(stderr, "rblkit diagnose: -j: 0 (one per CPU) to %d threads\n",
					BATCH_JOBS_MAX);
				goto out;
			}
			break;
		case 'h':
			cmd_diagnose_help();
			rc = 0;
			goto out;
		default:
			rc = cmd_usage_error("diagnose");
			goto out;
		}
	}
	if (fmts & (fmts - 1)) {	/* more than one: none may be dropped silently */
		fprintf(stderr, "rblkit diagnose: choose one output format "
			"(--json, --html or -q)\n");
		goto out;
	}
	if (catalog_load_all(cat, &catfile, catfile ? 1 : 0, err, sizeof(err))) {
		fprintf(stderr, "rblkit diagnose: catalogue: %s\n", err);
		goto out;
	}
	if (bo.fmt == BATCH_TEXT && quiet)
		bo.fmt = BATCH_QUIET;
	bo.cat = cat;
	bo.jobs = jobs;
	if (ro.timeout_ms * ro.tries + 100 > timeout_s * 1000u)
		ro.timeout_ms = (timeout_s * 1000u - 100) / ro.tries;
	if (optind < argc) {
		files = argv + optind;
		nfiles = (size_t)(argc - optind);
	}
	if (files_from) {
		if (read_list(files_from, argv + optind, (size_t)(argc - optind), &listbuf,
			      &listed, &nfiles) < 0) {
			rc = 2;
			goto out;
		}
		files = listed;
	}
	if (check) {
		/* every message first, then the lookups, then the reports */
		bo.keep = hold;
		bo.keep_arg = &rn;
	}
	/* memory handed back to the kernel and asked for again costs system
	 * calls (and, with threads, a TLB flush on every CPU): keep what is
	 * freed for the next message */
	mallopt(M_MMAP_THRESHOLD, 64 << 20);
	mallopt(M_TRIM_THRESHOLD, 256 << 20);
	/* a report of many messages is megabytes: out in 64 KiB writes, not
	 * 4 KiB ones (a system call each); a terminal stays line-buffered.
	 * (glibc takes no size without a buffer: the buffer is static, as
	 * stdout outlives this function.) */
	if (!isatty(STDOUT_FILENO))
		setvbuf(stdout, outbuf, _IOFBF, sizeof(outbuf));
	if (batch_run(&bo, files, nfiles, &errors, err, sizeof(err)) < 0) {
		fprintf(stderr, "rblkit diagnose: %s\n", err);
		rc = 1;
		goto out;
	}
	if (check) {
		if (run_checks(&rn, cat, lists, &ro, timeout_s, &ic, &nic, &rs, &eng))
			goto out;
		batch_begin_lang(bo.fmt, stdout, bo.lang);
		emit_held(&rn, bo.fmt, bo.lang);
		batch_end(bo.fmt, stdout);
	}
	rc = errors ? 1 : 0;
	if (fflush(stdout) == EOF || ferror(stdout)) {
		fprintf(stderr, "rblkit diagnose: write error: %s\n", strerror(errno));
		rc = 1;
	}
out:
	free_held(&rn, ic, nic, rs, eng);
	free(listbuf);
	free(listed);
	mime_thread_cleanup();
	report_thread_cleanup();
	catalog_free(cat);
	return rc;
}
