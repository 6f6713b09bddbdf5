/* SPDX-License-Identifier: GPL-2.0 */
/* iomap.h - the userspace iomap model: mappings, ops tables and the iterator. */
#ifndef IOMAPCTL_IOMAP_H
#define IOMAPCTL_IOMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "iomapctl/stats.h"

/*
 * Mapping types (struct iomap.type), with the kernel's values so traces and
 * test tables read the same as fs/iomap.
 */
#define IOMAP_HOLE 0 /* no blocks allocated, need allocation */
#define IOMAP_DELALLOC 1 /* delayed allocation blocks */
#define IOMAP_MAPPED 2 /* blocks allocated at @addr */
#define IOMAP_UNWRITTEN 3 /* blocks allocated at @addr in unwritten state */
#define IOMAP_INLINE 4 /* data inline in the inode, at @inline_data */
#define IOMAP_TYPE_COUNT 5

/* iomap.addr for mappings with no disk address (HOLE, DELALLOC, INLINE). */
#define IOMAP_NULL_ADDR UINT64_MAX

/*
 * Mapping flags (struct iomap.flags).  Bits 0-11 are set by the filesystem
 * in ->iomap_begin, bits 12-13 are reserved for the filesystem's private use,
 * bits 14-15 are set by the engine and seen by ->iomap_end.  The engine keeps
 * its own numbering: the kernel moved the core bits between releases.
 */
#define IOMAP_F_NEW \
	(1U << 0) /* blocks newly allocated: zero what is not written */
#define IOMAP_F_DIRTY (1U << 1) /* metadata to reach the data is uncommitted */
#define IOMAP_F_SHARED (1U << 2) /* blocks shared with another file (COW) */
#define IOMAP_F_MERGED \
	(1U << 3) /* merges several block mappings (fiemap only) */
#define IOMAP_F_BUFFER_HEAD (1U << 4) /* use the buffer-head emulation */
#define IOMAP_F_XATTR (1U << 5) /* mapping is an xattr extent (fiemap only) */
#define IOMAP_F_BOUNDARY \
	(1U << 6) /* never merge I/O with the previous mapping */
#define IOMAP_F_PRIVATE (1U << 12) /* first of the filesystem-private bits */
#define IOMAP_F_SIZE_CHANGED (1U << 14) /* engine: a write extended the size */
#define IOMAP_F_STALE (1U << 15) /* engine: mapping failed revalidation */

/* Operation flags, passed to ->iomap_begin and ->iomap_end.  No flag = read. */
#define IOMAP_WRITE \
	(1U << 0) /* writing: must allocate or reserve, never HOLE */
#define IOMAP_ZERO (1U << 1) /* zeroing: holes may be returned */
#define IOMAP_REPORT (1U << 2) /* fiemap, seek, bmap: report only */
#define IOMAP_FAULT (1U << 3) /* mapping for a page fault */
#define IOMAP_DIRECT (1U << 4) /* direct I/O */
#define IOMAP_NOWAIT (1U << 5) /* do not block */
#define IOMAP_OVERWRITE_ONLY (1U << 6) /* only pure overwrites allowed */
#define IOMAP_UNSHARE (1U << 7) /* unshare a shared (reflinked) range */
#define IOMAP_DAX (1U << 8) /* DAX mapping */

struct iomap_cache;

/**
 * struct iomap_inode - the engine's view of one file.
 * @ino:	inode number, for messages and caches.
 * @size:	i_size in bytes.
 * @blkbits:	log2 of the filesystem block size.
 * @stats:	statistics record the engine adds to; never NULL.
 * @cache:	page cache of this file, or NULL when it has none (see
 *		pagecache.h); seek consults it inside unwritten extents.
 *
 * Filesystems embed it in their own inode and use container_of().
 */
struct iomap_inode {
	uint64_t ino;
	loff_t size;
	unsigned int blkbits;
	struct iomap_stats *stats;
	struct iomap_cache *cache;
};

