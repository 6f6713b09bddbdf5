// SPDX-License-Identifier: GPL-2.0
/* filemap.c - the page cache as every data path uses it: grab and pin
 * folios, make room under the memory bound, drop, flush and invalidate, and
 * the write and zero loops that copy into it (write_begin/write_end). */
#include <errno.h>
#include <string.h>

#include "internal.h"

static loff_t round_up_pos(loff_t x, loff_t a)
{
	return (x + a - 1) & ~(a - 1);
}

size_t iomap__cache_budget(const struct iomap_file *file)
{
	size_t quarter = file->dev->lru.limit / 4;

	return quarter > IOMAP_PAGE_SIZE ? quarter : IOMAP_PAGE_SIZE;
}

unsigned int iomap__max_order(const struct iomap_file *file)
{
	unsigned int order = file->dev->params.max_folio_order;

	return order > file->cache.min_order ? order : file->cache.min_order;
}

/*
 * Largest folio at most max_folio_order that holds @p, stays inside the
 * wanted range and the free gap of the cache, and fits a quarter of the
 * memory bound, as the kernel sizes folios from the I/O size; never
 * smaller than a block.
 */
static unsigned int iomap_folio_order(const struct iomap_file *file, loff_t p,
				      loff_t end)
{
	const struct iomap_cache *cache = &file->cache;
	unsigned int order = iomap__max_order(file);

	end = round_up_pos(end, IOMAP_PAGE_SIZE << cache->min_order);
	for (; order > cache->min_order; order--) {
		loff_t size = (loff_t)IOMAP_PAGE_SIZE << order;
		loff_t start = p & ~(size - 1);
		const struct iomap_folio *next = iomap_cache_next(cache, start);

		if ((!next || next->pos >= start + size) &&
		    start + size <= end &&
		    (size_t)size <= iomap__cache_budget(file))
			break;
	}
	return order;
}

/*
 * The dirty, file-contiguous folios around @victim, up to the cache budget,
 * as background writeback would send them: one large ioend (and one
 * unwritten conversion) instead of one per evicted folio.
 */
static void iomap_dirty_span(const struct iomap_folio *victim, loff_t *startp,
			     loff_t *endp, size_t max)
{
	const struct iomap_cache *cache = victim->cache;
	loff_t start = victim->pos;
	loff_t end = victim->pos + (loff_t)iomap_folio_size(victim);
	const struct iomap_folio *f;

	while ((size_t)(end - start) < max &&
	       (f = iomap_cache_find(cache, end)) && iomap_folio_is_dirty(f) &&
	       (size_t)(end - start) + iomap_folio_size(f) <= max)
		end += (loff_t)iomap_folio_size(f);
	while (start > 0 && (f = iomap_cache_find(cache, start - 1)) &&
	       iomap_folio_is_dirty(f) &&
	       (size_t)(end - start) + iomap_folio_size(f) <= max)
		start = f->pos;
	*startp = start;
	*endp = end;
}

/*
 * Write back and free the least recently used folios.  A folio whose
 * writeback failed stays (dirty, its error on its file, moved to the head
 * of the LRU): the bound gives way, and the error is returned when @file
 * owns the folio.
 */
static int iomap_cache_make_room(struct iomap_file *file, size_t need)
{
	struct iomap_lru *lru = &file->dev->lru;

	while (lru->bytes + need > lru->limit) {
		struct iomap_folio *victim = iomap_lru_victim(lru);
		struct iomap_file *owner;
		loff_t start, end;
		int ret;

		if (!victim)
			return 0; /* everything is pinned: go over the bound */
		owner = iomap__cache_file(victim->cache);
		if (iomap_folio_is_dirty(victim)) {
			iomap_dirty_span(victim, &start, &end,
					 iomap__cache_budget(owner));
			victim->pins++;
			ret = iomap__writeback(owner, start, end);
			victim->pins--;
			if (iomap_folio_is_dirty(victim)) {
				/* Not the next victim again: others go first. */
				iomap_folio_touch(victim);
				if (!ret)
					ret = -EIO;
				return owner == file ? ret : 0;
			}
		}
		iomap_cache_remove(victim->cache, victim);
	}
	return 0;
}

