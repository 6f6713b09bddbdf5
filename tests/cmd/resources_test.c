// SPDX-License-Identifier: GPL-2.0
/*
 * resources_test.c - one `iomapctl shell IMAGE` reading a long seeded mix of
 * commands from stdin (reads, maps, writes, zero, truncate, falloc, punch,
 * seek, here-documents, cd, copies inside the image and to and from a
 * second image): measured every tenth of the commands, it holds the same
 * descriptors throughout and the peak resident memory of the second half
 * is less than RSS_SLACK above the first half's; LeakSanitizer (ASan
 * builds) finds nothing at exit, and both images pass e2fsck -fn.  CI
 * runs IOMAPCTL_RESOURCE_CMDS commands, the long mode 10,000 (README).
 *
 * And cp of a 1 GiB and a 10 GiB sparse file (1% data) into a 16 GiB
 * image and back out: the same peak RSS for both sizes (the page cache's
 * bound aside), only the data copied, the copy identical and as sparse as
 * its source.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "cmd_helpers.h"

#ifndef IOMAPCTL_RESOURCE_CMDS
#define IOMAPCTL_RESOURCE_CMDS 2000
#endif
#define RSS_SLACK (1024 * 1024) /* bytes of RSS growth allowed */
#define MARK "resources-checkpoint"
#define F_MAX (512 * 1024) /* /f and /g stay below this */

static char *dir;

static void setup(void)
{
	dir = t_memdir();
	/* /a to copy, /s to cat, /t a tree, /ck the checkpoint's line. */
	cr_assert_eq(t_sh("cd %s && mkdir -p r/t/u && "
			  "head -c 300000 /dev/urandom >r/a && "
			  "seq 1 700 >r/s && seq 1 50 >r/t/x && "
			  "head -c 9000 /dev/urandom >r/t/u/y && "
			  "echo " MARK " >r/ck && "
			  "mke2fs -q -F -t ext4 -b 4096 -d r img 64M && "
			  "mke2fs -q -F -t ext4 -b 4096 other 16M",
			  dir),
		     0);
}

static void teardown(void)
{
	t_tmpdir_remove(dir);
}

TestSuite(resources, .init = setup, .fini = teardown, .timeout = 1200);

/*
 * One command of the mix: @fmt with up to three random numbers, each below
 * its bound; @weight of them in every sum of weights.  OTHER is the
 * second image.
 */
struct mix_cmd {
	const char *fmt;
	unsigned int weight;
	unsigned int max[3];
};

static const struct mix_cmd mix[] = {
	{ "ls /", 4, { 0 } },
	{ "ls -l /t", 2, { 0 } },
	{ "stat /a", 4, { 0 } },
	{ "--json stat /f", 2, { 0 } },
	{ "map /a", 3, { 0 } },
	{ "map /f %u %u", 3, { F_MAX, 65536 } },
	{ "fiemap /f", 3, { 0 } },
	{ "fiemap --sync /g", 2, { 0 } },
	{ "cat /s", 3, { 0 } },
	{ "seek -d /f %u", 2, { F_MAX } },
	{ "seek -h /f %u", 2, { F_MAX } },
	{ "write --pattern %u --length %u /f %u", 6, { 256, 65536, F_MAX } },
	{ "--io=direct write --pattern %u --length %u /g %u",
	  3,
	  { 256, 65536, F_MAX } },
	{ "write /h %u <<EOF\nsome lines\nof a here-document\nEOF",
	  2,
	  { 100000 } },
	{ "zero /f %u %u", 4, { F_MAX, 65536 } },
	{ "zero --keep-size /g %u %u", 2, { F_MAX, 65536 } },
	{ "truncate /f %u", 3, { F_MAX } },
	{ "falloc /f %u %u", 3, { F_MAX, 65536 } },
	{ "falloc --keep-size /g %u %u", 2, { F_MAX, 65536 } },
	{ "punch /f %u %u", 3, { F_MAX, 65536 } },
	{ "punch /g %u %u", 2, { F_MAX, 65536 } },
	{ "cp -f /a /b", 3, { 0 } },
	{ "cp -f /f /f2", 2, { 0 } },
	{ "cd /t", 1, { 0 } },
	{ "cd /", 1, { 0 } },
	{ "pwd", 1, { 0 } },
	/* A second image opened and closed by one command. */
	{ "cp -f /b OTHER:/c", 1, { 0 } },
	{ "cp -f OTHER:/c /d", 1, { 0 } },
	{ "cp -rf /t OTHER:/", 1, { 0 } },
};

