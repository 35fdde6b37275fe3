/*
 * catalog.h - the catalogue of DNS blocklists and allowlists: which zones
 * exist, what their return codes mean, how to get off them.
 *
 * The bundled catalogue (data/lists.conf, compiled into the binary) is
 * read first; a user's file read after it adds lists or overrides fields
 * of lists with the same id.  Format: see data/lists.conf's header.
 *
 * Used by rblkit check (what to query, how to read answers), rblkit policy
 * (refusal codes never count) and rblkit diagnose (which list a rejection
 * text names, and its delisting URL).
 *
 * SECURITY: catalogue files are the operator's; parse errors are reported
 * with file:line, never fatal inside the library.
 */
#ifndef RBLKIT_CATALOG_H
#define RBLKIT_CATALOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What a list can be asked about (bit mask). LK_NONE: a reputation
 * service without a public DNS zone (Microsoft, Proofpoint, ...), kept for
 * its delisting URL and the words that name it in rejections. */
enum list_kind { LK_NONE = 0, LK_IP4 = 1, LK_IP6 = 2, LK_DOMAIN = 4 };
enum list_type { LT_BLOCK, LT_ALLOW };
enum list_status { LS_ACTIVE, LS_NEEDS_KEY, LS_RETIRED };
/* What one A record in an answer means. */
enum code_class { CC_LISTED, CC_ALLOWED, CC_ERROR };
/* What a domain list is asked ("reduce = "): the name as given, or its
 * registered domain from the public suffix list (dnsbl/psl.h). */
enum list_reduce { LR_NONE, LR_REGISTERED };

struct list_code {
	uint32_t lo, hi;		/* range of IPv4 answers, host order */
	enum code_class cls;
	char *meaning;
};

struct list {
	char *id;			/* short key: "spamhaus-zen" */
	char *name;			/* "Spamhaus ZEN" */
	char *zone;			/* NULL for LK_NONE */
	unsigned kinds;			/* enum list_kind bits */
	enum list_type type;
	enum list_status status;
	char **sets;			/* "default", "spamhaus", ... */
	size_t nsets;
	bool txt;			/* TXT carries the reason */
	bool no_testpoint;		/* "testpoint = no": 127.0.0.2/TEST is
					   not listed, by design */
	enum list_reduce reduce;	/* "reduce = registered": ask a name's
					   registered domain (default none) */
	char *delist, *site, *notes;
	char *lookup;			/* address-specific delisting page:
					   "{}" stands for the address or
					   domain (NULL: use delist) */
	char *advice;			/* what a listed sender should do,
					   shown with the listing */
	uint64_t limit;			/* published free-use query limit a
					   day ("limit = N"); 0: none known */
	char *server;			/* ask this server, not the resolver:
					   a local mirror, "ADDR[:PORT],..." */
	char **match;			/* lowercase words naming it in texts */
	size_t nmatch;
	struct list_code *codes;	/* most specific first is not needed: */
	size_t ncodes;			/* the narrowest matching range wins */
	bool user;			/* added by --zone, not in a catalogue */
};

struct catalog_index;

struct catalog {
	struct list **lists;
	size_t n;
	struct catalog_index *index;	/* of zones and match words, for
					   catalog_match_text(); NULL when
					   not built or out of date */
};

/* An empty catalogue; the caller frees it with catalog_free().  Never
 * NULL (allocation failure is fatal, as everywhere in rblkit). */
struct catalog *catalog_new(void);
/* Free cat and every list in it (pointers to its lists die too). NULL is
 * allowed. */
void catalog_free(struct catalog *cat);
/* At most this many errors of one catalogue are reported. */
#define CATALOG_MAX_ERRORS 20
/* Parse catalogue text (name is used in messages). On error returns -1
 * and puts every error, one "name:line: reason" a line (the first
 * CATALOG_MAX_ERRORS, then how many more), in err; the catalogue keeps
 * the entries that parsed.  err should have room for the lines (about
 * 200 bytes each); what does not fit is cut. */
int catalog_parse(struct catalog *cat, const char *text, size_t len,
		  const char *name, char *err, size_t errlen);
