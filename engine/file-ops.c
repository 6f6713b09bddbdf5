// SPDX-License-Identifier: GPL-2.0
/* file-ops.c - the sequences that change a file's size or blocks: the page
 * cache and the filesystem must agree on every step, so each exists once
 * here and every command calls it (truncate, fallocate's modes). */
#include <errno.h>

#include "internal.h"

static loff_t min_pos(loff_t a, loff_t b)
{
	return a < b ? a : b;
}

/*
 * Before the size moves past or below the block holding @pos, the rest of
 * that block must read as zeros: past the old EOF a hostile (or merely
 * old) image may hold anything.  Written back before the filesystem moves
 * blocks under the cache.
 */
static int iomap_zero_tail(struct iomap_file *file, loff_t pos)
{
	int ret = iomap_file_truncate_page(file, pos);

	return ret ? ret : iomap_file_sync(file);
}

static int iomap_check_range(loff_t pos, uint64_t len)
{
	if (pos < 0 || !len || len > (uint64_t)(INT64_MAX - pos))
		return -EINVAL;
	return 0;
}

int iomap_file_setsize(struct iomap_file *file,
		       const struct iomap_space_ops *ops, loff_t size)
{
	int ret;

	if (!ops->setsize)
		return -EOPNOTSUPP;
	if (size < 0)
		return -EINVAL;
	/* Shrinking zeroes the new last block's tail, growing the old one's. */
	ret = iomap_zero_tail(file, min_pos(size, file->inode->size));
	if (!ret)
		ret = ops->setsize(file->inode, size);
	if (!ret)
		iomap_file_invalidate(file, size);
	return ret;
}

int iomap_file_punch(struct iomap_file *file,
		     const struct iomap_space_ops *ops, loff_t pos,
		     uint64_t len)
{
	loff_t bs = (loff_t)iomap_blocksize(file->inode);
	int ret = iomap_check_range(pos, len);

	if (ret)
		return ret;
	if (!ops->punch)
		return -EOPNOTSUPP;
	/* Dirty pages must reach the disk before blocks move under them. */
	ret = iomap_file_sync(file);
	if (!ret)
		ret = ops->punch(file->inode, pos, len);
	/* The filesystem zeroed the edges on disk: no cached copy may stay. */
	if (!ret)
		iomap_file_invalidate(file, pos & ~(bs - 1));
	return ret;
}

int iomap_file_falloc(struct iomap_file *file,
		      const struct iomap_space_ops *ops, loff_t pos,
		      uint64_t len, bool keep_size)
{
	int ret = iomap_check_range(pos, len);

	if (ret)
		return ret;
	if (!ops->falloc)
		return -EOPNOTSUPP;
	if (!keep_size && pos + (loff_t)len > file->inode->size &&
	    (ret = iomap_zero_tail(file, file->inode->size)))
		return ret;
	return ops->falloc(file->inode, pos, len, keep_size);
}

/*
 * Whole blocks: free them and preallocate again (unwritten reads zeros).
 * A file that cannot hold unwritten extents (ext2/3 block maps) refuses
 * the preallocation past EOF: its holes read as zeros already, so those
 * blocks stay holes rather than failing after the punch.
 */
static int iomap_zero_blocks(struct iomap_file *file,
			     const struct iomap_space_ops *ops, uint64_t a,
			     uint64_t b)
{
	int ret;

	if (!ops->punch)
		return iomap_file_zero_range(file, (loff_t)a, b - a);
	ret = iomap_file_punch(file, ops, (loff_t)a, b - a);
	if (!ret && ops->falloc && ops->unwritten) {
		ret = ops->falloc(file->inode, (loff_t)a, b - a, true);
		if (ret == -EOPNOTSUPP)
			ret = 0;
	}
	return ret;
}

/* [@pos, @end) without moving the size: whole blocks freed and
 * preallocated, partial ones zeroed in place. */
static int iomap_zero_inside(struct iomap_file *file,
			     const struct iomap_space_ops *ops, uint64_t pos,
			     uint64_t end)
{
	uint64_t bs = iomap_blocksize(file->inode);
	/* The whole blocks inside; unsigned: rounding up may pass INT64_MAX. */
	uint64_t a = (pos + bs - 1) & ~(bs - 1), b = end & ~(bs - 1);
	int ret = 0;

	if (a >= b)
		return iomap_file_zero_range(file, (loff_t)pos, end - pos);
	ret = iomap_zero_blocks(file, ops, a, b);
	if (!ret && pos < a)
		ret = iomap_file_zero_range(file, (loff_t)pos, a - pos);
	if (!ret && b < end)
		ret = iomap_file_zero_range(file, (loff_t)b, end - b);
	return ret;
}

/*
 * Growing: as ext4_zero_range(), the size moves last, so a failure (a
 * corrupt mapping, no space) leaves it where it was.  Below the old size
 * the range is zeroed as usual; past it whole blocks are freed (whatever
 * a hostile image keeps there) and preallocated, and the old EOF block's
 * tail is zeroed by the size change itself.
 */
static int iomap_zero_grow(struct iomap_file *file,
			   const struct iomap_space_ops *ops, uint64_t pos,
			   uint64_t end)
{
	uint64_t bs = iomap_blocksize(file->inode);
	uint64_t old = (uint64_t)file->inode->size;
	uint64_t g = pos > old ? pos : old;
	uint64_t gb = (g + bs - 1) & ~(bs - 1), eb = (end + bs - 1) & ~(bs - 1);
	int ret = 0;

	if (!ops->setsize)
		return -EOPNOTSUPP;
	if (eb > (uint64_t)INT64_MAX) /* no such size: ->setsize refuses */
		eb = end & ~(bs - 1);
	/* Without ->punch the page cache zeroes: it needs the size first. */
	if (!ops->punch) {
		ret = iomap_file_setsize(file, ops, (loff_t)end);
		return ret ? ret : iomap_zero_inside(file, ops, pos, end);
	}
	if (pos < g)
		ret = iomap_zero_inside(file, ops, pos, g);
	if (!ret && gb < eb)
		ret = iomap_zero_blocks(file, ops, gb, eb);
	return ret ? ret : iomap_file_setsize(file, ops, (loff_t)end);
}

int iomap_file_falloc_zero(struct iomap_file *file,
			   const struct iomap_space_ops *ops, loff_t pos,
			   uint64_t len, bool keep_size)
{
	uint64_t end = (uint64_t)pos + len;
	int ret = iomap_check_range(pos, len);

	if (ret)
		return ret;
	if (!keep_size && end > (uint64_t)file->inode->size)
		return iomap_zero_grow(file, ops, (uint64_t)pos, end);
	return iomap_zero_inside(file, ops, (uint64_t)pos, end);
}
