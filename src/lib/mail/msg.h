/*
 * msg.h - one RFC 5322 message: line endings normalised, header fields
 * unfolded, body located.  The reader every other mail module builds on.
 *
 * Limits (enforced before anything is allocated for the field):
 * MSG_MAX_HEADERS fields per header section, MSG_MAX_FIELD bytes of one
 * unfolded field value (longer values are cut), MAIL_MAX_SIZE bytes of
 * input.  Any byte sequence parses: text that is not a header section
 * gives a message with no fields and the whole text as its body.
 *
 * SECURITY: untrusted input (mail from anywhere), read with the caller's
 * privileges; every read is bounded by the length given.
 */
#ifndef RBLKIT_MSG_H
#define RBLKIT_MSG_H

#include <stddef.h>

#define MAIL_MAX_SIZE   (64u << 20)	/* one message */
#define MSG_MAX_HEADERS 1000
#define MSG_MAX_FIELD   (16u << 10)

struct msg_field {
	char name[64];		/* as written, NUL-terminated, cut at 63 */
	size_t nlen;		/* strlen(name) */
	char *value;		/* unfolded, leading/trailing space trimmed */
	size_t vlen;
};

struct msg_block;

struct msg {
	struct msg_field *f;
	size_t nf;
	struct msg_block *blocks;	/* where the fields and values are kept */
	const char *body;	/* points into the text given to msg_parse */
	size_t blen;
	int cut;		/* a limit was hit (fields dropped or cut) */
};

/* Copy of text with CRLF and lone CR turned into LF, NUL-terminated.
 * Returns a malloc'd buffer (caller frees) and its length in *outlen. */
char *msg_normalize(const char *text, size_t len, size_t *outlen);

/* Parse the header section at the start of text (LF line endings; a
 * leading mbox "From " line is skipped).  The message keeps pointers into
 * text for the body; field values are its own (msg_free).  Returns 0. */
int msg_parse(struct msg *m, const char *text, size_t len);
void msg_free(struct msg *m);

/* First field called name (case-insensitive) or NULL; value NUL-terminated. */
const char *msg_get(const struct msg *m, const char *name);
/* Does the text at p look like the first line of a header section? */
int msg_looks_like_header(const char *p, size_t len);

#endif
