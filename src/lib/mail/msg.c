/*
 * msg.c - RFC 5322 header reader; see msg.h.
 *
 * SECURITY: untrusted input; lengths are checked before every copy and the
 * limits of msg.h are applied before a field is stored.
 */
#include "mail/msg.h"
#include "base/util.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#ifdef __SANITIZE_ADDRESS__
#include <sanitizer/asan_interface.h>
#endif

char *msg_normalize(const char *text, size_t len, size_t *outlen)
{
	char *out = xmalloc(len + 1);
	size_t o = 0, i = 0;

	/* copy the runs between CRs whole; a CR or CRLF becomes LF */
	while (i < len) {
		const char *cr = memchr(text + i, '\r', len - i);
		size_t run = cr ? (size_t)(cr - text) - i : len - i;

		memcpy(out + o, text + i, run);
		o += run;
		i += run;
		if (!cr)
			break;
		out[o++] = '\n';
		i += i + 1 < len && text[i + 1] == '\n' ? 2 : 1;
	}
	out[o] = '\0';
	*outlen = o;
	return out;
}

/* 1 for the bytes of a field name: '!' to '~' except ':' */
static const unsigned char name_char[256] = {
	['!' ... '9'] = 1, [';' ... '~'] = 1,
};

/* Length of the field name at p if the line is "name:" (WSP before the
 * colon allowed, as obsolete syntax), else 0.  When colon is not NULL it
 * is set to the colon, so that the caller need not search for it again.
 * has_nl says that p[len] is the '\n' that ends the line. */
static size_t field_name_len(const char *p, size_t len, int has_nl, const char **colon)
{
	size_t i = 0, n;

	/* a name is printable ASCII without ':' (the table); the line's
	 * end is a byte outside it.  When the line ends with a '\n' at
	 * p[len] (every line but a last one without it), that byte stops
	 * the loop, so it need not also count the bytes left. */
	if (has_nl)
		while (name_char[(unsigned char)p[i]])
			i++;
	else
		while (i < len && name_char[(unsigned char)p[i]])
			i++;
	n = i;
	if (n == 0)
		return 0;
	while (i < len && (p[i] == ' ' || p[i] == '\t'))
		i++;
	if (i == len || p[i] != ':')
		return 0;
	if (colon)
		*colon = p + i;
	return n;
}

int msg_looks_like_header(const char *p, size_t len)
{
	return field_name_len(p, len, 0, NULL) > 0;
}

static const char *line_end(const char *p, const char *end)
{
	const char *nl = memchr(p, '\n', (size_t)(end - p));

	return nl ? nl : end;
}

/* The field values of a message, and its array of fields, are kept in a
 * few large blocks, not a malloc each: a message has dozens of fields,
 * and every part and attached message is a message too. */
#define BLOCK_SIZE 8192

struct msg_block {
	struct msg_block *next;
	size_t used, cap;
	_Alignas(struct msg_field) char data[];
};

/* msg_free() keeps a few blocks of BLOCK_SIZE for the thread's next
 * messages: a mailbox is thousands of messages, parts and status blocks
 * parsed one after another, and a malloc and a free per block were a
 * noticeable share of reading it.  The blocks a thread keeps are freed
 * when it ends (the key's destructor). */
#define SPARE_MAX 8

static __thread struct msg_block *spare;
static __thread unsigned nspare;
static __thread int spare_registered;	/* the key is set: spare_free runs */
static pthread_key_t spare_key;
static pthread_once_t spare_once = PTHREAD_ONCE_INIT;

static void spare_free(void *unused)
{
	while (spare) {
		struct msg_block *b = spare;

		spare = b->next;
#ifdef __SANITIZE_ADDRESS__
		ASAN_UNPOISON_MEMORY_REGION(b->data, b->cap);
#endif
		free(b);
	}
	nspare = 0;
	spare_registered = 0;
}

