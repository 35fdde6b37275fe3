/*
 * qlog.c - the query log; see qlog.h.
 *
 * SECURITY: see qlog.h. The log file is opened after privileges are
 * dropped, as rbldnsd does.
 */
#include "serve/qlog.h"
#include "base/dname.h"
#include "base/wire.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>

static FILE *log_file;
static const char *logpath;
static int unbuffered, is_stdout;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static const char *type_name(unsigned t, char *buf, size_t n)
{
	static const struct { unsigned t; const char *name; } types[] = {
		{ 1, "A" }, { 2, "NS" }, { 5, "CNAME" }, { 6, "SOA" }, { 12, "PTR" },
		{ 15, "MX" }, { 16, "TXT" }, { 28, "AAAA" }, { 33, "SRV" },
		{ 41, "OPT" }, { 251, "IXFR" }, { 252, "AXFR" }, { 255, "ANY" },
	};

	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (types[i].t == t)
			return types[i].name;
	snprintf(buf, n, "TYPE%u", t);
	return buf;
}

static const char *class_name(unsigned c, char *buf, size_t n)
{
	if (c == 1)
		return "IN";
	if (c == 3)
		return "CH";
	if (c == 255)
		return "ANY";
	snprintf(buf, n, "CLASS%u", c);
	return buf;
}

static const char *rcode_name(unsigned r)
{
	static const char *const names[] = { "NOERROR", "FORMERR", "SERVFAIL",
		"NXDOMAIN", "NOTIMP", "REFUSED" };

	return r < 6 ? names[r] : "RCODE";
}

size_t qlog_format(char *buf, size_t cap, time_t now, const struct sockaddr *peer,
		   const uint8_t *req, size_t reqlen, const uint8_t *resp,
		   size_t resplen)
{
	struct wire w;
	uint8_t name[256];
	char text[DNAME_TEXT_MAX], addr[INET6_ADDRSTRLEN] = "?", tb[16], cb[16];
	size_t nl;
	unsigned qtype, qclass;
	int n;

	wire_init(&w, req, reqlen);
	wire_skip(&w, 12);
	nl = wire_name(&w, name, 1);
	qtype = wire_u16(&w);
	qclass = wire_u16(&w);
	if (!wire_ok(&w) || resplen < 12 || dname_to_text(name, nl, text, sizeof(text)) < 0)
		return 0;
	if (peer && peer->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)peer)->sin_addr, addr, sizeof(addr));
	else if (peer && peer->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)peer)->sin6_addr, addr, sizeof(addr));
	n = snprintf(buf, cap, "%lu %s %s %s %s: %s/%u/%zu\n", (unsigned long)now, addr,
		     text, type_name(qtype, tb, sizeof(tb)),
		     class_name(qclass, cb, sizeof(cb)), rcode_name(resp[3] & 15u),
		     (unsigned)resp[6] << 8 | resp[7], resplen);
	if (n < 0 || (size_t)n >= cap)
		return 0;
	return (size_t)n;
}

int qlog_open(const char *spec)
{
	unbuffered = spec[0] == '+';
	logpath = spec + unbuffered;
	is_stdout = !strcmp(logpath, "-");
	log_file = is_stdout ? stdout : fopen(logpath, "a");
	return log_file ? 0 : -1;
}

int qlog_reopen(void)
{
	FILE *f;

	if (!log_file || is_stdout)
		return 0;
	f = fopen(logpath, "a");
	if (!f)
		return -1;
	pthread_mutex_lock(&lock);
	fclose(log_file);
	log_file = f;
	pthread_mutex_unlock(&lock);
	return 0;
}

void qlog_write(const char *line, size_t len)
{
	pthread_mutex_lock(&lock);
	if (log_file) {
		fwrite(line, 1, len, log_file);
		if (unbuffered)
			fflush(log_file);
	}
	pthread_mutex_unlock(&lock);
}

void qlog_flush(void)
{
	pthread_mutex_lock(&lock);
	if (log_file)
		fflush(log_file);
	pthread_mutex_unlock(&lock);
}

void qlog_finish(void)
{
	pthread_mutex_lock(&lock);
	if (log_file)
		fflush(log_file);
	unbuffered = 1;
	pthread_mutex_unlock(&lock);
}

void qlog_query(const struct sockaddr *peer, const uint8_t *req, size_t reqlen,
		const uint8_t *resp, size_t resplen)
{
	char line[1200];
	size_t n = qlog_format(line, sizeof(line), time(NULL), peer, req, reqlen,
			       resp, resplen);

	if (n)
		qlog_write(line, n);
}
