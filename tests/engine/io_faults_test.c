// SPDX-License-Identifier: GPL-2.0
/* io_faults_test.c - a backend that transfers short and fails the Nth
 * request: short transfers are resubmitted, errors reach the caller, and
 * nothing stale (old disk bytes, unconverted blocks) is exposed. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "faultdev.h"
#include "helpers.h"
#include "iomapctl/io.h"
#include "memfs.h"

#define IMG_SIZE (8U << 20)
#define ALLOC_START (4U << 20)
#define M1 (1 << 20)
#define K(x) ((x) << 10)
#define FSIZE (M1 + K(64))

static char *dir, *img;
static struct memfs fs;
static struct faultdev fd;
static struct iomap_dev *dev;
static struct iomap_file *file;
static uint8_t *want, *buf;

/* Written data, then an unwritten extent (reads as zeros, disk: markers). */
static const struct memfs_extent table[] = {
	{ 0, M1, IOMAP_MAPPED, 0, M1 },
	{ M1, K(64), IOMAP_UNWRITTEN, 0, 3 * M1 },
};

/* @cache: the memory bound (0: the default); 4 KiB folios. */
static void start_with(enum iomap_io_path path, size_t cache,
		       enum iomap_mapper mapper)
{
	struct iomap_io_params p = { .path = path,
				     .mapper = mapper,
				     .cache_bytes = cache,
				     .iodev = &faultdev_ops,
				     .iodev_arg = &fd };

	memset(&fd, 0, sizeof(fd));
	memfs_init(&fs, 12, FSIZE, table, 2);
	memfs_set_backed(&fs, ALLOC_START);
	memfs_image_fill(&fs, img, 1);
	memfs_expected(&fs, want, 1);
	cr_assert_eq(iomap_dev_open(img, true, &p, &dev), 0);
	cr_assert_str_eq(iomap_dev_backend(dev), "faultdev");
	cr_assert_eq(iomap_file_open(dev, &fs.inode, &memfs_opset, &file), 0);
}

static void start_cache(enum iomap_io_path path, size_t cache)
{
	start_with(path, cache, IOMAP_MAPPER_IOMAP);
}

static void start(enum iomap_io_path path)
{
	start_cache(path, 0);
}

static void stop(void)
{
	if (file)
		iomap_file_close(file);
	if (dev)
		iomap_dev_close(dev);
	file = NULL;
	dev = NULL;
	memfs_destroy(&fs);
}

static void setup(void)
{
	dir = t_tmpdir();
	img = memfs_image_create(dir, "img", IMG_SIZE);
	cr_assert_eq(posix_memalign((void **)&buf, 4096, 2 * M1), 0);
	want = malloc(2 * M1);
}

static void teardown(void)
{
	stop();
	free(buf);
	free(want);
	free(img);
	t_tmpdir_remove(dir);
}

TestSuite(io_faults, .init = setup, .fini = teardown);

/* With faults off and the cache dropped, the image holds the model. */
static void check_image(const char *what)
{
	fd.short_io = false;
	fd.fail_at = 0;
	cr_assert_eq(iomap_file_sync(file), 0, "%s", what);
	iomap_file_invalidate(file, 0);
	cr_assert_eq(iomap_file_read(file, buf, 2 * M1, 0), fs.inode.size, "%s",
		     what);
	cr_assert_arr_eq(buf, want, (size_t)fs.inode.size, "%s", what);
}

Test(io_faults, short_transfers_are_resubmitted)
{
	for (int p = 0; p < 2; p++) {
		enum iomap_io_path path = p ? IOMAP_IO_DIRECT :
					      IOMAP_IO_BUFFERED;

		start(path);
		fd.short_io = true;
		cr_assert_eq(iomap_file_read(file, buf, M1, 0), M1);
		cr_assert_arr_eq(buf, want, M1);
		cr_assert_gt(fd.nr_short, 0);
		memfs_pattern(buf, K(256), K(128), 5);
		memfs_pattern(want + K(128), K(256), K(128), 5);
		/* and into the unwritten extent, past EOF */
		cr_assert_eq(iomap_file_write(file, buf, K(256), K(128)),
			     K(256));
		memfs_pattern(buf, K(128), M1, 6);
		memfs_pattern(want + M1, K(128), M1, 6);
		cr_assert_eq(iomap_file_write(file, buf, K(128), M1), K(128));
		cr_assert_eq(iomap_file_sync(file), 0);
		cr_assert_eq(fd.nr_failed, 0);
		check_image(p ? "direct" : "buffered");
		stop();
	}
}

