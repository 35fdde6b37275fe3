/*
 * smtp.h - what an SMTP reply quoted in a bounce says: reply code,
 * enhanced status code, failed command, remote host.
 *
 * SECURITY: untrusted text, NUL-terminated; see smtp.c.
 */
#ifndef RBLKIT_SMTP_H
#define RBLKIT_SMTP_H

#include <stddef.h>

/* Length of an enhanced status code (x.y.z, class 2/4/5) at p inside
 * text, or 0 (an IPv4 address is not one). */
size_t smtp_status_at(const char *text, const char *p);
/* Is there a reply code ([245][0-5]d) at p inside text? */
int smtp_reply_at(const char *text, const char *p);
/* Enhanced status code in text ("5.1.1"), the last one paired with a
 * reply code preferred; 0 and out set, or -1. */
int smtp_find_status(const char *text, char *out, size_t len);
/* SMTP reply code in text, one followed by a status of its class
 * preferred; 0 and out set, or -1. */
int smtp_find_reply(const char *text, char out[4]);
/* The command that failed ("RCPT", "DATA", "MAIL", "EHLO", "CONN", ...)
 * into out, left alone when the text names none. */
void smtp_find_command(const char *text, char *out, size_t len);
/* The remote host ("host mx.example.org [...]") into out, if named. */
void smtp_find_rhost(const char *text, char *out, size_t len);
/* In place: "550-5.7.1 a 550-5.7.1 b 550 5.7.1 c" -> "550 5.7.1 a b c". */
void smtp_unwrap(char *s);

#endif