struct iomap_folio *iomap__cache_grab_one(struct iomap_file *file, loff_t pos,
					  loff_t hint_end, int *errp)
{
	struct iomap_folio *folio = iomap_cache_find(&file->cache, pos);

	if (!folio) {
		loff_t p = pos & ~(loff_t)(IOMAP_PAGE_SIZE - 1);
		unsigned int order = iomap_folio_order(file, p, hint_end);

		*errp = iomap_cache_make_room(file, IOMAP_PAGE_SIZE << order);
		if (!*errp)
			*errp = iomap_cache_add(&file->cache, p, order, &folio);
		if (*errp < 0)
			return NULL;
	}
	folio->pins++;
	iomap_folio_touch(folio);
	return folio;
}

int iomap__cache_grab(struct iomap_file *file, loff_t start, loff_t end)
{
	loff_t p = start;
	int ret = 0;

	while (p < end) {
		struct iomap_folio *folio =
			iomap__cache_grab_one(file, p, end, &ret);

		if (!folio) {
			iomap__cache_unpin(file, start, p);
			return ret;
		}
		p = folio->pos + (loff_t)iomap_folio_size(folio);
	}
	return 0;
}

void iomap__cache_unpin(struct iomap_file *file, loff_t start, loff_t end)
{
	for (struct iomap_folio *f = iomap_cache_next(&file->cache, start);
	     f && f->pos < end;
	     f = iomap_cache_next(&file->cache,
				  f->pos + (loff_t)iomap_folio_size(f)))
		if (f->pins)
			f->pins--;
}

/* Forget [start, end) of @folio: zero it, whole blocks become not cached. */
static void iomap_folio_drop_range(struct iomap_folio *folio, loff_t start,
				   loff_t end, unsigned int blkbits)
{
	loff_t fend = folio->pos + (loff_t)iomap_folio_size(folio);
	loff_t bs = (loff_t)1 << blkbits;
	loff_t from = start > folio->pos ? start : folio->pos;
	loff_t to = end < fend ? end : fend;
	loff_t bfrom = round_up_pos(from, bs);
	loff_t bto = to & ~(bs - 1);

	memset(folio->data + (from - folio->pos), 0, (size_t)(to - from));
	if (bfrom >= bto)
		return;
	iomap_folio_clear_uptodate(folio, (size_t)(bfrom - folio->pos),
				   (size_t)(bto - bfrom), blkbits);
	iomap_folio_clear_dirty(folio, (size_t)(bfrom - folio->pos),
				(size_t)(bto - bfrom), blkbits);
	if (iomap__folio_bhs(folio))
		memset(&iomap__folio_bhs(
			       folio)[(bfrom - folio->pos) >> blkbits],
		       0,
		       sizeof(struct iomap_bh) *
			       (size_t)((bto - bfrom) >> blkbits));
}

void iomap__cache_drop(struct iomap_file *file, loff_t start, loff_t end)
{
	struct iomap_cache *cache = &file->cache;
	struct iomap_folio *f = iomap_cache_next(cache, start);

	while (f && f->pos < end) {
		loff_t fend = f->pos + (loff_t)iomap_folio_size(f);

		if (f->pos >= start && fend <= end && !f->pins)
			iomap_cache_remove(cache, f);
		else
			iomap_folio_drop_range(f, start, end, cache->blkbits);
		f = iomap_cache_next(cache, fend);
	}
}

