/*
 * fuzz_catalog.c - libFuzzer target for catalogue files: any text loads
 * or fails with a file:line message; whatever loaded classifies codes and
 * matches the input as a rejection text without reading out of bounds.
 */
#include "dnsbl/catalog.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[512] = "";
	struct catalog *cat = catalog_new();
	int rc = catalog_parse(cat, (const char *)data, size, "f", err, sizeof(err));
	if (rc < 0 && strncmp(err, "f:", 2))
		abort();
	for (size_t i = 0; i < cat->n; i++) {
		const char *m = NULL;
		list_classify(cat->lists[i], 0x7f000002, &m);
		if (!m)
			abort();
	}
	catalog_match_text(cat, (const char *)data, size);
	catalog_free(cat);
	return 0;
}
