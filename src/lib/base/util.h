/*
 * util.h - logging, fatal errors, checked allocation, small helpers.
 *
 * SECURITY: no untrusted input; log messages may carry data from files and
 * packets, which callers pass as %s arguments, never as formats.
 */
#ifndef RBLKIT_UTIL_H
#define RBLKIT_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdarg.h>

enum log_level { LOG_LVL_ERR = 3, LOG_LVL_WARN = 4, LOG_LVL_INFO = 6, LOG_LVL_DEBUG = 7 };

/* Send log lines to syslog (ident) instead of stderr. */
void log_use_syslog(const char *ident);
/* Lines below this level are dropped (default: info). */
void log_set_level(enum log_level lvl);
/* Control bytes in the formatted message are written as '?'. */
void log_msg(enum log_level lvl, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
#define log_err(...)   log_msg(LOG_LVL_ERR, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_LVL_WARN, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_LVL_DEBUG, __VA_ARGS__)

/* Print the message and exit(1). Only main() and daemon start-up use it. */
void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
/* A bug that must not happen: report file and line, abort. */
#define panic(...) panic_at(__FILE__, __LINE__, __VA_ARGS__)
void panic_at(const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4), noreturn));

/* Allocation that panics on exhaustion: for start-up and load paths only.
 * The query path never allocates. */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
/* realloc of nmemb*size with overflow check; panics on overflow/ENOMEM. */
void *xreallocarray(void *p, size_t nmemb, size_t size);
char *xstrdup(const char *s);
/* At most n bytes of s, as strndup(3). */
char *xstrndup(const char *s, size_t n);

/* Length of the valid UTF-8 sequence at s (n > 0 bytes there), or 0
 * for a byte that does not start one: overlong forms, surrogates and
 * code points past U+10FFFF are not valid.  ASCII is 1. */
size_t utf8_len(const unsigned char *s, size_t n);

/* strcasestr(h, n) (ASCII case: rblkit runs in the C locale), faster on
 * a short h; see util.c. */
char *str_casestr(const char *h, const char *n);

/* tolower() and isspace() of the C locale rblkit runs in (ASCII only),
 * inline: the mail parsers ask them of every byte, where the libc call
 * costs more than the test. */
static inline unsigned char ascii_tolower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c - 'A' + 'a') : c;
}

static inline int ascii_isspace(unsigned char c)
{
	return c == ' ' || (c >= '\t' && c <= '\r');
}

/* dst = the n bytes at src with A..Z lower-cased (tolower() in the C
 * locale), terminated (dst has n + 1 bytes; dst == src is allowed). */
void ascii_lower_copy(char *dst, const char *src, size_t n);

/* Copy src into dst (size bytes, > 0), cut to fit, always terminated:
 * snprintf(dst, size, "%s", src) without the formatting machinery. */
void str_copy(char *dst, size_t size, const char *src);

/* Monotonic clock in milliseconds. */
uint64_t now_ms(void);

/* Parse an rbldnsd time value: digits with optional s/m/h/d/w suffix.
 * Returns pointer past it, or NULL when the text is not a time. */
const char *parse_time(const char *s, uint32_t *out);

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#endif
