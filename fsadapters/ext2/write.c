// SPDX-License-Identifier: GPL-2.0
/* write.c - ext2/3/4 mutations: allocation for writes, size changes,
 * preallocation, hole punching, new files and directories. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ext2.h"

/*
 * Features whose on-disk rules we do not implement: writing such an image
 * with libext2fs alone could corrupt it (or a journal replay would undo
 * our changes), so it opens read-only only.
 */
int fsa_ext2_check_writable(struct fsa_ext2_fs *efs)
{
	struct ext2_super_block *sb = efs->fs->super;
	const char *feature = NULL;
	int ret = -EROFS;

	if (ext2fs_has_feature_journal_needs_recovery(sb))
		feature = "needs_recovery";
	else if (ext2fs_has_feature_encrypt(sb))
		feature = "encrypt";
	else if (ext2fs_has_feature_verity(sb))
		feature = "verity";
	else if (ext2fs_has_feature_casefold(sb))
		feature = "casefold";
	else if (ext2fs_has_feature_bigalloc(sb))
		feature = "bigalloc";
	else if (ext2fs_has_feature_quota(sb) || ext2fs_has_feature_project(sb))
		feature = "quota"; /* usage would go stale */
	else if (ext2fs_has_feature_readonly(sb))
		feature = "readonly";
	else if (ext2fs_has_feature_shared_blocks(sb))
		feature = "shared_blocks";
	else if (ext2fs_has_feature_orphan_present(sb))
		feature = "orphan_present";
	else if (sb->s_feature_incompat & ~EXT2_LIB_FEATURE_INCOMPAT_SUPP)
		feature = "unknown incompat", ret = -EOPNOTSUPP;
	else if (sb->s_feature_ro_compat & ~EXT2_LIB_FEATURE_RO_COMPAT_SUPP)
		feature = "unknown ro_compat";
	if (!feature)
		return 0;
	fprintf(stderr,
		"iomapctl: %s: cannot write: the image has feature '%s' "
		"(it can be opened read-only)\n",
		efs->fs->device_name, feature);
	return ret;
}

/* Bits set in [@start, @end] of @map, a run at a time. */
static uint64_t fsa_ext2_bits_set(ext2fs_generic_bitmap map, uint64_t start,
				  uint64_t end)
{
	__u64 pos = start, zero;
	uint64_t set = 0;

	while (pos <= end &&
	       !ext2fs_find_first_set_generic_bmap(map, pos, end, &pos)) {
		if (ext2fs_find_first_zero_generic_bmap(map, pos, end, &zero))
			zero = end + 1;
		set += zero - pos;
		pos = zero;
	}
	return set;
}

/*
 * Allocation takes free blocks and inodes from the bitmaps and takes
 * them off the group descriptor's counts: a descriptor counting fewer
 * free than its bitmap holds would wrap to 2^16 or 2^32 free.  The
 * kernel stops allocating in such a group (ext4_mb_generate_buddy:
 * "block bitmap and bg descriptor inconsistent"); such an image is
 * written only after e2fsck.  Needs the bitmaps loaded.
 */
int fsa_ext2_check_counts(struct fsa_ext2_fs *efs)
{
	ext2_filsys fs = efs->fs;
	uint32_t ipg = fs->super->s_inodes_per_group;
	const char *what = NULL;
	uint64_t first, last, have = 0, want = 0;
	dgrp_t g;

	for (g = 0; g < fs->group_desc_count && !what; g++) {
		first = ext2fs_group_first_block2(fs, g);
		last = ext2fs_group_last_block2(fs, g);
		have = ext2fs_bg_free_blocks_count(fs, g);
		want = last - first + 1 -
		       fsa_ext2_bits_set((ext2fs_generic_bitmap)fs->block_map,
					 first, last);
		if (have != want) {
			what = "blocks";
			break;
		}
		first = (uint64_t)g * ipg + 1;
		have = ext2fs_bg_free_inodes_count(fs, g);
		want = ipg - fsa_ext2_bits_set(
				     (ext2fs_generic_bitmap)fs->inode_map,
				     first, first + ipg - 1);
		if (have != want)
			what = "inodes";
	}
	if (!what)
		return 0;
	fprintf(stderr,
		"iomapctl: %s: cannot write: group %u counts %llu free %s, "
		"its bitmap %llu (run e2fsck; it can be opened read-only)\n",
		fs->device_name, g, (unsigned long long)have, what,
		(unsigned long long)want);
	return -EFSCORRUPTED;
}

int fsa_ext2_writable(struct fsa_ext2_fs *efs)
{
	return efs->base.rdwr ? 0 : -EROFS;
}

/* Re-read the inode: another handle on the same file may have changed it,
 * and libext2fs calls below update this copy in place. */
int fsa_ext2_refresh(struct fsa_ext2_inode *ei)
{
	return fsa_ext2_read_inode(ei->fs, ei->ino, &ei->inode);
}

int fsa_ext2_write_inode(struct fsa_ext2_inode *ei)
{
	return fsa_ext2_errno(ext2fs_write_inode_full(
		ei->fs->fs, ei->ino, (struct ext2_inode *)&ei->inode,
		sizeof(ei->inode)));
}

/* Store @ts in a timestamp and its extra word (epoch bits + ns). */
static void fsa_ext2_set_time(struct ext2_inode_large *in, uint32_t *secs,
			      uint32_t *extra, struct timespec ts)
{
	size_t end = (size_t)((char *)(extra + 1) - (char *)in);

	*secs = (uint32_t)ts.tv_sec;
	if ((size_t)EXT2_GOOD_OLD_INODE_SIZE + in->i_extra_isize >= end)
		*extra = (uint32_t)(((uint64_t)ts.tv_sec >> 32) & 3) |
			 ((uint32_t)ts.tv_nsec << 2);
}

