// SPDX-License-Identifier: GPL-2.0
/* memfs.c - the table-driven in-memory filesystem of the engine tests. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
	fs->seq++;
	return 0;
}

void memfs_set_backed(struct memfs *fs, uint64_t alloc_start)
{
	fs->backed = true;
	fs->next_alloc = alloc_start;
}

/* Backed mode allocates whole blocks, never past the next extent. */
static void memfs_alloc_range(const struct memfs *fs, int i, loff_t *pos,
			      loff_t *end)
{
	loff_t bmask = ((loff_t)1 << fs->inode.blkbits) - 1;

	if (!fs->backed)
		return;
	*pos &= ~bmask;
	*end = (*end + bmask) & ~bmask;
	if (i < fs->nr && fs->ext[i].offset < *end)
		*end = fs->ext[i].offset;
}

static int memfs_split(struct memfs *fs, loff_t pos);

/*
 * Backed mode: a DAX write into an unwritten extent gets written blocks it
 * may store to (the kernel's filesystems zero them at allocation; here the
 * engine zeroes the edges it does not write because they are NEW).
 */
static int memfs_dax_convert(struct memfs *fs, loff_t pos, loff_t length)
{
	loff_t bmask = ((loff_t)1 << fs->inode.blkbits) - 1;
	int i = memfs_find(fs, pos);
	int ret;

	if (i == fs->nr || fs->ext[i].offset > pos ||
	    fs->ext[i].type != IOMAP_UNWRITTEN)
		return 0;
	ret = memfs_split(fs, pos & ~bmask);
	if (!ret)
		ret = memfs_split(fs, (pos + length + bmask) & ~bmask);
	if (ret)
		return ret;
	i = memfs_find(fs, pos);
	fs->ext[i].type = IOMAP_MAPPED;
	fs->ext[i].flags |= IOMAP_F_NEW;
	fs->seq++;
	return 0;
}

