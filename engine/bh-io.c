// SPDX-License-Identifier: GPL-2.0
/* bh-io.c - the data paths the buffer-head way: one get_block call and one
 * device request per block, buffer heads attached to cached folios. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

void iomap__bh_to_iomap(const struct iomap_inode *inode, loff_t pos,
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
	if (bh->inline_data) {
		m->type = IOMAP_INLINE;
		m->inline_data = (void *)bh->inline_data;
	} else if (bh->state & IOMAP_BH_DELAY) {
		m->type = IOMAP_DELALLOC;
	} else if (!(bh->state & IOMAP_BH_MAPPED)) {
		m->type = IOMAP_HOLE;
	} else {
		m->type = (bh->state & IOMAP_BH_UNWRITTEN) ? IOMAP_UNWRITTEN :
							     IOMAP_MAPPED;
		m->addr = bh->blocknr << inode->blkbits;
	}
}

/* One get_block call, counted like every mapping call. */
static int iomap_bh_get(struct iomap_file *file, loff_t pos, int create,
			struct iomap_bh *bh)
{
	struct iomap_inode *inode = file->inode;

	memset(bh, 0, sizeof(*bh));
	bh->size = iomap_blocksize(inode);
	inode->stats->map_calls++;
	return file->ops->get_block(inode, (uint64_t)pos >> inode->blkbits, bh,
				    create);
}

/* The buffer head of block @b of @folio, attaching them on first use. */
static struct iomap_bh *iomap_folio_bh(struct iomap_folio *folio,
				       unsigned int b)
{
	if (!folio->bhs) {
		folio->bhs = calloc(folio->nblocks, sizeof(*folio->bhs));
		if (!folio->bhs)
			return NULL;
	}
	return &folio->bhs[b];
}

/* Map a cached block for writing: get_block only when not mapped yet. */
static int iomap_bh_map_cached(struct iomap_file *file,
			       struct iomap_folio *folio, loff_t pos,
			       struct iomap *m)
{
	unsigned int b =
		(unsigned int)((pos - folio->pos) >> file->inode->blkbits);
	struct iomap_bh *bh = iomap_folio_bh(folio, b);
	int ret;

	if (!bh)
		return -ENOMEM;
	if (!(bh->state & IOMAP_BH_MAPPED) || (bh->state & IOMAP_BH_DELAY)) {
		ret = iomap_bh_get(file, pos, 1, bh);
		if (ret < 0) {
			memset(bh, 0, sizeof(*bh));
			return ret;
		}
	}
	iomap__bh_to_iomap(file->inode, pos, bh, m);
	return 0;
}

int iomap__bh_read_folios(struct iomap__readctx *rc, loff_t start, loff_t end)
{
	struct iomap_file *file = rc->file;
	struct iomap_inode *inode = file->inode;
	loff_t bs = iomap_blocksize(inode);

	for (loff_t pos = start; pos < end; pos += bs) {
		struct iomap_folio *folio = iomap_cache_find(&file->cache, pos);
		unsigned int b =
			(unsigned int)((pos - folio->pos) >> inode->blkbits);
		struct iomap_bh *bh = iomap_folio_bh(folio, b);
		struct iomap m;
		int ret;

		if (!bh)
			return -ENOMEM;
		if (iomap_folio_block_uptodate(folio, b))
			continue;
		/* Past EOF no get_block: the block is zeroed. */
		if (pos < inode->size) {
			ret = iomap_bh_get(file, pos, 0, bh);
			if (ret < 0)
				return ret;
		}
		iomap__bh_to_iomap(inode, pos, bh, &m);
		ret = iomap__read_range(rc, &m, pos, (uint64_t)bs);
		if (ret < 0)
			return ret;
	}
	return 0;
}

int iomap__bh_write_chunk(struct iomap_file *file, struct iomap_folio *folio,
			  const uint8_t *buf, loff_t pos, size_t len)
{
	loff_t bs = iomap_blocksize(file->inode);
	loff_t end = pos + (loff_t)len;

	for (loff_t b = pos & ~(bs - 1); b < end; b += bs) {
		struct iomap m;
		int ret = iomap_bh_map_cached(file, folio, b, &m);

		if (ret < 0)
			return ret;
		if (IOMAP_WARN_ON(m.type == IOMAP_HOLE))
			return -EIO;
		ret = iomap__write_prep_block(file, folio, &m, b, pos, len);
		if (ret < 0)
			return ret;
		/* Initialised now: later writes must not zero it again. */
		folio->bhs[(b - folio->pos) / bs].state &= ~IOMAP_BH_NEW;
	}
	iomap__write_copy(file, folio, buf, pos, len);
	return 0;
}