void fsa_ext2_touch(struct ext2_inode_large *in)
{
	struct timespec now;

	clock_gettime(CLOCK_REALTIME, &now);
	fsa_ext2_set_time(in, &in->i_mtime, &in->i_mtime_extra, now);
	fsa_ext2_set_time(in, &in->i_ctime, &in->i_ctime_extra, now);
}

int fsa_ext2_set_size(struct fsa_ext2_inode *ei, loff_t size)
{
	int ret = fsa_ext2_errno(ext2fs_inode_size_set(
		ei->fs->fs, (struct ext2_inode *)&ei->inode,
		(ext2_off64_t)size));

	if (!ret)
		ei->vfs.size = size;
	return ret;
}

/*
 * Zero [@pos, @pos + @len) inside one block on disk, when that block is
 * written data: a punched or truncated edge must read back as zeros, now
 * and after the file grows again.
 */
static int fsa_ext2_zero_partial(struct fsa_ext2_inode *ei, loff_t pos,
				 uint64_t len)
{
	ext2_filsys fs = ei->fs->fs;
	unsigned int bits = ei->vfs.blkbits;
	struct iomap map = { 0 };
	uint64_t addr;
	char *buf;
	int ret;

	if (len == 0)
		return 0;
	ret = fsa_ext2_map_runs(ei, (uint64_t)pos >> bits, FSA_EXT2_MAX_LBLK,
				&map);
	if (ret || map.type != IOMAP_MAPPED)
		return ret;
	buf = malloc(fs->blocksize);
	if (!buf)
		return -ENOMEM;
	/* A data block never stays in the metadata cache: buffer heads
	 * write it back through a mapping cached in the folio, without
	 * asking the adapter, so a copy kept here could be older than the
	 * disk the next time. */
	addr = iomap_addr(&map, pos) & ~((uint64_t)fs->blocksize - 1);
	fsa_ext2_bcache_forget(ei->fs, addr, fs->blocksize);
	ret = fsa_ext2_errno(
		io_channel_read_blk64(fs->io, addr >> bits, 1, buf));
	if (!ret) {
		memset(buf + (pos & (fs->blocksize - 1)), 0, len);
		ret = fsa_ext2_errno(
			io_channel_write_blk64(fs->io, addr >> bits, 1, buf));
	}
	fsa_ext2_bcache_forget(ei->fs, addr, fs->blocksize);
	free(buf);
	return ret;
}

/*
 * Map [@first, @last] before anything is freed: a damaged map (a bad
 * checksum, a run into metadata) fails here with nothing changed, where
 * ext2fs_punch() would find it after freeing part of the range.  One
 * pass over the run list, which the punch walks anyway.
 */
static int fsa_ext2_check_map(struct fsa_ext2_inode *ei, blk64_t first,
			      blk64_t last)
{
	unsigned int bits = ei->vfs.blkbits;
	struct iomap map;
	int ret = 0;

	/* Inline data has no block map (uninlining frees it here). */
	if (ei->inode.i_flags & EXT4_INLINE_DATA_FL)
		return 0;
	while (!ret && first <= last && first < FSA_EXT2_MAX_LBLK) {
		ret = fsa_ext2_map_runs(ei, first, FSA_EXT2_MAX_LBLK, &map);
		first = ((uint64_t)map.offset + map.length) >> bits;
	}
	return ret;
}

/* Free whole blocks [@first, @last] (fsa_ext2_punch_range() updates the
 * bitmaps, group descriptors, i_blocks and the block map, see punch.c). */
int fsa_ext2_free_blocks(struct fsa_ext2_inode *ei, blk64_t first, blk64_t last)
{
	int ret;

	if (first > last)
		return 0;
	ret = fsa_ext2_check_map(ei, first, last);
	if (ret)
		return ret;
	ret = fsa_ext2_errno(fsa_ext2_punch_range(
		ei->fs->fs, ei->ino, (struct ext2_inode *)&ei->inode, first,
		last));
	fsa_ext2_cursor_invalidate(ei, first);
	return ret;
}

/*
 * The file grows (or a write failed) at @old: the bytes of its last block
 * past @old must read as zeros once the size moves over them, whatever a
 * failed direct write left there (the kernel's pagecache_isize_extended()
 * and the zeroed tail of the EOF page keep the same rule).
 */
int fsa_ext2_zero_eof_tail(struct fsa_ext2_inode *ei, loff_t old)
{
	uint64_t bs = 1ULL << ei->vfs.blkbits, off = (uint64_t)old & (bs - 1);

	if (!off || ei->inline_buf)
		return 0;
	return fsa_ext2_zero_partial(ei, old, bs - off);
}

/*
 * Free the written blocks past EOF, which e2fsck flags (unwritten ones
 * are a KEEP_SIZE preallocation and stay): what a write that failed part
 * way through a block-at-a-time allocation left, as the kernel's
 * ext2_write_failed() truncates.
 */
int fsa_ext2_trim_eof(struct fsa_ext2_inode *ei)
{
	unsigned int bits = ei->vfs.blkbits;
	uint64_t bs = 1ULL << bits;
	blk64_t lblk = (EXT2_I_SIZE(&ei->inode) + bs - 1) >> bits, end;
	struct iomap map;
	int ret = 0;

	if (ei->inline_buf ||
	    !ext2fs_inode_has_valid_blocks2(ei->fs->fs,
					    (struct ext2_inode *)&ei->inode))
		return 0;
	while (!ret && lblk < FSA_EXT2_MAX_LBLK) {
		ret = fsa_ext2_map_runs(ei, lblk, FSA_EXT2_MAX_LBLK, &map);
		end = ((uint64_t)map.offset + map.length) >> bits;
		if (!ret && map.type == IOMAP_MAPPED)
			ret = fsa_ext2_free_blocks(ei, lblk, end - 1);
		lblk = end;
	}
	return ret ? ret : fsa_ext2_write_inode(ei);
}

