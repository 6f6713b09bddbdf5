// SPDX-License-Identifier: GPL-2.0
/* ext2_bcache_test.c - the adapter's metadata block cache: never older
 * than the disk after the engine writes, and a tree copy issues a constant
 * number of reads per small file however large the directory. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <criterion/criterion.h>

#include "../../fsadapters/ext2/ext2.h"
#include "ext2_util.h"
#include "helpers.h"
#include "iomapctl/imc.h"
#include "iomapctl/io.h"

static void engine_write(struct iomap_dev *dev, struct t_file *f, char c,
			 size_t len)
{
	struct iomap_file *file;
	char *buf = malloc(len);

	cr_assert_not_null(buf);
	memset(buf, c, len);
	cr_assert_eq(iomap_file_open(dev, f->inode, fsa_ext2_ops.iomap, &file),
		     0);
	cr_assert_eq(iomap_file_write(file, buf, len, 0), (ssize_t)len);
	cr_assert_eq(iomap_file_sync(file), 0);
	cr_assert_eq(iomap_file_close(file), 0);
	free(buf);
}

/*
 * Why libext2fs' own cache stays off: truncating into a block reads that
 * data block through libext2fs (to zero its tail).  Once cached, the
 * engine overwrites the block through its own descriptor; the next
 * truncate must zero the new bytes' tail, not write the old bytes back.
 */
Test(ext2_bcache, engine_writes_leave_no_stale_block)
{
	char *d = t_tmpdir(), img[512];
	struct iomap_io_params p = { .max_folio_order = 2 };
	struct iomap_dev *dev;
	struct t_file f;

	snprintf(img, sizeof(img), "%s/img", d);
	cr_assert_eq(t_sh("cd %s && mkdir src && head -c 4096 /dev/zero | "
			  "tr '\\0' A > src/f && mke2fs -q -F -t ext4 -b 4096 "
			  "-d src img 8M",
			  d),
		     0);
	t_open(&f, img, "/f", 1);
	cr_assert_eq(iomap_dev_open(img, true, &p, &dev), 0);
	cr_assert_eq(fsa_ext2_ops.setsize(f.inode, 1000), 0); /* cached */
	engine_write(dev, &f, 'B', 4096);
	cr_assert_eq(fsa_ext2_ops.setsize(f.inode, 500), 0);
	cr_assert_eq(iomap_dev_close(dev), 0);
	t_close(&f);
	cr_assert_eq(t_sh("cd %s && debugfs -R 'dump /f out' img 2>/dev/null",
			  d),
		     0);
	cr_assert_eq(t_sh("cd %s && test $(stat -c %%s out) = 500 && "
			  "test \"$(tr -d B < out | wc -c)\" = 0",
			  d),
		     0, "old bytes came back from a stale cached block");
	cr_assert_eq(t_sh("e2fsck -fn %s >/dev/null 2>&1", img), 0);
	t_tmpdir_remove(d);
}

/* Block reads per file of `cp -r IMG:/d out` over @n files of 100 bytes. */
static double reads_per_file(const char *d, int n)
{
	char spec[600], out[600];
	char *argv[] = { "iomapctl", "cp", "-r", spec, out };
	struct fsa_ext2_bcache_stats st;
	struct imc_ctx ctx;
	double per;

	cr_assert_eq(t_sh("cd %s && rm -rf src out img && mkdir -p src/d && "
			  "cd src/d && i=0 && while [ $i -lt %d ]; do "
			  "i=$((i + 1)); printf '%%100s' $i > f$i; done && "
			  "cd ../.. && mke2fs -q -F "
			  "-t ext4 -b 4096 -N 12000 -d src img 64M",
			  d, n),
		     0);
	snprintf(spec, sizeof(spec), "%s/img:/d", d);
	snprintf(out, sizeof(out), "%s/out", d);
	imc_ctx_init(&ctx);
	cr_assert_eq(imc_run(&ctx, 5, argv, true), 0);
	cr_assert_not_null(ctx.fs);
	fsa_ext2_bcache_stats(EXT2_FS(ctx.fs), &st);
	/* Every block asked of the I/O layer (metadata, cached or not, and
	 * the engine's data requests). */
	per = (double)(st.reads + st.hits + ctx.stats.io_requests) / n;
	cr_log_info("%d files: %llu reads, %llu hits, %llu data requests: "
		    "%.2f per file",
		    n, (unsigned long long)st.reads,
		    (unsigned long long)st.hits,
		    (unsigned long long)ctx.stats.io_requests, per);
	imc_ctx_fini(&ctx);
	cr_assert_eq(t_sh("cd %s && test $(ls out | wc -l) = %d", d, n), 0);
	return per;
}

