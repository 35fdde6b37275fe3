/*
 * fuzz_catalog.c - libFuzzer target for catalogue files: any text loads
 * or fails with file:line messages (one a line); whatever loaded classifies codes and
 * matches the input as a rejection text without reading out of bounds.
 */
#include "dnsbl/catalog.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[4096] = "", url[256];
	struct catalog *cat = catalog_new();
	int rc = catalog_parse(cat, (const char *)data, size, "f", err, sizeof(err));
	if (rc < 0 && strncmp(err, "f:", 2))
		abort();
	/* every error line names the file */
	for (const char *nl = strchr(err, '\n'); nl; nl = strchr(nl + 1, '\n'))
		if (strncmp(nl + 1, "f:", 2))
			abort();
	for (size_t i = 0; i < cat->n; i++) {
		const char *m = NULL;
		list_classify(cat->lists[i], 0x7f000002, &m);
		if (!m)
			abort();
		list_delist_url(cat->lists[i], "192.0.2.1", url, sizeof(url));
	}
	catalog_match_text(cat, (const char *)data, size);
	catalog_free(cat);
	return 0;
}
