/*
 * score.h - postscreen-style weighted scoring of DNSBL answers.
 *
 * The caller gives, per distinct zone of a struct sites, the answer codes
 * that count (the catalogue's error codes already removed) or "still
 * pending". score_eval() adds the weight of every site whose filter
 * matches one of its zone's codes, and says how far the pending zones
 * could still move the sum, so that a decision can be taken before the
 * slowest list has answered when it can no longer change.
 *
 * SECURITY: no untrusted input (answer codes are plain integers).
 */
#ifndef RBLKIT_SCORE_H
#define RBLKIT_SCORE_H

#include "policy/sites.h"

#include <stdbool.h>
#include <stdint.h>

#define SCORE_MAX_CODES 8	/* codes kept per zone answer */

enum sz_state { SZ_PENDING, SZ_DONE };

struct score_zone {
	enum sz_state state;
	size_t ncodes;
	uint32_t codes[SCORE_MAX_CODES];	/* counting codes, host order */
};

struct score_result {
	int score;		/* sum over answered zones */
	int low, high;		/* the range the final score can still take */
	bool complete;		/* no zone pending */
	int top;		/* site with the largest positive weight that
				   matched, or -1 */
	unsigned matched;	/* sites that matched */
};

/* Evaluate sites against zones[0..sites->nzones). */
void score_eval(const struct sites *sites, const struct score_zone *zones,
		struct score_result *res);

/* Is the outcome against threshold known already? Sets *listed. */
bool score_decided(const struct score_result *res, int threshold, bool *listed);

/* "zen.spamhaus.org*3 bl.spamcop.net*2": the matched sites, into buf. */
void score_detail(const struct sites *sites, const struct score_zone *zones,
		  char *buf, size_t len);

#endif
