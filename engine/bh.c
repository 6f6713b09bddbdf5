// SPDX-License-Identifier: GPL-2.0
/* bh.c - buffer heads as a mapping source: get_block once per block, the
 * one translation of buffer-head state into a mapping, and the per-block
 * state the bh and hybrid mappers keep on folios. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"
#include "iomapctl/bh.h"

/*
 * The only place buffer-head state becomes a mapping type.  An unwritten
 * buffer is allocated whether or not get_block also set MAPPED (the kernel
 * always sets both), so it is UNWRITTEN with its block, never a hole.
 */
void iomap_bh_to_iomap(const struct iomap_inode *inode, loff_t pos,
		       const struct iomap_bh *bh, struct iomap *m)
{
	memset(m, 0, sizeof(*m));
	m->offset = pos;
	m->length = iomap_blocksize(inode);
	m->addr = IOMAP_NULL_ADDR;
	/* Block-at-a-time I/O: nothing merges with its neighbour. */
	m->flags = IOMAP_F_BOUNDARY | IOMAP_F_BUFFER_HEAD;
	if (bh->state & IOMAP_BH_NEW)
		m->flags |= IOMAP_F_NEW;
	if (bh->state & IOMAP_BH_SHARED)
		m->flags |= IOMAP_F_SHARED;
	if (bh->inline_data) {
		m->type = IOMAP_INLINE;
		m->inline_data = (void *)bh->inline_data;
		/* The inline bytes end at EOF, inside this block. */
		if (inode->size > pos &&
		    (uint64_t)(inode->size - pos) < m->length)
			m->length = (uint64_t)(inode->size - pos);
	} else if (bh->state & IOMAP_BH_DELAY) {
		m->type = IOMAP_DELALLOC;
	} else if (bh->state & IOMAP_BH_UNWRITTEN) {
		m->type = IOMAP_UNWRITTEN;
		m->addr = bh->blocknr << inode->blkbits;
	} else if (bh->state & IOMAP_BH_MAPPED) {
		m->type = IOMAP_MAPPED;
		m->addr = bh->blocknr << inode->blkbits;
	} else {
		m->type = IOMAP_HOLE;
	}
}

/* ---- buffer heads attached to folios ---- */

/* The buffer head of the block at @pos when it holds a usable mapping. */
const struct iomap_bh *iomap__folio_bh_mapped(const struct iomap_folio *folio,
					      loff_t pos)
{
	const struct iomap_bh *bh;

	if (!folio || !iomap__folio_bhs(folio))
		return NULL;
	bh = &iomap__folio_bhs(
		folio)[(pos - folio->pos) >> folio->cache->blkbits];
	if (!(bh->state & IOMAP_BH_MAPPED) || (bh->state & IOMAP_BH_DELAY))
		return NULL;
	return bh;
}

int iomap__folio_bh_record(struct iomap_folio *folio, const struct iomap *m,
			   loff_t pos, uint64_t len, struct iomap_stats *st)
{
	unsigned int blkbits = folio->cache->blkbits;
	loff_t bs = (loff_t)1 << blkbits;
	loff_t end = pos + (loff_t)len;
	loff_t fend = folio->pos + (loff_t)iomap_folio_size(folio);

	if (m->type == IOMAP_INLINE)
		return 0; /* nothing to remember: no block */
	if (!folio->private) {
		folio->private =
			calloc(folio->nblocks, sizeof(struct iomap_bh));
		if (!folio->private)
			return -ENOMEM;
		st->bh_allocated += folio->nblocks;
	}
	if (end > fend)
		end = fend;
	for (loff_t b = pos & ~(bs - 1); b < end; b += bs) {
		struct iomap_bh *bh =
			&iomap__folio_bhs(folio)[(b - folio->pos) >> blkbits];

		/* Initialised by the caller now: NEW is not remembered. */
		memset(bh, 0, sizeof(*bh));
		bh->size = (uint64_t)bs;
		switch (m->type) {
		case IOMAP_DELALLOC:
			bh->state = IOMAP_BH_DELAY;
			break;
		case IOMAP_UNWRITTEN:
			bh->state = IOMAP_BH_UNWRITTEN;
			/* fall through */
		case IOMAP_MAPPED:
			/*
			 * A shared block is asked for again by the next write,
			 * which copies it (COW): remembered, writeback would
			 * write it in place under the other owners.
			 */
			if (m->flags & IOMAP_F_SHARED)
				break;
			bh->state |= IOMAP_BH_MAPPED;
			bh->blocknr = iomap_addr(m, b) >> blkbits;
			break;
		default:
			break; /* a hole: unmapped */
		}
	}
	return 0;
}

/* ---- the bh mapping source ---- */

static uint64_t round_up_u64(uint64_t x, uint64_t a)
{
	return (x + a - 1) & ~(a - 1);
}

/*
 * Without get_block (the xattr block): ask the filesystem's table for the
 * block holding @pos only and keep one block of the answer, as a
 * block-mapped filesystem's own code walks it.
 */
static int iomap_bh_begin_ops(struct iomap_iter *iter,
			      const struct iomap_source *src)
{
	struct iomap *m = &iter->iomap;
	uint64_t bs = iomap_blocksize(iter->inode);
	loff_t bpos = iter->pos & ~(loff_t)(bs - 1);
	loff_t bend = bpos + (loff_t)bs, start, end;
	int ret;

	iter->inode->stats->map_calls++;
	ret = src->ops->iomap_begin(iter->inode, iter->pos,
				    (loff_t)(bend - iter->pos), iter->flags, m,
				    &iter->srcmap);
	if (ret < 0 || m->length == 0 || m->offset > iter->pos)
		return ret; /* iomap_iter() checks the broken answer */
	start = m->offset > bpos ? m->offset : bpos;
	end = (loff_t)(m->offset + (loff_t)m->length);
	if (end > bend && m->type != IOMAP_HOLE)
		end = bend;
	if (m->addr != IOMAP_NULL_ADDR)
		m->addr += (uint64_t)(start - m->offset);
	if (m->inline_data)
		m->inline_data =
			(uint8_t *)m->inline_data + (start - m->offset);
	m->offset = start;
	m->length = (uint64_t)(end - start);
	m->flags |= IOMAP_F_BOUNDARY | IOMAP_F_BUFFER_HEAD;
	return 0;
}

