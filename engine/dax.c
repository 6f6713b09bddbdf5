// SPDX-License-Identifier: GPL-2.0
/* dax.c - dax_iomap_rw: copy between user memory and the image mapped with
 * libpmem2; no page cache, non-temporal stores persisted at sync. */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#include "internal.h"

struct iomap_dax {
	struct iomap_file *file;
	uint8_t *buf; /* user memory of @pos; NULL to zero */
	loff_t pos;
	bool write;
	bool zero;
	int err; /* why the loop stopped short */
};

/* Where device address @addr is mapped, or NULL if [addr, +len) is not. */
static uint8_t *iomap_dax_ptr(struct iomap_dev *dev, uint64_t addr,
			      uint64_t len)
{
	if (addr > dev->pmem.size || len > dev->pmem.size - addr)
		return NULL;
	return dev->pmem.base + addr;
}

/*
 * A DAX mapping's pages count as resident once touched, so a 1 GiB copy
 * would keep 1 GiB resident.  The bytes are in the image (a shared,
 * persisted mapping): the page table entries of what was copied through
 * are dropped with MADV_DONTNEED, a later access maps the page again.  The
 * span copied is gathered while it grows contiguously, and dropped in
 * pieces of IOMAP__DAX_UNMAP or more: a system call per 4 KiB read cost
 * more than the read.
 */
static void iomap_dax_unmap_span(struct iomap_dev *dev)
{
	uintptr_t start = (dev->dax_lo + IOMAP_PAGE_SIZE - 1) &
			  ~(uintptr_t)(IOMAP_PAGE_SIZE - 1);
	uintptr_t end = dev->dax_hi & ~(uintptr_t)(IOMAP_PAGE_SIZE - 1);

	if (end > start)
		(void)madvise((void *)start, end - start, MADV_DONTNEED);
	dev->dax_lo = dev->dax_hi = 0;
}

static void iomap_dax_unmap_pages(struct iomap_dev *dev, uint8_t *p,
				  uint64_t len)
{
	uintptr_t lo = (uintptr_t)p, hi = lo + len;

	if (dev->dax_hi != lo)
		iomap_dax_unmap_span(dev);
	if (!dev->dax_hi)
		dev->dax_lo = lo;
	dev->dax_hi = hi;
	if (dev->dax_hi - dev->dax_lo >= IOMAP__DAX_UNMAP)
		iomap_dax_unmap_span(dev);
}

/*
 * Device addresses [@addr, +@len) were stored to with the mapping's
 * store_flags: they wait for iomap__dax_persist().  One span bounds them
 * all: on a page-cache mapping persisting is an msync, whose cost is the
 * dirty pages in the span, not its length; on persistent memory the
 * stores flushed their own lines and persisting is one drain.
 */
static void iomap_dax_stored(struct iomap_dev *dev, const uint8_t *p,
			     uint64_t len)
{
	uint64_t lo = (uint64_t)(p - dev->pmem.base), hi = lo + len;

	if (dev->dax_dirty_hi <= dev->dax_dirty_lo) {
		dev->dax_dirty_lo = lo;
		dev->dax_dirty_hi = hi;
		return;
	}
	if (lo < dev->dax_dirty_lo)
		dev->dax_dirty_lo = lo;
	if (hi > dev->dax_dirty_hi)
		dev->dax_dirty_hi = hi;
}

void iomap__dax_persist(struct iomap_dev *dev)
{
	if (dev->dax_dirty_hi <= dev->dax_dirty_lo)
		return;
	iodev_pmem2_persist(&dev->pmem, dev->dax_dirty_lo,
			    dev->dax_dirty_hi - dev->dax_dirty_lo);
	dev->dax_dirty_lo = dev->dax_dirty_hi = 0;
}

int iomap__dax_writeback(struct iomap_file *file, loff_t start, loff_t end)
{
	(void)start;
	(void)end;
	iomap__dax_persist(file->dev);
	return 0;
}

static void iomap_dax_account(struct iomap_dax *dx, uint64_t len, bool write)
{
	struct iomap_stats *st = dx->file->inode->stats;

	st->io_requests++;
	if (write)
		st->bytes_written += len;
	else
		st->bytes_read += len;
}

static int iomap_dax_read(struct iomap_dax *dx, const struct iomap_iter *iter,
			  uint64_t len)
{
	const struct iomap *m = &iter->iomap;
	uint8_t *buf = dx->buf + (iter->pos - dx->pos);
	uint8_t *p;

	switch (m->type) {
	case IOMAP_MAPPED:
		p = iomap_dax_ptr(dx->file->dev, iomap_addr(m, iter->pos), len);
		if (!p)
			return -EIO;
		memcpy(buf, p, len);
		iomap_dax_unmap_pages(dx->file->dev, p, len);
		iomap_dax_account(dx, len, false);
		return 0;
	case IOMAP_INLINE:
		memcpy(buf, (uint8_t *)m->inline_data + (iter->pos - m->offset),
		       len);
		return 0;
	default:
		/* HOLE, UNWRITTEN (and DELALLOC) read as zeros. */
		memset(buf, 0, len);
		return 0;
	}
}

