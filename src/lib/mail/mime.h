/*
 * mime.h - MIME for bounce reading: multipart walking, base64 and
 * quoted-printable, RFC 2047 encoded words, charsets to UTF-8 (iconv).
 *
 * Limits: MIME_MAX_DEPTH levels of nested multiparts, MIME_MAX_PARTS leaf
 * parts per message, MIME_MAX_BYTES of leaf data in all (an attached
 * message is a leaf and its parts again); deeper or further parts are
 * dropped (and counted in mime.cut), never followed.
 *
 * SECURITY: untrusted input (mail from anywhere); decoders write at most
 * the sizes documented below, computed from the input length.
 */
#ifndef RBLKIT_MIME_H
#define RBLKIT_MIME_H

#include <stddef.h>

#include "mail/msg.h"

#define MIME_MAX_DEPTH 16
#define MIME_MAX_PARTS 256
#define MIME_MAX_BYTES (2 * (size_t)MAIL_MAX_SIZE)

struct mime_part {
	char type[64];		/* lower case "text/plain"; "" if none */
	char *data;		/* transfer-decoded; text and message/
				   delivery-status also converted to UTF-8;
				   NUL-terminated, owned by the mime;
				   "" for image, audio, video, application,
				   font and model parts (not decoded) */
	size_t len;
	int depth;		/* 0: the message body itself */
	int nested;		/* inside an attached message (message/rfc822):
				   a forwarded report's parts, or the
				   original message's own */
};

struct mime {
	struct mime_part *p;
	size_t n;
	size_t bytes;		/* leaf data held, against MIME_MAX_BYTES */
	int cut;		/* a limit dropped parts */
};

/* Walk the body of m (whose header section is m's fields) into leaf parts
 * in document order.  A multipart without its boundary gives one text
 * part.  Returns 0; free with mime_free. */
int mime_walk(struct mime *mm, const struct msg *m);
void mime_free(struct mime *mm);

/* Decoders: out must hold len + 3 bytes; they return the bytes written
 * (and stop quietly at input that is not of their encoding). */
size_t mime_b64_decode(const char *in, size_t len, char *out);
size_t mime_qp_decode(const char *in, size_t len, char *out);

/* in converted from charset (NULL or unknown: guessed; ISO-2022-JP escapes
 * are recognised without a label) to UTF-8.  Malloc'd, NUL-terminated,
 * length in *outlen.  Bytes that do not convert become U+FFFD. */
char *mime_to_utf8(const char *in, size_t len, const char *charset, size_t *outlen);

/* Close the charset converters the calling thread keeps for reuse (call
 * before a thread that read mail ends). */
void mime_thread_cleanup(void);

/* A header value with RFC 2047 encoded words decoded to UTF-8. Malloc'd. */
char *mime_decode_words(const char *in, size_t len);

/* Parameter of a structured field value ("text/plain; charset=x") into
 * out (lower-cased when lower); returns 0, or -1 when absent. */
int mime_param(const char *value, const char *name, char *out, size_t outlen,
	       int lower);

#endif
