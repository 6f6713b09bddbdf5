// SPDX-License-Identifier: GPL-2.0
/* read_batch_test.c - iomap_read_batch_start/wait: several files' reads in
 * flight at once, each with its own bytes, on every path and mapper; a
 * failed request fails the batch, and dirty cached data is read. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "faultdev.h"
#include "helpers.h"
#include "iomapctl/io.h"
#include "memfs.h"

#define K(x) ((x) << 10)
#define NFILES 3
#define FSIZE K(40)
#define IMG_SIZE (8U << 20)

static char *dir, *img;
static struct memfs fs[NFILES];
static struct faultdev fd;
static struct iomap_dev *dev;
static struct iomap_file *file[NFILES];
static uint8_t *want[NFILES], *buf[NFILES];

/* Each file elsewhere on the image: data, a hole, data, unwritten. */
static void tables(struct memfs_extent t[NFILES][4])
{
	for (int i = 0; i < NFILES; i++) {
		uint64_t base = (uint64_t)(i + 1) << 20;

		t[i][0] = (struct memfs_extent){ 0, K(12), IOMAP_MAPPED, 0, base };
		t[i][1] = (struct memfs_extent){ K(12), K(8), IOMAP_HOLE, 0,
						 IOMAP_NULL_ADDR };
		t[i][2] = (struct memfs_extent){ K(20), K(12), IOMAP_MAPPED, 0,
						 base + K(64) };
		t[i][3] = (struct memfs_extent){ K(32), K(8), IOMAP_UNWRITTEN,
						 0, base + K(128) };
	}
}

static void start(enum iomap_io_path path, enum iomap_mapper mapper)
{
	static struct memfs_extent t[NFILES][4];
	struct iomap_io_params p = { .path = path,
				     .mapper = mapper,
				     .iodev = &faultdev_ops,
				     .iodev_arg = &fd };

	if (path == IOMAP_IO_DAX)
		p.iodev = NULL;
	memset(&fd, 0, sizeof(fd));
	tables(t);
	for (int i = 0; i < NFILES; i++) {
		memfs_init(&fs[i], 12, FSIZE, t[i], 4);
		memfs_image_fill(&fs[i], img, 10 + i);
		memfs_expected(&fs[i], want[i], 10 + i);
	}
	if (iomap_dev_open(img, true, &p, &dev) && path == IOMAP_IO_DAX)
		cr_skip_test("libpmem2 cannot map %s here", img);
	cr_assert_not_null(dev);
	for (int i = 0; i < NFILES; i++)
		cr_assert_eq(iomap_file_open(dev, &fs[i].inode, &memfs_opset,
					     &file[i]),
			     0);
}

static void stop(void)
{
	for (int i = 0; i < NFILES; i++) {
		if (file[i])
			iomap_file_close(file[i]);
		file[i] = NULL;
		memfs_destroy(&fs[i]);
	}
	if (dev)
		iomap_dev_close(dev);
	dev = NULL;
}

static void setup(void)
{
	dir = t_tmpdir();
	img = memfs_image_create(dir, "img", IMG_SIZE);
	for (int i = 0; i < NFILES; i++) {
		cr_assert_eq(posix_memalign((void **)&buf[i], 4096, K(64)), 0);
		want[i] = malloc(FSIZE);
	}
}

static void teardown(void)
{
	stop();
	for (int i = 0; i < NFILES; i++) {
		free(buf[i]);
		free(want[i]);
	}
	free(img);
	t_tmpdir_remove(dir);
}

TestSuite(read_batch, .init = setup, .fini = teardown);

/* Reads every file whole (and past EOF) in one batch. */
static int batch_read_all(struct iomap_read_req *req)
{
	struct iomap_read_batch *b;

	for (int i = 0; i < NFILES; i++) {
		memset(buf[i], 0x5a, K(64));
		req[i] = (struct iomap_read_req){ .file = file[i],
						  .buf = buf[i],
						  .len = K(64),
						  .res = 1 };
	}
	cr_assert_eq(iomap_read_batch_start(req, NFILES, &b), 0);
	return iomap_read_batch_wait(b);
}

static void check_all(const struct iomap_read_req *req, const char *what)
{
	for (int i = 0; i < NFILES; i++) {
		cr_assert_eq(req[i].res, FSIZE, "%s: file %d: %zd", what, i,
			     req[i].res);
		cr_assert_arr_eq(buf[i], want[i], FSIZE, "%s: file %d", what,
				 i);
	}
}

