/*
 * qlog.h - the query log of rbldnsd's -l option: one line per answered
 * query, "time client qname type class: rcode/answers/length".
 *
 * SECURITY: formats fields of untrusted queries; the name is printed in
 * escaped text form and every write is bounded by the buffer size.
 */
#ifndef RBLKIT_QLOG_H
#define RBLKIT_QLOG_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <sys/socket.h>

/* Format one log line (with the newline) into buf; returns its length,
 * 0 when the request has no parseable question. */
size_t qlog_format(char *buf, size_t cap, time_t now, const struct sockaddr *peer,
		   const uint8_t *req, size_t reqlen, const uint8_t *resp,
		   size_t resplen);

/* Open the log ("-" is stdout; a leading "+" flushes every line).
 * Returns 0 or -1 with errno. qlog_reopen() after rotation (SIGHUP). */
int qlog_open(const char *spec);
int qlog_reopen(void);
/* Append a formatted line; thread-safe. */
void qlog_write(const char *line, size_t len);
/* Flush buffered lines (the main loop calls it every second). */
void qlog_flush(void);
/* At exit: flush, and write every later line through at once, so that no
 * line is lost when the process ends. */
void qlog_finish(void);

/* Format and append the line of one answered query (when a log is open). */
void qlog_query(const struct sockaddr *peer, const uint8_t *req, size_t reqlen,
		const uint8_t *resp, size_t resplen);

#endif
