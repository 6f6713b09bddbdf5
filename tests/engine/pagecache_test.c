// SPDX-License-Identifier: GPL-2.0
/* pagecache_test.c - the folio index and per-block folio state. */
#include <errno.h>
#include <unistd.h>
#include <criterion/criterion.h>

#include "iomapctl/pagecache.h"

TestSuite(pagecache);

Test(pagecache, folios_of_every_order_are_found_by_any_byte)
{
	struct iomap_cache c;
	struct iomap_folio *small, *big, *f;

	cr_assert_eq(iomap_cache_init(&c, 12), 0);
	cr_assert_eq(iomap_cache_add(&c, 4096 + 17, 0, &small), 0);
	cr_assert_eq(small->pos, 4096, "aligned down");
	cr_assert_eq(iomap_cache_add(&c, 2 << 20, IOMAP_MAX_FOLIO_ORDER, &big),
		     0);
	cr_assert_eq(iomap_folio_size(big), 2 << 20);
	cr_assert_eq(iomap_cache_find(&c, 8191), small);
	cr_assert_null(iomap_cache_find(&c, 8192));
	cr_assert_eq(iomap_cache_find(&c, (4 << 20) - 1), big);
	cr_assert_eq(c.bytes, 4096 + (2 << 20));
	cr_assert_eq(iomap_cache_add(&c, (2 << 20) + 4096, 0, &f), -EEXIST);
	cr_assert_eq(iomap_cache_add(&c, 0, IOMAP_MAX_FOLIO_ORDER + 1, &f),
		     -EINVAL);
	iomap_cache_remove(&c, small);
	cr_assert_null(iomap_cache_find(&c, 4096));
	cr_assert_eq(c.nr, 1);
	iomap_cache_destroy(&c);
}

Test(pagecache, per_block_uptodate_and_dirty_bits)
{
	struct iomap_cache c;
	struct iomap_folio *f;

	cr_assert_eq(iomap_cache_init(&c, 10), 0);
	cr_assert_eq(iomap_cache_add(&c, 0, 4, &f), 0); /* 64 KiB, 64 blocks */
	cr_assert_eq(f->nblocks, 64);
	iomap_folio_set_uptodate(f, 1000, 24, 10);
	cr_assert(iomap_folio_block_uptodate(f, 0));
	cr_assert(!iomap_folio_block_uptodate(f, 1));
	iomap_folio_set_dirty(f, 63 * 1024 + 5, 1, 10);
	cr_assert(iomap_folio_block_dirty(f, 63));
	cr_assert(!iomap_folio_block_dirty(f, 62));
	cr_assert(!iomap_folio_block_uptodate(f, 63), "dirty is separate");
	iomap_folio_clear_dirty(f, 0, 64 * 1024, 10);
	cr_assert(!iomap_folio_block_dirty(f, 63));
	cr_assert(!iomap_folio_block_dirty(f, 64), "out of range is false");
	iomap_cache_destroy(&c);
}

Test(pagecache, seek_by_uptodate_blocks)
{
	struct iomap_cache c;
	struct iomap_folio *f;

	cr_assert_eq(iomap_cache_init(&c, 12), 0);
	cr_assert_eq(iomap_cache_add(&c, 1 << 20, 2, &f), 0); /* 16 KiB */
	iomap_folio_set_uptodate(f, 4096, 8192, 12);
	cr_assert_eq(iomap_cache_seek(&c, 0, 4 << 20, SEEK_DATA),
		     (1 << 20) + 4096);
	cr_assert_eq(iomap_cache_seek(&c, (1 << 20) + 4096, 4 << 20, SEEK_HOLE),
		     (1 << 20) + 12288);
	cr_assert_eq(iomap_cache_seek(&c, 0, 1 << 20, SEEK_DATA), -ENOENT);
	cr_assert_eq(iomap_cache_seek(&c, (1 << 20) + 4096, (1 << 20) + 12288,
				      SEEK_HOLE),
		     -ENOENT);
	iomap_cache_destroy(&c);
}

Test(pagecache, block_sizes)
{
	struct iomap_cache c;
	struct iomap_folio *f;

	cr_assert_eq(iomap_cache_init(&c, 8), -EINVAL);
	cr_assert_eq(iomap_cache_init(&c, 17), -EINVAL);
	/* 64 KiB blocks: folios of 16 pages at least, one block each. */
	cr_assert_eq(iomap_cache_init(&c, 16), 0);
	cr_assert_eq(c.min_order, 4);
	cr_assert_eq(iomap_cache_add(&c, 0, 3, &f), -EINVAL);
	cr_assert_eq(iomap_cache_add(&c, 70000, 4, &f), 0);
	cr_assert_eq(f->pos, 65536);
	cr_assert_eq(f->nblocks, 1);
	iomap_cache_destroy(&c);
}
