/*
 * guard.c - the one prologue of every protected request, shared by the
 * console (/admin, sessions and roles) and the JSON API (/api/v1, keys and
 * scopes): the route is known, the store is there, the caller is who the
 * credential says, the method is one the route takes, a browser's POST
 * carries its CSRF token, and the caller has the right. Each front end
 * gives how to find the caller and how to word a refusal (HTML or JSON).
 *
 * SECURITY: decides who may do what; the checks run in a fixed order and
 * nothing of the route runs before all of them passed.
 */
#include "web/web_int.h"

#include <string.h>

const struct web_route *web_guard(struct web_req *r, const char *prefix,
				  const struct web_route *routes, size_t n,
				  const struct web_guard_ops *ops, void *ctx)
{
	const char *p = r->path;
	const struct web_route *rt = NULL;
	size_t pl = strlen(prefix);
	unsigned rights = 0;

	if (!strncmp(p, prefix, pl))
		for (size_t i = 0; i < n && !rt; i++)
			if (!strcmp(p + pl, routes[i].path))
				rt = &routes[i];
	if (!rt) {
		ops->deny(r, ctx, WEB_DENY_PATH, NULL);
		return NULL;
	}
	if (!r->t->st) {
		ops->deny(r, ctx, WEB_DENY_STORE, rt);
		return NULL;
	}
	if (!(rt->flags & WEB_ROUTE_PUBLIC) && ops->who(r, ctx, &rights)) {
		ops->deny(r, ctx, WEB_DENY_WHO, rt);
		return NULL;
	}
	if (!(rt->methods & (r->is_post ? WEB_POST : WEB_GET))) {
		ops->deny(r, ctx, WEB_DENY_METHOD, rt);
		return NULL;
	}
	if (r->is_post && ops->csrf && !(rt->flags & WEB_ROUTE_PUBLIC) && !ops->csrf(r, ctx)) {
		ops->deny(r, ctx, WEB_DENY_CSRF, rt);
		return NULL;
	}
	if (!(rt->flags & WEB_ROUTE_PUBLIC) && !ops->allowed(rights, rt)) {
		ops->deny(r, ctx, WEB_DENY_RIGHTS, rt);
		return NULL;
	}
	return rt;
}
