// SPDX-License-Identifier: GPL-2.0
/* seek.c - SEEK_DATA and SEEK_HOLE on top of the iterator (fs/iomap/seek.c).
 * Inside an unwritten extent, data is what the page cache holds uptodate. */
#include <errno.h>
#include <unistd.h>

#include "internal.h"
#include "iomapctl/pagecache.h"

/* Where in [pos, pos + len) the page cache answers @whence, or -ENOENT. */
static loff_t iomap_seek_cache(const struct iomap_iter *iter, uint64_t len,
			       int whence)
{
	loff_t end = iter->pos + (loff_t)len;

	if (!iter->inode->cache)
		return whence == SEEK_HOLE ? iter->pos : -ENOENT;
	return iomap_cache_seek(iter->inode->cache, iter->pos, end, whence);
}

/* Returns the offset found (>= 0), or -ENOENT to keep walking. */
static loff_t iomap_seek_hole_step(const struct iomap_iter *iter)
{
	uint64_t len = iomap_length(iter);

	switch (iter->iomap.type) {
	case IOMAP_HOLE:
		return iter->pos;
	case IOMAP_UNWRITTEN:
		return iomap_seek_cache(iter, len, SEEK_HOLE);
	default:
		return -ENOENT;
	}
}

static loff_t iomap_seek_data_step(const struct iomap_iter *iter)
{
	uint64_t len = iomap_length(iter);

	switch (iter->iomap.type) {
	case IOMAP_HOLE:
		return -ENOENT;
	case IOMAP_UNWRITTEN:
		return iomap_seek_cache(iter, len, SEEK_DATA);
	default:
		return iter->pos;
	}
}

/*
 * Walk [offset, EOF) until @step finds something.  Returns the offset
 * found, @at_eof when the walk reaches EOF, or a negative errno.
 */
static loff_t iomap_seek(struct iomap_inode *inode, loff_t offset,
			 const struct iomap_source *src,
			 loff_t (*step)(const struct iomap_iter *iter),
			 loff_t at_eof)
{
	struct iomap_iter iter = {
		.inode = inode,
		.pos = offset,
		.flags = IOMAP_REPORT,
	};
	loff_t found = -ENOENT;
	int ret;

	if (offset < 0 || offset >= inode->size)
		return -ENXIO;
	iter.len = (uint64_t)(inode->size - offset);
	while ((ret = iomap_iter_source(&iter, src)) > 0) {
		found = step(&iter);
		if (found >= 0 || found != -ENOENT) {
			iter.status = found >= 0 ? 0 : (int)found;
			continue; /* no progress ends the walk */
		}
		iter.status = iomap_iter_advance(&iter, iomap_length(&iter));
	}
	if (ret < 0)
		return ret;
	return found == -ENOENT ? at_eof : found;
}

loff_t iomap_seek_source(struct iomap_inode *inode, loff_t offset, int whence,
			 const struct iomap_source *src)
{
	if (whence == SEEK_DATA)
		return iomap_seek(inode, offset, src, iomap_seek_data_step,
				  -ENXIO);
	/* The implicit hole at EOF. */
	return iomap_seek(inode, offset, src, iomap_seek_hole_step,
			  inode->size);
}

loff_t iomap_seek_hole(struct iomap_inode *inode, loff_t offset,
		       const struct iomap_ops *ops)
{
	struct iomap_source src = { .mapper = IOMAP_MAPPER_IOMAP, .ops = ops };

	return iomap_seek_source(inode, offset, SEEK_HOLE, &src);
}

loff_t iomap_seek_data(struct iomap_inode *inode, loff_t offset,
		       const struct iomap_ops *ops)
{
	struct iomap_source src = { .mapper = IOMAP_MAPPER_IOMAP, .ops = ops };

	return iomap_seek_source(inode, offset, SEEK_DATA, &src);
}