Test(read_batch, every_path_and_mapper_reads_each_files_bytes)
{
	static const char *const names[] = { "buffered", "direct", "dax" };
	struct iomap_read_req req[NFILES];

	for (int p = 0; p < 3; p++)
		for (int m = 0; m < 2; m++) {
			char what[32];

			snprintf(what, sizeof(what), "%s/%s", names[p],
				 m ? "bh" : "iomap");
			if (p == IOMAP_IO_DAX && !t_dax_maps(img))
				continue;
			start((enum iomap_io_path)p, (enum iomap_mapper)m);
			cr_assert_eq(batch_read_all(req), 0, "%s", what);
			check_all(req, what);
			stop();
		}
}

Test(read_batch, requests_of_every_file_are_in_flight_together)
{
	struct iomap_read_req req[NFILES];

	start(IOMAP_IO_BUFFERED, IOMAP_MAPPER_IOMAP);
	cr_assert_eq(batch_read_all(req), 0);
	check_all(req, "buffered");
	/* A file's two data extents, 52 KiB apart on the disk, are one
	 * request (the gap read past); the files, 1 MiB apart, are not; and
	 * nothing was reaped before every request was sent. */
	cr_expect_eq(fd.nr_counted, NFILES, "%u requests", fd.nr_counted);
	cr_expect_eq(fd.peak_inflight, NFILES, "peak %u in flight",
		     fd.peak_inflight);
	stop();
}

Test(read_batch, a_failed_request_fails_the_batch_and_a_reread_tells)
{
	struct iomap_read_req req[NFILES];
	int failed = 0;

	start(IOMAP_IO_DIRECT, IOMAP_MAPPER_IOMAP);
	fd.fail_at = 2; /* file 1's request */
	cr_assert_eq(batch_read_all(req), -EIO);
	for (int i = 0; i < NFILES; i++)
		failed += req[i].res == -EIO;
	cr_expect_geq(failed, 1);
	/* One at a time, as cp reads a group's failed files again. */
	fd.fail_at = 0;
	for (int i = 0; i < NFILES; i++) {
		cr_assert_eq(iomap_file_read(file[i], buf[i], K(64), 0), FSIZE);
		cr_assert_arr_eq(buf[i], want[i], FSIZE);
	}
	stop();
}

Test(read_batch, dirty_cached_data_is_written_back_first)
{
	struct iomap_read_req req[NFILES];

	start(IOMAP_IO_BUFFERED, IOMAP_MAPPER_IOMAP);
	memset(buf[1], 0x77, 100);
	cr_assert_eq(iomap_file_write(file[1], buf[1], 100, K(4) + 3), 100);
	memset(want[1] + K(4) + 3, 0x77, 100);
	cr_assert_eq(batch_read_all(req), 0);
	check_all(req, "after a buffered write");
	stop();
}

/* As iomap_file_read() alone: the buffered path takes any alignment, the
 * direct one refuses it. */
Test(read_batch, unaligned_and_bad_requests)
{
	struct iomap_read_req req[2];
	struct iomap_read_batch *b;

	for (int p = 0; p < 2; p++) {
		start(p ? IOMAP_IO_DIRECT : IOMAP_IO_BUFFERED,
		      IOMAP_MAPPER_IOMAP);
		req[0] = (struct iomap_read_req){ .file = file[0],
						  .buf = buf[0] + 1,
						  .len = 1000,
						  .pos = 7 };
		req[1] = (struct iomap_read_req){ .file = file[1],
						  .buf = buf[1],
						  .len = K(4),
						  .pos = -1 };
		cr_assert_eq(iomap_read_batch_start(req, 2, &b), 0);
		cr_assert_eq(iomap_read_batch_wait(b), 0);
		if (p) {
			cr_assert_eq(req[0].res, -EINVAL);
		} else {
			cr_assert_eq(req[0].res, 1000);
			cr_assert_arr_eq(buf[0] + 1, want[0] + 7, 1000);
		}
		cr_assert_eq(req[1].res, -EINVAL);
		cr_assert_eq(iomap_read_batch_start(req, 0, &b), -EINVAL);
		cr_assert_null(b);
		cr_assert_eq(iomap_read_batch_wait(NULL), 0);
		stop();
	}
}
