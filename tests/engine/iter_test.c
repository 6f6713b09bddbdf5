// SPDX-License-Identifier: GPL-2.0
/* iter_test.c - the iomap_iter contract, driven by the table filesystem. */
#include <errno.h>
#include <criterion/criterion.h>

#include "memfs.h"

TestSuite(iter);

#define K 1024LL

/* Walk [pos, pos + len) consuming every mapping whole; returns the result. */
static int walk(struct memfs *fs, loff_t pos, uint64_t len, unsigned flags,
		struct iomap *seen, int max, int *nseen)
{
	struct iomap_iter iter = {
		.inode = &fs->inode,
		.pos = pos,
		.len = len,
		.flags = flags,
	};
	int ret;

	*nseen = 0;
	while ((ret = iomap_iter(&iter, &memfs_ops)) > 0) {
		if (*nseen < max)
			seen[*nseen] = iter.iomap;
		(*nseen)++;
		iter.status = iomap_iter_advance(&iter, iomap_length(&iter));
	}
	return ret;
}

static const struct memfs_extent three[] = {
	{ 0, 8 * K, IOMAP_MAPPED, 0, 1 << 20 },
	{ 16 * K, 8 * K, IOMAP_UNWRITTEN, 0, 2 << 20 },
	{ 24 * K, 4 * K, IOMAP_MAPPED, IOMAP_F_SHARED, 3 << 20 },
};

Test(iter, walks_every_type_in_order)
{
	struct memfs fs;
	struct iomap seen[8];
	int n;

	memfs_init(&fs, 12, 32 * K, three, 3);
	cr_assert_eq(walk(&fs, 0, 32 * K, 0, seen, 8, &n), 0);
	cr_assert_eq(n, 5);
	cr_assert_eq(seen[0].type, IOMAP_MAPPED);
	cr_assert_eq(seen[1].type, IOMAP_HOLE);
	cr_assert_eq(seen[1].offset, 8 * K);
	cr_assert_eq(seen[1].length, 8 * K);
	cr_assert_eq(seen[2].type, IOMAP_UNWRITTEN);
	cr_assert_eq(seen[3].flags, IOMAP_F_SHARED);
	cr_assert_eq(seen[4].type, IOMAP_HOLE);
	cr_assert_eq(fs.nr_begin, 5);
	cr_assert_eq(fs.nr_end, 5);
	cr_assert_eq(fs.stats.map_calls, 5);
}

Test(iter, short_mappings_loop_until_done)
{
	struct memfs fs;
	struct iomap seen[8];
	int n;

	/* §10.1: 4 KiB pieces, 10 KiB at 3 KiB => 4 begin/end pairs. */
	memfs_init(&fs, 12, 64 * K, three, 1);
	fs.ext[0].length = 64 * K;
	fs.max_map = 4 * K;
	cr_assert_eq(walk(&fs, 3 * K, 10 * K, 0, seen, 8, &n), 0);
	cr_assert_eq(n, 4);
	cr_assert_eq(fs.nr_begin, 4);
	cr_assert_eq(seen[0].offset, 0, "piece starts before pos");
	cr_assert_eq(fs.ends[0].pos, 3 * K);
	cr_assert_eq(fs.ends[0].length, K, "trimmed to the request");
	cr_assert_eq(fs.ends[0].written, K);
	cr_assert_eq(fs.ends[1].pos, 4 * K);
	cr_assert_eq(fs.ends[1].written, 4 * K);
	cr_assert_eq(fs.ends[3].pos, 12 * K);
	cr_assert_eq(fs.ends[3].length, K, "last mapping trimmed to request");
	cr_assert_eq(fs.ends[3].written, K);
}

Test(iter, mapping_starting_before_pos_is_trimmed)
{
	struct memfs fs;
	struct iomap_iter iter = { .inode = &fs.inode,
				   .pos = 5 * K,
				   .len = 2 * K };

	memfs_init(&fs, 12, 32 * K, three, 3);
	cr_assert_eq(iomap_iter(&iter, &memfs_ops), 1);
	cr_assert_eq(iter.iomap.offset, 0);
	cr_assert_eq(iomap_length(&iter), 2 * K);
	cr_assert_eq(iomap_addr(&iter.iomap, iter.pos), (1 << 20) + 5 * K);
	iter.status = iomap_iter_advance(&iter, iomap_length(&iter));
	cr_assert_eq(iomap_iter(&iter, &memfs_ops), 0);
	cr_assert_eq(fs.ends[0].length, 2 * K);
}

