// SPDX-License-Identifier: GPL-2.0
/* faultdev.c - the fault-injecting test backend: short transfers and an
 * error on the Nth request, completed at submit like io-sync.c. */
#include <errno.h>

#include "faultdev.h"

/*
 * The requests themselves go through io-sync.c, which completes each at
 * submit: the faults are a cut of the request before it and a result
 * overwritten after it, both before anyone can reap it.
 */
static int faultdev_open(void **privp, int fd, unsigned int depth)
{
	struct faultdev *f = *privp;

	if (!f)
		return -EINVAL;
	return iodev_sync_ops.open(&f->sync, fd, depth);
}

/* Half of @len in 512-byte units (O_DIRECT), never 0. */
static size_t faultdev_cut(size_t len)
{
	size_t half = (len / 2) & ~(size_t)511;

	return half ? half : len;
}

/* Submit @req through sync with only its first @max bytes. */
static int faultdev_submit_cut(struct faultdev *f, struct iodev_req *req,
			       size_t max)
{
	unsigned int niov = req->niov, n = 0;
	size_t last_len;
	int ret;

	while (n < niov && max > req->iov[n].iov_len)
		max -= req->iov[n++].iov_len;
	last_len = req->iov[n].iov_len;
	req->iov[n].iov_len = max;
	req->niov = n + 1;
	ret = iodev_sync_ops.submit(f->sync, req);
	req->niov = niov;
	req->iov[n].iov_len = last_len;
	return ret;
}

static int faultdev_submit_one(struct faultdev *f, struct iodev_req *req)
{
	bool counted = req->write || !f->fail_writes_only;
	size_t len = 0;
	int ret;

	for (unsigned int i = 0; i < req->niov; i++)
		len += req->iov[i].iov_len;
	f->nr_submit++;
	f->nr_counted += counted;
	if (counted && f->fail_at && f->nr_counted == f->fail_at) {
		/* Nothing moves: the request fails before the device. */
		ret = faultdev_submit_cut(f, req, 0);
		req->res = f->fail_error ? f->fail_error : -EIO;
		f->nr_failed++;
		return ret;
	}
	if ((f->short_io || (counted && f->nr_counted == f->short_at)) &&
	    faultdev_cut(len) < len) {
		f->nr_short++;
		return faultdev_submit_cut(f, req, faultdev_cut(len));
	}
	return iodev_sync_ops.submit(f->sync, req);
}

static int faultdev_submit(void *priv, struct iodev_req *req)
{
	struct faultdev *f = priv;
	int ret = faultdev_submit_one(f, req);

	if (!ret && ++f->nr_inflight > f->peak_inflight)
		f->peak_inflight = f->nr_inflight;
	return ret;
}

static int faultdev_reap(void *priv, struct iodev_req **reqp, bool wait)
{
	struct faultdev *f = priv;
	int ret;

	/* As a failed io_uring_enter: the requests stay in flight. */
	if (++f->nr_reap == f->reap_fail_at) {
		f->nr_reap_failed++;
		return f->fail_error ? f->fail_error : -EIO;
	}
	ret = iodev_sync_ops.reap(f->sync, reqp, wait);
	if (ret > 0)
		f->nr_inflight--;
	return ret;
}

static int faultdev_flush(void *priv)
{
	struct faultdev *f = priv;

	return iodev_sync_ops.flush(f->sync);
}

/* The struct belongs to the test: only the sync backend is ours. */
static void faultdev_close(void *priv)
{
	struct faultdev *f = priv;

	iodev_sync_ops.close(f->sync);
	f->sync = NULL;
}

const struct iodev_ops faultdev_ops = {
	.name = "faultdev",
	.open = faultdev_open,
	.submit = faultdev_submit,
	.reap = faultdev_reap,
	.flush = faultdev_flush,
	.close = faultdev_close,
};
