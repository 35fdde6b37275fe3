/*
 * signal.h - the "faster than polling" signals of rblkit watch: remote
 * rejections of our own outbound mail that name a blocklist or a
 * reputation service, read from the Postfix log (a file followed across
 * rotation, or journald through `journalctl -f`) and from a Maildir of
 * bounces (read with the diagnose engine).
 *
 * A pull interface, independent of any event loop: the daemon calls
 * *_poll() from a timer (about 250 ms) and, for a source with an fd,
 * when that fd is readable.  Each poll reads what is new, calls fn once
 * per signal and returns.  The list a text names comes from the
 * catalogue's recogniser, catalog_match_text() (the one `diagnose` uses).
 *
 * SECURITY: untrusted input: log lines carry text written by remote
 * SMTP servers (and any bytes a local user can get into the log); bounce
 * messages come from anywhere.  Read with the daemon's privileges; lines
 * and messages are bounded (WATCH_LOG_MAX_LINE, MAIL_MAX_SIZE) and every
 * text handed out is cut to its buffer and made printable.
 */
#ifndef RBLKIT_WATCH_SIGNAL_H
#define RBLKIT_WATCH_SIGNAL_H

#include <stddef.h>
#include <stdint.h>

struct catalog;

/* One rejection that names a list.  Every string is NUL-terminated,
 * cut to its buffer, and holds printable text only. */
struct watch_signal {
	int64_t when;		/* Unix time the line/message was read */
	char source[16];	/* "log" | "journal" | "bounce" */
	char list_id[64];	/* the catalogue id of the list named */
	char zone[256];		/* its DNS zone; "" for a reputation
				   service without one (Outlook, ...) */
	char ip[64];		/* our sending address the receiver
				   refused, if the text/bounce says it */
	char rcpt_domain[256];	/* domain of the refused recipient, "" */
	char relay[256];	/* the receiving host: "name[addr]" as
				   Postfix logs it, or the bounce's
				   Remote-MTA; "" if unknown */
	char text[512];		/* the rejection text, sanitised */
};

/* Called once per signal; s is valid during the call only. */
typedef void (*watch_signal_fn)(void *arg, const struct watch_signal *s);

/* Counters of a source, for status and metrics (all since open). */
struct watch_signal_stats {
	uint64_t lines;		/* log lines read / messages read */
	uint64_t signals;	/* signals delivered to fn */
	uint64_t cut;		/* lines longer than WATCH_LOG_MAX_LINE */
	uint64_t rotations;	/* file replaced or truncated */
	uint64_t restarts;	/* journalctl started again after dying */
	uint64_t broken;	/* messages that could not be read (kept) */
};

/* Lines longer than this are cut (the rest up to the newline is
 * skipped): memory stays bounded whatever the log holds. */
#define WATCH_LOG_MAX_LINE 16384

/* ---- the log follower ---- */

struct watch_log;

/* Follow spec: a file path (followed across rename+create and
 * copytruncate rotation), "journal" (`journalctl -f -o short-iso -n 0`)
 * or "journal:UNIT" (the same with -u UNIT).  Reading starts at the end:
 * lines already there never signal.  cat is borrowed and must outlive
 * the follower (its match index is built here).  Returns 0 and *out (the
 * caller frees it with watch_log_close()), or -1 with a reason in err
 * (the file cannot be opened, journalctl cannot be started). */
int watch_log_open(struct watch_log **out, const char *spec,
		   const struct catalog *cat, char *err, size_t errlen);

/* Read what is new (a bounded amount per call; call again on the next
 * tick for the rest), calling fn(arg, signal) for each recognised
 * rejection.  A partial last line is kept for the next call.  Returns
 * the number of signals, or -1 with a reason in err (the file cannot be
 * read any more, journalctl cannot be restarted); the follower stays
 * usable and the next call tries again.  A journalctl that exited is
 * started again here (at most once a second). */
int watch_log_poll(struct watch_log *wl, watch_signal_fn fn, void *arg,
		   char *err, size_t errlen);

/* An fd that becomes readable when there is something to read, or -1
 * (a file: poll from the timer).  May change after a poll (journalctl
 * restarted): ask again after each poll.  Even with an fd, keep polling
 * from the timer too (restarts are done there).  The follower owns it. */
int watch_log_fd(const struct watch_log *wl);

/* Counters since open. */
void watch_log_stats(const struct watch_log *wl, struct watch_signal_stats *st);

/* Stop following: close the file, or stop journalctl (SIGTERM, then
 * SIGKILL) and reap it.  NULL is allowed. */
void watch_log_close(struct watch_log *wl);

/* The line parser, on its own (unit tests, fuzzing, a replay of an old
 * log): one line without its newline (any bytes, len of them).  Returns
 * 1 and fills *s (source "log", when = now) when the line is a Postfix
 * smtp(8) report of a remote server refusing our mail (status=bounced
 * or deferred with "said: 4xx/5xx" or "refused to talk to me", or the
 * same "host ... said:" report of one MX) whose words name a list of
 * cat; 0 otherwise. */
int watch_log_parse_line(const char *line, size_t len,
			 const struct catalog *cat, int64_t now,
			 struct watch_signal *s);

/* ---- the bounce Maildir reader ---- */

struct watch_maildir;

/* Read bounces delivered to the Maildir dir (dir/new and dir/cur must
 * exist).  cat is borrowed as for watch_log_open().  Returns 0 and *out
 * (free with watch_maildir_close()), or -1 with a reason in err. */
int watch_maildir_open(struct watch_maildir **out, const char *dir,
		       const struct catalog *cat, char *err, size_t errlen);

/* Read the messages in new/ (at most a bounded number per call) with the
 * diagnose engine, call fn once per bounced recipient whose reason names
 * a list (source "bounce"), and move each message to cur/ ("name:2,")
 * after its signals are delivered: none is lost or read twice.  A
 * message that cannot be read is counted (stats.broken), moved to cur/
 * untouched and skipped.  Returns the number of signals, or -1 with a
 * reason in err (new/ cannot be listed, a message cannot be moved); the
 * reader stays usable. */
int watch_maildir_poll(struct watch_maildir *wm, watch_signal_fn fn, void *arg,
		       char *err, size_t errlen);

/* Always -1 for now (poll from the timer); kept so that an inotify
 * descriptor can come without an interface change. */
int watch_maildir_fd(const struct watch_maildir *wm);

/* Counters since open. */
void watch_maildir_stats(const struct watch_maildir *wm, struct watch_signal_stats *st);

/* Free the reader.  NULL is allowed. */
void watch_maildir_close(struct watch_maildir *wm);

#endif
