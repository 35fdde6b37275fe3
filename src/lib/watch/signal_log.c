/*
 * signal_log.c - the log follower of watch/signal.h: a Postfix log file
 * followed across rotation, or journald through `journalctl -f`, cut
 * into lines that signal_parse.c reads.
 *
 * A file is read from its end at open.  Each poll reads to the end of
 * file (at most WLOG_BUDGET bytes), then looks for rotation: a size
 * below our position is a copytruncate (read again from 0); a different
 * file at the path is a rename + create (the old one is drained, then
 * the new one read from 0).  journalctl runs on a non-blocking pipe; when
 * it dies it is started again (at most once a second) with --since the
 * time it died, so that the lines in between are not lost.
 *
 * SECURITY: untrusted input: log lines carry remote servers' words and
 * whatever a local user can log; a line is at most WATCH_LOG_MAX_LINE
 * bytes (the rest is skipped), so memory stays bounded.  journalctl runs
 * with the daemon's privileges, its argv built by us (the unit name is
 * one argument, never a shell word).
 */
#define _GNU_SOURCE		/* memmem, pipe2 */
#include "watch/signal.h"

#include "base/util.h"
#include "dnsbl/catalog.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define WLOG_BUDGET (4u << 20)	/* bytes read per poll at most */
#define WLOG_CHUNK 65536
#define WLOG_RESPAWN_MS 1000

struct watch_log {
	const struct catalog *cat;
	int journal;		/* 0: a file */
	char *path;		/* the file */
	char *unit;		/* journal:UNIT, or NULL */
	int fd;
	dev_t dev;
	ino_t ino;
	off_t pos;
	pid_t pid;		/* journalctl, 0 when not running */
	uint64_t spawned_ms;
	int64_t died_at;	/* Unix time journalctl was seen dead, 0 */
	char *line;		/* WATCH_LOG_MAX_LINE bytes */
	size_t llen;
	int skip_to_nl;		/* the rest of this line is not ours */
	struct watch_signal_stats st;
};

/* One complete line (or its first WATCH_LOG_MAX_LINE bytes). */
static int do_line(struct watch_log *wl, const char *p, size_t n,
		   watch_signal_fn fn, void *arg)
{
	struct watch_signal s;

	if (n && p[n - 1] == '\r')
		n--;
	wl->st.lines++;
	if (!watch_log_parse_line(p, n, wl->cat, (int64_t)time(NULL), &s))
		return 0;
	if (wl->journal)
		str_copy(s.source, sizeof(s.source), "journal");
	wl->st.signals++;
	fn(arg, &s);
	return 1;
}

/* Cut data into lines; the tail without a newline waits in wl->line. */
static int feed(struct watch_log *wl, const char *p, size_t n,
		watch_signal_fn fn, void *arg)
{
	int count = 0;
	const char *nl;
	size_t k, room;

	while (n) {
		nl = memchr(p, '\n', n);
		k = nl ? (size_t)(nl - p) : n;
		if (wl->skip_to_nl) {
			if (!nl)
				return count;
			wl->skip_to_nl = 0;
		} else {
			room = WATCH_LOG_MAX_LINE - wl->llen;
			if (k <= room) {
				memcpy(wl->line + wl->llen, p, k);
				wl->llen += k;
				if (nl) {
					count += do_line(wl, wl->line, wl->llen, fn, arg);
					wl->llen = 0;
				}
			} else {
				/* too long: read its start, skip the rest */
				memcpy(wl->line + wl->llen, p, room);
				count += do_line(wl, wl->line, WATCH_LOG_MAX_LINE, fn, arg);
				wl->st.cut++;
				wl->llen = 0;
				wl->skip_to_nl = !nl;
			}
		}
		if (!nl)
			return count;
		p = nl + 1;
		n -= k + 1;
	}
	return count;
}

/* Read fd to its end (or the budget); *count gets the signals.  Returns
 * 1 at the end of file, 0 when it would block or the budget is spent,
 * -1 with err. */