int iomap__cache_flush_invalidate(struct iomap_file *file, loff_t start,
				  loff_t end)
{
	struct iomap_cache *cache = &file->cache;
	struct iomap_folio *f;
	int ret;

	if (!cache->nr)
		return 0;
	ret = iomap__writeback(file, start, end);
	if (ret < 0)
		return ret;
	/* Whole folios go: the parts outside the range are clean now too. */
	while ((f = iomap_cache_next(cache, start)) && f->pos < end) {
		if (IOMAP_WARN_ON(f->pins || iomap_folio_is_dirty(f)))
			return -ENOTBLK;
		iomap_cache_remove(cache, f);
	}
	return 0;
}

/* ---- writes and zeroing ---- */

/* Make the partial block at @bpos of @folio ready for a write of
 * [wpos, wpos + wlen) by mapping @src (read or zero what is not written). */
static int iomap_write_prep_block(struct iomap_file *file,
				  struct iomap_folio *folio,
				  const struct iomap *src, loff_t bpos,
				  loff_t wpos, uint64_t wlen)
{
	struct iomap_inode *inode = file->inode;
	size_t bs = iomap_blocksize(inode);
	size_t off = (size_t)(bpos - folio->pos);
	int ret;

	if (iomap_folio_block_uptodate(folio,
				       (unsigned int)(off >> inode->blkbits)))
		return 0;
	if (wpos <= bpos && wpos + (loff_t)wlen >= bpos + (loff_t)bs)
		return 0; /* the write covers it: read nothing */
	if (src->type == IOMAP_INLINE)
		return -EOPNOTSUPP;
	if (src->type != IOMAP_MAPPED || (src->flags & IOMAP_F_NEW) ||
	    bpos >= inode->size) {
		/* New, unwritten or past EOF: zeros, never the old disk. */
		memset(folio->data + off, 0, bs);
		inode->stats->blocks_zeroed++;
	} else {
		ret = iomap__dev_rw_sync(file->dev, inode->stats,
					 iomap_addr(src, bpos),
					 folio->data + off, bs, false);
		if (ret < 0)
			return ret;
	}
	iomap_folio_set_uptodate(folio, off, bs, inode->blkbits);
	return 0;
}

/* Copy (or zero when @buf is NULL) into the folio, mark uptodate+dirty. */
static void iomap_write_copy(struct iomap_file *file, struct iomap_folio *folio,
			     const uint8_t *buf, loff_t pos, size_t len)
{
	struct iomap_inode *inode = file->inode;
	size_t off = (size_t)(pos - folio->pos);

	if (buf)
		memcpy(folio->data + off, buf, len);
	else
		memset(folio->data + off, 0, len);
	iomap_folio_set_uptodate(folio, off, len, inode->blkbits);
	iomap_folio_set_dirty(folio, off, len, inode->blkbits);
	inode->stats->bytes_dirtied += len;
}

struct iomap_writectx {
	struct iomap_file *file;
	struct iomap_source src; /* what iomap_iter maps with */
	const uint8_t *buf; /* NULL: zeroing */
	loff_t pos;
};

/*
 * The folio holding @pos, grabbed and pinned, and how much of
 * [pos, pos + len) it holds; NULL with the error in *@errp.  A new folio
 * is sized for the @want bytes the whole write has left, not the mapping:
 * a one-block mapping (bh) must not make one-block folios.
 */
static struct iomap_folio *iomap_write_folio(struct iomap_file *file,
					     loff_t pos, uint64_t len,
					     uint64_t want, size_t *np,
					     int *errp)
{
	uint64_t max = IOMAP_PAGE_SIZE << iomap__max_order(file);
	struct iomap_folio *folio;
	size_t off;

	folio = iomap__cache_grab_one(
		file, pos, pos + (loff_t)(want < max ? want : max), errp);
	if (!folio)
		return NULL;
	off = (size_t)(pos - folio->pos);
	*np = iomap_folio_size(folio) - off;
	if (*np > len)
		*np = (size_t)len;
	return folio;
}

