// SPDX-License-Identifier: GPL-2.0
/* io_buffered_test.c - the page cache path: per-block dirty writeback, large
 * folios, eviction, zero-range, truncate, EOF, short mappings, ioends. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

TestSuite(io_buffered, .init = setup, .fini = teardown);

static void open_file(enum iomap_mapper mapper, unsigned int order,
		      size_t cache, const struct iomap_opset *ops)
{
	struct iomap_io_params p = { .path = IOMAP_IO_BUFFERED,
				     .mapper = mapper,
				     .cache_bytes = cache,
				     .max_folio_order = order };

	cr_assert_eq(iomap_dev_open(img, true, &p, &dev), 0);
	cr_assert_eq(iomap_file_open(dev, &fs.inode, ops ? ops : &memfs_opset,
				     &file),
		     0);
}

static void start(unsigned int blkbits, loff_t size,
		  const struct memfs_extent *t, int n, enum iomap_mapper mapper,
		  unsigned int order, size_t cache)
{
	memfs_init(&fs, blkbits, size, t, n);
	memfs_set_backed(&fs, ALLOC_START);
	memfs_image_fill(&fs, img, 1);
	open_file(mapper, order, cache, NULL);
}

static void check_file(const uint8_t *want, loff_t size)
{
	uint8_t *got = malloc((size_t)size + 1);

	cr_assert_eq(iomap_file_read(file, got, (size_t)size + 1, 0), size);
	for (loff_t i = 0; i < size; i++)
		cr_assert_eq(got[i], want[i], "byte %lld: %#x != %#x",
			     (long long)i, got[i], want[i]);
	free(got);
}

static const struct memfs_extent dense64k[] = {
	{ 0, 64 << 10, IOMAP_MAPPED, 0, 1 << 20 },
};

/* §10.12: 1-byte writes into uptodate folios write back one block each. */
Test(io_buffered, one_byte_writes_write_back_one_block)
{
	static const loff_t offs[] = { 5, 3000, 9999, 20480, 40000, 65535 };
	const size_t n = sizeof(offs) / sizeof(offs[0]);
	uint8_t want[64 << 10], byte = 0x5A;

	for (int m = 0; m < 2; m++) {
		for (unsigned int order = 0; order <= 4; order += 4) {
			start(10, 64 << 10, dense64k, 1, m, order, 0);
			memfs_expected(&fs, want, 1);
			check_file(want, 64 << 10);
			cr_assert_eq(fs.inode.cache->folios[0]->order, order,
				     "sequential read built %u KiB folios",
				     4U << order);
			memset(&fs.stats, 0, sizeof(fs.stats));
			for (size_t i = 0; i < n; i++) {
				cr_assert_eq(iomap_file_write(file, &byte, 1,
							      offs[i]),
					     1);
				want[offs[i]] = byte;
			}
			cr_assert_eq(iomap_file_sync(file), 0);
			cr_assert_eq(fs.stats.bytes_dirtied, n);
			cr_assert_eq(
				fs.stats.bytes_written_back, n * 1024,
				"mapper %d order %u: wrote back %llu", m, order,
				(unsigned long long)fs.stats.bytes_written_back);
			cr_assert_eq(fs.stats.io_requests, n);
			cr_assert_eq(fs.stats.bytes_read, 0,
				     "nothing read for a cached write");
			cr_assert_float_eq(
				iomap_stats_write_amplification(&fs.stats),
				1024.0, 1e-9);
			stop();
			open_file(m, order, 0, NULL);
			check_file(want, 64 << 10);
			stop();
			memfs_destroy(&fs);
		}
	}
}

/* A sub-folio write reads only the partial blocks it does not cover. */
Test(io_buffered, partial_write_reads_only_edge_blocks)
{
	uint8_t buf[5000], want[64 << 10];

	start(10, 64 << 10, dense64k, 1, IOMAP_MAPPER_IOMAP, 4, 0);
	memfs_expected(&fs, want, 1);
	memfs_pattern(buf, sizeof(buf), 0, 9);
	cr_assert_eq(iomap_file_write(file, buf, sizeof(buf), 1000), 5000);
	memcpy(want + 1000, buf, sizeof(buf));
	/* Blocks 0 and 5 are partial: two block reads, nothing else. */
	cr_assert_eq(fs.stats.io_requests, 2);
	cr_assert_eq(fs.stats.bytes_read, 2048);
	cr_assert_eq(iomap_file_sync(file), 0);
	cr_assert_eq(fs.stats.bytes_written_back, 6 * 1024, "one ioend");
	cr_assert_eq(fs.stats.io_requests, 3);
	check_file(want, 64 << 10);
}