/* Account @n blocks at @pblk to the inode (@sign +1) or give them back. */
static errcode_t fsa_ext2_claim(ext2_filsys fs, struct ext2_inode *in,
				blk64_t pblk, blk64_t n, int sign)
{
	ext2fs_block_alloc_stats_range(fs, pblk, (blk_t)n, sign);
	return sign > 0 ? ext2fs_iblk_add_blocks(fs, in, n) :
			  ext2fs_iblk_sub_blocks(fs, in, n);
}

/*
 * Map @ex, new blocks, into the tree at the handle's current extent @nb
 * (the one before it, or after it when it has none; @nb NULL for an empty
 * tree): the extent before grows when @ex continues it on disk, as ext4
 * merges, else @ex is inserted, which may need a tree block.
 */
static errcode_t fsa_ext2_ext_add(ext2_extent_handle_t h,
				  struct ext2fs_extent *nb,
				  const struct ext2fs_extent *ex)
{
	uint32_t max = (ex->e_flags & EXT2_EXTENT_FLAGS_UNINIT) ?
			       EXT_UNINIT_MAX_LEN :
			       EXT_INIT_MAX_LEN;
	int op = EXT2_EXTENT_INSERT_AFTER;
	errcode_t err;

	if (!nb || nb->e_lblk > ex->e_lblk) {
		op = 0;
	} else if (nb->e_lblk + nb->e_len == ex->e_lblk &&
		   nb->e_pblk + nb->e_len == ex->e_pblk &&
		   !((nb->e_flags ^ ex->e_flags) & EXT2_EXTENT_FLAGS_UNINIT) &&
		   (uint64_t)nb->e_len + ex->e_len <= max) {
		nb->e_len += ex->e_len;
		err = ext2fs_extent_replace(h, 0, nb);
		return err ? err : ext2fs_extent_fix_parents(h);
	}
	err = ext2fs_extent_insert(h, op, (struct ext2fs_extent *)ex);
	return err ? err : ext2fs_extent_fix_parents(h);
}

/* Where the blocks for @lblk should go: after the extent before it, before
 * the one after it, else the inode's group. */
static blk64_t fsa_ext2_goal(struct fsa_ext2_inode *ei,
			     const struct ext2fs_extent *nb, blk64_t lblk)
{
	if (nb && nb->e_lblk <= lblk)
		return nb->e_pblk + (lblk - nb->e_lblk);
	if (nb && nb->e_pblk > nb->e_lblk - lblk)
		return nb->e_pblk - (nb->e_lblk - lblk);
	return ext2fs_find_inode_goal(ei->fs->fs, ei->ino,
				      (struct ext2_inode *)&ei->inode, lblk);
}

/*
 * Allocate up to @n blocks for the hole at @lblk as one extent; *@got is
 * how many.  The data blocks are claimed before the extent goes in, and
 * given back when it cannot (no block left for a tree split), as ext4
 * frees them when ext4_ext_insert_extent() fails: nothing leaks.
 */
static errcode_t fsa_ext2_ext_alloc_one(struct fsa_ext2_inode *ei,
					ext2_extent_handle_t h, blk64_t lblk,
					blk64_t n, bool uninit, blk64_t *got)
{
	ext2_filsys fs = ei->fs->fs;
	struct ext2_inode *in = (struct ext2_inode *)&ei->inode;
	struct ext2fs_extent nb, ex = { .e_lblk = lblk };
	blk64_t pblk, plen;
	bool have_nb;
	errcode_t err;

	ext2fs_extent_goto(h, lblk); /* a hole: lands on a neighbour */
	err = ext2fs_extent_get(h, EXT2_EXTENT_CURRENT, &nb);
	if (err && err != EXT2_ET_NO_CURRENT_NODE)
		return err;
	have_nb = !err;
	err = ext2fs_new_range(fs, 0, fsa_ext2_goal(ei, have_nb ? &nb : NULL,
						   lblk),
			       n, NULL, &pblk, &plen);
	if (err)
		return err;
	/* Zeroed before it is mapped: no stale byte is ever readable. */
	if (!uninit)
		err = ext2fs_zero_blocks2(fs, pblk, (int)plen, NULL, NULL);
	if (!err)
		err = fsa_ext2_claim(fs, in, pblk, plen, +1);
	if (err)
		return err;
	ex.e_pblk = pblk;
	ex.e_len = (uint32_t)plen;
	ex.e_flags = uninit ? EXT2_EXTENT_FLAGS_UNINIT : 0;
	err = fsa_ext2_ext_add(h, have_nb ? &nb : NULL, &ex);
	if (err) {
		fsa_ext2_claim(fs, in, pblk, plen, -1);
		return err;
	}
	*got = plen;
	return 0;
}

/*
 * Allocate the holes of [@lblk, @lblk + @len) of an extent-mapped file,
 * and nothing else.  (ext2fs_fallocate() of libext2fs 1.47.0 allocates a
 * hole before the first extent up to that extent whatever @len is, and
 * leaks its blocks when the extent insert fails.)  On an error, what was
 * allocated before it stays mapped.
 */
static int fsa_ext2_ext_alloc(struct fsa_ext2_inode *ei, blk64_t lblk,
			      blk64_t len, bool uninit)
{
	unsigned int bits = ei->vfs.blkbits;
	blk64_t pos = lblk, end = lblk + len, got, n;
	ext2_extent_handle_t h = NULL;
	struct iomap map;
	errcode_t err;
	int ret = 0;

	err = ext2fs_extent_open2(ei->fs->fs, ei->ino,
				  (struct ext2_inode *)&ei->inode, &h);
	while (!err && pos < end) {
		ret = fsa_ext2_map_runs(ei, pos, FSA_EXT2_MAX_LBLK, &map);
		if (ret)
			break;
		n = ((uint64_t)map.offset + map.length) >> bits;
		n = (n < end ? n : end) - pos;
		if (map.type != IOMAP_HOLE) {
			pos += n;
			continue;
		}
		if (n > FSA_EXT2_MAX_ALLOC)
			n = FSA_EXT2_MAX_ALLOC;
		err = fsa_ext2_ext_alloc_one(ei, h, pos, n, uninit, &got);
		fsa_ext2_cursor_invalidate(ei, pos);
		if (!err)
			pos += got;
	}
	if (h)
		ext2fs_extent_free(h);
	return ret ? ret : fsa_ext2_errno(err);
}

