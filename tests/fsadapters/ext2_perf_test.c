// SPDX-License-Identifier: GPL-2.0
/* ext2_perf_test.c - mapping cost: a fragmented file must cost about one
 * cheap iomap_begin per extent (the cursor continues from the last leaf),
 * a contiguous indirect-mapped file a handful of mappings. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/fiemap.h>

#include <ext2fs/ext2fs.h>

#include "iomapctl/io.h"

#include <criterion/criterion.h>

#include "ext2_util.h"
#include "helpers.h"

TestSuite(ext2_perf, .timeout = 120);

static double ns_per(uint64_t ns, uint64_t n)
{
	return n ? (double)ns / (double)n : 0;
}

/* One pass of report mappings over the file; returns the ns it took. */
static uint64_t walk(struct t_file *f, uint64_t *calls)
{
	struct iomap_iter it = { .inode = f->inode,
				 .len = (uint64_t)f->inode->size,
				 .flags = IOMAP_REPORT };
	uint64_t t0 = iomap_stats_now_ns(), before = f->stats.map_calls;
	int ret;

	while ((ret = iomap_iter(&it, fsa_ext2_ops.iomap->report)) > 0)
		it.status = iomap_iter_advance(&it, iomap_length(&it));
	cr_assert_eq(ret, 0);
	*calls = f->stats.map_calls - before;
	return iomap_stats_now_ns() - t0;
}

/* Baseline: libext2fs alone walking every leaf extent once. */
static uint64_t raw_walk(const char *img, const char *path, uint64_t *n)
{
	ext2_filsys fs;
	ext2_ino_t ino;
	ext2_extent_handle_t h;
	struct ext2fs_extent e;
	uint64_t t0;
	errcode_t err;

	cr_assert_eq(ext2fs_open(img, EXT2_FLAG_64BITS, 0, 0, unix_io_manager,
				 &fs),
		     0);
	cr_assert_eq(ext2fs_namei(fs, EXT2_ROOT_INO, EXT2_ROOT_INO, path + 1,
				  &ino),
		     0);
	t0 = iomap_stats_now_ns();
	cr_assert_eq(ext2fs_extent_open(fs, ino, &h), 0);
	*n = 0;
	for (err = ext2fs_extent_get(h, EXT2_EXTENT_ROOT, &e); !err;
	     err = ext2fs_extent_get(h, EXT2_EXTENT_NEXT_LEAF, &e))
		*n += (e.e_flags & EXT2_EXTENT_FLAGS_LEAF) != 0;
	ext2fs_extent_free(h);
	t0 = iomap_stats_now_ns() - t0;
	ext2fs_free(fs);
	return t0;
}

/* 16 MiB at 1 KiB blocks, every other block punched: 8192 extents in a
 * depth-2 tree, 16384 mappings with the holes. */
Test(ext2_perf, fragmented_extent_cursor)
{
	char *d = t_tmpdir();
	char img[512];
	struct t_file f;
	struct t_bmap ours, deb;
	uint64_t t0, iomap_ns, bh_ns, iomap_calls, bh_calls;

	snprintf(img, sizeof(img), "%s/img", d);
	cr_assert_eq(
		t_sh("cd %s && mkdir src && head -c 16M /dev/zero | tr '\\0' x > src/f && "
		     "mke2fs -q -F -t ext4 -b 1024 -d src img 64M && "
		     "for i in $(seq 1 2 16383); do echo \"punch /f $i $i\"; done > cmds && "
		     "debugfs -w -f cmds img >/dev/null 2>&1",
		     d),
		0);
	t_open(&f, img, "/f", 0);
	{
		uint64_t cold_calls, warm_calls;
		uint64_t raw_n, raw = raw_walk(img, "/f", &raw_n);
		uint64_t cold = walk(&f, &cold_calls),
			 warm = walk(&f, &warm_calls);

		cr_log_info(
			"fragmented 8192 extents: libext2fs NEXT_LEAF walk alone "
			"%.0f ns/extent; iomap_iter walk, first (reads the tree) "
			"%.0f ns/mapping, again %.0f ns/mapping (%llu mappings)",
			ns_per(raw, raw_n), ns_per(cold, cold_calls),
			ns_per(warm, warm_calls),
			(unsigned long long)cold_calls);
		cr_expect_eq(raw_n, 8192);
		fsa_ext2_ops.iput(f.inode);
		cr_assert_eq(fsa_ext2_ops.iget(f.fs, f.ino, &f.inode), 0);
		f.stats.map_calls = 0;
	}
	t0 = iomap_stats_now_ns();
	cr_assert_eq(t_fiemap_bmap(&f, &ours, 0), 0);
	iomap_ns = iomap_stats_now_ns() - t0;
	iomap_calls = f.stats.map_calls;
	f.stats.map_calls = 0;
	t0 = iomap_stats_now_ns();
	cr_assert_eq(t_fiemap_bmap(&f, &deb, 1), 0);
	bh_ns = iomap_stats_now_ns() - t0;
	bh_calls = f.stats.map_calls;
	cr_assert_eq(t_bmap_diff(&ours, &deb), -1);
	t_bmap_free(&deb);
	t_bmap_init(&deb, ours.n);
	t_bmap_from_debugfs(&deb, img, "/f", 1);
	cr_assert_eq(t_bmap_diff(&ours, &deb), -1);
	cr_log_info(
		"fragmented 8192 extents: iomap %llu calls %.0f ns/call (%.2f ms); "
		"bh %llu calls %.0f ns/call (%.2f ms); %.1fx",
		(unsigned long long)iomap_calls, ns_per(iomap_ns, iomap_calls),
		iomap_ns / 1e6, (unsigned long long)bh_calls,
		ns_per(bh_ns, bh_calls), bh_ns / 1e6,
		(double)bh_ns / (double)iomap_ns);
	cr_expect_leq(iomap_calls, 16384 + 2);
	/* one per block, and a few past EOF that skip its holes whole */
	cr_expect(bh_calls > 16384 && bh_calls <= 16384 + 3, "bh calls %llu",
		  (unsigned long long)bh_calls);
	t_bmap_free(&ours);
	t_bmap_free(&deb);
	t_close(&f);
	t_tmpdir_remove(d);
}