/* The first commands make every file the mix reads (no numbers in them). */
static const char *const prologue[] = {
	"write --pattern 1 --length 70000 /f 0",
	"write --pattern 2 --length 70000 /g 0",
	"cp -f /a /b",
	"cp -f /b OTHER:/c",
};

/* Appends @c to @out with random numbers drawn with @seed, OTHER
 * replaced by @other (it only ever comes once in a line). */
static void put_cmd(FILE *out, const char *fmt, const unsigned int max[3],
		    unsigned int *seed, const char *other)
{
	const char *o = strstr(fmt, "OTHER");
	unsigned int v[3];

	for (int i = 0; i < 3; i++)
		v[i] = max && max[i] ? (unsigned int)rand_r(seed) % max[i] : 0;
	if (o) {
		fprintf(out, "%.*s%s%s\n", (int)(o - fmt), fmt, other, o + 5);
	} else {
		fprintf(out, fmt, v[0], v[1], v[2]);
		fputc('\n', out);
	}
}

/* Appends one command of the mix to @out, drawn with @seed: every run
 * runs the same commands. */
static void mix_line(FILE *out, unsigned int *seed, const char *other)
{
	unsigned int total = 0, pick;
	const struct mix_cmd *c = mix;

	for (size_t i = 0; i < sizeof(mix) / sizeof(mix[0]); i++)
		total += mix[i].weight;
	pick = (unsigned int)rand_r(seed) % total;
	while (pick >= c->weight)
		pick -= c++->weight;
	put_cmd(out, c->fmt, c->max, seed, other);
}

/* Resident memory of @pid in bytes. */
static long long rss_bytes(pid_t pid)
{
	char path[64], line[256];
	long long kb = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	cr_assert_not_null(f, "%s", path);
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %lld kB", &kb) == 1)
			break;
	fclose(f);
	cr_assert_geq(kb, 0, "no VmRSS in %s", path);
	return kb * 1024;
}

/* How often MARK is in the shell's output so far. */
static int marks_seen(const char *log)
{
	char *out;
	int n;

	t_sh_out(&out, "grep -c '^" MARK "$' %s", log);
	n = atoi(out);
	free(out);
	return n;
}

struct shell_proc {
	pid_t pid;
	FILE *in; /* the shell's stdin */
	char *log; /* its stdout and stderr */
	unsigned int seed;
	char other[600];
	int marks;
};

/*
 * ASAN_OPTIONS for a child whose memory is measured: ASan keeps freed
 * memory in quarantine (256 MiB by default) and that would be the growth
 * measured; with none, RSS counts live memory only.  Leak detection stays
 * as the caller set it.
 */
static char *measured_asan_options(void)
{
	const char *asan = getenv("ASAN_OPTIONS");
	char *opts;

	cr_assert(asprintf(&opts, "%s%squarantine_size_mb=0", asan ? asan : "",
			   asan ? ":" : "") > 0);
	return opts;
}

static void shell_start(struct shell_proc *sp)
{
	int pipefd[2];
	char *opts = measured_asan_options(), *img;

	cr_assert(asprintf(&sp->log, "%s/out.log", dir) > 0);
	cr_assert(asprintf(&img, "%s/img", dir) > 0);
	snprintf(sp->other, sizeof(sp->other), "%s/other", dir);
	cr_assert_eq(pipe(pipefd), 0);
	sp->pid = fork();
	cr_assert_geq(sp->pid, 0);
	if (sp->pid == 0) {
		FILE *log = fopen(sp->log, "w");

		if (!log)
			_exit(126);
		dup2(pipefd[0], 0);
		dup2(fileno(log), 1);
		dup2(fileno(log), 2);
		close(pipefd[0]);
		close(pipefd[1]);
		fclose(log);
		setenv("ASAN_OPTIONS", opts, 1);
		execl(IOMAPCTL_BINARY, "iomapctl", "shell", img, (char *)NULL);
		_exit(127);
	}
	free(opts);
	free(img);
	close(pipefd[0]);
	sp->in = fdopen(pipefd[1], "w");
	cr_assert_not_null(sp->in);
	sp->seed = 13;
	for (size_t i = 0; i < sizeof(prologue) / sizeof(prologue[0]); i++)
		put_cmd(sp->in, prologue[i], NULL, &sp->seed, sp->other);
	/* Every command once before the first measure: what a command
	 * allocates the first time it runs is no growth. */
	for (size_t i = 0; i < sizeof(mix) / sizeof(mix[0]); i++)
		put_cmd(sp->in, mix[i].fmt, mix[i].max, &sp->seed, sp->other);
}

/*
 * Sends @n more commands, then `cat /ck`, and waits until its line comes
 * out: the shell has run them all and waits on stdin, idle.
 */