static int fsa_ext2_count_block(ext2_filsys fs, blk64_t *blocknr,
				e2_blkcnt_t blockcnt, blk64_t ref_blk,
				int ref_offset, void *priv)
{
	(void)fs;
	(void)blocknr;
	(void)blockcnt;
	(void)ref_blk;
	(void)ref_offset;
	(*(blk64_t *)priv)++;
	return 0;
}

/*
 * libext2fs's bmap (1.47.0, and upstream still) adds the indirect blocks
 * an allocation made to i_blocks only when the whole allocation
 * succeeded: after ENOSPC part way they stay mapped but uncounted (and
 * unreferenced until the inode is written), and freeing them later takes
 * i_blocks below the truth (e2fsck: "i_blocks is 16, should be 20").  So
 * the inode is written and i_blocks counted from its map.
 */
int fsa_ext2_ind_alloc_failed(struct fsa_ext2_inode *ei)
{
	ext2_filsys fs = ei->fs->fs;
	struct ext2_inode *in = (struct ext2_inode *)&ei->inode;
	blk64_t n = ext2fs_file_acl_block(fs, in) ? 1 : 0;
	int ret = fsa_ext2_write_inode(ei);

	if (!ret)
		ret = fsa_ext2_errno(ext2fs_block_iterate3(
			fs, ei->ino, BLOCK_FLAG_READ_ONLY, NULL,
			fsa_ext2_count_block, &n));
	if (!ret)
		ret = fsa_ext2_errno(ext2fs_iblk_set(fs, in, n));
	return ret ? ret : fsa_ext2_write_inode(ei);
}

/*
 * Is @ei's inode still @before, and extent-mapped?  An indirect-mapped
 * one may have new indirect blocks behind an unchanged inode (a block
 * pointer written into an indirect block): fsa_ext2_ind_alloc_failed()
 * must count them.
 */
static bool fsa_ext2_inode_same(const struct fsa_ext2_inode *ei,
				const struct ext2_inode_large *before)
{
	return (ei->inode.i_flags & EXT4_EXTENTS_FL) &&
	       !memcmp(&ei->inode, before, sizeof(*before));
}

/*
 * Allocate @len blocks from @lblk where there are none: unwritten extents
 * when @uninit (ext4), else blocks zeroed before they are mapped, so no
 * stale data is ever exposed.  Indirect-mapped files go through
 * ext2fs_fallocate(), one bmap per block, bounded by the range.
 */
int fsa_ext2_alloc(struct fsa_ext2_inode *ei, blk64_t lblk, blk64_t len,
		   bool uninit)
{
	struct ext2_inode_large before = ei->inode;
	int ret, wret;

	if (ei->inode.i_flags & EXT4_EXTENTS_FL)
		ret = fsa_ext2_ext_alloc(ei, lblk, len, uninit);
	else
		ret = fsa_ext2_errno(ext2fs_fallocate(
			ei->fs->fs,
			EXT2_FALLOCATE_FORCE_INIT | EXT2_FALLOCATE_ZERO_BLOCKS |
				EXT2_FALLOCATE_INIT_BEYOND_EOF,
			ei->ino, (struct ext2_inode *)&ei->inode, ~0ULL, lblk,
			len));
	/* Whatever was allocated before an error is recorded. */
	fsa_ext2_cursor_invalidate(ei, lblk);
	/*
	 * Unless the image failed or its tree is damaged: libext2fs may have
	 * left half a tree split in the inode (a deeper root whose index is
	 * still the old extent), and writing that loses the file; the disk's
	 * inode is whole.
	 */
	if (ret == -EIO || ret == -EFSCORRUPTED) {
		fsa_ext2_refresh(ei);
		return ret;
	}
	/* Refused before an extent moved (a full image): nothing to write. */
	if (ret && fsa_ext2_inode_same(ei, &before))
		return ret;
	wret = ret && !(ei->inode.i_flags & EXT4_EXTENTS_FL) ?
		       fsa_ext2_ind_alloc_failed(ei) :
		       fsa_ext2_write_inode(ei);
	return ret ? ret : wret;
}

bool fsa_ext2_can_unwritten(const struct fsa_ext2_inode *ei)
{
	return ei->inode.i_flags & EXT4_EXTENTS_FL;
}

/*
 * Move inline data out to a real block before the file is written
 * through block mappings (the kernel converts the same way).
 */
int fsa_ext2_uninline(struct fsa_ext2_inode *ei)
{
	ext2_filsys fs = ei->fs->fs;
	loff_t size = ei->vfs.size;
	void *data = ei->inline_buf;
	size_t n = ei->inline_size;
	int ret;

	ret = fsa_ext2_free_blocks(ei, 0, ~0ULL);
	if (ret)
		return ret;
	ei->inline_buf = NULL;
	ei->inline_size = 0;
	ei->inode.i_flags &= ~EXT4_INLINE_DATA_FL;
	memset(ei->inode.i_block, 0, sizeof(ei->inode.i_block));
	if (ext2fs_has_feature_extents(fs->super)) {
		ext2_extent_handle_t h;

		ret = fsa_ext2_errno(ext2fs_extent_open2(
			fs, ei->ino, (struct ext2_inode *)&ei->inode, &h));
		if (!ret)
			ext2fs_extent_free(h);
	}
	if (!ret)
		ret = fsa_ext2_set_size(ei, size);
	if (!ret)
		ret = fsa_ext2_write_inode(ei);
	fsa_ext2_cursor_reset(ei);
	if (!ret && n) {
		struct iomap map = { 0 };

		ret = fsa_ext2_alloc(ei, 0, 1, false);
		if (!ret)
			ret = fsa_ext2_map_runs(ei, 0, 1, &map);
		if (!ret && map.type == IOMAP_MAPPED)
			ret = fsa_ext2_errno(io_channel_write_byte(
				fs->io, (unsigned long)map.addr, (int)n, data));
	}
	free(data);
	return ret;
}

