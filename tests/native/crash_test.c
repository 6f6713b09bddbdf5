// SPDX-License-Identifier: GPL-2.0
/*
 * crash_test.c - iomapctl SIGKILLed at random moments while a series of
 * commands (copies, writes, truncates, preallocation, punches) changes a
 * native image.  After every kill the image is clean for fsck without any
 * repair (the journal either has a transaction's commit record or not),
 * every copy that finished before the kill reads back intact, and the
 * file the other commands change holds the state after the last finished
 * command or after the one in flight.  A shell session is killed the
 * same way: what it synced before the kill is intact.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "native_util.h"

#define KILLS 5
#define NSTEPS 10

static char *dir;

/* Step k (1-based): the iomapctl command, and what it does to host copies
 * (exp/g is the shared file, exp/f<k> a copy). */
static void step(int k, char *cmd, char *host, size_t size)
{
	long off = (k * 70001L) % 300000, len = 5000 + (k * 9973L) % 90000;

	switch (k % 5) {
	case 0:
		snprintf(cmd, size, "cp src/s%d img:/f%d", k, k);
		snprintf(host, size, "cp src/s%d exp/f%d", k, k);
		break;
	case 1:
		snprintf(cmd, size, "write --from src/s%d img:/g %ld", k, off);
		snprintf(host, size,
			 "dd if=src/s%d of=exp/g bs=1 seek=%ld "
			 "conv=notrunc status=none",
			 k, off);
		break;
	case 2:
		snprintf(cmd, size, "truncate img:/g %ld", off + len);
		snprintf(host, size, "truncate -s %ld exp/g", off + len);
		break;
	case 3:
		snprintf(cmd, size, "punch img:/g %ld %ld", off, len);
		snprintf(host, size, "fallocate -p -o %ld -l %ld exp/g", off,
			 len);
		break;
	default:
		snprintf(cmd, size, "falloc img:/g %ld %ld", off, len * 3);
		snprintf(host, size, "fallocate -o %ld -l %ld exp/g", off,
			 len * 3);
		break;
	}
}

static void setup(void)
{
	char cmd[256], host[256];

	dir = t_memdir();
	cr_assert_eq(t_sh("cd %s && mkdir -p src exp snap && "
			  "for i in $(seq 1 %d); do head -c $((i * 23011 + "
			  "(i * i * 911) %% 50000)) /dev/urandom >src/s$i; "
			  "done && touch exp/g && cp exp/g snap/g0",
			  dir, NSTEPS),
		     0);
	for (int k = 1; k <= NSTEPS; k++) {
		step(k, cmd, host, sizeof(cmd));
		cr_assert_eq(t_sh("cd %s && %s && cp exp/g snap/g%d", dir, host,
				  k),
			     0, "%s", host);
	}
	free(tn_mkfs(dir, "pristine", 32 << 20, 1024));
	/* /g exists from the start, so every state of it is a file. */
	cr_assert_eq(t_sh("cd %s && %s -q cp snap/g0 pristine:/g", dir,
			  IOMAPCTL_BINARY),
		     0);
}

static void teardown(void)
{
	t_tmpdir_remove(dir);
}

TestSuite(crash, .init = setup, .fini = teardown, .timeout = 600);

/* The steps as one script, each logged once its command returned. */
static char *script(void)
{
	char *s = NULL, cmd[256], host[256];
	size_t len = 0;
	FILE *f = open_memstream(&s, &len);

	fprintf(f, "cd %s", dir);
	for (int k = 1; k <= NSTEPS; k++) {
		step(k, cmd, host, sizeof(cmd));
		fprintf(f, " && %s -q %s && echo %d >>done.log",
			IOMAPCTL_BINARY, cmd, k);
	}
	fclose(f);
	return s;
}

/*
 * The steps done.log counts after kill @kill_no (-1: the run was not
 * killed, and did all @total), once our fsck calls the image clean
 * without repair.
 */
static int done_and_clean(int kill_no, int total)
{
	int done = tn_done_steps(dir);
	char *out;

	if (kill_no < 0)
		cr_assert_eq(done, total, "the full run stopped at step %d",
			     done);
	cr_assert_eq(t_sh_out(&out, "cd %s && %s fsck img 2>&1", dir,
			      IOMAPCTL_BINARY),
		     0, "kill %d after step %d: fsck:\n%s", kill_no, done, out);
	free(out);
	return done;
}

static void check_after_kill(int kill_no)
{
	int done = done_and_clean(kill_no, NSTEPS);

	cr_assert_eq(t_sh("cd %s && rm -rf out && %s -q cp -r img:/ out", dir,
			  IOMAPCTL_BINARY),
		     0);
	for (int k = 5; k <= done; k += 5)
		cr_assert_eq(t_sh("cmp -s %s/out/f%d %s/src/s%d", dir, k, dir,
				  k),
			     0, "kill %d: copy f%d lost", kill_no, k);
	cr_assert(t_sh("cmp -s %s/out/g %s/snap/g%d", dir, dir, done) == 0 ||
			  (done < NSTEPS && t_sh("cmp -s %s/out/g %s/snap/g%d",
						 dir, dir, done + 1) == 0),
		  "kill %d: /g is neither the state after step %d nor %d",
		  kill_no, done, done + 1);
}

Test(crash, sigkill_at_random_moments)
{
	char *s = script();

	tn_kill_series(dir, s, KILLS, 29, check_after_kill);
	free(s);
}

#define SHELL_WRITES 8

/*
 * One shell session: each file's write stays in the shell's cache until
 * the sync after it, and the stat after the sync marks it durable (the
 * awk counts the marks into done.log).  A write to /g left cached each
 * time is in flight at any kill too.
 */
static char *shell_script(void)
{
	char *s = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&s, &len);

	fprintf(f, "cd %s && %s shell", dir, IOMAPCTL_BINARY);
	for (int k = 1; k <= SHELL_WRITES; k++)
		fprintf(f,
			" -c 'write --pattern %d --length %d /w%d 0' -c sync "
			"-c 'stat /w%d' -c 'write --pattern %d --length 30000 "
			"/g %d'",
			k, k * 50000, k, k, 100 + k, k * 7000);
	fprintf(f, " img | awk '/^  File: \\/w/ { print ++n >\"done.log\"; "
		   "fflush(\"done.log\") }'");
	fclose(f);
	return s;
}

static void check_shell_after_kill(int kill_no)
{
	int done = done_and_clean(kill_no, SHELL_WRITES);

	for (int k = 1; k <= done; k++)
		cr_assert_eq(t_sh("cd %s && head -c %d /dev/zero | tr '\\0' "
				  "'\\%03o' >want && %s cat img:/w%d | "
				  "cmp -s - want",
				  dir, k * 50000, k, IOMAPCTL_BINARY, k),
			     0, "kill %d: /w%d synced before it is not intact",
			     kill_no, k);
}

Test(crash, sigkill_in_a_shell_keeps_what_was_synced)
{
	char *s = shell_script();

	tn_kill_series(dir, s, 4, 31, check_shell_after_kill);
	free(s);
}