Test(io_faults, read_errors_reach_the_caller_and_are_not_cached)
{
	for (int p = 0; p < 2; p++) {
		ssize_t r;

		start(p ? IOMAP_IO_DIRECT : IOMAP_IO_BUFFERED);
		fd.fail_at = 3;
		fd.short_io = true; /* the retried halves count too */
		r = iomap_file_read(file, buf, M1, 0);
		cr_assert_eq(fd.nr_failed, 1);
		/* An error, or the bytes before the failing batch. */
		cr_assert(r == -EIO || (r > 0 && r < M1), "read %zd", r);
		if (r > 0)
			cr_assert_arr_eq(buf, want, (size_t)r);
		/* The failed blocks were not marked uptodate: read again. */
		fd.fail_at = 0;
		cr_assert_eq(iomap_file_read(file, buf, M1, 0), M1);
		cr_assert_arr_eq(buf, want, M1);
		stop();
	}
}

Test(io_faults, direct_write_error_exposes_nothing)
{
	start(IOMAP_IO_DIRECT);
	fd.fail_writes_only = true;
	fd.fail_at = 1;
	memfs_pattern(buf, K(64), M1, 8);
	/* Into the unwritten extent: ->end_io sees the error, no conversion. */
	cr_assert_eq(iomap_file_write(file, buf, K(64), M1), -EIO);
	cr_assert_eq(fs.nr_end_io, 1);
	cr_assert_eq(fs.end_io_size, 0);
	cr_assert_eq(fs.ext[1].type, IOMAP_UNWRITTEN);
	/* Extending: the size does not move over blocks never written. */
	fd.nr_counted = 0;
	cr_assert_eq(iomap_file_write(file, buf, K(64), FSIZE), -EIO);
	cr_assert_eq(fs.inode.size, FSIZE);
	check_image("after failed direct writes");
}

Test(io_faults, writeback_error_reaches_sync_once)
{
	start(IOMAP_IO_BUFFERED);
	memfs_pattern(buf, K(64), K(4), 4);
	cr_assert_eq(iomap_file_write(file, buf, K(64), K(4)), K(64));
	fd.fail_writes_only = true;
	fd.fail_at = 1;
	cr_assert_eq(iomap_file_sync(file), -EIO);
	cr_assert_eq(fd.nr_failed, 1);
	/* The data stayed dirty: the next sync writes it, once. */
	cr_assert_eq(iomap_file_sync(file), 0, "the error is reported once");
	cr_assert_eq(fd.nr_submit, 2);
	memcpy(want + K(4), buf, K(64));
	check_image("after a failed writeback");
}

/*
 * A 64 KiB bound: writes evict dirty folios, and the first writeback
 * for an eviction fails.  The data and the error must both survive.
 */
static void eviction_error(enum iomap_mapper mapper)
{
	ssize_t r = K(4);
	loff_t pos = 0;

	start_with(IOMAP_IO_BUFFERED, K(64), mapper);
	fd.fail_writes_only = true;
	fd.fail_at = 1;
	memfs_pattern(buf, K(256), 0, 9);
	while (pos < K(256)) {
		r = iomap_file_write(file, buf + pos, K(4), pos);
		cr_assert(r == K(4) || r == -EIO,
			  "mapper %d: write at %lld: %zd", mapper,
			  (long long)pos, r);
		if (r < 0)
			break;
		pos += r;
	}
	cr_assert_eq(fd.nr_failed, 1);
	cr_assert_eq(r, -EIO, "the eviction's error, not -ENOMEM");
	cr_assert_lt(pos, K(256));
	/* Going on is allowed: the failed folios are written again. */
	for (; pos < K(256); pos += K(4))
		cr_assert_eq(iomap_file_write(file, buf + pos, K(4), pos),
			     K(4));
	cr_assert_eq(iomap_file_sync(file), -EIO, "the file keeps the error");
	cr_assert_eq(iomap_file_sync(file), 0, "reported once");
	memcpy(want, buf, K(256));
	check_image(mapper ? "bh: after a failed eviction" :
			     "iomap: after a failed eviction");
	stop();
}

