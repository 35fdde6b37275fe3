/*
 * signal_maildir.c - the bounce Maildir reader of watch/signal.h: each
 * message delivered to new/ is read with the diagnose engine (the one of
 * `rblkit diagnose`), gives a signal per recipient whose rejection names
 * a blocklist, and is then moved to cur/ ("name:2,"), so that a mail
 * client still shows it and no poll reads it twice.
 *
 * Order: signals first, then the move, so that a crash in between reads
 * a message again (a repeated signal) rather than losing it.  A message
 * that cannot be read (not a regular file, too big, not mail at all) is
 * counted and moved to cur/ as it is: kept for a human, never retried.
 *
 * SECURITY: untrusted input: bounce messages from anywhere, read with
 * the daemon's privileges; at most MAIL_MAX_SIZE bytes a message (files
 * are opened with O_NOFOLLOW and must be regular), at most WMD_BATCH
 * messages a poll; names come from readdir() and stay in dir.
 */
#include "watch/signal.h"
#include "watch/signal_int.h"

#include "base/util.h"
#include "dnsbl/catalog.h"
#include "mail/diagnose.h"
#include "mail/msg.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define WMD_BATCH 64		/* messages a poll at most */
#define WMD_NAME 256
#define WMD_STUCK 256		/* names that could not be moved, kept */

struct watch_maildir {
	const struct catalog *cat;
	char *dir;
	char *stuck[WMD_STUCK];	/* in new/ but could not be moved */
	size_t nstuck;
	struct watch_signal_stats st;
};

/* Read path (a regular file, at most MAIL_MAX_SIZE) into *buf (the
 * caller frees it).  0, or -1 with errno set. */