static void memfs_record(struct memfs_call *calls, int *nr, loff_t pos,
			 loff_t length, ssize_t written, unsigned int flags)
{
	if (*nr < MEMFS_MAX_CALLS)
		calls[*nr] =
			(struct memfs_call){ pos, length, written, flags, 0 };
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

/*
 * Writes under NOWAIT or OVERWRITE_ONLY may not allocate (a real
 * filesystem would block on its allocator); OVERWRITE_ONLY also needs the
 * whole range in the extent at @pos, as XFS refuses anything else.
 */
static bool memfs_would_block(const struct memfs *fs, int i, loff_t pos,
			      loff_t length, unsigned int flags)
{
	const struct memfs_extent *e = i < fs->nr ? &fs->ext[i] : NULL;
	bool hole = !e || e->offset > pos;

	if (!(flags & IOMAP_WRITE))
		return false;
	if ((flags & (IOMAP_NOWAIT | IOMAP_OVERWRITE_ONLY)) && hole)
		return true;
	if (!(flags & IOMAP_OVERWRITE_ONLY))
		return false;
	return e->type == IOMAP_DELALLOC ||
	       e->offset + (loff_t)e->length < pos + length;
}

static int memfs_iomap_begin(struct iomap_inode *inode, loff_t pos,
			     loff_t length, unsigned int flags,
			     struct iomap *iomap, struct iomap *srcmap)
{
	struct memfs *fs = memfs_of(inode);
	int i = memfs_find(fs, pos);

	(void)srcmap;
	if (fs->on_map)
		fs->on_map(fs);
	memfs_record(fs->begins, &fs->nr_begin, pos, length, 0, flags);
	if (fs->begin_error && pos >= fs->error_at)
		return fs->begin_error;
	if (memfs_would_block(fs, i, pos, length, flags))
		return -EAGAIN;
	if ((flags & IOMAP_WRITE) &&
	    (i == fs->nr || fs->ext[i].offset > pos)) {
		loff_t end = pos + length;
		uint64_t len;
		int ret;

		if (i < fs->nr && fs->ext[i].offset < end)
			end = fs->ext[i].offset;
		memfs_alloc_range(fs, i, &pos, &end);
		len = (uint64_t)(end - pos);
		ret = memfs_alloc(fs, i, pos, len,
				  (flags & IOMAP_DIRECT) ? IOMAP_UNWRITTEN :
							   IOMAP_MAPPED);
		if (ret)
			return ret;
	}
	if (fs->backed && (flags & IOMAP_DAX) && (flags & IOMAP_WRITE)) {
		int ret = memfs_dax_convert(fs, pos, length);

		if (ret)
			return ret;
		i = memfs_find(fs, pos);
	}
	memfs_fill(fs, i, pos, length, iomap);
	iomap->validity_cookie = fs->seq;
	/* A real filesystem says NEW only to the call that allocated. */
	if (fs->backed && i < fs->nr)
		fs->ext[i].flags &= (uint16_t)~IOMAP_F_NEW;
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

	memfs_record(fs->ends, &fs->nr_end, pos, length, written, flags);
	if (fs->nr_end <= MEMFS_MAX_CALLS)
		fs->ends[fs->nr_end - 1].map_flags = iomap->flags;
	if (fs->end_error && pos >= fs->error_at)
		return fs->end_error;
	return 0;
}

static bool memfs_iomap_valid(struct iomap_inode *inode,
			      const struct iomap *iomap)
{
	struct memfs *fs = memfs_of(inode);

	if (++fs->nr_valid == fs->stale_at_valid)
		fs->seq++;
	if (iomap->validity_cookie == fs->seq)
		return true;
	fs->nr_stale++;
	return false;
}

const struct iomap_ops memfs_ops = {
	.iomap_begin = memfs_iomap_begin,
	.iomap_end = memfs_iomap_end,
	.iomap_valid = memfs_iomap_valid,
};

/* get_block(create) on a hole: one block, merged with its left neighbour. */
static int memfs_alloc_block(struct memfs *fs, int i, loff_t pos,
			     struct iomap_bh *bh)
{
	uint64_t bs = 1ULL << fs->inode.blkbits;
	struct memfs_extent *prev = i > 0 ? &fs->ext[i - 1] : NULL;

	if (prev && prev->type == IOMAP_MAPPED &&
	    prev->offset + (loff_t)prev->length == pos &&
	    prev->addr + prev->length == fs->next_alloc) {
		prev->length += bs;
		fs->next_alloc += bs;
	} else {
		int ret = memfs_alloc(fs, i, pos, bs, IOMAP_MAPPED);

		if (ret)
			return ret;
		fs->ext[i].flags = 0;
	}
	bh->state = IOMAP_BH_MAPPED | IOMAP_BH_NEW;
	bh->blocknr = (fs->next_alloc - bs) >> fs->inode.blkbits;
	return 0;
}

int memfs_get_block(struct iomap_inode *inode, uint64_t iblock,
		    struct iomap_bh *bh, int create)
{
	struct memfs *fs = memfs_of(inode);
	loff_t pos = (loff_t)(iblock << inode->blkbits);
	int i = memfs_find(fs, pos);
	const struct memfs_extent *e = i < fs->nr ? &fs->ext[i] : NULL;

	fs->nr_get_block++;
	if (fs->on_map)
		fs->on_map(fs);
	if (fs->begin_error && pos >= fs->error_at)
		return fs->begin_error;
	bh->state = 0;
	if ((!e || e->offset > pos) && create && fs->backed)
		return memfs_alloc_block(fs, i, pos, bh);
	if (!e || e->offset > pos)
		return 0;
	if (create && fs->backed && e->type == IOMAP_UNWRITTEN) {
		/* Written from now on, and NEW: the caller initialises it. */
		int ret = memfs_split(fs, pos);

		if (!ret)
			ret = memfs_split(fs, pos + (1 << inode->blkbits));
		if (ret)
			return ret;
		i = memfs_find(fs, pos);
		fs->ext[i].type = IOMAP_MAPPED;
		bh->state = IOMAP_BH_NEW;
		e = &fs->ext[i];
	}
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

/* Split the extent strictly containing @pos in two. */
static int memfs_split(struct memfs *fs, loff_t pos)
{
	int i = memfs_find(fs, pos);
	struct memfs_extent *e = &fs->ext[i];
	uint64_t head;

	if (i == fs->nr || e->offset >= pos)
		return 0;
	if (fs->nr == MEMFS_MAX_EXTENTS)
		return -ENOSPC;
	head = (uint64_t)(pos - e->offset);
	memmove(&fs->ext[i + 1], &fs->ext[i],
		sizeof(fs->ext[0]) * (size_t)(fs->nr - i));
	fs->nr++;
	fs->ext[i].length = head;
	fs->ext[i + 1].offset = pos;
	fs->ext[i + 1].length -= head;
	if (fs->ext[i + 1].addr != IOMAP_NULL_ADDR)
		fs->ext[i + 1].addr += head;
	return 0;
}

/* Unwritten extents of [pos, pos + len) become written. */
static int memfs_convert(struct memfs *fs, loff_t pos, uint64_t len)
{
	loff_t end = pos + (loff_t)len;
	int ret = memfs_split(fs, pos);

	if (!ret)
		ret = memfs_split(fs, end);
	if (ret)
		return ret;
	for (int i = memfs_find(fs, pos); i < fs->nr && fs->ext[i].offset < end;
	     i++) {
		if (fs->ext[i].type == IOMAP_UNWRITTEN) {
			fs->ext[i].type = IOMAP_MAPPED;
			fs->seq++;
		}
		fs->ext[i].flags &= (uint16_t)~IOMAP_F_NEW;
	}
	return 0;
}

static int memfs_end_io(struct iomap_inode *inode, loff_t pos, ssize_t size,
			int error, unsigned int dio_flags)
{
	struct memfs *fs = memfs_of(inode);
	loff_t bmask = ((loff_t)1 << inode->blkbits) - 1;
	loff_t from = pos & ~bmask, to = (pos + size + bmask) & ~bmask;

	fs->nr_end_io++;
	fs->end_io_pos = pos;
	fs->end_io_size = size;
	fs->end_io_flags = dio_flags;

	if (error || size <= 0 || !(dio_flags & IOMAP_DIO_UNWRITTEN))
		return 0;
	/* Whole blocks: the engine zeroed the parts it did not write. */
	return memfs_convert(fs, from, (uint64_t)(to - from));
}

const struct iomap_dio_ops memfs_dio_ops = {
	.end_io = memfs_end_io,
};

static int memfs_map_blocks(struct iomap_writepage_ctx *wpc,
			    struct iomap_inode *inode, loff_t offset,
			    uint64_t len)
{
	struct memfs *fs = memfs_of(inode);
	struct iomap srcmap = { .type = IOMAP_HOLE };
	int ret;

	fs->nr_map_blocks++;
	/* Writeback allocates what a delayed allocation promised. */
	ret = memfs_ops.iomap_begin(inode, offset, (loff_t)len, IOMAP_WRITE,
				    &wpc->iomap, &srcmap);
	return ret;
}

static int memfs_wb_submit(struct iomap_writepage_ctx *wpc,
			   const struct iomap_ioend *ioend, int status)
{
	struct memfs *fs = memfs_of(wpc->inode);

	fs->nr_wb_submit++;
	if (status || !(ioend->io_flags & IOMAP_IOEND_UNWRITTEN))
		return 0;
	return memfs_convert(fs, ioend->io_offset, ioend->io_size);
}

const struct iomap_writeback_ops memfs_writeback_ops = {
	.map_blocks = memfs_map_blocks,
	.submit = memfs_wb_submit,
};

const struct iomap_opset memfs_opset = {
	.read = &memfs_ops,
	.report = &memfs_ops,
	.buffered_write = &memfs_ops,
	.direct_write = &memfs_ops,
	.dax_write = &memfs_ops,
	.dio = &memfs_dio_ops,
	.writeback = &memfs_writeback_ops,
	.get_block = memfs_get_block,
};

uint8_t memfs_pattern_byte(loff_t pos, unsigned int seed)
{
	/* 1..127: never 0 (zeros) nor MEMFS_MARKER (stale data). */
	return (uint8_t)(((uint64_t)pos * 31 + seed * 17 +
			  (uint64_t)pos / 4093) %
				 127 +
			 1);
}

void memfs_pattern(uint8_t *buf, size_t len, loff_t pos, unsigned int seed)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = memfs_pattern_byte(pos + (loff_t)i, seed);
}

char *memfs_image_create(const char *dir, const char *name, uint64_t size)
{
	char *path;
	uint8_t *buf = malloc(1 << 16);
	int fd;

	cr_assert_not_null(buf);
	cr_assert(asprintf(&path, "%s/%s", dir, name) > 0);
	fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0644);
	cr_assert(fd >= 0, "create %s", path);
	memset(buf, MEMFS_MARKER, 1 << 16);
	for (uint64_t off = 0; off < size; off += 1 << 16)
		cr_assert_eq(pwrite(fd, buf, 1 << 16, (off_t)off), 1 << 16);
	cr_assert_eq(close(fd), 0);
	free(buf);
	return path;
}

