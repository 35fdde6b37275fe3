/*
 * test_policy_lookup.c - DNS names of client addresses, CIDR matching of
 * the allowlists, and the lookup module's answers without DNS (no sites,
 * addresses that are not addresses).
 */
#include "policy/config.h"
#include "policy/lookup.h"
#include "base/ipaddr.h"
#include "unit.h"

#include <arpa/inet.h>
#include <sys/socket.h>

UNIT_TEST(qname_ipv4_and_ipv6)
{
	uint8_t a[16] = { 0 };
	char out[320];

	inet_pton(AF_INET, "192.0.2.99", a);
	CHECK_EQ_INT(ip_revname(AF_INET, a, "zen.spamhaus.org", out, sizeof(out)), 0);
	CHECK_EQ_STR(out, "99.2.0.192.zen.spamhaus.org");
	inet_pton(AF_INET6, "2001:db8::567:89ab", a);
	CHECK_EQ_INT(ip_revname(AF_INET6, a, "bl.example", out, sizeof(out)), 0);
	CHECK_EQ_STR(out, "b.a.9.8.7.6.5.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.bl.example");
	/* too small a buffer is refused, not cut */
	CHECK_EQ_INT(ip_revname(AF_INET6, a, "bl.example", out, 70), -1);
	CHECK_EQ_INT(ip_revname(AF_INET, a, "bl.example", out, 12), -1);
}

static bool in(const struct pcfg *c, const char *addr)
{
	uint8_t a[16] = { 0 };

	if (inet_pton(AF_INET, addr, a) == 1)
		return pcfg_net_match(c->allow, c->nallow, AF_INET, a);
	inet_pton(AF_INET6, addr, a);
	return pcfg_net_match(c->allow, c->nallow, AF_INET6, a);
}

UNIT_TEST(cidr_match_at_every_boundary)
{
	char err[256];
	struct pcfg *c = pcfg_parse("client_allowlist = 198.51.96.0/20, 203.0.113.7, "
				    "2001:db8:8000::/33, ::1/128, 0.0.0.0/0\n"
				    "state_dir = /x\n", "t", err, sizeof(err));
	struct pcfg *d = pcfg_parse("client_allowlist = 198.51.96.0/20, 203.0.113.7, "
				    "2001:db8:8000::/33\nstate_dir = /x\n", "t", err,
				    sizeof(err));

	CHECK(c && d);
	if (!c || !d)
		return;
	CHECK(in(c, "10.0.0.1"));		/* 0/0 */
	CHECK(in(d, "198.51.96.0"));
	CHECK(in(d, "198.51.111.255"));
	CHECK(!in(d, "198.51.112.0"));
	CHECK(!in(d, "198.51.95.255"));
	CHECK(in(d, "203.0.113.7"));
	CHECK(!in(d, "203.0.113.8"));
	CHECK(in(d, "2001:db8:8000::1"));
	CHECK(in(d, "2001:db8:ffff:ffff::1"));
	CHECK(!in(d, "2001:db8:7fff::1"));
	CHECK(!in(d, "::1"));
	CHECK(in(c, "::1"));
	CHECK(!in(c, "::2"));
	pcfg_free(c);
	pcfg_free(d);
}

UNIT_TEST(lookup_without_sites_and_bad_addresses)
{
	char err[256];
	struct pcfg *c = pcfg_parse("state_dir = /x\n", "t", err, sizeof(err));
	struct plk *d;
	struct plk_waiter w = { 0 };
	struct plk_result res;

	if (!c)
		return;
	d = plk_new(c, err, sizeof(err));
	CHECK(d != NULL);
	if (d) {
		CHECK_EQ_INT(plk_lookup(d, "192.0.2.1", &w, &res), PLK_DONE);
		CHECK(!res.listed && res.score == 0);
		CHECK_EQ_INT(plk_lookup(d, "not-an-address", &w, &res), PLK_BADADDR);
		CHECK_EQ_INT(plk_lookup(d, "192.0.2.1\n", &w, &res), PLK_BADADDR);
		CHECK(w.job == NULL);
		plk_free(d);
	}
	pcfg_free(c);
}

UNIT_MAIN()
