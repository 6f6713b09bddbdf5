// SPDX-License-Identifier: GPL-2.0
/* writeback.c - write dirty blocks back through ->map_blocks, merging
 * contiguous ones into ioends, one device request each. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define IOMAP_IOEND_MAX (8U << 20) /* bytes of one ioend at most */

/**
 * struct iomap_wb - one writeback pass.
 * @file:	the file.
 * @src:	its write mapper: ->map_blocks (or the buffered-write table)
 *		for iomap and hybrid, get_block for bh.
 * @wpc:	what ->map_blocks sees.
 * @q:		the requests.
 * @cur:	ioend being built (a queue slot), or NULL.
 * @new_map:	@wpc->iomap changed since the last block added: a BOUNDARY
 *		mapping then starts a new ioend.
 * @mapped:	@wpc->iomap is valid.
 * @error:	first error of this pass (a request or ->submit).
 * @done, @ndone, @cap: completed ioends (and their I/O status) whose
 *		->submit waits for the queue to be idle.
 */
struct iomap_wb {
	struct iomap_file *file;
	struct iomap_source src;
	struct iomap_writepage_ctx wpc;
	struct iomap__ioq q;
	struct iomap__io *cur;
	bool new_map;
	bool mapped;
	int error;
	struct iomap_wb_done *done;
	size_t ndone;
	size_t cap;
};

/* A completed ioend and its I/O status, for ->submit. */
struct iomap_wb_done {
	struct iomap_ioend ioend;
	int status;
};

/* As mapping_set_error(): kept until a sync of the file reports it. */
static void iomap_wb_set_error(struct iomap_wb *wb, int error)
{
	if (!error)
		return;
	if (!wb->error)
		wb->error = error;
	if (!wb->file->wb_error)
		wb->file->wb_error = error;
}

/* The data of a failed ioend is still only in the cache: dirty again. */
static void iomap_ioend_redirty(struct iomap_file *file,
				const struct iomap_ioend *e)
{
	struct iomap_cache *cache = &file->cache;
	loff_t pos = e->io_offset, end = e->io_offset + (loff_t)e->io_size;
	struct iomap_folio *f;

	while (pos < end && (f = iomap_cache_find(cache, pos))) {
		loff_t fend = f->pos + (loff_t)iomap_folio_size(f);
		loff_t to = end < fend ? end : fend;

		iomap_folio_set_dirty(f, (size_t)(pos - f->pos),
				      (size_t)(to - pos), cache->blkbits);
		pos = to;
	}
}

/* ->submit of the ioends completed so far; the queue must be idle. */
static void iomap_wb_complete(struct iomap_wb *wb)
{
	const struct iomap_writeback_ops *wops = wb->file->ops->writeback;

	for (size_t i = 0; i < wb->ndone; i++) {
		const struct iomap_wb_done *d = &wb->done[i];

		iomap_wb_set_error(wb, wops->submit(&wb->wpc, &d->ioend,
						    d->status));
	}
	wb->ndone = 0;
}

/* Room for one more completed ioend; false on -ENOMEM. */
static bool iomap_wb_done_room(struct iomap_wb *wb)
{
	struct iomap_wb_done *d;
	size_t cap = wb->cap ? wb->cap * 2 : 16;

	if (wb->ndone < wb->cap)
		return true;
	d = realloc(wb->done, cap * sizeof(*d));
	if (!d)
		return false;
	wb->done = d;
	wb->cap = cap;
	return true;
}

static void iomap_ioend_done(struct iomap__io *io, int error)
{
	struct iomap_wb *wb = io->priv;
	const struct iomap_writeback_ops *wops = wb->file->ops->writeback;

	if (!error)
		wb->file->inode->stats->bytes_written_back += io->ioend.io_size;
	if (error)
		iomap_ioend_redirty(wb->file, &io->ioend);
	iomap_wb_set_error(wb, error);
	if (!wops || !wops->submit)
		return;
	/*
	 * The filesystem converts unwritten extents once the data is there,
	 * and may write the image itself doing so: not while other O_DIRECT
	 * writes are in flight (see iomap_wb_map()), so later, when the
	 * queue is idle.  Without memory to remember it, now.
	 */
	if (!iomap_wb_done_room(wb)) {
		iomap_wb_set_error(wb,
				   wops->submit(&wb->wpc, &io->ioend, error));
		return;
	}
	wb->done[wb->ndone++] =
		(struct iomap_wb_done){ .ioend = io->ioend, .status = error };
}

