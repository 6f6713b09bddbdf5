// SPDX-License-Identifier: GPL-2.0
/* write-iomap.c - ext2/3/4 mappings for writes: allocation for buffered,
 * direct and DAX writes, unwritten extent conversion on completion, and
 * writeback's map_blocks. */
#include <errno.h>
#include <string.h>

#include "ext2.h"

enum fsa_ext2_wmode { FSA_EXT2_BUFFERED, FSA_EXT2_DIRECT, FSA_EXT2_DAX };

/*
 * @ext, current in @h, has just become written: fold it into the previous
 * extent when they are contiguous (as ext4 does), so a file written by
 * appends does not grow by one extent per write.
 */
static errcode_t fsa_ext2_merge_prev(ext2_extent_handle_t h,
				     const struct ext2fs_extent *ext)
{
	struct ext2fs_extent prev;
	errcode_t err = ext2fs_extent_get(h, EXT2_EXTENT_PREV_LEAF, &prev);

	if (err)
		return err == EXT2_ET_EXTENT_NO_PREV ? 0 : err;
	if ((prev.e_flags & EXT2_EXTENT_FLAGS_UNINIT) ||
	    prev.e_lblk + prev.e_len != ext->e_lblk ||
	    prev.e_pblk + prev.e_len != ext->e_pblk ||
	    prev.e_len + ext->e_len > EXT_INIT_MAX_LEN)
		return 0;
	prev.e_len += ext->e_len;
	err = ext2fs_extent_replace(h, 0, &prev);
	if (!err)
		err = ext2fs_extent_get(h, EXT2_EXTENT_NEXT_LEAF, &prev);
	if (!err)
		err = ext2fs_extent_delete(h, 0);
	if (!err)
		err = ext2fs_extent_fix_parents(h);
	return err;
}

/* Insert @ext after the handle's current extent and fix the index. */
static errcode_t fsa_ext2_insert_after(ext2_extent_handle_t h,
				       struct ext2fs_extent *ext)
{
	errcode_t err = ext2fs_extent_insert(h, EXT2_EXTENT_INSERT_AFTER, ext);

	return err ? err : ext2fs_extent_fix_parents(h);
}

/*
 * Convert the part [@from, @to) of unwritten extent @ext (current in @h)
 * with a constant number of tree operations: unwritten head, written
 * middle, unwritten tail, then the middle merged with a written
 * predecessor.  (ext2fs_extent_set_bmap() per block rewrote the leaf or
 * the inode once per block: writeback converting 8 MiB ioends inside a
 * large unwritten extent wrote the inode table twice per block.)
 * On return @ext is the written middle.
 */
static errcode_t fsa_ext2_convert_part(ext2_extent_handle_t h,
				       struct ext2fs_extent *ext, blk64_t from,
				       blk64_t to)
{
	struct ext2fs_extent head = *ext, mid, tail = *ext, orig = *ext;
	blk64_t a = from > ext->e_lblk ? from : ext->e_lblk;
	blk64_t end = ext->e_lblk + ext->e_len, b = to < end ? to : end;
	errcode_t err;

	mid = (struct ext2fs_extent){ .e_lblk = a,
				      .e_pblk = ext->e_pblk + (a - ext->e_lblk),
				      .e_len = (uint32_t)(b - a) };
	head.e_len = (uint32_t)(a - ext->e_lblk);
	tail.e_lblk = b;
	tail.e_pblk = ext->e_pblk + (b - ext->e_lblk);
	tail.e_len = (uint32_t)(end - b);
	if (head.e_len) {
		err = ext2fs_extent_replace(h, 0, &head);
		if (!err)
			err = fsa_ext2_insert_after(h, &mid);
	} else {
		err = ext2fs_extent_replace(h, 0, &mid);
	}
	if (!err && tail.e_len) {
		err = fsa_ext2_insert_after(h, &tail);
		/* A split needs a tree block, which a full image lacks: take
		 * the middle out again so the unrestored extent below still
		 * owns every block (else the tail's blocks leak). */
		if (err && head.e_len && !ext2fs_extent_goto(h, mid.e_lblk) &&
		    !ext2fs_extent_delete(h, 0))
			ext2fs_extent_fix_parents(h);
	}
	if (err) {
		/* Undo to the one unwritten extent (libext2fs's own
		 * set_bmap does the same): shrinking it needed no block. */
		if (!ext2fs_extent_goto(h, orig.e_lblk))
			ext2fs_extent_replace(h, 0, &orig);
		return err;
	}
	*ext = mid;
	if (head.e_len)
		return 0;
	/* Only a middle that starts the old extent can touch a written one. */
	err = ext2fs_extent_goto(h, mid.e_lblk);
	return err ? err : fsa_ext2_merge_prev(h, &mid);
}

