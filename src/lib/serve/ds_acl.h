/*
 * ds_acl.h - the acl pseudo dataset: what to do with queries from which
 * clients (ignore, refuse, empty, pass, or always answer "listed").
 *
 * SECURITY: acl_check() sees the client address of untrusted queries; it
 * only looks it up.
 */
#ifndef RBLKIT_DS_ACL_H
#define RBLKIT_DS_ACL_H

#include "serve/dataset.h"

enum acl_action { ACL_PASS, ACL_VALUE, ACL_EMPTY, ACL_REFUSE, ACL_IGNORE };

/* Combine the global and the zone acl (either may be NULL) for the client
 * in qi->peer: the strongest action wins (ignore > refuse > empty >
 * listed > pass). For ACL_VALUE, *val is the template to answer with
 * (the global acl's if both have one) and *ttl its dataset's TTL; "$" in
 * it stands for the client's address. */
enum acl_action acl_check(const struct dataset *global, const struct dataset *zone,
			  const struct qinfo *qi, const struct value **val,
			  uint32_t *ttl);

#endif
