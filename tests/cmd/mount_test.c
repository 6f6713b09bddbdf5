// SPDX-License-Identifier: GPL-2.0
/* mount_test.c - `iomapctl mount`: metadata operations through the kernel,
 * their errnos, read-only mounts, damaged files and concurrent requests;
 * every image e2fsck -fn clean after unmount and checked with debugfs or
 * a kernel read-only loop mount. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "cmd_helpers.h"

static char *dir;
static struct tc_mount mnt;

static void setup(void)
{
	tc_need_fuse();
	dir = t_tmpdir();
	cr_assert_eq(t_sh("cd '%s' && mkdir -p src/d src/full && "
			  "echo hello > src/a && "
			  "for i in 1 2 3; do echo $i > src/full/$i; done",
			  dir),
		     0);
}

static void teardown(void)
{
	tc_mount_fini(&mnt, dir);
}

TestSuite(mount, .init = setup, .fini = teardown, .timeout = 300);

/* @dir/m/@rel, in a static buffer (one at a time). */
static const char *at(const char *rel)
{
	static char buf[2][1024];
	static int i;

	i ^= 1;
	snprintf(buf[i], sizeof(buf[i]), "%s/m/%s", dir, rel);
	return buf[i];
}

static void put(const char *rel, const char *text)
{
	int fd = open(at(rel), O_WRONLY | O_CREAT | O_TRUNC, 0644);

	cr_assert_geq(fd, 0, "create %s: %s", rel, strerror(errno));
	cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	cr_assert_eq(close(fd), 0);
}

/* The daemon exits 0 and the image is clean. */
static void umount_clean(void)
{
	char *out = NULL;

	cr_assert_eq(tc_umount(&mnt), 0, "the daemon did not exit cleanly");
	cr_assert_eq(t_sh_out(&out, "e2fsck -fn '%s/img' 2>&1", dir), 0,
		     "e2fsck -fn after unmount:\n%s", out);
	free(out);
}

