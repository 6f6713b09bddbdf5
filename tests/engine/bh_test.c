// SPDX-License-Identifier: GPL-2.0
/* bh_test.c - the buffer-head emulation gives the iomap answers, at the
 * block-at-a-time cost. */
#include <errno.h>
#include <linux/fiemap.h>
#include <criterion/criterion.h>

#include "iomapctl/bh.h"
#include "memfs.h"

TestSuite(bh);

#define K 1024LL

static const struct memfs_extent layout[] = {
	{ 0, 16 * K, IOMAP_MAPPED, 0, 1 << 20 },
	{ 16 * K, 8 * K, IOMAP_MAPPED, 0, 3 << 20 }, /* not contiguous */
	{ 24 * K, 8 * K, IOMAP_UNWRITTEN, 0, (3 << 20) + 8 * K },
	{ 48 * K, 4 * K, IOMAP_MAPPED, 0, 5 << 20 },
};

static const struct iomap_source bh_source = { .mapper = IOMAP_MAPPER_BH,
					       .get_block = memfs_get_block };

/* Mappings of [pos, pos + len) through the bh source; the walk's result. */
static int count_mappings(struct memfs *fs, loff_t pos, uint64_t len, int *n)
{
	struct iomap_iter it = { .inode = &fs->inode, .pos = pos, .len = len };
	int ret;

	while ((ret = iomap_iter_source(&it, &bh_source)) > 0) {
		cr_assert_eq(it.iomap.length, 4 * K, "one block per mapping");
		cr_assert(it.iomap.flags & IOMAP_F_BUFFER_HEAD);
		(*n)++;
		it.status = iomap_iter_advance(&it, iomap_length(&it));
	}
	return ret;
}

Test(bh, source_calls_get_block_once_per_block)
{
	struct memfs fs;
	int n = 0;

	memfs_init(&fs, 12, 64 * K, layout, 4);
	/* [1K, 9K) touches blocks 0, 1 and 2. */
	cr_assert_eq(count_mappings(&fs, K, 8 * K, &n), 0);
	cr_assert_eq(n, 3);
	cr_assert_eq(fs.nr_get_block, 3);
	cr_assert_eq(fs.stats.map_calls, 3);
}

Test(bh, source_stops_on_error_and_rejects_overflow)
{
	struct memfs fs;
	int n = 0;

	memfs_init(&fs, 12, 64 * K, layout, 4);
	fs.begin_error = -EIO;
	fs.error_at = 8 * K;
	cr_assert_eq(count_mappings(&fs, 0, 64 * K, &n), -EIO);
	cr_assert_eq(n, 2);
	cr_assert_eq(count_mappings(&fs, INT64_MAX, 2, &n), -EINVAL);
}

/* One translation: an unwritten buffer is unwritten, mapped or not. */
Test(bh, unwritten_buffer_is_unwritten_without_mapped)
{
	struct memfs fs;
	struct iomap m;
	struct iomap_bh bh = { .blocknr = 7, .state = IOMAP_BH_UNWRITTEN };

	memfs_init(&fs, 12, 64 * K, layout, 4);
	iomap_bh_to_iomap(&fs.inode, 8 * K, &bh, &m);
	cr_assert_eq(m.type, IOMAP_UNWRITTEN);
	cr_assert_eq(m.addr, 7 * 4 * K);
	bh.state |= IOMAP_BH_MAPPED;
	iomap_bh_to_iomap(&fs.inode, 8 * K, &bh, &m);
	cr_assert_eq(m.type, IOMAP_UNWRITTEN);
	bh.state = IOMAP_BH_DELAY | IOMAP_BH_MAPPED;
	iomap_bh_to_iomap(&fs.inode, 8 * K, &bh, &m);
	cr_assert_eq(m.type, IOMAP_DELALLOC);
	bh.state = 0;
	iomap_bh_to_iomap(&fs.inode, 8 * K, &bh, &m);
	cr_assert_eq(m.type, IOMAP_HOLE);
	cr_assert_eq(m.addr, IOMAP_NULL_ADDR);
}

