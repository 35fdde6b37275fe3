/*
 * signal_maildir.c - the bounce Maildir reader of watch/signal.h (a stub
 * until the reader lands: every call fails cleanly).
 *
 * SECURITY: see signal.h.
 */
#include "watch/signal.h"

#include <stdio.h>

int watch_maildir_open(struct watch_maildir **out, const char *dir,
		       const struct catalog *cat, char *err, size_t errlen)
{
	*out = NULL;
	snprintf(err, errlen, "%s: Maildir reader not built yet", dir);
	return -1;
}

int watch_maildir_poll(struct watch_maildir *wm, watch_signal_fn fn, void *arg,
		       char *err, size_t errlen)
{
	snprintf(err, errlen, "Maildir reader not built yet");
	return -1;
}

int watch_maildir_fd(const struct watch_maildir *wm)
{
	return -1;
}

void watch_maildir_stats(const struct watch_maildir *wm, struct watch_signal_stats *st)
{
	*st = (struct watch_signal_stats){ 0 };
}

void watch_maildir_close(struct watch_maildir *wm)
{
}
