/*
 * value.h - A+TXT values of DNSBL entries, rbldnsd style.
 *
 * A dataset line may carry a value ":A:TXT", ":A", ":A:" or plain "TXT";
 * a line ":A:TXT" alone sets the default for the following entries. TXT
 * templates use "$" (the listed entry), "$$", "$0".."$9" and the base
 * template "$=". At load time (vtab_finish) every template is compiled so
 * that only the entry remains to fill in at query time (as "$!"; "$$" is
 * a literal dollar), and identical values are stored once.
 *
 * SECURITY: parses lines of data files (operator-supplied, untrusted as to
 * syntax). All lengths are checked; TXT output is capped at 254 bytes as
 * rbldnsd does.
 */
#ifndef RBLKIT_VALUE_H
#define RBLKIT_VALUE_H

#include <stddef.h>
#include <stdint.h>

#define VALUE_TXT_MAX 254   /* rbldnsd caps TXT strings at 254 bytes */
#define VALUE_RAW_MAX 255   /* raw entry texts are cut to 255 bytes at parse */

/* A raw (uncompiled) value as parsed from a line. */
struct value_raw {
	uint8_t a[4];           /* A record, network order */
	char txt[VALUE_RAW_MAX + 1];
};

/* A compiled value as served. */
struct value {
	uint8_t a[4];
	uint16_t txtlen;        /* length of the compiled template */
	const char *txt;        /* compiled template: "$!" = entry, "$$" = "$" */
};

/* Substitution state of a dataset scope: $0..$9 and $= (index 10). */
struct value_vars {
	char *var[11];
};
#define VALUE_VAR_BASE 10

/* Table of compiled values of one dataset; ids are dense from 0. */
typedef struct vtab vtab_t;

/* Create an empty table. Never fails (panics on ENOMEM). */
vtab_t *vtab_new(void);
void vtab_free(vtab_t *t);

/* Add a raw value; returns its raw id (>= 0). Raw values are compiled by
 * vtab_finish() once all $n and $= variables of the scope are known. */
uint32_t vtab_add_raw(vtab_t *t, const struct value_raw *v);

/* Compile all raw values with vars, deduplicate. After this,
 * vtab_map(raw_id) gives the final id used by lookups. */
void vtab_finish(vtab_t *t, const struct value_vars *vars);
uint32_t vtab_map(const vtab_t *t, uint32_t raw_id);
/* Compiled value by final id. */
const struct value *vtab_get(const vtab_t *t, uint32_t id);
uint32_t vtab_count(const vtab_t *t);
/* Approximate heap bytes used (for load statistics). */
size_t vtab_bytes(const vtab_t *t);

/* Parse a value at s (after the entry key and blanks). def is the scope's
 * default. Returns 0 and fills *out, or -1 with *err set to a message
 * (the line is then skipped, as rbldnsd does). An empty s gives def. */
int value_parse(const char *s, const struct value_raw *def,
		struct value_raw *out, const char **err);

/* The built-in default: A 127.0.0.2, no TXT. */
void value_default(struct value_raw *out);

/* Expand a compiled template with the entry text subst into out (at most
 * VALUE_TXT_MAX bytes). Returns the length; 0 means no TXT record. */
size_t value_expand(const struct value *v, const char *subst, size_t substlen,
		    uint8_t *out);

/* Set variable n (0..9, or VALUE_VAR_BASE for "$=") from a "$n text" line. */
void value_vars_set(struct value_vars *vars, int n, const char *text);
void value_vars_copy(struct value_vars *dst, const struct value_vars *src);
void value_vars_clear(struct value_vars *vars);

#endif