Test(io_buffered, large_folios_for_sequential_reads)
{
	static const struct memfs_extent t[] = {
		{ 0, 8 << 20, IOMAP_MAPPED, 0, 0 },
	};
	size_t len = 8 << 20, chunk = 256 << 10;
	uint8_t *buf = malloc(chunk);
	unsigned int max_order = 0;

	start(12, (loff_t)len, t, 1, IOMAP_MAPPER_IOMAP, 9, 64 << 20);
	for (size_t pos = 0; pos < len; pos += chunk) {
		cr_assert_eq(iomap_file_read(file, buf, chunk, (loff_t)pos),
			     (ssize_t)chunk);
		for (size_t i = 0; i < chunk; i += 511)
			cr_assert_eq(buf[i],
				     memfs_pattern_byte((loff_t)(pos + i), 1));
	}
	for (size_t i = 0; i < fs.inode.cache->nr; i++)
		if (fs.inode.cache->folios[i]->order > max_order)
			max_order = fs.inode.cache->folios[i]->order;
	cr_assert_eq(max_order, 9, "2 MiB folios once readahead ramps up");
	cr_assert_eq(fs.stats.bytes_read, len, "each byte read once: %llu",
		     (unsigned long long)fs.stats.bytes_read);
	cr_assert_lt(fs.stats.io_requests, 32);
	cr_assert_lt(fs.stats.map_calls, 32);
	free(buf);
}

/* A 64 KiB bound over a 1 MiB file: evicted dirty data is written first. */
Test(io_buffered, eviction_keeps_data)
{
	size_t len = 1 << 20, limit = 64 << 10;
	uint8_t *want = malloc(len), *buf = malloc(10000);

	for (int m = 0; m < 2; m++) {
		start(12, 0, NULL, 0, m, 2, limit);
		for (size_t pos = 0; pos < len; pos += 10000) {
			size_t n = len - pos < 10000 ? len - pos : 10000;

			memfs_pattern(buf, n, (loff_t)pos, 4);
			cr_assert_eq(iomap_file_write(file, buf, n,
						      (loff_t)pos),
				     (ssize_t)n);
			memcpy(want + pos, buf, n);
			cr_assert_leq(iomap_cache_lru_bytes(fs.inode.cache),
				      limit, "cache bound: %zu at %zu",
				      iomap_cache_lru_bytes(fs.inode.cache),
				      pos);
		}
		check_file(want, (loff_t)len);
		cr_assert_leq(iomap_cache_lru_bytes(fs.inode.cache), limit);
		cr_assert_gt(fs.stats.bytes_written_back, 0);
		stop();
		open_file(IOMAP_MAPPER_IOMAP, 0, 0, NULL);
		check_file(want, (loff_t)len);
		stop();
		memfs_destroy(&fs);
	}
	free(want);
	free(buf);
}

static bool ext_overlaps(const struct memfs_extent *e, loff_t start, loff_t end)
{
	return e->offset < end && e->offset + (loff_t)e->length > start;
}

/* §10.3: [1000, 9000) over MAPPED, HOLE, UNWRITTEN with bs 4096. */
Test(io_buffered, zero_range_unaligned)
{
	static const struct memfs_extent t[] = {
		{ 0, 4096, IOMAP_MAPPED, 0, 1 << 20 },
		{ 8192, 4096, IOMAP_UNWRITTEN, 0, 2 << 20 },
	};
	uint8_t want[12288], data[1000];

	for (int m = 0; m < 2; m++) {
		start(12, 12288, t, 2, m, 0, 0);
		memfs_expected(&fs, want, 1);
		/* Dirty cached data over the unwritten extent must be zeroed. */
		memfs_pattern(data, sizeof(data), 8500, 5);
		cr_assert_eq(iomap_file_write(file, data, 1000, 8500), 1000);
		memcpy(want + 8500, data, 1000);
		memset(&fs.stats, 0, sizeof(fs.stats));
		cr_assert_eq(iomap_file_zero_range(file, 1000, 8000), 0);
		memset(want + 1000, 0, 8000);
		cr_assert_eq(fs.stats.bytes_written, 0, "zeroing dirties only");
		/* Both mappers: nothing allocated, the hole stays a hole. */
		cr_assert_eq(fs.nr, 2, "mapper %d: %d extents", m, fs.nr);
		for (int i = 0; i < fs.nr; i++)
			cr_assert(!ext_overlaps(&fs.ext[i], 4096, 8192),
				  "mapper %d: extent %d over the hole", m, i);
		check_file(want, 12288);
		cr_assert_eq(iomap_file_sync(file), 0);
		stop();
		open_file(IOMAP_MAPPER_IOMAP, 0, 0, NULL);
		check_file(want, 12288);
		stop();
		memfs_destroy(&fs);
	}
}