/**
 * struct iomap - one extent of a file, as the filesystem describes it.
 * @addr:	disk byte address of @offset, or IOMAP_NULL_ADDR.
 * @offset:	file byte offset where the mapping starts.
 * @length:	length of the mapping in bytes; never 0.
 * @type:	IOMAP_HOLE ... IOMAP_INLINE.
 * @flags:	IOMAP_F_* flags.
 * @inline_data: data of an IOMAP_INLINE mapping (for file offset @offset).
 * @private:	filesystem-private, handed back unchanged to ->iomap_end.
 * @validity_cookie: filesystem-chosen sequence number for revalidation.
 */
struct iomap {
	uint64_t addr;
	loff_t offset;
	uint64_t length;
	uint16_t type;
	uint16_t flags;
	void *inline_data;
	void *private;
	uint64_t validity_cookie;
};

/**
 * struct iomap_ops - how a filesystem maps a file for one operation.
 * @iomap_begin: Required.  Map [@pos, @pos + @length) for the operation in
 *	@flags.  Fill @iomap with a mapping that starts at or before @pos and
 *	covers at least the byte at @pos; it may be shorter than asked.  For a
 *	copy-on-write, fill @srcmap with where the old data is read from and
 *	@iomap with where it goes (srcmap is preset to a HOLE meaning "none").
 *	Returns 0 or a negative errno; ->iomap_end is not called on error.
 * @iomap_end: Optional.  Called after each mapping with the length that was
 *	mapped (trimmed to the request) and the bytes actually @written, so a
 *	filesystem can release what was reserved and not used.  Returns 0 or a
 *	negative errno.
 * @iomap_valid: Optional.  Called by the buffered write and zero paths after
 *	each folio is grabbed (and before it is read, zeroed or copied into)
 *	to ask whether @iomap, as ->iomap_begin returned it, still describes
 *	the file: typically by comparing @iomap->validity_cookie with the
 *	inode's extent-map sequence number.  Returns false when the mapping
 *	changed meanwhile (writeback allocated, truncate or punch ran); the
 *	engine then sets IOMAP_F_STALE, makes no progress in that folio, and
 *	iomap_iter() calls ->iomap_end and ->iomap_begin again at the same
 *	position.  NULL means mappings never go stale.
 */
struct iomap_ops {
	int (*iomap_begin)(struct iomap_inode *inode, loff_t pos, loff_t length,
			   unsigned int flags, struct iomap *iomap,
			   struct iomap *srcmap);
	int (*iomap_end)(struct iomap_inode *inode, loff_t pos, loff_t length,
			 ssize_t written, unsigned int flags,
			 struct iomap *iomap);
	bool (*iomap_valid)(struct iomap_inode *inode,
			    const struct iomap *iomap);
};

/**
 * struct iomap_iter - a caller-owned walk over a file range.
 * @inode:	the file.
 * @pos:	current position; the body must not change it.
 * @len:	bytes left to process.
 * @iter_start_pos: position where the current mapping's work started.
 * @status:	set by the body: 0 to continue, a negative errno to stop.
 * @flags:	IOMAP_* operation flags.
 * @iomap:	the current mapping.
 * @srcmap:	where to read old data from on copy-on-write; HOLE if none.
 * @private:	for the caller of iomap_iter().
 *
 * Usage:
 *	while ((ret = iomap_iter(&iter, ops)) > 0)
 *		iter.status = body(&iter);	(body calls iomap_iter_advance)
 */
struct iomap_iter {
	struct iomap_inode *inode;
	loff_t pos;
	uint64_t len;
	loff_t iter_start_pos;
	int status;
	unsigned int flags;
	struct iomap iomap;
	struct iomap srcmap;
	void *private;
};

struct iomap_bh;

/**
 * typedef iomap_get_block_t - map one block (the kernel's get_block_t).
 * @iblock:	logical block number, in filesystem blocks.
 * @bh:		in: @bh->size is what the caller wants; out: the mapping.
 * @create:	allocate if unmapped.
 * Returns 0 or a negative errno.  A hole leaves IOMAP_BH_MAPPED clear.
 */
