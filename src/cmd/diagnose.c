/*
 * diagnose.c - "rblkit diagnose": read bounces, feedback reports or plain
 * messages (.eml files, mbox files, stdin) and say why the mail did not
 * arrive: text (summary first), --json or --html.
 *
 * SECURITY: reads untrusted mail with the invoking user's privileges; the
 * library (src/lib/mail) bounds every read.  No network unless --check.
 */
#include "catalog.h"
#include "cmd.h"
#include "diagnose.h"
#include "report.h"
#include "util.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define INPUT_MAX (1024u << 20)	/* one file or stdin: 1 GiB (mbox) */

enum fmt { FMT_TEXT, FMT_JSON, FMT_HTML };

struct run {
	enum fmt fmt;
	const struct catalog *cat;
	int first;		/* no JSON item written yet */
	int errors;		/* inputs that could not be read */
	int quiet;
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
"\n"
"Exit status: 0 every input was read; 1 some input could not be read as\n"
"mail (reported, the others still are); 2 usage error.\n");
}

static int read_all(FILE *f, char **buf, size_t *len)
{
	size_t cap = 1 << 16, n = 0;
	char *b = xmalloc(cap);

	for (;;) {
		size_t r;

		if (n == cap) {
			if (cap >= INPUT_MAX) {
				free(b);
				errno = EFBIG;
				return -1;
			}
			cap *= 2;
			b = xrealloc(b, cap);
		}
		r = fread(b + n, 1, cap - n, f);
		n += r;
		if (r == 0)
			break;
	}
	if (ferror(f)) {
		free(b);
		return -1;
	}
	*buf = b;
	*len = n;
	return 0;
}

static void emit(struct run *rn, const struct report_item *it)
{
	char sum[1024];

	switch (rn->fmt) {
	case FMT_JSON:
		report_json(stdout, it, rn->first);
		break;
	case FMT_HTML:
		report_html(stdout, it);
		break;
	default:
		if (rn->quiet && it->d) {
			report_summary(it->d, sum, sizeof(sum));
			printf("%s: %s\n", it->file, sum);
		} else {
			report_text(stdout, it);
		}
	}
	rn->first = 0;
}

static void one_input(struct run *rn, const char *name, const char *text, size_t len)
{
	size_t pos = 0;
	const char *m;
	size_t ml;
	unsigned idx = 0;

	if (len == 0) {
		struct report_item it = { name, 1, NULL, "empty input" };

		rn->errors++;
		emit(rn, &it);
		return;
	}
	while (diag_mbox_next(text, len, &pos, &m, &ml)) {
		struct diag d;
		char err[128];
		struct report_item it = { name, ++idx, NULL, NULL };

		if (diag_read(&d, m, ml, rn->cat, err, sizeof(err)) == 0) {
			it.d = &d;
		} else {
			it.error = err;
			rn->errors++;
		}
		emit(rn, &it);
		diag_free(&d);
	}
}

static void one_file(struct run *rn, const char *path)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
	char *buf;
	size_t len;

	if (!f || read_all(f, &buf, &len)) {
		char err[256];
		struct report_item it = { path, 1, NULL, err };

		snprintf(err, sizeof(err), "cannot read: %s", strerror(errno));
		rn->errors++;
		emit(rn, &it);
		if (f && f != stdin)
			fclose(f);
		return;
	}
	if (f != stdin)
		fclose(f);
	one_input(rn, path, buf, len);
	free(buf);
}

int cmd_diagnose(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "html", no_argument, NULL, 'H' },
		{ "catalog", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct run rn = { FMT_TEXT, NULL, 1, 0, 0 };
	struct catalog *cat = catalog_new();
	const char *catfile = NULL;
	char err[256];
	int c;

	while ((c = getopt_long(argc, argv, "qh", longopts, NULL)) != -1) {
		switch (c) {
		case 'j': rn.fmt = FMT_JSON; break;
		case 'H': rn.fmt = FMT_HTML; break;
		case 'c': catfile = optarg; break;
		case 'q': rn.quiet = 1; break;
		case 'h':
			cmd_diagnose_help();
			catalog_free(cat);
			return 0;
		default:
			cmd_diagnose_help();
			catalog_free(cat);
			return 2;
		}
	}
	if (catalog_load_builtin(cat, err, sizeof(err)) ||
	    (catfile && catalog_load_file(cat, catfile, err, sizeof(err)))) {
		fprintf(stderr, "rblkit diagnose: catalogue: %s\n", err);
		catalog_free(cat);
		return 2;
	}
	rn.cat = cat;
	if (rn.fmt == FMT_JSON)
		report_json_begin(stdout);
	else if (rn.fmt == FMT_HTML)
		report_html_begin(stdout);
	if (optind >= argc)
		one_file(&rn, "-");
	for (int i = optind; i < argc; i++)
		one_file(&rn, argv[i]);
	if (rn.fmt == FMT_JSON)
		report_json_end(stdout);
	else if (rn.fmt == FMT_HTML)
		report_html_end(stdout);
	catalog_free(cat);
	fflush(stdout);
	return rn.errors ? 1 : 0;
}
