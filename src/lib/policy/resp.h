/*
 * resp.h - the Redis protocol (RESP2): commands written as arrays of bulk
 * strings, replies read into a small tree without allocation.
 *
 * A reply is parsed into a caller's struct resp_reply: a fixed pool of
 * RESP_MAX_NODES nodes (an array's elements are its children, linked by
 * next), strings point into the input buffer. Limits are enforced before
 * anything is used: nesting depth RESP_MAX_DEPTH, RESP_MAX_NODES nodes,
 * bulk strings of at most RESP_MAX_BULK bytes, lines of RESP_MAX_LINE.
 *
 * SECURITY: replies come from the network (a Redis server, or anything
 * that listens where it should be): every length is checked against the
 * bytes present and the limits; a reply beyond the limits is an error,
 * never a crash (tests/fuzz/fuzz_resp.c).
 */
#ifndef RBLKIT_POLICY_RESP_H
#define RBLKIT_POLICY_RESP_H

#include <stddef.h>
#include <stdint.h>

#define RESP_MAX_DEPTH 4
#define RESP_MAX_NODES 64
#define RESP_MAX_BULK (1u << 20)
#define RESP_MAX_LINE 4096
#define RESP_MAX_ARGS 64

enum resp_type {
	RESP_STATUS = '+', RESP_ERROR = '-', RESP_INT = ':',
	RESP_BULK = '$', RESP_ARRAY = '*', RESP_NIL = '_',
};

struct resp_node {
	enum resp_type type;
	long long i;		/* RESP_INT; RESP_ARRAY: element count */
	const char *s;		/* STATUS, ERROR, BULK: into the input */
	size_t len;
	int child, next;	/* node indexes, -1: none */
};

struct resp_reply {
	struct resp_node n[RESP_MAX_NODES];
	int nn;
};

/* Return values of resp_parse (negative: the stream is unusable). */
#define RESP_OK 1
#define RESP_MORE 0
#define RESP_EBAD (-1)		/* not RESP */
#define RESP_ELIMIT (-2)	/* past a limit */

/* Parse one reply from buf[0..len). RESP_OK with *used bytes consumed
 * and the tree in r (root r->n[0]; strings point into buf), RESP_MORE
 * when the reply is not complete yet, or RESP_EBAD / RESP_ELIMIT. */
int resp_parse(const char *buf, size_t len, struct resp_reply *r, size_t *used);

/* The i-th element of array node a (NULL if a is not an array or too
 * short). */
const struct resp_node *resp_elem(const struct resp_reply *r,
				  const struct resp_node *a, int i);

/* A command (argc bulk strings; lens[i], or strlen when lens is NULL) in
 * RESP, written to buf (at most cap bytes). Returns the length, or the
 * length it would need when it does not fit (nothing usable written). */
size_t resp_command(char *buf, size_t cap, int argc, const char *const *argv,
		    const size_t *lens);

#endif
