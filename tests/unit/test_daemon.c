/*
 * test_daemon.c - the privilege drop leaves the process as the user with
 * its one group and no way back to root (run as root, in a forked child);
 * the pid file holds our pid, refuses a second instance and a symbolic
 * link, and goes away at the end.
 */
#include "unit.h"
#include "base/daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* Run fn in a child; its report (one line, "ok" when all held) comes
 * back through a pipe. */
static const char *in_child(void (*fn)(int out))
{
	static char buf[512];
	int p[2], st;
	ssize_t n;
	pid_t pid;

	if (pipe(p) != 0)
		return "pipe";
	pid = fork();
	if (pid == 0) {
		close(p[0]);
		fn(p[1]);
		_exit(0);
	}
	close(p[1]);
	n = read(p[0], buf, sizeof(buf) - 1);
	buf[n > 0 ? n : 0] = '\0';
	close(p[0]);
	waitpid(pid, &st, 0);
	return buf;
}

static void report(int out, const char *s)
{
	if (write(out, s, strlen(s)) < 0)
		_exit(1);
}

static void drop_to_nobody(int out)
{
	struct passwd *pw = getpwnam("nobody");
	char err[256] = "", line[512];
	gid_t groups[4];
	int rc, n;

	if (!pw)
		return report(out, "no user nobody");
	uid_t uid = pw->pw_uid;
	gid_t gid = pw->pw_gid;

	rc = daemon_drop_privileges("nobody", NULL, NULL, err, sizeof(err));
	n = getgroups(4, groups);
	if (rc || getuid() != uid || geteuid() != uid || getgid() != gid ||
	    getegid() != gid || n != 1 || groups[0] != gid) {
		snprintf(line, sizeof(line), "rc %d (%s) uid %d gid %d groups %d", rc, err,
			 (int)getuid(), (int)getgid(), n);
		return report(out, line);
	}
	if (setuid(0) == 0 || seteuid(0) == 0 || setgid(0) == 0)
		return report(out, "root came back");
	report(out, "ok");
}

static char chroot_dir[64];

static void drop_with_chroot(int out)
{
	char err[256] = "";
	int rc = daemon_drop_privileges("nobody", chroot_dir, "/sub", err, sizeof(err));
	char cwd[64] = "";

	if (rc)
		return report(out, err);
	if (access("/sub/marker", F_OK) != 0 || access("marker", F_OK) != 0)
		return report(out, "not inside the chroot");
	if (!getcwd(cwd, sizeof(cwd)) || strcmp(cwd, "/sub"))
		return report(out, "cwd is not /sub");
	report(out, "ok");
}

static void unknown_user(int out)
{
	char err[256] = "";
	int rc = daemon_drop_privileges("no-such-user-rblkit", NULL, NULL, err, sizeof(err));

	if (rc != -ENOENT || strcmp(err, "unknown user 'no-such-user-rblkit'") || getuid() != 0)
		return report(out, "unknown user accepted or ids changed");
	rc = daemon_drop_privileges("nobody:no-such-group-rblkit", NULL, NULL, err, sizeof(err));
	if (rc != -ENOENT || strcmp(err, "unknown group 'no-such-group-rblkit'") ||
	    getuid() != 0)
		return report(out, "unknown group accepted or ids changed");
	report(out, "ok");
}

static void user_and_group(int out)
{
	char err[256] = "";
	int rc = daemon_drop_privileges("nobody:root", NULL, NULL, err, sizeof(err));

	if (rc || getgid() != 0 || getuid() == 0)
		return report(out, err[0] ? err : "not nobody:root");
	report(out, "ok");
}

UNIT_TEST(drop_privileges)
{
	if (geteuid() != 0) {
		printf("  (not root: the privilege drop is not tested)\n");
		return;
	}
	CHECK_EQ_STR(in_child(drop_to_nobody), "ok");
	CHECK_EQ_STR(in_child(unknown_user), "ok");
	CHECK_EQ_STR(in_child(user_and_group), "ok");

	char path[128];

	snprintf(chroot_dir, sizeof(chroot_dir), "/tmp/rblkit-test-chroot.XXXXXX");
	CHECK(mkdtemp(chroot_dir) != NULL);
	chmod(chroot_dir, 0755);
	snprintf(path, sizeof(path), "%s/sub", chroot_dir);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/sub/marker", chroot_dir);
	fclose(fopen(path, "w"));
	CHECK_EQ_STR(in_child(drop_with_chroot), "ok");
	unlink(path);
	snprintf(path, sizeof(path), "%s/sub", chroot_dir);
	rmdir(path);
	rmdir(chroot_dir);
}

static char pid_path[64];

static void second_instance(int out)
{
	char err[256] = "";
	struct daemon_pidfile *pf = daemon_pidfile_create(pid_path, err, sizeof(err));

	report(out, pf ? "created" : err);
}

UNIT_TEST(pidfile)
{
	char err[256] = "", want[128], buf[32] = "", link_path[80];
	struct daemon_pidfile *pf;
	FILE *f;

	snprintf(pid_path, sizeof(pid_path), "/tmp/rblkit-test-pid.%d", (int)getpid());
	f = fopen(pid_path, "w");       /* a stale file from a crash */
	fputs("99999999\n", f);
	fclose(f);
	pf = daemon_pidfile_create(pid_path, err, sizeof(err));
	CHECK(pf != NULL);
	f = fopen(pid_path, "r");
	CHECK(f && fgets(buf, sizeof(buf), f));
	if (f)
		fclose(f);
	snprintf(want, sizeof(want), "%ld\n", (long)getpid());
	CHECK_EQ_STR(buf, want);
	snprintf(want, sizeof(want), "%s: already running, pid %ld", pid_path, (long)getpid());
	CHECK_EQ_STR(in_child(second_instance), want);
	daemon_pidfile_remove(pf);
	CHECK(access(pid_path, F_OK) != 0);
	daemon_pidfile_remove(NULL);

	/* a symbolic link is not followed */
	snprintf(link_path, sizeof(link_path), "%s.link", pid_path);
	f = fopen(pid_path, "w");
	fputs("precious\n", f);
	fclose(f);
	CHECK(symlink(pid_path, link_path) == 0);
	CHECK(daemon_pidfile_create(link_path, err, sizeof(err)) == NULL);
	f = fopen(pid_path, "r");
	CHECK(f && fgets(buf, sizeof(buf), f) && !strcmp(buf, "precious\n"));
	if (f)
		fclose(f);
	unlink(link_path);
	unlink(pid_path);
}

UNIT_TEST(block_signals)
{
	static const int sigs[] = { SIGHUP, SIGUSR1 };
	sigset_t set, cur;

	CHECK(daemon_block_signals(sigs, 2, &set) == 0);
	CHECK(sigismember(&set, SIGHUP) == 1 && sigismember(&set, SIGUSR1) == 1 &&
	      sigismember(&set, SIGTERM) == 0);
	sigprocmask(SIG_BLOCK, NULL, &cur);
	CHECK(sigismember(&cur, SIGHUP) == 1 && sigismember(&cur, SIGUSR1) == 1);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	int bad[] = { 0 };
	CHECK(daemon_block_signals(bad, 1, NULL) == -EINVAL);
}

UNIT_MAIN()
