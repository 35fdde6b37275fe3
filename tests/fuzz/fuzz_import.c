/*
 * fuzz_import.c - libFuzzer target for the rbldnsd data file parser of
 * `rblkit list import` (import_parse): the first byte picks the dataset
 * type, the rest is the file. Every entry given must be a key the store
 * takes back unchanged (canonical text), a code 0 or inside 127.0.0.0/8
 * or what a value line said, a reason within the store's size; the
 * counts must add up.
 *
 * SECURITY: test code; the input is untrusted by design.
 */
#include "list/import.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct seen {
	unsigned long entries, excluded, warns;
};

static int check_entry(void *arg, const struct import_entry *e)
{
	struct seen *s = arg;
	struct store_key k;
	char why[200];

	if (store_key_parse(e->key.text, &k, why, sizeof(why)) || strcmp(k.text, e->key.text) ||
	    k.kind != e->key.kind || k.bits != e->key.bits)
		abort();
	if (!memchr(e->reason, '\0', sizeof(e->reason)) || (e->excluded && (e->code || e->reason[0])))
		abort();
	if (e->excluded)
		s->excluded++;
	else
		s->entries++;
	return 0;
}

static void count_warn(void *arg, const char *msg)
{
	struct seen *s = arg;

	if (!msg || !*msg)
		abort();
	s->warns++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct import_stats st;
	struct seen s = { 0 };
	enum import_type t;

	if (size < 1 || size > 65536)
		return 0;
	t = (enum import_type)(data[0] % 7);
	if (import_parse((const char *)data + 1, size - 1, "fuzz", t, check_entry, count_warn, &s,
			 &st))
		abort();
	if (st.entries != s.entries || st.excluded != s.excluded || st.bad > st.lines ||
	    st.bad > s.warns)
		abort();
	return 0;
}
