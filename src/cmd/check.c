/*
 * check.c - rblkit check (under construction).
 *
 * SECURITY: command-line arguments only.
 */
#include "cmd.h"

#include <stdio.h>

int cmd_check(int argc, char **argv)
{
	fprintf(stderr, "rblkit check: not built yet\n");
	return 3;
}

void cmd_check_help(void)
{
	printf("usage: rblkit check ...  (not built yet)\n");
}
