/*
 * web.c - "rblkit web": the public lookup and removal portal, the
 * operator's console and the JSON API (web/web.h). Options only.
 *
 * SECURITY: arguments and the configuration are the operator's; a
 * console password is read from stdin, never from the command line.
 */
#include "cmd.h"
#include "base/conftab.h"
#include "base/util.h"
#include "web/web.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_CONFIG "/etc/rblkit/web.conf"

void cmd_web_help(void)
{
	printf(
"usage: rblkit web [--config FILE]\n"
"       rblkit web --check-config [--config FILE]\n"
"       rblkit web [--config FILE] --add-user NAME --role viewer|operator|admin\n"
"       rblkit web [--config FILE] --add-key NAME --scopes lookup,report,remove,search\n"
"\n"
"The public lookup and removal-request portal, the operator's console (/admin)\n"
"and the JSON API (/api/v1/), over the listing store (docs/web.md).\n"
"\n"
"Options:\n"
"  --config FILE    web.conf (default " DEFAULT_CONFIG ")\n"
"  --check-config   check FILE, print each error as FILE:LINE: why, exit 0/1\n"
"  --add-user NAME  create or update a console user; the password is read\n"
"                   from stdin (one line, at least 10 characters)\n"
"  --role ROLE      the user's role (viewer, operator, admin)\n"
"  --add-key NAME   create an API key with --scopes; the key is printed once\n"
"  --scopes LIST    lookup, report, remove, search (comma separated)\n"
"\n"
"Keys of web.conf:\n");
	conftab_help(&web_conftab, stdout);
}

static int add_user(const struct web_conf *c, const char *name, const char *role)
{
	char pw[1024], err[512];
	int r = web_role_parse(role);

	if (!r) {
		fprintf(stderr, "rblkit web: --role: expected viewer, operator or admin\n");
		return 2;
	}
	if (!fgets(pw, sizeof(pw), stdin)) {
		fprintf(stderr, "rblkit web: no password on stdin\n");
		return 2;
	}
	pw[strcspn(pw, "\r\n")] = 0;
	if (web_add_user(c, name, r, pw, err, sizeof(err))) {
		fprintf(stderr, "rblkit web: %s\n", err);
		return 1;
	}
	printf("user %s (%s)\n", name, role);
	return 0;
}

static int add_key(const struct web_conf *c, const char *name, const char *scopes)
{
	char key[128], err[512];
	long s = web_scopes_parse(scopes);

	if (s <= 0) {
		fprintf(stderr, "rblkit web: --scopes: expected lookup, report, remove, search\n");
		return 2;
	}
	if (web_add_key(c, name, (unsigned)s, key, sizeof(key), err, sizeof(err))) {
		fprintf(stderr, "rblkit web: %s\n", err);
		return 1;
	}
	printf("%s\n", key);
	return 0;
}

int cmd_web(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check-config", no_argument, NULL, 'C' },
		{ "add-user", required_argument, NULL, 'u' },
		{ "role", required_argument, NULL, 'r' },
		{ "add-key", required_argument, NULL, 'k' },
		{ "scopes", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *config = DEFAULT_CONFIG, *user = NULL, *role = NULL, *key = NULL,
		   *scopes = NULL;
	struct conftab_errors e = { 0 };
	struct web_conf *c;
	char err[512];
	int check = 0, o, rc;

	while ((o = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		switch (o) {
		case 'c': config = optarg; break;
		case 'C': check = 1; break;
		case 'u': user = optarg; break;
		case 'r': role = optarg; break;
		case 'k': key = optarg; break;
		case 's': scopes = optarg; break;
		case 'h': cmd_web_help(); return 0;
		default: return cmd_usage_error("web");
		}
	}
	if (optind < argc) {
		fprintf(stderr, "rblkit web: unexpected argument '%s'\n", argv[optind]);
		return cmd_usage_error("web");
	}
	if ((user && !role) || (key && !scopes)) {
		fprintf(stderr, "rblkit web: --add-user needs --role, --add-key needs --scopes\n");
		return cmd_usage_error("web");
	}
	if (!(c = web_conf_load(config, &e))) {
		conftab_errors_print(&e, stderr);
		return 1;
	}
	if (check) {
		rc = web_conf_check_files(c, err, sizeof(err)) ? 1 : 0;
		if (rc)
			fprintf(stderr, "%s: %s\n", config, err);
		else
			printf("%s: ok\n", config);
		web_conf_free(c);
		return rc;
	}
	if (user)
		rc = add_user(c, user, role);
	else if (key)
		rc = add_key(c, key, scopes);
	else if ((rc = web_run(c, err, sizeof(err))))
		fprintf(stderr, "rblkit web: %s\n", err), rc = 1;
	web_conf_free(c);
	return rc;
}
