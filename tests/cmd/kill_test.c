// SPDX-License-Identifier: GPL-2.0
/*
 * kill_test.c - iomapctl killed with SIGKILL at random moments while it
 * writes into an ext4 image: one cp per file, a cp -r of a tree, and a
 * shell session of writes.  Afterwards `e2fsck -fy` repairs what the op in
 * flight left (a second e2fsck -fn finds nothing), every file whose copy
 * or write had finished before the kill reads back intact, and the files
 * that were in the image before are untouched.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "helpers.h"

#define KILLS 4 /* per scenario */
#define NFILES 8
#define NWRITES 12
#define FINISHED "  File: /w" /* stat's first line */

static char *dir;

static void setup(void)
{
	dir = t_memdir();
	/* Sources of many sizes; /keep was there before every run. */
	cr_assert_eq(t_sh("cd %s && mkdir -p src r/dst && "
			  "head -c 300000 /dev/urandom >r/keep && "
			  "for i in $(seq 1 %d); do "
			  "head -c $((i * 37000 + i * i * 911)) /dev/urandom "
			  ">src/f$i; done && "
			  "mke2fs -q -F -t ext4 -b 4096 -d r pristine 64M",
			  dir, NFILES),
		     0);
}

static void teardown(void)
{
	t_tmpdir_remove(dir);
}

TestSuite(kill, .init = setup, .fini = teardown, .timeout = 600);

/* How often @mark occurs in @path (a progress log), 0 while it is
 * missing. */
static int count(const char *path, const char *mark)
{
	char *text = NULL, *p;
	size_t len = 0;
	FILE *f = fopen(path, "r");
	int n = 0;

	if (!f)
		return 0;
	if (getdelim(&text, &len, '\0', f) > 0)
		for (p = text; (p = strstr(p, mark)); p++)
			n++;
	free(text);
	fclose(f);
	return n;
}

/*
 * Runs @script (sh) in its own process group; once @log holds @mark
 * @after times (so some work finished first, whatever the machine's
 * speed), waits @us more microseconds and SIGKILLs the group.  True when
 * the kill landed before the script ended.
 */
static bool run_and_kill(const char *script, const char *log, const char *mark,
			 int after, long us)
{
	pid_t pid = fork();
	int status;

	cr_assert_geq(pid, 0);
	if (pid == 0) {
		setpgid(0, 0);
		execl("/bin/sh", "sh", "-c", script, (char *)NULL);
		_exit(127);
	}
	setpgid(pid, pid);
	while (count(log, mark) < after && waitpid(pid, &status, WNOHANG) == 0)
		usleep(1000);
	usleep((useconds_t)us);
	kill(-pid, SIGKILL);
	if (waitpid(pid, &status, 0) != pid)
		return false; /* ended (and reaped) before the kill */
	t_wait_group_gone(pid);
	return WIFSIGNALED(status);
}

/* e2fsck -fy may fix (exit 1) but not fail; then -fn must be clean. */
static void repair(const char *what)
{
	char *out;
	int st = t_sh_out(&out, "e2fsck -fy %s/img 2>&1", dir);

	cr_assert(st == 0 || st == 1, "%s: e2fsck -fy exit %d:\n%s", what, st,
		  out);
	free(out);
	st = t_sh_out(&out, "e2fsck -fn %s/img 2>&1", dir);
	cr_assert_eq(st, 0, "%s: not clean after -fy:\n%s", what, out);
	free(out);
}

/*
 * The image's tree copied out to @dir/out by one iomapctl (each process
 * costs most of a second under ASan on a busy machine), /keep checked.
 */
static void extract(const char *what)
{
	cr_assert_eq(t_sh("cd %s && rm -rf out && %s cp -r img:/ out && "
			  "cmp -s out/keep r/keep",
			  dir, IOMAPCTL_BINARY),
		     0, "%s: the tree does not copy out, or /keep changed",
		     what);
}

/* @dir/out/@path holds exactly @dir/@host. */
static void check_same(const char *path, const char *host, const char *what)
{
	cr_assert_eq(t_sh("cd %s && cmp -s out/%s %s", dir, path, host), 0,
		     "%s: img:/%s differs from %s", what, path, host);
}

/* Microseconds to wait: seeded, spread over [0, @full_us]. */
static long moment(unsigned int *seed, long full_us)
{
	return (long)(rand_r(seed) % (unsigned int)(full_us + 1));
}

static long time_us(const char *script)
{
	struct timespec a, b;

	clock_gettime(CLOCK_MONOTONIC, &a);
	cr_assert_eq(t_sh("%s", script), 0, "%s", script);
	clock_gettime(CLOCK_MONOTONIC, &b);
	return (b.tv_sec - a.tv_sec) * 1000000L +
	       (b.tv_nsec - a.tv_nsec) / 1000;
}

