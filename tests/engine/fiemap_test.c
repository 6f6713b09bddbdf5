// SPDX-License-Identifier: GPL-2.0
/* fiemap_test.c - FIEMAP and bmap over the table filesystem. */
#include <errno.h>
#include <linux/fiemap.h>
#include <criterion/criterion.h>

#include "memfs.h"

TestSuite(fiemap);

#define K 1024LL

static const struct memfs_extent layout[] = {
	{ 4 * K, 4 * K, IOMAP_MAPPED, 0, 100 * K },
	{ 8 * K, 8 * K, IOMAP_UNWRITTEN, 0, 200 * K },
	{ 24 * K, 4 * K, IOMAP_DELALLOC, 0, IOMAP_NULL_ADDR },
	{ 28 * K, 4 * K, IOMAP_MAPPED, IOMAP_F_SHARED | IOMAP_F_MERGED,
	  300 * K },
};

static int run(struct memfs *fs, struct fiemap_extent *ext, uint32_t max,
	       loff_t start, uint64_t len, uint32_t *mapped)
{
	struct iomap_fiemap_info fi = { .fi_extents_max = max,
					.fi_extents_start = ext };
	int ret = iomap_fiemap(&fs->inode, &fi, start, len, 0, &memfs_ops);

	*mapped = fi.fi_extents_mapped;
	return ret;
}

Test(fiemap, holes_omitted_types_mapped_last_flagged)
{
	struct memfs fs;
	struct fiemap_extent ext[8];
	uint32_t n;

	memfs_init(&fs, 12, 32 * K, layout, 4);
	cr_assert_eq(run(&fs, ext, 8, 0, UINT64_MAX, &n), 0);
	cr_assert_eq(n, 4);
	cr_assert_eq(ext[0].fe_logical, 4 * K);
	cr_assert_eq(ext[0].fe_physical, 100 * K);
	cr_assert_eq(ext[0].fe_flags, 0);
	cr_assert_eq(ext[1].fe_flags, FIEMAP_EXTENT_UNWRITTEN);
	cr_assert_eq(ext[2].fe_flags,
		     FIEMAP_EXTENT_DELALLOC | FIEMAP_EXTENT_UNKNOWN);
	cr_assert_eq(ext[2].fe_physical, 0, "no address reports 0");
	cr_assert_eq(ext[3].fe_flags, FIEMAP_EXTENT_SHARED |
					      FIEMAP_EXTENT_MERGED |
					      FIEMAP_EXTENT_LAST);
}

Test(fiemap, last_is_on_last_extent_of_range)
{
	struct memfs fs;
	struct fiemap_extent ext[8];
	uint32_t n;

	memfs_init(&fs, 12, 32 * K, layout, 4);
	cr_assert_eq(run(&fs, ext, 8, 0, 12 * K, &n), 0);
	cr_assert_eq(n, 2);
	cr_assert_eq(ext[1].fe_flags,
		     FIEMAP_EXTENT_UNWRITTEN | FIEMAP_EXTENT_LAST);
	cr_assert_eq(ext[1].fe_logical, 8 * K, "whole mapping reported");
}

Test(fiemap, range_of_only_holes_reports_nothing)
{
	struct memfs fs;
	struct fiemap_extent ext[8];
	uint32_t n;

	memfs_init(&fs, 12, 32 * K, layout, 4);
	cr_assert_eq(run(&fs, ext, 8, 16 * K, 8 * K, &n), 0);
	cr_assert_eq(n, 0);
}

Test(fiemap, count_only_mode)
{
	struct memfs fs;
	uint32_t n;

	memfs_init(&fs, 12, 32 * K, layout, 4);
	cr_assert_eq(run(&fs, NULL, 0, 0, UINT64_MAX, &n), 0);
	cr_assert_eq(n, 4);
}

Test(fiemap, full_array_stops_early)
{
	struct memfs fs;
	struct fiemap_extent ext[2];
	uint32_t n;

	memfs_init(&fs, 12, 32 * K, layout, 4);
	cr_assert_eq(run(&fs, ext, 2, 0, UINT64_MAX, &n), 0);
	cr_assert_eq(n, 2);
	cr_assert_eq(ext[1].fe_flags & FIEMAP_EXTENT_LAST, 0);
	cr_assert_eq(fs.nr_begin, 5, "the last mapping is never asked for");
}

