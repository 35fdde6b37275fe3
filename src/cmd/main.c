/*
 * main.c - the rblkit binary: dispatch to subcommands.
 *
 * SECURITY: command-line arguments only.
 */
#include "cmd.h"

#include <stdio.h>
#include <string.h>

static const struct {
	const char *name, *summary;
	int (*run)(int argc, char **argv);
	void (*help)(void);
} commands[] = {
	{ "serve", "publish blocklist zones over DNS (rbldnsd compatible)",
	  cmd_serve, cmd_serve_help },
	{ "check", "is an address or domain listed, where, why, how to get off",
	  cmd_check, cmd_check_help },
	{ "policy", "Postfix policy daemon: blocklist scoring, outbound limits",
	  cmd_policy, cmd_policy_help },
	{ "diagnose", "read a bounce or headers: why the mail did not arrive",
	  cmd_diagnose, cmd_diagnose_help },
	{ "list", "the blocklist operator's listings: add, remove, show, import, export",
	  cmd_list, cmd_list_help },
	{ "trap", "spamtrap intake: LMTP daemon or one message on stdin",
	  cmd_trap, cmd_trap_help },
	{ "web", "the lookup and removal portal, operator console and JSON API",
	  cmd_web, cmd_web_help },
	{ "watch", "monitor your own addresses on blocklists: history, alerts",
	  cmd_watch, cmd_watch_help },
};

static void usage(FILE *f)
{
	fprintf(f, "usage: rblkit COMMAND [options]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "  %-10s %s\n", "help", "help [COMMAND]: this text, or a command's");
	fprintf(f, "\nrblkit --version prints the version.\n");
}

int cmd_usage_error(const char *cmd)
{
	fprintf(stderr, "Try 'rblkit help %s' for the options.\n", cmd);
	return 2;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version")) {
		printf("rblkit %s\n", RBLKIT_VERSION);
		return 0;
	}
	if (!strcmp(argv[1], "help") || !strcmp(argv[1], "--help") ||
	    !strcmp(argv[1], "-h")) {
		for (size_t i = 0; argc > 2 && i < sizeof(commands) / sizeof(commands[0]); i++)
			if (!strcmp(argv[2], commands[i].name)) {
				commands[i].help();
				return 0;
			}
		if (argc > 2) {
			fprintf(stderr, "rblkit: no such command '%s'\n", argv[2]);
			return 2;
		}
		usage(stdout);
		return 0;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[1], commands[i].name)) {
			/* getopt names the program in its messages:
			 * "rblkit check: unrecognized option '--x'" */
			char prog[32];

			snprintf(prog, sizeof(prog), "rblkit %s", commands[i].name);
			argv[1] = prog;
			return commands[i].run(argc - 1, argv + 1);
		}
	fprintf(stderr, "rblkit: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
