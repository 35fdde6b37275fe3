/*
 * test_psl.c - the registered domain of a name (dnsbl/psl.h) and the
 * catalogue's "reduce" key: what a domain list such as SURBL, URIBL or
 * the Spamhaus DBL is asked about a host name.
 */
#include "dnsbl/catalog.h"
#include "dnsbl/psl.h"
#include "unit.h"

#include <string.h>

/* The name regdom_registered() says to ask, in buf. */
static const char *asked(const char *name, enum regdom_result *res)
{
	size_t off = 99;
	*res = regdom_registered(name, &off);
	return name + off;
}

static void check_reductions(void)
{
	enum regdom_result r;

	CHECK_EQ_STR(asked("mail.foo.example.co.uk", &r), "example.co.uk");
	CHECK_EQ_INT(r, REGDOM_REDUCED);
	CHECK_EQ_STR(asked("a.b.example.com", &r), "example.com");
	CHECK_EQ_INT(r, REGDOM_REDUCED);
	/* already registered: offset 0 */
	CHECK_EQ_STR(asked("example.com", &r), "example.com");
	CHECK_EQ_INT(r, REGDOM_REDUCED);
	/* case and a trailing dot are kept (the offset is the same) */
	CHECK_EQ_STR(asked("WWW.Example.CO.UK.", &r), "Example.CO.UK.");
	CHECK_EQ_INT(r, REGDOM_REDUCED);
	/* a private suffix: each blog is its own registered domain */
	CHECK_EQ_STR(asked("www.foo.blogspot.com", &r), "foo.blogspot.com");
	CHECK_EQ_INT(r, REGDOM_REDUCED);
	/* IDN: the punycode (A-label) form people pass, and UTF-8 */
	CHECK_EQ_STR(asked("www.xn--e1afmkfd.xn--p1ai", &r), "xn--e1afmkfd.xn--p1ai");
	CHECK_EQ_INT(r, REGDOM_REDUCED);
	CHECK_EQ_STR(asked("www.\xd0\xbf\xd1\x80\xd0\xb8\xd0\xbc\xd0\xb5\xd1\x80.\xd1\x80\xd1\x84",
			   &r), "\xd0\xbf\xd1\x80\xd0\xb8\xd0\xbc\xd0\xb5\xd1\x80.\xd1\x80\xd1\x84");
	CHECK_EQ_INT(r, REGDOM_REDUCED);
	/* public suffixes themselves: as given */
	CHECK_EQ_STR(asked("com", &r), "com");
	CHECK_EQ_INT(r, REGDOM_SUFFIX);
	CHECK_EQ_STR(asked("co.uk", &r), "co.uk");
	CHECK_EQ_INT(r, REGDOM_SUFFIX);
	CHECK_EQ_STR(asked("blogspot.com", &r), "blogspot.com");
	CHECK_EQ_INT(r, REGDOM_SUFFIX);
	CHECK_EQ_STR(asked("xn--p1ai", &r), "xn--p1ai");
	CHECK_EQ_INT(r, REGDOM_SUFFIX);
	/* IP-looking names: libpsl alone would make "3.4" of 1.2.3.4 */
	CHECK_EQ_STR(asked("1.2.3.4", &r), "1.2.3.4");
	CHECK_EQ_INT(r, REGDOM_NOT_NAME);
	CHECK_EQ_STR(asked("host.10.0.0.1", &r), "host.10.0.0.1");
	CHECK_EQ_INT(r, REGDOM_NOT_NAME);
	CHECK_EQ_STR(asked("2001:db8::1", &r), "2001:db8::1");
	CHECK_EQ_INT(r, REGDOM_NOT_NAME);
	CHECK_EQ_INT(regdom_registered("", &(size_t){ 0 }), REGDOM_NOT_NAME);
	CHECK_EQ_INT(regdom_registered(".", &(size_t){ 0 }), REGDOM_NOT_NAME);
}

UNIT_TEST(registered_domain_system_data)
{
	CHECK_EQ_INT(regdom_load(), REGDOM_SYSTEM);
	CHECK_EQ_STR(regdom_source_text(regdom_load()), "system");
	check_reductions();
}

UNIT_TEST(registered_domain_builtin_data)
{
	CHECK_EQ_INT(regdom_reload("/usr/share/publicsuffix/public_suffix_list.dafsa", false),
		     REGDOM_SYSTEM);
	check_reductions();
	CHECK_EQ_INT(regdom_reload("/nonexistent/psl.dafsa", true), REGDOM_BUILTIN);
	check_reductions();
	CHECK_EQ_INT(regdom_reload(NULL, true), REGDOM_SYSTEM);
}

/* Neither the system's data nor a built-in copy: as given, every time */
UNIT_TEST(registered_domain_no_data)
{
	enum regdom_result r;
	CHECK_EQ_INT(regdom_reload(NULL, false), REGDOM_NONE);
	CHECK_EQ_STR(regdom_source_text(REGDOM_NONE), "none");
	CHECK_EQ_STR(asked("mail.foo.example.co.uk", &r), "mail.foo.example.co.uk");
	CHECK_EQ_INT(r, REGDOM_NO_DATA);
	CHECK_EQ_STR(asked("a.example.com", &r), "a.example.com");
	CHECK_EQ_INT(r, REGDOM_NO_DATA);
	CHECK_EQ_INT(regdom_reload(NULL, true), REGDOM_SYSTEM);
}

UNIT_TEST(catalog_reduce_key)
{
	static const char text[] =
		"[a]\nname = A\nzone = a.t\nkind = domain\nreduce = registered\n"
		"[b]\nname = B\nzone = b.t\nkind = domain\nreduce = none\n"
		"[c]\nname = C\nzone = c.t\nkind = domain\n";
	char err[512] = "";
	struct catalog *cat = catalog_new();
	CHECK_EQ_INT(catalog_parse(cat, text, strlen(text), "t.conf", err, sizeof(err)), 0);
	const struct list *a = catalog_by_id(cat, "a"), *b = catalog_by_id(cat, "b"),
			  *c = catalog_by_id(cat, "c");
	CHECK(a && b && c);
	if (a && b && c) {
		CHECK_EQ_INT(a->reduce, LR_REGISTERED);
		CHECK_EQ_INT(b->reduce, LR_NONE);
		CHECK_EQ_INT(c->reduce, LR_NONE);
	}
	catalog_free(cat);

	static const char *bad[] = {
		"[a]\nname = A\nzone = a.t\nkind = domain\nreduce = yes\n",
		"[a]\nname = A\nzone = a.t\nkind = ip4\nreduce = registered\n",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cat = catalog_new();
		CHECK_EQ_INT(catalog_parse(cat, bad[i], strlen(bad[i]), "t.conf", err,
					   sizeof(err)), -1);
		CHECK(strstr(err, "reduce") != NULL);
		CHECK(catalog_by_id(cat, "a") == NULL);
		catalog_free(cat);
	}

	/* the bundled catalogue: the lists that want registered domains */
	cat = catalog_new();
	CHECK_EQ_INT(catalog_load_builtin(cat, err, sizeof(err)), 0);
	static const char *want[] = { "surbl", "uribl", "spamhaus-dbl", "spamhaus-dqs-dbl",
				      "sem-uribl" };
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		const struct list *l = catalog_by_id(cat, want[i]);
		CHECK(l && l->reduce == LR_REGISTERED);
	}
	const struct list *dwl = catalog_by_id(cat, "dnswl-dwl");
	CHECK(dwl && dwl->reduce == LR_NONE);
	catalog_free(cat);
}

UNIT_MAIN()
