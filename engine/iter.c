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

/*
 * How each mapper answers: ->begin fills @iter->iomap (and srcmap) for
 * @iter->pos, counting the mapping calls it makes; ->end is told the
 * mapping's trimmed @length and the bytes @written.
 */
struct iomap_source_ops {
	int (*begin)(struct iomap_iter *iter, const struct iomap_source *src);
	int (*end)(struct iomap_iter *iter, const struct iomap_source *src,
		   loff_t length, ssize_t written);
};

static int iomap_src_begin(struct iomap_iter *iter,
			   const struct iomap_source *src)
{
	iter->inode->stats->map_calls++;
	return src->ops->iomap_begin(iter->inode, iter->pos, (loff_t)iter->len,
				     iter->flags, &iter->iomap, &iter->srcmap);
}

/* Extents from the filesystem, per-block state in buffer heads. */
static int iomap_src_hybrid_begin(struct iomap_iter *iter,
				  const struct iomap_source *src)
{
	int ret = iomap_src_begin(iter, src);

	if (!ret)
		iter->iomap.flags |= IOMAP_F_BUFFER_HEAD;
	return ret;
}

static int iomap_src_end(struct iomap_iter *iter,
			 const struct iomap_source *src, loff_t length,
			 ssize_t written)
{
	if (!src->ops->iomap_end)
		return 0;
	return src->ops->iomap_end(iter->inode, iter->iter_start_pos, length,
				   written, iter->flags, &iter->iomap);
}

static const struct iomap_source_ops iomap_sources[IOMAP_MAPPER_COUNT] = {
	[IOMAP_MAPPER_IOMAP] = { .begin = iomap_src_begin,
				 .end = iomap_src_end },
	[IOMAP_MAPPER_BH] = { .begin = iomap__bh_begin, .end = iomap__bh_end },
	[IOMAP_MAPPER_HYBRID] = { .begin = iomap_src_hybrid_begin,
				  .end = iomap_src_end },
};

static int iomap_iter_end(struct iomap_iter *iter,
			  const struct iomap_source *src)
{
	uint64_t trimmed =
		(uint64_t)(iter->iomap.offset - iter->iter_start_pos) +
		iter->iomap.length;
	uint64_t done = (uint64_t)(iter->pos - iter->iter_start_pos);

	/* Report the mapping trimmed to the request, as the kernel does. */
	if (trimmed > done + iter->len)
		trimmed = done + iter->len;
	return iomap_sources[src->mapper].end(iter, src, (loff_t)trimmed,
					      (ssize_t)done);
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
			     const struct iomap_source *src)
{
	bool stale = iter->iomap.flags & IOMAP_F_STALE;
	bool advanced = iter->pos > iter->iter_start_pos;
	int ret = iomap_iter_end(iter, src);

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

/* A source the mapper can run: the table or get_block it calls. */
static bool iomap_source_ok(const struct iomap_source *src)
{
	bool ops = src->ops && src->ops->iomap_begin;

	if ((unsigned int)src->mapper >= IOMAP_MAPPER_COUNT)
		return false;
	return src->mapper == IOMAP_MAPPER_BH ? ops || src->get_block : ops;
}

int iomap_iter_source(struct iomap_iter *iter, const struct iomap_source *src)
{
	int ret;

	if (IOMAP_WARN_ON(!src || !iomap_source_ok(src)))
		return -EINVAL;
	if (iter->iomap.length) {
		ret = iomap_iter_finish(iter, src);
		if (ret <= 0)
			return ret;
	} else {
		ret = iomap_iter_check_range(iter);
		if (ret < 0 || iter->len == 0)
			return ret;
		iomap_iter_reset(iter);
	}

	iter->iter_start_pos = iter->pos;
	ret = iomap_sources[src->mapper].begin(iter, src);
	if (ret < 0) {
		iomap_iter_reset(iter);
		return ret;
	}
	ret = iomap_iter_check(iter);
	if (ret < 0) {
		/* The filesystem handed out a broken mapping: let it undo. */
		if (iter->iomap.length)
			iomap_iter_end(iter, src);
		iomap_iter_reset(iter);
		return ret;
	}
	return 1;
}

int iomap_iter(struct iomap_iter *iter, const struct iomap_ops *ops)
{
	struct iomap_source src = { .mapper = IOMAP_MAPPER_IOMAP, .ops = ops };

	return iomap_iter_source(iter, &src);
}
