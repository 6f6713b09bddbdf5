// SPDX-License-Identifier: GPL-2.0
/* io_direct_test.c - direct I/O: alignment, holes, unwritten conversion,
 * stale data, EOF, request sizes and the io_uring backend. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <liburing.h>

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

static void teardown(void)
{
	if (file)
		iomap_file_close(file);
	if (dev)
		iomap_dev_close(dev);
	file = NULL;
	dev = NULL;
	memfs_destroy(&fs);
	free(img);
	t_tmpdir_remove(dir);
}

TestSuite(io_direct, .init = setup, .fini = teardown);

static void start(unsigned int blkbits, loff_t size,
		  const struct memfs_extent *t, int n, enum iomap_mapper mapper,
		  unsigned int depth)
{
	struct iomap_io_params p = { .path = IOMAP_IO_DIRECT,
				     .mapper = mapper,
				     .queue_depth = depth };

	memfs_init(&fs, blkbits, size, t, n);
	memfs_set_backed(&fs, ALLOC_START);
	memfs_image_fill(&fs, img, 1);
	cr_assert_eq(iomap_dev_open(img, true, &p, &dev), 0);
	cr_assert_eq(iomap_file_open(dev, &fs.inode, &memfs_opset, &file), 0);
}

static void *abuf(size_t len)
{
	void *p = NULL;

	cr_assert_eq(posix_memalign(&p, 4096, len + 4096), 0);
	cr_assert_not_null(p);
	memset(p, 0xEE, len + 4096);
	return p;
}

static const struct memfs_extent dense[] = {
	{ 0, 4 << 20, IOMAP_MAPPED, 0, 1 << 20 },
};

Test(io_direct, alignment_is_einval)
{
	uint8_t *buf = abuf(8192);

	start(12, 1 << 20, dense, 1, IOMAP_MAPPER_IOMAP, 0);
	cr_assert_eq(iomap_file_read(file, buf, 4096, 100), -EINVAL);
	cr_assert_eq(iomap_file_read(file, buf, 100, 0), -EINVAL);
	cr_assert_eq(iomap_file_read(file, buf + 1, 4096, 0), -EINVAL);
	cr_assert_eq(iomap_file_write(file, buf, 4096, 100), -EINVAL);
	cr_assert_eq(iomap_file_write(file, buf, 1000, 0), -EINVAL);
	cr_assert_eq(iomap_file_write(file, buf + 8, 4096, 0), -EINVAL);
	cr_assert_eq(fs.stats.io_requests, 0);
	/* Sector (not block) alignment is enough, as for the kernel. */
	cr_assert_eq(iomap_file_read(file, buf, 512, 512), 512);
	free(buf);
}

Test(io_direct, holes_and_unwritten_read_zeros_without_io)
{
	static const struct memfs_extent t[] = {
		{ 64 << 10, 64 << 10, IOMAP_UNWRITTEN, 0, 2 << 20 },
	};
	uint8_t *buf = abuf(256 << 10);

	for (int m = 0; m < 2; m++) {
		start(12, 256 << 10, t, 1, m, 0);
		cr_assert_eq(iomap_file_read(file, buf, 256 << 10, 0),
			     256 << 10);
		for (size_t i = 0; i < 256 << 10; i++)
			cr_assert_eq(buf[i], 0, "mapper %d byte %zu", m, i);
		cr_assert_eq(fs.stats.io_requests, 0);
		cr_assert_eq(fs.stats.bytes_read, 0);
		iomap_file_close(file);
		iomap_dev_close(dev);
		file = NULL;
		dev = NULL;
	}
	free(buf);
}