static int iomap_ioend_submit(struct iomap_wb *wb)
{
	struct iomap__io *io = wb->cur;

	if (!io)
		return 0;
	wb->cur = NULL;
	return iomap__ioq_submit(&wb->q, io);
}

static unsigned int iomap_ioend_flags(const struct iomap *m)
{
	unsigned int flags = 0;

	if (m->type == IOMAP_UNWRITTEN)
		flags |= IOMAP_IOEND_UNWRITTEN;
	if (m->flags & IOMAP_F_SHARED)
		flags |= IOMAP_IOEND_SHARED;
	return flags;
}

/* Kernel's iomap_can_add_to_ioend(): same kind, file and disk contiguous. */
static bool iomap_can_add(const struct iomap_wb *wb, loff_t pos, uint64_t addr,
			  size_t len)
{
	const struct iomap__io *io = wb->cur;
	const struct iomap_ioend *e = &io->ioend;
	const struct iomap *m = &wb->wpc.iomap;

	if (wb->new_map && (m->flags & IOMAP_F_BOUNDARY))
		return false;
	if ((e->io_flags & ~IOMAP_IOEND_BOUNDARY) != iomap_ioend_flags(m))
		return false;
	if (e->io_offset + (loff_t)e->io_size != pos ||
	    e->io_addr + e->io_size != addr)
		return false;
	return io->req.niov < IOMAP__MAX_IOV &&
	       e->io_size + len <= IOMAP_IOEND_MAX;
}

static int iomap_add_to_ioend(struct iomap_wb *wb, uint8_t *mem, loff_t pos,
			      size_t len)
{
	const struct iomap *m = &wb->wpc.iomap;
	uint64_t addr = iomap_addr(m, pos);
	struct iomap__io *io = wb->cur;
	int ret;

	if (io && !iomap_can_add(wb, pos, addr, len)) {
		ret = iomap_ioend_submit(wb);
		if (ret < 0)
			return ret;
		io = NULL;
	}
	if (!io) {
		io = wb->cur = iomap__ioq_get(&wb->q);
		if (!io)
			return wb->q.error ? wb->q.error : -ENOMEM;
		io->req.addr = addr;
		io->req.write = true;
		io->done = iomap_ioend_done;
		io->priv = wb;
		io->ioend = (struct iomap_ioend){
			.io_offset = pos,
			.io_addr = addr,
			.io_flags = iomap_ioend_flags(m) |
				    ((m->flags & IOMAP_F_BOUNDARY) ?
					     IOMAP_IOEND_BOUNDARY :
					     0),
		};
	}
	wb->new_map = false;
	if (io->req.niov && (uint8_t *)io->iov[io->req.niov - 1].iov_base +
					    io->iov[io->req.niov - 1].iov_len ==
				    mem)
		io->iov[io->req.niov - 1].iov_len += len;
	else
		io->iov[io->req.niov++] = (struct iovec){ mem, len };
	io->ioend.io_size += len;
	return 0;
}

/* Without writeback ops, a buffered-write mapping allocates the blocks. */
static int iomap_wb_map_write(struct iomap_wb *wb, loff_t pos, uint64_t len)
{
	const struct iomap_ops *ops = wb->file->ops->buffered_write;
	struct iomap_inode *inode = wb->file->inode;
	struct iomap srcmap = { .type = IOMAP_HOLE, .addr = IOMAP_NULL_ADDR };
	int ret;

	memset(&wb->wpc.iomap, 0, sizeof(wb->wpc.iomap));
	ret = ops->iomap_begin(inode, pos, (loff_t)len, IOMAP_WRITE,
			       &wb->wpc.iomap, &srcmap);
	if (ret < 0)
		return ret;
	if (ops->iomap_end)
		ret = ops->iomap_end(inode, pos, (loff_t)len, (ssize_t)len,
				     IOMAP_WRITE, &wb->wpc.iomap);
	return ret;
}