/*
 * §7: with the folio held, ask the filesystem whether the mapping still
 * holds before reading, zeroing or copying by it; if not, mark it stale so
 * iomap_iter() maps the same position again.
 */
static bool iomap_write_valid(struct iomap_iter *iter,
			      const struct iomap_writectx *w)
{
	const struct iomap_ops *ops = w->src.ops;

	/* get_block's mappings have no cookie to check. */
	if (w->src.mapper == IOMAP_MAPPER_BH || !ops->iomap_valid ||
	    ops->iomap_valid(iter->inode, &iter->iomap))
		return true;
	iter->iomap.flags |= IOMAP_F_STALE;
	return false;
}

/*
 * An INLINE mapping: the filesystem keeps the bytes (the kernel's
 * iomap_write_end_inline()).  The block is filled from the inline data,
 * the write goes into the folio and into iomap.inline_data, and nothing
 * is dirtied: ->iomap_end persists the inline data.
 */
static int iomap_write_inline(struct iomap_iter *iter,
			      struct iomap_writectx *w)
{
	struct iomap_file *file = w->file;
	struct iomap_inode *inode = iter->inode;
	const struct iomap *m = &iter->iomap;
	size_t bs = iomap_blocksize(inode);
	loff_t pos = iter->pos;
	uint64_t len = iomap_length(iter);
	size_t n, off;
	int ret;
	struct iomap_folio *folio =
		iomap_write_folio(file, pos, len, len, &n, &ret);

	if (!folio)
		return ret;
	if (!iomap_write_valid(iter, w)) {
		iomap__cache_unpin(file, pos, pos + (loff_t)n);
		return 0;
	}
	/* The inline bytes end inside the first block (the filesystem's
	 * limit): whatever the folio holds past it are zeros. */
	off = (size_t)((pos & ~(loff_t)(bs - 1)) - folio->pos);
	if (!iomap_folio_block_uptodate(folio,
					(unsigned int)(off >> inode->blkbits))) {
		uint64_t have = m->offset + m->length - (uint64_t)(pos & ~(loff_t)(bs - 1));

		memset(folio->data + off, 0, bs);
		memcpy(folio->data + off,
		       (uint8_t *)m->inline_data +
			       ((pos & ~(loff_t)(bs - 1)) - m->offset),
		       have < bs ? have : bs);
		iomap_folio_set_uptodate(folio, off, bs, inode->blkbits);
	}
	off = (size_t)(pos - folio->pos);
	if (w->buf)
		memcpy(folio->data + off, w->buf + (pos - w->pos), n);
	else
		memset(folio->data + off, 0, n);
	memcpy((uint8_t *)m->inline_data + (pos - m->offset),
	       folio->data + off, n);
	iomap__cache_unpin(file, pos, pos + (loff_t)n);
	if (w->buf && pos + (loff_t)n > inode->size) {
		inode->size = pos + (loff_t)n;
		iter->iomap.flags |= IOMAP_F_SIZE_CHANGED;
	}
	return iomap_iter_advance(iter, n);
}

