// SPDX-License-Identifier: GPL-2.0
/* seek_test.c - SEEK_DATA / SEEK_HOLE at every boundary, and the page cache
 * deciding what an unwritten extent holds. */
#include <errno.h>
#include <criterion/criterion.h>

#include "memfs.h"

TestSuite(seek);

#define K 1024LL

/* iomap-semantics §10.6: [0,8K) MAPPED, [8K,24K) UNWRITTEN, [24K,32K) HOLE. */
static const struct memfs_extent layout[] = {
	{ 0, 8 * K, IOMAP_MAPPED, 0, 1 << 20 },
	{ 8 * K, 16 * K, IOMAP_UNWRITTEN, 0, 2 << 20 },
};

/* Cache [12K, 16K) as uptodate data over the unwritten extent. */
static void cache_12k(struct memfs *fs)
{
	struct iomap_folio *folio;

	memfs_enable_cache(fs);
	cr_assert_eq(iomap_cache_add(&fs->cache, 12 * K, 0, &folio), 0);
	iomap_folio_set_uptodate(folio, 0, 4 * K, fs->inode.blkbits);
}

Test(seek, unwritten_with_cached_data)
{
	struct memfs fs;

	memfs_init(&fs, 12, 32 * K, layout, 2);
	cache_12k(&fs);
	cr_assert_eq(iomap_seek_data(&fs.inode, 8 * K, &memfs_ops), 12 * K);
	cr_assert_eq(iomap_seek_hole(&fs.inode, 0, &memfs_ops), 8 * K);
	cr_assert_eq(iomap_seek_hole(&fs.inode, 12 * K, &memfs_ops), 16 * K);
	cr_assert_eq(iomap_seek_data(&fs.inode, 24 * K, &memfs_ops), -ENXIO);
	cr_assert_eq(iomap_seek_hole(&fs.inode, 24 * K, &memfs_ops), 24 * K);
	cr_assert_eq(iomap_seek_data(&fs.inode, 13 * K, &memfs_ops), 13 * K);
	cr_assert_eq(iomap_seek_data(&fs.inode, 17 * K, &memfs_ops), -ENXIO);
	memfs_destroy(&fs);
}

Test(seek, unwritten_without_cache_is_a_hole)
{
	struct memfs fs;

	memfs_init(&fs, 12, 32 * K, layout, 2);
	cr_assert_eq(iomap_seek_data(&fs.inode, 8 * K, &memfs_ops), -ENXIO);
	cr_assert_eq(iomap_seek_hole(&fs.inode, 0, &memfs_ops), 8 * K);
	cr_assert_eq(iomap_seek_hole(&fs.inode, 9 * K, &memfs_ops), 9 * K);
	cr_assert_eq(iomap_seek_data(&fs.inode, 0, &memfs_ops), 0);
	cr_assert_eq(iomap_seek_data(&fs.inode, 7 * K, &memfs_ops), 7 * K);
}

Test(seek, dense_file_hole_is_eof)
{
	struct memfs fs;
	const struct memfs_extent dense[] = {
		{ 0, 8 * K, IOMAP_MAPPED, 0, 1 << 20 },
		{ 8 * K, 8 * K, IOMAP_INLINE, 0, IOMAP_NULL_ADDR },
		{ 16 * K, 8 * K, IOMAP_DELALLOC, 0, IOMAP_NULL_ADDR },
	};

	memfs_init(&fs, 12, 20 * K, dense, 3);
	cr_assert_eq(iomap_seek_hole(&fs.inode, 0, &memfs_ops), 20 * K);
	cr_assert_eq(iomap_seek_hole(&fs.inode, 20 * K - 1, &memfs_ops),
		     20 * K);
	cr_assert_eq(iomap_seek_data(&fs.inode, 17 * K, &memfs_ops), 17 * K);
}

