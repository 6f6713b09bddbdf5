// SPDX-License-Identifier: GPL-2.0
/* fiemap.c - FIEMAP and bmap on top of the iterator (fs/iomap/fiemap.c). */
#include <errno.h>
#include <string.h>
#include <linux/fiemap.h>

#include "internal.h"

/* The largest offset a file can have; fiemap ranges are trimmed to it. */
#define IOMAP_MAX_BYTES ((uint64_t)INT64_MAX)

/* Flags implied by others, as fs/ioctl.c adds them. */
#define FIEMAP_FLAGS_IMPLY_ENCODED FIEMAP_EXTENT_DATA_ENCRYPTED
#define FIEMAP_FLAGS_IMPLY_NOT_ALIGNED \
	(FIEMAP_EXTENT_DATA_INLINE | FIEMAP_EXTENT_DATA_TAIL)

int iomap_fiemap_fill_next_extent(struct iomap_fiemap_info *fi,
				  uint64_t logical, uint64_t phys, uint64_t len,
				  uint32_t flags)
{
	struct fiemap_extent *fe;

	if (fi->fi_extents_max == 0) {
		fi->fi_extents_mapped++;
		return (flags & FIEMAP_EXTENT_LAST) ? 1 : 0;
	}
	if (fi->fi_extents_mapped >= fi->fi_extents_max)
		return 1;

	if (flags & FIEMAP_EXTENT_DELALLOC)
		flags |= FIEMAP_EXTENT_UNKNOWN;
	if (flags & FIEMAP_FLAGS_IMPLY_ENCODED)
		flags |= FIEMAP_EXTENT_ENCODED;
	if (flags & FIEMAP_FLAGS_IMPLY_NOT_ALIGNED)
		flags |= FIEMAP_EXTENT_NOT_ALIGNED;

	fe = &fi->fi_extents_start[fi->fi_extents_mapped++];
	memset(fe, 0, sizeof(*fe));
	fe->fe_logical = logical;
	fe->fe_physical = phys;
	fe->fe_length = len;
	fe->fe_flags = flags;

	if (fi->fi_extents_mapped == fi->fi_extents_max)
		return 1;
	return (flags & FIEMAP_EXTENT_LAST) ? 1 : 0;
}

uint32_t iomap_to_fiemap_flags(const struct iomap *iomap)
{
	static const uint32_t by_type[IOMAP_TYPE_COUNT] = {
		[IOMAP_DELALLOC] = FIEMAP_EXTENT_DELALLOC |
				   FIEMAP_EXTENT_UNKNOWN,
		[IOMAP_UNWRITTEN] = FIEMAP_EXTENT_UNWRITTEN,
		[IOMAP_INLINE] = FIEMAP_EXTENT_DATA_INLINE,
	};
	uint32_t flags = iomap->type < IOMAP_TYPE_COUNT ? by_type[iomap->type] :
							  0;

	if (iomap->flags & IOMAP_F_MERGED)
		flags |= FIEMAP_EXTENT_MERGED;
	if (iomap->flags & IOMAP_F_SHARED)
		flags |= FIEMAP_EXTENT_SHARED;
	return flags;
}

static int iomap_to_fiemap(struct iomap_fiemap_info *fi,
			   const struct iomap *iomap, uint32_t flags)
{
	uint64_t phys = iomap->addr == IOMAP_NULL_ADDR ? 0 : iomap->addr;

	return iomap_fiemap_fill_next_extent(
		fi, (uint64_t)iomap->offset, phys, iomap->length,
		flags | iomap_to_fiemap_flags(iomap));
}

/* fs/ioctl.c fiemap_prep(): check flags and trim the range. */
static int iomap_fiemap_prep(struct iomap_fiemap_info *fi, loff_t start,
			     uint64_t *len, uint32_t supported)
{
	uint32_t incompat;

	if (*len == 0)
		return -EINVAL;
	if (start < 0 || (uint64_t)start >= IOMAP_MAX_BYTES)
		return -EFBIG;
	if (*len > IOMAP_MAX_BYTES - (uint64_t)start)
		*len = IOMAP_MAX_BYTES - (uint64_t)start;

	supported |= FIEMAP_FLAG_SYNC;
	supported &= FIEMAP_FLAGS_COMPAT;
	incompat = fi->fi_flags & ~supported;
	if (incompat) {
		fi->fi_flags = incompat;
		return -EBADR;
	}
	return 0;
}