Test(io_direct, write_into_hole_converts_unwritten_at_end_io)
{
	uint8_t *buf = abuf(8192), *got = abuf(8192);

	start(12, 0, NULL, 0, IOMAP_MAPPER_IOMAP, 0);
	memfs_pattern(buf, 8192, 0, 3);
	cr_assert_eq(iomap_file_write(file, buf, 8192, 0), 8192);
	cr_assert_eq(fs.nr_end_io, 1);
	cr_assert_eq(fs.end_io_pos, 0);
	cr_assert_eq(fs.end_io_size, 8192);
	cr_assert(fs.end_io_flags & IOMAP_DIO_UNWRITTEN);
	cr_assert(fs.begins[0].flags & IOMAP_DIRECT);
	cr_assert(fs.begins[0].flags & IOMAP_WRITE);
	cr_assert_eq(fs.nr, 1);
	cr_assert_eq(fs.ext[0].type, IOMAP_MAPPED, "converted by end_io");
	cr_assert_eq(fs.inode.size, 8192);
	cr_assert_eq(iomap_file_read(file, got, 8192, 0), 8192);
	cr_assert_arr_eq(got, buf, 8192);
	free(buf);
	free(got);
}

/* The bytes of the block around a sector write into new blocks are zero. */
Test(io_direct, stale_data_never_returns)
{
	uint8_t *buf = abuf(512), *blk = malloc(4096);
	int fd;

	for (int m = 0; m < 2; m++) {
		start(12, 0, NULL, 0, m, 0);
		memfs_pattern(buf, 512, 5120, 9);
		cr_assert_eq(iomap_file_write(file, buf, 512, 5120), 512);
		cr_assert_eq(fs.inode.size, 5632);
		cr_assert_eq(fs.nr, 1, "mapper %d: one allocation", m);
		fd = open(img, O_RDONLY);
		cr_assert_eq(pread(fd, blk, 4096,
				   (off_t)fs.ext[0].addr +
					   (fs.ext[0].offset == 0 ? 4096 : 0)),
			     4096);
		close(fd);
		for (int i = 0; i < 4096; i++)
			cr_assert_eq(blk[i],
				     i >= 1024 && i < 1536 ? buf[i - 1024] : 0,
				     "mapper %d: disk byte %d", m, i);
		iomap_file_close(file);
		iomap_dev_close(dev);
		file = NULL;
		dev = NULL;
		free(img);
		img = memfs_image_create(dir, "img", IMG_SIZE);
	}
	free(buf);
	free(blk);
}

Test(io_direct, eof_short_and_zero)
{
	uint8_t *buf = abuf(16384);

	start(12, 10000, dense, 1, IOMAP_MAPPER_IOMAP, 0);
	cr_assert_eq(iomap_file_read(file, buf, 8192, 8192), 10000 - 8192);
	for (int i = 0; i < 10000 - 8192; i++)
		cr_assert_eq(buf[i], memfs_pattern_byte(8192 + i, 1));
	cr_assert_eq(iomap_file_read(file, buf, 4096, 12288), 0);
	cr_assert_eq(iomap_file_read(file, buf, 4096, 10000), 0,
		     "past EOF before the alignment check");
	free(buf);
}

Test(io_direct, delalloc_is_eio)
{
	static const struct memfs_extent t[] = {
		{ 0, 8192, IOMAP_DELALLOC, 0, IOMAP_NULL_ADDR },
	};
	uint8_t *buf = abuf(8192);

	start(12, 8192, t, 1, IOMAP_MAPPER_IOMAP, 0);
	cr_assert_eq(iomap_file_read(file, buf, 8192, 0), -EIO);
	free(buf);
}

Test(io_direct, inline_data_is_copied)
{
	static const struct memfs_extent t[] = {
		{ 0, 100, IOMAP_INLINE, 0, IOMAP_NULL_ADDR },
	};
	uint8_t *buf = abuf(4096);

	start(12, 100, t, 1, IOMAP_MAPPER_IOMAP, 0);
	cr_assert_eq(iomap_file_read(file, buf, 4096, 0), 100);
	cr_assert_arr_eq(buf, fs.inline_data, 100);
	cr_assert_eq(fs.stats.io_requests, 0);
	free(buf);
}

