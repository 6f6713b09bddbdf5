// SPDX-License-Identifier: GPL-2.0
/* iodev.c - the request queue of one operation: slots, up to the device's
 * depth in flight, short transfers resubmitted, the first error kept. */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

int iomap__ioq_init(struct iomap__ioq *q, struct iomap_dev *dev,
		    struct iomap_stats *stats)
{
	memset(q, 0, sizeof(*q));
	q->dev = dev;
	q->stats = stats;
	q->nslots = dev->depth;
	/* Reuse the device's spare slots: small I/Os should not calloc. */
	if (dev->nspare) {
		q->slots = dev->spare_slots[--dev->nspare];
		return 0;
	}
	q->slots = calloc(q->nslots, sizeof(*q->slots));
	return q->slots ? 0 : -ENOMEM;
}

static void iomap__io_finish(struct iomap__ioq *q, struct iomap__io *io,
			     int error)
{
	if (error && !q->error)
		q->error = error;
	if (io->done)
		io->done(io, error);
	io->busy = false;
}

/* Skip @n transferred bytes of the request's segments. */
static void iomap__io_advance(struct iomap__io *io, size_t n)
{
	io->req.addr += n;
	io->len -= n;
	while (n && io->req.niov) {
		size_t step = n < io->req.iov->iov_len ? n :
							 io->req.iov->iov_len;

		io->req.iov->iov_base = (char *)io->req.iov->iov_base + step;
		io->req.iov->iov_len -= step;
		n -= step;
		if (!io->req.iov->iov_len) {
			io->req.iov++;
			io->req.niov--;
		}
	}
}

static bool iomap__io_aligned(const struct iomap__io *io, unsigned int lbs)
{
	uint64_t mask = lbs - 1;

	if (io->req.addr & mask)
		return false;
	for (unsigned int i = 0; i < io->req.niov; i++)
		if (((uintptr_t)io->req.iov[i].iov_base |
		     io->req.iov[i].iov_len) &
		    mask)
			return false;
	return true;
}

/* A request O_DIRECT cannot take goes through the buffered descriptor. */
static ssize_t iomap__io_unaligned(struct iomap__ioq *q, struct iomap__io *io)
{
	ssize_t n;

	do {
		if (io->req.write)
			n = pwritev(q->dev->bfd, io->req.iov, (int)io->req.niov,
				    (off_t)io->req.addr);
		else
			n = preadv(q->dev->bfd, io->req.iov, (int)io->req.niov,
				   (off_t)io->req.addr);
	} while (n < 0 && errno == EINTR);
	return n < 0 ? -errno : n;
}

/* Handle one completion: finished, failed, or short and sent again. */
static int iomap__io_complete(struct iomap__ioq *q, struct iomap__io *io)
{
	ssize_t res = io->req.res;

	if (res < 0) {
		iomap__io_finish(q, io, (int)res);
		return 0;
	}
	if (res == 0) {
		/* Past the end of the image: a device would fail too. */
		iomap__io_finish(q, io, -EIO);
		return 0;
	}
	iomap__io_advance(io, (size_t)res);
	if (!io->len) {
		iomap__io_finish(q, io, 0);
		return 0;
	}
	return iomap__ioq_submit(q, io);
}

/*
 * Reap one completion; returns 1, 0 when nothing is in flight (or, without
 * @wait, nothing has completed yet), or -errno.
 */
static int iomap__ioq_reap(struct iomap__ioq *q, bool wait)
{
	struct iodev_req *req;
	struct iomap__io *io;
	int ret;

	if (!q->inflight)
		return 0;
	ret = q->dev->io->reap(q->dev->io_priv, &req, wait);
	if (ret == 0 && !wait)
		return 0;
	if (ret == 0) {
		/* The backend holds none: they can never complete. */
		IOMAP_WARN_ON(1);
		q->inflight = 0;
		ret = -EIO;
	}
	if (ret < 0) {
		if (!q->error)
			q->error = ret;
		return ret;
	}
	/*
	 * Queues share the device's backend (writeback for an eviction runs
	 * inside another operation): complete on the queue that submitted.
	 */
	io = (struct iomap__io *)req;
	if (!io->q)
		return 1; /* abandoned by iomap__ioq_destroy(): drop it */
	io->q->inflight--;
	ret = iomap__io_complete(io->q, io);
	return ret < 0 ? ret : 1;
}

struct iomap__io *iomap__ioq_get(struct iomap__ioq *q)
{
	for (;;) {
		for (unsigned int i = 0; i < q->nslots; i++) {
			struct iomap__io *io = &q->slots[i];

			if (!io->busy) {
				/* Only the header: iov[] and seg[] are filled
				 * up to req.niov and nseg. */
				memset(io, 0, offsetof(struct iomap__io, iov));
				io->nseg = 0;
				io->q = NULL;
				io->counted = false;
				io->busy = true;
				io->req.iov = io->iov;
				return io;
			}
		}
		/* Every slot taken and none in flight: a caller bug, not a wait. */
		if (IOMAP_WARN_ON(!q->inflight) || iomap__ioq_reap(q, true) < 0)
			return NULL;
		/*
		 * Take every completion already there too: freeing one slot
		 * per wait made one system call per request once the queue
		 * was full.
		 */
		while (q->inflight && iomap__ioq_reap(q, false) > 0)
			;
	}
}

