/*
 * dname.h - domain names: text <-> wire, comparison, suffix tests.
 *
 * A wire name is a sequence of labels, each a length byte (1..63) and that
 * many bytes. An absolute name ends with the root label (one zero byte) and
 * is at most DNAME_MAXLEN bytes including it. A relative name (like
 * struct qinfo's rel: the labels below a zone apex) is the same without the
 * final zero. Every function taking (name, len) accepts both: it reads
 * labels until len bytes are used up or it meets the zero byte. No function
 * here follows compression pointers: a length byte of 64 or more makes the
 * name malformed.
 *
 * The text form is rbldnsd's (dns_ptodn/dns_dntop): labels separated by
 * dots, "\c" quotes a character and "\ddd" gives a byte in decimal; empty
 * labels ("a..b", a leading or trailing dot) are skipped, as rbldnsd does.
 *
 * Some datasets keep names "reversed": the same labels in the opposite
 * order (top-level label first), with no final zero. In that form every
 * ancestor of a name is a byte prefix of it, so one sorted array holds each
 * subtree contiguously right after its top node.
 *
 * SECURITY: parses names from data files and from queries. Every read is
 * checked against len and every write against the output size; labels are
 * capped at 63 bytes and names at 255.
 */
#ifndef RBLKIT_DNAME_H
#define RBLKIT_DNAME_H

#include <stddef.h>
#include <stdint.h>

#define DNAME_MAXLEN 255        /* wire bytes, with the final zero */
#define DNAME_MAXLABEL 63
#define DNAME_MAXLABELS 127     /* labels (not counting the root) */
#define DNAME_TEXT_MAX 1024     /* text form of any name, with the NUL */

/* Errors of dname_from_text() (all negative). */
enum {
	DNAME_E_EMPTY = -1,     /* empty text */
	DNAME_E_LABEL = -2,     /* a label longer than 63 bytes */
	DNAME_E_LONG = -3,      /* name longer than 255 bytes */
	DNAME_E_ESCAPE = -4,    /* "\ddd" above 255 */
};

/* Parse the NUL-terminated text name into out as an absolute wire name,
 * keeping case (as rbldnsd does for $SOA/$NS and MX targets). A trailing
 * backslash is dropped, as rbldnsd does. Returns the wire length with the
 * final zero (so length - 1 is the relative form's), or a DNAME_E_* code.
 * "." (or only dots) is the root and gives 1: callers that must not accept
 * the root check for that, as rbldnsd's dnset and generic do. */
int dname_from_text(const char *text, uint8_t out[DNAME_MAXLEN]);

/* Same, then lowercase ASCII letters (for lookup keys). */
int dname_from_text_lc(const char *text, uint8_t out[DNAME_MAXLEN]);

/* A message for a DNAME_E_* code (static string). */
const char *dname_strerror(int err);

/* Write name as text into out (outsz bytes, NUL-terminated), rbldnsd's
 * dns_dntop() style: no trailing dot, the empty name as ".", and
 * '"' '.' ';' '\\' '@' '$' escaped with a backslash, bytes outside
 * 0x21..0x7e as "\ddd". DNAME_TEXT_MAX always suffices. Returns the text
 * length, or -1 if name is malformed or out is too small. */
int dname_to_text(const uint8_t *name, size_t len, char *out, size_t outsz);

/* For a query name (wire, with the final zero, len bytes): lowercase it
 * in place and store the offset of each label in offs (offs[labels] is
 * the root's). One pass instead of three on the query path. Returns the
 * label count, or -1 when the name is malformed. */
int dname_prepare(uint8_t *name, size_t len, uint8_t offs[DNAME_MAXLABELS + 1]);

/* Lowercase the ASCII letters of name in place. */
void dname_lower(uint8_t *name, size_t len);

/* Number of labels (the root not counted), or -1 if name is malformed:
 * a label runs past len, a length byte is above 63, or the name is longer
 * than DNAME_MAXLEN. */
int dname_labels(const uint8_t *name, size_t len);

/* Bytes of name before its final zero (the relative form), or -1 if
 * malformed. */
int dname_rel_len(const uint8_t *name, size_t len);

/* Compare two names in DNSSEC canonical order (RFC 4034 6.1): by labels
 * from the top down, each label bytewise with ASCII case folded, a
 * shorter label before a longer one it begins, an ancestor before its
 * descendants. Returns <0, 0 or >0. Malformed names compare by the labels
 * that could be read. */
int dname_cmp(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen);

/* Write the labels of name in reverse order to out (at least len bytes),
 * without a final zero. Returns the bytes written, or -1 if malformed. */
int dname_reverse(const uint8_t *name, size_t len, uint8_t *out);

/* dname_cmp() for two reversed names: same order, so
 * dname_rcmp(rev(a), rev(b)) has the sign of dname_cmp(a, b). */
int dname_rcmp(const uint8_t *ra, size_t alen, const uint8_t *rb, size_t blen);

/* 1 if name equals anc or lies below it (ASCII case folded), else 0.
 * Absolute and relative names may be mixed: the final zero is ignored. */
int dname_is_sub(const uint8_t *name, size_t len, const uint8_t *anc,
		 size_t alen);

#endif