/*
 * generic_block_fiemap() merged the blocks get_block returned one by one:
 * physically contiguous, of one kind (never inline).
 */
static bool iomap_fiemap_merges(const struct iomap *prev, const struct iomap *m)
{
	if (prev->type != m->type || m->type == IOMAP_INLINE ||
	    prev->offset + (loff_t)prev->length != m->offset)
		return false;
	return m->addr == IOMAP_NULL_ADDR ||
	       prev->addr + prev->length == m->addr;
}

int iomap_fiemap_source(struct iomap_inode *inode, struct iomap_fiemap_info *fi,
			loff_t start, uint64_t len, uint32_t supported,
			const struct iomap_source *src)
{
	struct iomap_iter iter = {
		.inode = inode,
		.pos = start,
		.flags = IOMAP_REPORT,
	};
	struct iomap prev = { .type = IOMAP_HOLE };
	bool merge = src->mapper == IOMAP_MAPPER_BH;
	int ret;

	ret = iomap_fiemap_prep(fi, start, &len, supported);
	if (ret)
		return ret;
	iter.len = len;

	/* Each extent is emitted one step late so the last can carry LAST. */
	while ((ret = iomap_iter_source(&iter, src)) > 0) {
		const struct iomap *m = &iter.iomap;

		if (m->type != IOMAP_HOLE && merge && prev.type != IOMAP_HOLE &&
		    iomap_fiemap_merges(&prev, m)) {
			prev.length += m->length;
		} else if (m->type != IOMAP_HOLE) {
			if (prev.type != IOMAP_HOLE &&
			    iomap_to_fiemap(fi, &prev, 0) == 1) {
				/* Array full: no progress ends the walk. */
				prev.type = IOMAP_HOLE;
				continue;
			}
			prev = *m;
			if (merge)
				prev.flags |= IOMAP_F_MERGED;
		}
		iter.status = iomap_iter_advance(&iter, iomap_length(&iter));
	}
	/* -ENOENT: the file has no xattr block to map. */
	if (ret == -ENOENT)
		ret = 0;
	if (ret < 0)
		return ret;
	if (prev.type != IOMAP_HOLE)
		iomap_to_fiemap(fi, &prev, FIEMAP_EXTENT_LAST);
	return 0;
}

int iomap_fiemap(struct iomap_inode *inode, struct iomap_fiemap_info *fi,
		 loff_t start, uint64_t len, uint32_t supported,
		 const struct iomap_ops *ops)
{
	struct iomap_source src = { .mapper = IOMAP_MAPPER_IOMAP, .ops = ops };

	return iomap_fiemap_source(inode, fi, start, len, supported, &src);
}

uint64_t iomap_bmap_source(struct iomap_inode *inode, uint64_t bno,
			   const struct iomap_source *src)
{
	unsigned int blkbits = inode->blkbits;
	struct iomap_iter iter = {
		.inode = inode,
		.pos = (loff_t)(bno << blkbits),
		.len = 1ULL << blkbits,
		.flags = IOMAP_REPORT,
	};
	uint64_t block = 0;
	int ret;

	if (bno > ((uint64_t)INT64_MAX >> blkbits))
		return 0;
	while ((ret = iomap_iter_source(&iter, src)) > 0) {
		if (iter.iomap.type == IOMAP_MAPPED)
			block = iomap_addr(&iter.iomap, iter.pos) >> blkbits;
		iter.status = iomap_iter_advance(&iter, iomap_length(&iter));
	}
	return ret < 0 ? 0 : block;
}

uint64_t iomap_bmap(struct iomap_inode *inode, uint64_t bno,
		    const struct iomap_ops *ops)
{
	struct iomap_source src = { .mapper = IOMAP_MAPPER_IOMAP, .ops = ops };

	return iomap_bmap_source(inode, bno, &src);
}