/* One step of the conversion at @lblk; returns the next block to look at. */
static errcode_t fsa_ext2_convert_one(ext2_extent_handle_t h, blk64_t *lblk,
				      blk64_t end)
{
	struct ext2fs_extent ext;
	errcode_t err = ext2fs_extent_goto(h, *lblk);

	if (err == EXT2_ET_EXTENT_NOT_FOUND) {
		(*lblk)++; /* a hole: nothing to convert */
		return 0;
	}
	if (!err)
		err = ext2fs_extent_get(h, EXT2_EXTENT_CURRENT, &ext);
	if (err)
		return err;
	if (!(ext.e_flags & EXT2_EXTENT_FLAGS_UNINIT)) {
		*lblk = ext.e_lblk + ext.e_len;
	} else if (ext.e_lblk >= *lblk && ext.e_lblk + ext.e_len <= end) {
		ext.e_flags &= ~EXT2_EXTENT_FLAGS_UNINIT;
		err = ext2fs_extent_replace(h, 0, &ext);
		if (!err)
			err = fsa_ext2_merge_prev(h, &ext);
		*lblk = ext.e_lblk + ext.e_len;
	} else {
		err = fsa_ext2_convert_part(h, &ext, *lblk, end);
		*lblk = ext.e_lblk + ext.e_len;
	}
	return err;
}

/* Turn unwritten blocks [@lblk, @lblk + @len) into written ones. */
static int fsa_ext2_convert(struct fsa_ext2_inode *ei, blk64_t lblk,
			    blk64_t len)
{
	ext2_extent_handle_t h = NULL;
	blk64_t start = lblk, end = lblk + len;
	errcode_t err;

	if (!fsa_ext2_can_unwritten(ei))
		return 0;
	err = ext2fs_extent_open2(ei->fs->fs, ei->ino,
				  (struct ext2_inode *)&ei->inode, &h);
	while (!err && lblk < end)
		err = fsa_ext2_convert_one(h, &lblk, end);
	if (h)
		ext2fs_extent_free(h);
	fsa_ext2_cursor_invalidate(ei, start);
	return fsa_ext2_errno(err);
}

/* Map an existing UNWRITTEN range for DAX: zero it, then mark written,
 * since a DAX write must land on MAPPED blocks. */
static int fsa_ext2_dax_prepare(struct fsa_ext2_inode *ei, struct iomap *map)
{
	unsigned int bits = ei->vfs.blkbits;
	int ret;

	ret = fsa_ext2_errno(ext2fs_zero_blocks2(ei->fs->fs, map->addr >> bits,
						 (int)(map->length >> bits),
						 NULL, NULL));
	if (!ret)
		ret = fsa_ext2_convert(ei, (uint64_t)map->offset >> bits,
				       map->length >> bits);
	if (!ret)
		ret = fsa_ext2_write_inode(ei);
	map->type = IOMAP_MAPPED;
	map->flags |= IOMAP_F_NEW;
	return ret;
}

/* Cut @map to at most @nblocks blocks. */
static void fsa_ext2_trim(struct iomap *map, unsigned int bits,
			  uint64_t nblocks)
{
	if (map->length > nblocks << bits)
		map->length = nblocks << bits;
}

/*
 * Allocate the hole at @lblk (at most @want blocks of it) and map what
 * was allocated.  After ENOSPC part way, what was allocated is used.
 */
static int fsa_ext2_fill_hole(struct fsa_ext2_inode *ei, blk64_t lblk,
			      uint64_t *want, enum fsa_ext2_wmode mode,
			      struct iomap *map)
{
	unsigned int bits = ei->vfs.blkbits;
	uint64_t n = map->length >> bits;
	int ret, mret;

