// SPDX-License-Identifier: GPL-2.0
/* maploop.c - the engine's own cost per mapping: fiemap of a 1 GiB file
 * of 262,144 one-block extents through each mapper, with a mapping source
 * that answers at once, so what is timed is the loop, not a filesystem. */
#include <stdio.h>
#include <stdlib.h>
#include <linux/fiemap.h>

#include "iomapctl/bh.h"
#include "iomapctl/iomap.h"

#define FILE_BYTES (1LL << 30)
#define BATCH 64 /* extents per fiemap call, as the commands ask */
#define RUNS 5 /* the best of: other load only ever adds time */

/* Every block its own extent: physically every other block. */
static int one_block_begin(struct iomap_inode *inode, loff_t pos,
			   loff_t length, unsigned int flags, struct iomap *m,
			   struct iomap *srcmap)
{
	(void)length;
	(void)flags;
	(void)srcmap;
	m->offset = pos & ~(loff_t)(iomap_blocksize(inode) - 1);
	m->length = iomap_blocksize(inode);
	m->type = IOMAP_MAPPED;
	m->addr = (uint64_t)m->offset * 2;
	return 0;
}

static int one_block_get_block(struct iomap_inode *inode, uint64_t iblock,
			       struct iomap_bh *bh, int create)
{
	(void)inode;
	(void)create;
	bh->state = IOMAP_BH_MAPPED;
	bh->blocknr = iblock * 2;
	return 0;
}

static const struct iomap_ops one_block_ops = {
	.iomap_begin = one_block_begin,
};

/* ns per mapping call of fiemap over the whole file through @mapper. */
static double loop_ns(enum iomap_mapper mapper)
{
	struct iomap_stats st = { 0 };
	struct iomap_inode inode = { .size = FILE_BYTES,
				     .blkbits = 12,
				     .stats = &st };
	struct iomap_source src = { .mapper = mapper,
				    .ops = &one_block_ops,
				    .get_block = one_block_get_block };
	struct fiemap_extent ext[BATCH];
	uint64_t t0 = iomap_stats_now_ns();
	loff_t pos = 0;

	while (pos < FILE_BYTES) {
		struct iomap_fiemap_info fi = { .fi_extents_max = BATCH,
						.fi_extents_start = ext };
		struct fiemap_extent *last;

		if (iomap_fiemap_source(&inode, &fi, pos,
					(uint64_t)(FILE_BYTES - pos), 0,
					&src) < 0 ||
		    !fi.fi_extents_mapped)
			return -1;
		last = &ext[fi.fi_extents_mapped - 1];
		pos = (loff_t)(last->fe_logical + last->fe_length);
	}
	return (double)(iomap_stats_now_ns() - t0) / (double)st.map_calls;
}

int main(void)
{
	for (int m = 0; m < IOMAP_MAPPER_COUNT; m++) {
		double best = -1;

		for (int r = 0; r < RUNS; r++) {
			double ns = loop_ns((enum iomap_mapper)m);

			if (ns < 0) {
				fprintf(stderr, "maploop: fiemap failed\n");
				return 1;
			}
			if (best < 0 || ns < best)
				best = ns;
		}
		printf("engine loop, %s mapper: %.1f ns per mapping (best of "
		       "%d)\n",
		       iomap_mapper_name((enum iomap_mapper)m), best, RUNS);
	}
	return 0;
}
