/*
 * psl.c - the registered domain of a name, through libpsl.
 *
 * The context is loaded once and shared read-only by every thread
 * (libpsl's lookups do not change it).  The name is lowercased (ASCII)
 * into a copy without its trailing dot; libpsl answers with a pointer
 * into that copy, so the offset is the same in the caller's name and
 * the registered domain keeps the case it was given in.
 *
 * SECURITY: names come from the user (bulk files), already checked as
 * host names; a name longer than a DNS name is never copied.  The data
 * file is the system's.
 */
#include "dnsbl/psl.h"
#include "base/dynlib.h"
#include "base/util.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <libpsl.h>
#include <pthread.h>
#include <string.h>

/* libpsl is opened at the first lookup (base/dynlib.h); without it the
 * names are asked as given, as without suffix data, and the warning
 * says which library is missing. */
#define PSL_FUNCS(X) \
	X(psl_builtin) \
	X(psl_free) \
	X(psl_latest) \
	X(psl_load_file) \
	X(psl_registrable_domain)
static struct { PSL_FUNCS(DYNLIB_SLOT) } pslf;
DYNLIB_DEFINE(psl_lib, pslf, PSL_FUNCS, "libpsl.so.5", "libpsl5");
#define psl_builtin pslf.psl_builtin
#define psl_free pslf.psl_free
#define psl_latest pslf.psl_latest
#define psl_load_file pslf.psl_load_file
#define psl_registrable_domain pslf.psl_registrable_domain
static char psl_err[256];		/* why libpsl is not there, or "" */

static const psl_ctx_t *ctx;		/* NULL: no data */
static psl_ctx_t *ctx_owned;		/* to psl_free(): a loaded file */
static enum regdom_source source;
static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static pthread_once_t warn_once = PTHREAD_ONCE_INIT;

static void drop(void)
{
	if (ctx_owned)
		psl_free(ctx_owned);
	ctx_owned = NULL;
	ctx = NULL;
	source = REGDOM_NONE;
}

/* Keep l (when it is not the built-in context, which is never freed) or
 * else the built-in data when builtin. */
static void use(psl_ctx_t *l, bool builtin)
{
	const psl_ctx_t *b = builtin ? psl_builtin() : NULL;

	if (l && l != psl_builtin()) {
		ctx = ctx_owned = l;
		source = REGDOM_SYSTEM;
	} else if (b) {
		ctx = b;
		source = REGDOM_BUILTIN;
	}
}

/* psl_latest(): the newest of the distribution's file
 * (/usr/share/publicsuffix) and the built-in copy. */
static void load_default(void)
{
	drop();
	if (dynlib_load(&psl_lib, psl_err, sizeof(psl_err)) < 0)
		return;
	use(psl_latest(NULL), true);
}

enum regdom_source regdom_load(void)
{
	pthread_once(&load_once, load_default);
	return source;
}

enum regdom_source regdom_reload(const char *path, bool builtin)
{
	pthread_once(&load_once, load_default);
	drop();
	if (psl_err[0])
		return source;
	if (!path && builtin)
		load_default();
	else
		use(path ? psl_load_file(path) : NULL, builtin);
	return source;
}

const char *regdom_source_text(enum regdom_source s)
{
	switch (s) {
	case REGDOM_SYSTEM: return "system";
	case REGDOM_BUILTIN: return "built-in";
	case REGDOM_NONE: break;
	}
	return "none";
}

static void warn_no_data(void)
{
	if (psl_err[0])
		log_warn("no public suffix list (%s): domain lists that want the registered "
			 "domain are asked the names as given", psl_err);
	else
		log_warn("no public suffix list (install Debian's publicsuffix): domain lists "
			 "that want the registered domain are asked the names as given");
}

/* An IP literal, or a name whose last label is all digits (no TLD is):
 * libpsl would make "3.4" of 1.2.3.4. */
static bool not_a_name(const char *s, size_t len)
{
	struct in_addr a4;
	struct in6_addr a6;
	size_t i = len;

	if (inet_pton(AF_INET, s, &a4) == 1 || inet_pton(AF_INET6, s, &a6) == 1)
		return true;
	while (i && s[i - 1] != '.')
		i--;
	if (i == len)
		return true;	/* empty last label */
	for (; i < len; i++)
		if (!isdigit((unsigned char)s[i]))
			return false;
	return true;
}

enum regdom_result regdom_registered(const char *name, size_t *off)
{
	char buf[256];
	size_t len = strlen(name);
	const char *r;

	*off = 0;
	if (len && name[len - 1] == '.')
		len--;
	if (!len || len >= sizeof(buf))
		return REGDOM_NOT_NAME;
	for (size_t i = 0; i < len; i++)
		buf[i] = (char)tolower((unsigned char)name[i]);
	buf[len] = '\0';
	if (not_a_name(buf, len))
		return REGDOM_NOT_NAME;
	if (regdom_load() == REGDOM_NONE) {
		pthread_once(&warn_once, warn_no_data);
		return REGDOM_NO_DATA;
	}
	r = psl_registrable_domain(ctx, buf);
	if (!r)
		return REGDOM_SUFFIX;
	*off = (size_t)(r - buf);
	return REGDOM_REDUCED;
}
