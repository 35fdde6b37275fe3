/*
 * score.c - weighted scoring of DNSBL answers (postscreen's rules: each
 * site whose filter matches any code of its zone's answer adds its
 * weight once).
 *
 * SECURITY: no untrusted input; the codes come from answers that the
 * resolver has already checked and the caller has classified.
 */
#include "policy/score.h"

#include <stdio.h>
#include <string.h>

static bool zone_matches(const struct site *site, const struct score_zone *z)
{
	for (size_t i = 0; i < z->ncodes && i < SCORE_MAX_CODES; i++)
		if (site_match(site, z->codes[i]))
			return true;
	return false;
}

void score_eval(const struct sites *sites, const struct score_zone *zones,
		struct score_result *res)
{
	int best = 0;

	memset(res, 0, sizeof(*res));
	res->top = -1;
	res->complete = true;
	for (size_t i = 0; i < sites->n; i++) {
		const struct site *s = &sites->site[i];
		const struct score_zone *z = &zones[s->zone_idx];

		if (z->state == SZ_PENDING) {
			res->complete = false;
			if (s->weight < 0)
				res->low += s->weight;
			else
				res->high += s->weight;
			continue;
		}
		if (!zone_matches(s, z))
			continue;
		res->score += s->weight;
		res->matched++;
		if (s->weight > best) {
			best = s->weight;
			res->top = (int)i;
		}
	}
	res->low += res->score;
	res->high += res->score;
}

bool score_decided(const struct score_result *res, int threshold, bool *listed)
{
	if (res->low >= threshold) {
		*listed = true;
		return true;
	}
	if (res->high < threshold) {
		*listed = false;
		return true;
	}
	*listed = false;
	return res->complete;	/* unreachable when complete: low == high */
}

void score_detail(const struct sites *sites, const struct score_zone *zones,
		  char *buf, size_t len)
{
	size_t off = 0;

	if (len)
		buf[0] = '\0';
	for (size_t i = 0; i < sites->n && off < len; i++) {
		const struct site *s = &sites->site[i];
		const struct score_zone *z = &zones[s->zone_idx];
		int n;

		if (z->state == SZ_PENDING || !zone_matches(s, z))
			continue;
		n = snprintf(buf + off, len - off, "%s%s*%d", off ? " " : "",
			     s->zone, s->weight);
		if (n < 0 || (size_t)n >= len - off) {
			buf[off] = '\0';	/* drop the site that did not fit */
			break;
		}
		off += (size_t)n;
	}
}
