/*
 * api.c - the JSON API /api/v1/.
 *
 * SECURITY: requests are hostile; API keys are checked by digest.
 */
#include "web/web_int.h"

void web_api(struct web_req *r)
{
	r->status = 404;
	r->ctype = "application/json";
	H_LIT(&r->out, "{\"error\":\"not found\"}\n");
}
