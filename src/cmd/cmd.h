/*
 * cmd.h - the subcommands of the rblkit binary.
 *
 * SECURITY: command-line arguments are trusted (the operator's).
 */
#ifndef RBLKIT_CMD_H
#define RBLKIT_CMD_H

int cmd_serve(int argc, char **argv);
void cmd_serve_help(void);
int cmd_check(int argc, char **argv);
void cmd_check_help(void);
int cmd_policy(int argc, char **argv);
void cmd_policy_help(void);
int cmd_diagnose(int argc, char **argv);
void cmd_diagnose_help(void);
int cmd_list(int argc, char **argv);
void cmd_list_help(void);
int cmd_trap(int argc, char **argv);
void cmd_trap_help(void);
int cmd_web(int argc, char **argv);
void cmd_web_help(void);
int cmd_watch(int argc, char **argv);
void cmd_watch_help(void);

/* After a usage error (getopt has named the option): one line, the same
 * in every command, pointing at the command's help.  Returns 2, the exit
 * status of a usage error. */
int cmd_usage_error(const char *cmd);

#endif
