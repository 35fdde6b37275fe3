/*
 * fuzz_resp.c - libFuzzer target for the Redis reply parser (resp.c):
 * the input is a stream of replies, read the way counters_redis.c reads
 * its connection (replies taken from the front until one is incomplete
 * or bad). Invariants that abort: a reply that claims more bytes than
 * given, a string outside the input, a node past the pool, an element
 * walk that does not end.
 */
#include "policy/resp.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_tree(const struct resp_reply *r, const char *buf, size_t used)
{
	if (r->nn < 1 || r->nn > RESP_MAX_NODES)
		abort();
	for (int i = 0; i < r->nn; i++) {
		const struct resp_node *n = &r->n[i];

		if (n->s && (n->s < buf || n->s + n->len > buf + used))
			abort();
		if (n->child >= r->nn || n->next >= r->nn)
			abort();
		if (n->type == RESP_ARRAY) {
			long long k = 0;

			while (resp_elem(r, n, (int)k))
				if (++k > RESP_MAX_NODES)
					abort();
			if (k != n->i)
				abort();
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size ? size : 1);
	size_t off = 0;

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	while (off < size) {
		struct resp_reply r;
		size_t used = 0;
		int rc = resp_parse(buf + off, size - off, &r, &used);

		if (rc != RESP_OK)
			break;
		if (used == 0 || used > size - off)
			abort();
		check_tree(&r, buf + off, used);
		off += used;
	}
	free(buf);
	return 0;
}
