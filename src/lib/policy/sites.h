/*
 * sites.h - postscreen_dnsbl_sites syntax: "zone[=d.d.d.d][*weight]",
 * separated by commas and/or white space. Each d is a number, or a
 * pattern in brackets of numbers and n..m ranges separated by ';'
 * ("127.0.0.[2..11]", "127.0.[0..255].[2;3]"). The weight is an integer,
 * negative for allowlists; 1 when absent. A zone may be named by several
 * sites (each with its own filter and weight); it is queried once.
 *
 * SECURITY: parses the operator's configuration text; no network input.
 */
#ifndef RBLKIT_SITES_H
#define RBLKIT_SITES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SITES_MAX 64		/* sites of one dnsbl_sites value */
#define SITES_ZONE_MAX 254	/* characters of a zone name */
#define SITES_WEIGHT_MAX 1000000

struct site {
	char zone[SITES_ZONE_MAX + 1];	/* lowercase, no trailing dot */
	unsigned zone_idx;		/* index into sites.zones */
	bool has_filter;
	uint8_t filter[4][32];		/* per octet: bitmap of allowed values */
	int weight;
	char *text;			/* the site as written, for messages */
};

struct sites {
	struct site *site;
	size_t n;
	char **zones;			/* distinct zones, in order of appearance */
	size_t nzones;
};

/* Parse a dnsbl_sites value. Returns a new set (free with sites_free), or
 * NULL with a reason in err ("'zone=1.2.3' : filter needs 4 octets"). An
 * empty value gives an empty set. */
struct sites *sites_parse(const char *text, char *err, size_t errlen);
void sites_free(struct sites *s);

/* Does answer code (IPv4, host order) pass the site's filter? A site
 * without a filter accepts every code; the caller has already dropped
 * the codes the catalogue calls errors. */
bool site_match(const struct site *site, uint32_t code);

#endif
