// SPDX-License-Identifier: GPL-2.0
/* direct-io.c - iomap_dio_rw: user memory straight to and from the image,
 * one request per mapping chunk, many in flight. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/**
 * struct iomap_dio - one direct I/O.
 * @file:	the file.
 * @q:		its requests (several reads of a batch share one).
 * @buf:	user memory of @pos.
 * @pos:	file offset of the request.
 * @write:	direction.
 * @dio_flags:	IOMAP_DIO_* for ->end_io.
 * @rwf:	IOMAP_RWF_* of the call.
 * @want:	bytes a read returns, short at EOF.
 */
struct iomap_dio {
	struct iomap_file *file;
	struct iomap__ioq *q;
	uint8_t *buf;
	loff_t pos;
	bool write;
	unsigned int dio_flags;
	unsigned int rwf;
	size_t want;
};

static uint64_t round_down_u64(uint64_t x, uint64_t a)
{
	return x & ~(a - 1);
}

static uint64_t round_up_u64(uint64_t x, uint64_t a)
{
	return (x + a - 1) & ~(a - 1);
}

/* Let the filesystem take the request, or queue it ourselves. */
static int iomap_dio_submit(struct iomap_dio *dio,
			    const struct iomap_iter *iter, uint64_t addr,
			    loff_t pos, uint8_t *buf, size_t len)
{
	const struct iomap_dio_ops *dops = dio->file->ops->dio;
	struct iomap_bio bio = { .addr = addr,
				 .file_offset = pos,
				 .buf = buf,
				 .len = len,
				 .write = dio->write };

	if (dops && dops->submit_io) {
		dio->q->stats->io_requests++;
		if (dio->write)
			dio->q->stats->bytes_written += len;
		else
			dio->q->stats->bytes_read += len;
		return dops->submit_io(iter, &bio, pos);
	}
	return iomap__ioq_rw(dio->q, addr, buf, len, dio->write, NULL, NULL,
			     0);
}

/*
 * Zero the part of the block around [pos, end) the write does not cover,
 * so a new or unwritten block never shows what the disk held before.  The
 * zeros go the way of the data (->submit_io included).
 */
static int iomap_dio_zero(struct iomap_dio *dio, const struct iomap_iter *iter,
			  loff_t from, loff_t to)
{
	const struct iomap *m = &iter->iomap;

	if (from >= to)
		return 0;
	dio->q->stats->blocks_zeroed++;
	while (from < to) {
		size_t n = (uint64_t)(to - from) < IOMAP__ZERO_SIZE ?
				   (size_t)(to - from) :
				   IOMAP__ZERO_SIZE;
		int ret = iomap_dio_submit(dio, iter, iomap_addr(m, from), from,
					   dio->file->dev->zero, n);

		if (ret < 0)
			return ret;
		from += (loff_t)n;
	}
	return 0;
}

static int iomap_dio_bio(struct iomap_dio *dio, const struct iomap_iter *iter,
			 uint64_t length)
{
	const struct iomap *m = &iter->iomap;
	struct iomap_inode *inode = iter->inode;
	uint64_t bs = iomap_blocksize(inode);
	loff_t pos = iter->pos, end = pos + (loff_t)length;
	bool zero_head = dio->write && (m->type == IOMAP_UNWRITTEN ||
					(m->flags & IOMAP_F_NEW));
	bool zero_tail = zero_head || (dio->write && end > inode->size);
	uint8_t *buf = dio->buf + (pos - dio->pos);
	int ret;

	if (dio->write && m->type == IOMAP_UNWRITTEN)
		dio->dio_flags |= IOMAP_DIO_UNWRITTEN;
	if (dio->write && (m->flags & IOMAP_F_SHARED))
		dio->dio_flags |= IOMAP_DIO_COW;
	if (zero_head) {
		ret = iomap_dio_zero(dio, iter,
				     (loff_t)round_down_u64((uint64_t)pos, bs),
				     pos);
		if (ret < 0)
			return ret;
	}
	for (loff_t p = pos; p < end;) {
		size_t n = (uint64_t)(end - p) < IOMAP__MAX_IO ?
				   (size_t)(end - p) :
				   IOMAP__MAX_IO;

		ret = iomap_dio_submit(dio, iter, iomap_addr(m, p), p,
				       buf + (p - pos), n);
		if (ret < 0)
			return ret;
		p += (loff_t)n;
	}
	if (zero_tail)
		return iomap_dio_zero(dio, iter, end,
				      (loff_t)round_up_u64((uint64_t)end, bs));
	return 0;
}