#define EXPECT_ERRNO(call, err)                                          \
	do {                                                             \
		errno = 0;                                               \
		cr_expect_eq((call), -1, #call " succeeded");           \
		cr_expect_eq(errno, (err), #call ": %s", strerror(errno)); \
	} while (0)

static void metadata_ops(void)
{
	struct timespec ts[2] = { { 1000000000, 5 }, { 1200000000, 7 } };
	struct statvfs sv;
	struct stat st;
	char buf[256];

	put("new", "data\n");
	cr_assert_eq(mkdir(at("dir"), 0750), 0);
	cr_assert_eq(rename(at("new"), at("dir/moved")), 0);
	cr_assert_eq(rename(at("d"), at("dir/sub")), 0);
	cr_assert_eq(link(at("dir/moved"), at("hard")), 0);
	cr_assert_eq(symlink("dir/moved", at("sym")), 0);
	cr_assert_eq(readlink(at("sym"), buf, sizeof(buf)), 9);
	cr_assert_eq(chmod(at("hard"), 0600), 0);
	cr_assert_eq(chown(at("hard"), 1234, 5678), 0);
	cr_assert_eq(setxattr(at("a"), "user.k", "v1", 2, XATTR_CREATE), 0);
	EXPECT_ERRNO(setxattr(at("a"), "user.k", "v2", 2, XATTR_CREATE),
		     EEXIST);
	EXPECT_ERRNO(setxattr(at("a"), "user.none", "v", 1, XATTR_REPLACE),
		     ENODATA);
	cr_assert_eq(setxattr(at("a"), "user.gone", "x", 1, 0), 0);
	cr_assert_eq(removexattr(at("a"), "user.gone"), 0);
	cr_expect_eq(getxattr(at("a"), "user.k", buf, sizeof(buf)), 2);
	cr_expect_eq(listxattr(at("a"), buf, sizeof(buf)), 7); /* "user.k" */
	EXPECT_ERRNO(getxattr(at("a"), "user.gone", buf, sizeof(buf)), ENODATA);
	cr_assert_eq(truncate(at("a"), 3), 0);
	cr_assert_eq(utimensat(AT_FDCWD, at("a"), ts, 0), 0);
	cr_assert_eq(unlink(at("full/1")), 0);
	cr_assert_eq(rename(at("full/2"), at("full/3")), 0);
	cr_assert_eq(mkdir(at("empty"), 0700), 0);
	cr_assert_eq(rmdir(at("empty")), 0);

	EXPECT_ERRNO(rmdir(at("full")), ENOTEMPTY);
	EXPECT_ERRNO(mkdir(at("dir"), 0700), EEXIST);
	EXPECT_ERRNO(unlink(at("dir")), EISDIR);
	EXPECT_ERRNO(rmdir(at("a")), ENOTDIR);
	EXPECT_ERRNO(open(at("nope/x"), O_RDONLY), ENOENT);
	EXPECT_ERRNO(rename(at("dir"), at("dir/sub/in")), EINVAL);
	EXPECT_ERRNO(link(at("dir"), at("dirlink")), EPERM);

	cr_assert_eq(stat(at("hard"), &st), 0);
	cr_expect_eq(st.st_nlink, 2);
	cr_expect_eq(st.st_mode & 07777, 0600);
	cr_expect_eq(st.st_uid, 1234);
	cr_expect_eq(st.st_gid, 5678);
	cr_assert_eq(stat(at("a"), &st), 0);
	cr_expect_eq(st.st_size, 3);
	cr_expect_eq(st.st_mtim.tv_sec, 1200000000);
	cr_assert_eq(statvfs(at(""), &sv), 0);
	cr_expect_eq(sv.f_bsize, 1024);
	cr_expect_gt(sv.f_bfree, 0);
	cr_expect_gt(sv.f_ffree, 0);
}

/* Every metadata operation through the kernel, then the same tree as
 * debugfs and the kernel's ext4 see it. */
Test(mount, metadata_ops)
{
	char *out = NULL;

	cr_assert_eq(tc_mkimage(dir), 0);
	tc_mount(&mnt, dir, "", "");
	metadata_ops();
	umount_clean();
	cr_assert_eq(t_sh_out(&out, "debugfs -R 'ea_get /a user.k' '%s/img' "
				    "2>/dev/null",
			      dir),
		     0);
	cr_expect(strstr(out, "v1") != NULL, "debugfs ea_get: %s", out);
	free(out);
	if (!t_can_loop_mount())
		return; /* debugfs and e2fsck checked the rest */
	cr_assert_eq(t_sh_out(&out, "cd '%s' && mkdir k && mount -o loop,ro img k "
				    "&& (cd k && stat -c '%%n %%h %%a %%u %%g %%s' "
				    "a hard dir/moved dir/sub full/3 && "
				    "readlink sym && cat full/3 a && ls full); "
				    "umount k",
			      dir),
		     0);
	cr_expect_str_eq(out, "a 1 644 0 0 3\nhard 2 600 1234 5678 5\n"
			      "dir/moved 2 600 1234 5678 5\n"
			      "dir/sub 2 755 0 0 1024\nfull/3 1 644 0 0 2\n"
			      "dir/moved\n2\nhel3\n");
	free(out);
}

/* -o ro: mutations fail with EROFS and the image keeps every byte. */
Test(mount, read_only)
{
	char buf[16];
	int fd;

	cr_assert_eq(tc_mkimage(dir), 0);
	cr_assert_eq(t_sh("cd '%s' && md5sum < img > img.md5", dir), 0);
	tc_mount(&mnt, dir, "", "-o ro");
	fd = open(at("a"), O_RDONLY);
	cr_assert_geq(fd, 0);
	cr_expect_eq(read(fd, buf, sizeof(buf)), 6);
	close(fd);
	EXPECT_ERRNO(open(at("a"), O_WRONLY), EROFS);
	EXPECT_ERRNO(mkdir(at("x"), 0700), EROFS);
	EXPECT_ERRNO(unlink(at("a")), EROFS);
	cr_assert_eq(tc_umount(&mnt), 0);
	cr_expect_eq(t_sh("cd '%s' && md5sum < img | cmp -s - img.md5", dir),
		     0, "a read-only mount changed the image");
}

/* Bad images and arguments: a clear error, no daemon left behind. */
Test(mount, refuses_bad_arguments)
{
	char *err = NULL;

	cr_assert_eq(t_sh("cd '%s' && mkdir m && head -c 1M /dev/zero > img",
			  dir),
		     0);
	cr_expect_eq(tc_run(dir, NULL, &err, "mount img m"), 1);
	cr_expect(strstr(err, "iomapctl: mount: ") != NULL, "%s", err);
	free(err);
	cr_expect_eq(tc_run(dir, NULL, &err, "mount nope m"), 1);
	cr_expect(strstr(err, "No such file") != NULL, "%s", err);
	free(err);
	cr_expect_eq(tc_run(dir, NULL, &err, "mount img"), 2);
	free(err);
	cr_expect_eq(t_sh("grep -q ' %s/m ' /proc/self/mounts", dir), 1);
}

/*
 * A file whose extent header is broken reads as EUCLEAN (or EIO), and the
 * daemon goes on serving the others and exits cleanly.
 */
Test(mount, damaged_file_is_an_error_not_a_crash)
{
	char buf[4096];
	int fd;

	cr_assert_eq(tc_mkimage(dir), 0);
	cr_assert_eq(t_sh("cd '%s' && head -c 3000 /dev/zero > big && "
			  "debugfs -w -R 'write big bad' img >/dev/null 2>&1 && "
			  "debugfs -w -R 'sif bad block[0] 0' img >/dev/null "
			  "2>&1",
			  dir),
		     0);
	tc_mount(&mnt, dir, "", "");
	fd = open(at("bad"), O_RDONLY);
	if (fd >= 0) {
		errno = 0;
		cr_expect_eq(read(fd, buf, sizeof(buf)), -1);
		cr_expect(errno == EUCLEAN || errno == EIO, "read: %s",
			  strerror(errno));
		close(fd);
	} else {
		cr_expect(errno == EUCLEAN || errno == EIO, "open: %s",
			  strerror(errno));
	}
	fd = open(at("a"), O_RDONLY);
	cr_assert_geq(fd, 0, "the daemon stopped serving");
	cr_expect_eq(read(fd, buf, sizeof(buf)), 6);
	close(fd);
	cr_expect_eq(tc_umount(&mnt), 0);
}

#define THREADS 4
#define THREAD_BYTES (2U << 20)

struct worker {
	int id;
	int err;
};

/* Each thread writes its own file in 64 KiB pieces and reads it back. */
static void *worker_run(void *arg)
{
	struct worker *w = arg;
	char name[64], *buf = malloc(65536), *got = malloc(65536);
	int fd;

	snprintf(name, sizeof(name), "%s/m/t%d", dir, w->id);
	fd = open(name, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || !buf || !got) {
		w->err = errno ? errno : ENOMEM;
		goto out;
	}
	for (unsigned int off = 0; off < THREAD_BYTES && !w->err;
	     off += 65536) {
		memset(buf, 'a' + w->id + (int)(off >> 16) % 7, 65536);
		if (pwrite(fd, buf, 65536, off) != 65536)
			w->err = errno ? errno : EIO;
	}
	for (unsigned int off = 0; off < THREAD_BYTES && !w->err;
	     off += 65536) {
		memset(buf, 'a' + w->id + (int)(off >> 16) % 7, 65536);
		if (pread(fd, got, 65536, off) != 65536 ||
		    memcmp(buf, got, 65536))
			w->err = EILSEQ;
	}
	if (fsync(fd))
		w->err = errno;
	close(fd);
out:
	free(buf);
	free(got);
	return NULL;
}

/* Several threads of requests at once: every byte lands, image clean. */
Test(mount, concurrent_writers)
{
	pthread_t t[THREADS];
	struct worker w[THREADS];
	char *out = NULL;

	cr_assert_eq(t_sh("cd '%s' && mke2fs -q -F -t ext4 -d src img 64M",
			  dir),
		     0);
	tc_mount(&mnt, dir, "", "");
	for (int i = 0; i < THREADS; i++) {
		w[i] = (struct worker){ .id = i };
		cr_assert_eq(pthread_create(&t[i], NULL, worker_run, &w[i]), 0);
	}
	for (int i = 0; i < THREADS; i++) {
		pthread_join(t[i], NULL);
		cr_expect_eq(w[i].err, 0, "thread %d: %s", i,
			     strerror(w[i].err));
	}
	umount_clean();
	cr_assert_eq(t_sh_out(&out, "cd '%s' && for i in 0 1 2 3; do "
				    "debugfs -R \"cat /t$i\" img 2>/dev/null | "
				    "md5sum; done | sort -u | wc -l",
			      dir),
		     0);
	cr_expect_eq(atoi(out), THREADS, "files differ in content: %s", out);
	free(out);
}

/* -f serves in the foreground; SIGTERM unmounts, writes back, exits 0. */
Test(mount, foreground_until_sigterm)
{
	char *out = NULL;
	int status, i, fd;
	pid_t pid;

	cr_assert_eq(tc_mkimage(dir), 0);
	cr_assert_eq(t_sh("mkdir -p '%s/m'", dir), 0);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		if (chdir(dir) == 0)
			execl(IOMAPCTL_BINARY, "iomapctl", "mount", "-f", "img",
			      "m", (char *)NULL);
		_exit(127);
	}
	for (i = 0; i < 200 && t_sh("grep -q ' %s/m fuse' /proc/self/mounts",
				    dir);
	     i++)
		usleep(50000);
	if (i == 200) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		cr_assert_fail("the foreground mount never appeared");
	}
	put("fg", "foreground\n");
	/* Unlinked while open: libfuse hides it until the release, which
	 * never comes; the unmount must remove the hidden name too. */
	put("gone", "x");
	fd = open(at("gone"), O_RDWR);
	cr_assert_geq(fd, 0);
	cr_assert_eq(unlink(at("gone")), 0);
	cr_assert_eq(pwrite(fd, "still open", 10, 0), 10);
	cr_assert_eq(kill(pid, SIGTERM), 0);
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		  "iomapctl mount -f: status %#x", status);
	close(fd);
	cr_expect_eq(t_sh("grep -q ' %s/m ' /proc/self/mounts", dir), 1,
		     "still mounted after SIGTERM");
	cr_assert_eq(t_sh("e2fsck -fn '%s/img' >/dev/null 2>&1", dir), 0);
	cr_assert_eq(t_sh_out(&out, "debugfs -R 'cat /fg' '%s/img' 2>/dev/null",
			      dir),
		     0);
	cr_expect_str_eq(out, "foreground\n");
	free(out);
	cr_assert_eq(t_sh_out(&out, "debugfs -R 'ls' '%s/img' 2>/dev/null",
			      dir),
		     0);
	cr_expect(!strstr(out, ".fuse_hidden") && !strstr(out, "gone"),
		  "a name of the unlinked file is left: %s", out);
	free(out);
}
