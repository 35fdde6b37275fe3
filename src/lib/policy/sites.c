/*
 * sites.c - parser of postscreen's dnsbl_sites syntax.
 *
 * The filter is kept as four 256-bit maps, one per octet, so a match is
 * four bit tests whatever the ranges were.
 *
 * SECURITY: operator configuration only. Every number is range-checked
 * while it is read; zone names are length-checked before the copy.
 */
#include "policy/sites.h"
#include "base/util.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void bit_set(uint8_t *map, unsigned v)
{
	map[v >> 3] |= (uint8_t)(1u << (v & 7));
}

static bool bit_get(const uint8_t *map, unsigned v)
{
	return (map[v >> 3] >> (v & 7)) & 1;
}

/* A decimal octet 0..255 at *p; advances *p. Returns the value or -1. */
static int octet(const char **p)
{
	const char *s = *p;
	int v = 0;

	if (!isdigit((unsigned char)*s))
		return -1;
	while (isdigit((unsigned char)*s)) {
		v = v * 10 + (*s++ - '0');
		if (v > 255)
			return -1;
	}
	*p = s;
	return v;
}

/* "[a;b..c;...]" into map; *p is at '['. Returns 0 or -1. */
static int octet_pattern(const char **p, uint8_t *map, const char **why)
{
	const char *s = *p + 1;

	for (;;) {
		int lo = octet(&s), hi;

		if (lo < 0) {
			*why = "a pattern needs numbers 0..255";
			return -1;
		}
		hi = lo;
		if (s[0] == '.' && s[1] == '.') {
			s += 2;
			if ((hi = octet(&s)) < 0 || hi < lo) {
				*why = "a range needs n..m with n <= m <= 255";
				return -1;
			}
		}
		for (int v = lo; v <= hi; v++)
			bit_set(map, (unsigned)v);
		if (*s == ';') {
			s++;
			continue;
		}
		if (*s != ']') {
			*why = "a pattern ends with ']'";
			return -1;
		}
		*p = s + 1;
		return 0;
	}
}

/* "d.d.d.d" filter at *p into site->filter. */
static int parse_filter(const char **p, struct site *site, const char **why)
{
	const char *s = *p;

	memset(site->filter, 0, sizeof(site->filter));
	for (int i = 0; i < 4; i++) {
		if (i && *s++ != '.') {
			*why = "the filter needs 4 octets (d.d.d.d)";
			return -1;
		}
		if (*s == '[') {
			if (octet_pattern(&s, site->filter[i], why))
				return -1;
		} else {
			int v = octet(&s);

			if (v < 0) {
				*why = "the filter needs 4 octets (d.d.d.d)";
				return -1;
			}
			bit_set(site->filter[i], (unsigned)v);
		}
	}
	site->has_filter = true;
	*p = s;
	return 0;
}

/* "*weight" at *p (at '*'). */
static int parse_weight(const char **p, int *weight, const char **why)
{
	const char *s = *p + 1;
	char *end;
	long v;

	errno = 0;
	if (!(*s == '-' || *s == '+' || isdigit((unsigned char)*s))) {
		*why = "the weight must be an integer";
		return -1;
	}
	v = strtol(s, &end, 10);
	if (end == s || errno || v < -SITES_WEIGHT_MAX || v > SITES_WEIGHT_MAX) {
		*why = "the weight must be an integer of at most 1000000";
		return -1;
	}
	*weight = (int)v;
	*p = end;
	return 0;
}

/* Zone name up to '=', '*' or the end; lowercase, trailing dot dropped. */
static int parse_zone(const char *s, size_t n, struct site *site, const char **why)
{
	if (n && s[n - 1] == '.')
		n--;
	if (n == 0 || n > SITES_ZONE_MAX) {
		*why = n ? "the zone name is too long" : "a site needs a zone name";
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (!(isalnum(c) || c == '-' || c == '_' || c == '.')) {
			*why = "the zone name has a character that is not "
			       "a letter, digit, '-', '_' or '.'";
			return -1;
		}
		if (c == '.' && (i == 0 || s[i - 1] == '.')) {
			*why = "the zone name has an empty label";
			return -1;
		}
		site->zone[i] = (char)tolower(c);
	}
	site->zone[n] = '\0';
	return 0;
}

/* One site "zone[=filter][*weight]" of length n. */
static int parse_site(const char *s, size_t n, struct site *site, const char **why)
{
	char buf[512];
	const char *p;
	size_t zl;

	if (n >= sizeof(buf)) {
		*why = "the site is too long";
		return -1;
	}
	memcpy(buf, s, n);
	buf[n] = '\0';
	zl = strcspn(buf, "=*");
	if (parse_zone(buf, zl, site, why))
		return -1;
	p = buf + zl;
	site->weight = 1;
	if (*p == '=' && (p++, parse_filter(&p, site, why)))
		return -1;
	if (*p == '*' && parse_weight(&p, &site->weight, why))
		return -1;
	if (*p) {
		*why = *p == '=' ? "the filter comes before the weight"
				 : "unexpected text after the site";
		return -1;
	}
	site->text = xstrndup(s, n);
	return 0;
}

static unsigned zone_index(struct sites *ss, const char *zone)
{
	for (size_t i = 0; i < ss->nzones; i++)
		if (!strcmp(ss->zones[i], zone))
			return (unsigned)i;
	ss->zones[ss->nzones] = xstrdup(zone);
	return (unsigned)ss->nzones++;
}

struct sites *sites_parse(const char *text, char *err, size_t errlen)
{
	struct sites *ss = xcalloc(1, sizeof(*ss));
	const char *p = text;

	ss->site = xcalloc(SITES_MAX, sizeof(*ss->site));
	ss->zones = xcalloc(SITES_MAX, sizeof(*ss->zones));
	for (;;) {
		const char *why = NULL;
		size_t n;

		p += strspn(p, ", \t\r\n");
		if (!*p)
			break;
		n = strcspn(p, ", \t\r\n");
		if (ss->n == SITES_MAX) {
			snprintf(err, errlen, "more than %d sites", SITES_MAX);
			goto fail;
		}
		if (parse_site(p, n, &ss->site[ss->n], &why)) {
			snprintf(err, errlen, "'%.*s': %s", (int)(n > 300 ? 300 : n), p, why);
			goto fail;
		}
		ss->site[ss->n].zone_idx = zone_index(ss, ss->site[ss->n].zone);
		ss->n++;
		p += n;
	}
	return ss;
fail:
	sites_free(ss);
	return NULL;
}

void sites_free(struct sites *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++)
		free(s->site[i].text);
	for (size_t i = 0; i < s->nzones; i++)
		free(s->zones[i]);
	free(s->site);
	free(s->zones);
	free(s);
}

bool site_match(const struct site *site, uint32_t code)
{
	if (!site->has_filter)
		return true;
	for (int i = 0; i < 4; i++)
		if (!bit_get(site->filter[i], (code >> (24 - 8 * i)) & 0xff))
			return false;
	return true;
}