/* Do the part of a direct I/O the current mapping of @iter covers. */
static int iomap_dio_range(struct iomap_dio *dio, const struct iomap_iter *iter)
{
	const struct iomap *m = &iter->iomap;
	uint64_t length = iomap_length(iter);
	uint8_t *buf = dio->buf + (iter->pos - dio->pos);

	switch (m->type) {
	case IOMAP_HOLE:
		if (IOMAP_WARN_ON(dio->write))
			return -EIO;
		/* fall through */
	case IOMAP_UNWRITTEN:
		if (dio->write)
			return iomap_dio_bio(dio, iter, length);
		memset(buf, 0, length);
		return 0;
	case IOMAP_MAPPED:
		return iomap_dio_bio(dio, iter, length);
	case IOMAP_INLINE:
		if (dio->write)
			return -EOPNOTSUPP;
		memcpy(buf, (uint8_t *)m->inline_data + (iter->pos - m->offset),
		       length);
		return 0;
	default:
		/* DELALLOC: a buffered write raced us (the kernel says so). */
		return -EIO;
	}
}

/*
 * The filesystem may write the image itself while mapping (zeroing new
 * blocks through its own buffered channel): the kernel cannot invalidate a
 * page that such a write dirties while an O_DIRECT write to the same page
 * is in flight, and reports EIO on the file.  So writes of one mapping
 * complete before the next mapping call; within a mapping they overlap.
 */
static int iomap_dio_settle(struct iomap_dio *dio)
{
	return dio->write ? iomap__ioq_wait(dio->q) : 0;
}

/*
 * §5.6: an OVERWRITE_ONLY write must land in one allocated extent, with
 * nothing to allocate or zero-fill as new; the filesystem should refuse
 * with -EAGAIN itself, this catches one that ignored the flag.
 */
static bool iomap_dio_pure_overwrite(const struct iomap_iter *iter)
{
	const struct iomap *m = &iter->iomap;

	if (m->type != IOMAP_MAPPED && m->type != IOMAP_UNWRITTEN)
		return false;
	return !(m->flags & IOMAP_F_NEW) && iomap_length(iter) == iter->len;
}

static int iomap_dio_iter(struct iomap_iter *iter, struct iomap_dio *dio)
{
	uint64_t length = iomap_length(iter);
	int ret;

	if ((iter->flags & IOMAP_OVERWRITE_ONLY) &&
	    !iomap_dio_pure_overwrite(iter))
		return -EAGAIN;
	ret = iomap_dio_range(dio, iter);

	if (!ret)
		ret = iomap_dio_settle(dio);
	if (ret < 0)
		return ret;
	return iomap_iter_advance(iter, length);
}

static ssize_t iomap_dio_loop(struct iomap_dio *dio, size_t len)
{
	const struct iomap_opset *ops = dio->file->ops;
	struct iomap_source src =
		iomap__file_source(dio->file, IOMAP_OP_DIRECT,
				   dio->write ? ops->direct_write : ops->read);
	struct iomap_iter iter = {
		.inode = dio->file->inode,
		.pos = dio->pos,
		.len = len,
		.flags = IOMAP_DIRECT | (dio->write ? IOMAP_WRITE : 0),
	};
	int ret;

	if (dio->rwf & IOMAP_RWF_NOWAIT)
		iter.flags |= IOMAP_NOWAIT;
	if (dio->rwf & IOMAP_RWF_OVERWRITE_ONLY)
		iter.flags |= IOMAP_OVERWRITE_ONLY;
	while ((ret = iomap_iter_source(&iter, &src)) > 0)
		iter.status = iomap_dio_iter(&iter, dio);
	/* A later mapping that would block ends a NOWAIT I/O short. */
	if (ret == -EAGAIN && iter.pos > dio->pos)
		ret = 0;
	if (ret < 0)
		return ret;
	return (ssize_t)(iter.pos - dio->pos);
}

