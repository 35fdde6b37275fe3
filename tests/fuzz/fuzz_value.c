/*
 * fuzz_value.c - libFuzzer target for A+TXT values: the input is lines of
 * a data file's values. "$n text" and "$= text" lines set variables, the
 * others are parsed with value_parse() (":A:TXT", ":A", "TXT", ...). All
 * values are compiled with vtab_finish() and expanded for an entry, and
 * every expansion is compared with a direct, one-pass implementation of
 * rbldnsd's substitution rules (rbldnsd(8) "Resulting A values and TXT
 * templates") applied to the raw text: compiling at load time must not
 * change what a query gets.
 *
 * SECURITY: test code; the input is untrusted by design.
 */
#include "serve/value.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_LINES 64

/* rbldnsd's substitution of raw text txt for the entry subst, in one
 * pass: returns the length written to out (at most VALUE_TXT_MAX). */
static size_t reference(const char *txt, const struct value_vars *vars,
			const char *subst, char *out)
{
	const char *base = vars->var[VALUE_VAR_BASE], *sx;
	size_t n = 0;

#define PUT(s, l) do { size_t l_ = (l); const char *s_ = (s);               \
		for (size_t i_ = 0; i_ < l_ && n < VALUE_TXT_MAX; i_++)      \
			out[n++] = s_[i_]; } while (0)
	if (txt[0] == '=') {
		sx = ++txt;             /* "=text": no base template */
	} else if (base && *base) {
		sx = *txt ? txt : NULL; /* $= is the text, or the entry */
		txt = base;
	} else {
		sx = txt;
	}
	for (const char *p = txt; *p; p++) {
		if (*p != '$') {
			PUT(p, 1);
			continue;
		}
		p++;
		if (*p == '$') {
			PUT("$", 1);
		} else if (*p >= '0' && *p <= '9') {
			const char *v = vars->var[*p - '0'];

			if (v)
				PUT(v, strlen(v));
			else
				PUT(p - 1, 2);
		} else if (*p == '=') {
			if (sx)
				PUT(sx, strlen(sx));
			else
				PUT(subst, strlen(subst));
		} else {
			PUT(subst, strlen(subst));
			p--;            /* the next char stays */
		}
	}
#undef PUT
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const substs[] = { "127.0.0.2", "", "$",
		"a-very-long.entry.name.example.com.that.is.long.enough.example" };
	char *text = malloc(size + 1), *line, *next;
	struct value_vars vars = { { NULL } };
	struct value_raw def, *raws = calloc(MAX_LINES, sizeof(*raws));
	uint32_t ids[MAX_LINES];
	unsigned n = 0;
	vtab_t *t = vtab_new();

	if (!text || !raws)
		abort();
	memcpy(text, data, size);
	text[size] = '\0';
	value_default(&def);
	for (line = text; line && n < MAX_LINES; line = next) {
		const char *err = NULL;

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		if (line[0] == '$' && ((line[1] >= '0' && line[1] <= '9') ||
				       line[1] == '=') && line[2] == ' ') {
			int k = line[1] == '=' ? VALUE_VAR_BASE : line[1] - '0';

			if (!vars.var[k])       /* the first assignment wins */
				value_vars_set(&vars, k, line + 3);
			continue;
		}
		if (value_parse(line, &def, &raws[n], &err)) {
			if (!err)
				abort();        /* a failure says why */
			continue;
		}
		if (strlen(raws[n].txt) > VALUE_RAW_MAX)
			abort();
		ids[n] = vtab_add_raw(t, &raws[n]);
		n++;
	}
	vtab_finish(t, &vars);
	for (unsigned i = 0; i < n; i++) {
		const struct value *v = vtab_get(t, vtab_map(t, ids[i]));

		if (vtab_map(t, ids[i]) >= vtab_count(t) || memcmp(v->a, raws[i].a, 4))
			abort();
		for (size_t k = 0; k < sizeof(substs) / sizeof(*substs); k++) {
			uint8_t got[VALUE_TXT_MAX + 1];
			char want[VALUE_TXT_MAX + 1];
			size_t gl = value_expand(v, substs[k], strlen(substs[k]), got);
			size_t wl = reference(raws[i].txt, &vars, substs[k], want);

			if (gl > VALUE_TXT_MAX || gl != wl || memcmp(got, want, gl))
				abort();
		}
	}
	value_vars_clear(&vars);
	vtab_free(t);
	free(raws);
	free(text);
	return 0;
}
