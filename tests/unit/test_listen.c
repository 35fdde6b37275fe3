/*
 * test_listen.c - the listen-address parser accepts every form serve
 * (-b, rbldnsd's ADDR/PORT) and policy (listen = ADDR:PORT) take today,
 * and refuses what they silently mis-read; listen_bind() binds it.
 */
#include "unit.h"
#include "base/listen.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define SERVE  (LISTEN_SLASH | LISTEN_NAMES)
#define POLICY (LISTEN_COLON | LISTEN_UNIX)

/* spec parsed with flags/defport/family: the addresses, formatted and
 * joined with spaces, or "ERR" */
static const char *parse(const char *spec, unsigned flags, const char *defport, int family)
{
	static char out[512];
	struct listen_list l;
	char err[256] = "", one[160];

	if (listen_parse(spec, flags, defport, family, &l, err, sizeof(err))) {
		if (!err[0])
			return "ERR-without-text";
		return "ERR";
	}
	out[0] = '\0';
	for (unsigned i = 0; i < l.n; i++) {
		if (i)
			strcat(out, " ");
		strcat(out, listen_format(&l.a[i], one, sizeof(one)));
	}
	return out;
}

UNIT_TEST(serve_forms)
{
	CHECK_EQ_STR(parse("127.0.0.1/5353", SERVE, "53", 0), "127.0.0.1:5353");
	CHECK_EQ_STR(parse("127.0.0.1", SERVE, "53", 0), "127.0.0.1:53");
	CHECK_EQ_STR(parse("::1/5353", SERVE, "53", 0), "[::1]:5353");
	CHECK_EQ_STR(parse("::1", SERVE, "53", 0), "[::1]:53");
	CHECK_EQ_STR(parse("[::1]/5353", SERVE, "53", 0), "[::1]:5353");
	CHECK_EQ_STR(parse("[::1]", SERVE, "53", 0), "[::1]:53");
	CHECK_EQ_STR(parse("/5353", SERVE, "53", 0), "0.0.0.0:5353 [::]:5353");
	CHECK_EQ_STR(parse("/5353", SERVE, "53", AF_INET), "0.0.0.0:5353");
	CHECK_EQ_STR(parse("/5353", SERVE, "53", AF_INET6), "[::]:5353");
	CHECK_EQ_STR(parse("0.0.0.0/53", SERVE, "53", 0), "0.0.0.0:53");
	/* getaddrinfo's forms, as serve passed the text to it */
	CHECK_EQ_STR(parse("127.1/5353", SERVE, "53", 0), "127.0.0.1:5353");
	CHECK_EQ_STR(parse("127.0.0.1/domain", SERVE, "53", 0), "127.0.0.1:53");
	CHECK(strstr(parse("localhost/5353", SERVE, "53", AF_INET), "127.0.0.1:5353"));
	/* -4 / -6 */
	CHECK_EQ_STR(parse("::1/53", SERVE, "53", AF_INET), "ERR");
	CHECK_EQ_STR(parse("127.0.0.1/53", SERVE, "53", AF_INET6), "ERR");
}

UNIT_TEST(serve_rejects)
{
	CHECK_EQ_STR(parse("", SERVE, "53", 0), "ERR");
	CHECK_EQ_STR(parse("127.0.0.1/", SERVE, "53", 0), "ERR");
	CHECK_EQ_STR(parse("127.0.0.1/65536", SERVE, "53", 0), "ERR");
	CHECK_EQ_STR(parse("127.0.0.1/0", SERVE, "53", 0), "ERR");
	CHECK_EQ_STR(parse("127.0.0.1/no-such-service", SERVE, "53", 0), "ERR");
	CHECK_EQ_STR(parse("[::1/53", SERVE, "53", 0), "ERR");
	CHECK_EQ_STR(parse("[::1]:53", SERVE, "53", 0), "ERR");
	CHECK_EQ_STR(parse("[]/53", SERVE, "53", 0), "ERR");
	CHECK_EQ_STR(parse("no-such-host.invalid/53", SERVE, "53", 0), "ERR");
	/* without LISTEN_NAMES only numbers */
	CHECK_EQ_STR(parse("localhost/53", LISTEN_SLASH, "53", 0), "ERR");
	CHECK_EQ_STR(parse("127.0.0.1/domain", LISTEN_SLASH, "53", 0), "ERR");
}

UNIT_TEST(policy_forms)
{
	CHECK_EQ_STR(parse("127.0.0.1:10040", POLICY, NULL, 0), "127.0.0.1:10040");
	CHECK_EQ_STR(parse("0.0.0.0:25", POLICY, NULL, 0), "0.0.0.0:25");
	CHECK_EQ_STR(parse("[::1]:10040", POLICY, NULL, 0), "[::1]:10040");
	CHECK_EQ_STR(parse("[::]:10040", POLICY, NULL, 0), "[::]:10040");
	CHECK_EQ_STR(parse("[::ffff:127.0.0.1]:1", POLICY, NULL, 0), "[::ffff:127.0.0.1]:1");
	CHECK_EQ_STR(parse("/var/spool/postfix/private/rblkit", POLICY, NULL, 0),
		     "/var/spool/postfix/private/rblkit");
	CHECK_EQ_STR(parse("unix:/run/rblkit.sock", POLICY, NULL, 0), "/run/rblkit.sock");
	CHECK_EQ_STR(parse("unix:private/rblkit", POLICY, NULL, 0), "unix:private/rblkit");
	CHECK_EQ_STR(parse("127.0.0.1", POLICY, "10040", 0), "127.0.0.1:10040");
	CHECK_EQ_STR(parse("[::1]", POLICY, "10040", 0), "[::1]:10040");
}

