// SPDX-License-Identifier: GPL-2.0
/* io_stats_test.c - what each path costs under each mapper: mapping calls
 * per extent for iomap and the hybrid, per block for buffer heads; buffer
 * heads per block for bh and the hybrid on buffered I/O, none for iomap
 * (run with --verbose to see the figures). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <criterion/logging.h>

#include "helpers.h"
#include "iomapctl/io.h"
#include "memfs.h"

#define FILE_SIZE (16U << 20)
#define IMG_SIZE (48U << 20)

static const char *const path_names[] = { "buffered", "direct", "dax" };
static const char *const mapper_names[] = { "iomap", "bh", "hybrid" };

static char *dir, *img;

static void setup(void)
{
	dir = t_tmpdir();
	img = memfs_image_create(dir, "img", IMG_SIZE);
}

static void teardown(void)
{
	free(img);
	t_tmpdir_remove(dir);
}

TestSuite(io_stats, .init = setup, .fini = teardown);

/* Keep the host's writeback of the fill out of the measurement. */
static void image_sync(void)
{
	int fd = open(img, O_RDWR);

	cr_assert(fd >= 0);
	cr_assert_eq(fdatasync(fd), 0);
	close(fd);
}

/* 1 extent, or 256 extents of 64 KiB laid out backwards. */
static void layout(struct memfs *fs, bool frag)
{
	struct memfs_extent t[256];
	int n = frag ? 256 : 1;

	for (int i = 0; i < n; i++)
		t[i] = (struct memfs_extent){ (loff_t)i * (FILE_SIZE / n),
					      FILE_SIZE / n, IOMAP_MAPPED, 0,
					      frag ? (uint64_t)(255 - i) *
							      (64 << 10) :
						     (uint64_t)FILE_SIZE };
	memfs_init(fs, 12, FILE_SIZE, t, n);
}

static void read_cost(enum iomap_io_path path, enum iomap_mapper mapper,
		      bool frag, uint8_t *buf)
{
	struct iomap_io_params p = { .path = path,
				     .mapper = mapper,
				     .max_folio_order = 9 };
	uint64_t blocks = FILE_SIZE >> 12;
	struct iomap_dev *dev;
	struct iomap_file *file;
	struct memfs fs;
	int ret;

	layout(&fs, frag);
	memfs_image_fill(&fs, img, 2);
	image_sync();
	ret = iomap_dev_open(img, false, &p, &dev);
	cr_assert_eq(ret, 0);
	cr_assert_eq(iomap_file_open(dev, &fs.inode, &memfs_opset, &file), 0);
	for (loff_t pos = 0; pos < FILE_SIZE; pos += 1 << 20)
		cr_assert_eq(iomap_file_read(file, buf + pos, 1 << 20, pos),
			     1 << 20);
	for (size_t i = 0; i < FILE_SIZE; i += 4099)
		cr_assert_eq(buf[i], memfs_pattern_byte((loff_t)i, 2));
	cr_log_info("read %s/%s/%s: map_calls %llu io_requests %llu "
		    "bytes_read %llu %.0f MB/s",
		    path_names[path], mapper_names[mapper],
		    frag ? "256 extents" : "1 extent",
		    (unsigned long long)fs.stats.map_calls,
		    (unsigned long long)fs.stats.io_requests,
		    (unsigned long long)fs.stats.bytes_read,
		    FILE_SIZE * 1e3 / (double)fs.stats.wall_ns);
	/* O(B) buffer heads where folios keep them, none for iomap. */
	if (mapper == IOMAP_MAPPER_IOMAP || path != IOMAP_IO_BUFFERED)
		cr_assert_eq(fs.stats.bh_allocated, 0);
	else
		cr_assert(fs.stats.bh_allocated >= blocks &&
				  fs.stats.bh_allocated <= 2 * blocks,
			  "%llu buffer heads",
			  (unsigned long long)fs.stats.bh_allocated);
	if (mapper == IOMAP_MAPPER_BH) {
		cr_assert_eq(fs.stats.map_calls, blocks);
	} else {
		/* One per extent, plus one per read call crossing extents. */
		cr_assert_leq(fs.stats.map_calls, (uint64_t)fs.nr + 16 + 16);
		cr_assert_lt(fs.stats.map_calls * 8, blocks);
	}
	if (path != IOMAP_IO_DAX && mapper == IOMAP_MAPPER_BH)
		cr_assert_eq(fs.stats.io_requests, blocks);
	if (path != IOMAP_IO_DAX && mapper != IOMAP_MAPPER_BH)
		cr_assert_leq(fs.stats.io_requests, (uint64_t)fs.nr + 32);
	cr_assert_eq(iomap_file_close(file), 0);
	cr_assert_eq(iomap_dev_close(dev), 0);
	memfs_destroy(&fs);
}