/* Zero the parts of new blocks around [pos, end) the write leaves alone. */
static int iomap_dax_zero_edges(struct iomap_dax *dx, const struct iomap *m,
				loff_t pos, loff_t end)
{
	struct iodev_pmem2 *pm = &dx->file->dev->pmem;
	loff_t bmask = (loff_t)iomap_blocksize(dx->file->inode) - 1;
	loff_t head = pos & ~bmask, tail = (end + bmask) & ~bmask;
	uint8_t *p;

	if (head < pos) {
		p = iomap_dax_ptr(dx->file->dev, iomap_addr(m, head),
				  (uint64_t)(pos - head));
		if (!p)
			return -EIO;
		pm->memset_fn(p, 0, (size_t)(pos - head), pm->store_flags);
		iomap_dax_stored(dx->file->dev, p, (uint64_t)(pos - head));
		dx->file->inode->stats->blocks_zeroed++;
	}
	if (end < tail) {
		p = iomap_dax_ptr(dx->file->dev, iomap_addr(m, end),
				  (uint64_t)(tail - end));
		if (!p)
			return -EIO;
		pm->memset_fn(p, 0, (size_t)(tail - end), pm->store_flags);
		iomap_dax_stored(dx->file->dev, p, (uint64_t)(tail - end));
		dx->file->inode->stats->blocks_zeroed++;
	}
	return 0;
}

static int iomap_dax_write(struct iomap_dax *dx, const struct iomap_iter *iter,
			   uint64_t len)
{
	const struct iomap *m = &iter->iomap;
	struct iodev_pmem2 *pm = &dx->file->dev->pmem;
	uint8_t *p;
	int ret;

	if (dx->zero && (m->type == IOMAP_HOLE || m->type == IOMAP_UNWRITTEN))
		return 0; /* reads as zeros already */
	if (IOMAP_WARN_ON(m->type != IOMAP_MAPPED))
		return -EIO;
	p = iomap_dax_ptr(dx->file->dev, iomap_addr(m, iter->pos), len);
	if (!p)
		return -EIO;
	if (!dx->zero && (m->flags & IOMAP_F_NEW)) {
		ret = iomap_dax_zero_edges(dx, m, iter->pos,
					   iter->pos + (loff_t)len);
		if (ret < 0)
			return ret;
	}
	if (dx->zero) {
		pm->memset_fn(p, 0, len, pm->store_flags);
		dx->file->inode->stats->blocks_zeroed +=
			(len + iomap_blocksize(iter->inode) - 1) >>
			iter->inode->blkbits;
	} else {
		pm->memcpy_fn(p, dx->buf + (iter->pos - dx->pos), len,
			      pm->store_flags);
	}
	iomap_dax_stored(dx->file->dev, p, len);
	iomap_dax_unmap_pages(dx->file->dev, p, len);
	iomap_dax_account(dx, len, true);
	return 0;
}

static int iomap_dax_iter(struct iomap_iter *iter, struct iomap_dax *dx)
{
	uint64_t len = iomap_length(iter);
	int ret = dx->write ? iomap_dax_write(dx, iter, len) :
			      iomap_dax_read(dx, iter, len);

	if (ret < 0)
		return ret;
	return iomap_iter_advance(iter, len);
}

static ssize_t iomap_dax_loop(struct iomap_dax *dx, size_t len,
			      const struct iomap_ops *ops, unsigned int flags)
{
	struct iomap_source src =
		iomap__file_source(dx->file, IOMAP_OP_DAX, ops);
	struct iomap_iter iter = { .inode = dx->file->inode,
				   .pos = dx->pos,
				   .len = len,
				   .flags = flags };
	int ret;

	while ((ret = iomap_iter_source(&iter, &src)) > 0)
		iter.status = iomap_dax_iter(&iter, dx);
	dx->err = ret;
	if (iter.pos > dx->pos)
		return (ssize_t)(iter.pos - dx->pos);
	return ret;
}

static ssize_t iomap_dax_do(struct iomap_dax *dx, size_t len,
			    const struct iomap_ops *ops, unsigned int flags)
{
	/* No page cache on DAX: drop anything another path left. */
	iomap__cache_drop(dx->file, dx->pos, dx->pos + (loff_t)len);
	return iomap_dax_loop(dx, len, ops, flags);
}

ssize_t iomap__dax_rw(struct iomap_file *file, void *buf, size_t len,
		      loff_t pos, bool write)
{
	struct iomap_dax dx = {
		.file = file, .buf = buf, .pos = pos, .write = write
	};
	loff_t size = file->inode->size;
	ssize_t done;
	int ret;

	if (!len)
		return 0;
	if (!write) {
		if (pos >= size)
			return 0;
		if ((uint64_t)(size - pos) < len)
			len = (size_t)(size - pos);
		return iomap_dax_do(&dx, len, file->ops->read, IOMAP_DAX);
	}
	if (pos > size) {
		ret = iomap__dax_zero(file, size, (uint64_t)(pos - size));
		if (ret < 0)
			return ret;
	}
	done = iomap_dax_do(&dx, len, file->ops->dax_write,
			    IOMAP_DAX | IOMAP_WRITE);
	if (done > 0 && pos + done > file->inode->size)
		file->inode->size = pos + done;
	return done;
}

int iomap__dax_zero(struct iomap_file *file, loff_t pos, uint64_t len)
{
	struct iomap_dax dx = {
		.file = file, .pos = pos, .write = true, .zero = true
	};
	ssize_t ret;

	if (!len)
		return 0;
	ret = iomap_dax_do(&dx, len, file->ops->buffered_write,
			   IOMAP_DAX | IOMAP_ZERO);
	/* Zeroing is all or an error (e.g. ENOSPC copying a shared block). */
	if (ret >= 0 && (uint64_t)ret < len)
		ret = dx.err < 0 ? dx.err : -EIO;
	return ret < 0 ? (int)ret : 0;
}
