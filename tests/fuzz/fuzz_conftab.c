/*
 * fuzz_conftab.c - libFuzzer target for conftab_parse(): the input is a
 * configuration file for a table with a key of every type.  A parse that
 * fails must say why (bounded: at most CONFTAB_MAX_ERRORS kept, each
 * naming the file); one that succeeds must dump to text that parses
 * again to the same dump.
 *
 * SECURITY: test code; the input is untrusted by design.
 */
#include "base/conftab.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct cfg {
	char *s;
	int i, e;
	unsigned u;
	uint32_t t;
	bool b;
	struct conftab_list l;
	unsigned nfunc;
};

static int parse_digits(void *conf, void *field, const char *v, char *err, size_t el)
{
	if (!*v || strspn(v, "0123456789") != strlen(v)) {
		snprintf(err, el, "expected digits");
		return -1;
	}
	(*(unsigned *)field)++;
	return 0;
}

static int check(void *conf, char *err, size_t el)
{
	const struct cfg *c = conf;

	if (c->i > (int)c->u) {
		snprintf(err, el, "i is above u");
		return -1;
	}
	return 0;
}

static const char *const words[] = { "one", "two", "three", NULL };

#define O(f) offsetof(struct cfg, f)
static const struct conftab_key keys[] = {
	{ "s", CONFTAB_STR, O(s), "default text", .help = "" },
	{ "i", CONFTAB_INT, O(i), "0", -1000, 1000, .help = "" },
	{ "u", CONFTAB_UINT, O(u), "10", 0, 4000000000LL, .help = "" },
	{ "t", CONFTAB_TIME, O(t), "1h", 0, 4294967295LL, .help = "" },
	{ "b", CONFTAB_BOOL, O(b), "no", .help = "" },
	{ "e", CONFTAB_ENUM, O(e), "two", .words = words, .help = "" },
	{ "l", CONFTAB_LIST, O(l), "a, b", .help = "" },
	{ "f", CONFTAB_FUNC, O(nfunc), NULL, .parse = parse_digits,
	  .flags = CONFTAB_REPEAT, .help = "" },
};
#undef O

static const struct conftab tab = { keys, sizeof(keys) / sizeof(keys[0]), sizeof(struct cfg),
				    check, NULL };

static char *dump(const struct cfg *c)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		abort();
	conftab_dump(&tab, c, f);
	fclose(f);
	return buf;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct conftab_errors e;
	struct cfg *c, *again;
	char *text;

	if (size > 16384)
		return 0;
	text = malloc(size + 1);
	if (!text)
		abort();
	memcpy(text, data, size);
	text[size] = '\0';
	c = conftab_new(&tab);
	if (conftab_parse(&tab, c, text, "fuzz.conf", &e)) {
		if (!e.total || e.n > CONFTAB_MAX_ERRORS || e.n > e.total ||
		    (e.total <= CONFTAB_MAX_ERRORS && e.n != e.total))
			abort();
		for (unsigned i = 0; i < e.n; i++)
			if (strncmp(e.msg[i], "fuzz.conf", 9) ||
			    !memchr(e.msg[i], '\0', CONFTAB_ERROR_LEN))
				abort();
	} else {
		char *d1 = dump(c), *d2;

		if (e.total || e.n)
			abort();
		again = conftab_new(&tab);
		if (conftab_parse(&tab, again, d1, "dump", &e))
			abort();
		d2 = dump(again);
		if (strcmp(d1, d2))
			abort();
		free(d1);
		free(d2);
		conftab_free(&tab, again);
	}
	conftab_free(&tab, c);
	free(text);
	return 0;
}