/* Zero [i_size, pos) through the page cache before a write past EOF. */
static int iomap_dio_extend(struct iomap_file *file, loff_t pos)
{
	loff_t size = file->inode->size;
	int ret;

	if (pos <= size)
		return 0;
	ret = iomap__cache_zero(file, size, (uint64_t)(pos - size));
	if (ret < 0)
		return ret;
	return iomap__cache_flush_invalidate(file, size, pos);
}

/* Completion: ->end_io converts unwritten extents, then the size moves. */
static ssize_t iomap_dio_complete(struct iomap_dio *dio, ssize_t done,
				  int error)
{
	struct iomap_file *file = dio->file;
	const struct iomap_dio_ops *dops = file->ops->dio;
	int ret;

	if (done < 0 && !error)
		error = (int)done;
	if (dio->write && dops && dops->end_io) {
		ret = dops->end_io(file->inode, dio->pos, error ? 0 : done,
				   error, dio->dio_flags);
		if (ret < 0 && !error)
			error = ret;
	}
	if (!error && dio->write && dio->pos + done > file->inode->size)
		file->inode->size = dio->pos + done;
	/* After ->end_io, so a racing read cannot cache unconverted zeros. */
	if (dio->write)
		iomap__cache_drop(file, dio->pos, dio->pos + (loff_t)done);
	return error ? error : done;
}

static int iomap_dio_check(struct iomap_file *file, const void *buf, size_t len,
			   loff_t pos)
{
	uint64_t mask = file->dev->lbs - 1;

	if (((uint64_t)pos | len | (uintptr_t)buf) & mask)
		return -EINVAL;
	return 0;
}

/*
 * §5.6 checks before anything is flushed or zeroed: an OVERWRITE_ONLY write
 * stays inside i_size; a NOWAIT one needs no gap zeroed through the cache
 * and no cached page written back or dropped first.
 */
static int iomap_dio_nowait_check(struct iomap_file *file, size_t len,
				  loff_t pos, bool write, unsigned int rwf)
{
	loff_t size = file->inode->size, end = pos + (loff_t)len;
	const struct iomap_folio *f;

	if (rwf && iomap_io_mapper(&file->dev->params, IOMAP_OP_DIRECT) ==
			   IOMAP_MAPPER_BH)
		return -EOPNOTSUPP;
	if ((rwf & IOMAP_RWF_OVERWRITE_ONLY) && end > size)
		return -EAGAIN;
	if (!(rwf & IOMAP_RWF_NOWAIT))
		return 0;
	if (write && pos > size)
		return -EAGAIN;
	f = iomap_cache_next(&file->cache, pos);
	return f && f->pos < end ? -EAGAIN : 0;
}

/*
 * Checks and clamps a direct I/O and makes the page cache agree with it.
 * Returns the length to map, 0 when there is nothing to do, or -errno.
 */
static ssize_t iomap_dio_prepare(struct iomap_dio *dio, size_t len)
{
	struct iomap_file *file = dio->file;
	loff_t size = file->inode->size, pos = dio->pos;
	int ret;

	/* As the kernel: a read at or past EOF ends before any check. */
	if (!dio->write && pos >= size)
		return 0;
	ret = iomap_dio_check(file, dio->buf, len, pos);
	if (ret < 0 || len == 0)
		return ret;
	dio->want = len;
	if (!dio->write) {
		/* Whole logical blocks up to EOF, the result short at EOF. */
		if ((uint64_t)(size - pos) < len)
			len = round_up_u64((uint64_t)(size - pos),
					   file->dev->lbs);
		dio->want = len < (uint64_t)(size - pos) ? len :
							   (size_t)(size - pos);
	}
	ret = iomap_dio_nowait_check(file, len, pos, dio->write, dio->rwf);
	if (!ret)
		ret = iomap__cache_flush_invalidate(file, pos,
						    pos + (loff_t)len);
	if (!ret && dio->write)
		ret = iomap_dio_extend(file, pos);
	return ret < 0 ? ret : (ssize_t)len;
}

/* The result once the requests of @dio completed with queue error @err. */
static ssize_t iomap_dio_result(struct iomap_dio *dio, ssize_t done, int err)
{
	if (dio->write)
		return iomap_dio_complete(dio, done, err);
	if (err)
		return err;
	if (done < 0)
		return done;
	return (size_t)done < dio->want ? done : (ssize_t)dio->want;
}

