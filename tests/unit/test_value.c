/*
 * test_value.c - unit tests for A+TXT values: parsing ":A:TXT" forms,
 * compiling templates with $n and $=, and expanding "$" at query time,
 * against rbldnsd(8) "Resulting A values and TXT templates" and what
 * rbldnsd 1.0pre answers for the same data lines.
 */
#include "unit.h"
#include "serve/value.h"

#include <stdio.h>
#include <string.h>

static struct value_raw def_v;  /* the scope default of a test */

/* Parse s against the default def_v; returns 0 or -1. */
static int parse(const char *s, struct value_raw *out)
{
	const char *err = NULL;
	int r = value_parse(s, &def_v, out, &err);

	if (r && !err)
		return -2;      /* failure must say why */
	return r;
}

static void set_default(const char *a_txt)
{
	struct value_raw builtin;

	value_default(&builtin);
	if (!a_txt) {
		def_v = builtin;
		return;
	}
	if (parse(a_txt, &def_v))
		def_v = builtin;
}

static char *a_text(const uint8_t a[4], char *buf)
{
	snprintf(buf, 16, "%u.%u.%u.%u", a[0], a[1], a[2], a[3]);
	return buf;
}

/* Compile the raw text with vars (which may be NULL) and expand it for
 * the entry subst; returns the TXT (static buffer), "" for none. */
static const char *expand_with(const char *raw, const struct value_vars *vars,
			       const char *subst)
{
	static char out[VALUE_TXT_MAX + 1];
	struct value_vars none = { { NULL } };
	struct value_raw v;
	vtab_t *t = vtab_new();
	size_t n;

	value_default(&v);
	snprintf(v.txt, sizeof(v.txt), "%s", raw);
	vtab_finish(t, vars ? vars : &none);
	vtab_free(t);
	t = vtab_new();
	n = vtab_add_raw(t, &v);
	vtab_finish(t, vars ? vars : &none);
	n = value_expand(vtab_get(t, vtab_map(t, (uint32_t)n)), subst,
			 strlen(subst), (uint8_t *)out);
	out[n] = '\0';
	vtab_free(t);
	return out;
}

static const char *expand(const char *raw, const char *subst)
{
	return expand_with(raw, NULL, subst);
}

UNIT_TEST(builtin_default)
{
	struct value_raw v;
	char b[16];

	value_default(&v);
	CHECK_EQ_STR(a_text(v.a, b), "127.0.0.2");
	CHECK_EQ_STR(v.txt, "");
}

UNIT_TEST(plain_text_keeps_default_a)
{
	struct value_raw v;
	char b[16];

	set_default(":127.0.0.3:IP address $ is listed");
	CHECK_EQ_INT(parse("IP address $ running an open relay", &v), 0);
	CHECK_EQ_STR(a_text(v.a, b), "127.0.0.3");
	CHECK_EQ_STR(v.txt, "IP address $ running an open relay");
}

UNIT_TEST(empty_value_is_default)
{
	struct value_raw v;
	char b[16];

	set_default(":127.0.0.3:IP address $ is listed");
	CHECK_EQ_INT(parse("", &v), 0);
	CHECK_EQ_STR(a_text(v.a, b), "127.0.0.3");
	CHECK_EQ_STR(v.txt, "IP address $ is listed");
}

UNIT_TEST(a_only_keeps_default_txt)
{
	/* "127.0.0.5 :5" uses a specific A and the default TXT */
	struct value_raw v;
	char b[16];

	set_default(":127.0.0.2:IP address $ is listed");
	CHECK_EQ_INT(parse(":5", &v), 0);
	CHECK_EQ_STR(a_text(v.a, b), "127.0.0.5");
	CHECK_EQ_STR(v.txt, "IP address $ is listed");
	CHECK_EQ_INT(parse(":1.2.3.4", &v), 0);
	CHECK_EQ_STR(a_text(v.a, b), "1.2.3.4");
	CHECK_EQ_STR(v.txt, "IP address $ is listed");
}

UNIT_TEST(a_and_colon_means_no_txt)
{
	/* "127.0.0.6 :6:" uses a specific A and no TXT */
	struct value_raw v;
	char b[16];

	set_default(":127.0.0.2:IP address $ is listed");
	CHECK_EQ_INT(parse(":6:", &v), 0);
	CHECK_EQ_STR(a_text(v.a, b), "127.0.0.6");
	CHECK_EQ_STR(v.txt, "");
	CHECK_EQ_INT(parse(":127.0.0.6:", &v), 0);
	CHECK_EQ_STR(a_text(v.a, b), "127.0.0.6");
	CHECK_EQ_STR(v.txt, "");
}

