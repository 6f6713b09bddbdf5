// SPDX-License-Identifier: GPL-2.0
/* cmd_helpers.c - running the iomapctl binary from the tests. */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "cmd_helpers.h"

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t len = 0;

	cr_assert_not_null(f, "open %s", path);
	/* An empty file leaves getdelim's buffer unterminated. */
	if (getdelim(&buf, &len, '\0', f) < 0) {
		free(buf);
		buf = strdup("");
	}
	fclose(f);
	return buf;
}

int tc_run(const char *dir, char **out, char **err, const char *fmt, ...)
{
	char *args, *errpath;
	va_list ap;
	int ret;

	va_start(ap, fmt);
	cr_assert(vasprintf(&args, fmt, ap) >= 0);
	va_end(ap);
	cr_assert(asprintf(&errpath, "%s/.stderr", dir) > 0);
	ret = t_sh_out(out, "cd '%s' && %s %s 2>'%s' </dev/null", dir,
		       IOMAPCTL_BINARY, args, errpath);
	if (err)
		*err = slurp(errpath);
	free(errpath);
	free(args);
	return ret;
}

int tc_json(const char *doc, const char *check)
{
	FILE *p;
	int status;

	/* Through the environment: @check may hold any quote. */
	cr_assert_eq(setenv("TC_JSON_CHECK", check, 1), 0);
	p = popen("python3 -c 'import json, os, sys\n"
		  "d = json.load(sys.stdin)\n"
		  "sys.exit(0 if eval(os.environ[\"TC_JSON_CHECK\"]) else 3)'",
		  "w");
	cr_assert_not_null(p);
	fputs(doc, p);
	status = pclose(p);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int tc_has_fiemap(const char *dir)
{
	return t_sh("cd '%s' && echo x > .fm && xfs_io -c 'fiemap' .fm "
		    ">/dev/null 2>&1 && xfs_io -c 'fiemap' .fm | grep -q '0:'",
		    dir) == 0;
}

int tc_mkimage(const char *dir)
{
	return t_sh("cd '%s' && mke2fs -q -F -t ext4 -d src img 16M "
		    ">/dev/null 2>&1", dir);
}

int tc_mkimage_stale_tail(const char *dir, const char *img)
{
	return t_sh(
		"cd '%s' && rm -rf tsrc && mkdir tsrc && xfs_io -f -c "
		"'pwrite -q -S 0xcd 0 4k' tsrc/tail && mke2fs -q -F -t ext4 "
		"-b 4096 -d tsrc '%s' 4M >/dev/null 2>&1 && debugfs -w -R "
		"'sif /tail size 1000' '%s' >/dev/null 2>&1",
		dir, img, img);
}

void tc_need_fuse(void)
{
	if (access("/dev/fuse", R_OK | W_OK))
		cr_skip_test("no usable /dev/fuse here: %s", strerror(errno));
	if (geteuid() != 0 && t_sh("command -v fusermount3 >/dev/null"))
		cr_skip_test("not root and no fusermount3: FUSE cannot mount");
	/* Mounting may still be refused (a container without the right to
	 * mount): another FUSE filesystem tells, never our own. */
	if (!t_sh("command -v fuse2fs >/dev/null") &&
	    t_sh("d=$(mktemp -d) && cd $d && mkdir m && "
		 "mke2fs -q -t ext2 img 1M && fuse2fs -o ro img m >/dev/null "
		 "2>&1 && umount m; r=$?; cd / && rm -rf $d; exit $r"))
		cr_skip_test("FUSE mounts are refused here (fuse2fs cannot "
			     "mount either)");
}

char *tc_mount_log(const struct tc_mount *m)
{
	char *path, *log;

	cr_assert(asprintf(&path, "%s/mount.log", m->dir) > 0);
	log = slurp(path);
	free(path);
	return log;
}

void tc_mount(struct tc_mount *m, const char *dir, const char *gopts,
	      const char *opts)
{
	char *err = NULL, *at;
	int ret;

	memset(m, 0, sizeof(*m));
	snprintf(m->dir, sizeof(m->dir), "%s", dir);
	snprintf(m->mnt, sizeof(m->mnt), "%s/m", dir);
	cr_assert_eq(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
	cr_assert_eq(t_sh("mkdir -p '%s'", m->mnt), 0);
	/* The daemon keeps stderr (not a terminal): mount.log has its
	 * errors until it exits. */
	ret = t_sh("cd '%s' && %s %s -v mount %s img m 2>mount.log </dev/null",
		   dir, IOMAPCTL_BINARY, gopts, opts);
	err = tc_mount_log(m);
	cr_assert_eq(ret, 0, "iomapctl mount failed: %s", err);
	at = strstr(err, "daemon pid ");
	cr_assert_not_null(at, "no daemon pid in: %s", err);
	m->pid = (pid_t)atoi(at + strlen("daemon pid "));
	free(err);
	cr_assert_gt(m->pid, 0);
	cr_assert_eq(t_sh("grep -q ' %s fuse.iomapctl ' /proc/self/mounts",
			  m->mnt),
		     0, "%s is not mounted", m->mnt);
}

/* The daemon's exit status within @ms milliseconds, else -1. */
static int tc_reap(pid_t pid, int ms)
{
	int status;

	for (int t = 0; t < ms; t += 10) {
		pid_t r = waitpid(pid, &status, WNOHANG);

		if (r == pid)
			return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
		if (r < 0)
			return -1;
		usleep(10000);
	}
	return -2;
}

int tc_umount(struct tc_mount *m)
{
	int ret, tries;

	if (!m->pid)
		return 0;
	/* A file the failed test left open keeps the mount busy a while. */
	for (tries = 0; umount2(m->mnt, 0) && errno == EBUSY && tries < 50;
	     tries++)
		usleep(100000);
	if (tries == 50)
		umount2(m->mnt, MNT_DETACH);
	ret = tc_reap(m->pid, 60000);
	if (ret == -2) {
		kill(m->pid, SIGKILL);
		tc_reap(m->pid, 10000);
		umount2(m->mnt, MNT_DETACH);
		ret = -1;
	}
	m->pid = 0;
	if (ret) {
		char *log = tc_mount_log(m);

		fprintf(stderr, "the daemon exited with %d: %s\n", ret, log);
		free(log);
	}
	return ret;
}

void tc_mount_fini(struct tc_mount *m, char *dir)
{
	tc_umount(m);
	if (!dir)
		return;
	t_sh("umount '%s/k' 2>/dev/null", dir);
	t_tmpdir_remove(dir);
}

int tc_count_fds(pid_t pid)
{
	char path[64];
	struct dirent *de;
	DIR *d;
	int n = 0;

	if (pid)
		snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	else
		snprintf(path, sizeof(path), "/proc/self/fd");
	d = opendir(path);
	cr_assert_not_null(d, "%s", path);
	while ((de = readdir(d)))
		n += de->d_name[0] != '.';
	closedir(d);
	/* In /proc/self, opendir's own descriptor was counted too. */
	return pid ? n : n - 1;
}