ssize_t iomap__dio_rw(struct iomap_file *file, void *buf, size_t len,
		      loff_t pos, bool write, unsigned int rwf)
{
	struct iomap__ioq q;
	struct iomap_dio dio = { .file = file, .q = &q, .buf = buf,
				 .pos = pos, .write = write, .rwf = rwf };
	ssize_t mapped = iomap_dio_prepare(&dio, len), done;
	int ret;

	if (mapped <= 0)
		return mapped;
	ret = iomap__ioq_init(&q, file->dev, file->inode->stats);
	if (ret < 0)
		return ret;
	done = iomap_dio_loop(&dio, (size_t)mapped);
	return iomap_dio_result(&dio, done, iomap__ioq_destroy(&q));
}

/*
 * Read batches: reads of several files with all their requests in flight
 * together on one (plugged) queue, so a tree of small files costs one
 * wait per batch, not one per file, and the reads run while the caller
 * writes out the batch before.  Each is a direct read in two halves: the
 * start maps and queues, the result is taken once the queue drained.
 */
#define IOMAP__PLUG_ALIGN 4096U

static ssize_t iomap_dio_read_start(struct iomap_dio *dio, size_t len)
{
	ssize_t mapped = iomap_dio_prepare(dio, len);

	return mapped <= 0 ? mapped : iomap_dio_loop(dio, (size_t)mapped);
}

struct iomap_read_batch {
	struct iomap__ioq q;
	struct iomap_read_req *reqs;
	unsigned int n;
	struct iomap_dio dio[];
};

/* DAX copies at once, and a request the direct way cannot take is read
 * alone: either way it is done before the batch waits. */
static bool iomap_read_now(const struct iomap_read_req *r)
{
	const struct iomap_dev *dev = r->file->dev;
	uint64_t mask = dev->lbs - 1;

	return dev->params.path == IOMAP_IO_DAX ||
	       (((uint64_t)r->pos | r->len | (uintptr_t)r->buf) & mask);
}

int iomap_read_batch_start(struct iomap_read_req *reqs, unsigned int n,
			   struct iomap_read_batch **bp)
{
	struct iomap_dev *dev = n ? reqs[0].file->dev : NULL;
	struct iomap_read_batch *b;
	int ret;

	*bp = NULL;
	if (!n)
		return -EINVAL;
	for (unsigned int i = 1; i < n; i++)
		if (reqs[i].file->dev != dev)
			return -EINVAL;
	b = calloc(1, sizeof(*b) + n * sizeof(b->dio[0]));
	if (!b)
		return -ENOMEM;
	ret = iomap__ioq_init(&b->q, dev, reqs[0].file->inode->stats);
	if (ret < 0) {
		free(b);
		return ret;
	}
	/* Small files written one after another are read as one, and so
	 * are runs with small gaps between them (without the buffer, not). */
	b->q.plug = true;
	if (!dev->discard &&
	    posix_memalign(&dev->discard, IOMAP__PLUG_ALIGN, IOMAP__PLUG_GAP))
		dev->discard = NULL;
	b->q.discard = dev->discard;
	b->reqs = reqs;
	b->n = n;
	for (unsigned int i = 0; i < n; i++) {
		struct iomap_read_req *r = &reqs[i];

		if (r->pos < 0 || r->len > (size_t)(INT64_MAX - r->pos)) {
			r->res = -EINVAL;
		} else if (iomap_read_now(r)) {
			r->res = iomap_file_read(r->file, r->buf, r->len, r->pos);
		} else {
			b->dio[i] = (struct iomap_dio){ .file = r->file,
							 .q = &b->q,
							 .buf = r->buf,
							 .pos = r->pos };
			r->res = iomap_dio_read_start(&b->dio[i], r->len);
		}
	}
	*bp = b;
	/* A failed kick failed the queue: the wait reports it. */
	iomap__ioq_kick(&b->q);
	return 0;
}

int iomap_read_batch_wait(struct iomap_read_batch *b)
{
	int err;

	if (!b)
		return 0;
	err = iomap__ioq_destroy(&b->q);
	for (unsigned int i = 0; i < b->n; i++)
		if (b->dio[i].file)
			b->reqs[i].res = iomap_dio_result(&b->dio[i],
							  b->reqs[i].res, err);
	free(b);
	return err;
}