Test(ext2_bcache, reads_per_small_file_do_not_grow_with_the_directory,
     .timeout = 300)
{
	char *d = t_memdir();
	double small = reads_per_file(d, 100);
	double large = reads_per_file(d, 10000);

	/* A lookup by name from the root scanned the directory per file:
	 * dozens of blocks each at 10,000 entries. */
	cr_expect_leq(large, small + 0.5,
		      "%.2f reads per file at 10,000 "
		      "entries, %.2f at 100",
		      large, small);
	cr_expect_leq(large, 3.0, "%.2f reads per file", large);
	t_tmpdir_remove(d);
}

/*
 * Buffer heads write a block back through the mapping cached in its folio
 * without asking the adapter, so nothing drops the block from the
 * metadata cache then: a data block the adapter read-modify-wrote (the
 * EOF block's tail) must not stay cached, or growing the file again
 * writes the old bytes back over what the folio wrote.
 */
Test(ext2_bcache, bh_writeback_leaves_no_stale_data_block)
{
	static const char *const mappers[] = { "bh", "hybrid", "iomap" };
	char *d = t_tmpdir(), img[600];

	snprintf(img, sizeof(img), "%s/img", d);
	for (size_t i = 0; i < 3; i++) {
		char mapper[32];
		char *argv[] = { "iomapctl", "-q", "--io=direct", mapper, "shell",
				 "-c", "write --pattern 0xab --length 6000 f 0",
				 "-c", "zero --keep-size f 4096 1000", "-c",
				 "truncate f 20000", img };
		struct imc_ctx ctx;

		snprintf(mapper, sizeof(mapper), "--mapper=%s", mappers[i]);
		cr_assert_eq(t_sh("cd %s && rm -rf src && mkdir src && "
				  ": > src/f && mke2fs -q -F -t ext4 -b 4096 "
				  "-d src img 8M",
				  d),
			     0);
		imc_ctx_init(&ctx);
		cr_assert_eq(imc_run(&ctx, 12, argv, true), 0, "%s",
			     mappers[i]);
		imc_ctx_fini(&ctx);
		cr_assert_eq(t_sh("cd %s && debugfs -R 'dump /f out' img "
				  "2>/dev/null && test $(stat -c %%s out) = "
				  "20000 && head -c 4096 out | tr -d '\\253' | "
				  "wc -c | grep -qx 0 && tail -c +4097 out | "
				  "head -c 1000 | tr -d '\\0' | wc -c | "
				  "grep -qx 0 && tail -c +5097 out | head -c "
				  "904 | tr -d '\\253' | wc -c | grep -qx 0 "
				  "&& tail -c +6001 out | tr -d '\\0' | "
				  "wc -c | grep -qx 0",
				  d),
			     0, "%s: the zeroed range or the tail is wrong",
			     mappers[i]);
		cr_assert_eq(t_sh("e2fsck -fn %s/img >/dev/null 2>&1", d), 0);
	}
	t_tmpdir_remove(d);
}

/*
 * Inodes read in table order (a tree walk's stats) cost one request per
 * readahead window, not one per table block: on 1 KiB blocks, four
 * inodes a block, 2,000 files took 500 reads.
 */
Test(ext2_bcache, inode_table_read_ahead)
{
	char *d = t_memdir(), img[600];
	struct fsa_ext2_bcache_stats st;
	struct fsa_stat fst;
	struct fsa_fs *fs;
	uint64_t dir, first;
	const int n = 2000;

	snprintf(img, sizeof(img), "%s/img", d);
	cr_assert_eq(t_sh("cd %s && mkdir -p src/d && cd src/d && i=0 && "
			  "while [ $i -lt %d ]; do i=$((i + 1)); : > f$i; "
			  "done && cd ../.. && mke2fs -q -F -t ext4 -b 1024 "
			  "-I 256 -N 4000 -d src img 16M",
			  d, n),
		     0);
	cr_assert_eq(fsa_ext2_ops.open(img, 0, NULL, &fs), 0);
	cr_assert_eq(fsa_ext2_ops.lookup(fs, "/d", &dir), 0);
	cr_assert_eq(fsa_ext2_ops.lookup(fs, "/d/f1", &first), 0);
	fsa_ext2_bcache_stats(EXT2_FS(fs), &st);
	uint64_t before = st.reads;
	for (uint64_t ino = first; ino < first + (uint64_t)n; ino++) {
		cr_assert_eq(fsa_ext2_ops.stat(fs, ino, &fst), 0);
		cr_assert(S_ISREG(fst.mode), "inode %llu",
			  (unsigned long long)ino);
	}
	fsa_ext2_bcache_stats(EXT2_FS(fs), &st);
	cr_log_info("%d inodes in table order: %llu reads", n,
		    (unsigned long long)(st.reads - before));
	/* 500 table blocks, 32 a request: 16, and a margin for windows
	 * cut at group ends. */
	cr_assert_leq(st.reads - before, 40, "%llu reads for %d inodes",
		      (unsigned long long)(st.reads - before), n);
	cr_assert_eq(fsa_ext2_ops.close(fs), 0);
	t_tmpdir_remove(d);
}