static int drain(struct watch_log *wl, int fd, size_t *budget, int *count,
		 watch_signal_fn fn, void *arg, char *err, size_t errlen)
{
	char buf[WLOG_CHUNK];
	ssize_t n;

	while (*budget) {
		n = read(fd, buf, sizeof(buf) < *budget ? sizeof(buf) : *budget);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (n < 0) {
			snprintf(err, errlen, "%s: read: %s",
				 wl->journal ? "journalctl" : wl->path, strerror(errno));
			return -1;
		}
		if (n == 0)
			return 1;
		wl->pos += n;
		*budget -= (size_t)n;
		*count += feed(wl, buf, (size_t)n, fn, arg);
	}
	return 0;
}

/* ---- a file ---- */

static int file_open(struct watch_log *wl, int at_end, char *err, size_t errlen)
{
	struct stat st;
	char last;
	int fd = open(wl->path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);

	if (fd < 0 || fstat(fd, &st) < 0) {
		snprintf(err, errlen, "%s: %s", wl->path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (wl->fd >= 0)
		close(wl->fd);
	wl->fd = fd;
	wl->dev = st.st_dev;
	wl->ino = st.st_ino;
	wl->pos = 0;
	wl->llen = 0;
	wl->skip_to_nl = 0;
	if (at_end && S_ISREG(st.st_mode) && st.st_size > 0) {
		wl->pos = lseek(fd, 0, SEEK_END);
		/* started inside a line: it is an old one */
		if (pread(fd, &last, 1, st.st_size - 1) == 1 && last != '\n')
			wl->skip_to_nl = 1;
	}
	return 0;
}

static int file_poll(struct watch_log *wl, watch_signal_fn fn, void *arg,
		     char *err, size_t errlen)
{
	size_t budget = WLOG_BUDGET;
	int count = 0, tries;
	struct stat fst, pst;

	for (tries = 0; tries < 4 && budget; tries++) {
		if (drain(wl, wl->fd, &budget, &count, fn, arg, err, errlen) < 0)
			return -1;
		if (!budget)
			break;
		if (fstat(wl->fd, &fst) == 0 && S_ISREG(fst.st_mode) && fst.st_size < wl->pos) {
			/* copytruncate: what is there now is new */
			if (lseek(wl->fd, 0, SEEK_SET) < 0) {
				snprintf(err, errlen, "%s: %s", wl->path, strerror(errno));
				return -1;
			}
			wl->pos = 0;
			wl->llen = 0;
			wl->skip_to_nl = 0;
			wl->st.rotations++;
			continue;
		}
		if (stat(wl->path, &pst) < 0) {
			if (errno == ENOENT)	/* renamed, the new one comes */
				break;
			snprintf(err, errlen, "%s: %s", wl->path, strerror(errno));
			return -1;
		}
		if (pst.st_dev == wl->dev && pst.st_ino == wl->ino)
			break;
		/* a new file at the path; the old one was read to its end */
		if (file_open(wl, 0, err, errlen))
			return -1;
		wl->st.rotations++;
	}
	return count;
}

/* ---- journald ---- */

static int journal_spawn(struct watch_log *wl, char *err, size_t errlen)
{
	char since[40];
	char *argv[10];
	int pfd[2] = { -1, -1 }, argc = 0, rc;
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t none, deflt;
	pid_t pid;

	argv[argc++] = "journalctl";
	argv[argc++] = "-f";
	argv[argc++] = "-o";
	argv[argc++] = "short-iso";
	if (wl->died_at) {
		snprintf(since, sizeof(since), "--since=@%lld", (long long)wl->died_at);
		argv[argc++] = since;
	} else {
		argv[argc++] = "-n";
		argv[argc++] = "0";
	}
	if (wl->unit) {
		argv[argc++] = "-u";
		argv[argc++] = wl->unit;
	}
	argv[argc] = NULL;
	if (pipe2(pfd, O_CLOEXEC) < 0) {
		snprintf(err, errlen, "journalctl: pipe: %s", strerror(errno));
		return -1;
	}
	/* the daemon may block or catch signals: journalctl gets defaults */
	sigemptyset(&none);
	sigfillset(&deflt);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, pfd[1], 1);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	posix_spawnattr_init(&at);
	posix_spawnattr_setsigmask(&at, &none);
	posix_spawnattr_setsigdefault(&at, &deflt);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	rc = posix_spawnp(&pid, "journalctl", &fa, &at, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	close(pfd[1]);
	if (rc != 0) {
		close(pfd[0]);
		snprintf(err, errlen, "journalctl: %s", strerror(rc));
		return -1;
	}
	fcntl(pfd[0], F_SETFL, fcntl(pfd[0], F_GETFL) | O_NONBLOCK);
	wl->fd = pfd[0];
	wl->pid = pid;
	wl->spawned_ms = now_ms();
	wl->llen = 0;
	wl->skip_to_nl = 0;
	return 0;
}

/* Stop journalctl and reap it; returns its wait status (or -1). */
static int journal_reap(struct watch_log *wl, int kill_it)
{
	int status = -1, i;

	if (wl->fd >= 0)
		close(wl->fd);
	wl->fd = -1;
	if (wl->pid <= 0)
		return -1;
	if (kill_it)
		kill(wl->pid, SIGTERM);
	/* it closed its output or was told to stop: it ends at once */
	for (i = 0; i < 100; i++) {
		if (waitpid(wl->pid, &status, WNOHANG) == wl->pid)
			goto out;
		usleep(10000);
	}
	kill(wl->pid, SIGKILL);
	while (waitpid(wl->pid, &status, 0) < 0 && errno == EINTR)
		;
out:
	wl->pid = 0;
	wl->died_at = (int64_t)time(NULL);
	return status;
}

static int journal_poll(struct watch_log *wl, watch_signal_fn fn, void *arg,
			char *err, size_t errlen)
{
	size_t budget = WLOG_BUDGET;
	int count = 0, status, r;

	if (wl->pid > 0) {
		r = drain(wl, wl->fd, &budget, &count, fn, arg, err, errlen);
		if (r == 0)
			return count;
		/* the end of its output (or a broken pipe): it is gone */
		status = journal_reap(wl, 1);
		if (r > 0)
			snprintf(err, errlen, "journalctl exited (status %d); starting it again",
				 WIFEXITED(status) ? WEXITSTATUS(status) : -1);
		return -1;
	}
	if (now_ms() - wl->spawned_ms < WLOG_RESPAWN_MS)
		return count;
	if (journal_spawn(wl, err, errlen))
		return -1;
	wl->st.restarts++;
	return count;
}

/* ---- the interface ---- */

int watch_log_open(struct watch_log **out, const char *spec,
		   const struct catalog *cat, char *err, size_t errlen)
{
	struct watch_log *wl;
	int rc = -1;

	*out = NULL;
	if (!spec || !*spec || !cat) {
		snprintf(err, errlen, "watch log: no file or journal given");
		return -1;
	}
	wl = xcalloc(1, sizeof(*wl));
	wl->cat = cat;
	wl->fd = -1;
	wl->line = xmalloc(WATCH_LOG_MAX_LINE);
	catalog_index_build((struct catalog *)cat);
	if (!strcmp(spec, "journal") || !strncmp(spec, "journal:", 8)) {
		wl->journal = 1;
		if (spec[7] == ':') {
			if (!spec[8] || spec[8] == '-') {
				snprintf(err, errlen, "%s: a unit name must follow \"journal:\"", spec);
				goto out;
			}
			wl->unit = xstrdup(spec + 8);
		}
		rc = journal_spawn(wl, err, errlen);
	} else {
		wl->path = xstrdup(spec);
		rc = file_open(wl, 1, err, errlen);
	}
out:
	if (rc)
		watch_log_close(wl);
	else
		*out = wl;
	return rc;
}

int watch_log_poll(struct watch_log *wl, watch_signal_fn fn, void *arg,
		   char *err, size_t errlen)
{
	return wl->journal ? journal_poll(wl, fn, arg, err, errlen)
			   : file_poll(wl, fn, arg, err, errlen);
}

int watch_log_fd(const struct watch_log *wl)
{
	return wl->journal ? wl->fd : -1;
}

void watch_log_stats(const struct watch_log *wl, struct watch_signal_stats *st)
{
	*st = wl->st;
}

void watch_log_close(struct watch_log *wl)
{
	if (!wl)
		return;
	if (wl->journal)
		journal_reap(wl, 1);
	else if (wl->fd >= 0)
		close(wl->fd);
	free(wl->line);
	free(wl->path);
	free(wl->unit);
	free(wl);
}
