// SPDX-License-Identifier: GPL-2.0
/* memfs.c - the table-driven in-memory filesystem of the engine tests. */
#include <errno.h>
#include <string.h>

#include <criterion/criterion.h>

#include "memfs.h"

void memfs_init(struct memfs *fs, unsigned int blkbits, loff_t size,
		const struct memfs_extent *table, int n)
{
	cr_assert(n <= MEMFS_MAX_EXTENTS);
	memset(fs, 0, sizeof(*fs));
	fs->inode.ino = 12;
	fs->inode.size = size;
	fs->inode.blkbits = blkbits;
	fs->inode.stats = &fs->stats;
	if (n)
		memcpy(fs->ext, table, sizeof(*table) * (size_t)n);
	fs->nr = n;
	fs->next_alloc = 1ULL << 30;
	for (int i = 0; i < (int)sizeof(fs->inline_data); i++)
		fs->inline_data[i] = (uint8_t)('a' + i % 26);
}

void memfs_enable_cache(struct memfs *fs)
{
	cr_assert_eq(iomap_cache_init(&fs->cache, fs->inode.blkbits), 0);
	fs->inode.cache = &fs->cache;
}

void memfs_destroy(struct memfs *fs)
{
	if (fs->inode.cache)
		iomap_cache_destroy(&fs->cache);
}

/* Index of the first extent ending after @pos. */
static int memfs_find(const struct memfs *fs, loff_t pos)
{
	int i = 0;

	while (i < fs->nr &&
	       fs->ext[i].offset + (loff_t)fs->ext[i].length <= pos)
		i++;
	return i;
}

/* Allocate [pos, pos + len) as one new extent from the bump allocator. */
static int memfs_alloc(struct memfs *fs, int at, loff_t pos, uint64_t len,
		       uint16_t type)
{
	if (fs->nr == MEMFS_MAX_EXTENTS)
		return -ENOSPC;
	memmove(&fs->ext[at + 1], &fs->ext[at],
		sizeof(fs->ext[0]) * (size_t)(fs->nr - at));
	fs->ext[at] = (struct memfs_extent){ .offset = pos, .length = len,
					     .type = type,
					     .flags = IOMAP_F_NEW,
					     .addr = fs->next_alloc };
	fs->next_alloc += len;
	fs->nr++;
	return 0;
}

static void memfs_record(struct memfs_call *calls, int *nr, loff_t pos,
			 loff_t length, ssize_t written, unsigned int flags)
{
	if (*nr < MEMFS_MAX_CALLS)
		calls[*nr] = (struct memfs_call){ pos, length, written, flags };
	(*nr)++;
}

/* Fill @m from extent @i, or with the hole before it. */
static void memfs_fill(const struct memfs *fs, int i, loff_t pos,
		       loff_t length, struct iomap *m)
{
	const struct memfs_extent *e = i < fs->nr ? &fs->ext[i] : NULL;

	if (e && e->offset <= pos) {
		m->offset = e->offset;
		m->length = e->length;
		m->type = e->type;
		m->flags = e->flags;
		m->addr = e->addr;
		if (e->type == IOMAP_INLINE)
			m->inline_data = (void *)fs->inline_data;
		return;
	}
	/* A hole from the end of the previous extent to the next one. */
	m->offset = i > 0 ? fs->ext[i - 1].offset +
				    (loff_t)fs->ext[i - 1].length :
			    0;
	m->length = (uint64_t)((e ? e->offset : pos + length) - m->offset);
	m->type = IOMAP_HOLE;
	m->addr = IOMAP_NULL_ADDR;
}

/* Cut @m to the max_map-aligned piece holding pos, as a filesystem with
 * small allocation units would. */
static void memfs_trim(const struct memfs *fs, loff_t pos, struct iomap *m)
{
	loff_t start, end;

	if (!fs->max_map)
		return;
	start = pos - pos % (loff_t)fs->max_map;
	if (start < m->offset)
		start = m->offset;
	end = start + (loff_t)fs->max_map;
	if (end > m->offset + (loff_t)m->length)
		end = m->offset + (loff_t)m->length;
	if (m->addr != IOMAP_NULL_ADDR)
		m->addr += (uint64_t)(start - m->offset);
	if (m->inline_data)
		m->inline_data = (char *)m->inline_data + (start - m->offset);
	m->offset = start;
	m->length = (uint64_t)(end - start);
}

static int memfs_iomap_begin(struct iomap_inode *inode, loff_t pos,
			     loff_t length, unsigned int flags,
			     struct iomap *iomap, struct iomap *srcmap)
{
	struct memfs *fs = memfs_of(inode);
	int i = memfs_find(fs, pos);

	(void)srcmap;
	memfs_record(fs->begins, &fs->nr_begin, pos, length, 0, flags);
	if (fs->begin_error && pos >= fs->error_at)
		return fs->begin_error;
	if ((flags & IOMAP_WRITE) &&
	    (i == fs->nr || fs->ext[i].offset > pos)) {
		loff_t end = pos + length;
		uint64_t len;
		int ret;

		if (i < fs->nr && fs->ext[i].offset < end)
			end = fs->ext[i].offset;
		len = (uint64_t)(end - pos);
		ret = memfs_alloc(fs, i, pos, len,
				  (flags & IOMAP_DIRECT) ? IOMAP_UNWRITTEN :
							   IOMAP_MAPPED);
		if (ret)
			return ret;
	}
	memfs_fill(fs, i, pos, length, iomap);
	memfs_trim(fs, pos, iomap);
	if (fs->bad_offset)
		iomap->offset = fs->bad_offset;
	if (fs->bad_length)
		iomap->length = fs->bad_length;
	return 0;
}

static int memfs_iomap_end(struct iomap_inode *inode, loff_t pos,
			   loff_t length, ssize_t written, unsigned int flags,
			   struct iomap *iomap)
{
	struct memfs *fs = memfs_of(inode);

	(void)iomap;
	memfs_record(fs->ends, &fs->nr_end, pos, length, written, flags);
	if (fs->end_error && pos >= fs->error_at)
		return fs->end_error;
	return 0;
}

const struct iomap_ops memfs_ops = {
	.iomap_begin = memfs_iomap_begin,
	.iomap_end = memfs_iomap_end,
};

int memfs_get_block(struct iomap_inode *inode, uint64_t iblock,
		    struct iomap_bh *bh, int create)
{
	struct memfs *fs = memfs_of(inode);
	loff_t pos = (loff_t)(iblock << inode->blkbits);
	int i = memfs_find(fs, pos);
	const struct memfs_extent *e = i < fs->nr ? &fs->ext[i] : NULL;

	(void)create;
	fs->nr_get_block++;
	if (fs->begin_error && pos >= fs->error_at)
		return fs->begin_error;
	bh->state = 0;
	if (!e || e->offset > pos)
		return 0;
	switch (e->type) {
	case IOMAP_INLINE:
		bh->inline_data = fs->inline_data + (pos - e->offset);
		break;
	case IOMAP_DELALLOC:
		bh->state = IOMAP_BH_DELAY | IOMAP_BH_MAPPED;
		break;
	case IOMAP_UNWRITTEN:
		bh->state = IOMAP_BH_UNWRITTEN;
		/* fall through */
	case IOMAP_MAPPED:
		bh->state |= IOMAP_BH_MAPPED;
		bh->blocknr = (e->addr + (uint64_t)(pos - e->offset)) >>
			      inode->blkbits;
		break;
	}
	return 0;
}
