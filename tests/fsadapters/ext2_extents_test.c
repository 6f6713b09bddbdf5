// SPDX-License-Identifier: GPL-2.0
/* ext2_extents_test.c - files of many extents: the adapter's window of runs
 * answers lookups in any order as get_block does, and mapping a file of a
 * million extents takes the same memory as one of a hundred thousand. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include <criterion/criterion.h>

#include "ext2_util.h"
#include "helpers.h"

TestSuite(ext2_extents, .timeout = 300);

/* An image @img (@size, @bs-byte blocks) holding /NAME files of one-block
 * extents, every other physical block, made by bench/mkfrag. */
static void mkimage(const char *img, const char *size, unsigned int bs,
		    const char *const *names, const unsigned long *nblocks,
		    int n)
{
	cr_assert_eq(t_sh("truncate -s %s '%s' && mke2fs -q -F -t ext4 -b %u "
			  "'%s'",
			  size, img, bs, img),
		     0);
	for (int i = 0; i < n; i++)
		cr_assert_eq(t_sh("'%s' '%s' %s %lu 2 1", IOMAPCTL_MKFRAG, img,
				  names[i], nblocks[i]),
			     0);
	cr_assert_eq(t_sh("e2fsck -fn '%s' >/dev/null 2>&1", img), 0,
		     "mkfrag left %s unclean", img);
}

/* xorshift64: the same lookups on every run. */
static uint64_t next_rand(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* The report mapping of block @blk must say what @ref says of it. */
static void check_block(struct t_file *f, const struct t_bmap *ref,
			uint64_t blk)
{
	unsigned int bits = f->inode->blkbits;
	struct iomap m = { 0 }, src = { 0 };
	uint64_t pos = blk << bits;
	int ret = fsa_ext2_ops.iomap->report->iomap_begin(
		f->inode, (loff_t)pos, 1LL << bits, IOMAP_REPORT, &m, &src);

	cr_assert_eq(ret, 0, "block %llu: %d", (unsigned long long)blk, ret);
	cr_assert((uint64_t)m.offset <= pos && pos < m.offset + m.length,
		  "block %llu: mapping [%lld, +%llu) misses it",
		  (unsigned long long)blk, (long long)m.offset,
		  (unsigned long long)m.length);
	if (ref->kind[blk] == T_HOLE) {
		cr_assert_eq(m.type, IOMAP_HOLE, "block %llu: type %u",
			     (unsigned long long)blk, m.type);
		return;
	}
	cr_assert_eq(m.type, IOMAP_MAPPED, "block %llu: type %u",
		     (unsigned long long)blk, m.type);
	cr_assert_eq(iomap_addr(&m, (loff_t)pos) >> bits, ref->pblk[blk],
		     "block %llu: at %llu, get_block says %llu",
		     (unsigned long long)blk,
		     (unsigned long long)(iomap_addr(&m, (loff_t)pos) >> bits),
		     (unsigned long long)ref->pblk[blk]);
}

/*
 * 30,000 one-block extents at 1 KiB blocks (a depth-3 tree, 30 windows of
 * runs), with holes punched in: lookups forward, backward and at random
 * answer what ext2fs_bmap2() per block (the bh mapper) answers.
 */
Test(ext2_extents, window_lookups_in_any_order)
{
	static const char *const names[] = { "f" };
	static const unsigned long nblocks[] = { 30000 };
	char *d = t_tmpdir(), img[512];
	struct t_bmap ref;
	struct t_file f;
	uint64_t seed = 0x9e3779b97f4a7c15ULL, n;

	snprintf(img, sizeof(img), "%s/img", d);
	mkimage(img, "96M", 1024, names, nblocks, 1);
	/* Holes inside a leaf, across leaves, and at the start. */
	cr_assert_eq(
		t_sh("debugfs -w -R 'punch /f 0 9' '%s' >/dev/null 2>&1 && "
		     "debugfs -w -R 'punch /f 1000 1200' '%s' >/dev/null "
		     "2>&1 && debugfs -w -R 'punch /f 20001 21000' '%s' "
		     ">/dev/null 2>&1",
		     img, img, img),
		0);
	cr_assert_eq(t_sh("debugfs -R 'ex /f' '%s' 2>/dev/null | "
			  "grep -q '^ *3/ *3'",
			  img),
		     0, "expected a depth-3 extent tree");
	t_open(&f, img, "/f", 0);
	cr_assert_eq(t_fiemap_bmap(&f, &ref, 1), 0);
	n = ref.n;
	cr_assert_eq(n, 30000);
	for (uint64_t b = 0; b < n; b++)
		check_block(&f, &ref, b);
	/* Each step back is before the window: a descent (every 7th block
	 * keeps the test short and still crosses every leaf). */
	for (uint64_t b = n; b >= 7;) {
		b -= 7;
		check_block(&f, &ref, b);
	}
	for (int i = 0; i < 5000; i++)
		check_block(&f, &ref, next_rand(&seed) % n);
	t_bmap_free(&ref);
	t_close(&f);
	t_tmpdir_remove(d);
}

/* Run iomapctl ARGS with stdout to @out; returns its peak RSS in KiB. */
static long run_rss(const char *out, const char *const *args)
{
	const char *argv[8] = { IOMAPCTL_BINARY };
	struct rusage ru;
	int status, fd;
	pid_t pid;

	for (int i = 0; args[i]; i++)
		argv[i + 1] = args[i];
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd < 0 || dup2(fd, 1) < 0)
			_exit(127);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	cr_assert_eq(wait4(pid, &status, 0, &ru), pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		  "iomapctl %s %s: status %d", args[0], args[1], status);
	return ru.ru_maxrss;
}

