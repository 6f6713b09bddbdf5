// SPDX-License-Identifier: GPL-2.0
/* iomap.c - mapping iomapfs files for the engine: extents from the extent
 * tree, as iomaps and as buffer-head block mappings. */
#include <errno.h>
#include <string.h>

#include "native.h"

int fsa_native_map_block(struct fsa_native_file *f, uint64_t lblk,
			 uint64_t end_lblk, struct iomap *iomap)
{
	const unsigned int bits = f->vfs.blkbits;
	struct fsa_native_extent e;
	uint64_t first;
	int ret = fsa_native_ext_find(f->nfs, f->vfs.ino, lblk,
				      end_lblk > lblk ? end_lblk : lblk + 1,
				      &first, &e);

	if (ret < 0)
		return ret;
	memset(iomap, 0, sizeof(*iomap));
	iomap->offset = (loff_t)(lblk << bits);
	iomap->validity_cookie = f->seq;
	if (ret == 0 || first > lblk) {
		uint64_t end = ret ? first : end_lblk;

		iomap->type = IOMAP_HOLE;
		iomap->addr = IOMAP_NULL_ADDR;
		iomap->length = (end > lblk ? end - lblk : 1) << bits;
		return 0;
	}
	iomap->type = e.flags & FSA_NATIVE_EXT_UNWRITTEN ? IOMAP_UNWRITTEN :
							   IOMAP_MAPPED;
	iomap->addr = (e.start + (lblk - first)) << bits;
	iomap->length = (e.len - (lblk - first)) << bits;
	return fsa_native_ref_mark(f->nfs, iomap, bits);
}

static int native_read_begin(struct iomap_inode *inode, loff_t pos,
			     loff_t length, unsigned int flags,
			     struct iomap *iomap, struct iomap *srcmap)
{
	const unsigned int bits = inode->blkbits;
	uint64_t end =
		((uint64_t)pos + (uint64_t)length + (1ULL << bits) - 1) >> bits;

	(void)flags;
	(void)srcmap;
	return fsa_native_map_block(NATIVE_I(inode), (uint64_t)pos >> bits, end,
				    iomap);
}

const struct iomap_ops fsa_native_read_ops = {
	.iomap_begin = native_read_begin,
};
