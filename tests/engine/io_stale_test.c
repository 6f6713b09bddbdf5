// SPDX-License-Identifier: GPL-2.0
/* io_stale_test.c - §7 stale mappings: ->iomap_valid failing mid-write or
 * mid-zero makes the engine end and map again at the same position, with
 * the data and the zeroing of a run that never went stale. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "helpers.h"
#include "iomapctl/io.h"
#include "memfs.h"

#define IMG_SIZE (4U << 20)
#define ALLOC_START (2U << 20)
#define FSIZE 100000
#define MAXSIZE (256 << 10)

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

TestSuite(io_stale, .init = setup, .fini = teardown);

/* One mapped extent past i_size, then a hole (so writes past it allocate). */
static const struct memfs_extent table[] = {
	{ 0, 128 << 10, IOMAP_MAPPED, 0, 1 << 20 },
};

struct stale_case {
	const char *what;
	bool zero; /* zero_range instead of write */
	loff_t pos;
	size_t len;
};

/* What the file holds after @c: the same pwrites on a host file. */
static loff_t model(const struct memfs *fs, const struct stale_case *c,
		    uint8_t *want)
{
	char *path;
	struct stat st;
	uint8_t *buf = malloc(c->len);
	int fd;

	cr_assert(asprintf(&path, "%s/model", dir) > 0);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	cr_assert_geq(fd, 0);
	memfs_expected(fs, want, 1);
	cr_assert_eq(pwrite(fd, want, FSIZE, 0), FSIZE);
	if (c->zero)
		memset(buf, 0, c->len);
	else
		memfs_pattern(buf, c->len, c->pos, 7);
	cr_assert_eq(pwrite(fd, buf, c->len, c->pos), (ssize_t)c->len);
	/* zero_range never extends the file. */
	if (c->zero && c->pos + (loff_t)c->len > FSIZE)
		cr_assert_eq(ftruncate(fd, FSIZE), 0);
	cr_assert_eq(fstat(fd, &st), 0);
	cr_assert_eq(pread(fd, want, (size_t)st.st_size, 0), st.st_size);
	close(fd);
	unlink(path);
	free(path);
	free(buf);
	return st.st_size;
}

/* Run @c with the @stale_at-th ->iomap_valid failing; returns its stats. */
static struct iomap_stats run(const struct stale_case *c, int stale_at,
			      struct memfs *fs, uint8_t *got, loff_t *size)
{
	struct iomap_io_params p = { .path = IOMAP_IO_BUFFERED };
	struct iomap_dev *dev;
	struct iomap_file *file;
	struct iomap_stats st;
	uint8_t *buf = malloc(c->len);

	memfs_init(fs, 10, FSIZE, table, 1);
	memfs_set_backed(fs, ALLOC_START);
	memfs_image_fill(fs, img, 1);
	fs->stale_at_valid = stale_at;
	cr_assert_eq(iomap_dev_open(img, true, &p, &dev), 0);
	cr_assert_eq(iomap_file_open(dev, &fs->inode, &memfs_opset, &file), 0);
	memfs_pattern(buf, c->len, c->pos, 7);
	if (c->zero)
		cr_assert_eq(iomap_file_zero_range(file, c->pos, c->len), 0);
	else
		cr_assert_eq(iomap_file_write(file, buf, c->len, c->pos),
			     (ssize_t)c->len);
	st = fs->stats;
	/* Read back from the image, not from the cache that was written. */
	cr_assert_eq(iomap_file_sync(file), 0);
	iomap_file_invalidate(file, 0);
	*size = fs->inode.size;
	cr_assert_eq(iomap_file_read(file, got, MAXSIZE, 0), *size);
	cr_assert_eq(iomap_file_close(file), 0);
	cr_assert_eq(iomap_dev_close(dev), 0);
	free(buf);
	return st;
}

/* The stale mapping was ended and the next begin is where progress stopped. */
static void check_remap(const struct memfs *fs, const char *what)
{
	int k;

	for (k = 0; k < fs->nr_end; k++)
		if (fs->ends[k].map_flags & IOMAP_F_STALE)
			break;
	cr_assert_lt(k, fs->nr_end, "%s: no ->iomap_end saw IOMAP_F_STALE",
		     what);
	cr_assert_lt(k + 1, fs->nr_begin, "%s: no begin after the stale end",
		     what);
	cr_assert_eq(fs->begins[k + 1].pos,
		     fs->ends[k].pos + fs->ends[k].written,
		     "%s: remapped at %lld, stopped at %lld", what,
		     (long long)fs->begins[k + 1].pos,
		     (long long)(fs->ends[k].pos + fs->ends[k].written));
	cr_assert_eq(fs->begins[k + 1].flags, fs->begins[k].flags);
}

Test(io_stale, remap_at_same_pos_keeps_data_and_zeroing)
{
	static const struct stale_case cases[] = {
		{ "overwrite, unaligned", false, 1000, 30000 },
		{ "overwrite across EOF", false, 98000, 20000 },
		{ "extend into a hole past a gap", false, 140000, 10000 },
		{ "zero_range, unaligned", true, 5000, 55000 },
	};
	uint8_t *want = malloc(MAXSIZE), *got = malloc(MAXSIZE);
	struct memfs fs;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct stale_case *c = &cases[i];
		struct iomap_stats ref, st;
		loff_t size, want_size;

		memfs_init(&fs, 10, FSIZE, table, 1);
		want_size = model(&fs, c, want);
		memfs_destroy(&fs);
		ref = run(c, 0, &fs, got, &size);
		cr_assert_eq(fs.nr_stale, 0);
		memfs_destroy(&fs);
		for (int at = 1; at <= 4; at++) {
			st = run(c, at, &fs, got, &size);
			cr_assert_eq(fs.nr_stale, 1, "%s at %d", c->what, at);
			check_remap(&fs, c->what);
			cr_assert_eq(size, want_size, "%s at %d", c->what, at);
			cr_assert_arr_eq(got, want, (size_t)size, "%s at %d",
					 c->what, at);
			/* No block zeroed or read twice for the remap. */
			cr_assert_eq(st.blocks_zeroed, ref.blocks_zeroed,
				     "%s at %d", c->what, at);
			cr_assert_eq(st.bytes_read, ref.bytes_read, "%s at %d",
				     c->what, at);
			cr_assert_eq(st.map_calls, ref.map_calls + 1);
			memfs_destroy(&fs);
		}
	}
	free(want);
	free(got);
}