/* write_begin, copy, write_end for each folio of the current mapping. */
static int iomap_write_iter(struct iomap_iter *iter, struct iomap_writectx *w)
{
	struct iomap_file *file = w->file;
	const struct iomap *src = iomap_iter_srcmap(iter);
	loff_t bmask = (loff_t)iomap_blocksize(iter->inode) - 1;
	uint64_t len = iomap_length(iter);

	if (iter->iomap.type == IOMAP_INLINE)
		return iomap_write_inline(iter, w);
	while (len) {
		loff_t pos = iter->pos;
		size_t n;
		int ret;
		struct iomap_folio *folio =
			iomap_write_folio(file, pos, len, iter->len, &n, &ret);

		if (!folio)
			return ret;
		if (!iomap_write_valid(iter, w)) {
			iomap__cache_unpin(file, pos, pos + (loff_t)n);
			return 0;
		}
		ret = iomap_write_prep_block(file, folio, src, pos & ~bmask,
					     pos, n);
		if (!ret)
			ret = iomap_write_prep_block(
				file, folio, src,
				(pos + (loff_t)n - 1) & ~bmask, pos, n);
		if (!ret)
			iomap_write_copy(file, folio,
					 w->buf ? w->buf + (pos - w->pos) :
						  NULL,
					 pos, n);
		/* bh, hybrid: the blocks' mapping stays in their buffer heads. */
		if (!ret && (iter->iomap.flags & IOMAP_F_BUFFER_HEAD))
			ret = iomap__folio_bh_record(folio, &iter->iomap, pos,
						     n, iter->inode->stats);
		iomap__cache_unpin(file, pos, pos + (loff_t)n);
		if (ret < 0)
			return ret;
		if (w->buf && pos + (loff_t)n > iter->inode->size) {
			iter->inode->size = pos + (loff_t)n;
			iter->iomap.flags |= IOMAP_F_SIZE_CHANGED;
		}
		ret = iomap_iter_advance(iter, n);
		if (ret < 0)
			return ret;
		len -= n;
	}
	return 0;
}

/* Zero what the cache holds of [pos, pos + len): the disk reads zeros. */
static void iomap_zero_cached(struct iomap_file *file, loff_t pos, uint64_t len)
{
	loff_t end = pos + (loff_t)len;

	for (struct iomap_folio *f = iomap_cache_next(&file->cache, pos);
	     f && f->pos < end;
	     f = iomap_cache_next(&file->cache,
				  f->pos + (loff_t)iomap_folio_size(f))) {
		loff_t from = pos > f->pos ? pos : f->pos;
		loff_t fend = f->pos + (loff_t)iomap_folio_size(f);
		loff_t to = end < fend ? end : fend;

		memset(f->data + (from - f->pos), 0, (size_t)(to - from));
	}
}

static int iomap_zero_iter(struct iomap_iter *iter, struct iomap_writectx *w)
{
	const struct iomap *src = iomap_iter_srcmap(iter);
	uint64_t len = iomap_length(iter);

	switch (src->type) {
	case IOMAP_HOLE:
	case IOMAP_UNWRITTEN:
		/* Reads as zeros already; only cached (dirty) data is not. */
		iomap_zero_cached(w->file, iter->pos, len);
		return iomap_iter_advance(iter, len);
	default:
		return iomap_write_iter(iter, w);
	}
}

/*
 * The write loop by the file's write mapper: copy @buf in, or zero when it
 * is NULL (IOMAP_ZERO, holes and unwritten blocks left alone).  Bytes done,
 * or -errno when none.
 */
static ssize_t iomap_cache_write_loop(struct iomap_file *file,
				      const uint8_t *buf, uint64_t len,
				      loff_t pos)
{
	struct iomap_writectx w = {
		.file = file,
		.src = iomap__file_source(file, IOMAP_OP_WRITE,
					  file->ops->buffered_write),
		.buf = buf,
		.pos = pos,
	};
	struct iomap_iter iter = { .inode = file->inode,
				   .pos = pos,
				   .len = len,
				   .flags = buf ? IOMAP_WRITE : IOMAP_ZERO };
	int ret;

	while ((ret = iomap_iter_source(&iter, &w.src)) > 0)
		iter.status = buf ? iomap_write_iter(&iter, &w) :
				    iomap_zero_iter(&iter, &w);
	if (buf && iter.pos > pos)
		return (ssize_t)(iter.pos - pos);
	return ret;
}

int iomap__cache_zero(struct iomap_file *file, loff_t pos, uint64_t len)
{
	return (int)iomap_cache_write_loop(file, NULL, len, pos);
}

ssize_t iomap__cache_write(struct iomap_file *file, const void *buf, size_t len,
			   loff_t pos)
{
	return iomap_cache_write_loop(file, buf, len, pos);
}
