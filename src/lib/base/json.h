/*
 * json.h - writing JSON: strings escaped, always valid UTF-8.
 *
 * SECURITY: the text comes from the network and from mail (TXT records,
 * bounce texts); control bytes are escaped and bytes that are not valid
 * UTF-8 are written as the Latin-1 character of the same value, so the
 * output always parses.
 */
#ifndef RBLKIT_JSON_H
#define RBLKIT_JSON_H

#include <stddef.h>
#include <stdio.h>

/* Write s as a JSON string (with quotes); NULL writes null. */
void json_str(FILE *f, const char *s);
void json_strn(FILE *f, const char *s, size_t n);

#endif
