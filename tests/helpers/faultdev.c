// SPDX-License-Identifier: GPL-2.0
/* faultdev.c - the fault-injecting test backend: short transfers and an
 * error on the Nth request, completed at submit like io-sync.c. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "faultdev.h"

static int faultdev_open(void **privp, int fd, unsigned int depth)
{
	struct faultdev *f = *privp;

	if (!f)
		return -EINVAL;
	/* Nested queues (eviction inside an operation) share the backend. */
	f->depth = depth * 4;
	f->done = calloc(f->depth, sizeof(*f->done));
	if (!f->done)
		return -ENOMEM;
	f->fd = fd;
	f->head = f->count = 0;
	return 0;
}

/* Half of @len in 512-byte units (O_DIRECT), never 0. */
static size_t faultdev_cut(size_t len)
{
	size_t half = (len / 2) & ~(size_t)511;

	return half ? half : len;
}

/* Do @req, transferring at most @max bytes of it. */
static ssize_t faultdev_rw(struct faultdev *f, struct iodev_req *req,
			   size_t max)
{
	struct iovec iov[64];
	unsigned int n = 0;
	ssize_t r;

	for (unsigned int i = 0; i < req->niov && n < 64 && max; i++, n++) {
		iov[n] = req->iov[i];
		if (iov[n].iov_len > max)
			iov[n].iov_len = max;
		max -= iov[n].iov_len;
	}
	do {
		r = req->write ? pwritev(f->fd, iov, (int)n, (off_t)req->addr) :
				 preadv(f->fd, iov, (int)n, (off_t)req->addr);
	} while (r < 0 && errno == EINTR);
	return r < 0 ? -errno : r;
}

static int faultdev_submit(void *priv, struct iodev_req *req)
{
	struct faultdev *f = priv;
	size_t len = 0;

	if (f->count == f->depth)
		return -EBUSY;
	for (unsigned int i = 0; i < req->niov; i++)
		len += req->iov[i].iov_len;
	f->nr_submit++;
	if (req->write || !f->fail_writes_only)
		f->nr_counted++;
	if (f->fail_at && f->nr_counted == f->fail_at &&
	    (req->write || !f->fail_writes_only)) {
		/* Nothing moves: the request fails before the device. */
		req->res = f->fail_error ? f->fail_error : -EIO;
		f->nr_failed++;
	} else if (f->short_io && faultdev_cut(len) < len) {
		req->res = faultdev_rw(f, req, faultdev_cut(len));
		f->nr_short++;
	} else {
		req->res = faultdev_rw(f, req, len);
	}
	f->done[(f->head + f->count) % f->depth] = req;
	f->count++;
	return 0;
}

static int faultdev_reap(void *priv, struct iodev_req **reqp, bool wait)
{
	struct faultdev *f = priv;

	(void)wait;
	if (!f->count)
		return 0;
	*reqp = f->done[f->head];
	f->head = (f->head + 1) % f->depth;
	f->count--;
	return 1;
}

static int faultdev_flush(void *priv)
{
	struct faultdev *f = priv;

	return fdatasync(f->fd) ? -errno : 0;
}

/* The struct belongs to the test: only the ring is ours. */
static void faultdev_close(void *priv)
{
	struct faultdev *f = priv;

	free(f->done);
	f->done = NULL;
}

const struct iodev_ops faultdev_ops = {
	.name = "faultdev",
	.open = faultdev_open,
	.submit = faultdev_submit,
	.reap = faultdev_reap,
	.flush = faultdev_flush,
	.close = faultdev_close,
};
