/*
 * watch.c - `rblkit watch`: the blocklist monitoring daemon and its
 * status, note and (internal) deliver commands. A thin front end over
 * src/lib/watch.
 *
 * SECURITY: command-line arguments are the operator's; `note` reads
 * rblkit policy's RBLKIT_* environment (senders' addresses: stored as
 * text, never interpreted).
 */
#include "cmd.h"

#include "base/conftab.h"
#include "base/util.h"
#include "watch/watch.h"

#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void cmd_watch_help(void)
{
	printf(
"usage: rblkit watch --config FILE [--check-config]\n"
"       rblkit watch status --config FILE [--json]\n"
"       rblkit watch note --config FILE [--text TEXT]\n"
"\n"
"Check your own addresses, ranges, hosts and mail domains against blocklists\n"
"on a schedule; keep the history in the store; alert once per change (listed,\n"
"delisted, a list in error) by command, webhook or mail. Refusal codes and\n"
"lists failing their RFC 5782 test points are list errors, never listings.\n"
"\n"
"  --config FILE      the configuration (keys below)\n"
"  --check-config     check it, print the lists and intervals, and exit\n"
"  status [--json]    what the store says now (works while the daemon runs)\n"
"  note [--text T]    record rblkit policy's alert (its RBLKIT_* environment)\n"
"                     or T; later alerts quote it. For policy's alert_command.\n"
"\n"
"SIGHUP reloads the configuration. See docs/watch.md.\n\nkeys:\n");
	conftab_help(&watch_conftab, stdout);
}

static int check_config(const char *path)
{
	struct watch_conf *c = NULL;
	struct watch_plan p;
	struct conftab_errors e;
	char err[600];
	int rc = 1;

	if (watch_load(path, &c, &p, &e, err, sizeof(err))) {
		conftab_errors_print(&e, stderr);
		if (*err)
			fprintf(stderr, "%s\n", err);
		goto out;
	}
	printf("%s: ok: %zu targets, %zu lists, store %s\n", path, p.nt, p.nl, p.shown);
	for (size_t i = 0; i < p.nl; i++)
		printf("  %-32s %u targets, every %us%s (budget %" PRIu64 " queries a day%s)\n",
		       p.l[i].key, p.l[i].ntargets, p.l[i].effective,
		       p.l[i].stretched ? ", stretched to fit the budget" : "", p.l[i].budget,
		       p.l[i].budget ? "" : ": unlimited");
	rc = 0;
out:
	if (c)
		conftab_free(&watch_conftab, c);
	watch_plan_free(&p);
	return rc;
}

int cmd_watch(int argc, char **argv)
{
	enum { O_CONFIG = 256, O_CHECK, O_JSON, O_ALERT, O_TEXT, O_HELP };
	static const struct option opts[] = {
		{ "config", required_argument, NULL, O_CONFIG },
		{ "check-config", no_argument, NULL, O_CHECK },
		{ "json", no_argument, NULL, O_JSON },
		{ "alert", required_argument, NULL, O_ALERT },
		{ "text", required_argument, NULL, O_TEXT },
		{ "help", no_argument, NULL, O_HELP },
		{ NULL, 0, NULL, 0 },
	};
	const char *config = NULL, *sub = NULL, *text = NULL;
	bool check = false, json = false;
	int64_t alert = 0;
	char err[600], self[PATH_MAX];
	ssize_t n;
	int o;

	if (argc > 1 && argv[1][0] != '-') {
		sub = argv[1];
		argv++;
		argc--;
	}
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (o) {
		case O_CONFIG: config = optarg; break;
		case O_CHECK: check = true; break;
		case O_JSON: json = true; break;
		case O_ALERT: alert = strtoll(optarg, NULL, 10); break;
		case O_TEXT: text = optarg; break;
		case O_HELP: cmd_watch_help(); return 0;
		default: return cmd_usage_error("watch");
		}
	}
	if (optind < argc || !config) {
		fprintf(stderr, "rblkit watch: %s\n", optind < argc ? "unexpected argument" :
			"--config FILE is required");
		return cmd_usage_error("watch");
	}
	if (!sub) {
		if (check)
			return check_config(config);
		n = readlink("/proc/self/exe", self, sizeof(self) - 1);
		if (n <= 0) {
			fprintf(stderr, "rblkit watch: cannot find this program (/proc/self/exe)\n");
			return 1;
		}
		self[n] = '\0';
		return watch_daemon(config, self);
	}
	if (!strcmp(sub, "status")) {
		if (watch_status(config, json, stdout, err, sizeof(err))) {
			fprintf(stderr, "rblkit watch status: %s\n", err);
			return 1;
		}
		return 0;
	}
	if (!strcmp(sub, "note")) {
		if (watch_note(config, text, err, sizeof(err))) {
			fprintf(stderr, "rblkit watch note: %s\n", err);
			return 1;
		}
		return 0;
	}
	if (!strcmp(sub, "deliver") && alert > 0)
		return watch_deliver(config, alert);
	fprintf(stderr, "rblkit watch: unknown command '%s'\n", sub);
	return cmd_usage_error("watch");
}