	/* Never past the hole: fallocate may merge the new blocks with the
	 * next extent, whose data must not be marked NEW. */
	if (*want > n)
		*want = n;
	ret = fsa_ext2_alloc(ei, lblk, *want,
			     mode != FSA_EXT2_DAX &&
				     fsa_ext2_can_unwritten(ei));
	if (ret && ret != -ENOSPC)
		return ret;
	mret = fsa_ext2_map_runs(ei, lblk, FSA_EXT2_MAX_LBLK, map);
	if (mret)
		return mret;
	if (map->type == IOMAP_HOLE)
		return ret ? ret : -EIO;
	map->flags |= IOMAP_F_NEW;
	return 0;
}

static int fsa_ext2_write_map(struct fsa_ext2_inode *ei, loff_t pos,
			      uint64_t length, enum fsa_ext2_wmode mode,
			      struct iomap *map)
{
	unsigned int bits = ei->vfs.blkbits;
	blk64_t lblk = (uint64_t)pos >> bits;
	uint64_t want = (((uint64_t)pos + length - 1) >> bits) - lblk + 1;
	int ret;

	if (lblk >= FSA_EXT2_MAX_LBLK)
		return -EFBIG;
	if (want > FSA_EXT2_MAX_ALLOC)
		want = FSA_EXT2_MAX_ALLOC;
	ret = fsa_ext2_map_runs(ei, lblk, FSA_EXT2_MAX_LBLK, map);
	if (!ret && map->type == IOMAP_HOLE)
		ret = fsa_ext2_fill_hole(ei, lblk, &want, mode, map);
	if (ret)
		return ret;
	fsa_ext2_trim(map, bits, want);
	if (mode == FSA_EXT2_DAX && map->type == IOMAP_UNWRITTEN)
		ret = fsa_ext2_dax_prepare(ei, map);
	map->validity_cookie = ei->seq;
	return ret;
}

static int fsa_ext2_write_begin(struct iomap_inode *inode, loff_t pos,
				loff_t length, unsigned int flags,
				struct iomap *iomap, enum fsa_ext2_wmode mode)
{
	struct fsa_ext2_inode *ei = EXT2_I(inode);
	int ret = fsa_ext2_writable(ei->fs);

	if (!ret && (pos < 0 || length <= 0))
		ret = -EINVAL;
	if (!ret && !(flags & (IOMAP_WRITE | IOMAP_ZERO)))
		return fsa_ext2_iomap_opset.read->iomap_begin(
			inode, pos, length, flags, iomap, NULL);
	if (!ret && ei->inline_buf)
		ret = fsa_ext2_uninline(ei);
	if (ret)
		return ret;
	/* Zeroing needs no allocation: holes and unwritten stay as they
	 * are; an overwrite-only request may not allocate either. */
	if (flags & IOMAP_OVERWRITE_ONLY) {
		ret = fsa_ext2_map_runs(ei, (uint64_t)pos >> inode->blkbits,
					FSA_EXT2_MAX_LBLK, iomap);
		if (!ret && (iomap->type == IOMAP_HOLE || pos >= inode->size))
			ret = -EAGAIN;
	} else if (!(flags & IOMAP_WRITE)) {
		ret = fsa_ext2_map_runs(ei, (uint64_t)pos >> inode->blkbits,
					FSA_EXT2_MAX_LBLK, iomap);
	} else {
		ret = fsa_ext2_write_map(ei, pos, (uint64_t)length, mode,
					 iomap);
	}
	/* The engine writes these blocks beside libext2fs' channel. */
	if (!ret)
		fsa_ext2_bcache_forget_map(ei->fs, iomap);
	return ret;
}

/* Blocks [@lblk, @end) are new for the direct write in progress. */
static void fsa_ext2_dio_remember(struct fsa_ext2_inode *ei, blk64_t lblk,
				  blk64_t end)
{
	if (lblk < end && ei->dio_nr < FSA_EXT2_DIO_NEW) {
		ei->dio_new[ei->dio_nr].lblk = lblk;
		ei->dio_new[ei->dio_nr++].end = end;
	}
}

