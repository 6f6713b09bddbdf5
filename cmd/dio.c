// SPDX-License-Identifier: GPL-2.0
/*
 * dio.c - reads and writes of any offset, length and memory address on the
 * direct path, which (like the kernel's O_DIRECT) refuses unaligned ones
 * with -EINVAL.  As dd oflag=direct does: the aligned body goes straight
 * from and to the caller's memory; the unaligned edges (and a body in
 * unaligned memory) go through an aligned bounce buffer, the edge blocks of
 * a write read, modified and written whole.  Every piece completes before
 * the next one is read, so an edge block is read after the writes before it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"

#define DIO_BOUNCE_MAX (1U << 20)
#define DIO_MEM_ALIGN 4096U

/*
 * Edges are rounded to whole filesystem blocks (or the O_DIRECT alignment
 * when larger), so a read-modify-write never splits a block.
 */
static size_t dio_align(const struct imc_file *f, size_t need)
{
	size_t a = f->blksize ? f->blksize : need;

	while (a < need)
		a <<= 1;
	return a;
}

/* Positions and sizes are powers of two here; @a - 1 is the mask. */
static bool dio_aligned(loff_t pos, const void *mem, size_t a)
{
	return !(((uint64_t)pos | (uintptr_t)mem) & (a - 1));
}

struct dio_bounce {
	char *buf;
	size_t size;
};

/* One buffer per call, sized for the request but at most 1 MiB. */
static int dio_bounce_get(struct dio_bounce *b, size_t a, size_t want)
{
	size_t size = (want + a - 1) & ~(a - 1);

	if (b->buf)
		return 0;
	if (size > DIO_BOUNCE_MAX)
		size = DIO_BOUNCE_MAX > a ? DIO_BOUNCE_MAX & ~(a - 1) : a;
	if (posix_memalign((void **)&b->buf,
			   a > DIO_MEM_ALIGN ? a : DIO_MEM_ALIGN, size))
		return -ENOMEM;
	b->size = size;
	return 0;
}

/*
 * The bounce window at @pos for @left bytes at @mem: whole blocks holding as
 * many as fit; only the head block when @mem has @pos's offset in a block,
 * as the rest can then go direct.
 */
static size_t dio_span(const struct dio_bounce *b, loff_t pos, const void *mem,
		       size_t left, size_t a)
{
	size_t head = (size_t)pos & (a - 1);
	size_t span = (head + left + a - 1) & ~(a - 1);
	size_t cap = ((uintptr_t)mem & (a - 1)) == head ? a : b->size;

	return span < cap ? span : cap;
}

static ssize_t dio_pread(struct imc_file *f, char *buf, size_t len, loff_t pos,
			 size_t a)
{
	struct dio_bounce b = { 0 };
	size_t done = 0;
	ssize_t ret = 0;

	while (done < len) {
		loff_t p = pos + (loff_t)done, start;
		size_t left = len - done, head, span, n;
		ssize_t r;

		if (left >= a && dio_aligned(p, buf + done, a)) {
			n = left & ~(a - 1);
			r = iomap_file_read(f->io, buf + done, n, p);
			if (r <= 0) {
				ret = r;
				break;
			}
			done += (size_t)r;
			if ((size_t)r < n)
				break;
			continue;
		}
		ret = dio_bounce_get(&b, a, ((size_t)p & (a - 1)) + left);
		if (ret)
			break;
		start = p & ~(loff_t)(a - 1);
		head = (size_t)(p - start);
		span = dio_span(&b, p, buf + done, left, a);
		r = iomap_file_read(f->io, b.buf, span, start);
		if (r <= (ssize_t)head) {
			ret = r < 0 ? r : 0; /* an error, or EOF */
			break;
		}
		n = (size_t)r - head < left ? (size_t)r - head : left;
		memcpy(buf + done, b.buf + head, n);
		done += n;
		if ((size_t)r < span)
			break; /* EOF */
	}
	free(b.buf);
	return done ? (ssize_t)done : ret;
}

/*
 * The old bytes of the block at @start into @blk: zeros for holes,
 * unwritten extents and past EOF (a read straddling EOF stops there, and
 * what the disk holds past it must not reach the file).
 */
static int dio_read_block(struct imc_file *f, char *blk, loff_t start, size_t a)
{
	ssize_t r = iomap_file_read(f->io, blk, a, start);

	if (r < 0)
		return (int)r;
	memset(blk + r, 0, a - (size_t)r);
	return 0;
}