/* Zero one block's part [pos, pos + n) through the cache if it is mapped. */
static int iomap_bh_zero_block(struct iomap_file *file, loff_t pos, size_t n)
{
	struct iomap_folio *folio;
	struct iomap m;
	struct iomap_bh bh;
	loff_t bpos = pos & ~((loff_t)iomap_blocksize(file->inode) - 1);
	int ret = iomap_bh_get(file, bpos, 0, &bh);

	if (ret < 0)
		return ret;
	iomap__bh_to_iomap(file->inode, bpos, &bh, &m);
	if (m.type == IOMAP_HOLE || m.type == IOMAP_UNWRITTEN) {
		folio = iomap_cache_find(&file->cache, pos);
		if (folio)
			memset(folio->data + (pos - folio->pos), 0, n);
		return 0;
	}
	ret = iomap__cache_grab(file, pos, pos + (loff_t)n);
	if (ret < 0)
		return ret;
	folio = iomap_cache_find(&file->cache, pos);
	ret = iomap__write_prep_block(file, folio, &m, bpos, pos, n);
	if (!ret)
		iomap__write_copy(file, folio, NULL, pos, n);
	iomap__cache_unpin(file, pos, pos + (loff_t)n);
	return ret;
}

int iomap__bh_zero(struct iomap_file *file, loff_t pos, uint64_t len)
{
	loff_t bs = iomap_blocksize(file->inode);
	loff_t end = pos + (loff_t)len;

	while (pos < end) {
		loff_t bend = (pos & ~(bs - 1)) + bs;
		size_t n = (size_t)((bend < end ? bend : end) - pos);
		int ret = iomap_bh_zero_block(file, pos, n);

		if (ret < 0)
			return ret;
		pos += (loff_t)n;
	}
	return 0;
}

int iomap__bh_wb_map(struct iomap_file *file, struct iomap_folio *folio,
		     unsigned int block, struct iomap *m)
{
	loff_t pos = folio->pos + ((loff_t)block << file->inode->blkbits);

	return iomap_bh_map_cached(file, folio, pos, m);
}

bool iomap__bh_wb_mapped(const struct iomap_folio *folio, unsigned int block)
{
	const struct iomap_bh *bh = folio->bhs ? &folio->bhs[block] : NULL;

	return bh && (bh->state & IOMAP_BH_MAPPED) &&
	       !(bh->state & IOMAP_BH_DELAY);
}

void iomap__bh_wb_done(struct iomap_file *file, struct iomap_folio *folio,
		       unsigned int block)
{
	(void)file;
	/* The ioend's completion converts it: the block is written now. */
	if (folio->bhs)
		folio->bhs[block].state &= ~(IOMAP_BH_UNWRITTEN | IOMAP_BH_NEW);
}

/* A one-block iterator so the per-type helpers of each path can run. */
static void iomap_bh_iter(struct iomap_iter *iter, struct iomap_inode *inode,
			  loff_t pos, loff_t end, unsigned int flags)
{
	loff_t bend = (pos & ~((loff_t)iomap_blocksize(inode) - 1)) +
		      (loff_t)iomap_blocksize(inode);

	memset(iter, 0, sizeof(*iter));
	iter->inode = inode;
	iter->pos = pos;
	iter->len = (uint64_t)((bend < end ? bend : end) - pos);
	iter->flags = flags;
	iter->srcmap.type = IOMAP_HOLE;
	iter->srcmap.addr = IOMAP_NULL_ADDR;
}

ssize_t iomap__bh_dio_rw(struct iomap__dio *dio, size_t len)
{
	struct iomap_file *file = dio->file;
	loff_t pos = dio->pos, end = dio->pos + (loff_t)len;

	while (pos < end) {
		struct iomap_iter iter;
		struct iomap_bh bh;
		int ret;

		iomap_bh_iter(&iter, file->inode, pos, end,
			      IOMAP_DIRECT | (dio->write ? IOMAP_WRITE : 0));
		ret = iomap_bh_get(
			file, pos & ~((loff_t)iomap_blocksize(file->inode) - 1),
			dio->write, &bh);
		if (ret < 0)
			return pos > dio->pos ? pos - dio->pos : ret;
		iomap__bh_to_iomap(
			file->inode,
			pos & ~((loff_t)iomap_blocksize(file->inode) - 1), &bh,
			&iter.iomap);
		ret = iomap__dio_range(dio, &iter);
		if (!ret)
			ret = iomap__dio_settle(dio);
		if (ret < 0)
			return ret;
		pos += (loff_t)iter.len;
	}
	return pos - dio->pos;
}

ssize_t iomap__bh_dax_rw(struct iomap__dax *dx, size_t len)
{
	struct iomap_file *file = dx->file;
	loff_t bmask = (loff_t)iomap_blocksize(file->inode) - 1;
	loff_t pos = dx->pos, end = dx->pos + (loff_t)len;

	while (pos < end) {
		struct iomap_iter iter;
		struct iomap_bh bh;
		int ret;

		iomap_bh_iter(&iter, file->inode, pos, end,
			      IOMAP_DAX | (dx->write ? IOMAP_WRITE : 0));
		ret = iomap_bh_get(file, pos & ~bmask, dx->write && !dx->zero,
				   &bh);
		if (ret < 0)
			return pos > dx->pos ? pos - dx->pos : ret;
		iomap__bh_to_iomap(file->inode, pos & ~bmask, &bh, &iter.iomap);
		ret = iomap__dax_range(dx, &iter);
		if (ret < 0)
			return ret;
		pos += (loff_t)iter.len;
	}
	return pos - dx->pos;
}