static int read_file(const char *path, char **buf, size_t *len)
{
	struct stat st;
	char *b = NULL;
	size_t got = 0;
	ssize_t n;
	int fd, rc = -1;

	*buf = NULL;
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0)
		goto out;
	if (!S_ISREG(st.st_mode) || st.st_size > (off_t)MAIL_MAX_SIZE) {
		errno = S_ISREG(st.st_mode) ? EFBIG : EINVAL;
		goto out;
	}
	b = xmalloc((size_t)st.st_size + 1);
	while (got < (size_t)st.st_size) {
		n = read(fd, b + got, (size_t)st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	b[got] = '\0';
	*buf = b;
	*len = got;
	b = NULL;
	rc = 0;
out:
	free(b);
	close(fd);
	return rc;
}

/* Signals of one message; -1 when it is not mail at all, -2 when it is
 * gone (a mail client took it meanwhile). */
static int read_message(struct watch_maildir *wm, const char *path,
			watch_signal_fn fn, void *arg)
{
	struct diag d;
	struct watch_signal s;
	const struct dsn_rcpt *r;
	const struct list *bl;
	char *text = NULL, why[256];
	size_t len = 0, i;
	int count = 0;

	memset(&d, 0, sizeof(d));
	if (read_file(path, &text, &len) < 0)
		return errno == ENOENT ? -2 : -1;
	if (diag_read(&d, text, len, wm->cat, why, sizeof(why)) < 0) {
		count = -1;
		goto out;
	}
	for (i = 0; i < d.dsn.n; i++) {
		r = &d.dsn.r[i];
		bl = d.x ? d.x[i].bl : NULL;
		if (!bl || bl->type != LT_BLOCK)
			continue;
		memset(&s, 0, sizeof(s));
		s.when = (int64_t)time(NULL);
		str_copy(s.source, sizeof(s.source), "bounce");
		wsig_clean(s.list_id, sizeof(s.list_id), bl->id, strlen(bl->id));
		if (bl->zone)
			wsig_clean(s.zone, sizeof(s.zone), bl->zone, strlen(bl->zone));
		wsig_clean(s.ip, sizeof(s.ip), d.judged_ip, strnlen(d.judged_ip, sizeof(d.judged_ip)));
		if (!s.ip[0])
			wsig_find_ip(r->diag, strnlen(r->diag, sizeof(r->diag)), s.ip, sizeof(s.ip));
		wsig_domain(r->recipient, strnlen(r->recipient, sizeof(r->recipient)),
			    s.rcpt_domain, sizeof(s.rcpt_domain));
		wsig_clean(s.relay, sizeof(s.relay), r->rhost, strnlen(r->rhost, sizeof(r->rhost)));
		wsig_clean(s.text, sizeof(s.text), r->diag, strnlen(r->diag, sizeof(r->diag)));
		wm->st.signals++;
		count++;
		fn(arg, &s);
	}
out:
	diag_free(&d);
	free(text);
	return count;
}

static int is_stuck(const struct watch_maildir *wm, const char *name)
{
	size_t i;

	for (i = 0; i < wm->nstuck; i++)
		if (!strcmp(wm->stuck[i], name))
			return 1;
	return 0;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Up to WMD_BATCH names of new/, sorted (Maildir names start with the
 * delivery time).  Returns how many, or -1 with err. */
static int list_new(struct watch_maildir *wm, char **names, char *err, size_t errlen)
{
	char path[4096];
	struct dirent *de;
	DIR *d;
	int n = 0;

	snprintf(path, sizeof(path), "%s/new", wm->dir);
	d = opendir(path);
	if (!d) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	while (n < WMD_BATCH && (de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' || strlen(de->d_name) >= WMD_NAME ||
		    is_stuck(wm, de->d_name))
			continue;
		names[n++] = xstrdup(de->d_name);
	}
	closedir(d);
	qsort(names, (size_t)n, sizeof(*names), cmp_names);
	return n;
}

int watch_maildir_poll(struct watch_maildir *wm, watch_signal_fn fn, void *arg,
		       char *err, size_t errlen)
{
	char *names[WMD_BATCH];
	char from[4096], to[4096];
	int n, i, r, count = 0, rc;

	n = list_new(wm, names, err, errlen);
	if (n < 0)
		return -1;
	rc = 0;
	for (i = 0; i < n; i++) {
		snprintf(from, sizeof(from), "%s/new/%s", wm->dir, names[i]);
		snprintf(to, sizeof(to), "%s/cur/%s%s", wm->dir, names[i],
			 strstr(names[i], ":2,") ? "" : ":2,");
		r = read_message(wm, from, fn, arg);
		if (r == -2)
			continue;
		wm->st.lines++;
		if (r < 0)
			wm->st.broken++;
		else
			count += r;
		if (rename(from, to) < 0 && errno != ENOENT) {
			/* never read it again: remember it */
			if (wm->nstuck < WMD_STUCK)
				wm->stuck[wm->nstuck++] = xstrdup(names[i]);
			if (!rc)
				snprintf(err, errlen, "%s: cannot move to cur/: %s",
					 from, strerror(errno));
			rc = -1;
		}
	}
	for (i = 0; i < n; i++)
		free(names[i]);
	return rc ? rc : count;
}

int watch_maildir_open(struct watch_maildir **out, const char *dir,
		       const struct catalog *cat, char *err, size_t errlen)
{
	static const char *const sub[] = { "new", "cur" };
	char path[4096];
	struct stat st;
	struct watch_maildir *wm;
	size_t i;

	*out = NULL;
	if (!dir || !*dir || !cat || strlen(dir) > 3000) {
		snprintf(err, errlen, "bounce Maildir: no (or too long a) directory given");
		return -1;
	}
	for (i = 0; i < ARRAY_SIZE(sub); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, sub[i]);
		if (stat(path, &st) < 0) {
			snprintf(err, errlen, "%s: not a Maildir: %s", path, strerror(errno));
			return -1;
		}
		if (!S_ISDIR(st.st_mode)) {
			snprintf(err, errlen, "%s: not a Maildir: not a directory", path);
			return -1;
		}
	}
	wm = xcalloc(1, sizeof(*wm));
	wm->cat = cat;
	wm->dir = xstrdup(dir);
	catalog_index_build((struct catalog *)cat);
	*out = wm;
	return 0;
}

int watch_maildir_fd(const struct watch_maildir *wm)
{
	return -1;
}

void watch_maildir_stats(const struct watch_maildir *wm, struct watch_signal_stats *st)
{
	*st = wm->st;
}

void watch_maildir_close(struct watch_maildir *wm)
{
	size_t i;

	if (!wm)
		return;
	for (i = 0; i < wm->nstuck; i++)
		free(wm->stuck[i]);
	free(wm->dir);
	free(wm);
}