/* §10.4: truncate 10000 -> 5000 mid-block, then extend again. */
Test(io_buffered, truncate_page_then_extend)
{
	static const struct memfs_extent t[] = {
		{ 0, 16384, IOMAP_MAPPED, 0, 1 << 20 },
	};
	uint8_t want[12001], x = 'x';

	for (int m = 0; m < 2; m++) {
		start(12, 10000, t, 1, m, 2, 0);
		memfs_expected(&fs, want, 1);
		check_file(want, 10000);
		cr_assert_eq(iomap_file_truncate_page(file, 5000), 0);
		fs.inode.size = 5000;
		iomap_file_invalidate(file, 5000);
		memset(&fs.stats, 0, sizeof(fs.stats));
		cr_assert_eq(iomap_file_truncate_page(file, 8192), 0);
		cr_assert_eq(fs.stats.bytes_dirtied, 0, "aligned: no zeroing");
		cr_assert_eq(iomap_file_write(file, &x, 1, 12000), 1);
		memset(want + 5000, 0, 7000);
		want[12000] = x;
		check_file(want, 12001);
		stop();
		open_file(IOMAP_MAPPER_IOMAP, 0, 0, NULL);
		check_file(want, 12001);
		stop();
		memfs_destroy(&fs);
	}
}

/* §10.5: a write past EOF sets SIZE_CHANGED; writeback zeroes past EOF. */
Test(io_buffered, eof_size_changed_and_tail_zeroed)
{
	uint8_t data[100], blk[4096];
	int fd;

	start(12, 0, NULL, 0, IOMAP_MAPPER_IOMAP, 0, 0);
	memfs_pattern(data, sizeof(data), 0, 2);
	cr_assert_eq(iomap_file_write(file, data, 100, 0), 100);
	cr_assert_eq(fs.inode.size, 100);
	cr_assert(fs.ends[fs.nr_end - 1].map_flags & IOMAP_F_SIZE_CHANGED);
	cr_assert_eq(iomap_file_write(file, data, 50, 10), 50);
	cr_assert_not(fs.ends[fs.nr_end - 1].map_flags & IOMAP_F_SIZE_CHANGED,
		      "an overwrite inside EOF");
	cr_assert_eq(iomap_file_sync(file), 0);
	fd = open(img, O_RDONLY);
	cr_assert_eq(pread(fd, blk, 4096, (off_t)fs.ext[0].addr), 4096);
	close(fd);
	for (int i = 100; i < 4096; i++)
		cr_assert_eq(blk[i], 0, "past-EOF byte %d on disk", i);
}

/* §10.1: 4 KiB mappings under a 10 KiB write at 3 KiB. */
Test(io_buffered, short_mappings_across_a_write)
{
	uint8_t buf[10240], want[64 << 10];
	uint64_t sum = 0;

	start(10, 64 << 10, dense64k, 1, IOMAP_MAPPER_IOMAP, 0, 0);
	memfs_expected(&fs, want, 1);
	fs.max_map = 4096;
	fs.nr_begin = fs.nr_end = 0;
	memfs_pattern(buf, sizeof(buf), 3072, 8);
	cr_assert_eq(iomap_file_write(file, buf, sizeof(buf), 3072), 10240);
	memcpy(want + 3072, buf, sizeof(buf));
	/* Pieces are 4 KiB-aligned: 1 KiB, 4 KiB, 4 KiB, 1 KiB. */
	cr_assert_eq(fs.nr_begin, 4);
	cr_assert_eq(fs.nr_end, 4);
	for (int i = 0; i < 4; i++) {
		cr_assert_eq(fs.ends[i].pos, fs.begins[i].pos);
		cr_assert_eq(fs.ends[i].written,
			     i == 0 || i == 3 ? 1024 : 4096);
		cr_assert(fs.begins[i].flags & IOMAP_WRITE);
		sum += (uint64_t)fs.ends[i].written;
	}
	cr_assert_eq(sum, 10240);
	check_file(want, 64 << 10);
}