/* Through the paths [@p0, @p1], each mapper, 1 and 256 extents. */
static void read_costs(int p0, int p1)
{
	uint8_t *buf = malloc(FILE_SIZE);
	void *abuf = NULL;

	cr_assert_eq(posix_memalign(&abuf, 4096, FILE_SIZE), 0);
	for (int frag = 0; frag < 2; frag++)
		for (int p = p0; p <= p1; p++)
			for (int m = 0; m < IOMAP_MAPPER_COUNT; m++)
				read_cost(p, m, frag,
					  p == IOMAP_IO_DIRECT ? abuf : buf);
	free(buf);
	free(abuf);
}

Test(io_stats, read_costs)
{
	read_costs(IOMAP_IO_BUFFERED, IOMAP_IO_DIRECT);
}

Test(io_stats, read_costs_dax)
{
	if (!t_dax_maps(img))
		cr_skip_test("libpmem2 cannot map %s here: DAX not measured",
			     img);
	read_costs(IOMAP_IO_DAX, IOMAP_IO_DAX);
}

Test(io_stats, buffered_write_costs)
{
	uint8_t *buf = malloc(1 << 20);

	memfs_pattern(buf, 1 << 20, 0, 3);
	for (int m = 0; m < IOMAP_MAPPER_COUNT; m++) {
		struct iomap_io_params p = { .path = IOMAP_IO_BUFFERED,
					     .mapper = m,
					     .max_folio_order = 9 };
		struct iomap_dev *dev;
		struct iomap_file *file;
		struct memfs fs;

		memfs_init(&fs, 12, 0, NULL, 0);
		memfs_set_backed(&fs, 1 << 20);
		cr_assert_eq(iomap_dev_open(img, true, &p, &dev), 0);
		cr_assert_eq(iomap_file_open(dev, &fs.inode, &memfs_opset,
					     &file),
			     0);
		for (loff_t pos = 0; pos < FILE_SIZE; pos += 1 << 20)
			cr_assert_eq(iomap_file_write(file, buf, 1 << 20, pos),
				     1 << 20);
		cr_assert_eq(iomap_file_sync(file), 0);
		cr_log_info("write buffered/%s: map_calls %llu io_requests "
			    "%llu written_back %llu dirtied %llu WA %.3f",
			    mapper_names[m],
			    (unsigned long long)fs.stats.map_calls,
			    (unsigned long long)fs.stats.io_requests,
			    (unsigned long long)fs.stats.bytes_written_back,
			    (unsigned long long)fs.stats.bytes_dirtied,
			    iomap_stats_write_amplification(&fs.stats));
		cr_assert_float_eq(iomap_stats_write_amplification(&fs.stats),
				   1.0, 1e-9);
		if (m == IOMAP_MAPPER_BH) {
			cr_assert_eq(fs.stats.map_calls, FILE_SIZE >> 12);
			cr_assert_eq(fs.stats.io_requests, FILE_SIZE >> 12);
		} else {
			/* The hybrid writes back from its buffer heads. */
			cr_assert_leq(fs.stats.map_calls, 64);
			cr_assert_leq(fs.stats.io_requests, 64);
		}
		if (m == IOMAP_MAPPER_IOMAP)
			cr_assert_eq(fs.stats.bh_allocated, 0);
		else
			cr_assert_eq(fs.stats.bh_allocated, FILE_SIZE >> 12);
		cr_assert_eq(iomap_file_close(file), 0);
		cr_assert_eq(iomap_dev_close(dev), 0);
		memfs_destroy(&fs);
	}
	free(buf);
}

/* Random 4 KiB direct reads: one mapping call and one request each. */
Test(io_stats, random_4k_direct_reads)
{
	void *buf = NULL;
	uint64_t x = 88172645463325252ULL;

	cr_assert_eq(posix_memalign(&buf, 4096, 4096), 0);
	for (int m = 0; m < 2; m++) {
		struct iomap_io_params p = { .path = IOMAP_IO_DIRECT,
					     .mapper = m };
		struct iomap_dev *dev;
		struct iomap_file *file;
		struct memfs fs;

		layout(&fs, true);
		memfs_image_fill(&fs, img, 2);
		image_sync();
		cr_assert_eq(iomap_dev_open(img, false, &p, &dev), 0);
		cr_assert_eq(iomap_file_open(dev, &fs.inode, &memfs_opset,
					     &file),
			     0);
		for (int i = 0; i < 2000; i++) {
			loff_t pos;

			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			pos = (loff_t)(x % (FILE_SIZE / 4096)) * 4096;
			cr_assert_eq(iomap_file_read(file, buf, 4096, pos),
				     4096);
			cr_assert_eq(((uint8_t *)buf)[17],
				     memfs_pattern_byte(pos + 17, 2));
		}
		cr_log_info("random 4k direct/%s: %llu map_calls %llu requests "
			    "%.0f IOPS (QD1)",
			    mapper_names[m],
			    (unsigned long long)fs.stats.map_calls,
			    (unsigned long long)fs.stats.io_requests,
			    2000 * 1e9 / (double)fs.stats.wall_ns);
		cr_assert_eq(fs.stats.map_calls, 2000);
		cr_assert_eq(fs.stats.io_requests, 2000);
		cr_assert_eq(iomap_file_close(file), 0);
		cr_assert_eq(iomap_dev_close(dev), 0);
		memfs_destroy(&fs);
	}
	free(buf);
}