UNIT_TEST(a_and_txt)
{
	struct value_raw v;
	char b[16];

	set_default(NULL);
	CHECK_EQ_INT(parse(":127.0.0.2:Blacklisted: http://example.com/bl?$", &v), 0);
	CHECK_EQ_STR(a_text(v.a, b), "127.0.0.2");
	CHECK_EQ_STR(v.txt, "Blacklisted: http://example.com/bl?$");
	/* blanks around the second colon are skipped (rbldnsd does too) */
	CHECK_EQ_INT(parse(":1.2.3.4 : x", &v), 0);
	CHECK_EQ_STR(a_text(v.a, b), "1.2.3.4");
	CHECK_EQ_STR(v.txt, "x");
}

UNIT_TEST(a_short_forms_like_rbldnsd)
{
	/* rbldnsd: one number n is 127.0.0.n; otherwise the last number is
	 * the last octet, as inet_aton has it */
	struct value_raw v;
	char b[16];

	set_default(NULL);
	CHECK_EQ_INT(parse(":255:x", &v), 0);
	CHECK_EQ_STR(a_text(v.a, b), "127.0.0.255");
	CHECK_EQ_INT(parse(":1.2:x", &v), 0);
	CHECK_EQ_STR(a_text(v.a, b), "1.0.0.2");
	CHECK_EQ_INT(parse(":10.1:x", &v), 0);
	CHECK_EQ_STR(a_text(v.a, b), "10.0.0.1");
	CHECK_EQ_INT(parse(":1.2.3:x", &v), 0);
	CHECK_EQ_STR(a_text(v.a, b), "1.2.0.3");
	CHECK_EQ_INT(parse(":0.5:x", &v), 0);
	CHECK_EQ_STR(a_text(v.a, b), "0.0.0.5");
	CHECK_EQ_INT(parse(":127.0.0.0:x", &v), 0);
	CHECK_EQ_STR(a_text(v.a, b), "127.0.0.0");
}

UNIT_TEST(a_invalid)
{
	struct value_raw v;

	set_default(NULL);
	CHECK_EQ_INT(parse(":256:x", &v), -1);
	CHECK_EQ_INT(parse(":0:x", &v), -1);
	CHECK_EQ_INT(parse(":00:x", &v), -1);
	CHECK_EQ_INT(parse(":0.0.0.0:x", &v), -1);
	CHECK_EQ_INT(parse(":1.2.3.4.5:x", &v), -1);
	CHECK_EQ_INT(parse(":1.256:x", &v), -1);
	CHECK_EQ_INT(parse(":1..2:x", &v), -1);
	CHECK_EQ_INT(parse(":1.:x", &v), -1);
	CHECK_EQ_INT(parse(": 1.2.3.4:x", &v), -1);
	CHECK_EQ_INT(parse(":A", &v), -1);
	CHECK_EQ_INT(parse(":1.2.3.4junk", &v), -1);
	CHECK_EQ_INT(parse("::text", &v), -1);
}

UNIT_TEST(raw_text_cut_at_255)
{
	char line[400];
	struct value_raw v;

	set_default(NULL);
	memset(line, 'x', 300);
	line[300] = '\0';
	CHECK_EQ_INT(parse(line, &v), 0);
	CHECK_EQ_INT(strlen(v.txt), 255);
}

UNIT_TEST(expand_entry)
{
	CHECK_EQ_STR(expand("IP address $ is listed", "127.0.0.4"),
		     "IP address 127.0.0.4 is listed");
	CHECK_EQ_STR(expand("trailing $", "1.2.3.4"), "trailing 1.2.3.4");
	CHECK_EQ_STR(expand("$", "x"), "x");
	CHECK_EQ_STR(expand("a$xb", "127.0.0.12"), "a127.0.0.12xb");
	CHECK_EQ_STR(expand("$$", "x"), "$");
	CHECK_EQ_STR(expand("dollar at end $$", "x"), "dollar at end $");
	CHECK_EQ_STR(expand("", "x"), "");
	CHECK_EQ_STR(expand("no dollar", "x"), "no dollar");
}

