// SPDX-License-Identifier: GPL-2.0
/* iter.c - the iomap_iter loop: ask the filesystem for a mapping, let the
 * caller process a prefix of it, tell the filesystem, repeat. */
#include <errno.h>
#include <string.h>

#include "internal.h"

uint64_t iomap_length(const struct iomap_iter *iter)
{
	uint64_t end = (uint64_t)iter->iomap.offset + iter->iomap.length;
	uint64_t left = end - (uint64_t)iter->pos;

	if (iter->srcmap.type != IOMAP_HOLE) {
		uint64_t send =
			(uint64_t)iter->srcmap.offset + iter->srcmap.length;
		if (send - (uint64_t)iter->pos < left)
			left = send - (uint64_t)iter->pos;
	}
	return left < iter->len ? left : iter->len;
}

int iomap_iter_advance(struct iomap_iter *iter, uint64_t count)
{
	if (IOMAP_WARN_ON(count > iomap_length(iter)))
		return -EIO;
	iter->pos += (loff_t)count;
	iter->len -= count;
	return 0;
}

/* The filesystem's mapping must cover pos and make sense for its type. */
static int iomap_iter_check(const struct iomap_iter *iter)
{
	const struct iomap *m = &iter->iomap;

	if (IOMAP_WARN_ON(m->length == 0))
		return -EIO;
	if (IOMAP_WARN_ON(m->offset > iter->pos))
		return -EIO;
	if (IOMAP_WARN_ON((uint64_t)m->offset + m->length <=
			  (uint64_t)iter->pos))
		return -EIO;
	if (IOMAP_WARN_ON(m->type >= IOMAP_TYPE_COUNT))
		return -EIO;
	if (IOMAP_WARN_ON((iter->flags & IOMAP_WRITE) && m->type == IOMAP_HOLE))
		return -EIO;
	if (IOMAP_WARN_ON(m->type == IOMAP_INLINE && !m->inline_data))
		return -EIO;
	if (iter->srcmap.type != IOMAP_HOLE &&
	    IOMAP_WARN_ON(iter->srcmap.offset > iter->pos ||
			  (uint64_t)iter->srcmap.offset + iter->srcmap.length <=
				  (uint64_t)iter->pos))
		return -EIO;
	return 0;
}

/* Reject ranges whose end does not fit in a signed 64-bit offset. */
static int iomap_iter_check_range(const struct iomap_iter *iter)
{
	if (iter->pos < 0 || iter->len > (uint64_t)INT64_MAX)
		return -EINVAL;
	if (iter->len > (uint64_t)(INT64_MAX - iter->pos))
		return -EINVAL;
	return 0;
}

static int iomap_iter_end(struct iomap_iter *iter, const struct iomap_ops *ops)
{
	uint64_t trimmed =
		(uint64_t)(iter->iomap.offset - iter->iter_start_pos) +
		iter->iomap.length;
	uint64_t done = (uint64_t)(iter->pos - iter->iter_start_pos);

	if (!ops->iomap_end)
		return 0;
	/* Report the mapping trimmed to the request, as the kernel does. */
	if (trimmed > done + iter->len)
		trimmed = done + iter->len;
	return ops->iomap_end(iter->inode, iter->iter_start_pos,
			      (loff_t)trimmed, (ssize_t)done, iter->flags,
			      &iter->iomap);
}

static void iomap_iter_reset(struct iomap_iter *iter)
{
	iter->status = 0;
	memset(&iter->iomap, 0, sizeof(iter->iomap));
	memset(&iter->srcmap, 0, sizeof(iter->srcmap));
	iter->srcmap.type = IOMAP_HOLE;
	iter->srcmap.addr = IOMAP_NULL_ADDR;
}

/*
 * Finish the current mapping; returns 1 to map the next one, 0 when done,
 * or a negative errno.  Unlike the kernel, an ->iomap_end error stops the
 * walk even after progress: in userspace nobody retries the tail for us.
 */
static int iomap_iter_finish(struct iomap_iter *iter,
			     const struct iomap_ops *ops)
{
	bool stale = iter->iomap.flags & IOMAP_F_STALE;
	bool advanced = iter->pos > iter->iter_start_pos;
	int ret = iomap_iter_end(iter, ops);

	if (IOMAP_WARN_ON(iter->status > 0))
		iter->status = -EIO;
	if (iter->status < 0)
		ret = iter->status;
	else if (ret < 0)
		;
	else if (iter->len == 0 || (!advanced && !stale))
		ret = 0;
	else
		ret = 1;
	iomap_iter_reset(iter);
	return ret;
}

int iomap_iter(struct iomap_iter *iter, const struct iomap_ops *ops)
{
	int ret;

	if (IOMAP_WARN_ON(!ops || !ops->iomap_begin))
		return -EINVAL;
	if (iter->iomap.length) {
		ret = iomap_iter_finish(iter, ops);
		if (ret <= 0)
			return ret;
	} else {
		ret = iomap_iter_check_range(iter);
		if (ret < 0 || iter->len == 0)
			return ret;
		iomap_iter_reset(iter);
	}

	iter->iter_start_pos = iter->pos;
	iter->inode->stats->map_calls++;
	ret = ops->iomap_begin(iter->inode, iter->pos, (loff_t)iter->len,
			       iter->flags, &iter->iomap, &iter->srcmap);
	if (ret < 0) {
		iomap_iter_reset(iter);
		return ret;
	}
	ret = iomap_iter_check(iter);
	if (ret < 0) {
		/* The filesystem handed out a broken mapping: let it undo. */
		if (iter->iomap.length)
			iomap_iter_end(iter, ops);
		iomap_iter_reset(iter);
		return ret;
	}
	return 1;
}