int iomap__ioq_submit(struct iomap__ioq *q, struct iomap__io *io)
{
	int ret;

	io->q = q;
	if (!io->counted) {
		/* First submission; a resent remainder is the same request. */
		io->counted = true;
		io->len = 0;
		for (unsigned int i = 0; i < io->req.niov; i++)
			io->len += io->req.iov[i].iov_len;
		q->stats->io_requests++;
		if (io->req.write)
			q->stats->bytes_written += io->len;
		else
			q->stats->bytes_read += io->len;
	}
	if (q->dev->dio_ok && !iomap__io_aligned(io, q->dev->lbs)) {
		io->req.res = iomap__io_unaligned(q, io);
		return iomap__io_complete(q, io);
	}
	ret = q->dev->io->submit(q->dev->io_priv, &io->req);
	if (ret < 0) {
		iomap__io_finish(q, io, ret);
		return ret;
	}
	q->inflight++;
	return 0;
}

/* Submits the request a plugged queue is still growing. */
static int iomap__ioq_unplug(struct iomap__ioq *q)
{
	struct iomap__io *io = q->plugged;

	q->plugged = NULL;
	return io ? iomap__ioq_submit(q, io) : 0;
}

/*
 * Can [addr, addr + len) at @buf join the end of @io?  Returns the bytes
 * of the gap between them to read into @q->discard first (a read only),
 * 0 for none, or -1 when it cannot.
 */
static int64_t iomap__io_mergeable(const struct iomap__ioq *q,
				   const struct iomap__io *io, uint64_t addr,
				   const void *buf, bool write,
				   iomap__io_done_t done)
{
	uint64_t end = io->req.addr + io->len;

	if (done || io->done || io->req.fixed || buf == q->dev->zero ||
	    io->req.write != write || addr < end)
		return -1;
	if (addr == end)
		return io->req.niov < IOMAP__MAX_IOV ? 0 : -1;
	if (write || !q->discard || addr - end > IOMAP__PLUG_GAP ||
	    io->req.niov + 1 >= IOMAP__MAX_IOV)
		return -1;
	return (int64_t)(addr - end);
}

int iomap__ioq_rw(struct iomap__ioq *q, uint64_t addr, void *buf, size_t len,
		  bool write, iomap__io_done_t done, void *priv, size_t off)
{
	struct iomap__io *io = q->plugged;
	int64_t gap = io ? iomap__io_mergeable(q, io, addr, buf, write, done) :
			   -1;
	int ret;

	if (gap >= 0) {
		if (gap)
			io->iov[io->req.niov++] = (struct iovec){
				.iov_base = q->discard, .iov_len = (size_t)gap
			};
		io->iov[io->req.niov++] =
			(struct iovec){ .iov_base = buf, .iov_len = len };
		io->len += (size_t)gap + len;
		return 0;
	}
	ret = iomap__ioq_unplug(q);
	if (ret < 0)
		return ret;
	io = iomap__ioq_get(q);
	if (!io)
		return q->error ? q->error : -ENOMEM;
	io->req.addr = addr;
	io->req.write = write;
	io->iov[0] = (struct iovec){ .iov_base = buf, .iov_len = len };
	io->req.niov = 1;
	if (buf == q->dev->zero)
		io->req.fixed = q->dev->zero_fixed;
	io->done = done;
	io->priv = priv;
	io->off = off;
	if (q->plug) {
		io->len = len;
		q->plugged = io;
		return 0;
	}
	return iomap__ioq_submit(q, io);
}

/*
 * A failed reap (an interrupted or refused io_uring_enter) leaves the
 * requests in flight, their memory still the device's: reap on, and give
 * up only when the backend keeps failing.
 */
#define IOMAP__REAP_TRIES 64

int iomap__ioq_wait(struct iomap__ioq *q)
{
	unsigned int failed = 0;

	/* A failed submission is the queue's error already. */
	iomap__ioq_unplug(q);
	while (q->inflight && failed < IOMAP__REAP_TRIES)
		failed = iomap__ioq_reap(q, true) < 0 ? failed + 1 : 0;
	return q->error;
}

int iomap__ioq_kick(struct iomap__ioq *q)
{
	int ret = iomap__ioq_unplug(q);

	if (ret < 0)
		return ret;
	ret = 1;
	while (q->inflight && ret > 0)
		ret = iomap__ioq_reap(q, false);
	return ret < 0 ? ret : 0;
}

int iomap__ioq_destroy(struct iomap__ioq *q)
{
	int ret = iomap__ioq_wait(q);

	if (q->inflight) {
		/*
		 * Leak rather than free what the backend may still write, and
		 * let a later reap drop the completions of this queue.
		 */
		IOMAP_WARN_ON(q->inflight);
		for (unsigned int i = 0; i < q->nslots; i++)
			if (q->slots[i].busy)
				q->slots[i].q = NULL;
	} else if (q->dev->nspare < IOMAP__SPARE_QUEUES) {
		/* A request built but never submitted (an error) is free. */
		for (unsigned int i = 0; i < q->nslots; i++)
			q->slots[i].busy = false;
		q->dev->spare_slots[q->dev->nspare++] = q->slots;
	} else {
		free(q->slots);
	}
	q->slots = NULL;
	return ret;
}

int iomap__dev_rw_sync(struct iomap_dev *dev, struct iomap_stats *stats,
		       uint64_t addr, void *buf, size_t len, bool write)
{
	bool aligned = !((addr | len | (uintptr_t)buf) & (dev->lbs - 1));
	int fd = aligned ? dev->fd : dev->bfd;

	stats->io_requests++;
	if (write)
		stats->bytes_written += len;
	else
		stats->bytes_read += len;
	while (len) {
		ssize_t n = write ? pwrite(fd, buf, len, (off_t)addr) :
				    pread(fd, buf, len, (off_t)addr);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO;
		addr += (uint64_t)n;
		buf = (char *)buf + n;
		len -= (size_t)n;
	}
	return 0;
}