Test(iter, partial_progress_maps_the_rest_again)
{
	struct memfs fs;
	struct iomap_iter iter = { .inode = &fs.inode, .pos = 0, .len = 8 * K };

	memfs_init(&fs, 12, 32 * K, three, 3);
	cr_assert_eq(iomap_iter(&iter, &memfs_ops), 1);
	iter.status = iomap_iter_advance(&iter, K);
	cr_assert_eq(iomap_iter(&iter, &memfs_ops), 1);
	cr_assert_eq(fs.ends[0].written, K);
	cr_assert_eq(fs.begins[1].pos, K);
	cr_assert_eq(fs.begins[1].length, 7 * K);
	iter.status = iomap_iter_advance(&iter, iomap_length(&iter));
	cr_assert_eq(iomap_iter(&iter, &memfs_ops), 0);
}

Test(iter, no_progress_ends_the_walk)
{
	struct memfs fs;
	struct iomap_iter iter = { .inode = &fs.inode, .len = 32 * K };

	memfs_init(&fs, 12, 32 * K, three, 3);
	cr_assert_eq(iomap_iter(&iter, &memfs_ops), 1);
	iter.status = 0;
	cr_assert_eq(iomap_iter(&iter, &memfs_ops), 0);
	cr_assert_eq(fs.nr_begin, 1);
	cr_assert_eq(fs.ends[0].written, 0);
}

Test(iter, stale_mapping_is_mapped_again_at_same_pos)
{
	struct memfs fs;
	struct iomap_iter iter = { .inode = &fs.inode, .len = 8 * K };

	memfs_init(&fs, 12, 32 * K, three, 3);
	cr_assert_eq(iomap_iter(&iter, &memfs_ops), 1);
	iter.iomap.flags |= IOMAP_F_STALE;
	cr_assert_eq(iomap_iter(&iter, &memfs_ops), 1);
	cr_assert_eq(fs.nr_end, 1);
	cr_assert_eq(fs.begins[1].pos, 0);
	cr_assert_eq(iter.iomap.flags & IOMAP_F_STALE, 0);
}

Test(iter, begin_error_reaches_caller_without_end)
{
	struct memfs fs;
	struct iomap seen[8];
	int n;

	memfs_init(&fs, 12, 32 * K, three, 3);
	fs.begin_error = -EIO;
	fs.error_at = 16 * K;
	cr_assert_eq(walk(&fs, 0, 32 * K, 0, seen, 8, &n), -EIO);
	cr_assert_eq(n, 2);
	cr_assert_eq(fs.nr_begin, 3);
	cr_assert_eq(fs.nr_end, 2, "no iomap_end for a failed begin");
}

Test(iter, end_error_stops_the_walk)
{
	struct memfs fs;
	struct iomap seen[8];
	int n;

	memfs_init(&fs, 12, 32 * K, three, 3);
	fs.end_error = -ENOSPC;
	fs.error_at = 8 * K;
	cr_assert_eq(walk(&fs, 0, 32 * K, 0, seen, 8, &n), -ENOSPC);
	cr_assert_eq(n, 2);
	cr_assert_eq(fs.nr_begin, 2);
}

Test(iter, body_error_reaches_caller_after_end)
{
	struct memfs fs;
	struct iomap_iter iter = { .inode = &fs.inode, .len = 32 * K };

	memfs_init(&fs, 12, 32 * K, three, 3);
	cr_assert_eq(iomap_iter(&iter, &memfs_ops), 1);
	iter.status = -EFAULT;
	cr_assert_eq(iomap_iter(&iter, &memfs_ops), -EFAULT);
	cr_assert_eq(fs.nr_end, 1, "iomap_end still learns of the mapping");
}

