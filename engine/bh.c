// SPDX-License-Identifier: GPL-2.0
/* bh.c - the buffer-head emulation core: one get_block call per block, and
 * the report operations built on it, for comparison with the iomap path. */
#include <errno.h>
#include <unistd.h>
#include <linux/fiemap.h>

#include "internal.h"
#include "iomapctl/bh.h"

int iomap_bh_walk(struct iomap_inode *inode, loff_t pos, uint64_t len,
		  int create, iomap_get_block_t get_block,
		  iomap_bh_actor_t actor, void *priv)
{
	unsigned int blkbits = inode->blkbits;
	uint64_t first, last;

	if (pos < 0 || len > (uint64_t)(INT64_MAX - pos))
		return -EINVAL;
	if (len == 0)
		return 0;
	first = (uint64_t)pos >> blkbits;
	last = ((uint64_t)pos + len - 1) >> blkbits;
	for (uint64_t iblock = first; iblock <= last; iblock++) {
		struct iomap_bh bh = { .size = 1ULL << blkbits };
		int ret;

		inode->stats->map_calls++;
		ret = get_block(inode, iblock, &bh, create);
		if (ret < 0)
			return ret;
		ret = actor(inode, (loff_t)(iblock << blkbits), &bh, priv);
		if (ret)
			return ret < 0 ? ret : 0;
	}
	return 0;
}

/*
 * fiemap the old way (the kernel's generic_block_fiemap): map every block
 * and merge neighbours that are physically contiguous and of one kind.
 */
struct bh_fiemap {
	struct iomap_fiemap_info *fi;
	struct iomap_inode *inode;
	struct iomap pending; /* extent being grown; HOLE when none */
	int full;
};

static uint16_t bh_type(const struct iomap_bh *bh)
{
	if (bh->inline_data)
		return IOMAP_INLINE;
	if (bh->state & IOMAP_BH_DELAY)
		return IOMAP_DELALLOC;
	if (!(bh->state & IOMAP_BH_MAPPED))
		return IOMAP_HOLE;
	if (bh->state & IOMAP_BH_UNWRITTEN)
		return IOMAP_UNWRITTEN;
	return IOMAP_MAPPED;
}

static int bh_fiemap_flush(struct bh_fiemap *bf, uint32_t flags)
{
	struct iomap *m = &bf->pending;
	uint64_t phys = m->addr == IOMAP_NULL_ADDR ? 0 : m->addr;
	int ret;

	if (m->type == IOMAP_HOLE)
		return 0;
	ret = iomap_fiemap_fill_next_extent(bf->fi, (uint64_t)m->offset, phys,
					    m->length,
					    flags | iomap_to_fiemap_flags(m));
	m->type = IOMAP_HOLE;
	return ret;
}

static int bh_fiemap_actor(struct iomap_inode *inode, loff_t pos,
			   struct iomap_bh *bh, void *priv)
{
	struct bh_fiemap *bf = priv;
	struct iomap *m = &bf->pending;
	uint16_t type = bh_type(bh);
	uint64_t bsize = iomap_blocksize(inode);
	uint64_t addr = type == IOMAP_MAPPED || type == IOMAP_UNWRITTEN ?
				bh->blocknr * bsize :
				IOMAP_NULL_ADDR;

	if (m->type != IOMAP_HOLE && m->type == type &&
	    m->offset + (loff_t)m->length == pos &&
	    (addr == IOMAP_NULL_ADDR || m->addr + m->length == addr) &&
	    type != IOMAP_INLINE) {
		m->length += bsize;
		return 0;
	}
	/* Keep the extent across a hole: it may be the last, which gets LAST. */
	if (type == IOMAP_HOLE)
		return 0;
	if (bh_fiemap_flush(bf, 0) == 1) {
		bf->full = 1;
		return 1;
	}
	*m = (struct iomap){ .offset = pos,
			     .length = bsize,
			     .type = type,
			     .addr = addr,
			     .flags = IOMAP_F_MERGED };
	if (type == IOMAP_INLINE)
		m->length = (uint64_t)(inode->size - pos);
	return 0;
}

/*
 * Past EOF, as ext4 lists a KEEP_SIZE preallocation: ask get_block for
 * all of [@pos, @end) at once; a hole answer says how far it goes, so the
 * walk skips holes whole and ends at the hole after the last allocated
 * block instead of stepping block by block to the end of the range.
 */