/* The count on the last line of `fiemap --filefrag` output in @path. */
static long filefrag_count(const char *path)
{
	char *out;
	long n = -1;

	cr_assert_eq(t_sh_out(&out, "tail -n 1 '%s'", path), 0);
	sscanf(strstr(out, ": ") ? strstr(out, ": ") + 2 : out, "%ld", &n);
	free(out);
	return n;
}

/*
 * Issue 13's bound: fiemap and map of a file of 1,000,000 extents take no
 * more memory than of one of 100,000 (measured: the same peak RSS to 0.2
 * MiB); before the run window, the streamed output and the leaves read
 * past the metadata cache the difference was about 80 MiB (24 bytes a
 * run, 56 an extent, 8 MiB of cached leaves).  The counts are the
 * kernel's (filefrag on a loop mount).
 */
Test(ext2_extents, million_extents_in_bounded_memory)
{
	static const char *const names[] = { "small", "big" };
	static const unsigned long nblocks[] = { 100000, 1000000 };
	const long slack_kib = 2 << 10;
	char *d = t_tmpdir(), img[512], spec[2][600], out[600], *kernel;
	long rss[2][2];

	snprintf(img, sizeof(img), "%s/img", d);
	snprintf(out, sizeof(out), "%s/out", d);
	mkimage(img, "12G", 4096, names, nblocks, 2);
	for (int i = 0; i < 2; i++) {
		const char *ff[] = { "fiemap", "--filefrag", spec[i], NULL };
		const char *map[] = { "map", spec[i], NULL };

		snprintf(spec[i], sizeof(spec[i]), "%s:/%s", img, names[i]);
		rss[i][0] = run_rss(out, ff);
		cr_expect_eq(filefrag_count(out), (long)nblocks[i],
			     "%s: %ld extents", spec[i], filefrag_count(out));
		rss[i][1] = run_rss("/dev/null", map);
	}
	cr_log_info("peak RSS, 100,000 / 1,000,000 extents: fiemap %ld / %ld "
		    "KiB, map %ld / %ld KiB",
		    rss[0][0], rss[1][0], rss[0][1], rss[1][1]);
	cr_expect_lt(rss[1][0] - rss[0][0], slack_kib, "fiemap grew %ld KiB",
		     rss[1][0] - rss[0][0]);
	cr_expect_lt(rss[1][1] - rss[0][1], slack_kib, "map grew %ld KiB",
		     rss[1][1] - rss[0][1]);
	if (!t_can_loop_mount()) {
		t_tmpdir_remove(d);
		cr_skip_test(
			"no loop mount here: the kernel's count unchecked");
	}
	cr_assert_eq(t_sh_out(&kernel,
			      "cd '%s' && mkdir m && mount -o loop,ro "
			      "img m && filefrag m/big; umount m",
			      d),
		     0);
	cr_expect(strstr(kernel, ": 1000000 extents found") != NULL,
		  "kernel: %s", kernel);
	free(kernel);
	t_tmpdir_remove(d);
}
