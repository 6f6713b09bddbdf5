// SPDX-License-Identifier: GPL-2.0
/* io-uring.c - the liburing backend: requests queue as SQEs and are
 * submitted in batches when the engine waits for completions. */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include <liburing.h>

#include "iomapctl/iodev.h"

struct iodev_uring {
	struct io_uring ring;
	int fd;
	unsigned int queued; /* prepared, not yet submitted */
	unsigned int inflight; /* submitted or queued, not reaped */
};

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
	*privp = u;
	return 0;
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
	struct io_uring_sqe *sqe = io_uring_get_sqe(&u->ring);

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
