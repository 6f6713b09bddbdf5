// SPDX-License-Identifier: GPL-2.0
/* buffered-io.c - buffered reads (readahead, one iomap_iter loop filling
 * the folios whatever the mapper) and the buffered write entry. */
#include <errno.h>
#include <string.h>

#include "internal.h"

#define IOMAP_RA_MAX (4UL << 20) /* largest readahead window */
#define IOMAP_BATCH (8UL << 20) /* folios pinned by one read at most */

/* Read context of a folio fill: requests merge while contiguous. */
struct iomap_readctx {
	struct iomap_file *file;
	struct iomap__ioq q;
	struct iomap__io *cur; /* request being built, not yet submitted */
	uint64_t cur_addr_end;
	loff_t cur_pos_end;
	bool no_merge; /* bh: one request per block, as submit_bh */
};

static loff_t round_up_pos(loff_t x, loff_t a)
{
	return (x + a - 1) & ~(a - 1);
}

/* ---- reads ---- */

static void iomap_read_done(struct iomap__io *io, int error)
{
	if (error)
		return; /* read errors leave the blocks not uptodate */
	for (unsigned int i = 0; i < io->nseg; i++)
		iomap_folio_set_uptodate(io->seg[i].folio, io->seg[i].off,
					 io->seg[i].len,
					 io->seg[i].folio->cache->blkbits);
}

static int iomap_read_flush(struct iomap_readctx *rc)
{
	struct iomap__io *io = rc->cur;

	if (!io)
		return 0;
	rc->cur = NULL;
	return iomap__ioq_submit(&rc->q, io);
}

/* Add one block to the request being built, or start a new one. */
static int iomap_read_add(struct iomap_readctx *rc, struct iomap_folio *folio,
			  size_t off, size_t len, uint64_t addr, loff_t pos)
{
	struct iomap__io *io = rc->cur;
	int ret;

	if (io && (rc->no_merge || rc->cur_pos_end != pos ||
		   rc->cur_addr_end != addr || io->len + len > IOMAP__MAX_IO ||
		   io->nseg == IOMAP__MAX_IOV)) {
		ret = iomap_read_flush(rc);
		if (ret < 0)
			return ret;
		io = NULL;
	}
	if (!io) {
		io = rc->cur = iomap__ioq_get(&rc->q);
		if (!io)
			return rc->q.error ? rc->q.error : -ENOMEM;
		io->req.addr = addr;
		io->done = iomap_read_done;
	}
	if (io->nseg && io->seg[io->nseg - 1].folio == folio) {
		io->seg[io->nseg - 1].len += len;
		io->iov[io->req.niov - 1].iov_len += len;
	} else {
		io->seg[io->nseg++] = (struct iomap__seg){ folio, off, len };
		io->iov[io->req.niov++] =
			(struct iovec){ folio->data + off, len };
	}
	io->len += len;
	rc->cur_pos_end = pos + (loff_t)len;
	rc->cur_addr_end = addr + len;
	return 0;
}

/* A block that reads as zeros (or inline bytes) needs no I/O. */
static void iomap_read_fill(const struct iomap *m, struct iomap_folio *folio,
			    size_t off, size_t len, loff_t pos,
			    unsigned int blkbits)
{
	memset(folio->data + off, 0, len);
	if (m->type == IOMAP_INLINE) {
		uint64_t avail = m->offset + m->length - (uint64_t)pos;

		memcpy(folio->data + off,
		       (uint8_t *)m->inline_data + (pos - m->offset),
		       avail < len ? avail : len);
	}
	iomap_folio_set_uptodate(folio, off, len, blkbits);
}

/* Bring the non-uptodate blocks of [pos, pos + len) in, by mapping @m. */
static int iomap_read_range(struct iomap_readctx *rc, const struct iomap *m,
			    loff_t pos, uint64_t len)
{
	struct iomap_file *file = rc->file;
	unsigned int blkbits = file->inode->blkbits;
	loff_t end = pos + (loff_t)len;
	struct iomap_folio *folio = NULL;

	while (pos < end) {
		size_t off, n;
		int ret;

		/* Look the folio up once, not once per block. */
		if (!folio ||
		    pos >= folio->pos + (loff_t)iomap_folio_size(folio))
			folio = iomap_cache_find(&file->cache, pos);
		if (IOMAP_WARN_ON(!folio))
			return -EIO;
		off = (size_t)(pos - folio->pos);
		n = ((size_t)1 << blkbits) - (off & ((1U << blkbits) - 1));
		if ((loff_t)n > end - pos)
			n = (size_t)(end - pos);
		if (iomap_folio_block_uptodate(
			    folio, (unsigned int)(off >> blkbits))) {
			pos += (loff_t)n;
			continue;
		}
		/* bh, hybrid: the block's mapping stays in its buffer head. */
		if (m->flags & IOMAP_F_BUFFER_HEAD) {
			ret = iomap__folio_bh_record(folio, m, pos, n,
						     file->inode->stats);
			if (ret < 0)
				return ret;
		}
		if (m->type != IOMAP_MAPPED || (m->flags & IOMAP_F_NEW) ||
		    pos >= file->inode->size) {
			iomap_read_fill(m, folio, off, n, pos, blkbits);
		} else {
			ret = iomap_read_add(rc, folio, off, n,
					     iomap_addr(m, pos), pos);
			if (ret < 0)
				return ret;
		}
		pos += (loff_t)n;
	}
	return 0;
}