/* bh: get_block(create) for one block, remembered in its buffer head. */
static int iomap_wb_get_block(struct iomap_wb *wb, loff_t pos)
{
	struct iomap_inode *inode = wb->file->inode;
	loff_t bpos = pos & ~((loff_t)iomap_blocksize(inode) - 1);
	struct iomap_bh bh = { .size = iomap_blocksize(inode) };
	int ret = wb->src.get_block(inode, (uint64_t)bpos >> inode->blkbits,
				    &bh, 1);

	if (ret < 0)
		return ret;
	iomap_bh_to_iomap(inode, bpos, &bh, &wb->wpc.iomap);
	return 0;
}

/* Ask the mapper for @pos: one mapping call. */
static int iomap_wb_call(struct iomap_wb *wb, loff_t pos, uint64_t len)
{
	const struct iomap_writeback_ops *wops = wb->file->ops->writeback;
	int ret;

	wb->file->inode->stats->map_calls++;
	if (wb->src.mapper == IOMAP_MAPPER_BH)
		return iomap_wb_get_block(wb, pos);
	if (wops)
		ret = wops->map_blocks(&wb->wpc, wb->file->inode, pos, len);
	else
		ret = iomap_wb_map_write(wb, pos, len);
	if (!ret && wb->src.mapper == IOMAP_MAPPER_HYBRID)
		wb->wpc.iomap.flags |= IOMAP_F_BUFFER_HEAD;
	return ret;
}

/*
 * Make wpc->iomap cover @pos: the last mapping, else (bh, hybrid) the
 * block's buffer head when it is mapped, else one call to the mapper.
 */
static int iomap_wb_map(struct iomap_wb *wb, struct iomap_folio *folio,
			loff_t pos, uint64_t len)
{
	struct iomap *m = &wb->wpc.iomap;
	const struct iomap_bh *bh = NULL;
	int ret;

	if (wb->mapped && m->offset <= pos &&
	    (uint64_t)(pos - m->offset) < m->length)
		return 0;
	if (wb->src.mapper != IOMAP_MAPPER_IOMAP)
		bh = iomap__folio_bh_mapped(folio, pos);
	if (bh) {
		iomap_bh_to_iomap(wb->file->inode, pos, bh, m);
		/* The hybrid's blocks merge into ioends like its extents. */
		if (wb->src.mapper == IOMAP_MAPPER_HYBRID)
			m->flags &= (uint16_t)~IOMAP_F_BOUNDARY;
		wb->mapped = true;
		wb->new_map = true;
		return 0;
	}
	/* No O_DIRECT write in flight while the filesystem may write the
	 * image itself (see iomap_dio_settle()). */
	ret = iomap__ioq_wait(&wb->q);
	iomap_wb_complete(wb);
	if (!ret)
		ret = iomap_wb_call(wb, pos, len);
	wb->mapped = ret == 0;
	wb->new_map = true;
	if (ret < 0)
		return ret;
	if (IOMAP_WARN_ON(m->offset > pos || !m->length ||
			  (uint64_t)(pos - m->offset) >= m->length))
		return -EIO;
	return 0;
}

/* Once in an ioend a block is written: its buffer head says so. */
static int iomap_wb_record(struct iomap_wb *wb, struct iomap_folio *folio,
			   loff_t pos, uint64_t len)
{
	struct iomap m = wb->wpc.iomap;

	if (m.type == IOMAP_UNWRITTEN)
		m.type = IOMAP_MAPPED;
	return iomap__folio_bh_record(folio, &m, pos, len,
				      wb->file->inode->stats);
}