/*
 * After a direct write that failed or stopped short, give back the blocks
 * it allocated past the final EOF, as ext4's dio write error path
 * truncates them: they are unwritten and read as zeros, but the kernel
 * would not have them.  Only the write's own new blocks: a KEEP_SIZE
 * preallocation there stays.
 */
static int fsa_ext2_dio_forget(struct fsa_ext2_inode *ei)
{
	unsigned int bits = ei->vfs.blkbits;
	blk64_t eof = (EXT2_I_SIZE(&ei->inode) + (1ULL << bits) - 1) >> bits;
	bool freed = false;
	int ret = 0;

	for (unsigned int i = 0; i < ei->dio_nr && !ret; i++) {
		blk64_t first =
			ei->dio_new[i].lblk > eof ? ei->dio_new[i].lblk : eof;

		if (first >= ei->dio_new[i].end)
			continue;
		ret = fsa_ext2_free_blocks(ei, first, ei->dio_new[i].end - 1);
		freed = true;
	}
	ei->dio_nr = 0;
	if (!ret && freed)
		ret = fsa_ext2_write_inode(ei);
	/* get_block (bh) allocates without ->iomap_end, so its new blocks
	 * are not in dio_new: every written block past EOF goes, before a
	 * later falloc or size change can take it back with its data. */
	if (!ret && ei->new_past_eof &&
	    ei->vfs.size <= (loff_t)EXT2_I_SIZE(&ei->inode)) {
		ret = fsa_ext2_trim_eof(ei);
		ei->new_past_eof = ret != 0;
	}
	return ret;
}

/*
 * After each mapping: persist a size the engine grew, and give back blocks
 * allocated past EOF that no byte was written to (a short write), so the
 * image never holds blocks beyond i_size that e2fsck would flag.
 */
static int fsa_ext2_write_end(struct iomap_inode *inode, loff_t pos,
			      loff_t length, ssize_t written,
			      unsigned int flags, struct iomap *iomap)
{
	struct fsa_ext2_inode *ei = EXT2_I(inode);
	unsigned int bits = inode->blkbits;
	uint64_t bs = 1ULL << bits, keep, map_end;
	loff_t size = inode->size;
	int ret;

	(void)length;
	if (!(flags & IOMAP_WRITE) || !ei->fs->base.rdwr)
		return 0;
	ret = fsa_ext2_refresh(ei);
	if (ret)
		return ret;
	if ((loff_t)EXT2_I_SIZE(&ei->inode) > size)
		size = (loff_t)EXT2_I_SIZE(&ei->inode);
	keep = (uint64_t)pos + (uint64_t)(written > 0 ? written : 0);
	if (keep < (uint64_t)size)
		keep = (uint64_t)size;
	keep = (keep + bs - 1) & ~(bs - 1);
	map_end = (uint64_t)iomap->offset + iomap->length;
	if ((iomap->flags & IOMAP_F_NEW) && keep < map_end)
		ret = fsa_ext2_free_blocks(ei, keep >> bits,
					   (map_end >> bits) - 1);
	if (!ret && (flags & IOMAP_DIRECT) && (iomap->flags & IOMAP_F_NEW))
		fsa_ext2_dio_remember(ei, (uint64_t)iomap->offset >> bits,
				      (keep < map_end ? keep : map_end) >>
					      bits);
	if (!ret && size != (loff_t)EXT2_I_SIZE(&ei->inode))
		ret = fsa_ext2_set_size(ei, size);
	if (!ret && written > 0)
		fsa_ext2_touch(&ei->inode);
	if (!ret)
		ret = fsa_ext2_write_inode(ei);
	return ret;
}

static int fsa_ext2_buffered_begin(struct iomap_inode *inode, loff_t pos,
				   loff_t length, unsigned int flags,
				   struct iomap *iomap, struct iomap *srcmap)
{
	(void)srcmap;
	return fsa_ext2_write_begin(inode, pos, length, flags, iomap,
				    FSA_EXT2_BUFFERED);
}

