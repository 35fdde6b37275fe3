/*
 * diagnose.c - rblkit diagnose (under construction).
 *
 * SECURITY: command-line arguments only.
 */
#include "cmd.h"

#include <stdio.h>

int cmd_diagnose(int argc, char **argv)
{
	fprintf(stderr, "rblkit diagnose: not built yet\n");
	return 3;
}

void cmd_diagnose_help(void)
{
	printf("usage: rblkit diagnose ...  (not built yet)\n");
}