Test(iter, positive_status_is_a_bug)
{
	struct memfs fs;
	struct iomap_iter iter = { .inode = &fs.inode, .len = 32 * K };

	memfs_init(&fs, 12, 32 * K, three, 3);
	cr_assert_eq(iomap_iter(&iter, &memfs_ops), 1);
	iter.status = 4096;
	cr_assert_eq(iomap_iter(&iter, &memfs_ops), -EIO);
}

Test(iter, mapping_not_covering_pos_is_eio)
{
	struct memfs fs;
	struct iomap seen[1];
	int n;

	memfs_init(&fs, 12, 32 * K, three, 3);
	fs.bad_offset = 12 * K; /* starts after pos */
	cr_assert_eq(walk(&fs, 4 * K, 4 * K, 0, seen, 1, &n), -EIO);
	cr_assert_eq(n, 0);

	memfs_init(&fs, 12, 32 * K, three, 3);
	fs.bad_length = K; /* ends before pos */
	cr_assert_eq(walk(&fs, 4 * K, 4 * K, 0, seen, 1, &n), -EIO);
	cr_assert_eq(fs.nr_end, 1, "the fs may undo a broken mapping");
}

static int empty_begin(struct iomap_inode *inode, loff_t pos, loff_t length,
		       unsigned int flags, struct iomap *iomap,
		       struct iomap *srcmap)
{
	(void)inode;
	(void)length;
	(void)flags;
	(void)srcmap;
	*iomap = (struct iomap){ .offset = pos, .type = IOMAP_MAPPED };
	return 0;
}

Test(iter, zero_length_mapping_is_eio)
{
	struct memfs fs;
	const struct iomap_ops ops = { .iomap_begin = empty_begin };
	struct iomap_iter iter = { .inode = &fs.inode, .len = 4 * K };

	memfs_init(&fs, 12, 32 * K, NULL, 0);
	cr_assert_eq(iomap_iter(&iter, &ops), -EIO);
}

Test(iter, hole_for_write_is_eio)
{
	struct memfs fs;
	struct iomap_iter iter = { .inode = &fs.inode,
				   .pos = 8 * K,
				   .len = 4 * K,
				   .flags = IOMAP_WRITE };
	static const struct iomap_ops hole_ops = {
		.iomap_begin = NULL,
	};

	memfs_init(&fs, 12, 32 * K, three, 3);
	cr_assert_eq(iomap_iter(&iter, &hole_ops), -EINVAL, "no begin op");
	/* memfs allocates on write; a plain report walk returns the hole. */
	cr_assert_eq(iomap_iter(&iter, &memfs_ops), 1);
	cr_assert_eq(iter.iomap.type, IOMAP_MAPPED);
	cr_assert(iter.iomap.flags & IOMAP_F_NEW);
}

static int hole_begin(struct iomap_inode *inode, loff_t pos, loff_t length,
		      unsigned int flags, struct iomap *iomap,
		      struct iomap *srcmap)
{
	(void)inode;
	(void)flags;
	(void)srcmap;
	*iomap = (struct iomap){ .offset = pos,
				 .length = (uint64_t)length,
				 .type = IOMAP_HOLE,
				 .addr = IOMAP_NULL_ADDR };
	return 0;
}

Test(iter, fs_returning_hole_for_write_is_eio)
{
	struct memfs fs;
	const struct iomap_ops ops = { .iomap_begin = hole_begin };
	struct iomap_iter iter = { .inode = &fs.inode,
				   .len = 4 * K,
				   .flags = IOMAP_WRITE };

	memfs_init(&fs, 12, 32 * K, NULL, 0);
	cr_assert_eq(iomap_iter(&iter, &ops), -EIO);
}

Test(iter, zero_length_range_does_nothing)
{
	struct memfs fs;
	struct iomap seen[1];
	int n;

	memfs_init(&fs, 12, 32 * K, three, 3);
	cr_assert_eq(walk(&fs, 4 * K, 0, 0, seen, 1, &n), 0);
	cr_assert_eq(fs.nr_begin, 0);
}