int fsa_ext2_setsize(struct iomap_inode *inode, loff_t size)
{
	struct fsa_ext2_inode *ei = EXT2_I(inode);
	unsigned int bits = inode->blkbits;
	uint64_t bs = 1ULL << bits;
	int ret = fsa_ext2_writable(ei->fs);

	if (!ret && size < 0)
		ret = -EINVAL;
	if (!ret)
		ret = fsa_ext2_refresh(ei);
	if (ret)
		return ret;
	if (ei->inline_buf && (uint64_t)size > ei->inline_size)
		ret = fsa_ext2_uninline(ei);
	if (!ret && size < inode->size && !ei->inline_buf) {
		blk64_t first = ((uint64_t)size + bs - 1) >> bits;

		ret = fsa_ext2_free_blocks(ei, first, ~0ULL);
		if (!ret && (size & (bs - 1)))
			ret = fsa_ext2_zero_partial(ei, size,
						    bs - (size & (bs - 1)));
	}
	if (!ret && size > inode->size)
		ret = fsa_ext2_zero_eof_tail(ei, inode->size);
	if (!ret && ei->inline_buf && size < inode->size) {
		ei->inline_size = (size_t)size;
		ret = fsa_ext2_errno(ext2fs_inline_data_set(
			ei->fs->fs, ei->ino, (struct ext2_inode *)&ei->inode,
			ei->inline_buf, (size_t)size));
		if (!ret)
			ret = fsa_ext2_refresh(ei);
	}
	if (ret)
		return ret;
	ret = fsa_ext2_set_size(ei, size);
	fsa_ext2_touch(&ei->inode);
	return ret ? ret : fsa_ext2_write_inode(ei);
}

/*
 * The start of every range mutation: a writable image, a sane range, the
 * inode as it is on disk, and no inline data left to map around.
 */
static int fsa_ext2_range_begin(struct fsa_ext2_inode *ei, loff_t pos,
				uint64_t len)
{
	int ret = fsa_ext2_writable(ei->fs);

	if (!ret && (pos < 0 || len == 0 || (uint64_t)pos + len < len))
		ret = -EINVAL;
	if (!ret)
		ret = fsa_ext2_refresh(ei);
	if (!ret && ei->inline_buf)
		ret = fsa_ext2_uninline(ei);
	return ret;
}

/* The end (bytes, at most @end) of the allocated blocks from @first on. */
static uint64_t fsa_ext2_alloc_end(struct fsa_ext2_inode *ei, blk64_t first,
				   uint64_t end)
{
	unsigned int bits = ei->vfs.blkbits;
	uint64_t at = (uint64_t)first << bits;
	struct iomap map;

	while (at < end &&
	       !fsa_ext2_map_runs(ei, at >> bits, FSA_EXT2_MAX_LBLK, &map) &&
	       map.type != IOMAP_HOLE)
		at = (uint64_t)map.offset + map.length;
	return at < end ? at : end;
}

int fsa_ext2_falloc(struct iomap_inode *inode, loff_t pos, uint64_t len,
		    bool keep_size)
{
	struct fsa_ext2_inode *ei = EXT2_I(inode);
	unsigned int bits = inode->blkbits;
	uint64_t end = (uint64_t)pos + len;
	blk64_t first, last;
	int ret = fsa_ext2_range_begin(ei, pos, len), wret = 0;
	struct ext2_inode_large before = ei->inode;

	if (ret)
		return ret;
	first = (uint64_t)pos >> bits;
	last = (end - 1) >> bits;
	if (last >= FSA_EXT2_MAX_LBLK)
		return -EFBIG;
	/* Blocks past EOF are only legal as unwritten extents (e2fsck
	 * flags them otherwise): the kernel refuses these files too. */
	if (keep_size && !fsa_ext2_can_unwritten(ei) &&
	    end > (((uint64_t)inode->size + (1ULL << bits) - 1) &
		   ~((1ULL << bits) - 1)))
		return -EOPNOTSUPP;
	ret = fsa_ext2_alloc(ei, first, last - first + 1,
			     fsa_ext2_can_unwritten(ei));
	/* A failed image, a damaged tree, or nothing allocated: the inode
	 * stays as it is, times included, as the kernel leaves it. */
	if (ret == -EIO || ret == -EFSCORRUPTED ||
	    (ret && fsa_ext2_inode_same(ei, &before)))
		return ret;
	/* Out of space part way: the size covers what was allocated, as
	 * ext4_alloc_file_blocks() moves it after each mapping. */
	if (ret && !keep_size)
		end = fsa_ext2_alloc_end(ei, first, end);
	if (!keep_size && (loff_t)end > inode->size) {
		wret = fsa_ext2_zero_eof_tail(ei, inode->size);
		if (!wret)
			wret = fsa_ext2_set_size(ei, (loff_t)end);
	}
	fsa_ext2_touch(&ei->inode);
	if (!wret)
		wret = ret && !(ei->inode.i_flags & EXT4_EXTENTS_FL) ?
		       fsa_ext2_ind_alloc_failed(ei) :
		       fsa_ext2_write_inode(ei);
	return ret ? ret : wret;
}

int fsa_ext2_punch(struct iomap_inode *inode, loff_t pos, uint64_t len)
{
	struct fsa_ext2_inode *ei = EXT2_I(inode);
	unsigned int bits = inode->blkbits;
	uint64_t bs = 1ULL << bits, end = (uint64_t)pos + len;
	uint64_t head_end, tail_start;
	int ret = fsa_ext2_range_begin(ei, pos, len);

	if (ret)
		return ret;
	/* Partial blocks at the edges are zeroed, whole ones freed. */
	head_end = ((uint64_t)pos + bs - 1) & ~(bs - 1);
	tail_start = end & ~(bs - 1);
	if (head_end > end || tail_start < (uint64_t)pos) {
		ret = fsa_ext2_zero_partial(ei, pos, len);
	} else {
		ret = fsa_ext2_zero_partial(ei, pos, head_end - (uint64_t)pos);
		if (!ret)
			ret = fsa_ext2_zero_partial(ei, (loff_t)tail_start,
						    end - tail_start);
		if (!ret && tail_start > head_end)
			ret = fsa_ext2_free_blocks(ei, head_end >> bits,
						   (tail_start >> bits) - 1);
	}
	if (ret)
		return ret;
	fsa_ext2_touch(&ei->inode);
	return fsa_ext2_write_inode(ei);
}