static int iomap_read_iter(struct iomap_iter *iter, struct iomap_readctx *rc)
{
	uint64_t length = iomap_length(iter);
	int ret = iomap_read_range(rc, iomap_iter_srcmap(iter), iter->pos,
				   length);

	if (ret < 0)
		return ret;
	return iomap_iter_advance(iter, length);
}

/*
 * The span of blocks of [start, end) that are not uptodate, if any.  One
 * folio at a time: a lookup per block showed up in profiles of big reads.
 */
static bool iomap_cache_missing(struct iomap_file *file, loff_t *start,
				loff_t *end)
{
	unsigned int blkbits = file->inode->blkbits;
	loff_t bs = (loff_t)1 << blkbits;
	loff_t first = -1, last = -1, p = *start & ~(bs - 1);

	while (p < *end) {
		struct iomap_folio *f = iomap_cache_find(&file->cache, p);
		loff_t fend = f->pos + (loff_t)iomap_folio_size(f);

		for (; p < *end && p < fend; p += bs) {
			if (iomap_folio_block_uptodate(
				    f, (unsigned int)((p - f->pos) >> blkbits)))
				continue;
			if (first < 0)
				first = p;
			last = p + bs;
		}
	}
	*start = first;
	*end = last;
	return first >= 0;
}

/* Bring [start, end) of the (grabbed) folios uptodate. */
static int iomap_cache_fill(struct iomap_file *file, loff_t start, loff_t end)
{
	struct iomap_source src =
		iomap__file_source(file, IOMAP_OP_READ, file->ops->read);
	struct iomap_readctx rc = { .file = file,
				    .no_merge = src.mapper == IOMAP_MAPPER_BH };
	struct iomap_iter iter = { .inode = file->inode };
	int ret, err;

	if (!iomap_cache_missing(file, &start, &end))
		return 0;
	ret = iomap__ioq_init(&rc.q, file->dev, file->inode->stats);
	if (ret < 0)
		return ret;
	iter.pos = start;
	iter.len = (uint64_t)(end - start);
	while ((ret = iomap_iter_source(&iter, &src)) > 0)
		iter.status = iomap_read_iter(&iter, &rc);
	if (!ret)
		ret = iomap_read_flush(&rc);
	err = iomap__ioq_destroy(&rc.q);
	return ret < 0 ? ret : err;
}

static void iomap_cache_copy_out(struct iomap_file *file, uint8_t *buf,
				 loff_t pos, loff_t end)
{
	while (pos < end) {
		struct iomap_folio *f = iomap_cache_find(&file->cache, pos);
		size_t off = (size_t)(pos - f->pos);
		size_t n = iomap_folio_size(f) - off;

		if ((loff_t)n > end - pos)
			n = (size_t)(end - pos);
		memcpy(buf, f->data + off, n);
		buf += n;
		pos += (loff_t)n;
	}
}

/*
 * Grow the window while the reader is sequential, as ondemand readahead,
 * ending on a boundary of the largest folio the window can hold so large
 * folios fit as the window grows.
 */
static loff_t iomap_readahead_end(struct iomap_file *file, loff_t pos,
				  loff_t end)
{
	size_t max = iomap__cache_budget(file);
	loff_t eof = round_up_pos(file->inode->size, IOMAP_PAGE_SIZE);
	loff_t align = (loff_t)IOMAP_PAGE_SIZE << iomap__max_order(file);

	if (max > IOMAP_RA_MAX)
		max = IOMAP_RA_MAX;
	if (pos != file->ra_next) {
		file->ra_size = 0;
		return end;
	}
	file->ra_size = file->ra_size ? file->ra_size * 2 : 128UL << 10;
	if (file->ra_size > max)
		file->ra_size = max;
	while (align > (loff_t)IOMAP_PAGE_SIZE && (size_t)align > file->ra_size)
		align >>= 1;
	end = round_up_pos(end + (loff_t)file->ra_size, align);
	return end < eof ? end : eof;
}

ssize_t iomap__buffered_read(struct iomap_file *file, void *buf, size_t len,
			     loff_t pos)
{
	loff_t size = file->inode->size, end, done = 0;

	if (pos >= size || !len)
		return 0;
	end = (uint64_t)(size - pos) < len ? size : pos + (loff_t)len;
	while (pos < end) {
		loff_t cend = pos + (loff_t)iomap__cache_budget(file);
		loff_t fill;
		int ret;

		if (cend > end || cend > (loff_t)(pos + IOMAP_BATCH))
			cend = end < pos + (loff_t)IOMAP_BATCH ?
				       end :
				       pos + (loff_t)IOMAP_BATCH;
		fill = iomap_readahead_end(file, pos, cend);
		ret = iomap__cache_grab(file, pos, fill);
		if (!ret)
			ret = iomap_cache_fill(file, pos, fill);
		if (!ret)
			iomap_cache_copy_out(file, (uint8_t *)buf + done, pos,
					     cend);
		iomap__cache_unpin(file, pos, fill);
		if (ret < 0)
			return done ? done : ret;
		done += cend - pos;
		pos = cend;
		file->ra_next = pos;
	}
	return done;
}

ssize_t iomap__buffered_write(struct iomap_file *file, const void *buf,
			      size_t len, loff_t pos)
{
	loff_t size = file->inode->size;
	int ret;

	if (!len)
		return 0;
	/* Blocks between the old EOF and the write must read as zeros. */
	if (pos > size) {
		ret = iomap__cache_zero(file, size, (uint64_t)(pos - size));
		if (ret < 0)
			return ret;
	}
	return iomap__cache_write(file, buf, len, pos);
}