static void shell_feed(struct shell_proc *sp, unsigned int n)
{
	int status;

	for (unsigned int i = 0; i < n; i++)
		mix_line(sp->in, &sp->seed, sp->other);
	fputs("cat /ck\n", sp->in);
	cr_assert_eq(fflush(sp->in), 0);
	sp->marks++;
	while (marks_seen(sp->log) < sp->marks) {
		if (waitpid(sp->pid, &status, WNOHANG) != 0) {
			char *out;

			t_sh_out(&out, "tail -c 2000 %s", sp->log);
			cr_assert_fail("the shell ended early (status 0x%x):"
				       "\n%s",
				       status, out);
		}
		usleep(20000);
	}
}

static void shell_finish(struct shell_proc *sp)
{
	char *out;
	int status;

	fclose(sp->in);
	cr_assert_eq(waitpid(sp->pid, &status, 0), sp->pid);
	t_sh_out(&out,
		 "grep -v '^" MARK "$' %s | grep -a 'iomapctl:\\|"
		 "Sanitizer\\|runtime error' | head -20",
		 sp->log);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		  "shell status 0x%x:\n%s", status, out);
	cr_assert_str_empty(out, "errors in the shell's output:\n%s", out);
	free(out);
	free(sp->log);
}

static void fsck_clean(const char *img)
{
	char *out;

	cr_assert_eq(t_sh_out(&out, "e2fsck -fn %s/%s 2>&1", dir, img), 0,
		     "e2fsck -fn %s:\n%s", img, out);
	free(out);
}

#define CHECKPOINTS 10

Test(resources, shell_commands_hold_no_fd_or_memory)
{
	struct shell_proc sp = { 0 };
	unsigned int step = IOMAPCTL_RESOURCE_CMDS / CHECKPOINTS;
	long long rss[CHECKPOINTS], first = 0, second = 0;
	int fds[CHECKPOINTS];
	char log[CHECKPOINTS * 32] = "", *p = log;

	/*
	 * A measure every tenth of the commands.  One sample is noisy (the
	 * allocator's warm-up, what the kernel counts when); a leak or an
	 * unbounded cache makes the peak of the second half outgrow the
	 * first's by a share of the commands run.
	 */
	shell_start(&sp);
	for (int k = 0; k < CHECKPOINTS; k++) {
		shell_feed(&sp, step);
		fds[k] = tc_count_fds(sp.pid);
		rss[k] = rss_bytes(sp.pid);
		p += sprintf(p, " %d/%lld", fds[k], rss[k] >> 10);
		if (k < CHECKPOINTS / 2 && rss[k] > first)
			first = rss[k];
		if (k >= CHECKPOINTS / 2 && rss[k] > second)
			second = rss[k];
	}
	cr_log_info("every %u commands, fds/RSS KiB:%s", step, log);
	shell_finish(&sp);
	for (int k = 1; k < CHECKPOINTS; k++)
		cr_assert_eq(fds[k], fds[0],
			     "descriptors: %d after %u commands, %d after %u",
			     fds[0], step, fds[k], (k + 1) * step);
	cr_assert_lt(second - first, RSS_SLACK,
		     "peak RSS grew by %lld KiB from the first %u commands "
		     "to the last %u",
		     (second - first) / 1024, IOMAPCTL_RESOURCE_CMDS / 2,
		     IOMAPCTL_RESOURCE_CMDS / 2);
	fsck_clean("img");
	fsck_clean("other");
}

#define SPARSE_STEP (100LL << 20) /* one 1 MiB run of data per 100 MiB */
#define SPARSE_RUN (1LL << 20)
#define PAGE_CACHE_BOUND (64LL << 20) /* the engine's default cache */
#define RSS_SAME (8LL << 20) /* the same peak RSS, give or take */

/* Allocated bytes of host file @name in dir. */
static long long allocated(const char *name)
{
	char path[600];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	cr_assert_eq(stat(path, &st), 0, "%s", path);
	return (long long)st.st_blocks * 512;
}

/*
 * Runs `iomapctl ARGS` in dir (ARGS from @fmt), asserting it succeeds, and
 * returns its peak RSS in bytes; "copied N bytes" (cp -v) goes to
 * *@copied.
 */
