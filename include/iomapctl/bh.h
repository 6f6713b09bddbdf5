/* SPDX-License-Identifier: GPL-2.0 */
/* bh.h - the buffer-head emulation: the same work, one block at a time. */
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
 * typedef iomap_get_block_t - map one block (the kernel's get_block_t).
 * @iblock:	logical block number, in filesystem blocks.
 * @bh:		in: @bh->size is what the caller wants; out: the mapping.
 * @create:	allocate if unmapped.
 * Returns 0 or a negative errno.  A hole leaves IOMAP_BH_MAPPED clear.
 */
typedef int (*iomap_get_block_t)(struct iomap_inode *inode, uint64_t iblock,
				 struct iomap_bh *bh, int create);

/**
 * typedef iomap_bh_actor_t - work on one mapped (or unmapped) block.
 * @pos:	file offset of the block.
 * Returns 0 to go on, 1 to stop early without error, or a negative errno.
 */
typedef int (*iomap_bh_actor_t)(struct iomap_inode *inode, loff_t pos,
				struct iomap_bh *bh, void *priv);

/**
 * iomap_bh_walk() - the generic block-at-a-time loop.
 * Calls @get_block once per block of [@pos, @pos + @len) (rounded out to
 * blocks), each time asking for one block, and @actor with the result.
 * Every call is counted in @inode->stats->map_calls.
 * Returns 0 or the first negative errno.
 */
int iomap_bh_walk(struct iomap_inode *inode, loff_t pos, uint64_t len,
		  int create, iomap_get_block_t get_block,
		  iomap_bh_actor_t actor, void *priv);

/* The buffer-head versions of the report operations, for comparison. */
int iomap_bh_fiemap(struct iomap_inode *inode, struct iomap_fiemap_info *fi,
		    loff_t start, uint64_t len, iomap_get_block_t get_block);
loff_t iomap_bh_seek_data(struct iomap_inode *inode, loff_t offset,
			  iomap_get_block_t get_block);
loff_t iomap_bh_seek_hole(struct iomap_inode *inode, loff_t offset,
			  iomap_get_block_t get_block);
uint64_t iomap_bh_bmap(struct iomap_inode *inode, uint64_t bno,
		       iomap_get_block_t get_block);

#endif /* IOMAPCTL_BH_H */