int iomap__bh_begin(struct iomap_iter *iter, const struct iomap_source *src)
{
	struct iomap_inode *inode = iter->inode;
	uint64_t bs = iomap_blocksize(inode);
	loff_t bpos = iter->pos & ~(loff_t)(bs - 1);
	uint64_t want =
		round_up_u64((uint64_t)(iter->pos - bpos) + iter->len, bs);
	struct iomap_bh bh = { .size = bs };
	const struct iomap_folio *folio = NULL;
	const struct iomap_bh *cached;
	bool plain_read = !(iter->flags & ~IOMAP_NOWAIT);
	int ret;

	if (!src->get_block)
		return iomap_bh_begin_ops(iter, src);
	/* A buffered read past EOF zero-fills without asking anyone. */
	if (plain_read && iter->pos >= inode->size) {
		iomap_bh_to_iomap(inode, bpos, &bh, &iter->iomap);
		iter->iomap.length = want;
		return 0;
	}
	if (inode->cache)
		folio = iomap_cache_find(inode->cache, bpos);
	cached = iomap__folio_bh_mapped(folio, bpos);
	if (cached) {
		iomap_bh_to_iomap(inode, bpos, cached, &iter->iomap);
		return 0;
	}
	/* The read skips an uptodate block: no need to map it. */
	if (plain_read && folio &&
	    iomap_folio_block_uptodate(folio,
				       (unsigned int)((bpos - folio->pos) >>
						      inode->blkbits))) {
		iomap_bh_to_iomap(inode, bpos, &bh, &iter->iomap);
		return 0;
	}
	/*
	 * Past EOF a report asks for the rest at once: a hole answer says
	 * how far it goes (as _ext4_get_block() fills b_size), so fiemap
	 * skips it whole instead of stepping to the end of the range.
	 */
	if ((iter->flags & IOMAP_REPORT) && iter->pos >= inode->size)
		bh.size = want;
	inode->stats->map_calls++;
	ret = src->get_block(inode, (uint64_t)bpos >> inode->blkbits, &bh,
			     (iter->flags & IOMAP_WRITE) ? 1 : 0);
	/* Zeroing writes too: a shared block is copied first, as for a
	 * write, or DAX and direct zeroing would store into both files. */
	if (ret >= 0 && (iter->flags & IOMAP_ZERO) &&
	    (bh.state & IOMAP_BH_SHARED)) {
		inode->stats->map_calls++;
		bh = (struct iomap_bh){ .size = bs };
		ret = src->get_block(inode, (uint64_t)bpos >> inode->blkbits,
				     &bh, 1);
	}
	if (ret < 0)
		return ret;
	iomap_bh_to_iomap(inode, bpos, &bh, &iter->iomap);
	if (iter->iomap.type == IOMAP_HOLE && bh.size > bs)
		iter->iomap.length = bh.size & ~(bs - 1);
	/* Inline bytes end at EOF: the rest of their block is a hole. */
	if (iter->iomap.type == IOMAP_INLINE &&
	    iter->iomap.offset + (loff_t)iter->iomap.length <= iter->pos) {
		iomap_bh_to_iomap(inode, bpos, &(struct iomap_bh){ 0 },
				  &iter->iomap);
		iter->iomap.offset = iter->pos;
		iter->iomap.length = (uint64_t)(bpos + (loff_t)bs - iter->pos);
	}
	return 0;
}

int iomap__bh_end(struct iomap_iter *iter, const struct iomap_source *src,
		  loff_t length, ssize_t written)
{
	/* get_block has nothing to release; the xattr table may. */
	if (src->get_block || !src->ops->iomap_end)
		return 0;
	return src->ops->iomap_end(iter->inode, iter->iter_start_pos, length,
				   written, iter->flags, &iter->iomap);
}

/* ---- the report operations through buffer heads (same loops) ---- */

int iomap_bh_fiemap(struct iomap_inode *inode, struct iomap_fiemap_info *fi,
		    loff_t start, uint64_t len, iomap_get_block_t get_block)
{
	struct iomap_source src = { .mapper = IOMAP_MAPPER_BH,
				    .get_block = get_block };

	return iomap_fiemap_source(inode, fi, start, len, 0, &src);
}

loff_t iomap_bh_seek_data(struct iomap_inode *inode, loff_t offset,
			  iomap_get_block_t get_block)
{
	struct iomap_source src = { .mapper = IOMAP_MAPPER_BH,
				    .get_block = get_block };

	return iomap_seek_source(inode, offset, SEEK_DATA, &src);
}

loff_t iomap_bh_seek_hole(struct iomap_inode *inode, loff_t offset,
			  iomap_get_block_t get_block)
{
	struct iomap_source src = { .mapper = IOMAP_MAPPER_BH,
				    .get_block = get_block };

	return iomap_seek_source(inode, offset, SEEK_HOLE, &src);
}

uint64_t iomap_bh_bmap(struct iomap_inode *inode, uint64_t bno,
		       iomap_get_block_t get_block)
{
	struct iomap_source src = { .mapper = IOMAP_MAPPER_BH,
				    .get_block = get_block };

	return iomap_bmap_source(inode, bno, &src);
}
