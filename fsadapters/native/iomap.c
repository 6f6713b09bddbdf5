// SPDX-License-Identifier: GPL-2.0
/* iomap.c - mapping iomapfs files for the engine: extents from the extent
 * tree, as iomaps and as buffer-head block mappings. */
#include <errno.h>
#include <string.h>

#include "iomapctl/bh.h"
#include "native.h"

/*
 * The extent of @f holding file block @lblk: 1 with it in @e (its first
 * file block in *@first), or 0 for a hole, whose end (the next extent's
 * first block, UINT64_MAX for none) goes in *@first.
 */
static int find_extent(struct fsa_native_file *f, uint64_t lblk,
		       struct fsa_native_extent *e, uint64_t *first)
{
	struct fsa_native_key k = { { f->vfs.ino, lblk } };
	struct fsa_native_cursor c;
	int ret = fsa_native_bt_seek_le(&c, f->nfs, FSA_NATIVE_T_EXTENTS, &k);

	if (ret == 1) {
		ret = fsa_native_bt_get(&c, &k, e);
		if (ret)
			return ret;
		if (k.w[0] == f->vfs.ino && lblk - k.w[1] < e->len) {
			*first = k.w[1];
			return 1;
		}
		ret = k.w[0] > f->vfs.ino ? 0 : fsa_native_bt_next(&c);
	} else if (ret == 0) {
		k = (struct fsa_native_key){ { f->vfs.ino, lblk } };
		ret = fsa_native_bt_seek(&c, f->nfs, FSA_NATIVE_T_EXTENTS, &k);
	}
	*first = UINT64_MAX;
	if (ret == 1) {
		ret = fsa_native_bt_get(&c, &k, NULL);
		if (!ret && k.w[0] == f->vfs.ino)
			*first = k.w[1];
	}
	return ret < 0 ? ret : 0;
}

/* The extent at @lblk, or the hole up to the next one (or @end_lblk). */
static int map_block(struct fsa_native_file *f, uint64_t lblk,
		     uint64_t end_lblk, struct iomap *iomap)
{
	const unsigned int bits = f->vfs.blkbits;
	struct fsa_native_extent e;
	uint64_t first;
	int ret = find_extent(f, lblk, &e, &first);

	if (ret < 0)
		return ret;
	memset(iomap, 0, sizeof(*iomap));
	iomap->offset = (loff_t)(lblk << bits);
	iomap->validity_cookie = f->seq;
	if (ret == 0) {
		uint64_t end = first < end_lblk ? first : end_lblk;

		iomap->type = IOMAP_HOLE;
		iomap->addr = IOMAP_NULL_ADDR;
		iomap->length = (end > lblk ? end - lblk : 1) << bits;
		return 0;
	}
	iomap->type = e.flags & FSA_NATIVE_EXT_UNWRITTEN ? IOMAP_UNWRITTEN :
							   IOMAP_MAPPED;
	iomap->addr = (e.start + (lblk - first)) << bits;
	iomap->length = (e.len - (lblk - first)) << bits;
	return 0;
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
	return map_block(NATIVE_I(inode), (uint64_t)pos >> bits, end, iomap);
}

static int native_get_block(struct iomap_inode *inode, uint64_t iblock,
			    struct iomap_bh *bh, int create)
{
	const unsigned int bits = inode->blkbits;
	uint64_t want = bh->size >> bits ? bh->size >> bits : 1;
	struct iomap m;
	int ret;

	if (create)
		return -EROFS;
	ret = map_block(NATIVE_I(inode), iblock, iblock + want, &m);
	if (ret)
		return ret;
	bh->state = 0;
	if (m.length < bh->size)
		bh->size = m.length;
	if (m.type == IOMAP_HOLE)
		return 0;
	bh->blocknr = m.addr >> bits;
	bh->state = IOMAP_BH_MAPPED;
	if (m.type == IOMAP_UNWRITTEN)
		bh->state |= IOMAP_BH_UNWRITTEN;
	return 0;
}

static const struct iomap_ops native_read_ops = {
	.iomap_begin = native_read_begin,
};

const struct iomap_opset fsa_native_iomap_opset = {
	.read = &native_read_ops,
	.report = &native_read_ops,
	.get_block = native_get_block,
};
