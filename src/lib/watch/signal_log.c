/*
 * signal_log.c - the log follower of watch/signal.h (a stub until the
 * follower lands: every call fails cleanly, so that the daemon links).
 *
 * SECURITY: see signal.h.
 */
#include "watch/signal.h"

#include <stdio.h>

int watch_log_open(struct watch_log **out, const char *spec,
		   const struct catalog *cat, char *err, size_t errlen)
{
	*out = NULL;
	snprintf(err, errlen, "%s: log follower not built yet", spec);
	return -1;
}

int watch_log_poll(struct watch_log *wl, watch_signal_fn fn, void *arg,
		   char *err, size_t errlen)
{
	snprintf(err, errlen, "log follower not built yet");
	return -1;
}

int watch_log_fd(const struct watch_log *wl)
{
	return -1;
}

void watch_log_stats(const struct watch_log *wl, struct watch_signal_stats *st)
{
	*st = (struct watch_signal_stats){ 0 };
}

void watch_log_close(struct watch_log *wl)
{
}

int watch_log_parse_line(const char *line, size_t len,
			 const struct catalog *cat, int64_t now,
			 struct watch_signal *s)
{
	return 0;
}
