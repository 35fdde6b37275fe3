/*
 * policy.c - rblkit policy (under construction).
 *
 * SECURITY: command-line arguments only.
 */
#include "cmd.h"

#include <stdio.h>

int cmd_policy(int argc, char **argv)
{
	fprintf(stderr, "rblkit policy: not built yet\n");
	return 3;
}

void cmd_policy_help(void)
{
	printf("usage: rblkit policy ...  (not built yet)\n");
}
