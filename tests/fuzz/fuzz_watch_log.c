/*
 * fuzz_watch_log.c - libFuzzer target for the Postfix log line parser of
 * rblkit watch (watch/signal.h): any bytes give no signal, or one whose
 * every field is terminated inside its buffer and printable.
 */
#include "dnsbl/catalog.h"
#include "watch/signal.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_field(const char *f, size_t size)
{
	size_t n = strnlen(f, size), i;

	if (n >= size)
		abort();
	for (i = 0; i < n; i++)
		if ((unsigned char)f[i] < 0x20 || f[i] == 0x7f)
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct catalog *cat;
	struct watch_signal s;
	char err[256];

	if (!cat) {
		cat = catalog_new();
		if (catalog_load_builtin(cat, err, sizeof(err)) < 0)
			abort();
		catalog_index_build(cat);
	}
	memset(&s, 0xff, sizeof(s));
	if (!watch_log_parse_line((const char *)data, size, cat, 1, &s))
		return 0;
	if (s.when != 1 || !s.list_id[0] || !s.text[0])
		abort();
	check_field(s.source, sizeof(s.source));
	check_field(s.list_id, sizeof(s.list_id));
	check_field(s.zone, sizeof(s.zone));
	check_field(s.ip, sizeof(s.ip));
	check_field(s.rcpt_domain, sizeof(s.rcpt_domain));
	check_field(s.relay, sizeof(s.relay));
	check_field(s.text, sizeof(s.text));
	return 0;
}