/* A new name in @dir: valid, not there yet. */
/* Entries may change in directory @dir: the image is writable and @dir is
 * an inode number ext2 can have. */
int fsa_ext2_dir_writable(struct fsa_ext2_fs *efs, uint64_t dir)
{
	int ret = fsa_ext2_writable(efs);

	if (!ret && (dir == 0 || dir > UINT32_MAX))
		ret = -ENOENT;
	return ret;
}

int fsa_ext2_check_name(struct fsa_ext2_fs *efs, ext2_ino_t dir,
			const char *name)
{
	size_t len = strlen(name);
	ext2_ino_t ino;
	errcode_t err;

	if (len == 0 || strchr(name, '/'))
		return -EINVAL;
	if (len > EXT2_NAME_LEN)
		return -ENAMETOOLONG;
	if (!strcmp(name, ".") || !strcmp(name, ".."))
		return -EEXIST;
	if (fsa_ext2_dirindex_absent(efs, dir, name))
		return 0;
	err = ext2fs_lookup(efs->fs, dir, name, (int)len, NULL, &ino);
	if (!err)
		return -EEXIST;
	return err == EXT2_ET_FILE_NOT_FOUND ? 0 : fsa_ext2_errno(err);
}

/* Link, growing the directory by a block when it is full. */
int fsa_ext2_add_link(struct fsa_ext2_fs *efs, ext2_ino_t dir, const char *name,
		      ext2_ino_t ino, int ft)
{
	int ret = fsa_ext2_dirindex_link(efs, dir, name, ino, ft);
	errcode_t err;

	if (ret != 1)
		return ret;
	err = ext2fs_link(efs->fs, dir, name, ino, ft);
	if (err == EXT2_ET_DIR_NO_SPACE) {
		err = ext2fs_expand_dir(efs->fs, dir);
		if (!err)
			err = ext2fs_link(efs->fs, dir, name, ino, ft);
	}
	if (!err)
		fsa_ext2_dirindex_added(efs, dir, name);
	return fsa_ext2_errno(err);
}

int fsa_ext2_touch_dir(struct fsa_ext2_fs *efs, ext2_ino_t dir)
{
	struct ext2_inode_large in;
	int ret = fsa_ext2_read_inode(efs, dir, &in);

	if (ret)
		return ret;
	fsa_ext2_touch(&in);
	return fsa_ext2_errno(ext2fs_write_inode_full(
		efs->fs, dir, (struct ext2_inode *)&in, sizeof(in)));
}

/* The inode of a new empty regular file, extent-mapped on ext4. */
static int fsa_ext2_init_file(struct fsa_ext2_fs *efs, ext2_ino_t ino,
			      uint32_t mode)
{
	ext2_filsys fs = efs->fs;
	struct ext2_inode_large in = { 0 };
	struct timespec now;
	errcode_t err;

	clock_gettime(CLOCK_REALTIME, &now);
	in.i_mode = (uint16_t)(LINUX_S_IFREG | (mode & 07777));
	in.i_links_count = 1;
	if (EXT2_INODE_SIZE(fs->super) > EXT2_GOOD_OLD_INODE_SIZE)
		in.i_extra_isize = sizeof(in) - EXT2_GOOD_OLD_INODE_SIZE;
	fsa_ext2_set_time(&in, &in.i_atime, &in.i_atime_extra, now);
	fsa_ext2_set_time(&in, &in.i_mtime, &in.i_mtime_extra, now);
	fsa_ext2_set_time(&in, &in.i_ctime, &in.i_ctime_extra, now);
	fsa_ext2_set_time(&in, &in.i_crtime, &in.i_crtime_extra, now);
	if (ext2fs_has_feature_extents(fs->super)) {
		ext2_extent_handle_t h;

		/* Opening a handle on an empty inode writes the header. */
		err = ext2fs_extent_open2(fs, ino, (struct ext2_inode *)&in,
					  &h);
		if (err)
			return fsa_ext2_errno(err);
		ext2fs_extent_free(h);
	}
	err = ext2fs_write_new_inode(fs, ino, (struct ext2_inode *)&in);
	/* write_new_inode keeps only the first 128 bytes: add the rest. */
	if (!err && EXT2_INODE_SIZE(fs->super) > EXT2_GOOD_OLD_INODE_SIZE)
		err = ext2fs_write_inode_full(fs, ino, (struct ext2_inode *)&in,
					      sizeof(in));
	return fsa_ext2_errno(err);
}

/*
 * A free inode number from the bitmap, refused when the inode table holds
 * a live inode there (links, no deletion time): a bitmap missing a bit
 * (e2fsprogs' f_bitmaps: lost+found, inode 11) handed that inode out again
 * and the new file overwrote it.  An uninitialised part of a table
 * (itable_unused) holds no inode yet, whatever its bytes.
 */