/* §10.14: contiguous dirty blocks merge into one ioend unless told not. */
Test(io_buffered, ioend_merging)
{
	static const struct {
		uint16_t type, flags;
		uint64_t addr;
		uint64_t requests;
	} cases[] = {
		{ IOMAP_MAPPED, 0, (1 << 20) + 8192, 1 },
		{ IOMAP_MAPPED, IOMAP_F_BOUNDARY, (1 << 20) + 8192, 2 },
		{ IOMAP_UNWRITTEN, 0, (1 << 20) + 8192, 2 },
		{ IOMAP_MAPPED, 0, 2 << 20, 2 },
	};
	uint8_t buf[16384];

	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		struct memfs_extent t[] = {
			{ 0, 8192, IOMAP_MAPPED, 0, 1 << 20 },
			{ 8192, 8192, cases[c].type, cases[c].flags,
			  cases[c].addr },
		};

		start(12, 16384, t, 2, IOMAP_MAPPER_IOMAP, 2, 0);
		memfs_pattern(buf, sizeof(buf), 0, 6);
		cr_assert_eq(iomap_file_write(file, buf, sizeof(buf), 0),
			     16384);
		memset(&fs.stats, 0, sizeof(fs.stats));
		fs.nr_wb_submit = 0;
		cr_assert_eq(iomap_file_sync(file), 0);
		cr_assert_eq(fs.stats.io_requests, cases[c].requests,
			     "case %zu", c);
		cr_assert_eq(fs.nr_wb_submit, (int)cases[c].requests);
		cr_assert_eq(fs.stats.bytes_written_back, 16384);
		cr_assert_eq(fs.ext[1].type, IOMAP_MAPPED, "converted");
		check_file(buf, 16384);
		stop();
		memfs_destroy(&fs);
	}
}

/* No writeback ops: buffered_write's mapping allocates at writeback. */
Test(io_buffered, writeback_without_writeback_ops)
{
	struct iomap_opset ops = memfs_opset;
	uint8_t buf[20000];

	ops.writeback = NULL;
	memfs_init(&fs, 12, 0, NULL, 0);
	memfs_set_backed(&fs, ALLOC_START);
	open_file(IOMAP_MAPPER_IOMAP, 0, 0, &ops);
	memfs_pattern(buf, sizeof(buf), 0, 3);
	cr_assert_eq(iomap_file_write(file, buf, sizeof(buf), 0), 20000);
	cr_assert_eq(iomap_file_sync(file), 0);
	cr_assert_eq(fs.nr_map_blocks, 0);
	cr_assert_eq(fs.stats.bytes_written_back, 20480);
	stop();
	open_file(IOMAP_MAPPER_IOMAP, 0, 0, &ops);
	check_file(buf, 20000);
}

/* Stale data: partial writes into new blocks never show the marker. */
Test(io_buffered, stale_data_never_returns)
{
	static const loff_t offs[] = { 100, 5000, 12345, 40000, 40001 };
	uint8_t *all = malloc(1 << 20), byte = 1;

	for (int m = 0; m < 2; m++) {
		start(10, 0, NULL, 0, m, 4, 0);
		for (size_t i = 0; i < sizeof(offs) / sizeof(offs[0]); i++)
			cr_assert_eq(iomap_file_write(file, &byte, 1, offs[i]),
				     1);
		cr_assert_eq(iomap_file_sync(file), 0);
		stop();
		open_file(IOMAP_MAPPER_IOMAP, 0, 0, NULL);
		cr_assert_eq(iomap_file_read(file, all, 1 << 20, 0), 40002);
		for (loff_t i = 0; i < 40002; i++)
			cr_assert_neq(all[i], MEMFS_MARKER, "mapper %d: %lld",
				      m, (long long)i);
		/* And on the disk, in every block the file got. */
		for (int e = 0; e < fs.nr; e++) {
			int fd = open(img, O_RDONLY);
			uint8_t *blk = malloc(fs.ext[e].length);

			cr_assert_eq(pread(fd, blk, fs.ext[e].length,
					   (off_t)fs.ext[e].addr),
				     (ssize_t)fs.ext[e].length);
			for (uint64_t i = 0; i < fs.ext[e].length; i++)
				cr_assert_neq(blk[i], MEMFS_MARKER);
			free(blk);
			close(fd);
		}
		stop();
		memfs_destroy(&fs);
		free(img);
		img = memfs_image_create(dir, "img", IMG_SIZE);
	}
	free(all);
}

