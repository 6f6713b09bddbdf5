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
	int ret;

	if (fsa_native_is_inline(f))
		return fsa_native_inline_map(f, lblk << bits, end_lblk, iomap);
	ret = fsa_native_ext_find_cur(f->nfs, &f->cur, f->vfs.ino, lblk,
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
		fsa_native_da_overlay(f, lblk, iomap);
		return 0;
	}
	iomap->type = e.flags & FSA_NATIVE_EXT_UNWRITTEN ? IOMAP_UNWRITTEN :
							   IOMAP_MAPPED;
	iomap->addr = (e.start + (lblk - first)) << bits;
	iomap->length = (e.len - (lblk - first)) << bits;
	return fsa_native_ref_mark(f->nfs, iomap, bits);
}

int fsa_native_map_pos(struct fsa_native_file *f, loff_t pos,
		       uint64_t end_lblk, struct iomap *iomap)
{
	if (fsa_native_is_inline(f))
		return fsa_native_inline_map(f, (uint64_t)pos, end_lblk, iomap);
	return fsa_native_map_block(f, (uint64_t)pos >> f->vfs.blkbits,
				    end_lblk, iomap);
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
	fsa_native_meta_trim(NATIVE_I(inode)->nfs);
	return fsa_native_map_pos(NATIVE_I(inode), pos, end, iomap);
}

const struct iomap_ops fsa_native_read_ops = {
	.iomap_begin = native_read_begin,
};
