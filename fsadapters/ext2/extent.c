// SPDX-License-Identifier: GPL-2.0
/* extent.c - the mapping cursor's walk of an extent tree: one path from
 * the root (in the inode) to a leaf, moved leaf after leaf, each node read
 * once per walk and checked as libext2fs checks it. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ext2.h"

/* Node @level of the path: the root is the inode's i_block. */
static void *fsa_ext2_node(struct fsa_ext2_inode *ei, unsigned int level)
{
	if (level == 0)
		return ei->inode.i_block;
	return (char *)ei->cur.nodes +
	       (size_t)(level - 1) * ei->fs->fs->blocksize;
}

/* Block number a child entry @i of index node @eh points to. */
static blk64_t fsa_ext2_idx_leaf(const struct ext3_extent_header *eh,
				 unsigned int i)
{
	const struct ext3_extent_idx *ix = EXT_FIRST_INDEX(eh) + i;

	return ext2fs_le32_to_cpu(ix->ei_leaf) |
	       (blk64_t)ext2fs_le16_to_cpu(ix->ei_leaf_hi) << 32;
}

/* First logical block of entry @i of @eh (an index or an extent). */
static blk64_t fsa_ext2_entry_lblk(const struct ext3_extent_header *eh,
				   unsigned int i)
{
	/* ei_block and ee_block are the first field of both. */
	return ext2fs_le32_to_cpu(EXT_FIRST_INDEX(eh)[i].ei_block);
}

/*
 * Read child @blk of the node at @level into @level + 1, checked as
 * libext2fs checks a node it goes down into (header, at least one entry,
 * checksum, no loop back up the path) and at the depth its parent says.
 */
static int fsa_ext2_node_read(struct fsa_ext2_inode *ei, unsigned int level,
			      blk64_t blk)
{
	struct fsa_ext2_cursor *cur = &ei->cur;
	ext2_filsys fs = ei->fs->fs;
	unsigned int child = level + 1;
	struct ext3_extent_header *eh = fsa_ext2_node(ei, child);
	errcode_t err;

	for (unsigned int l = 1; l <= level; l++)
		if (cur->path[l].blk == blk)
			return -EFSCORRUPTED;
	if (blk < fs->super->s_first_data_block ||
	    blk >= ext2fs_blocks_count(fs->super))
		return -EFSCORRUPTED;
	/* A walk reads each leaf once: past the metadata cache, which keeps
	 * single-block reads only (a count in bytes is not one), so leaves
	 * neither evict what it holds nor fill it.  Index nodes, read again
	 * by every descent, go through it. */
	err = io_channel_read_blk64(
		fs->io, blk, child == cur->depth ? -(int)fs->blocksize : 1, eh);
	if (!err)
		err = ext2fs_extent_header_verify(eh, (int)fs->blocksize);
	if (err)
		return fsa_ext2_errno(err);
	if (ext2fs_le16_to_cpu(eh->eh_depth) != cur->depth - child ||
	    eh->eh_entries == 0)
		return -EFSCORRUPTED;
	if (!(fs->flags & EXT2_FLAG_IGNORE_CSUM_ERRORS) &&
	    !ext2fs_extent_block_csum_verify(fs, ei->ino, eh))
		return fsa_ext2_errno(EXT2_ET_EXTENT_CSUM_INVALID);
	cur->path[child] = (struct fsa_ext2_level){
		blk, ext2fs_le16_to_cpu(eh->eh_entries), 0
	};
	return 0;
}

/*
 * Put the path on the last extent starting at or before @lblk (the first
 * one of its leaf when none does): at each level the last entry starting
 * at or before @lblk, one node read per level.
 */
int fsa_ext2_tree_seek(struct fsa_ext2_inode *ei, blk64_t lblk)
{
	struct fsa_ext2_cursor *cur = &ei->cur;
	const struct ext3_extent_header *root = fsa_ext2_node(ei, 0);
	static const __u32 zero[EXT2_N_BLOCKS];
	unsigned int level = 0;
	int ret = 0;
	errcode_t err;

	/* An all-zero i_block is an empty tree, as ext2fs_extent_open2()
	 * takes it (a new extent file before its first extent). */
	if (!memcmp(ei->inode.i_block, zero, sizeof(zero))) {
		cur->depth = 0;
		cur->path[0] = (struct fsa_ext2_level){ 0, 0, 0 };
		cur->positioned = true;
		return 0;
	}
	err = ext2fs_extent_header_verify((void *)root,
					  sizeof(ei->inode.i_block));
	if (err)
		return fsa_ext2_errno(err);
	cur->depth = ext2fs_le16_to_cpu(root->eh_depth);
	if (cur->depth > FSA_EXT2_TREE_DEPTH)
		return -EFSCORRUPTED;
	/* No extent at all: the root is the only (empty) leaf. */
	if (root->eh_entries == 0)
		cur->depth = 0;
	if (cur->depth && !cur->nodes &&
	    !(cur->nodes = malloc((size_t)FSA_EXT2_TREE_DEPTH *
				  ei->fs->fs->blocksize)))
		return -ENOMEM;
	cur->path[0] = (struct fsa_ext2_level){
		0, ext2fs_le16_to_cpu(root->eh_entries), 0
	};
	for (;; level++) {
		const struct ext3_extent_header *eh = fsa_ext2_node(ei, level);
		unsigned int lo = 0, hi = cur->path[level].entries;

		while (lo < hi) {
			unsigned int mid = lo + (hi - lo) / 2;

			if (fsa_ext2_entry_lblk(eh, mid) <= lblk)
				lo = mid + 1;
			else
				hi = mid;
		}
		cur->path[level].pos = lo ? lo - 1 : 0;
		if (level == cur->depth)
			break;
		ret = fsa_ext2_node_read(
			ei, level, fsa_ext2_idx_leaf(eh, cur->path[level].pos));
		if (ret)
			return ret;
	}
	cur->positioned = true;
	return 0;
}

/*
 * The extent at the path's leaf position in @ext, moving the path on
 * (to the next leaf, reading it, when this one is done).  1 at the end of
 * the tree.
 */
int fsa_ext2_tree_next(struct fsa_ext2_inode *ei, struct fsa_ext2_run *ext)
{
	struct fsa_ext2_cursor *cur = &ei->cur;
	unsigned int level = cur->depth;
	const struct ext3_extent *e;
	uint16_t len;
	int ret;

	while (cur->path[level].pos >= cur->path[level].entries) {
		if (level == 0)
			return 1;
		cur->path[--level].pos++;
	}
	for (; level < cur->depth; level++) {
		ret = fsa_ext2_node_read(
			ei, level,
			fsa_ext2_idx_leaf(fsa_ext2_node(ei, level),
					  cur->path[level].pos));
		if (ret)
			return ret;
	}
	e = EXT_FIRST_EXTENT(
		    (struct ext3_extent_header *)fsa_ext2_node(ei, level)) +
	    cur->path[level].pos++;
	len = ext2fs_le16_to_cpu(e->ee_len);
	ext->lblk = ext2fs_le32_to_cpu(e->ee_block);
	ext->pblk = ext2fs_le32_to_cpu(e->ee_start) |
		    (blk64_t)ext2fs_le16_to_cpu(e->ee_start_hi) << 32;
	ext->uninit = len > EXT_INIT_MAX_LEN;
	ext->len = ext->uninit ? len - EXT_INIT_MAX_LEN : len;
	return 0;
}