/* @then in @dir, as a script. */
static char *in_dir(const char *then)
{
	char *s;

	cr_assert(asprintf(&s, "cd %s && %s", dir, then) > 0);
	return s;
}

/* Before each run, from here: a new image file (a new inode, whatever a
 * dead process still held) and no progress logs. */
static void fresh_image(void)
{
	cr_assert_eq(t_sh("cd %s && rm -f img done.log out.log && "
			  "cp --sparse=always pristine img",
			  dir),
		     0);
}

Test(kill, cp_per_file)
{
	char *body, *script;
	unsigned int seed = 13, killed = 0, checked = 0;
	long full;

	cr_assert(
		asprintf(&body,
			 "for i in $(seq 1 %d); do %s cp src/f$i img:/dst/f$i "
			 "&& echo $i >>done.log; done",
			 NFILES, IOMAPCTL_BINARY) > 0);
	script = in_dir(body);
	free(body);
	cr_assert(asprintf(&body, "%s/done.log", dir) > 0);
	fresh_image();
	full = time_us(script);
	for (int k = 0; k < KILLS; k++) {
		char what[64];
		FILE *log;
		int i;

		snprintf(what, sizeof(what), "cp per file, kill %d", k);
		/* After some copies, within about one more. */
		fresh_image();
		killed += run_and_kill(script, body, "\n",
				       1 + rand_r(&seed) % (NFILES - 2),
				       moment(&seed, full / NFILES));
		repair(what);
		extract(what);
		/* Only copies that ended before the kill are logged. */
		log = fopen(body, "r");
		while (log && fscanf(log, "%d", &i) == 1) {
			char path[32], host[32];

			snprintf(path, sizeof(path), "dst/f%d", i);
			snprintf(host, sizeof(host), "src/f%d", i);
			check_same(path, host, what);
			checked++;
		}
		if (log)
			fclose(log);
	}
	cr_assert_gt(killed, 0, "no kill landed before the copies ended");
	cr_assert_gt(checked, 0, "no copy had finished before a kill");
	free(body);
	free(script);
}

Test(kill, cp_tree)
{
	char *body, *script;
	unsigned int seed = 17, killed = 0;
	long full;

	cr_assert(asprintf(&body, "%s cp -r src img:/tree", IOMAPCTL_BINARY) >
		  0);
	script = in_dir(body);
	free(body);
	fresh_image();
	full = time_us(script);
	for (int k = 0; k < KILLS; k++) {
		char what[64];

		snprintf(what, sizeof(what), "cp -r, kill %d", k);
		fresh_image();
		killed += run_and_kill(script, "", "", 0, moment(&seed, full));
		repair(what);
		extract(what);
	}
	cr_assert_gt(killed, 0, "no kill landed before the copy ended");
	free(script);
}

Test(kill, shell_session)
{
	char *script, *body, *log;
	unsigned int seed = 19, killed = 0, checked = 0;
	size_t len = 0;
	FILE *cmds = open_memstream(&body, &len);
	long full;

	/*
	 * One write per file: /wK is K's byte, (K * 40000) bytes long.  A
	 * write stays in the shell's cache until `sync`; the stat after the
	 * sync shows the write is on the image.
	 */
	fprintf(cmds, "%s shell", IOMAPCTL_BINARY);
	for (int k = 1; k <= NWRITES; k++)
		fprintf(cmds,
			" -c 'write --pattern %d --length %d /w%d 0' "
			"-c sync -c 'stat /w%d'",
			k, k * 40000, k, k);
	fprintf(cmds, " img >out.log");
	fclose(cmds);
	script = in_dir(body);
	free(body);
	cr_assert(asprintf(&log, "%s/out.log", dir) > 0);
	fresh_image();
	full = time_us(script);
	for (int k = 0; k < KILLS; k++) {
		char what[64];
		int done = 0;

		snprintf(what, sizeof(what), "shell, kill %d", k);
		fresh_image();
		killed += run_and_kill(script, log, FINISHED,
				       1 + rand_r(&seed) % (NWRITES - 2),
				       moment(&seed, full / NWRITES));
		repair(what);
		extract(what);
		done = count(log, FINISHED);
		for (int w = 1; w <= done; w++) {
			char path[16];

			snprintf(path, sizeof(path), "w%d", w);
			cr_assert_eq(t_sh("cd %s && head -c %d /dev/zero | "
					  "tr '\\0' '\\%03o' >want",
					  dir, w * 40000, w),
				     0);
			check_same(path, "want", what);
			checked++;
		}
	}
	cr_assert_gt(killed, 0, "no kill landed before the session ended");
	cr_assert_gt(checked, 0, "no write had finished before a kill");
	free(log);
	free(script);
}