typedef int (*iomap_get_block_t)(struct iomap_inode *inode, uint64_t iblock,
				 struct iomap_bh *bh, int create);

/*
 * Mappers: where the mappings of an operation come from.  Every one feeds
 * the same iomap_iter() loop of each path; only the cost differs.
 */
enum iomap_mapper {
	IOMAP_MAPPER_IOMAP = 0, /* one ->iomap_begin per extent */
	IOMAP_MAPPER_BH, /* one get_block per block, one-block mappings */
	IOMAP_MAPPER_HYBRID, /* extents from ->iomap_begin, per-block state
			      * in buffer heads on the folios
			      * (IOMAP_F_BUFFER_HEAD, as gfs2 and ext4) */
	IOMAP_MAPPER_COUNT
};

/*
 * The operations a filesystem converts from buffer heads to iomap one at a
 * time, in XFS's order (the values are that order).
 */
enum iomap_op {
	IOMAP_OP_XATTR = 0, /* FIEMAP_FLAG_XATTR */
	IOMAP_OP_REPORT, /* fiemap, seek, bmap */
	IOMAP_OP_DIRECT, /* direct reads and writes */
	IOMAP_OP_WRITE, /* buffered write, zero, truncate page, writeback */
	IOMAP_OP_READ, /* buffered read and readahead */
	IOMAP_OP_DAX, /* DAX reads, writes and zeroing */
	IOMAP_OP_COUNT
};

/* "iomap", "bh", "hybrid"; NULL when out of range. */
const char *iomap_mapper_name(enum iomap_mapper mapper);
/* "xattr", "report", "direct", "write", "read", "dax"; NULL out of range. */
const char *iomap_op_name(enum iomap_op op);

/**
 * struct iomap_source - a mapping source: the mapper of one operation and
 * the filesystem's tables it calls.
 * @mapper:	IOMAP_MAPPER_*.
 * @ops:	iomap and hybrid: the table of the operation.  bh: used only
 *		when @get_block is NULL (xattr), asked one block per call.
 * @get_block:	bh: called once per block not already mapped in the
 *		folio's buffer heads.
 */
struct iomap_source {
	enum iomap_mapper mapper;
	const struct iomap_ops *ops;
	iomap_get_block_t get_block;
};

/**
 * iomap_iter() - advance to the next mapping.
 * Returns 1 when a new mapping is in @iter, 0 when the range is done, or a
 * negative errno (from ->iomap_begin, ->iomap_end, the body, or -EIO for a
 * mapping that breaks the contract, -EINVAL for a range that overflows).
 */
int iomap_iter(struct iomap_iter *iter, const struct iomap_ops *ops);

/**
 * iomap_iter_advance() - record that the body processed @count bytes.
 * Returns 0, or -EIO if @count runs past the current mapping.
 */
int iomap_iter_advance(struct iomap_iter *iter, uint64_t count);

/**
 * iomap_iter_source() - iomap_iter() with mappings from @src: the
 * filesystem's ->iomap_begin (iomap; hybrid adds IOMAP_F_BUFFER_HEAD) or
 * one get_block per block (bh: one-block mappings flagged
 * IOMAP_F_BUFFER_HEAD | IOMAP_F_BOUNDARY, a buffer head already mapped in
 * a cached folio answering without a call).  Same returns as iomap_iter().
 */
int iomap_iter_source(struct iomap_iter *iter, const struct iomap_source *src);

/* Bytes of the current mapping left in the request (trimmed to @srcmap). */
uint64_t iomap_length(const struct iomap_iter *iter);

/* The mapping to read old data from: @srcmap for COW, else @iomap. */
static inline const struct iomap *
iomap_iter_srcmap(const struct iomap_iter *iter)
{
	if (iter->srcmap.type != IOMAP_HOLE)
		return &iter->srcmap;
	return &iter->iomap;
}

