/*
 * pcontrol.h - "rblkit policy status" and "reset": the control socket of
 * the running daemon (state_dir/control, a unix socket only its owner and
 * root can use), and the same reports read from the state files when no
 * daemon runs.
 *
 * Protocol: one command line ("status [N]", "reset USER"), the daemon
 * answers with text and closes the connection. The first line of the
 * answer is "ok" or "error: why".
 *
 * SECURITY: the socket is mode 0600 in the daemon's state directory: the
 * commands are the operator's. User names in the report came from the
 * network and are printed with control characters replaced.
 */
#ifndef RBLKIT_PCONTROL_H
#define RBLKIT_PCONTROL_H

#include "policy/pdecide.h"

#include <stdio.h>

#define PCTL_SOCKET "control"
#define PCTL_MAX_LINE 1024

/* Top senders and blocked users of t at now, for cfg's limits. */
void pctl_status(FILE *f, const struct pcfg *cfg, struct rl_table *t,
		 uint32_t now, unsigned top);

/* Run one control command line in the daemon; the answer goes to out.
 * Returns 0, or -1 for an unknown command (also answered). */
int pctl_command(struct pd_ctx *x, const char *line, FILE *out);

/* Send cmd to the daemon of state_dir and copy its answer to out.
 * Returns 0 (answer "ok"), 1 (answer "error: ..."), or -1 when no daemon
 * answers (errno set). */
int pctl_client(const char *state_dir, const char *cmd, FILE *out);

#endif
