/*
 * admin.c - the operator's console /admin.
 *
 * SECURITY: log-in by argon2id password hashes; sessions in the store.
 */
#include "web/web_int.h"

void web_admin(struct web_req *r)
{
	web_page_msg(r, 404, M_NOT_FOUND);
}
