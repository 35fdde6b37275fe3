/*
 * control.h - "rblkit policy status" and "reset": the control socket of
 * the running daemon (state_dir/control, a unix socket only its owner and
 * root can use), and the same reports read from the state files when no
 * daemon runs.
 *
 * Protocol: one command line ("status [N|USER]", "reset USER"), the daemon
 * answers with text and closes the connection. The first line of the
 * answer is "ok" or "error: why".
 *
 * SECURITY: the socket is mode 0600 in the daemon's state directory: the
 * commands are the operator's. User names in the report came from the
 * network and are printed with control characters replaced.
 */
#ifndef RBLKIT_POLICY_CONTROL_H
#define RBLKIT_POLICY_CONTROL_H

#include "policy/decide.h"

#include <stdio.h>

#define PCTL_SOCKET "control"
#define PCTL_MAX_LINE 1024

/* Top senders and blocked users of t at now, for cfg's limits. */
void pctl_status(FILE *f, const struct pcfg *cfg, struct rl_table *t,
		 uint32_t now, unsigned top);

/* The counters of one user, one line. Returns 0, or -1 (nothing
 * printed) when user is not counted. */
int pctl_status_user(FILE *f, const struct pcfg *cfg, struct rl_table *t,
		     uint32_t now, const char *user);

/* The windows status USER asks the shared store for: user's limits, or
 * messages per hour and recipients per day when there are none. */
void pctl_status_limits(const struct pcfg *cfg, const char *user, struct rl_limits *out);

/* The cluster's view of user (st: what the shared store answered): the
 * counts of every daemon, a block, the shared baseline. Returns 0, or -1
 * (nothing printed) when no daemon counted user. */
int pctl_status_cluster(FILE *f, struct pd_ctx *x, const char *user,
			const struct pcs_status *st, uint32_t now);

/* The argument of "status": empty or digits give the number of top
 * senders in *top (20 when empty or 0); anything else is a user name
 * (returns -1). */
int pctl_status_top(const char *arg, unsigned *top);

/* Run one control command line in the daemon; the answer goes to out.
 * Returns 0, or -1 for an unknown command (also answered). */
int pctl_command(struct pd_ctx *x, const char *line, FILE *out);

/* Send cmd to the daemon of state_dir and copy its answer to out.
 * Returns 0 (answer "ok"), 1 (answer "error: ..."), or -1 when no daemon
 * answers (errno set). */
int pctl_client(const char *state_dir, const char *cmd, FILE *out);

#endif
