// SPDX-License-Identifier: GPL-2.0
/* file_ops_test.c - the size and space sequences of engine/file-ops.c over
 * memfs: what a file reads as afterwards, on every data path, whatever the
 * image holds past EOF. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "helpers.h"
#include "iomapctl/io.h"
#include "memfs.h"

#define IMG_SIZE (1U << 20)
#define FSIZE (16 << 10)

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

TestSuite(file_ops, .init = setup, .fini = teardown);

/* The filesystem's half: sizes only, no blocks move. */
static int t_setsize(struct iomap_inode *inode, loff_t size)
{
	inode->size = size;
	return 0;
}

static const struct iomap_space_ops setsize_only = { .setsize = t_setsize };

struct t_open {
	struct memfs fs;
	struct iomap_dev *dev;
	struct iomap_file *file;
};

/*
 * Opens a file of i_size @size through @path whose first @mapped bytes are
 * one extent (4 KiB blocks) holding the pattern, also past @size.
 */
static void t_open(struct t_open *t, loff_t size, uint64_t mapped,
		   enum iomap_io_path path)
{
	struct iomap_io_params p = { .path = path };
	struct memfs_extent e = { 0, mapped, IOMAP_MAPPED, 0, 64 << 10 };

	memfs_init(&t->fs, 12, FSIZE, &e, 1);
	memfs_image_fill(&t->fs, img, 1);
	t->fs.inode.size = size;
	cr_assert_eq(iomap_dev_open(img, true, &p, &t->dev), 0);
	cr_assert_eq(iomap_file_open(t->dev, &t->fs.inode, &memfs_opset,
				     &t->file),
		     0);
}

/* Closes and reads the file back through a fresh direct open. */
static void t_close_read(struct t_open *t, uint8_t *got)
{
	struct iomap_io_params p = { .path = IOMAP_IO_DIRECT };

	cr_assert_eq(iomap_file_close(t->file), 0);
	cr_assert_eq(iomap_dev_close(t->dev), 0);
	cr_assert_eq(iomap_dev_open(img, false, &p, &t->dev), 0);
	cr_assert_eq(iomap_file_open(t->dev, &t->fs.inode, &memfs_opset,
				     &t->file),
		     0);
	cr_assert_eq(iomap_file_read(t->file, got, FSIZE * 2, 0),
		     t->fs.inode.size);
	cr_assert_eq(iomap_file_close(t->file), 0);
	cr_assert_eq(iomap_dev_close(t->dev), 0);
	memfs_destroy(&t->fs);
}

/* [@a, @b) of @got reads as zeros and [0, @a) as the pattern. */
static void t_check(const uint8_t *got, loff_t a, loff_t b, const char *what)
{
	uint8_t want[FSIZE];

	memfs_pattern(want, FSIZE, 0, 1);
	cr_assert_arr_eq(got, want, (size_t)a, "%s: data before %lld", what,
			 (long long)a);
	for (loff_t i = a; i < b; i++)
		cr_assert_eq(got[i], 0, "%s: byte %lld is 0x%02x", what,
			     (long long)i, got[i]);
}

static const char *const path_names[] = { "buffered", "direct", "dax" };

/* Growing zeroes the old EOF block past the old EOF, on every path. */
Test(file_ops, setsize_grow_zeroes_the_old_tail)
{
	uint8_t *got = aligned_alloc(4096, FSIZE * 2);

	for (int p = 0; p < 3; p++) {
		struct t_open t;

		if (p == IOMAP_IO_DAX && !t_dax_maps(img))
			cr_skip_test("libpmem2 cannot map a file in TMPDIR");
		t_open(&t, 1000, 4096, p);
		cr_assert_eq(iomap_file_setsize(t.file, &setsize_only, 12000),
			     0);
		cr_assert_eq(t.fs.inode.size, 12000);
		t_close_read(&t, got);
		t_check(got, 1000, 12000, path_names[p]);
	}
	free(got);
}

/* Without ->punch, the whole blocks inside are zeroed through the cache. */
Test(file_ops, falloc_zero_without_punch_zeroes_whole_blocks)
{
	uint8_t *got = aligned_alloc(4096, FSIZE * 2);
	struct t_open t;

	t_open(&t, FSIZE, FSIZE, IOMAP_IO_BUFFERED);
	cr_assert_eq(iomap_file_falloc_zero(t.file, &setsize_only, 100,
					    FSIZE - 100, true),
		     0);
	t_close_read(&t, got);
	t_check(got, 100, FSIZE, "zero 100..EOF");
	free(got);
}

Test(file_ops, missing_ops_and_bad_ranges)
{
	static const struct iomap_space_ops none = { 0 };
	struct t_open t;
	uint8_t *got = aligned_alloc(4096, FSIZE * 2);

	t_open(&t, FSIZE, FSIZE, IOMAP_IO_BUFFERED);
	cr_assert_eq(iomap_file_setsize(t.file, &none, 0), -EOPNOTSUPP);
	cr_assert_eq(iomap_file_punch(t.file, &none, 0, 1), -EOPNOTSUPP);
	cr_assert_eq(iomap_file_falloc(t.file, &none, 0, 1, false),
		     -EOPNOTSUPP);
	cr_assert_eq(iomap_file_setsize(t.file, &setsize_only, -1), -EINVAL);
	cr_assert_eq(iomap_file_punch(t.file, &none, 0, 0), -EINVAL);
	cr_assert_eq(iomap_file_falloc_zero(t.file, &none, INT64_MAX, 1, true),
		     -EINVAL);
	cr_assert_eq(iomap_file_falloc_zero(t.file, &none, -1, 1, true),
		     -EINVAL);
	cr_assert_eq(t.fs.inode.size, FSIZE);
	t_close_read(&t, got);
	t_check(got, FSIZE, FSIZE, "untouched");
	free(got);
}
