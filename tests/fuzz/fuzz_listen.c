/*
 * fuzz_listen.c - libFuzzer target for listen_parse(): the first byte
 * picks the spelling (slash or colon, unix or not, family, default port),
 * the rest is the spec.  A spec that parses must give 1..LISTEN_MAX
 * addresses of a known family with a non-zero port, and its formatted
 * text must parse again (colon spelling) to the same address; a spec
 * that fails must say why.  Names are never resolved here.
 *
 * SECURITY: test code; the input is untrusted by design.
 */
#include "base/listen.h"

#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_one(const struct listen_addr *a)
{
	struct listen_list again;
	char text[200], err[256] = "";
	int fam = a->sa.ss_family;

	if (fam == AF_INET) {
		if (a->len != sizeof(struct sockaddr_in) ||
		    !((const struct sockaddr_in *)&a->sa)->sin_port)
			abort();
	} else if (fam == AF_INET6) {
		if (a->len != sizeof(struct sockaddr_in6) ||
		    !((const struct sockaddr_in6 *)&a->sa)->sin6_port)
			abort();
	} else if (fam != AF_UNIX) {
		abort();
	}
	listen_format(a, text, sizeof(text));
	if (listen_parse(text, LISTEN_COLON | LISTEN_UNIX, NULL, 0, &again, err, sizeof(err)) ||
	    again.n != 1 || again.a[0].len != a->len || memcmp(&again.a[0].sa, &a->sa, a->len))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int fams[] = { 0, AF_INET, AF_INET6, 0 };
	struct listen_list l;
	char *spec, err[256] = "";
	unsigned flags;

	if (size < 1 || size > 4096)
		return 0;
	flags = (data[0] & 1) ? LISTEN_SLASH : LISTEN_COLON;
	if (data[0] & 2)
		flags |= LISTEN_UNIX;
	spec = malloc(size);
	if (!spec)
		abort();
	memcpy(spec, data + 1, size - 1);
	spec[size - 1] = '\0';
	if (listen_parse(spec, flags, (data[0] & 16) ? "53" : NULL, fams[(data[0] >> 2) & 3],
			 &l, err, sizeof(err))) {
		if (!err[0] || memchr(err, '\0', sizeof(err)) == NULL)
			abort();
	} else {
		if (l.n < 1 || l.n > LISTEN_MAX)
			abort();
		for (unsigned i = 0; i < l.n; i++)
			check_one(&l.a[i]);
	}
	free(spec);
	return 0;
}
