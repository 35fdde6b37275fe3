/*
 * fuzz_mail.c - libFuzzer target for the mail reader: mbox splitting, the
 * header reader, MIME (multipart, base64, QP, RFC 2047, iconv), delivery
 * reports of every shape, reasons, Received chains, and the three output
 * formats, all on one input.
 */
#include "dnsbl/catalog.h"
#include "mail/diagnose.h"
#include "mail/report.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct catalog *cat;
static FILE *sink;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data, *m;
	size_t pos = 0, ml;
	unsigned idx = 0;
	char err[128];

	if (!cat) {
		cat = catalog_new();
		if (catalog_load_builtin(cat, err, sizeof(err)))
			abort();
		sink = fopen("/dev/null", "w");
	}
	while (diag_mbox_next(text, size, &pos, &m, &ml)) {
		struct diag d;
		static const uint32_t codes[] = { 0x7f000002, 0x7f000004 };
		static const char *const meanings[] = { "spam source", NULL };
		static const struct report_hit hit = {
			.list = "List", .zone = "bl.example", .meaning = "spam source",
			.txt = "listed \"x\" <y>", .delist = "https://x/?a=1&b=\"<y>",
			.ncodes = 2, .codes = codes, .meanings = meanings };
		static const struct report_err errs[] = {
			{ "a.example", "REFUSED: \"x\" <y>" }, { "b.example", "timeout" },
			{ "c.example", "REFUSED: \"x\" <y>" } };
		static const struct report_check chk = { "192.0.2.1", &hit, 1, 2, 3, errs };
		struct report_item it = { "fuzz", 0, NULL, NULL, NULL, LANG_EN };
		char sum[512];

		it.index = ++idx;
		it.chk = idx % 2 ? &chk : NULL;
		it.lang = idx % 3 ? LANG_EN : LANG_JA;	/* both catalogues */
		if (diag_read(&d, m, ml, cat, err, sizeof(err)) == 0) {
			it.d = &d;
			report_summary(&d, sum, sizeof(sum));
			if (strlen(sum) >= sizeof(sum))
				abort();
			for (size_t i = 0; i < d.dsn.n; i++)
				if (!d.dsn.r[i].reason)
					abort();
		} else {
			it.error = err;
		}
		report_text(sink, &it);
		report_json(sink, &it, idx == 1);
		report_html(sink, &it);
		diag_free(&d);
	}
	return 0;
}