Test(io_faults, eviction_writeback_error_is_kept)
{
	eviction_error(IOMAP_MAPPER_IOMAP);
	eviction_error(IOMAP_MAPPER_BH);
}

/* Writeback at eviction sends the dirty range, not one folio at a time. */
Test(io_faults, eviction_writes_back_large_ioends)
{
	start_cache(IOMAP_IO_BUFFERED, K(64));
	memfs_pattern(buf, M1, 0, 10);
	for (loff_t pos = 0; pos < M1; pos += K(4))
		cr_assert_eq(iomap_file_write(file, buf + pos, K(4), pos),
			     K(4));
	cr_assert_leq(iomap_cache_lru_bytes(fs.inode.cache), K(64));
	cr_assert_eq(iomap_file_sync(file), 0);
	/* A quarter of the bound per ioend: 64, not 256 of 4 KiB. */
	cr_assert_leq(fs.nr_wb_submit, M1 / K(16) + 1, "%d ioends",
		      fs.nr_wb_submit);
	cr_assert_leq(fs.stats.io_requests, M1 / K(16) + 1);
	cr_assert_eq(fs.stats.bytes_written_back, M1);
	memcpy(want, buf, M1);
	check_image("after eviction batches");
}

/*
 * A reap that fails leaves requests in flight: the queue must wait for
 * them before its slots are freed or reused (ASan sees the use after
 * free otherwise, when a later reap hands the old slots back).
 */
Test(io_faults, failed_reap_waits_for_inflight_requests)
{
	start(IOMAP_IO_DIRECT);
	fs.max_map = K(64); /* 16 requests in flight */
	fd.reap_fail_at = 1;
	cr_assert_eq(iomap_file_read(file, buf, M1, 0), -EIO);
	cr_assert_eq(fd.nr_reap_failed, 1);
	fs.max_map = 0;
	cr_assert_eq(iomap_file_read(file, buf, M1, 0), M1);
	cr_assert_arr_eq(buf, want, M1);
}

static unsigned int inflight_at_map;

static void probe_inflight(struct memfs *m)
{
	(void)m;
	if (fd.nr_inflight > inflight_at_map)
		inflight_at_map = fd.nr_inflight;
}

/*
 * A filesystem may write the image itself while mapping (the ext2 adapter
 * zeroes new blocks through libext2fs' buffered channel): no direct write
 * may be in flight across a mapping call, with either mapper, or the
 * kernel cannot invalidate the host page both touch and reports EIO on
 * the image (--io=direct --mapper=bh writes failed so).
 */
Test(io_faults, no_direct_write_in_flight_across_a_mapping_call)
{
	for (int m = 0; m < 2; m++) {
		start_with(IOMAP_IO_DIRECT, 0, m);
		fs.max_map = K(4); /* iomap: a mapping per block, as bh */
		fs.on_map = probe_inflight;
		inflight_at_map = 0;
		memfs_pattern(buf, K(64), K(64), 11);
		cr_assert_eq(iomap_file_write(file, buf, K(64), K(64)), K(64));
		cr_assert_geq(fd.nr_submit, 16);
		cr_assert_eq(inflight_at_map, 0, "mapper %d: %u in flight", m,
			     inflight_at_map);
		memcpy(want + K(64), buf, K(64));
		fs.max_map = 0;
		check_image(m ? "bh" : "iomap");
		stop();
	}
}