UNIT_TEST(expand_vars)
{
	struct value_vars vars = { { NULL } };

	value_vars_set(&vars, 1, "See http://www.example.com/bl");
	value_vars_set(&vars, 2, "for details");
	CHECK_EQ_STR(expand_with("$1/spammer/$ $2", &vars, "127.0.0.2"),
		     "See http://www.example.com/bl/spammer/127.0.0.2 for details");
	CHECK_EQ_STR(expand_with("This spammer wants some $$$$.  $1/$", &vars,
				 "127.0.0.4"),
		     "This spammer wants some $$.  See http://www.example.com/bl/127.0.0.4");
	/* an undefined $n stays as written (rbldnsd does the same) */
	CHECK_EQ_STR(expand_with("undefined $3 var", &vars, "x"), "undefined $3 var");
	/* a variable's own dollars are literal, not the entry */
	value_vars_set(&vars, 3, "cost $5 or $");
	CHECK_EQ_STR(expand_with("$3!", &vars, "ENTRY"), "cost $5 or $!");
	value_vars_set(&vars, 0, "zero");
	CHECK_EQ_STR(expand_with("$0$9", &vars, "x"), "zero$9");
	value_vars_clear(&vars);
	CHECK(vars.var[1] == NULL);
}

UNIT_TEST(expand_base_template)
{
	struct value_vars vars = { { NULL } };

	value_vars_set(&vars, VALUE_VAR_BASE,
		       "See http://www.example.com/bl?$= ($) for details");
	CHECK_EQ_STR(expand_with("r123", &vars, "127.0.0.2"),
		     "See http://www.example.com/bl?r123 (127.0.0.2) for details");
	/* no text: $= is the entry */
	CHECK_EQ_STR(expand_with("", &vars, "127.0.0.3"),
		     "See http://www.example.com/bl?127.0.0.3 (127.0.0.3) for details");
	/* "=text" stops the base template for this entry */
	CHECK_EQ_STR(expand_with("=See other blocklists for details about $", &vars,
				 "127.0.0.4"),
		     "See other blocklists for details about 127.0.0.4");
	/* the entry text is put in for $= as it is: no $ processing */
	CHECK_EQ_STR(expand_with("$$= dollar", &vars, "127.0.0.7"),
		     "See http://www.example.com/bl?$$= dollar (127.0.0.7) for details");
	CHECK_EQ_STR(expand_with("x $1", &vars, "127.0.0.6"),
		     "See http://www.example.com/bl?x $1 (127.0.0.6) for details");
	value_vars_clear(&vars);
}

UNIT_TEST(expand_cap_254)
{
	char raw[300], want[300];
	const char *got;

	/* a 255-byte text is cut to 254 on expansion */
	memset(raw, 'x', 255);
	raw[255] = '\0';
	got = expand(raw, "e");
	CHECK_EQ_INT(strlen(got), 254);
	/* the entry is cut where the cap falls: 250 y + " $" -> 254 bytes */
	memset(raw, 'y', 250);
	strcpy(raw + 250, " $");
	memset(want, 'y', 250);
	strcpy(want + 250, " 127");
	CHECK_EQ_STR(expand(raw, "127.0.0.21"), want);
	/* long expansions of many entries stop at 254 too */
	/* 250 dollars are 125 literal ones; the raw text is cut at 255
	 * first, so 300 would end in a lone "$" (the entry) */
	memset(raw, '$', 250);
	raw[250] = '\0';
	CHECK_EQ_INT(strlen(expand(raw, "1.2.3.4")), 125);
	raw[255] = '\0';
	memset(raw, '$', 255);
	CHECK_EQ_INT(strlen(expand(raw, "1.2.3.4")), 127 + 7);
	CHECK_EQ_INT(strlen(expand("$ $ $ $ $ $ $ $ $ $ $ $ $ $ $ $ $ $ $ $ $ $ $ $",
				   "255.255.255.255")), 254);
}

UNIT_TEST(vtab_dedup_and_map)
{
	struct value_vars vars = { { NULL } };
	struct value_raw a, b, c;
	vtab_t *t = vtab_new();
	uint32_t ra, rb, rc, rd;

	value_default(&a);
	strcpy(a.txt, "$1 x");
	b = a;
	strcpy(b.txt, "one x");
	c = a;
	c.a[3] = 3;
	ra = vtab_add_raw(t, &a);
	rb = vtab_add_raw(t, &b);
	rd = vtab_add_raw(t, &b);       /* repeated: the same raw id */
	rc = vtab_add_raw(t, &c);
	CHECK_EQ_INT(rd, rb);
	CHECK(ra != rb && rb != rc);
	value_vars_set(&vars, 1, "one");
	vtab_finish(t, &vars);
	/* "$1 x" with $1 = "one" compiles to the same value as "one x" */
	CHECK_EQ_INT(vtab_map(t, ra), vtab_map(t, rb));
	CHECK(vtab_map(t, rc) != vtab_map(t, ra));
	CHECK_EQ_INT(vtab_count(t), 2);
	CHECK_EQ_INT(vtab_get(t, vtab_map(t, rc))->a[3], 3);
	value_vars_clear(&vars);
	vtab_free(t);
}

UNIT_MAIN()