/* Reads the edge blocks of [@head, @end) in a @span-byte window at @start
 * that the new data covers only in part. */
static int dio_fill_edges(struct imc_file *f, char *win, loff_t start,
			  size_t span, size_t head, size_t end, size_t a)
{
	int ret = 0;

	if (head & (a - 1))
		ret = dio_read_block(f, win, start, a);
	if (!ret && (end & (a - 1)) && (span > a || !(head & (a - 1))))
		ret = dio_read_block(f, win + span - a,
				     start + (loff_t)(span - a), a);
	return ret;
}

/*
 * A padded last block may have moved EOF past what the caller wrote: set
 * it back to the end of the caller's data (or the old size, if larger).
 * The padding holds the block's old bytes or zeros, so nothing else moves.
 */
static int dio_trim(struct imc_file *f, loff_t old_size, loff_t end)
{
	loff_t want = old_size > end ? old_size : end;
	int ret;

	if (f->inode->size <= want)
		return 0;
	if (!f->fs->ops->setsize)
		return -EOPNOTSUPP;
	ret = iomap_file_sync(f->io);
	if (!ret)
		ret = f->fs->ops->setsize(f->inode, want);
	if (!ret)
		iomap_file_invalidate(f->io, want);
	return ret;
}

/*
 * One bounce window of a write: the caller's bytes from @src at @p (as many
 * as fit: *@np), the rest of the window's edge blocks as they were.
 * Returns the caller's bytes written, or -errno.
 */
static ssize_t dio_write_window(struct imc_file *f, struct dio_bounce *b,
				const char *src, size_t left, loff_t p,
				size_t a, size_t *np)
{
	loff_t start = p & ~(loff_t)(a - 1), old_size = f->inode->size;
	size_t head = (size_t)(p - start), span = dio_span(b, p, src, left, a);
	size_t n = span - head < left ? span - head : left;
	ssize_t w, done;
	int ret;

	*np = n;
	ret = dio_fill_edges(f, b->buf, start, span, head, head + n, a);
	if (ret)
		return ret;
	memcpy(b->buf + head, src, n);
	w = iomap_file_write(f->io, b->buf, span, start);
	if (w < 0)
		return w;
	done = w > (ssize_t)head ? w - (ssize_t)head : 0;
	if (done > (ssize_t)n)
		done = (ssize_t)n;
	ret = dio_trim(f, old_size, p + done);
	return ret ? ret : done;
}

static ssize_t dio_pwrite(struct imc_file *f, const char *buf, size_t len,
			  loff_t pos, size_t a)
{
	struct dio_bounce b = { 0 };
	size_t done = 0;
	ssize_t ret = 0;

	while (done < len) {
		loff_t p = pos + (loff_t)done;
		size_t left = len - done, n;
		ssize_t w;

		if (left >= a && dio_aligned(p, buf + done, a)) {
			n = left & ~(a - 1);
			w = iomap_file_write(f->io, buf + done, n, p);
		} else {
			ret = dio_bounce_get(&b, a,
					     ((size_t)p & (a - 1)) + left);
			if (ret)
				break;
			w = dio_write_window(f, &b, buf + done, left, p, a, &n);
		}
		if (w <= 0) {
			ret = w ? w : -EIO;
			break;
		}
		done += (size_t)w;
		/* Short: stop, the caller retries the rest and learns why. */
		if ((size_t)w < n)
			break;
	}
	free(b.buf);
	return done ? (ssize_t)done : ret;
}

ssize_t imc_dio_pread(struct imc_file *f, void *buf, size_t len, loff_t pos)
{
	size_t need = iomap_dev_dio_align(f->ctx->dev);

	if (need <= 1 || (dio_aligned(pos, buf, need) && !(len & (need - 1))))
		return iomap_file_read(f->io, buf, len, pos);
	return dio_pread(f, buf, len, pos, dio_align(f, need));
}

ssize_t imc_dio_pwrite(struct imc_file *f, const void *buf, size_t len,
		       loff_t pos)
{
	size_t need = iomap_dev_dio_align(f->ctx->dev);

	if (need <= 1 || (dio_aligned(pos, buf, need) && !(len & (need - 1))))
		return iomap_file_write(f->io, buf, len, pos);
	return dio_pwrite(f, buf, len, pos, dio_align(f, need));
}
