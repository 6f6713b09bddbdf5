// SPDX-License-Identifier: GPL-2.0
/*
 * read-batch.c - reads of several files with all their requests in flight
 * together: a tree of small files costs one wait per batch, not one per
 * file, and the reads run while the caller writes out the batch before.
 * Each read goes the direct way, after the file's cached pages over its
 * range are written back and dropped, as the kernel's O_DIRECT read does.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "internal.h"

#define IOMAP__PLUG_ALIGN 4096U

struct iomap_read_batch {
	struct iomap__ioq q;
	void *discard; /* the gaps plugged reads read past */
	struct iomap_read_req *reqs;
	unsigned int n;
	bool queued; /* q holds requests: wait must drain it */
	struct iomap__dio dio[];
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
	struct iomap_read_batch *b;
	int ret;

	*bp = NULL;
	if (!n)
		return -EINVAL;
	for (unsigned int i = 1; i < n; i++)
		if (reqs[i].file->dev != reqs[0].file->dev)
			return -EINVAL;
	b = calloc(1, sizeof(*b) + n * sizeof(b->dio[0]));
	if (!b)
		return -ENOMEM;
	ret = iomap__ioq_init(&b->q, reqs[0].file->dev,
			      reqs[0].file->inode->stats);
	if (ret < 0) {
		free(b);
		return ret;
	}
	/* Small files written one after another are read as one, and so
	 * are runs with small gaps between them (without the buffer, not). */
	b->q.plug = true;
	if (!posix_memalign(&b->discard, IOMAP__PLUG_ALIGN, IOMAP__PLUG_GAP))
		b->q.discard = b->discard;
	b->reqs = reqs;
	b->n = n;
	for (unsigned int i = 0; i < n; i++) {
		struct iomap_read_req *r = &reqs[i];

		if (r->pos < 0 || r->len > (size_t)(INT64_MAX - r->pos)) {
			r->res = -EINVAL;
		} else if (iomap_read_now(r)) {
			r->res = iomap_file_read(r->file, r->buf, r->len, r->pos);
		} else {
			b->dio[i] = (struct iomap__dio){ .file = r->file,
							 .q = &b->q,
							 .buf = r->buf,
							 .pos = r->pos };
			r->res = iomap__dio_read_start(&b->dio[i], r->len);
			b->queued = true;
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
			b->reqs[i].res = iomap__dio_read_result(
				&b->dio[i], b->reqs[i].res, err);
	free(b->discard);
	free(b);
	return err;
}
