/*
 * listen.h - one parser for the listen addresses of every daemon, and the
 * socket that binds one.
 *
 * Two spellings exist, chosen by the caller's flags:
 *   LISTEN_SLASH  rbldnsd's -b: ADDR/PORT, ADDR alone (the default port),
 *                 /PORT (every address), ::1/53 and [::1]/53;
 *   LISTEN_COLON  ADDR:PORT and [ADDR6]:PORT (policy's listen =);
 * and LISTEN_UNIX adds unix sockets: unix:PATH, or /PATH with COLON.
 * An address that does not parse is an error, never "any address".
 *
 * SECURITY: operator input (command line, configuration file); runs as
 * root before the privilege drop.  The parser copies into bounded buffers
 * and never resolves names unless LISTEN_NAMES is given.
 */
#ifndef RBLKIT_LISTEN_H
#define RBLKIT_LISTEN_H

#include <stddef.h>
#include <sys/socket.h>

#define LISTEN_SLASH 0x01  /* ADDR/PORT, ADDR, /PORT */
#define LISTEN_COLON 0x02  /* ADDR:PORT, [ADDR6]:PORT */
#define LISTEN_UNIX  0x04  /* unix:PATH; /PATH too with LISTEN_COLON */
#define LISTEN_NAMES 0x08  /* host and service names (getaddrinfo: may block) */

#define LISTEN_MAX 8       /* addresses one name may give */

struct listen_addr {
	struct sockaddr_storage sa;
	socklen_t len;
};

struct listen_list {
	unsigned n;
	struct listen_addr a[LISTEN_MAX];
};

/* Parse spec into out (1..LISTEN_MAX addresses; a wildcard or a name can
 * give several).  flags: LISTEN_SLASH or LISTEN_COLON, plus LISTEN_UNIX,
 * LISTEN_NAMES.  defport: the port of a spec without one ("53"), or NULL
 * when a port is required.  family: 0, AF_INET or AF_INET6 keeps only
 * that family of inet addresses.  Returns 0, or -EINVAL with a sentence
 * in err (the spec quoted, what was expected). */
int listen_parse(const char *spec, unsigned flags, const char *defport, int family,
		 struct listen_list *out, char *err, size_t errlen);

/* Write a as text: 127.0.0.1:53, [::1]:53, unix:PATH.  Cut to len
 * (len > 0); returns buf. */
char *listen_format(const struct listen_addr *a, char *buf, size_t len);

#define LISTEN_O_REUSEPORT 0x01  /* SO_REUSEPORT: one socket per thread */
#define LISTEN_O_NONBLOCK  0x02
#define LISTEN_O_BIGRCVBUF 0x04  /* 8 MB receive queue (datagrams) */
#define LISTEN_O_WORLD     0x08  /* unix socket mode 0666 (its directory guards it) */

/* A socket of type (SOCK_DGRAM, SOCK_STREAM) bound to a, listening with
 * backlog when a stream.  Always close-on-exec, SO_REUSEADDR, IPv6 only
 * on v6.  A unix path left by an earlier run is removed only when it is
 * a socket.  Returns the fd (the caller owns it), or -errno with the
 * reason in err. */
int listen_bind(const struct listen_addr *a, int type, unsigned opts, int backlog,
		char *err, size_t errlen);

/* Close fd (when >= 0), and remove a's path when a is a unix socket:
 * the end of what listen_bind began.  Best effort: after a chroot or the
 * privilege drop the path may no longer be reachable. */
void listen_close(const struct listen_addr *a, int fd);

#endif