static int bh_fiemap_past_eof(struct bh_fiemap *bf, uint64_t pos, uint64_t end,
			      iomap_get_block_t get_block)
{
	struct iomap_inode *inode = bf->inode;
	uint64_t bsize = iomap_blocksize(inode);
	int ret;

	pos &= ~(bsize - 1);
	while (pos < end) {
		struct iomap_bh bh = { .size = (end - pos + bsize - 1) &
					       ~(bsize - 1) };

		inode->stats->map_calls++;
		ret = get_block(inode, pos >> inode->blkbits, &bh, 0);
		if (ret < 0)
			return ret;
		if (bh_type(&bh) == IOMAP_HOLE) {
			pos += bh.size > bsize ? bh.size & ~(bsize - 1) : bsize;
			continue;
		}
		ret = bh_fiemap_actor(inode, (loff_t)pos, &bh, bf);
		if (ret)
			return ret < 0 ? ret : 0;
		pos += bsize;
	}
	return 0;
}

int iomap_bh_fiemap(struct iomap_inode *inode, struct iomap_fiemap_info *fi,
		    loff_t start, uint64_t len, iomap_get_block_t get_block)
{
	struct bh_fiemap bf = { .fi = fi,
				.inode = inode,
				.pending = { .type = IOMAP_HOLE } };
	uint64_t size = inode->size > start ? (uint64_t)(inode->size - start) :
					      0;
	uint64_t end;
	int ret;

	if (len == 0)
		return -EINVAL;
	if (start < 0)
		return -EFBIG;
	if (fi->fi_flags & ~FIEMAP_FLAG_SYNC) {
		fi->fi_flags &= ~FIEMAP_FLAG_SYNC;
		return -EBADR;
	}
	end = len > (uint64_t)INT64_MAX - (uint64_t)start ?
		      (uint64_t)INT64_MAX :
		      (uint64_t)start + len;
	/* Inside i_size block by block, the old way. */
	ret = iomap_bh_walk(inode, start, len < size ? len : size, 0, get_block,
			    bh_fiemap_actor, &bf);
	if (!ret && !bf.full && len > size) {
		uint64_t bmask = iomap_blocksize(inode) - 1;
		/* The first block the walk did not cover. */
		uint64_t eof = size ? ((uint64_t)start + size + bmask) &
					       ~bmask :
				      (uint64_t)start;

		ret = bh_fiemap_past_eof(&bf, eof, end, get_block);
	}
	if (ret < 0 || bf.full)
		return ret;
	bh_fiemap_flush(&bf, FIEMAP_EXTENT_LAST);
	return 0;
}

struct bh_seek {
	bool want_data;
	loff_t found;
};

static int bh_seek_actor(struct iomap_inode *inode, loff_t pos,
			 struct iomap_bh *bh, void *priv)
{
	struct bh_seek *bs = priv;
	uint16_t type = bh_type(bh);
	bool data = type != IOMAP_HOLE && type != IOMAP_UNWRITTEN;

	(void)inode;
	if (data != bs->want_data)
		return 0;
	bs->found = pos;
	return 1;
}

static loff_t iomap_bh_seek(struct iomap_inode *inode, loff_t offset,
			    iomap_get_block_t get_block, int whence)
{
	struct bh_seek bs = { .want_data = whence == SEEK_DATA, .found = -1 };
	int ret;

	if (offset < 0 || offset >= inode->size)
		return -ENXIO;
	ret = iomap_bh_walk(inode, offset, (uint64_t)(inode->size - offset), 0,
			    get_block, bh_seek_actor, &bs);
	if (ret < 0)
		return ret;
	if (bs.found < 0)
		return bs.want_data ? -ENXIO : inode->size;
	/* The first block may start before the offset asked. */
	return bs.found > offset ? bs.found : offset;
}

loff_t iomap_bh_seek_data(struct iomap_inode *inode, loff_t offset,
			  iomap_get_block_t get_block)
{
	return iomap_bh_seek(inode, offset, get_block, SEEK_DATA);
}

loff_t iomap_bh_seek_hole(struct iomap_inode *inode, loff_t offset,
			  iomap_get_block_t get_block)
{
	return iomap_bh_seek(inode, offset, get_block, SEEK_HOLE);
}

static int bh_bmap_actor(struct iomap_inode *inode, loff_t pos,
			 struct iomap_bh *bh, void *priv)
{
	(void)inode;
	(void)pos;
	if (bh_type(bh) == IOMAP_MAPPED)
		*(uint64_t *)priv = bh->blocknr;
	return 0;
}

uint64_t iomap_bh_bmap(struct iomap_inode *inode, uint64_t bno,
		       iomap_get_block_t get_block)
{
	uint64_t block = 0;

	if (bno > ((uint64_t)INT64_MAX >> inode->blkbits))
		return 0;
	if (iomap_bh_walk(inode, (loff_t)(bno << inode->blkbits), 1, 0,
			  get_block, bh_bmap_actor, &block) < 0)
		return 0;
	return block;
}