static int fsa_ext2_direct_begin(struct iomap_inode *inode, loff_t pos,
				 loff_t length, unsigned int flags,
				 struct iomap *iomap, struct iomap *srcmap)
{
	(void)srcmap;
	return fsa_ext2_write_begin(inode, pos, length, flags, iomap,
				    FSA_EXT2_DIRECT);
}

static int fsa_ext2_dax_begin(struct iomap_inode *inode, loff_t pos,
			      loff_t length, unsigned int flags,
			      struct iomap *iomap, struct iomap *srcmap)
{
	(void)srcmap;
	return fsa_ext2_write_begin(inode, pos, length, flags, iomap,
				    FSA_EXT2_DAX);
}

const struct iomap_ops fsa_ext2_buffered_write_ops = {
	.iomap_begin = fsa_ext2_buffered_begin,
	.iomap_end = fsa_ext2_write_end,
};

const struct iomap_ops fsa_ext2_direct_write_ops = {
	.iomap_begin = fsa_ext2_direct_begin,
	.iomap_end = fsa_ext2_write_end,
};

const struct iomap_ops fsa_ext2_dax_write_ops = {
	.iomap_begin = fsa_ext2_dax_begin,
	.iomap_end = fsa_ext2_write_end,
};

/*
 * Convert what a completed write covered and, for direct writes, persist
 * the new size (writeback never moves it: its last block may run past EOF).
 */
static int fsa_ext2_complete(struct fsa_ext2_inode *ei, loff_t pos,
			     uint64_t size, bool unwritten, bool grow)
{
	unsigned int bits = ei->vfs.blkbits;
	uint64_t end = (uint64_t)pos + size;
	int ret = fsa_ext2_refresh(ei);

	if (!ret && unwritten && size)
		ret = fsa_ext2_convert(ei, (uint64_t)pos >> bits,
				       ((end + (1ULL << bits) - 1) >> bits) -
					       ((uint64_t)pos >> bits));
	/* The extent operations wrote what they changed; the inode itself
	 * only needs writing for a new size. */
	if (!ret && grow && (loff_t)end > (loff_t)EXT2_I_SIZE(&ei->inode) &&
	    (loff_t)end >= ei->vfs.size) {
		ret = fsa_ext2_set_size(ei, (loff_t)end);
		if (!ret)
			ret = fsa_ext2_write_inode(ei);
		/* A short write may have put data past its end in the new
		 * EOF block, now converted: never readable. */
		if (!ret)
			ret = fsa_ext2_zero_eof_tail(ei, (loff_t)end);
	}
	return ret;
}

/*
 * A failed direct write leaves its unwritten extents unwritten: they
 * still read as zeros.  Without extents (ext2/3) its blocks were mapped
 * written and, the size not having grown, lie past EOF, which e2fsck
 * flags: give them back, as the kernel's ext2_write_failed() truncates.
 * No other block of such a file lies past EOF (falloc refuses that).
 */
static int fsa_ext2_dio_end_io(struct iomap_inode *inode, loff_t pos,
			       ssize_t size, int error, unsigned int dio_flags)
{
	struct fsa_ext2_inode *ei = EXT2_I(inode);
	unsigned int bits = inode->blkbits;
	int ret;

	if ((error || size <= 0) && ei->fs->base.rdwr && !ei->inline_buf) {
		ret = fsa_ext2_refresh(ei);
		/* Its data in the EOF block past EOF must not be exposed
		 * when the file grows later. */
		if (!ret)
			ret = fsa_ext2_zero_eof_tail(
				ei, (loff_t)EXT2_I_SIZE(&ei->inode));
		if (!ret && !fsa_ext2_can_unwritten(ei))
			ret = fsa_ext2_free_blocks(
				ei,
				(EXT2_I_SIZE(&ei->inode) + (1ULL << bits) - 1) >>
					bits,
				~0ULL);
		if (!ret)
			return fsa_ext2_dio_forget(ei);
		ei->dio_nr = 0;
		return ret;
	}
	if (error || size <= 0) {
		ei->dio_nr = 0;
		return 0;
	}
	ret = fsa_ext2_complete(ei, pos, (uint64_t)size,
				dio_flags & IOMAP_DIO_UNWRITTEN, true);
	/* A short write: what it allocated past its end goes too. */
	if (!ret && ei->fs->base.rdwr)
		return fsa_ext2_dio_forget(ei);
	ei->dio_nr = 0;
	return ret;
}