/* One request per 1 MiB of extent for iomap, one per block for bh. */
Test(io_direct, requests_per_extent_vs_per_block)
{
	size_t len = 4 << 20;
	uint8_t *buf = abuf(len);

	start(12, (loff_t)len, dense, 1, IOMAP_MAPPER_IOMAP, 0);
	cr_assert_eq(iomap_file_read(file, buf, len, 0), (ssize_t)len);
	cr_assert_eq(fs.stats.map_calls, 1);
	cr_assert_eq(fs.stats.io_requests, 4);
	cr_assert_eq(fs.stats.bytes_read, len);
	iomap_file_close(file);
	iomap_dev_close(dev);
	file = NULL;
	dev = NULL;
	start(12, (loff_t)len, dense, 1, IOMAP_MAPPER_BH, 0);
	cr_assert_eq(iomap_file_read(file, buf, len, 0), (ssize_t)len);
	cr_assert_eq(fs.stats.map_calls, len / 4096);
	cr_assert_eq(fs.stats.io_requests, len / 4096);
	cr_assert_eq(fs.stats.bytes_read, len);
	for (size_t i = 0; i < len; i += 4093)
		cr_assert_eq(buf[i], memfs_pattern_byte((loff_t)i, 1));
	free(buf);
}

static int submit_fd = -1, nr_submit;

static int test_submit_io(const struct iomap_iter *iter, struct iomap_bio *bio,
			  loff_t file_offset)
{
	(void)iter;
	nr_submit++;
	cr_assert_eq(bio->file_offset, file_offset);
	if (bio->write)
		return pwrite(submit_fd, bio->buf, bio->len,
			      (off_t)bio->addr) == (ssize_t)bio->len ?
			       0 :
			       -EIO;
	return pread(submit_fd, bio->buf, bio->len, (off_t)bio->addr) ==
			       (ssize_t)bio->len ?
		       0 :
		       -EIO;
}

Test(io_direct, submit_io_takes_over)
{
	static const struct iomap_dio_ops dops = {
		.submit_io = test_submit_io,
	};
	struct iomap_opset ops = memfs_opset;
	struct iomap_io_params p = { .path = IOMAP_IO_DIRECT };
	uint8_t *buf = abuf(3 << 20);

	ops.dio = &dops;
	memfs_init(&fs, 12, 3 << 20, dense, 1);
	memfs_image_fill(&fs, img, 1);
	submit_fd = open(img, O_RDWR);
	cr_assert_eq(iomap_dev_open(img, true, &p, &dev), 0);
	cr_assert_eq(iomap_file_open(dev, &fs.inode, &ops, &file), 0);
	cr_assert_eq(iomap_file_read(file, buf, 3 << 20, 0), 3 << 20);
	cr_assert_eq(nr_submit, 3, "split at 1 MiB");
	for (size_t i = 0; i < 3 << 20; i += 999)
		cr_assert_eq(buf[i], memfs_pattern_byte((loff_t)i, 1));
	close(submit_fd);
	free(buf);
}

Test(io_direct, io_uring_many_in_flight)
{
	struct io_uring ring;
	size_t len = 2 << 20;
	uint8_t *buf = abuf(len);
	int ret = io_uring_queue_init(4, &ring, 0);

	if (ret < 0)
		cr_skip_test("io_uring unavailable here (%s): the engine "
			     "falls back to pread/pwrite",
			     strerror(-ret));
	io_uring_queue_exit(&ring);
	for (unsigned int depth = 1; depth <= 64; depth *= 8) {
		start(12, (loff_t)len, dense, 1, IOMAP_MAPPER_BH, depth);
		cr_assert_str_eq(iomap_dev_backend(dev), "io_uring");
		cr_assert(iomap_dev_is_direct(dev));
		memset(buf, 0, len);
		cr_assert_eq(iomap_file_read(file, buf, len, 0), (ssize_t)len);
		for (size_t i = 0; i < len; i++)
			cr_assert_eq(buf[i], memfs_pattern_byte((loff_t)i, 1),
				     "depth %u byte %zu", depth, i);
		iomap_file_close(file);
		iomap_dev_close(dev);
		file = NULL;
		dev = NULL;
		memfs_destroy(&fs);
	}
	free(buf);
}