/* 40 MiB contiguous on ext2 (4 KiB blocks): runs break only where the
 * indirect blocks sit between data blocks. */
Test(ext2_perf, contiguous_indirect_runs)
{
	char *d = t_tmpdir();
	char img[512];
	struct t_file f;
	struct t_bmap ours, deb;

	snprintf(img, sizeof(img), "%s/img", d);
	cr_assert_eq(
		t_sh("cd %s && mkdir src && head -c 40M /dev/zero | tr '\\0' y > src/f && "
		     "mke2fs -q -F -t ext2 -b 4096 -d src img 64M",
		     d),
		0);
	t_open(&f, img, "/f", 0);
	cr_assert_eq(t_fiemap_bmap(&f, &ours, 0), 0);
	cr_log_info(
		"contiguous 40 MiB indirect: %llu iomap calls for %llu blocks",
		(unsigned long long)f.stats.map_calls,
		(unsigned long long)ours.n);
	cr_expect_leq(f.stats.map_calls, 16);
	t_bmap_init(&deb, ours.n);
	t_bmap_from_debugfs(&deb, img, "/f", 0);
	cr_assert_eq(t_bmap_diff(&ours, &deb), -1);
	t_bmap_free(&ours);
	t_bmap_free(&deb);
	t_close(&f);
	t_tmpdir_remove(d);
}

/* Copy 32 MiB into a new file and read it back through the engine, with
 * each mapper: mapping calls and time, for the report. */
static void copy_cost(const char *img, enum iomap_io_path path,
		      enum iomap_mapper mapper, const char *name)
{
	struct iomap_io_params p = { .path = path,
				     .mapper = mapper,
				     .max_folio_order = 4 };
	size_t chunk = 1 << 20, total = 32 << 20;
	struct iomap_dev *dev;
	struct iomap_file *file;
	struct t_file f;
	uint64_t root, t0, wcalls, wns, rns;
	void *buf;

	cr_assert_eq(posix_memalign(&buf, 4096, chunk), 0);
	memset(buf, 0x5a, chunk);
	t_open(&f, img, NULL, 1);
	cr_assert_eq(fsa_ext2_ops.lookup(f.fs, "/", &root), 0);
	cr_assert_eq(fsa_ext2_ops.create(f.fs, root, name, 0644, &f.ino), 0);
	cr_assert_eq(fsa_ext2_ops.iget(f.fs, f.ino, &f.inode), 0);
	cr_assert_eq(iomap_dev_open(img, true, &p, &dev), 0);
	cr_assert_eq(iomap_file_open(dev, f.inode, fsa_ext2_ops.iomap, &file),
		     0);
	t0 = iomap_stats_now_ns();
	for (size_t pos = 0; pos < total; pos += chunk)
		cr_assert_eq(iomap_file_write(file, buf, chunk, (loff_t)pos),
			     (ssize_t)chunk);
	cr_assert_eq(iomap_file_sync(file), 0);
	wns = iomap_stats_now_ns() - t0;
	wcalls = f.stats.map_calls;
	cr_assert_eq(iomap_file_close(file), 0);
	cr_assert_eq(iomap_dev_close(dev), 0);
	/* read back cold: a new device, so no cached data */
	cr_assert_eq(iomap_dev_open(img, false, &p, &dev), 0);
	cr_assert_eq(iomap_file_open(dev, f.inode, fsa_ext2_ops.iomap, &file),
		     0);
	f.stats.map_calls = 0;
	t0 = iomap_stats_now_ns();
	for (size_t pos = 0; pos < total; pos += chunk)
		cr_assert_eq(iomap_file_read(file, buf, chunk, (loff_t)pos),
			     (ssize_t)chunk);
	rns = iomap_stats_now_ns() - t0;
	cr_log_info(
		"%s: write 32 MiB %llu map calls %.0f MiB/s; read %llu map calls "
		"%.0f MiB/s",
		name, (unsigned long long)wcalls, 32e9 / (double)wns,
		(unsigned long long)f.stats.map_calls, 32e9 / (double)rns);
	cr_assert_eq(iomap_file_close(file), 0);
	cr_assert_eq(iomap_dev_close(dev), 0);
	t_close(&f);
	free(buf);
}

Test(ext2_perf, copy_iomap_vs_bh)
{
	char *d = t_tmpdir();
	char img[512];

	snprintf(img, sizeof(img), "%s/img", d);
	cr_assert_eq(t_sh("mke2fs -q -F -t ext4 -b 4096 %s 256M", img), 0);
	copy_cost(img, IOMAP_IO_BUFFERED, IOMAP_MAPPER_IOMAP, "buffered-iomap");
	copy_cost(img, IOMAP_IO_BUFFERED, IOMAP_MAPPER_BH, "buffered-bh");
	copy_cost(img, IOMAP_IO_DIRECT, IOMAP_MAPPER_IOMAP, "direct-iomap");
	copy_cost(img, IOMAP_IO_DIRECT, IOMAP_MAPPER_BH, "direct-bh");
	cr_assert_eq(t_sh("e2fsck -fn %s >/dev/null 2>&1", img), 0);
	t_tmpdir_remove(d);
}