static long long peak_rss(long long *copied, const char *fmt, ...)
{
	char *args, *log, *out;
	char *opts = measured_asan_options();
	struct rusage ru;
	va_list ap;
	int status;
	pid_t pid;

	va_start(ap, fmt);
	cr_assert(vasprintf(&args, fmt, ap) > 0);
	va_end(ap);
	cr_assert(asprintf(&log, "%s/cp.log", dir) > 0);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		char *cmd;

		setenv("ASAN_OPTIONS", opts, 1);
		/* exec: the rusage is iomapctl's, not a shell's. */
		if (chdir(dir) || asprintf(&cmd, "exec %s %s >%s 2>&1",
					   IOMAPCTL_BINARY, args, log) < 0)
			_exit(126);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	cr_assert_eq(wait4(pid, &status, 0, &ru), pid);
	t_sh_out(&out, "cat %s", log);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		  "iomapctl %s: status 0x%x:\n%s", args, status, out);
	cr_assert_eq(sscanf(out, "copied %lld bytes", copied), 1,
		     "iomapctl %s said:\n%s", args, out);
	free(out);
	free(log);
	free(args);
	free(opts);
	return (long long)ru.ru_maxrss * 1024;
}

/* Peak RSS of the four copies of one file size. */
struct sparse_rss {
	long long in, in_direct, out, out_direct;
};

/*
 * A @size-byte host file of SPARSE_RUN runs every SPARSE_STEP (from an
 * unaligned offset), copied into a fresh 16 GiB image buffered and
 * direct, and back out both ways.
 */
static void sparse_round_trip(long long size, struct sparse_rss *rss)
{
	long long data, copied, blocks;
	char *out;

	cr_assert_eq(t_sh("cd %s && rm -f src out out2 img && "
			  "truncate -s %lld src && for off in $(seq 0 %lld "
			  "%lld); do head -c %lld /dev/urandom | dd of=src "
			  "bs=4096 seek=$((off / 4096 + 3)) conv=notrunc "
			  "status=none; done && "
			  "mke2fs -q -F -t ext4 -b 4096 img 16G",
			  dir, size, SPARSE_STEP, size - SPARSE_STEP,
			  SPARSE_RUN),
		     0);
	data = allocated("src");
	cr_assert_lt(data, size / 50, "src is not sparse");
	rss->in = peak_rss(&copied, "cp -v src img:/big");
	cr_assert_eq(copied, data, "cp in of %lld bytes copied %lld", data,
		     copied);
	rss->in_direct = peak_rss(&copied, "--io=direct cp -v src img:/big2");
	cr_assert_eq(copied, data);
	cr_assert_eq(t_sh_out(&out, "e2fsck -fn %s/img 2>&1", dir), 0,
		     "e2fsck -fn:\n%s", out);
	free(out);
	/* The image allocates the data and at most an extent block more. */
	t_sh_out(&out, "%s --json stat %s/img:/big", IOMAPCTL_BINARY, dir);
	cr_assert_eq(sscanf(strstr(out, "\"blocks\":") ?: "", "\"blocks\":%lld",
			    &blocks),
		     1, "%s", out);
	free(out);
	cr_assert(blocks * 512 >= data && blocks * 512 <= data + 4096,
		  "img:/big allocates %lld bytes for %lld of data",
		  blocks * 512, data);
	rss->out = peak_rss(&copied, "cp -v img:/big out");
	cr_assert_eq(copied, data);
	rss->out_direct = peak_rss(&copied, "--io=direct cp -v img:/big2 out2");
	cr_assert_eq(copied, data);
	cr_assert_eq(t_sh("cd %s && cmp src out && cmp src out2", dir), 0,
		     "a copy differs from its source");
	cr_assert_eq(allocated("out"), data, "out allocates %lld, src %lld",
		     allocated("out"), data);
	cr_assert_eq(allocated("out2"), data);
	cr_log_info("%lld GiB sparse, %lld MiB of data: peak RSS cp in %lld "
		    "MiB (direct %lld), cp out %lld MiB (direct %lld)",
		    size >> 30, data >> 20, rss->in >> 20, rss->in_direct >> 20,
		    rss->out >> 20, rss->out_direct >> 20);
}

Test(resources, sparse_copy_memory_is_bounded)
{
	struct sparse_rss small, large;

	sparse_round_trip(1LL << 30, &small);
	sparse_round_trip(10LL << 30, &large);
	/* Without a page cache, the same; with one, its bound more. */
	cr_assert_lt(large.in_direct - small.in_direct, RSS_SAME,
		     "direct cp in: %lld MiB for 10 GiB, %lld for 1 GiB",
		     large.in_direct >> 20, small.in_direct >> 20);
	cr_assert_lt(large.out - small.out, RSS_SAME);
	cr_assert_lt(large.out_direct - small.out_direct, RSS_SAME);
	cr_assert_lt(large.in - large.in_direct, PAGE_CACHE_BOUND + RSS_SAME,
		     "buffered cp in: %lld MiB, direct %lld", large.in >> 20,
		     large.in_direct >> 20);
	t_sh("rm -f %s/src %s/out %s/out2 %s/img", dir, dir, dir, dir);
}
