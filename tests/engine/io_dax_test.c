// SPDX-License-Identifier: GPL-2.0
/* io_dax_test.c - the DAX path on a libpmem2 mapping of the image. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/magic.h>

#include <criterion/criterion.h>

#include "helpers.h"
#include "iomapctl/io.h"
#include "memfs.h"

#define IMG_SIZE (16U << 20)
#define ALLOC_START (8U << 20)

static char *dir, *img;
static struct memfs fs;
static struct iomap_dev *dev;
static struct iomap_file *file;

static void setup(void)
{
	dir = t_tmpdir();
	img = memfs_image_create(dir, "img", IMG_SIZE);
}

static void stop(void)
{
	if (file)
		cr_assert_eq(iomap_file_close(file), 0);
	if (dev)
		cr_assert_eq(iomap_dev_close(dev), 0);
	file = NULL;
	dev = NULL;
}

static void teardown(void)
{
	stop();
	memfs_destroy(&fs);
	free(img);
	t_tmpdir_remove(dir);
}

TestSuite(io_dax, .init = setup, .fini = teardown);

static void start(unsigned int blkbits, loff_t size,
		  const struct memfs_extent *t, int n, enum iomap_mapper mapper,
		  bool backed)
{
	struct iomap_io_params p = { .path = IOMAP_IO_DAX, .mapper = mapper };
	int ret;

	memfs_init(&fs, blkbits, size, t, n);
	if (backed)
		memfs_set_backed(&fs, ALLOC_START);
	memfs_image_fill(&fs, img, 1);
	ret = iomap_dev_open(img, true, &p, &dev);
	if (ret == -EOPNOTSUPP)
		cr_skip_test("libpmem2 cannot map %s here", img);
	cr_assert_eq(ret, 0);
	cr_assert_str_eq(iomap_dev_backend(dev), "pmem2");
	cr_assert_eq(iomap_file_open(dev, &fs.inode, &memfs_opset, &file), 0);
}

static void read_disk(uint64_t addr, uint8_t *buf, size_t len)
{
	int fd = open(img, O_RDONLY);

	cr_assert(fd >= 0);
	cr_assert_eq(pread(fd, buf, len, (off_t)addr), (ssize_t)len);
	close(fd);
}

/* A partial write into a hole: the new block's other bytes are zeroed. */
Test(io_dax, write_into_hole_zeroes_the_block_edges)
{
	uint8_t data[100], blk[4096];

	for (int m = 0; m < 2; m++) {
		start(12, 0, NULL, 0, m, true);
		memfs_pattern(data, sizeof(data), 5000, 3);
		cr_assert_eq(iomap_file_write(file, data, 100, 5000), 100);
		cr_assert_eq(fs.inode.size, 5100);
		cr_assert_eq(fs.nr, 1);
		cr_assert_eq(fs.ext[0].offset, 4096);
		read_disk(fs.ext[0].addr, blk, 4096);
		for (int i = 0; i < 4096; i++)
			cr_assert_eq(blk[i],
				     i >= 904 && i < 1004 ? data[i - 904] : 0,
				     "mapper %d disk byte %d", m, i);
		cr_assert_eq(fs.stats.blocks_zeroed, 2);
		stop();
		memfs_destroy(&fs);
	}
}

/* dax_write ops must hand out MAPPED blocks: anything else is -EIO. */
Test(io_dax, write_needs_mapped)
{
	static const struct memfs_extent t[] = {
		{ 0, 8192, IOMAP_UNWRITTEN, 0, 1 << 20 },
	};
	uint8_t data[10] = { 1 };

	start(12, 8192, t, 1, IOMAP_MAPPER_IOMAP, false);
	cr_assert_eq(iomap_file_write(file, data, 10, 0), -EIO);
}

Test(io_dax, read_holes_unwritten_and_eof)
{
	static const struct memfs_extent t[] = {
		{ 0, 4096, IOMAP_MAPPED, 0, 1 << 20 },
		{ 8192, 4096, IOMAP_UNWRITTEN, 0, 2 << 20 },
	};
	uint8_t buf[16384];

	for (int m = 0; m < 2; m++) {
		start(12, 10000, t, 2, m, false);
		memset(buf, 0xEE, sizeof(buf));
		cr_assert_eq(iomap_file_read(file, buf, sizeof(buf), 0), 10000);
		for (int i = 0; i < 10000; i++)
			cr_assert_eq(buf[i],
				     i < 4096 ? memfs_pattern_byte(i, 1) : 0,
				     "mapper %d byte %d", m, i);
		cr_assert_eq(buf[10000], 0xEE, "nothing past EOF");
		cr_assert_eq(fs.stats.bytes_read, 4096);
		cr_assert_eq(iomap_file_read(file, buf, 10, 10000), 0);
		if (m == IOMAP_MAPPER_BH)
			cr_assert_eq(fs.stats.map_calls, 3);
		else
			cr_assert_eq(fs.stats.map_calls, 3,
				     "map, hole, unwritten");
		stop();
		memfs_destroy(&fs);
	}
}