static int fsa_ext2_new_inode(struct fsa_ext2_fs *efs, ext2_ino_t dir,
			      int mode, ext2_ino_t *ino)
{
	ext2_filsys fs = efs->fs;
	uint32_t ipg = fs->super->s_inodes_per_group;
	struct ext2_inode_large in;
	dgrp_t g;
	int ret = fsa_ext2_errno(ext2fs_new_inode(fs, dir, mode, NULL, ino));

	if (ret)
		return ret;
	g = ext2fs_group_of_ino(fs, *ino);
	if (ext2fs_has_group_desc_csum(fs) &&
	    (ext2fs_bg_flags_test(fs, g, EXT2_BG_INODE_UNINIT) ||
	     (*ino - 1) % ipg >= ipg - ext2fs_bg_itable_unused(fs, g)))
		return 0;
	ret = fsa_ext2_read_inode(efs, *ino, &in);
	if (ret || !in.i_links_count || in.i_dtime)
		return ret;
	fprintf(stderr,
		"iomapctl: %s: inode %u is free in the bitmap but in use in "
		"the inode table (run e2fsck)\n",
		fs->device_name, *ino);
	return -EFSCORRUPTED;
}

int fsa_ext2_create(struct fsa_fs *fs, uint64_t dir, const char *name,
		    uint32_t mode, uint64_t *inop)
{
	struct fsa_ext2_fs *efs = EXT2_FS(fs);
	ext2_ino_t ino;
	int ret = fsa_ext2_dir_writable(efs, dir);

	if (!ret)
		ret = fsa_ext2_check_name(efs, (ext2_ino_t)dir, name);
	if (ret)
		return ret;
	ret = fsa_ext2_new_inode(efs, (ext2_ino_t)dir, LINUX_S_IFREG | 0600,
				 &ino);
	if (ret)
		return ret;
	/* Inode first, then the name: a failure leaves no dangling entry. */
	ret = fsa_ext2_init_file(efs, ino, mode);
	if (ret)
		return ret;
	ext2fs_inode_alloc_stats2(efs->fs, ino, +1, 0);
	ret = fsa_ext2_add_link(efs, (ext2_ino_t)dir, name, ino,
				EXT2_FT_REG_FILE);
	if (ret) {
		/* Links and dtime as a deleted inode: its number is reused. */
		fsa_ext2_release_inode(efs, ino);
		return ret;
	}
	*inop = ino;
	return fsa_ext2_touch_dir(efs, (ext2_ino_t)dir);
}

/*
 * A new directory in a large one: built without its name (libext2fs would
 * look the name up and scan the parent for room), then linked through the
 * parent's name set; undone when the link fails.
 */
static int fsa_ext2_mkdir_indexed(struct fsa_ext2_fs *efs, ext2_ino_t dir,
				  ext2_ino_t ino, const char *name)
{
	struct ext2_inode_large in;
	int ret = fsa_ext2_errno(ext2fs_mkdir(efs->fs, dir, ino, NULL));

	if (ret)
		return ret;
	ret = fsa_ext2_add_link(efs, dir, name, ino, EXT2_FT_DIR);
	if (!ret)
		return 0;
	/* Its ".." counted in the parent: no longer. */
	if (!fsa_ext2_release_inode(efs, ino) &&
	    !fsa_ext2_read_inode(efs, dir, &in) && in.i_links_count > 2) {
		in.i_links_count--;
		ext2fs_write_inode_full(efs->fs, dir, (struct ext2_inode *)&in,
					sizeof(in));
	}
	return ret;
}

int fsa_ext2_mkdir(struct fsa_fs *fs, uint64_t dir, const char *name,
		   uint32_t mode, uint64_t *inop)
{
	struct fsa_ext2_fs *efs = EXT2_FS(fs);
	struct ext2_inode_large in, parent;
	uint16_t nlink;
	ext2_ino_t ino;
	errcode_t err;
	int ret = fsa_ext2_dir_writable(efs, dir);

	if (!ret)
		ret = fsa_ext2_check_name(efs, (ext2_ino_t)dir, name);
	if (!ret)
		ret = fsa_ext2_read_inode(efs, (ext2_ino_t)dir, &parent);
	if (!ret)
		ret = fsa_ext2_dir_nlink_next(efs, parent.i_links_count, 1,
					      &nlink);
	if (ret)
		return ret;
	/* Its number chosen first: no lookup of the new name afterwards. */
	ret = fsa_ext2_new_inode(efs, (ext2_ino_t)dir, LINUX_S_IFDIR | 0755,
				 &ino);
	if (ret)
		return ret;
	if (fsa_ext2_dirindex_has(efs, (ext2_ino_t)dir)) {
		/* fsa_ext2_add_link records the name. */
		ret = fsa_ext2_mkdir_indexed(efs, (ext2_ino_t)dir, ino, name);
	} else {
		err = ext2fs_mkdir(efs->fs, (ext2_ino_t)dir, ino, name);
		if (err == EXT2_ET_DIR_NO_SPACE) {
			err = ext2fs_expand_dir(efs->fs, (ext2_ino_t)dir);
			if (!err)
				err = ext2fs_mkdir(efs->fs, (ext2_ino_t)dir,
						   ino, name);
		}
		if (!err)
			fsa_ext2_dirindex_added(efs, (ext2_ino_t)dir, name);
		ret = fsa_ext2_errno(err);
	}
	if (!ret)
		ret = fsa_ext2_read_inode(efs, ino, &in);
	if (ret)
		return ret;
	in.i_mode = (uint16_t)(LINUX_S_IFDIR | (mode & 07777));
	ret = fsa_ext2_errno(ext2fs_write_inode_full(
		efs->fs, ino, (struct ext2_inode *)&in, sizeof(in)));
	/* libext2fs counted the new ".." without the limit: count again. */
	if (!ret)
		ret = fsa_ext2_read_inode(efs, (ext2_ino_t)dir, &parent);
	if (!ret) {
		parent.i_links_count = nlink;
		fsa_ext2_touch(&parent);
		ret = fsa_ext2_errno(ext2fs_write_inode_full(
			efs->fs, (ext2_ino_t)dir, (struct ext2_inode *)&parent,
			sizeof(parent)));
	}
	if (!ret)
		*inop = ino;
	return ret;
}

/*
 * Mode (permission bits; the file type never changes), owner and the
 * times in @st; a zero crtime is left alone.  ctime is taken from @st too,
 * so copies between images keep it.
 */
