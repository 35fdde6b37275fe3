/*
 * policy.c - "rblkit policy": run the Postfix policy daemon, check its
 * configuration, show its counters, lift a block.
 *
 * SECURITY: command-line arguments only; see pserver.c for the network.
 */
#include "cmd.h"
#include "policy/plookup.h"
#include "policy/pconfig.h"
#include "policy/pcontrol.h"
#include "policy/pserver.h"
#include "policy/pstate.h"
#include "base/util.h"

#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_CONFIG "/etc/rblkit/policy.conf"

void cmd_policy_help(void)
{
	printf(
"usage: rblkit policy [--config FILE] [--verbose]     run the daemon\n"
"       rblkit policy --check-config [--config FILE]  check and exit\n"
"       rblkit policy status [N] [--config FILE | --state-dir DIR]\n"
"       rblkit policy reset USER [--config FILE | --state-dir DIR]\n"
"\n"
"A Postfix policy service (check_policy_service): blocklist scoring of\n"
"clients at CONNECT/HELO/MAIL/RCPT, and sending limits for authenticated\n"
"users counted at END-OF-MESSAGE. The daemon stays in the foreground and\n"
"logs to stderr (log = syslog in the file for syslog). Default FILE:\n"
DEFAULT_CONFIG ".\n"
"\n"
"status shows the N top senders (default 20) and the blocked users; reset\n"
"clears a user's counters and lifts its block. Both ask the running daemon\n"
"through state_dir/control, or read (reset: change) the state files when\n"
"no daemon runs.\n"
"\n"
"Signals: SIGHUP reloads FILE (a bad file keeps the old configuration and\n"
"logs file:line: why), SIGTERM/SIGINT save the counters and stop.\n"
"\n"
"Configuration keys (docs/policy.md has the details):\n");
	pcfg_help_keys(stdout);
}

static int check_config(const char *path)
{
	char err[1024];
	struct pcfg *c = pcfg_load(path, err, sizeof(err));
	struct plk *d;

	if (!c) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	if (!(d = plk_new(c, err, sizeof(err)))) {
		fprintf(stderr, "%s: %s\n", path, err);
		pcfg_free(c);
		return 1;
	}
	plk_free(d);
	if (access(c->state_dir, W_OK | X_OK))
		fprintf(stderr, "%s: warning: state_dir %s: %s\n", path, c->state_dir,
			strerror(errno));
	printf("%s: ok: listen %s, %zu sites on %zu zones (threshold %d, %s), "
	       "%zu limits, %zu overrides, state in %s\n", path, c->listen, c->sites->n,
	       c->sites->nzones, c->threshold,
	       c->dnsbl_action == DA_REJECT ? "reject" : "prepend", c->limits.n, c->nov,
	       c->state_dir);
	pcfg_free(c);
	return 0;
}

/* status or reset when no daemon answers: work on the files, as the
 * owner of state_dir (root would leave files the daemon cannot read). */
static int offline(struct pcfg *c, const char *cmd, const char *arg)
{
	char err[1024];
	struct rl_table *t;
	bool reset = !strcmp(cmd, "reset");
	struct pst *p;
	struct stat st;
	int rc = 0;

	if (geteuid() == 0 && stat(c->state_dir, &st) == 0 && st.st_uid != 0 &&
	    (setgroups(0, NULL) || setgid(st.st_gid) || setuid(st.st_uid))) {
		fprintf(stderr, "rblkit policy %s: cannot become the owner of %s: %s\n",
			cmd, c->state_dir, strerror(errno));
		return 1;
	}
	t = rl_new(c->max_users);
	p = pst_open(c->state_dir, t, !reset, err, sizeof(err));

	if (!p) {
		fprintf(stderr, "rblkit policy %s: %s\n", cmd, err);
		rl_free(t);
		return 1;
	}
	if (reset) {
		if (rl_remove(t, arg)) {
			fprintf(stderr, "rblkit policy reset: %s is not counted\n", arg);
			rc = 1;
		} else {
			pst_reset(p, arg);
			printf("%s: counters cleared (daemon not running; state files "
			       "changed)\n", arg);
		}
	} else {
		long top = arg ? strtol(arg, NULL, 10) : 20;

		printf("daemon not running: from the state files in %s\n", c->state_dir);
		pctl_status(stdout, c, t, (uint32_t)time(NULL), top > 0 ? (unsigned)top : 20);
	}
	pst_close(p);
	rl_free(t);
	return rc;
}

static int control(const char *cfgpath, const char *state_dir, const char *cmd,
		   const char *arg)
{
	char err[1024], line[PCTL_MAX_LINE];
	struct pcfg *c;
	int rc;

	if (state_dir) {
		char text[4200];

		snprintf(text, sizeof(text), "state_dir = %s\n", state_dir);
		c = pcfg_parse(text, "--state-dir", err, sizeof(err));
	} else {
		c = pcfg_load(cfgpath, err, sizeof(err));
	}
	if (!c) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	if (arg && strpbrk(arg, "\r\n")) {
		fprintf(stderr, "rblkit policy %s: the argument has a line break\n", cmd);
		pcfg_free(c);
		return 2;
	}
	snprintf(line, sizeof(line), "%s%s%s", cmd, arg ? " " : "", arg ? arg : "");
	rc = pctl_client(c->state_dir, line, stdout);
	if (rc < 0)
		rc = offline(c, cmd, arg);
	pcfg_free(c);
	return rc;
}

int cmd_policy(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check-config", no_argument, NULL, 'k' },
		{ "state-dir", required_argument, NULL, 's' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *cfg = DEFAULT_CONFIG, *state_dir = NULL;
	int c, check = 0;

	while ((c = getopt_long(argc, argv, "+c:ks:vh", longopts, NULL)) != -1) {
		switch (c) {
		case 'c': cfg = optarg; break;
		case 'k': check = 1; break;
		case 's': state_dir = optarg; break;
		case 'v': log_set_level(LOG_LVL_DEBUG); break;
		case 'h': cmd_policy_help(); return 0;
		default:
			return cmd_usage_error("policy");
		}
	}
	if (optind < argc) {
		const char *cmd = argv[optind++], *arg = NULL;

		if (strcmp(cmd, "status") && strcmp(cmd, "reset")) {
			fprintf(stderr, "rblkit policy: unknown command '%s' (status, reset)\n", cmd);
			return 2;
		}
		/* options may also come after the command */
		for (; optind < argc; optind++) {
			const char *a = argv[optind];

			if ((!strcmp(a, "--config") || !strcmp(a, "-c")) && optind + 1 < argc)
				cfg = argv[++optind];
			else if (!strncmp(a, "--config=", 9))
				cfg = a + 9;
			else if ((!strcmp(a, "--state-dir") || !strcmp(a, "-s")) &&
				 optind + 1 < argc)
				state_dir = argv[++optind];
			else if (!strncmp(a, "--state-dir=", 12))
				state_dir = a + 12;
			else if (!arg)
				arg = a;
			else
				break;
		}
		if (optind < argc || (!strcmp(cmd, "reset") && !arg)) {
			fprintf(stderr, "usage: rblkit policy %s\n",
				strcmp(cmd, "reset") ? "status [N]" : "reset USER");
			return 2;
		}
		return control(cfg, state_dir, cmd, arg);
	}
	if (check)
		return check_config(cfg);
	return psrv_run(cfg);
}
