// SPDX-License-Identifier: GPL-2.0
/* io-uring.c - the liburing backend: requests queue as SQEs and are
 * submitted in batches when the engine waits for completions. */
#include <errno.h>
#include <stdlib.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <linux/magic.h>
#include <liburing.h>

#include "iomapctl/iodev.h"

/*
 * An image in memory (tmpfs) has no asynchronous read or write: io_uring
 * hands each request to a worker thread and wakes the caller, 25 us for a
 * 4 KiB read where pread takes 2.3 us (both measured on these machines).
 * Requests up to this size go to the pread/pwrite backend there; larger
 * ones keep the ring, whose workers copy beside the caller.
 */
#define IODEV_URING_INLINE_MAX (256U << 10)

struct iodev_uring {
	struct io_uring ring;
	int fd;
	unsigned int queued; /* prepared, not yet submitted */
	unsigned int inflight; /* submitted or queued, not reaped */
	void *inline_io; /* the sync backend, for an image in memory */
};

static bool iodev_uring_in_memory(int fd)
{
	struct statfs sf;

	return fstatfs(fd, &sf) == 0 &&
	       (sf.f_type == TMPFS_MAGIC || sf.f_type == RAMFS_MAGIC);
}

static int iodev_uring_open(void **privp, int fd, unsigned int depth)
{
	struct iodev_uring *u = calloc(1, sizeof(*u));
	int ret;

	if (!u)
		return -ENOMEM;
	ret = io_uring_queue_init(depth, &u->ring, 0);
	if (ret < 0) {
		free(u);
		return ret;
	}
	u->fd = fd;
	/* Without it every request goes through the ring: slower, not wrong. */
	if (iodev_uring_in_memory(fd) &&
	    iodev_sync_ops.open(&u->inline_io, fd, depth) < 0)
		u->inline_io = NULL;
	*privp = u;
	return 0;
}

static size_t iodev_req_len(const struct iodev_req *req)
{
	size_t len = 0;

	for (unsigned int i = 0; i < req->niov; i++)
		len += req->iov[i].iov_len;
	return len;
}

/* Submit what is queued and, with @wait_nr, wait for that many
 * completions in the same system call. */
static int iodev_uring_push(struct iodev_uring *u, unsigned int wait_nr)
{
	int ret;

	if (!u->queued)
		return 0;
	do {
		ret = io_uring_submit_and_wait(&u->ring, wait_nr);
	} while (ret == -EINTR);
	if (ret < 0)
		return ret;
	u->queued -= (unsigned int)ret < u->queued ? (unsigned int)ret :
						     u->queued;
	return 0;
}

static int iodev_uring_submit(void *priv, struct iodev_req *req)
{
	struct iodev_uring *u = priv;
	struct io_uring_sqe *sqe;

	/* Done at once; -EBUSY (its completions are full) takes the ring. */
	if (u->inline_io && iodev_req_len(req) <= IODEV_URING_INLINE_MAX &&
	    iodev_sync_ops.submit(u->inline_io, req) == 0) {
		u->inflight++;
		return 0;
	}
	sqe = io_uring_get_sqe(&u->ring);
	if (!sqe) {
		int ret = iodev_uring_push(u, 0);

		if (ret < 0)
			return ret;
		sqe = io_uring_get_sqe(&u->ring);
		if (!sqe)
			return -EBUSY;
	}
	if (req->fixed && req->niov == 1 && req->write)
		io_uring_prep_write_fixed(sqe, u->fd, req->iov->iov_base,
					  (unsigned int)req->iov->iov_len,
					  req->addr, (int)req->fixed - 1);
	else if (req->fixed && req->niov == 1)
		io_uring_prep_read_fixed(sqe, u->fd, req->iov->iov_base,
					 (unsigned int)req->iov->iov_len,
					 req->addr, (int)req->fixed - 1);
	else if (req->write)
		io_uring_prep_writev(sqe, u->fd, req->iov, req->niov,
				     req->addr);
	else
		io_uring_prep_readv(sqe, u->fd, req->iov, req->niov, req->addr);
	io_uring_sqe_set_data(sqe, req);
	u->queued++;
	u->inflight++;
	return 0;
}

static int iodev_uring_reap(void *priv, struct iodev_req **reqp, bool wait)
{
	struct iodev_uring *u = priv;
	struct io_uring_cqe *cqe;
	int ret;

	if (!u->inflight)
		return 0;
	if (u->inline_io && iodev_sync_ops.reap(u->inline_io, reqp, false) > 0) {
		u->inflight--;
		return 1;
	}
	/* A caller that waits anyway submits and waits in one call: a tree
	 * of small files made two per file. */
	ret = iodev_uring_push(u, wait ? 1 : 0);
	if (ret < 0)
		return ret;
	do {
		ret = wait ? io_uring_wait_cqe(&u->ring, &cqe) :
			     io_uring_peek_cqe(&u->ring, &cqe);
	} while (ret == -EINTR);
	if (ret == -EAGAIN && !wait)
		return 0;
	if (ret < 0)
		return ret;
	*reqp = io_uring_cqe_get_data(cqe);
	(*reqp)->res = cqe->res;
	io_uring_cqe_seen(&u->ring, cqe);
	u->inflight--;
	return 1;
}

static int iodev_uring_register(void *priv, void *buf, size_t len)
{
	struct iodev_uring *u = priv;
	struct iovec iov = { .iov_base = buf, .iov_len = len };
	int ret = io_uring_register_buffers(&u->ring, &iov, 1);

	return ret < 0 ? ret : 0;
}

static int iodev_uring_flush(void *priv)
{
	struct iodev_uring *u = priv;

	return fdatasync(u->fd) ? -errno : 0;
}

static void iodev_uring_close(void *priv)
{
	struct iodev_uring *u = priv;

	io_uring_queue_exit(&u->ring);
	if (u->inline_io)
		iodev_sync_ops.close(u->inline_io);
	free(u);
}

const struct iodev_ops iodev_uring_ops = {
	.name = "io_uring",
	.open = iodev_uring_open,
	.submit = iodev_uring_submit,
	.reap = iodev_uring_reap,
	.flush = iodev_uring_flush,
	.close = iodev_uring_close,
	.caps = IODEV_CAP_ASYNC,
	.register_buffer = iodev_uring_register,
};