Test(fiemap, bad_flags_and_lengths)
{
	struct memfs fs;
	struct fiemap_extent ext[2];
	struct iomap_fiemap_info fi = { .fi_extents_max = 2,
					.fi_extents_start = ext };

	memfs_init(&fs, 12, 32 * K, layout, 4);
	cr_assert_eq(iomap_fiemap(&fs.inode, &fi, 0, 0, 0, &memfs_ops),
		     -EINVAL);
	cr_assert_eq(iomap_fiemap(&fs.inode, &fi, INT64_MAX, 1, 0, &memfs_ops),
		     -EFBIG);
	fi.fi_flags = FIEMAP_FLAG_XATTR | FIEMAP_FLAG_SYNC | 0x100;
	cr_assert_eq(iomap_fiemap(&fs.inode, &fi, 0, 4096, 0, &memfs_ops),
		     -EBADR);
	cr_assert_eq(fi.fi_flags, FIEMAP_FLAG_XATTR | 0x100,
		     "fi_flags names the unsupported bits");
	fi.fi_flags = FIEMAP_FLAG_XATTR | FIEMAP_FLAG_SYNC;
	cr_assert_eq(iomap_fiemap(&fs.inode, &fi, 0, 32 * K, FIEMAP_FLAG_XATTR,
				  &memfs_ops),
		     0, "XATTR is fine when the caller supports it");
}

Test(fiemap, length_trimmed_at_max_offset)
{
	struct memfs fs;
	struct fiemap_extent ext[8];
	uint32_t n;

	memfs_init(&fs, 12, 32 * K, layout, 4);
	cr_assert_eq(run(&fs, ext, 8, 30 * K, UINT64_MAX, &n), 0);
	cr_assert_eq(n, 1);
	cr_assert_eq(fs.begins[0].length, INT64_MAX - 30 * K);
}

Test(fiemap, inline_sets_not_aligned)
{
	struct memfs fs;
	struct fiemap_extent ext[2];
	uint32_t n;
	const struct memfs_extent inl[] = { { 0, 60, IOMAP_INLINE, 0,
					      IOMAP_NULL_ADDR } };

	memfs_init(&fs, 12, 60, inl, 1);
	cr_assert_eq(run(&fs, ext, 2, 0, 60, &n), 0);
	cr_assert_eq(n, 1);
	cr_assert_eq(ext[0].fe_flags, FIEMAP_EXTENT_DATA_INLINE |
					      FIEMAP_EXTENT_NOT_ALIGNED |
					      FIEMAP_EXTENT_LAST);
	cr_assert_eq(ext[0].fe_length, 60);
}

Test(fiemap, enoent_from_xattr_ops_is_empty_not_error)
{
	struct memfs fs;
	struct fiemap_extent ext[2];
	uint32_t n;

	memfs_init(&fs, 12, 32 * K, layout, 4);
	fs.begin_error = -ENOENT;
	cr_assert_eq(run(&fs, ext, 2, 0, 4096, &n), 0);
	cr_assert_eq(n, 0);
	fs.begin_error = -EIO;
	cr_assert_eq(run(&fs, ext, 2, 0, 4096, &n), -EIO);
}

Test(fiemap, bmap_maps_only_written_blocks)
{
	struct memfs fs;

	memfs_init(&fs, 12, 32 * K, layout, 4);
	cr_assert_eq(iomap_bmap(&fs.inode, 1, &memfs_ops), 100 * K / 4096);
	cr_assert_eq(iomap_bmap(&fs.inode, 0, &memfs_ops), 0, "hole");
	cr_assert_eq(iomap_bmap(&fs.inode, 2, &memfs_ops), 0, "unwritten");
	cr_assert_eq(iomap_bmap(&fs.inode, 6, &memfs_ops), 0, "delalloc");
	cr_assert_eq(iomap_bmap(&fs.inode, 7, &memfs_ops), 300 * K / 4096);
	cr_assert_eq(iomap_bmap(&fs.inode, UINT64_MAX, &memfs_ops), 0);
	fs.begin_error = -EIO;
	cr_assert_eq(iomap_bmap(&fs.inode, 1, &memfs_ops), 0, "0 on error");
}

Test(fiemap, bmap_inside_long_extent)
{
	struct memfs fs;
	const struct memfs_extent one[] = { { 0, 1 << 20, IOMAP_MAPPED, 0,
					      1 << 24 } };

	memfs_init(&fs, 10, 1 << 20, one, 1);
	cr_assert_eq(iomap_bmap(&fs.inode, 77, &memfs_ops), (1 << 14) + 77);
}