/* Write the dirty run [pos, pos + len) of @folio, mapping by the mapper. */
static int iomap_wb_run(struct iomap_wb *wb, struct iomap_folio *folio,
			loff_t pos, uint64_t len)
{
	while (len) {
		const struct iomap *m = &wb->wpc.iomap;
		uint64_t n;
		int ret = iomap_wb_map(wb, folio, pos, len);

		if (ret < 0)
			return ret;
		n = m->offset + m->length - (uint64_t)pos;
		if (n > len)
			n = len;
		switch (m->type) {
		case IOMAP_HOLE:
			break; /* nothing to write to: the kernel skips it */
		case IOMAP_MAPPED:
		case IOMAP_UNWRITTEN:
			ret = iomap_add_to_ioend(
				wb, folio->data + (pos - folio->pos), pos,
				(size_t)n);
			if (!ret && (m->flags & IOMAP_F_BUFFER_HEAD))
				ret = iomap_wb_record(wb, folio, pos, n);
			if (ret < 0)
				return ret;
			break;
		default:
			/* DELALLOC must be allocated by ->map_blocks. */
			IOMAP_WARN_ON(1);
			return -EIO;
		}
		pos += (loff_t)n;
		len -= n;
	}
	return 0;
}

static int iomap_wb_folio(struct iomap_wb *wb, struct iomap_folio *folio)
{
	struct iomap_inode *inode = wb->file->inode;
	loff_t size = inode->size, fsize = (loff_t)iomap_folio_size(folio);
	unsigned int b = 0, nb = folio->nblocks;
	int ret = 0;

	/*
	 * The part past EOF goes out as zeros, as on every writeback.  Unlike
	 * the kernel, dirty blocks wholly past EOF are written too: truncated
	 * data was invalidated, so they are zeros a zero_range put there
	 * before an extending write, and an eviction between the zeroing and
	 * the size update must not lose them (stale blocks would show).
	 */
	if (folio->pos < size && folio->pos + fsize > size)
		memset(folio->data + (size - folio->pos), 0,
		       (size_t)(folio->pos + fsize - size));
	while (!ret && b < nb) {
		unsigned int e = b;

		if (!iomap_folio_block_dirty(folio, b)) {
			b++;
			continue;
		}
		while (e < nb && iomap_folio_block_dirty(folio, e))
			e++;
		ret = iomap_wb_run(wb, folio,
				   folio->pos + ((loff_t)b << inode->blkbits),
				   (uint64_t)(e - b) << inode->blkbits);
		/*
		 * Clean once in an ioend (its failure dirties them again);
		 * a run that could not be mapped stays dirty: its data
		 * exists nowhere else.
		 */
		if (!ret)
			iomap_folio_clear_dirty(
				folio, (size_t)b << inode->blkbits,
				(size_t)(e - b) << inode->blkbits,
				inode->blkbits);
		b = e;
	}
	return ret;
}

int iomap__writeback(struct iomap_file *file, loff_t start, loff_t end)
{
	struct iomap_cache *cache = &file->cache;
	struct iomap_wb wb = { .file = file, .wpc = { .inode = file->inode } };
	struct iomap_folio *f;
	int ret, err;

	if (!cache->nr)
		return 0;
	wb.src = iomap__file_source(file, IOMAP_OP_WRITE,
				    file->ops->buffered_write);
	ret = iomap__ioq_init(&wb.q, file->dev, file->inode->stats);
	if (ret < 0)
		return ret;
	for (f = iomap_cache_next(cache, start); f && f->pos < end;
	     f = iomap_cache_next(cache,
				  f->pos + (loff_t)iomap_folio_size(f))) {
		if (!iomap_folio_is_dirty(f))
			continue;
		f->pins++;
		ret = iomap_wb_folio(&wb, f);
		f->pins--;
		if (ret < 0)
			break;
	}
	if (!ret)
		ret = iomap_ioend_submit(&wb);
	else if (wb.cur)
		iomap_ioend_submit(&wb);
	err = iomap__ioq_destroy(&wb.q);
	iomap_wb_complete(&wb);
	free(wb.done);
	/*
	 * The error of this pass goes to the caller and stays on the file
	 * for its next sync: eviction, which drops what the caller says,
	 * must not be where it ends.
	 */
	iomap_wb_set_error(&wb, ret ? ret : err);
	return wb.error;
}
