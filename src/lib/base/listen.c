/*
 * listen.c - listen addresses: parse the operator's text, bind a socket.
 *
 * SECURITY: operator input (command line, configuration file), parsed as
 * root before the privilege drop: every copy is bounded, a number is all
 * digits and in range, a host that is not an address is an error (names
 * only with LISTEN_NAMES).
 */
#define _GNU_SOURCE
#include "base/listen.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define HOST_MAX 256

/* The spec as quoted in an error: bounded, as it may be long. */
#define Q(s) (int)(strlen(s) > 80 ? 80 : strlen(s)), (s)

static int parse_unix(const char *spec, const char *path, struct listen_list *out,
		      char *err, size_t el)
{
	struct sockaddr_un *sun = (struct sockaddr_un *)&out->a[0].sa;
	size_t n = strlen(path);

	if (n == 0) {
		snprintf(err, el, "'%.*s': expected a unix socket path", Q(spec));
		return -EINVAL;
	}
	if (n >= sizeof(sun->sun_path)) {
		snprintf(err, el, "'%.*s': unix socket path longer than %zu bytes", Q(spec),
			 sizeof(sun->sun_path) - 1);
		return -EINVAL;
	}
	sun->sun_family = AF_UNIX;
	memcpy(sun->sun_path, path, n + 1);
	out->a[0].len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + 1);
	out->n = 1;
	return 0;
}

/* 1..65535, digits only. */
static int numeric_port(const char *s, unsigned *port)
{
	unsigned long v = 0;

	if (!*s)
		return -1;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		v = v * 10 + (unsigned long)(*p - '0');
		if (v > 65535)
			return -1;
	}
	if (v == 0)
		return -1;
	*port = (unsigned)v;
	return 0;
}

static void add_inet(struct listen_list *out, int family, const void *addr, unsigned port)
{
	struct listen_addr *a = &out->a[out->n++];

	memset(a, 0, sizeof(*a));
	if (family == AF_INET) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&a->sa;

		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		memcpy(&s4->sin_addr, addr, 4);
		a->len = sizeof(*s4);
	} else {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&a->sa;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		memcpy(&s6->sin6_addr, addr, 16);
		a->len = sizeof(*s6);
	}
}

/* Host and service through getaddrinfo (LISTEN_NAMES), as rbldnsd does:
 * every address it gives, up to LISTEN_MAX. */
static int resolve(const char *spec, const char *host, const char *port, int family,
		   struct listen_list *out, char *err, size_t el)
{
	struct addrinfo hints = { .ai_flags = AI_PASSIVE, .ai_socktype = SOCK_DGRAM };
	struct addrinfo *res, *ai;
	int rc;

	hints.ai_family = family ? family : AF_UNSPEC;
	rc = getaddrinfo(*host ? host : NULL, port, &hints, &res);
	if (rc) {
		snprintf(err, el, "'%.*s': %s", Q(spec),
			 rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc));
		return -EINVAL;
	}
	for (ai = res; ai && out->n < LISTEN_MAX; ai = ai->ai_next) {
		if ((ai->ai_family != AF_INET && ai->ai_family != AF_INET6) ||
		    ai->ai_addrlen > sizeof(out->a[0].sa))
			continue;
		memset(&out->a[out->n], 0, sizeof(out->a[0]));
		memcpy(&out->a[out->n].sa, ai->ai_addr, ai->ai_addrlen);
		out->a[out->n++].len = ai->ai_addrlen;
	}
	freeaddrinfo(res);
	if (!out->n) {
		snprintf(err, el, "'%.*s': no address", Q(spec));
		return -EINVAL;
	}
	return 0;
}

/* A numeric host (or "" for every address) and port. */
static int numeric(const char *spec, const char *host, const char *port, unsigned flags,
		   int family, struct listen_list *out, char *err, size_t el)
{
	static const uint8_t any[16];
	uint8_t buf[16];
	unsigned p;

	if (numeric_port(port, &p)) {
		if ((flags & LISTEN_NAMES) && (*port < '0' || *port > '9'))
			return resolve(spec, host, port, family, out, err, el);
		snprintf(err, el, "'%.*s': expected a port 1..65535 after '%c'", Q(spec),
			 (flags & LISTEN_SLASH) ? '/' : ':');
		return -EINVAL;
	}
	if (!*host) {           /* /PORT: every address, in getaddrinfo's order */
		if (family != AF_INET6)
			add_inet(out, AF_INET, any, p);
		if (family != AF_INET)
			add_inet(out, AF_INET6, any, p);
		return 0;
	}
	if (family != AF_INET6 && inet_pton(AF_INET, host, buf) == 1) {
		add_inet(out, AF_INET, buf, p);
		return 0;
	}
	if (family != AF_INET && inet_pton(AF_INET6, host, buf) == 1) {
		add_inet(out, AF_INET6, buf, p);
		return 0;
	}
	if (flags & LISTEN_NAMES)
		return resolve(spec, host, port, family, out, err, el);
	snprintf(err, el, "'%.*s': '%.*s' is not an %s address", Q(spec), Q(host),
		 family == AF_INET ? "IPv4" : family == AF_INET6 ? "IPv6" : "IPv4 or IPv6");
	return -EINVAL;
}