const struct iomap_dio_ops fsa_ext2_dio_ops = {
	.end_io = fsa_ext2_dio_end_io,
};

/* Blocks were allocated when the data was dirtied, so writeback only
 * looks them up (allocating for ranges dirtied some other way). */
static int fsa_ext2_map_blocks(struct iomap_writepage_ctx *wpc,
			       struct iomap_inode *inode, loff_t offset,
			       uint64_t len)
{
	struct fsa_ext2_inode *ei = EXT2_I(inode);
	int ret = fsa_ext2_writable(ei->fs);

	if (!ret && ei->inline_buf)
		ret = fsa_ext2_uninline(ei);
	if (ret)
		return ret;
	memset(&wpc->iomap, 0, sizeof(wpc->iomap));
	ret = fsa_ext2_write_map(ei, offset, len ? len : 1, FSA_EXT2_BUFFERED,
				 &wpc->iomap);
	if (!ret)
		fsa_ext2_bcache_forget_map(ei->fs, &wpc->iomap);
	return ret;
}

static int fsa_ext2_wb_submit(struct iomap_writepage_ctx *wpc,
			      const struct iomap_ioend *ioend, int status)
{
	struct fsa_ext2_inode *ei = EXT2_I(wpc->inode);

	if (status || !(ioend->io_flags & IOMAP_IOEND_UNWRITTEN))
		return 0;
	return fsa_ext2_complete(ei, ioend->io_offset, ioend->io_size, true,
				 false);
}

const struct iomap_writeback_ops fsa_ext2_writeback_ops = {
	.map_blocks = fsa_ext2_map_blocks,
	.submit = fsa_ext2_wb_submit,
};

/*
 * get_block(create): one block, mapped written.  A new block is zeroed
 * on disk as it is allocated and an unwritten one is zeroed and converted,
 * so the block-at-a-time path never exposes stale data either.
 */
int fsa_ext2_get_block_create(struct fsa_ext2_inode *ei, uint64_t iblock,
			      struct iomap_bh *bh)
{
	ext2_filsys fs = ei->fs->fs;
	struct ext2_inode *in = (struct ext2_inode *)&ei->inode;
	blk64_t pblk = 0;
	int ret_flags = 0;
	int ret = fsa_ext2_writable(ei->fs);

	if (!ret && iblock >= FSA_EXT2_MAX_LBLK)
		ret = -EFBIG;
	if (!ret)
		ret = fsa_ext2_refresh(ei);
	if (!ret && ei->inline_buf)
		ret = fsa_ext2_uninline(ei);
	if (!ret)
		ret = fsa_ext2_errno(ext2fs_bmap2(fs, ei->ino, in, NULL, 0,
						  iblock, &ret_flags, &pblk));
	if (ret)
		return ret;
	if (pblk && (ret_flags & BMAP_RET_UNINIT)) {
		ret = fsa_ext2_errno(
			ext2fs_zero_blocks2(fs, pblk, 1, NULL, NULL));
		if (!ret)
			ret = fsa_ext2_errno(ext2fs_bmap2(fs, ei->ino, in, NULL,
							  BMAP_SET, iblock,
							  NULL, &pblk));
		bh->state |= IOMAP_BH_NEW;
	} else if (!pblk) {
		ret = fsa_ext2_errno(ext2fs_bmap2(fs, ei->ino, in, NULL,
						  BMAP_ALLOC | BMAP_ZERO,
						  iblock, NULL, &pblk));
		if (ret && ret != -EIO && !(in->i_flags & EXT4_EXTENTS_FL))
			fsa_ext2_ind_alloc_failed(ei);
		bh->state |= IOMAP_BH_NEW;
		ei->new_past_eof |= iblock << ei->vfs.blkbits >=
				    (uint64_t)EXT2_I_SIZE(&ei->inode);
	}
	fsa_ext2_cursor_invalidate(ei, iblock);
	if (ret)
		return ret;
	bh->blocknr = pblk;
	bh->state |= IOMAP_BH_MAPPED;
	return 0;
}