static void spare_key_create(void)
{
	if (pthread_key_create(&spare_key, spare_free))
		spare_key = (pthread_key_t)-1;	/* none: blocks are not kept */
}

/* Keep b for a later message of this thread; 0 if it is not kept. */
static int spare_put(struct msg_block *b)
{
	if (b->cap != BLOCK_SIZE || nspare >= SPARE_MAX)
		return 0;
	if (!spare_registered) {
		/* any value but NULL has the destructor run at thread end */
		pthread_once(&spare_once, spare_key_create);
		if (spare_key == (pthread_key_t)-1 ||
		    pthread_setspecific(spare_key, &spare_registered))
			return 0;
		spare_registered = 1;
	}
	b->next = spare;
	spare = b;
	nspare++;
#ifdef __SANITIZE_ADDRESS__
	/* a value used after msg_free() is still caught */
	ASAN_POISON_MEMORY_REGION(b->data, b->cap);
#endif
	return 1;
}

/* A block of at least n bytes: a kept one when it is large enough. */
static struct msg_block *block_new(size_t n)
{
	struct msg_block *b = spare;

	if (b && n <= BLOCK_SIZE) {
		spare = b->next;
		nspare--;
#ifdef __SANITIZE_ADDRESS__
		ASAN_UNPOISON_MEMORY_REGION(b->data, b->cap);
#endif
		return b;
	}
	if (n < BLOCK_SIZE)
		n = BLOCK_SIZE;
	b = xmalloc(sizeof(*b) + n);
	b->cap = n;
	return b;
}

/* Room for n bytes aligned to align (a power of two), taken from the
 * newest block (or a new one). */
static inline void *block_take(struct msg *m, size_t n, size_t align)
{
	struct msg_block *b = m->blocks;
	size_t at = b ? (b->used + align - 1) & ~(align - 1) : 0;

	if (!b || at > b->cap || b->cap - at < n) {
		b = block_new(n);
		b->next = m->blocks;
		m->blocks = b;
		at = 0;
	}
	b->used = at + n;
	return b->data + at;
}

/* Room for one more field in m->f: when the array is full, a copy twice
 * its size is taken from the blocks (the old one stays there, unused,
 * until msg_free; the array never outgrows MSG_MAX_HEADERS fields).
 * rest is the text left to read. */
static void fields_grow(struct msg *m, size_t *cap, size_t rest)
{
	/* a short text has a few fields: no 3 KB array for it */
	size_t ncap = *cap ? *cap * 2 : rest <= 2048 ? 8 : 32;
	struct msg_field *f = block_take(m, ncap * sizeof(*f), _Alignof(struct msg_field));

	if (m->nf)
		memcpy(f, m->f, m->nf * sizeof(*f));
	m->f = f;
	*cap = ncap;
}

/* Give back the end of the last block_take(): only used bytes stay. */
static void block_trim(struct msg *m, size_t unused)
{
	m->blocks->used -= unused;
}

/* Append the unfolded value of one field (first line at p, ending at le,
 * name length nlen, colon at colon) and return the start of the next
 * line. */
