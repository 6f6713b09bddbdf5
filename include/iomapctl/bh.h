/* SPDX-License-Identifier: GPL-2.0 */
/* bh.h - buffer heads: per-block mapping state, the bh mapping source. */
#ifndef IOMAPCTL_BH_H
#define IOMAPCTL_BH_H

#include "iomapctl/iomap.h"

/* Buffer-head state bits (struct iomap_bh.state). */
#define IOMAP_BH_MAPPED (1U << 0) /* @blocknr is valid */
#define IOMAP_BH_NEW (1U << 1) /* freshly allocated: must be initialised */
#define IOMAP_BH_UNWRITTEN (1U << 2) /* allocated, reads as zeros */
#define IOMAP_BH_BOUNDARY (1U << 3) /* a physical discontinuity follows */
#define IOMAP_BH_DELAY (1U << 4) /* delayed allocation, no @blocknr */
#define IOMAP_BH_UPTODATE (1U << 5) /* @data holds the block's bytes */
#define IOMAP_BH_DIRTY (1U << 6) /* @data must be written back */
#define IOMAP_BH_SHARED \
	(1U << 7) /* shared with another file (reflink): never written in
		   * place, so never remembered on a folio */

/**
 * struct iomap_bh - one filesystem block, as the kernel's buffer_head.
 * @blocknr:	physical block number, valid when IOMAP_BH_MAPPED.
 * @size:	bytes; on entry to get_block what the caller wants, on return
 *		what is contiguous (get_block may shrink it, never grow it);
 *		for a hole, how far the hole goes: fiemap past EOF asks for
 *		the rest of the range and relies on it to end.
 * @state:	IOMAP_BH_* bits.
 * @data:	the block's bytes in memory, when attached to a folio.
 * @inline_data: for an inline-data file, where the bytes of the block are.
 */
struct iomap_bh {
	uint64_t blocknr;
	uint64_t size;
	unsigned int state;
	void *data;
	const void *inline_data;
};

/**
 * iomap_bh_to_iomap() - the one translation of buffer-head state into a
 * mapping: the block at @pos as a one-block mapping flagged
 * IOMAP_F_BUFFER_HEAD | IOMAP_F_BOUNDARY (NEW becomes IOMAP_F_NEW).
 * inline data -> INLINE (ending at EOF), DELAY -> DELALLOC, UNWRITTEN ->
 * UNWRITTEN (allocated, with or without MAPPED), MAPPED -> MAPPED, else
 * HOLE.
 */
void iomap_bh_to_iomap(const struct iomap_inode *inode, loff_t pos,
		       const struct iomap_bh *bh, struct iomap *m);

/*
 * The report operations through the bh mapper: iomap_fiemap_source(),
 * iomap_seek_source() and iomap_bmap_source() with one get_block per
 * block.
 */
int iomap_bh_fiemap(struct iomap_inode *inode, struct iomap_fiemap_info *fi,
		    loff_t start, uint64_t len, iomap_get_block_t get_block);
loff_t iomap_bh_seek_data(struct iomap_inode *inode, loff_t offset,
			  iomap_get_block_t get_block);
loff_t iomap_bh_seek_hole(struct iomap_inode *inode, loff_t offset,
			  iomap_get_block_t get_block);
uint64_t iomap_bh_bmap(struct iomap_inode *inode, uint64_t bno,
		       iomap_get_block_t get_block);

#endif /* IOMAPCTL_BH_H */
