/*
 * fuzz_qlog.c - libFuzzer target for the query log line: any request and
 * response bytes give a bounded line or none.
 */
#include "serve/qlog.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6 };
	char line[600];
	size_t split = size ? data[0] % (size + 1) : 0, n;

	/* the first byte splits the input into request and response */
	n = qlog_format(line, sizeof(line), 1, (struct sockaddr *)&sin6,
			data, split, data + split, size - split);
	if (n >= sizeof(line) || (n && (strlen(line) != n || line[n - 1] != '\n')))
		abort();
	return 0;
}
