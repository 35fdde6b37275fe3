/*
 * util.c - logging, fatal errors, checked allocation, small string
 * helpers.
 *
 * SECURITY: the string helpers read untrusted text, NUL-terminated or of
 * a given length, never past either.
 */
#define _GNU_SOURCE		/* strcasestr */
#include "base/util.h"

#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <time.h>
#include <pthread.h>

static int use_syslog;
static enum log_level min_level = LOG_LVL_INFO;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

void log_use_syslog(const char *ident)
{
	openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
	use_syslog = 1;
}

void log_set_level(enum log_level lvl)
{
	min_level = lvl;
}

static void log_v(enum log_level lvl, const char *fmt, va_list ap)
{
	static const char *const names[] = {
		[LOG_LVL_ERR] = "error", [LOG_LVL_WARN] = "warning",
		[LOG_LVL_INFO] = "info", [LOG_LVL_DEBUG] = "debug",
	};
	char buf[2048];

	if (lvl > min_level)
		return;
	vsnprintf(buf, sizeof(buf), fmt, ap);
	/* messages carry data from files, packets and requests: a CR, LF or
	 * ESC in them must not forge a log line or reach a terminal */
	for (char *p = buf; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	if (use_syslog) {
		syslog((int)lvl, "%s", buf);
		return;
	}
	pthread_mutex_lock(&log_lock);
	fprintf(stderr, "rblkit: %s: %s\n", names[lvl], buf);
	pthread_mutex_unlock(&log_lock);
}

void log_msg(enum log_level lvl, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_v(lvl, fmt, ap);
	va_end(ap);
}

void fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_v(LOG_LVL_ERR, fmt, ap);
	va_end(ap);
	exit(1);
}

void panic_at(const char *file, int line, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	log_err("panic at %s:%d: %s", file, line, buf);
	abort();
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p)
		panic("out of memory allocating %zu bytes", n);
	return p;
}

void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (!p)
		panic("out of memory allocating %zu*%zu bytes", n, size);
	return p;
}

void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		panic("out of memory allocating %zu bytes", n);
	return p;
}

void *xreallocarray(void *p, size_t nmemb, size_t size)
{
	if (size && nmemb > SIZE_MAX / size)
		panic("allocation overflow: %zu*%zu", nmemb, size);
	return xrealloc(p, nmemb * size);
}

char *xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

char *xstrndup(const char *s, size_t n)
{
	n = strnlen(s, n);	/* as strndup(3): never past the NUL */
	char *p = xmalloc(n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

/* glibc's strcasestr() prepares the needle (a two-way search) for some
 * hundreds of instructions before it reads the text: more than a header
 * value or an address takes to scan whole.  A short h is compared at
 * each place its first letter matches; a longer one (where a crafted
 * text could make that slow) goes to strcasestr(), linear at worst. */
char *str_casestr(const char *h, const char *n)
{
	size_t nl = strlen(n);
	int first;

	if (!nl)
		return (char *)h;
	if (strnlen(h, 1024) == 1024)
		return strcasestr(h, n);
	first = tolower((unsigned char)n[0]);
	for (; *h; h++)
		if (tolower((unsigned char)*h) == first && !strncasecmp(h + 1, n + 1, nl - 1))
			return (char *)h;
	return NULL;
}

/* Eight bytes at a time: a text is lower-cased whole before several
 * plain searches of it, and a byte at a time that copy cost more than
 * the searches. */
void ascii_lower_copy(char *dst, const char *src, size_t n)
{
	const uint64_t ones = 0x0101010101010101ull, hi = 0x8080808080808080ull;
	size_t i = 0;

	for (; i + 8 <= n; i += 8) {
		uint64_t w, low, from_a, past_z;

		memcpy(&w, src + i, 8);
		/* per byte, no carry into the next: the top bit of from_a is
		 * set where the low seven bits are 'A' or more, of past_z
		 * where they are past 'Z' */
		low = w & ~hi;
		from_a = low + (0x80 - 'A') * ones;
		past_z = low + (0x7f - 'Z') * ones;
		/* an ASCII byte (top bit clear) in A..Z gains 0x20 */
		w |= (from_a & ~past_z & ~w & hi) >> 2;
		memcpy(dst + i, &w, 8);
	}
	for (; i < n; i++)
		dst[i] = (char)tolower((unsigned char)src[i]);
	dst[n] = '\0';
}

size_t utf8_len(const unsigned char *s, size_t n)
{
	size_t len;
	uint32_t cp;
	if (s[0] < 0x80)
		return 1;
	if ((s[0] & 0xe0) == 0xc0) {
		len = 2;
		cp = s[0] & 0x1f;
	} else if ((s[0] & 0xf0) == 0xe0) {
		len = 3;
		cp = s[0] & 0x0f;
	} else if ((s[0] & 0xf8) == 0xf0) {
		len = 4;
		cp = s[0] & 0x07;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) ||
	    (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

void str_copy(char *dst, size_t size, const char *src)
{
	size_t n = strnlen(src, size - 1);

	memcpy(dst, src, n);
	dst[n] = '\0';
}

uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

const char *parse_time(const char *s, uint32_t *out)
{
	uint64_t v = 0;
	const char *p = s;

	if (*p < '0' || *p > '9')
		return NULL;
	while (*p >= '0' && *p <= '9') {
		v = v * 10 + (uint64_t)(*p++ - '0');
		if (v > UINT32_MAX)
			return NULL;
	}
	switch (*p) {
	case 's': case 'S': p++; break;
	case 'm': case 'M': v *= 60; p++; break;
	case 'h': case 'H': v *= 3600; p++; break;
	case 'd': case 'D': v *= 86400; p++; break;
	case 'w': case 'W': v *= 604800; p++; break;
	default: break;
	}
	if (v > UINT32_MAX)
		return NULL;
	*out = (uint32_t)v;
	return p;
}
