/*
 * daemon.c - privilege drop, pid file, blocked signals; see daemon.h.
 *
 * The order of the drop is Postfix's (chroot_uid.c): every step that
 * needs root (reading /etc/passwd, setgroups, chroot) comes before the
 * setgid that needs the old uid, and the setuid that ends them all.
 *
 * SECURITY: runs as root; operator input only (user, group, paths).  The
 * pid file is opened O_NOFOLLOW so a symbolic link in a writable
 * directory cannot make root truncate another file.
 */
#define _GNU_SOURCE
#include "base/daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pthread.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

struct daemon_pidfile {
	int fd;
	char path[];
};

/* "USER" or "USER:GROUP" to ids. */
static int resolve_user(const char *spec, uid_t *uid, gid_t *gid, char *err, size_t el)
{
	char name[256], *colon;
	struct passwd *pw;
	struct group *gr;

	if (strlen(spec) >= sizeof(name)) {
		snprintf(err, el, "user name too long");
		return -EINVAL;
	}
	strcpy(name, spec);
	colon = strchr(name, ':');
	if (colon)
		*colon++ = '\0';
	errno = 0;
	if (!(pw = getpwnam(name))) {
		snprintf(err, el, "unknown user '%s'", name);
		return -ENOENT;
	}
	*uid = pw->pw_uid;
	*gid = pw->pw_gid;
	if (colon) {
		if (!(gr = getgrnam(colon))) {
			snprintf(err, el, "unknown group '%s'", colon);
			return -ENOENT;
		}
		*gid = gr->gr_gid;
	}
	return 0;
}

/* The drop stuck: ids are the target's and root cannot come back. */
static int verify(uid_t uid, gid_t gid, char *err, size_t el)
{
	gid_t groups[2];
	int n = getgroups(2, groups);

	if (getuid() != uid || geteuid() != uid || getgid() != gid || getegid() != gid ||
	    n != 1 || groups[0] != gid) {
		snprintf(err, el, "the ids did not change as asked");
		return -EPERM;
	}
	if (uid != 0 && (setuid(0) == 0 || seteuid(0) == 0)) {
		snprintf(err, el, "root could be regained after the drop");
		return -EPERM;
	}
	return 0;
}

int daemon_drop_privileges(const char *user, const char *chroot_dir, const char *workdir,
			   char *err, size_t el)
{
	uid_t uid = 0;
	gid_t gid = 0;
	int rc;

	if (user && (rc = resolve_user(user, &uid, &gid, err, el)))
		return rc;
	/* already that user (systemd's User= with -u in the command line,
	 * setpriv): nothing to drop, and setgroups would need root */
	if (user && uid != 0 && geteuid() == uid && getuid() == uid && getegid() == gid &&
	    getgid() == gid)
		user = NULL;
	if (user && setgroups(1, &gid) != 0) {
		rc = -errno;
		snprintf(err, el, "setgroups: %s", strerror(errno));
		return rc;
	}
	if (chroot_dir && (chroot(chroot_dir) != 0 || chdir("/") != 0)) {
		rc = -errno;
		snprintf(err, el, "chroot %s: %s", chroot_dir, strerror(errno));
		return rc;
	}
	if (workdir && chdir(workdir) != 0) {
		rc = -errno;
		snprintf(err, el, "chdir %s: %s", workdir, strerror(errno));
		return rc;
	}
	if (!user)
		return 0;
	if (setgid(gid) != 0 || setuid(uid) != 0) {
		rc = -errno;
		snprintf(err, el, "cannot become %s: %s", user, strerror(errno));
		return rc;
	}
	return verify(uid, gid, err, el);
}

/* The pid in a pid file another process holds, or 0. */
static long read_pid(int fd)
{
	char buf[32];
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);

	if (n <= 0)
		return 0;
	buf[n] = '\0';
	return strtol(buf, NULL, 10);
}

struct daemon_pidfile *daemon_pidfile_create(const char *path, char *err, size_t el)
{
	struct daemon_pidfile *pf = NULL;
	char line[32];
	int fd, n;

	fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0) {
		snprintf(err, el, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		if (errno == EWOULDBLOCK)
			snprintf(err, el, "%s: already running, pid %ld", path, read_pid(fd));
		else
			snprintf(err, el, "%s: %s", path, strerror(errno));
		goto fail;
	}
	n = snprintf(line, sizeof(line), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) != 0 || pwrite(fd, line, (size_t)n, 0) != n) {
		snprintf(err, el, "%s: %s", path, strerror(errno));
		goto fail;
	}
	pf = malloc(sizeof(*pf) + strlen(path) + 1);
	if (!pf) {
		snprintf(err, el, "%s: %s", path, strerror(ENOMEM));
		goto fail;
	}
	pf->fd = fd;
	strcpy(pf->path, path);
	return pf;
fail:
	close(fd);
	return NULL;
}

void daemon_pidfile_remove(struct daemon_pidfile *pf)
{
	if (!pf)
		return;
	unlink(pf->path);
	close(pf->fd);
	free(pf);
}

int daemon_block_signals(const int *sigs, size_t n, sigset_t *set)
{
	sigset_t s;
	int rc;

	sigemptyset(&s);
	for (size_t i = 0; i < n; i++)
		if (sigaddset(&s, sigs[i]) != 0)
			return -EINVAL;
	if ((rc = pthread_sigmask(SIG_BLOCK, &s, NULL)) != 0)
		return -rc;
	signal(SIGPIPE, SIG_IGN);
	if (set)
		*set = s;
	return 0;
}