UNIT_TEST(policy_rejects)
{
	/* today's policy server ignored inet_pton's failure: 0.0.0.0 */
	CHECK_EQ_STR(parse("localhost:10040", POLICY, NULL, 0), "ERR");
	CHECK_EQ_STR(parse("127.0.0.256:10040", POLICY, NULL, 0), "ERR");
	CHECK_EQ_STR(parse("[::g]:10040", POLICY, NULL, 0), "ERR");
	CHECK_EQ_STR(parse("::1:10040", POLICY, NULL, 0), "ERR");      /* brackets */
	CHECK_EQ_STR(parse("127.0.0.1", POLICY, NULL, 0), "ERR");      /* port */
	CHECK_EQ_STR(parse("127.0.0.1:", POLICY, NULL, 0), "ERR");
	CHECK_EQ_STR(parse(":10040", POLICY, NULL, 0), "ERR");
	CHECK_EQ_STR(parse("127.0.0.1:0", POLICY, NULL, 0), "ERR");
	CHECK_EQ_STR(parse("127.0.0.1:65536", POLICY, NULL, 0), "ERR");
	CHECK_EQ_STR(parse("127.0.0.1:99999999999999999999", POLICY, NULL, 0), "ERR");
	CHECK_EQ_STR(parse("127.0.0.1:25x", POLICY, NULL, 0), "ERR");
	CHECK_EQ_STR(parse("127.0.0.1:-25", POLICY, NULL, 0), "ERR");
	CHECK_EQ_STR(parse("127.0.0.1:smtp", POLICY, NULL, 0), "ERR");
	CHECK_EQ_STR(parse("[::1]10040", POLICY, NULL, 0), "ERR");
	CHECK_EQ_STR(parse("[::1", POLICY, NULL, 0), "ERR");
	/* brackets hold IPv6 only (policy's own parser refused these) */
	CHECK_EQ_STR(parse("[127.0.0.1]:10040", POLICY, NULL, 0), "ERR");
	CHECK_EQ_STR(parse("[127.0.0.1]/53", SERVE, "53", 0), "ERR");
	CHECK_EQ_STR(parse("unix:", POLICY, NULL, 0), "ERR");
	CHECK_EQ_STR(parse("/run/rblkit.sock", LISTEN_COLON, NULL, 0), "ERR");
	char path[200];

	memset(path, 'a', sizeof(path));
	path[0] = '/';
	path[sizeof(((struct sockaddr_un *)0)->sun_path)] = '\0';     /* 108 bytes */
	CHECK_EQ_STR(parse(path, POLICY, NULL, 0), "ERR");
	path[sizeof(((struct sockaddr_un *)0)->sun_path) - 1] = '\0'; /* 107 */
	CHECK_EQ_STR(parse(path, POLICY, NULL, 0), path);
}

UNIT_TEST(error_text_quotes_the_spec)
{
	struct listen_list l;
	char err[256] = "";

	CHECK(listen_parse("localhost:10040", POLICY, NULL, 0, &l, err, sizeof(err)) == -EINVAL);
	CHECK_EQ_STR(err, "'localhost:10040': 'localhost' is not an IPv4 or IPv6 address");
	CHECK(listen_parse("::1:25", POLICY, NULL, 0, &l, err, sizeof(err)) == -EINVAL);
	CHECK_EQ_STR(err, "'::1:25': an IPv6 address is written [ADDR6]:PORT");
	CHECK(listen_parse("1.2.3.4:0", POLICY, NULL, 0, &l, err, sizeof(err)) == -EINVAL);
	CHECK_EQ_STR(err, "'1.2.3.4:0': expected a port 1..65535 after ':'");
}

UNIT_TEST(bind_inet_and_unix)
{
	struct listen_list l;
	char err[256] = "", path[64];
	struct stat st;
	int fd, fd2;

	CHECK(listen_parse("127.0.0.1:0", POLICY, NULL, 0, &l, err, sizeof(err)) != 0);
	/* port 0 is refused by the parser; bind an address of our own */
	CHECK(listen_parse("127.0.0.1:1", POLICY, NULL, 0, &l, err, sizeof(err)) == 0);
	((struct sockaddr_in *)&l.a[0].sa)->sin_port = 0;
	fd = listen_bind(&l.a[0], SOCK_STREAM, LISTEN_O_NONBLOCK, 16, err, sizeof(err));
	CHECK(fd >= 0);
	if (fd >= 0)
		close(fd);

	snprintf(path, sizeof(path), "/tmp/rblkit-test-listen.%d", (int)getpid());
	unlink(path);
	CHECK(listen_parse(path, POLICY, NULL, 0, &l, err, sizeof(err)) == 0);
	fd = listen_bind(&l.a[0], SOCK_STREAM, LISTEN_O_WORLD, 16, err, sizeof(err));
	CHECK(fd >= 0);
	CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0666);
	/* a socket an earlier run left is replaced */
	fd2 = listen_bind(&l.a[0], SOCK_STREAM, 0, 16, err, sizeof(err));
	CHECK(fd2 >= 0);
	if (fd >= 0)
		close(fd);
	listen_close(&l.a[0], fd2);
	CHECK(access(path, F_OK) != 0);
	/* a file that is not a socket is never removed */
	FILE *f = fopen(path, "w");
	if (f)
		fclose(f);
	fd = listen_bind(&l.a[0], SOCK_STREAM, 0, 16, err, sizeof(err));
	CHECK(fd == -EEXIST);
	CHECK(strstr(err, "exists and is not a socket") != NULL);
	CHECK(access(path, F_OK) == 0);
	listen_close(&l.a[0], -1);      /* nor by the close */
	CHECK(access(path, F_OK) == 0);
	unlink(path);
}

UNIT_MAIN()
