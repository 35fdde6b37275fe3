/*
 * resolve.h - asynchronous DNS lookups for check, policy and diagnose.
 *
 * Three modes:
 *   RS_SYSTEM     the nameservers of /etc/resolv.conf (built-in stub);
 *   RS_FORWARD    given servers "ADDR[:PORT][,ADDR[:PORT]...]" (stub);
 *   RS_RECURSIVE  libunbound resolving from the root itself (what
 *                 blocklists that refuse public resolvers call for).
 * The stub sends batches over several UDP sockets (random IDs and source
 * ports, answers checked against the question), switches to TCP when an
 * answer is truncated, and keeps per server a congestion window as TCP
 * does (slow start, additive increase, halving on loss, RTO from the
 * measured round trip): a server is asked no faster than it answers, up
 * to `window` queries in flight.  The rest wait in a queue.
 *
 * Event-loop use: poll rs_fd() for POLLIN with a timeout of
 * rs_next_timeout_ms(), then call rs_process(); callbacks run inside
 * rs_process() (and rs_run()).  A callback may submit more queries.
 *
 * SECURITY: answers are untrusted network input, parsed with the bounds-
 * checked reader of wire.h; only answers to the question asked, from the
 * server asked, are accepted.
 */
#ifndef RBLKIT_RESOLVE_H
#define RBLKIT_RESOLVE_H

#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>

enum rs_mode { RS_SYSTEM, RS_FORWARD, RS_RECURSIVE };

struct rs_opts {
	enum rs_mode mode;
	const char *servers;	/* RS_FORWARD: "127.0.0.1:5353,[::1]:53" */
	unsigned timeout_ms;	/* per try (default 2000); caps the RTO */
	unsigned tries;		/* a query's time: tries * timeout_ms
				   (default 2); lost sends go again within it */
	unsigned window;	/* most queries in flight, per server and in
				   all (default 256); the windows start small */
	const char *root_hints;	/* RS_RECURSIVE: a root hints file instead
				   of the built-in root servers (NULL);
				   kept by the caller while rs lives */
};

enum rs_status {
	RS_OK,			/* a response came; see rcode */
	RS_TIMEOUT,		/* no response in tries * timeout, or cancelled */
	RS_ERROR		/* network or resolver error; see error */
};

#define RS_MAX_RR 32

struct rs_answer {
	enum rs_status status;
	int rcode;		/* DNS rcode when RS_OK */
	uint16_t qtype;
	uint32_t ttl;		/* smallest TTL of the answer RRs; for a
				   negative answer the SOA's negative TTL */
	unsigned ms;		/* time from first send to the response (from
				   submission for a query never sent) */
	const char *error;	/* text when status != RS_OK */
	/* answer records of qtype (CNAMEs followed), at most RS_MAX_RR */
	size_t n;
	union {
		uint32_t a[RS_MAX_RR];		/* A, host order */
		uint8_t aaaa[RS_MAX_RR][16];	/* AAAA */
	} u;
	const char *txt[RS_MAX_RR];	/* TXT: strings of one RR joined */
	const char *name[RS_MAX_RR];	/* MX/NS/PTR/CNAME target names */
	uint16_t pref[RS_MAX_RR];	/* MX preference */
	/* storage of the texts above */
	size_t text_used;
	char text[64 * 1024];
};

/* ans and everything it points to is valid only during the call. */
typedef void rs_callback(void *arg, const struct rs_answer *ans);

struct resolver;

/* Read pkt as the response to (qname, qtype): qname in wire form,
 * lowercase; id < 0 accepts any ID.  Fills ans (status RS_OK, rcode, the
 * records, ttl; not ms).  Returns 1 for an answer, 2 when it is truncated
 * (TC; ans not filled), 0 when pkt does not answer that question. */
int rs_parse(const uint8_t *pkt, size_t len, const uint8_t *qname, size_t qlen,
	     uint16_t qtype, int id, struct rs_answer *ans);

/* A resolver in the mode of opts (0 fields take their defaults; opts is
 * copied).  NULL with err set when
 * a server address is bad or a socket, epoll or libunbound cannot be
 * set up.  The caller frees it with rs_free(). */
struct resolver *rs_new(const struct rs_opts *opts, char *err, size_t errlen);
/* End every pending query (its callback runs with RS_TIMEOUT), then free
 * rs.  NULL is allowed. */
void rs_free(struct resolver *rs);
/* Queue a query for name (text, trailing dot optional). Returns 0, or -1
 * for a name that is not a valid domain name (the callback is not run). */
int rs_submit(struct resolver *rs, const char *name, uint16_t qtype,
	      rs_callback *cb, void *arg);
/* Servers of a zone's own (a local mirror, a test server):
 * "ADDR[:PORT][,...]".  Stub modes: returns a group (>= 1) to submit
 * the zone's queries to.  Recursive mode: they become a libunbound stub
 * zone and 0 is returned.  -1 with err set when an address is bad.
 * Call before the first query. */
int rs_add_group(struct resolver *rs, const char *zone, const char *servers,
		 char *err, size_t errlen);
/* rs_submit() to a group; group 0 is the resolver's own servers. */
int rs_submit_group(struct resolver *rs, int group, const char *name,
		    uint16_t qtype, rs_callback *cb, void *arg);
/* The one descriptor to poll for POLLIN (an epoll set); rs owns it. */
int rs_fd(const struct resolver *rs);
/* Milliseconds until rs_process() has timeouts to handle; -1: none. */
int rs_next_timeout_ms(const struct resolver *rs);
/* Read what has arrived, handle timeouts and retries, send what the
 * window allows; never blocks.  Callbacks run from here. */
void rs_process(struct resolver *rs);
/* Queries submitted and not yet answered (queued or in flight). */
size_t rs_pending(const struct resolver *rs);
/* Whether rs resolves from the root (libunbound), not through servers. */
bool rs_recursive(const struct resolver *rs);
/* Run until nothing is pending or deadline (now_ms() value, 0 = none);
 * at the deadline every pending query ends with RS_TIMEOUT. */
void rs_run(struct resolver *rs, uint64_t deadline_ms);
/* End every pending query now with RS_TIMEOUT ("cancelled"). */
void rs_cancel_all(struct resolver *rs);

#endif