/* Cached dirty data is written back before a direct read sees the disk. */
Test(io_direct, flushes_the_page_cache_first)
{
	uint8_t *buf = abuf(4096);

	start(12, 1 << 20, dense, 1, IOMAP_MAPPER_IOMAP, 0);
	cr_assert_eq(iomap_file_zero_range(file, 0, 4096), 0);
	cr_assert_eq(iomap_file_read(file, buf, 4096, 0), 4096);
	for (int i = 0; i < 4096; i++)
		cr_assert_eq(buf[i], 0);
	cr_assert_eq(fs.inode.cache->nr, 0, "cache invalidated");
	free(buf);
}

/* The sub-block zeroing goes through ->submit_io like the data. */
Test(io_direct, submit_io_sees_the_zeroing)
{
	static const struct iomap_dio_ops dops = {
		.submit_io = test_submit_io,
	};
	struct iomap_opset ops = memfs_opset;
	struct iomap_io_params p = { .path = IOMAP_IO_DIRECT };
	uint8_t *buf = abuf(512), blk[4096];

	ops.dio = &dops;
	memfs_init(&fs, 12, 0, NULL, 0);
	memfs_set_backed(&fs, ALLOC_START);
	submit_fd = open(img, O_RDWR);
	nr_submit = 0;
	cr_assert_eq(iomap_dev_open(img, true, &p, &dev), 0);
	cr_assert_eq(iomap_file_open(dev, &fs.inode, &ops, &file), 0);
	memfs_pattern(buf, 512, 1024, 5);
	cr_assert_eq(iomap_file_write(file, buf, 512, 1024), 512);
	cr_assert_eq(nr_submit, 3, "head zeros, data, tail zeros");
	cr_assert_eq(pread(submit_fd, blk, 4096, ALLOC_START), 4096);
	for (int i = 0; i < 4096; i++)
		cr_assert_eq(blk[i], i >= 1024 && i < 1536 ? buf[i - 1024] : 0);
	close(submit_fd);
	free(buf);
}

/* §10.7: a sector write into an UNWRITTEN extent zeroes the rest of its
 * block, and ->end_io converts it (whole blocks) afterwards. */
Test(io_direct, write_into_unwritten_zeroes_and_converts)
{
	static const struct memfs_extent t[] = {
		{ 0, 16384, IOMAP_UNWRITTEN, 0, 2 << 20 },
	};
	uint8_t *buf = abuf(1024), *got = abuf(16384);

	start(12, 16384, t, 1, IOMAP_MAPPER_IOMAP, 0);
	memfs_pattern(buf, 1024, 5120, 6);
	cr_assert_eq(iomap_file_write(file, buf, 1024, 5120), 1024);
	cr_assert_eq(fs.nr_end_io, 1);
	cr_assert(fs.end_io_flags & IOMAP_DIO_UNWRITTEN);
	cr_assert_eq(fs.end_io_pos, 5120);
	cr_assert_eq(fs.end_io_size, 1024);
	cr_assert_eq(fs.stats.blocks_zeroed, 2, "head and tail of block 1");
	/* [4096, 8192) is written now, the rest still unwritten. */
	cr_assert_eq(fs.nr, 3);
	cr_assert_eq(fs.ext[1].offset, 4096);
	cr_assert_eq(fs.ext[1].type, IOMAP_MAPPED);
	cr_assert_eq(fs.ext[0].type, IOMAP_UNWRITTEN);
	cr_assert_eq(fs.ext[2].type, IOMAP_UNWRITTEN);
	cr_assert_eq(iomap_file_read(file, got, 16384, 0), 16384);
	for (int i = 0; i < 16384; i++)
		cr_assert_eq(got[i], i >= 5120 && i < 6144 ? buf[i - 5120] : 0,
			     "byte %d", i);
	free(buf);
	free(got);
}