void memfs_image_fill(const struct memfs *fs, const char *path,
		      unsigned int seed)
{
	int fd = open(path, O_WRONLY);

	cr_assert(fd >= 0);
	for (int i = 0; i < fs->nr; i++) {
		const struct memfs_extent *e = &fs->ext[i];
		uint8_t *buf;

		if (e->type != IOMAP_MAPPED && e->type != IOMAP_UNWRITTEN)
			continue;
		buf = malloc(e->length);
		cr_assert_not_null(buf);
		/* Unwritten extents hold old bytes that must never show. */
		if (e->type == IOMAP_UNWRITTEN)
			memset(buf, MEMFS_MARKER, e->length);
		else
			memfs_pattern(buf, e->length, e->offset, seed);
		cr_assert_eq(pwrite(fd, buf, e->length, (off_t)e->addr),
			     (ssize_t)e->length);
		free(buf);
	}
	cr_assert_eq(close(fd), 0);
}

void memfs_expected(const struct memfs *fs, uint8_t *buf, unsigned int seed)
{
	memset(buf, 0, (size_t)fs->inode.size);
	for (int i = 0; i < fs->nr; i++) {
		const struct memfs_extent *e = &fs->ext[i];
		loff_t end = e->offset + (loff_t)e->length;

		if (e->type != IOMAP_MAPPED || e->offset >= fs->inode.size)
			continue;
		if (end > fs->inode.size)
			end = fs->inode.size;
		memfs_pattern(buf + e->offset, (size_t)(end - e->offset),
			      e->offset, seed);
	}
}