/* Mapping calls: about one per extent for iomap, one per block for bh. */
Test(io_buffered, map_calls_extents_vs_blocks)
{
	static const struct memfs_extent t[] = {
		{ 0, 1 << 20, IOMAP_MAPPED, 0, 1 << 20 },
	};
	uint8_t *buf = malloc(1 << 20);

	start(12, 1 << 20, t, 1, IOMAP_MAPPER_IOMAP, 9, 0);
	cr_assert_eq(iomap_file_read(file, buf, 1 << 20, 0), 1 << 20);
	cr_assert_eq(fs.stats.map_calls, 1);
	cr_assert_eq(fs.stats.io_requests, 1, "requests %llu bytes %llu",
		     (unsigned long long)fs.stats.io_requests,
		     (unsigned long long)fs.stats.bytes_read);
	stop();
	memfs_destroy(&fs);
	start(12, 1 << 20, t, 1, IOMAP_MAPPER_BH, 9, 0);
	cr_assert_eq(iomap_file_read(file, buf, 1 << 20, 0), 1 << 20);
	cr_assert_eq(fs.stats.map_calls, 256);
	cr_assert_eq(fs.stats.io_requests, 256);
	memset(&fs.stats, 0, sizeof(fs.stats));
	cr_assert_eq(iomap_file_write(file, buf, 1 << 20, 0), 1 << 20);
	cr_assert_eq(fs.stats.map_calls, 0, "buffer heads remember mappings");
	cr_assert_eq(iomap_file_sync(file), 0);
	cr_assert_eq(fs.stats.io_requests, 256, "one request per dirty block");
	free(buf);
}

/* §10.2: MAPPED -> HOLE -> UNWRITTEN; only the MAPPED edge block is read. */
Test(io_buffered, write_across_mapped_hole_unwritten)
{
	static const struct memfs_extent t[] = {
		{ 0, 16 << 10, IOMAP_MAPPED, 0, 1 << 20 },
		{ 32 << 10, 16 << 10, IOMAP_UNWRITTEN, 0, 2 << 20 },
	};
	uint8_t want[48 << 10], buf[37000];

	for (int m = 0; m < 2; m++) {
		start(12, 48 << 10, t, 2, m, 2, 0);
		memfs_expected(&fs, want, 1);
		memfs_pattern(buf, sizeof(buf), 3000, 12);
		cr_assert_eq(iomap_file_write(file, buf, sizeof(buf), 3000),
			     (ssize_t)sizeof(buf));
		memcpy(want + 3000, buf, sizeof(buf));
		cr_assert_eq(fs.stats.bytes_read, 4096, "mapper %d", m);
		cr_assert_eq(fs.stats.blocks_zeroed, 1, "unwritten tail block");
		for (int i = 0; i < fs.nr_begin && i < MEMFS_MAX_CALLS; i++)
			cr_assert(fs.begins[i].flags & IOMAP_WRITE);
		check_file(want, 48 << 10);
		stop();
		open_file(IOMAP_MAPPER_IOMAP, 0, 0, NULL);
		check_file(want, 48 << 10);
		stop();
		memfs_destroy(&fs);
	}
}

/* Two files under one bound: evicting one's folios writes them back. */
Test(io_buffered, two_files_share_the_bound)
{
	struct iomap_io_params p = { .path = IOMAP_IO_BUFFERED,
				     .cache_bytes = 32 << 10 };
	struct memfs fs2;
	struct iomap_file *file2;
	uint8_t a[100000], b[100000], got[100000];

	memfs_init(&fs, 12, 0, NULL, 0);
	memfs_set_backed(&fs, ALLOC_START);
	memfs_init(&fs2, 12, 0, NULL, 0);
	memfs_set_backed(&fs2, ALLOC_START + (4 << 20));
	cr_assert_eq(iomap_dev_open(img, true, &p, &dev), 0);
	cr_assert_eq(iomap_file_open(dev, &fs.inode, &memfs_opset, &file), 0);
	cr_assert_eq(iomap_file_open(dev, &fs2.inode, &memfs_opset, &file2), 0);
	memfs_pattern(a, sizeof(a), 0, 21);
	memfs_pattern(b, sizeof(b), 0, 22);
	for (size_t pos = 0; pos < sizeof(a); pos += 5000) {
		cr_assert_eq(iomap_file_write(file, a + pos, 5000, (loff_t)pos),
			     5000);
		cr_assert_eq(iomap_file_write(file2, b + pos, 5000,
					      (loff_t)pos),
			     5000);
		cr_assert_leq(iomap_cache_lru_bytes(fs.inode.cache), 32 << 10);
	}
	cr_assert_gt(fs.stats.bytes_written_back, 0);
	cr_assert_gt(fs2.stats.bytes_written_back, 0);
	cr_assert_eq(iomap_file_read(file, got, sizeof(got), 0), sizeof(got));
	cr_assert_arr_eq(got, a, sizeof(a));
	cr_assert_eq(iomap_file_read(file2, got, sizeof(got), 0), sizeof(got));
	cr_assert_arr_eq(got, b, sizeof(b));
	cr_assert_eq(iomap_file_close(file2), 0);
	memfs_destroy(&fs2);
}