Test(bh, fiemap_matches_iomap_with_block_cost)
{
	struct memfs fs;
	struct fiemap_extent a[8], b[8];
	struct iomap_fiemap_info fa = { .fi_extents_max = 8,
					.fi_extents_start = a };
	struct iomap_fiemap_info fb = { .fi_extents_max = 8,
					.fi_extents_start = b };

	memfs_init(&fs, 12, 52 * K, layout, 4);
	cr_assert_eq(iomap_fiemap(&fs.inode, &fa, 0, UINT64_MAX, 0, &memfs_ops),
		     0);
	uint64_t iomap_calls = fs.stats.map_calls;

	fs.stats.map_calls = 0;
	cr_assert_eq(iomap_bh_fiemap(&fs.inode, &fb, 0, UINT64_MAX,
				     memfs_get_block),
		     0);
	cr_assert_eq(fb.fi_extents_mapped, fa.fi_extents_mapped);
	for (uint32_t i = 0; i < fa.fi_extents_mapped; i++) {
		cr_expect_eq(b[i].fe_logical, a[i].fe_logical, "ext %u", i);
		cr_expect_eq(b[i].fe_physical, a[i].fe_physical, "ext %u", i);
		cr_expect_eq(b[i].fe_length, a[i].fe_length, "ext %u", i);
		cr_expect_eq(b[i].fe_flags & ~FIEMAP_EXTENT_MERGED,
			     a[i].fe_flags, "ext %u", i);
	}
	/* and one past EOF, answered by a hole to the end of the range */
	cr_assert_eq(fs.stats.map_calls, 14, "one get_block per block");
	cr_assert_eq(iomap_calls, 6, "one iomap_begin per extent or hole");
}

Test(bh, seek_and_bmap_match_iomap)
{
	struct memfs fs;

	memfs_init(&fs, 12, 52 * K, layout, 4);
	for (loff_t off = 0; off < 52 * K; off += 2 * K) {
		cr_expect_eq(iomap_bh_seek_data(&fs.inode, off,
						memfs_get_block),
			     iomap_seek_data(&fs.inode, off, &memfs_ops),
			     "SEEK_DATA %lld", (long long)off);
		cr_expect_eq(iomap_bh_seek_hole(&fs.inode, off,
						memfs_get_block),
			     iomap_seek_hole(&fs.inode, off, &memfs_ops),
			     "SEEK_HOLE %lld", (long long)off);
	}
	for (uint64_t bno = 0; bno < 13; bno++)
		cr_expect_eq(iomap_bh_bmap(&fs.inode, bno, memfs_get_block),
			     iomap_bmap(&fs.inode, bno, &memfs_ops),
			     "block %llu", (unsigned long long)bno);
	cr_assert_eq(iomap_bh_seek_data(&fs.inode, 52 * K, memfs_get_block),
		     -ENXIO);
}

Test(bh, fiemap_rejects_bad_requests)
{
	struct memfs fs;
	struct fiemap_extent a[1];
	struct iomap_fiemap_info fi = { .fi_extents_max = 1,
					.fi_extents_start = a,
					.fi_flags = FIEMAP_FLAG_XATTR };

	memfs_init(&fs, 12, 52 * K, layout, 4);
	cr_assert_eq(iomap_bh_fiemap(&fs.inode, &fi, 0, 0, memfs_get_block),
		     -EINVAL);
	cr_assert_eq(iomap_bh_fiemap(&fs.inode, &fi, 0, 4096, memfs_get_block),
		     -EBADR);
	cr_assert_eq(fi.fi_flags, FIEMAP_FLAG_XATTR);
}

Test(bh, fiemap_last_extent_before_trailing_hole_is_last)
{
	struct memfs fs;
	struct fiemap_extent a[8], b[8];
	struct iomap_fiemap_info fa = { .fi_extents_max = 8,
					.fi_extents_start = a };
	struct iomap_fiemap_info fb = { .fi_extents_max = 8,
					.fi_extents_start = b };

	/* 64 KiB file: the last 12 KiB are a hole. */
	memfs_init(&fs, 12, 64 * K, layout, 4);
	cr_assert_eq(iomap_fiemap(&fs.inode, &fa, 0, UINT64_MAX, 0,
				  &memfs_ops),
		     0);
	cr_assert_eq(iomap_bh_fiemap(&fs.inode, &fb, 0, UINT64_MAX,
				     memfs_get_block),
		     0);
	cr_assert_eq(fb.fi_extents_mapped, fa.fi_extents_mapped);
	cr_assert(a[fa.fi_extents_mapped - 1].fe_flags & FIEMAP_EXTENT_LAST);
	cr_assert(b[fb.fi_extents_mapped - 1].fe_flags & FIEMAP_EXTENT_LAST,
		  "LAST survives the trailing hole");
	for (uint32_t i = 0; i + 1 < fb.fi_extents_mapped; i++)
		cr_assert_eq(b[i].fe_flags & FIEMAP_EXTENT_LAST, 0);
}