/* Split spec into host and port (port may point into spec or defport). */
static int split(const char *spec, unsigned flags, const char *defport, char *host,
		 const char **port, char *err, size_t el)
{
	char sep = (flags & LISTEN_SLASH) ? '/' : ':';
	const char *hs = spec, *he, *rb;

	if (spec[0] == '[') {           /* [v6], [v6]:port, [v6]/port */
		rb = strchr(spec, ']');
		if (!rb || (rb[1] && rb[1] != sep) || rb == spec + 1)
			goto bad;
		hs = spec + 1;
		he = rb;
		*port = rb[1] ? rb + 2 : defport;
	} else {
		const char *s = strrchr(spec, sep);

		if (sep == ':' && s && memchr(spec, ':', (size_t)(s - spec))) {
			snprintf(err, el, "'%.*s': an IPv6 address is written [ADDR6]:PORT",
				 Q(spec));
			return -EINVAL;
		}
		he = s ? s : spec + strlen(spec);
		*port = s ? s + 1 : defport;
		if (sep == ':' && he == spec)
			goto bad;       /* ":25": the address is required */
	}
	if (!**port)
		goto bad;
	if ((size_t)(he - hs) >= HOST_MAX) {
		snprintf(err, el, "'%.*s': address too long", Q(spec));
		return -EINVAL;
	}
	memcpy(host, hs, (size_t)(he - hs));
	host[he - hs] = '\0';
	if (hs != spec && !strchr(host, ':')) {
		/* brackets hold an IPv6 address only: "[127.0.0.1]:25" is a typo */
		snprintf(err, el, "'%.*s': brackets hold an IPv6 address", Q(spec));
		return -EINVAL;
	}
	return 0;
bad:
	if (sep == '/')
		snprintf(err, el, "'%.*s': expected ADDR/PORT, ADDR, or /PORT", Q(spec));
	else
		snprintf(err, el, "'%.*s': expected ADDR:PORT or [ADDR6]:PORT%s", Q(spec),
			 (flags & LISTEN_UNIX) ? " or /PATH" : "");
	return -EINVAL;
}

int listen_parse(const char *spec, unsigned flags, const char *defport, int family,
		 struct listen_list *out, char *err, size_t el)
{
	char host[HOST_MAX];
	const char *port;
	int rc;

	memset(out, 0, sizeof(*out));
	if (!*spec) {
		snprintf(err, el, "empty listen address");
		return -EINVAL;
	}
	if (flags & LISTEN_UNIX) {
		if (!strncmp(spec, "unix:", 5))
			return parse_unix(spec, spec + 5, out, err, el);
		if (spec[0] == '/' && !(flags & LISTEN_SLASH))
			return parse_unix(spec, spec, out, err, el);
	}
	if ((rc = split(spec, flags, defport ? defport : "", host, &port, err, el)))
		return rc;
	return numeric(spec, host, port, flags, family, out, err, el);
}

char *listen_format(const struct listen_addr *a, char *buf, size_t len)
{
	char h[INET6_ADDRSTRLEN] = "?";

	if (a->sa.ss_family == AF_UNIX) {
		const struct sockaddr_un *sun = (const struct sockaddr_un *)&a->sa;

		snprintf(buf, len, "%s%.*s", sun->sun_path[0] == '/' ? "" : "unix:",
			 (int)sizeof(sun->sun_path), sun->sun_path);
	} else if (a->sa.ss_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)&a->sa;

		inet_ntop(AF_INET, &s4->sin_addr, h, sizeof(h));
		snprintf(buf, len, "%s:%u", h, ntohs(s4->sin_port));
	} else if (a->sa.ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)&a->sa;

		inet_ntop(AF_INET6, &s6->sin6_addr, h, sizeof(h));
		snprintf(buf, len, "[%s]:%u", h, ntohs(s6->sin6_port));
	} else {
		snprintf(buf, len, "?");
	}
	return buf;
}

/* Remove a unix socket an earlier run left: only a socket, never a file
 * that a mistyped path names. */
static int clear_unix_path(const char *path)
{
	struct stat st;

	if (lstat(path, &st) != 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode))
		return -EEXIST;
	return unlink(path) == 0 ? 0 : -errno;
}

static void set_options(int fd, const struct listen_addr *a, unsigned opts)
{
	int one = 1, size = 8 << 20;

	if (a->sa.ss_family == AF_UNIX)
		return;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (opts & LISTEN_O_REUSEPORT)
		setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
	if ((opts & LISTEN_O_BIGRCVBUF) &&
	    setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)))
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	if (a->sa.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
}

int listen_bind(const struct listen_addr *a, int type, unsigned opts, int backlog,
		char *err, size_t el)
{
	const char *path = ((const struct sockaddr_un *)&a->sa)->sun_path;
	int fd = -1, rc, flags = SOCK_CLOEXEC | ((opts & LISTEN_O_NONBLOCK) ? SOCK_NONBLOCK : 0);
	char text[160];

	listen_format(a, text, sizeof(text));
	if (a->sa.ss_family == AF_UNIX && (rc = clear_unix_path(path))) {
		snprintf(err, el, "%s: %s", text,
			 rc == -EEXIST ? "exists and is not a socket" : strerror(-rc));
		return rc;
	}
	fd = socket(a->sa.ss_family, type | flags, 0);
	if (fd < 0) {
		rc = -errno;
		goto fail;
	}
	set_options(fd, a, opts);
	if (bind(fd, (const struct sockaddr *)&a->sa, a->len) != 0 ||
	    (type == SOCK_STREAM && listen(fd, backlog) != 0)) {
		rc = -errno;
		goto fail;
	}
	if (a->sa.ss_family == AF_UNIX && (opts & LISTEN_O_WORLD) && chmod(path, 0666) != 0) {
		rc = -errno;
		goto fail;
	}
	return fd;
fail:
	snprintf(err, el, "%s: %s", text, strerror(-rc));
	if (fd >= 0)
		close(fd);
	return rc;
}

void listen_close(const struct listen_addr *a, int fd)
{
	if (fd >= 0)
		close(fd);
	if (a->sa.ss_family == AF_UNIX)
		clear_unix_path(((const struct sockaddr_un *)&a->sa)->sun_path);
}
