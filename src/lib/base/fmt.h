/*
 * fmt.h - snprintf() and fprintf() without printf's general machinery,
 * for the conversions the diagnose reports use: %s, %d, %u, %zu, %llu and
 * %.1f (a finite, non-negative value below 2^53), each with at most a
 * width or zeros in front.  The bytes and return values are libc's (the
 * unit test compares them); any other format is handed to libc.  In a
 * report of many messages, printf's machinery cost more than all the
 * rest of the writing.
 *
 * SECURITY: formats are the program's own (literals, or the message
 * catalogue of lang.c), never input.
 */
#ifndef RBLKIT_FMT_H
#define RBLKIT_FMT_H

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

int fmt_vsnprintf(char *buf, size_t len, const char *fmt, va_list ap);
int fmt_snprintf(char *buf, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void fmt_vfprintf(FILE *f, const char *fmt, va_list ap);
void fmt_fprintf(FILE *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
