/*
 * server.h - the rblkit policy daemon: one thread, one epoll loop, many
 * long-lived Postfix connections (Postfix keeps one per smtpd process and
 * reuses it across sessions), the resolver's socket, a control socket,
 * and signals through a signalfd.
 *
 * SECURITY: listens on the configured address (loopback or a unix socket
 * in Postfix's private directory: anything that can connect can ask);
 * binds first, then drops to the configured user, then opens the state.
 */
#ifndef RBLKIT_POLICY_SERVER_H
#define RBLKIT_POLICY_SERVER_H

/* Run the daemon with the configuration file at path until SIGTERM or
 * SIGINT. Returns the exit status (0, or 1 after a start-up error, which
 * is logged). */
int psrv_run(const char *path);

#endif