int fsa_ext2_setattr(struct fsa_fs *fs, uint64_t ino, const struct fsa_stat *st)
{
	struct fsa_ext2_fs *efs = EXT2_FS(fs);
	struct ext2_inode_large in;
	int ret = fsa_ext2_writable(efs);

	if (!ret && ino > UINT32_MAX)
		ret = -ENOENT;
	if (!ret)
		ret = fsa_ext2_read_inode(efs, (ext2_ino_t)ino, &in);
	if (ret)
		return ret;
	in.i_mode = (uint16_t)((in.i_mode & LINUX_S_IFMT) | (st->mode & 07777));
	in.i_uid = (uint16_t)st->uid;
	in.osd2.linux2.l_i_uid_high = (uint16_t)(st->uid >> 16);
	in.i_gid = (uint16_t)st->gid;
	in.osd2.linux2.l_i_gid_high = (uint16_t)(st->gid >> 16);
	fsa_ext2_set_time(&in, &in.i_atime, &in.i_atime_extra, st->atime);
	fsa_ext2_set_time(&in, &in.i_mtime, &in.i_mtime_extra, st->mtime);
	fsa_ext2_set_time(&in, &in.i_ctime, &in.i_ctime_extra, st->ctime);
	if (st->crtime.tv_sec || st->crtime.tv_nsec)
		fsa_ext2_set_time(&in, &in.i_crtime, &in.i_crtime_extra,
				  st->crtime);
	return fsa_ext2_errno(ext2fs_write_inode_full(efs->fs, (ext2_ino_t)ino,
						      (struct ext2_inode *)&in,
						      sizeof(in)));
}

/*
 * Free an inode whose last link is gone: its blocks (never for a fast
 * symlink, whose i_block holds text), its EA block reference, the inode.
 */
int fsa_ext2_release_inode(struct fsa_ext2_fs *efs, ext2_ino_t ino)
{
	struct ext2_inode_large in;
	errcode_t err = 0;
	int ret = fsa_ext2_read_inode(efs, ino, &in);

	if (ret)
		return ret;
	if (ext2fs_inode_has_valid_blocks2(efs->fs, (struct ext2_inode *)&in) ||
	    (in.i_flags & EXT4_INLINE_DATA_FL))
		err = fsa_ext2_punch_range(efs->fs, ino,
					   (struct ext2_inode *)&in, 0, ~0ULL);
	if (!err && ext2fs_file_acl_block(efs->fs, (struct ext2_inode *)&in))
		err = ext2fs_free_ext_attr(efs->fs, ino, &in);
	if (err)
		return fsa_ext2_errno(err);
	in.i_links_count = 0;
	in.i_dtime = (uint32_t)time(NULL);
	ret = fsa_ext2_errno(ext2fs_write_inode_full(
		efs->fs, ino, (struct ext2_inode *)&in, sizeof(in)));
	if (!ret)
		ext2fs_inode_alloc_stats2(efs->fs, ino, -1,
					  LINUX_S_ISDIR(in.i_mode));
	return ret;
}

/*
 * libext2fs builds the inode (fast, inline or slow, by length) but cannot
 * grow a full directory, so the name is linked here, where it can.
 */
int fsa_ext2_symlink(struct fsa_fs *fs, uint64_t dir, const char *name,
		     const char *target, uint64_t *inop)
{
	struct fsa_ext2_fs *efs = EXT2_FS(fs);
	size_t tlen = strlen(target);
	ext2_ino_t ino;
	int ret = fsa_ext2_dir_writable(efs, dir);

	if (!ret && tlen == 0)
		ret = -ENOENT;
	if (!ret && tlen >= efs->fs->blocksize)
		ret = -ENAMETOOLONG;
	if (!ret)
		ret = fsa_ext2_check_name(efs, (ext2_ino_t)dir, name);
	if (!ret)
		ret = fsa_ext2_new_inode(efs, (ext2_ino_t)dir,
					 LINUX_S_IFLNK | 0777, &ino);
	if (!ret)
		ret = fsa_ext2_errno(ext2fs_symlink(efs->fs, (ext2_ino_t)dir,
						    ino, NULL, target));
	if (ret)
		return ret;
	ret = fsa_ext2_add_link(efs, (ext2_ino_t)dir, name, ino,
				EXT2_FT_SYMLINK);
	if (ret) {
		fsa_ext2_release_inode(efs, ino);
		return ret;
	}
	*inop = ino;
	return fsa_ext2_touch_dir(efs, (ext2_ino_t)dir);
}

/* One link fewer: the name goes at once, the inode with its last link. */
int fsa_ext2_unlink(struct fsa_fs *fs, uint64_t dir, const char *name)
{
	struct fsa_ext2_fs *efs = EXT2_FS(fs);
	struct ext2_inode_large in;
	ext2_ino_t ino;
	int ret = fsa_ext2_dir_writable(efs, dir);

	if (!ret && (!strcmp(name, ".") || !strcmp(name, "..")))
		ret = -EISDIR;
	if (!ret)
		ret = fsa_ext2_errno(ext2fs_lookup(efs->fs, (ext2_ino_t)dir,
						   name, (int)strlen(name),
						   NULL, &ino));
	if (!ret)
		ret = fsa_ext2_read_inode(efs, ino, &in);
	if (!ret && LINUX_S_ISDIR(in.i_mode))
		ret = -EISDIR;
	if (!ret)
		ret = fsa_ext2_errno(
			ext2fs_unlink(efs->fs, (ext2_ino_t)dir, name, ino, 0));
	if (ret)
		return ret;
	if (in.i_links_count > 1) {
		in.i_links_count--;
		fsa_ext2_touch(&in);
		ret = fsa_ext2_errno(ext2fs_write_inode_full(
			efs->fs, ino, (struct ext2_inode *)&in, sizeof(in)));
	} else {
		ret = fsa_ext2_release_inode(efs, ino);
	}
	return ret ? ret : fsa_ext2_touch_dir(efs, (ext2_ino_t)dir);
}
