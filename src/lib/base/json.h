/*
 * json.h - writing JSON strings: escaped, always valid UTF-8.  The one
 * JSON string writer of rblkit (check's output, diagnose's reports).
 *
 * The rule for bytes that are not UTF-8: every byte that does not begin a
 * valid UTF-8 sequence (a stray continuation byte, a sequence cut short,
 * an overlong form, a surrogate, a code point above U+10FFFF, 0xF8..0xFF)
 * is written as \ufffd, U+REPLACEMENT CHARACTER, one per byte, and the
 * next byte is looked at afresh.  RFC 8259 (section 8.1) asks for UTF-8;
 * U+FFFD is what its consumers (and the Unicode standard, 3.9) expect for
 * ill-formed input, where a Latin-1 reading would invent characters.
 * Valid sequences are copied as they are; '"' and '\\' are escaped, and
 * so are control bytes and DEL (\u00XX; see JSON_SHORT).
 *
 * SECURITY: the text comes from the network and from mail (TXT records,
 * bounce texts); whatever the bytes, the output parses.
 */
#ifndef RBLKIT_JSON_H
#define RBLKIT_JSON_H

#include <stddef.h>
#include <stdio.h>

/* Flags of json_escape(): JSON_SHORT writes newline, tab and carriage
 * return as \n, \t and \r (check's output) rather than \u000a, \u0009
 * and \u000d (diagnose's reports); the two are the same JSON. */
#define JSON_SHORT 1u

/* The most bytes json_escape() writes for n input bytes (quotes
 * included): 6 per byte and 2; 0 when that would overflow. */
size_t json_escaped_max(size_t n);
/* s[0..n) as a JSON string with its quotes into out, which has room for
 * json_escaped_max(n) bytes; no NUL is added.  Returns the bytes
 * written. */
size_t json_escape(char *out, const char *s, size_t n, unsigned flags);

/* Write s as a JSON string (with quotes; JSON_SHORT escapes); NULL
 * writes null. */
void json_str(FILE *f, const char *s);
void json_strn(FILE *f, const char *s, size_t n);

#endif