static const char *add_field(struct msg *m, size_t *cap, const char *p,
			     const char *colon, const char *le, const char *end,
			     size_t nlen)
{
	const char *start = p, *v = colon + 1;
	struct msg_field *f;
	char *val;
	size_t vl = 0, bound;

	if (m->nf >= MSG_MAX_HEADERS) {	/* skip it before allocating */
		m->cut = 1;
		do {
			p = le < end ? le + 1 : end;
			le = line_end(p, end);
		} while (p < end && (*p == ' ' || *p == '\t'));
		return p;
	}
	if (m->nf == *cap)
		fields_grow(m, cap, (size_t)(end - start) + 1);
	{
		/* the unfolded value is at most the field's raw size: measure
		 * it first (bounded by MSG_MAX_FIELD) and allocate that */
		const char *q = le;
		size_t raw = (size_t)(le - v);

		while (q < end && q + 1 < end && (q[1] == ' ' || q[1] == '\t') &&
		       raw <= MSG_MAX_FIELD) {
			const char *e2 = line_end(q + 1, end);

			raw += (size_t)(e2 - q);
			q = e2;
		}
		bound = (raw < MSG_MAX_FIELD ? raw : MSG_MAX_FIELD) + 1;
		val = block_take(m, bound, 1);
		/* a value that is not cut can skip its leading blanks now
		 * rather than move itself over them at the end (a cut one
		 * counts them against MSG_MAX_FIELD, as it always has) */
		if (raw < MSG_MAX_FIELD)
			while (v < le && (*v == ' ' || *v == '\t'))
				v++;
	}
	for (;;) {
		size_t n = (size_t)(le - v);

		if (vl + n + 1 > MSG_MAX_FIELD) {
			n = vl + 1 < MSG_MAX_FIELD ? MSG_MAX_FIELD - vl - 1 : 0;
			m->cut = 1;
		}
		if (vl && n)
			val[vl++] = ' ';
		memcpy(val + vl, v, n);
		vl += n;
		p = le < end ? le + 1 : end;
		if (p >= end || (*p != ' ' && *p != '\t'))
			break;
		le = line_end(p, end);
		v = p;
		while (v < le && (*v == ' ' || *v == '\t'))
			v++;
	}
	while (vl && ascii_isspace((unsigned char)val[vl - 1]))
		vl--;
	val[vl] = '\0';
	{
		size_t s = 0;

		while (s < vl && (val[s] == ' ' || val[s] == '\t'))
			s++;
		if (s) {
			memmove(val, val + s, vl - s + 1);
			vl -= s;
		}
	}
	block_trim(m, bound - (vl + 1));
	f = &m->f[m->nf++];
	if (nlen >= sizeof(f->name))
		nlen = sizeof(f->name) - 1;
	memcpy(f->name, start, nlen);
	f->name[nlen] = '\0';
	f->nlen = nlen;
	f->value = val;
	f->vlen = vl;
	return p;
}

int msg_parse(struct msg *m, const char *text, size_t len)
{
	const char *p = text, *end = text + len;
	size_t cap = 0;

	memset(m, 0, sizeof(*m));
	if (len >= 5 && !memcmp(p, "From ", 5))
		p = line_end(p, end) < end ? line_end(p, end) + 1 : end;
	while (p < end) {
		const char *le, *colon;
		size_t nlen;

		if (*p == '\n') {
			p++;
			break;
		}
		le = line_end(p, end);
		nlen = field_name_len(p, (size_t)(le - p), le < end, &colon);
		if (!nlen) {
			if (*p == ' ' || *p == '\t') {	/* stray continuation */
				p = le < end ? le + 1 : end;
				continue;
			}
			break;		/* not a header: the body starts here */
		}
		p = add_field(m, &cap, p, colon, le, end, nlen);
	}
	m->body = p;
	m->blen = (size_t)(end - p);
	return 0;
}

void msg_free(struct msg *m)
{
	while (m->blocks) {
		struct msg_block *b = m->blocks;

		m->blocks = b->next;
		if (!spare_put(b))
			free(b);
	}
	memset(m, 0, sizeof(*m));
}

const char *msg_get(const struct msg *m, const char *name)
{
	/* the length and the first letter rule out most fields without a
	 * call; the letter is compared with its 0x20 bit set, which makes
	 * upper and lower case alike (other bytes that it pairs up are
	 * told apart by strcasecmp) */
	int c0 = (unsigned char)name[0] | 0x20;
	size_t n = strlen(name);

	for (size_t i = 0; i < m->nf; i++)
		if (m->f[i].nlen == n && ((unsigned char)m->f[i].name[0] | 0x20) == c0 &&
		    !strcasecmp(m->f[i].name, name))
			return m->f[i].value;
	return NULL;
}