/* Read the file at path (at most 64 MB) and parse it as above.  On error
 * returns -1 with "path: reason" or "path:line: reason" in err. */
int catalog_load_file(struct catalog *cat, const char *path,
		      char *err, size_t errlen);
/* Parse the catalogue compiled into the binary; -1 and err as above
 * (only if data/lists.conf was broken at build time). */
int catalog_load_builtin(struct catalog *cat, char *err, size_t errlen);

/* The operator's overrides, read by every command after the built-in one. */
#define CATALOG_SYSTEM_FILE "/etc/rblkit/lists.conf"
/* What every command reads, in this order: the built-in catalogue,
 * CATALOG_SYSTEM_FILE when it exists, then each of files (may be NULL
 * when nfiles is 0).  0, or -1 with "file:line: why" in err. */
int catalog_load_all(struct catalog *cat, const char *const *files, size_t nfiles,
		     char *err, size_t errlen);

/* Add the lists spec names to sel (n in use, max room; duplicates are
 * skipped): a comma or blank separated mix of "all" (every active list),
 * set names (their active lists), list ids and zone names (those even
 * when retired, so that they can be shown).  Only lists with a zone and
 * a kind in kinds count.  Returns 0, or -1 when a word selects nothing;
 * that word is then copied to bad (the lists of the other words are
 * still added). */
int catalog_select(const struct catalog *cat, const char *spec, unsigned kinds,
		   const struct list **sel, size_t *n, size_t max,
		   char *bad, size_t badlen);

/* The list with this id, or NULL.  The catalogue owns what is returned. */
const struct list *catalog_by_id(const struct catalog *cat, const char *id);
/* The list of this zone, or NULL: case-insensitive, trailing dot
 * ignored.  The catalogue owns what is returned. */
const struct list *catalog_by_zone(const struct catalog *cat, const char *zone);
/* A zone nobody catalogued, with RFC 5782 defaults: IPv4 blocklist,
 * 127.0.0.2-127.255.255.254 listed except 127.0.0.1 and 127.255.255.0/24,
 * which are errors. Returns the existing entry when the zone is known.
 * The catalogue owns the entry (the caller may change its fields, e.g.
 * server, with xstrdup()ed strings).  Never NULL. */
struct list *catalog_add_zone(struct catalog *cat, const char *zone,
			      unsigned kinds);
/* The delisting page for subject (an address or domain) on l: lookup
 * with "{}" replaced by subject when the list has one, else delist, in
 * buf (len bytes; a URL that does not fit falls back to delist).
 * Returns buf, or NULL when the list has neither. */
const char *list_delist_url(const struct list *l, const char *subject,
			    char *buf, size_t len);
/* Is l in the set named set ("default", "spamhaus", ...)? */
bool list_in_set(const struct list *l, const char *set);

/* Class and meaning of one A answer (host order). Answers outside
 * 127.0.0.0/8 are always errors. Never returns a NULL meaning. */
enum code_class list_classify(const struct list *l, uint32_t code,
			      const char **meaning);

/* The list a rejection text names, or NULL: a zone or match word found
 * in text without case, with no letter or digit right before or after
 * it.  A zone beats a match word, a longer one a shorter one, and on a
 * tie the first in catalogue order wins.  One pass over text
 * (catalog_match.c).  The first call after the catalogue changed builds
 * the index: threads sharing a catalogue call catalog_index_build() first
 * (catalog_load_all() does). */
const struct list *catalog_match_text(const struct catalog *cat,
				      const char *text, size_t len);
/* Build the index of catalog_match_text() if it is not; drop it (the
 * parser does when lists change). */
void catalog_index_build(struct catalog *cat);
void catalog_index_free(struct catalog *cat);

/* "ip4 ip6 domain" or "none" for kinds (enum list_kind bits), written
 * to buf (len bytes, truncated if short); returns buf. */
const char *list_kind_text(unsigned kinds, char *buf, size_t len);
/* "listed", "allowlisted" or "error": a static string. */
const char *code_class_text(enum code_class c);

#endif
