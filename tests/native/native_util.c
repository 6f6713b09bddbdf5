// SPDX-License-Identifier: GPL-2.0
/* native_util.c - helpers of the native format tests. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "native_util.h"

char *tn_mkfs(const char *dir, const char *name, uint64_t size, unsigned int bs)
{
	struct fsa_native_mkfs_opts o = { .size = size,
					  .block_size = bs,
					  .label = "test" };
	char *path;
	int ret;

	for (int i = 0; i < 16; i++)
		o.uuid[i] = (uint8_t)(0x10 + i);
	cr_assert(asprintf(&path, "%s/%s", dir, name) > 0);
	ret = fsa_native_mkfs(path, &o);
	cr_assert_eq(ret, 0, "mkfs %s: %d", path, ret);
	return path;
}

struct fsa_native_fs *tn_open(const char *path, bool rdwr)
{
	struct fsa_native_fs *nfs;
	int ret =
		fsa_native_fs_open(path, rdwr ? FSA_OPEN_RDWR : 0, NULL, &nfs);

	cr_assert_eq(ret, 0, "open %s: %d", path, ret);
	return nfs;
}

void tn_close(struct fsa_native_fs *nfs)
{
	int ret = fsa_native_ops.close(&nfs->base);

	cr_assert_eq(ret, 0, "close: %d", ret);
}

static void print_problem(void *priv, const char *msg)
{
	(void)priv;
	fprintf(stderr, "check: %s\n", msg);
}

int tn_check_flags(struct fsa_native_fs *nfs, unsigned int flags)
{
	static const struct fsa_native_check_ops ops = { print_problem, NULL };
	int ret = fsa_native_check(nfs, flags, &ops, NULL);

	cr_assert_geq(ret, 0, "check failed: %d", ret);
	return ret;
}

int tn_check(struct fsa_native_fs *nfs)
{
	return tn_check_flags(nfs, 0);
}

void tn_assert_clean(const char *path)
{
	struct fsa_native_fs *nfs = tn_open(path, false);

	cr_assert_eq(tn_check(nfs), 0, "%s is not clean", path);
	tn_close(nfs);
}

uint64_t tn_count_records(struct fsa_native_fs *nfs, unsigned int tree)
{
	struct fsa_native_key k = { { 0, 0 } };
	struct fsa_native_cursor c;
	uint64_t n = 0;
	int ret;

	for (ret = fsa_native_bt_seek(&c, nfs, tree, &k); ret == 1;
	     ret = fsa_native_bt_next(&c))
		n++;
	cr_assert_eq(ret, 0);
	return n;
}

void tn_add_refcounts(struct fsa_native_fs *nfs, uint64_t n, uint64_t stride)
{
	struct fsa_native_refcount v = { 1, 0, 2 };

	for (uint64_t i = 0; i < n; i++) {
		struct fsa_native_key k = { { i * stride, 0 } };

		cr_assert_eq(fsa_native_bt_insert(nfs, FSA_NATIVE_T_REFCOUNT,
						  &k, &v),
			     0);
	}
}

char *tn_crash_copy(const char *dir, const char *img,
		    void (*change)(struct fsa_native_fs *nfs))
{
	struct fsa_native_fs *nfs;
	char *crash;

	cr_assert(asprintf(&crash, "%s/crash", dir) > 0);
	cr_assert_eq(t_sh("cp --sparse=always '%s' '%s'", img, crash), 0);
	nfs = tn_open(img, true);
	change(nfs);
	tn_close(nfs);
	nfs = tn_open(img, false);
	cr_assert_eq(t_sh("dd if='%s' of='%s' bs=%u skip=1 seek=1 count=%llu "
			  "conv=notrunc status=none",
			  img, crash, nfs->block_size,
			  (unsigned long long)nfs->sb.journal_blocks),
		     0);
	tn_close(nfs);
	return crash;
}

bool tn_run_and_kill(const char *s, long us)
{
	pid_t pid = fork();
	int status;

	cr_assert_geq(pid, 0);
	if (pid == 0) {
		setpgid(0, 0);
		execl("/bin/sh", "sh", "-c", s, (char *)NULL);
		_exit(127);
	}
	setpgid(pid, pid);
	usleep((useconds_t)us);
	kill(-pid, SIGKILL);
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	t_wait_group_gone(pid);
	return WIFSIGNALED(status);
}

int tn_done_steps(const char *dir)
{
	char path[512];
	FILE *f;
	int k = 0, v;

	snprintf(path, sizeof(path), "%s/done.log", dir);
	f = fopen(path, "r");
	while (f && fscanf(f, "%d", &v) == 1)
		k = v;
	if (f)
		fclose(f);
	return k;
}

void tn_kill_series(const char *dir, const char *script, int kills,
		    unsigned int seed, void (*check)(int kill_no))
{
	struct timespec a, b;
	unsigned int killed = 0;
	long full;

	cr_assert_eq(t_sh("cd %s && cp --sparse=always pristine img && "
			  "rm -f done.log",
			  dir),
		     0);
	clock_gettime(CLOCK_MONOTONIC, &a);
	cr_assert_eq(t_sh("%s", script), 0, "the steps fail without a kill");
	clock_gettime(CLOCK_MONOTONIC, &b);
	full = (b.tv_sec - a.tv_sec) * 1000000L +
	       (b.tv_nsec - a.tv_nsec) / 1000;
	check(-1);
	for (int k = 0; k < kills; k++) {
		long at = (long)(rand_r(&seed) % (unsigned int)full);
		bool landed = false;

		/* A kill after the steps ended (a busy machine ran them
		 * faster than the timed run) tried nothing: again, earlier. */
		for (int tries = 0; !landed && tries < 8; tries++, at /= 2) {
			cr_assert_eq(t_sh("cd %s && rm -f img done.log && "
					  "cp --sparse=always pristine img",
					  dir),
				     0);
			landed = tn_run_and_kill(script, at);
		}
		killed += landed;
		check(k);
	}
	cr_expect_gt(killed, (unsigned int)kills / 2, "only %u kills landed",
		     killed);
}