Test(iter, overflowing_range_is_einval)
{
	struct memfs fs;
	struct iomap seen[1];
	int n;

	memfs_init(&fs, 12, 32 * K, three, 3);
	cr_assert_eq(walk(&fs, INT64_MAX - 10, 11, 0, seen, 1, &n), -EINVAL);
	cr_assert_eq(walk(&fs, 1, UINT64_MAX, 0, seen, 1, &n), -EINVAL);
	cr_assert_eq(walk(&fs, -1, 1, 0, seen, 1, &n), -EINVAL);
	cr_assert_eq(fs.nr_begin, 0);
	cr_assert_eq(walk(&fs, INT64_MAX - 10, 10, 0, seen, 1, &n), 0,
		     "a range ending exactly at 2^63 - 1 is fine");
}

Test(iter, advance_past_mapping_is_eio)
{
	struct memfs fs;
	struct iomap_iter iter = { .inode = &fs.inode, .len = 32 * K };

	memfs_init(&fs, 12, 32 * K, three, 3);
	cr_assert_eq(iomap_iter(&iter, &memfs_ops), 1);
	cr_assert_eq(iomap_iter_advance(&iter, 8 * K + 1), -EIO);
	cr_assert_eq(iter.pos, 0);
	cr_assert_eq(iomap_iter_advance(&iter, 8 * K), 0);
	cr_assert_eq(iter.pos, 8 * K);
}

static int cow_begin(struct iomap_inode *inode, loff_t pos, loff_t length,
		     unsigned int flags, struct iomap *iomap,
		     struct iomap *srcmap)
{
	(void)inode;
	(void)length;
	(void)flags;
	/* New blocks for 16 KiB; the old data is shared for only 6 KiB. */
	*iomap = (struct iomap){ .offset = pos,
				 .length = 16 * K,
				 .type = IOMAP_MAPPED,
				 .addr = 1 << 20,
				 .flags = IOMAP_F_NEW };
	*srcmap = (struct iomap){ .offset = pos,
				  .length = 6 * K,
				  .type = IOMAP_MAPPED,
				  .addr = 9 << 20,
				  .flags = IOMAP_F_SHARED };
	return 0;
}

Test(iter, srcmap_is_filled_and_clamps_length)
{
	struct memfs fs;
	const struct iomap_ops ops = { .iomap_begin = cow_begin };
	struct iomap_iter iter = { .inode = &fs.inode,
				   .len = 32 * K,
				   .flags = IOMAP_WRITE };

	memfs_init(&fs, 12, 32 * K, NULL, 0);
	cr_assert_eq(iomap_iter(&iter, &ops), 1);
	cr_assert_eq(iomap_iter_srcmap(&iter), &iter.srcmap);
	cr_assert_eq(iomap_length(&iter), 6 * K);
	iter.status = iomap_iter_advance(&iter, iomap_length(&iter));
	cr_assert_eq(iomap_iter(&iter, &ops), 1);
	cr_assert_eq(iter.pos, 6 * K);
	cr_assert_eq(iter.srcmap.addr, 9 << 20);
}

Test(iter, without_srcmap_reads_come_from_iomap)
{
	struct memfs fs;
	struct iomap_iter iter = { .inode = &fs.inode, .len = 32 * K };

	memfs_init(&fs, 12, 32 * K, three, 3);
	cr_assert_eq(iomap_iter(&iter, &memfs_ops), 1);
	cr_assert_eq(iter.srcmap.type, IOMAP_HOLE);
	cr_assert_eq(iomap_iter_srcmap(&iter), &iter.iomap);
}

Test(iter, type_and_flag_names)
{
	char buf[64];

	cr_assert_str_eq(iomap_type_name(IOMAP_UNWRITTEN), "UNWRITTEN");
	cr_assert_str_eq(iomap_type_name(99), "UNKNOWN");
	cr_assert_str_eq(iomap_flags_names(IOMAP_F_NEW | IOMAP_F_SHARED |
						   IOMAP_F_MERGED,
					   buf, sizeof(buf)),
			 "NEW,SHARED,MERGED");
	cr_assert_str_eq(iomap_flags_names(0, buf, sizeof(buf)), "");
	cr_assert_str_eq(iomap_flags_names(IOMAP_F_NEW | IOMAP_F_SHARED, buf,
					   6),
			 "NEW", "truncated at a name boundary");
}
