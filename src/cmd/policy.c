/*
 * policy.c - "rblkit policy": run the Postfix policy daemon, check its
 * configuration, show its counters, lift a block.
 *
 * SECURITY: command-line arguments only; see server.c for the network.
 */
#define _GNU_SOURCE
#include "cmd.h"
#include "policy/lookup.h"
#include "policy/config.h"
#include "policy/control.h"
#include "policy/server.h"
#include "policy/state.h"
#include "base/conftab.h"
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
"       rblkit policy status [N|USER] [--config FILE | --state-dir DIR]\n"
"       rblkit policy reset USER [--config FILE | --state-dir DIR]\n"
"       rblkit policy metrics [--config FILE | --state-dir DIR]\n"
"\n"
"A Postfix policy service (check_policy_service): blocklist scoring of\n"
"clients at CONNECT/HELO/MAIL/RCPT, and sending limits for authenticated\n"
"users counted at END-OF-MESSAGE. The daemon stays in the foreground and\n"
"logs to stderr (log = syslog in the file for syslog). Default FILE:\n"
DEFAULT_CONFIG ".\n"
"\n"
"status shows the N top senders (default 20), the blocked users and the\n"
"health of each list, or the counters of USER; reset clears a user's\n"
"counters and lifts its block. Both ask the running daemon\n"
"through state_dir/control, or read (reset: change) the state files when\n"
"no daemon runs. metrics prints the daemon's counters and the health of\n"
"each list (RFC 5782 probes) in Prometheus text format.\n"
"\n"
"Signals: SIGHUP reloads FILE (a bad file keeps the old configuration and\n"
"logs file:line: why for each error), SIGTERM/SIGINT save the counters and\n"
"stop.\n"
"\n"
"Configuration keys (docs/policy.md has the details):\n");
	conftab_help(&pcfg_table, stdout);
}

/* --check-config: state_dir must be usable, or creatable (the daemon
 * creates it, as root before dropping privileges, so only a missing
 * parent is a problem). */
static void state_dir_warning(const char *path, const char *dir)
{
	char parent[4096];
	char *slash;

	if (access(dir, W_OK | X_OK) == 0)
		return;
	if (errno != ENOENT) {
		fprintf(stderr, "%s: warning: state_dir %s: %s\n", path, dir, strerror(errno));
		return;
	}
	snprintf(parent, sizeof(parent), "%s", dir);
	while ((slash = strrchr(parent, '/')) && slash[1] == '\0' && slash != parent)
		*slash = '\0';		/* trailing slashes */
	if (!(slash = strrchr(parent, '/')))
		return;
	slash[slash == parent ? 1 : 0] = '\0';
	if (access(parent, W_OK | X_OK))
		fprintf(stderr, "%s: warning: state_dir %s cannot be created: %s: %s\n",
			path, dir, parent, strerror(errno));
}

/* The errors of pcfg_load/pcfg_parse, one a line; an unknown key gets
 * the hint where the keys are listed (the library names no command). */
static void print_errors(const char *err)
{
	while (*err) {
		size_t n = strcspn(err, "\n");
		const char *uk = memmem(err, n, ": unknown key '", 15);

		fprintf(stderr, "%.*s%s\n", (int)n, err,
			uk ? " (rblkit help policy lists the keys)" : "");
		err += n;
		err += *err == '\n';
	}
}

static int check_config(const char *path)
{
	char err[PCFG_ERR_MAX];
	struct pcfg *c = pcfg_load(path, err, sizeof(err));
	struct plk *d;

	if (!c) {
		print_errors(err);
		return 1;
	}
	if (!(d = plk_new(c, err, sizeof(err)))) {
		fprintf(stderr, "%s: %s\n", path, err);
		pcfg_free(c);
		return 1;
	}
	plk_free(d);
	state_dir_warning(path, c->state_dir);
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
	char err[PCFG_ERR_MAX];
	struct rl_table *t;
	bool reset = !strcmp(cmd, "reset");
	struct pst *p;
	struct stat st;
	unsigned top;
	int rc = 0, e;

	if (geteuid() == 0 && stat(c->state_dir, &st) == 0 && st.st_uid != 0 &&
	    (setgroups(0, NULL) || setgid(st.st_gid) || setuid(st.st_uid))) {
		fprintf(stderr, "rblkit policy %s: cannot become the owner of %s: %s\n",
			cmd, c->state_dir, strerror(errno));
		return 1;
	}
	/* nothing to show or change: an error, not "0 users" */
	e = stat(c->state_dir, &st) ? errno : S_ISDIR(st.st_mode) ? 0 : ENOTDIR;
	if (e) {
		fprintf(stderr, "rblkit policy %s: state_dir %s: %s\n", cmd, c->state_dir,
			strerror(e));
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
	} else if (pctl_status_top(arg, &top) == 0) {
		printf("daemon not running: from the state files in %s\n", c->state_dir);
		pctl_status(stdout, c, t, (uint32_t)time(NULL), top);
	} else if (pctl_status_user(stdout, c, t, (uint32_t)time(NULL), arg)) {
		fprintf(stderr, "rblkit policy status: %s is not counted\n", arg);
		rc = 1;
	}
	pst_close(p);
	rl_free(t);
	return rc;
}

static int control(const char *cfgpath, const char *state_dir, const char *cmd,
		   const char *arg)
{
	char err[PCFG_ERR_MAX], line[PCTL_MAX_LINE];
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
		print_errors(err);
		return 1;
	}
	if (arg && strpbrk(arg, "\r\n")) {
		fprintf(stderr, "rblkit policy %s: the argument has a line break\n", cmd);
		pcfg_free(c);
		return 2;
	}
	snprintf(line, sizeof(line), "%s%s%s", cmd, arg ? " " : "", arg ? arg : "");
	rc = pctl_client(c->state_dir, line, stdout);
	if (rc < 0 && !strcmp(cmd, "metrics")) {
		fprintf(stderr, "rblkit policy metrics: no daemon answers on %s/%s: %s\n",
			c->state_dir, PCTL_SOCKET, strerror(errno));
		rc = 1;
	} else if (rc < 0) {
		rc = offline(c, cmd, arg);
	}
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

		if (strcmp(cmd, "status") && strcmp(cmd, "reset") && strcmp(cmd, "metrics")) {
			fprintf(stderr, "rblkit policy: unknown command '%s' (status, reset, "
				"metrics)\n", cmd);
			return cmd_usage_error("policy");
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
			else if (a[0] == '-' && a[1]) {
				fprintf(stderr, "rblkit policy: unrecognized option '%s'\n", a);
				return cmd_usage_error("policy");
			} else if (!arg)
				arg = a;
			else
				break;
		}
		if (optind < argc || (!strcmp(cmd, "reset") && !arg) ||
		    (!strcmp(cmd, "metrics") && arg)) {
			fprintf(stderr, "usage: rblkit policy %s\n",
				!strcmp(cmd, "reset") ? "reset USER" :
				!strcmp(cmd, "metrics") ? "metrics" : "status [N|USER]");
			return cmd_usage_error("policy");
		}
		return control(cfg, state_dir, cmd, arg);
	}
	if (check)
		return check_config(cfg);
	return psrv_run(cfg);
}
