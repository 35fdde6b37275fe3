/*
 * fuzz_http.c - libFuzzer target for the metrics listener's HTTP request
 * reader (http_request_path) and the metrics formatter.
 */
#include "serve/metrics.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[64], out[512];
	uint64_t sum[1][ST_COUNT] = { { 1, 2, 3, 4, 5, 6 } }, g[ST_COUNT] = { 0 };
	char zone[64];
	const char *zones[1] = { zone };
	size_t zl = size < sizeof(zone) - 1 ? size : sizeof(zone) - 1;

	if (http_request_path((const char *)data, size, path, sizeof(path)) == 0 &&
	    strlen(path) >= sizeof(path))
		abort();
	/* the input as a zone name must not break the formatter's bounds */
	memcpy(zone, data, zl);
	zone[zl] = '\0';
	if (metrics_format(out, sizeof(out), zones, 1,
			   (const uint64_t (*)[ST_COUNT])sum, g) >= sizeof(out))
		abort();
	return 0;
}