Test(io_dax, zero_range_uses_pmem_memset)
{
	static const struct memfs_extent t[] = {
		{ 0, 8192, IOMAP_MAPPED, 0, 1 << 20 },
	};
	uint8_t buf[8192], want[8192];

	for (int m = 0; m < 2; m++) {
		start(12, 8192, t, 1, m, false);
		memfs_expected(&fs, want, 1);
		cr_assert_eq(iomap_file_zero_range(file, 1000, 5000), 0);
		memset(want + 1000, 0, 5000);
		cr_assert_eq(iomap_file_read(file, buf, 8192, 0), 8192);
		cr_assert_arr_eq(buf, want, 8192);
		read_disk(1 << 20, buf, 8192);
		cr_assert_arr_eq(buf, want, 8192, "on the disk at once");
		cr_assert_eq(iomap_file_truncate_page(file, 7000), 0);
		memset(want + 7000, 0, 8192 - 7000);
		read_disk(1 << 20, buf, 8192);
		cr_assert_arr_eq(buf, want, 8192);
		stop();
		memfs_destroy(&fs);
	}
}

#ifndef __NR_cachestat
#define __NR_cachestat 451 /* the same on every architecture */
#endif

/* cachestat(2)'s range and answer (Linux 6.5; libc has no wrapper). */
struct t_cachestat_range {
	uint64_t off, len;
};

struct t_cachestat {
	uint64_t nr_cache, nr_dirty, nr_writeback, nr_evicted,
		nr_recently_evicted;
};

/*
 * Pages of the image in [@off, +@len) the kernel has not made durable
 * yet (dirty or under writeback), or -1 without cachestat(2).
 */
static long image_unpersisted(uint64_t off, uint64_t len)
{
	struct t_cachestat_range r = { off, len };
	struct t_cachestat cs;
	int fd = open(img, O_RDONLY);
	long ret;

	cr_assert(fd >= 0);
	ret = syscall(__NR_cachestat, fd, &r, &cs, 0);
	close(fd);
	return ret < 0 ? -1 : (long)(cs.nr_dirty + cs.nr_writeback);
}

/*
 * Stores are not persisted one by one: a sync persists them all (msync of
 * the image's page cache here), and so does closing the file and device.
 */
Test(io_dax, stores_persist_at_sync_and_close)
{
	static const struct memfs_extent t[] = {
		{ 0, 3 << 20, IOMAP_MAPPED, 0, 1 << 20 },
	};
	static uint8_t data[3 << 20], back[3 << 20];
	struct statfs sfs;
	int fd;

	cr_assert_eq(statfs(dir, &sfs), 0);
	if (sfs.f_type == TMPFS_MAGIC)
		cr_skip_test("%s is tmpfs: no writeback to see", dir);
	start(12, 3 << 20, t, 1, IOMAP_MAPPER_IOMAP, false);
	fd = open(img, O_RDONLY);
	cr_assert(fd >= 0);
	cr_assert_eq(fsync(fd), 0, "the image made by the test persisted");
	close(fd);
	if (image_unpersisted(1 << 20, 3 << 20) < 0)
		cr_skip_test("no cachestat(2) in this kernel");
	for (int round = 0; round < 2; round++) {
		memfs_pattern(data, sizeof(data), 0, 7 + round);
		cr_assert_eq(iomap_file_write(file, data, sizeof(data), 0),
			     (ssize_t)sizeof(data));
		cr_assert_gt(image_unpersisted(1 << 20, 3 << 20), 0,
			     "round %d: the stores wait for the sync", round);
		if (round == 0)
			cr_assert_eq(iomap_file_sync(file), 0);
		else
			stop();
		cr_assert_eq(image_unpersisted(1 << 20, 3 << 20), 0,
			     "round %d: persisted by %s", round,
			     round ? "close" : "sync");
		read_disk(1 << 20, back, sizeof(back));
		cr_assert_arr_eq(back, data, sizeof(data));
	}
}
