// SPDX-License-Identifier: GPL-2.0
/* io-sync.c - the pread/pwrite backend: each request completes at submit. */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "iomapctl/iodev.h"

/* Completed requests wait in a ring until reaped, in submission order. */
struct iodev_sync {
	int fd;
	unsigned int depth;
	unsigned int head, count;
	struct iodev_req **done;
};

static int iodev_sync_open(void **privp, int fd, unsigned int depth)
{
	struct iodev_sync *s = calloc(1, sizeof(*s));

	if (!s)
		return -ENOMEM;
	/* Nested queues (eviction inside an operation) share the backend. */
	depth *= 4;
	s->done = calloc(depth, sizeof(*s->done));
	if (!s->done) {
		free(s);
		return -ENOMEM;
	}
	s->fd = fd;
	s->depth = depth;
	*privp = s;
	return 0;
}

static int iodev_sync_submit(void *priv, struct iodev_req *req)
{
	struct iodev_sync *s = priv;
	ssize_t n;

	if (s->count == s->depth)
		return -EBUSY;
	do {
		if (req->write)
			n = pwritev(s->fd, req->iov, (int)req->niov,
				    (off_t)req->addr);
		else
			n = preadv(s->fd, req->iov, (int)req->niov,
				   (off_t)req->addr);
	} while (n < 0 && errno == EINTR);
	req->res = n < 0 ? -errno : n;
	s->done[(s->head + s->count) % s->depth] = req;
	s->count++;
	return 0;
}

static int iodev_sync_reap(void *priv, struct iodev_req **reqp, bool wait)
{
	struct iodev_sync *s = priv;

	(void)wait;
	if (!s->count)
		return 0;
	*reqp = s->done[s->head];
	s->head = (s->head + 1) % s->depth;
	s->count--;
	return 1;
}

static int iodev_sync_flush(void *priv)
{
	struct iodev_sync *s = priv;

	return fdatasync(s->fd) ? -errno : 0;
}

static void iodev_sync_close(void *priv)
{
	struct iodev_sync *s = priv;

	free(s->done);
	free(s);
}

const struct iodev_ops iodev_sync_ops = {
	.name = "sync",
	.open = iodev_sync_open,
	.submit = iodev_sync_submit,
	.reap = iodev_sync_reap,
	.flush = iodev_sync_flush,
	.close = iodev_sync_close,
	.caps = 0,
};