/* Disk byte address of file position @pos inside @iomap. */
static inline uint64_t iomap_addr(const struct iomap *iomap, loff_t pos)
{
	return iomap->addr + (uint64_t)(pos - iomap->offset);
}

static inline unsigned int iomap_blocksize(const struct iomap_inode *inode)
{
	return 1U << inode->blkbits;
}

/* Names for messages and output: "MAPPED", "NEW,SHARED", ... */
const char *iomap_type_name(unsigned int type);
/* Writes the comma-separated names of @flags into @buf; returns @buf. */
char *iomap_flags_names(unsigned int flags, char *buf, size_t size);

/* ---- operations that need no data I/O (fiemap.c, seek.c) ---- */

struct fiemap_extent;

/**
 * struct iomap_fiemap_info - one FIEMAP request, as the kernel's
 * fiemap_extent_info.
 * @fi_flags:	FIEMAP_FLAG_* asked; on -EBADR, set to the unsupported ones.
 * @fi_extents_mapped: extents filled (or counted when @fi_extents_max is 0).
 * @fi_extents_max: size of @fi_extents_start; 0 asks for a count only.
 * @fi_extents_start: the array to fill.
 */
struct iomap_fiemap_info {
	uint32_t fi_flags;
	uint32_t fi_extents_mapped;
	uint32_t fi_extents_max;
	struct fiemap_extent *fi_extents_start;
};

/**
 * iomap_fiemap() - report the extents of [@start, @start + @len).
 * @supported: FIEMAP_FLAG_* the caller handles besides SYNC (e.g. XATTR
 *	when @ops maps the xattr block).
 * Holes are skipped, each other mapping becomes one extent, the last one
 * carries FIEMAP_EXTENT_LAST.  Returns 0, -EINVAL for @len 0, -EFBIG past
 * the maximum file size, -EBADR for unsupported flags, or the mapping error.
 */
int iomap_fiemap(struct iomap_inode *inode, struct iomap_fiemap_info *fi,
		 loff_t start, uint64_t len, uint32_t supported,
		 const struct iomap_ops *ops);

/* Kernel's fiemap_fill_next_extent(): 1 when the walk should stop. */
int iomap_fiemap_fill_next_extent(struct iomap_fiemap_info *fi,
				  uint64_t logical, uint64_t phys, uint64_t len,
				  uint32_t flags);

/* FIEMAP_EXTENT_* flags for a mapping, as fs/iomap/fiemap.c sets them. */
uint32_t iomap_to_fiemap_flags(const struct iomap *iomap);

/*
 * iomap_fiemap() with mappings from @src; with the bh mapper physically
 * contiguous blocks of one kind merge into one extent flagged MERGED, as
 * generic_block_fiemap() reported them.
 */
int iomap_fiemap_source(struct iomap_inode *inode, struct iomap_fiemap_info *fi,
			loff_t start, uint64_t len, uint32_t supported,
			const struct iomap_source *src);

/**
 * iomap_seek_data(), iomap_seek_hole() - SEEK_DATA / SEEK_HOLE.
 * Return the offset found, or -ENXIO when @offset is negative or at or past
 * EOF, or when no data follows @offset, or another negative errno.
 */
loff_t iomap_seek_data(struct iomap_inode *inode, loff_t offset,
		       const struct iomap_ops *ops);
loff_t iomap_seek_hole(struct iomap_inode *inode, loff_t offset,
		       const struct iomap_ops *ops);

loff_t iomap_seek_source(struct iomap_inode *inode, loff_t offset, int whence,
			 const struct iomap_source *src);

/**
 * iomap_bmap() - physical block of logical block @bno.
 * Returns the block number for a MAPPED block, 0 for anything else
 * (hole, unwritten, delalloc, inline, or an error), as the kernel does.
 */
uint64_t iomap_bmap(struct iomap_inode *inode, uint64_t bno,
		    const struct iomap_ops *ops);
uint64_t iomap_bmap_source(struct iomap_inode *inode, uint64_t bno,
			   const struct iomap_source *src);

#endif /* IOMAPCTL_IOMAP_H */