Test(seek, at_or_past_eof_is_enxio)
{
	struct memfs fs;

	memfs_init(&fs, 12, 32 * K, layout, 2);
	cr_assert_eq(iomap_seek_data(&fs.inode, 32 * K, &memfs_ops), -ENXIO);
	cr_assert_eq(iomap_seek_hole(&fs.inode, 32 * K, &memfs_ops), -ENXIO);
	cr_assert_eq(iomap_seek_hole(&fs.inode, 1 << 30, &memfs_ops), -ENXIO);
	cr_assert_eq(iomap_seek_data(&fs.inode, -1, &memfs_ops), -ENXIO);
	cr_assert_eq(fs.nr_begin, 0, "no mapping asked for");
}

Test(seek, every_boundary_of_a_sparse_file)
{
	struct memfs fs;
	const struct memfs_extent sparse[] = {
		{ 4 * K, 4 * K, IOMAP_MAPPED, 0, 1 << 20 },
		{ 12 * K, 4 * K, IOMAP_MAPPED, 0, 2 << 20 },
	};
	/* offset -> expected SEEK_DATA, SEEK_HOLE */
	const struct {
		loff_t off, data, hole;
	} rows[] = {
		{ 0, 4 * K, 0 },
		{ 4 * K - 1, 4 * K, 4 * K - 1 },
		{ 4 * K, 4 * K, 8 * K },
		{ 8 * K - 1, 8 * K - 1, 8 * K },
		{ 8 * K, 12 * K, 8 * K },
		{ 12 * K, 12 * K, 16 * K },
		{ 16 * K, -ENXIO, 16 * K },
		{ 19 * K, -ENXIO, 19 * K },
	};

	memfs_init(&fs, 12, 20 * K, sparse, 2);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		cr_expect_eq(
			iomap_seek_data(&fs.inode, rows[i].off, &memfs_ops),
			rows[i].data, "SEEK_DATA %lld", (long long)rows[i].off);
		cr_expect_eq(
			iomap_seek_hole(&fs.inode, rows[i].off, &memfs_ops),
			rows[i].hole, "SEEK_HOLE %lld", (long long)rows[i].off);
	}
}

Test(seek, sub_folio_granularity_with_small_blocks)
{
	struct memfs fs;
	struct iomap_folio *folio;
	const struct memfs_extent unw[] = {
		{ 0, 16 * K, IOMAP_UNWRITTEN, 0, 1 << 20 },
	};

	/* 1 KiB blocks in a 4 KiB folio: only block 2 is uptodate. */
	memfs_init(&fs, 10, 16 * K, unw, 1);
	memfs_enable_cache(&fs);
	cr_assert_eq(iomap_cache_add(&fs.cache, 4 * K, 0, &folio), 0);
	iomap_folio_set_uptodate(folio, 2 * K, K, 10);
	cr_assert_eq(iomap_seek_data(&fs.inode, 0, &memfs_ops), 6 * K);
	cr_assert_eq(iomap_seek_hole(&fs.inode, 6 * K, &memfs_ops), 7 * K);
	cr_assert_eq(iomap_seek_hole(&fs.inode, 0, &memfs_ops), 0);
	memfs_destroy(&fs);
}

Test(seek, mapping_error_reaches_caller)
{
	struct memfs fs;

	memfs_init(&fs, 12, 32 * K, layout, 2);
	fs.begin_error = -EIO;
	cr_assert_eq(iomap_seek_data(&fs.inode, 0, &memfs_ops), -EIO);
	cr_assert_eq(iomap_seek_hole(&fs.inode, 0, &memfs_ops), -EIO);
}

Test(seek, walk_costs_one_mapping_per_extent)
{
	struct memfs fs;

	memfs_init(&fs, 12, 32 * K, layout, 2);
	cr_assert_eq(iomap_seek_hole(&fs.inode, 0, &memfs_ops), 8 * K);
	cr_assert_eq(fs.stats.map_calls, 2);
}
