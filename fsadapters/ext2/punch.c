// SPDX-License-Identifier: GPL-2.0
/*
 * punch.c - freeing the blocks of a logical range, for punch, truncate and
 * unlink: our own walk of the indirect tree, ext2fs_punch() for extent and
 * inline files (with a workaround for its last-block leak).
 */
#include <errno.h>
#include <string.h>

#include "ext2.h"

/*
 * libext2fs 1.47.0's ext2fs_punch() is wrong for indirect-mapped files:
 * ind_punch() hands the next level `count - offset` (a length minus a
 * position) as the count, which wraps, so a punch below a double or triple
 * indirect block frees the rest of that indirect block, or nothing; and
 * ext2fs_punch_ind() stops after the direct blocks when the range is no
 * longer than 12 blocks, though it may go on past them.  Upstream fixed the
 * first in 1.47.4 (Debian 12 ships 1.47.0), not the second; so indirect
 * files never go through it here, on any version.
 *
 * The walk below visits only the slots that overlap [first, last], at most
 * three levels deep, so it ends on any image.  Every block number is
 * checked against the filesystem, and a block must be in use in the bitmap
 * when it is freed: a block referenced twice (a loop in the tree) is found
 * the second time, as damage, before it is counted twice.
 */
struct fsa_ext2_ind_punch {
	ext2_filsys fs;
	blk64_t first, last; /* logical blocks, inclusive */
	unsigned int apb_bits; /* log2 of block addresses per block */
	char *buf; /* one indirect block per level: 3 blocks */
	blk64_t freed; /* blocks released, for i_blocks */
	/* The checking pass: blocks met so far; nothing is changed. */
	ext2fs_block_bitmap seen;
};

/* Logical blocks one slot at @level covers (level 0: a data block). */
static blk64_t fsa_ext2_ind_span(const struct fsa_ext2_ind_punch *p, int level)
{
	return 1ULL << (p->apb_bits * (unsigned int)level);
}

static bool fsa_ext2_ind_bad_blk(ext2_filsys fs, blk_t b)
{
	return b < fs->super->s_first_data_block ||
	       b >= ext2fs_blocks_count(fs->super);
}

/* Free the block in @slot and clear the slot. */
static errcode_t fsa_ext2_ind_release(struct fsa_ext2_ind_punch *p, blk_t *slot)
{
	if (!ext2fs_test_block_bitmap2(p->fs->block_map, *slot))
		return EXT2_ET_BAD_BLOCK_NUM; /* already free: damage */
	if (p->seen) {
		if (ext2fs_test_block_bitmap2(p->seen, *slot))
			return EXT2_ET_BAD_BLOCK_NUM; /* met twice */
		ext2fs_mark_block_bitmap2(p->seen, *slot);
		return 0;
	}
	ext2fs_block_alloc_stats2(p->fs, *slot, -1);
	*slot = 0;
	p->freed++;
	return 0;
}

static errcode_t fsa_ext2_ind_slot(struct fsa_ext2_ind_punch *p, blk_t *slot,
				   int level, blk64_t base);

/*
 * The entries of indirect block @b (already read into @addr), which maps
 * from @base with entries at @level: free those in range.  *@dirty says
 * whether @addr changed.
 */
static errcode_t fsa_ext2_ind_entries(struct fsa_ext2_ind_punch *p, blk_t *addr,
				      int level, blk64_t base, bool *dirty)
{
	blk64_t span = fsa_ext2_ind_span(p, level);
	size_t n = (size_t)1 << p->apb_bits, i = 0;
	errcode_t err = 0;

	if (p->first > base)
		i = (size_t)((p->first - base) / span);
	for (; i < n && !err && base + i * span <= p->last; i++) {
		blk_t old = addr[i];

		err = fsa_ext2_ind_slot(p, &addr[i], level, base + i * span);
		if (addr[i] != old)
			*dirty = true;
	}
	return err;
}

static bool fsa_ext2_ind_empty(const blk_t *addr, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (addr[i])
			return false;
	return true;
}

/*
 * The block in @slot maps [@base, @base + span(@level)) of the file: free
 * what of it lies in the range, then the indirect block itself once it
 * maps nothing more.  A changed indirect block that stays is written back,
 * also after an error below it, so the tree always matches the bitmaps.
 */
static errcode_t fsa_ext2_ind_slot(struct fsa_ext2_ind_punch *p, blk_t *slot,
				   int level, blk64_t base)
{
	ext2_filsys fs = p->fs;
	blk64_t end = base + fsa_ext2_ind_span(p, level) - 1;
	blk_t b = *slot, *addr;
	bool dirty = false;
	errcode_t err, werr;

	if (!b || end < p->first || base > p->last)
		return 0;
	if (fsa_ext2_ind_bad_blk(fs, b))
		return EXT2_ET_BAD_BLOCK_NUM;
	if (level == 0)
		return fsa_ext2_ind_release(p, slot);
	addr = (blk_t *)(p->buf + (size_t)(level - 1) * fs->blocksize);
	err = ext2fs_read_ind_block(fs, b, addr);
	if (err)
		return err;
	err = fsa_ext2_ind_entries(p, addr, level - 1, base, &dirty);
	/* Checking, each indirect block met counts as one to free. */
	if (p->seen)
		return err ? err : fsa_ext2_ind_release(p, slot);
	if (!err && fsa_ext2_ind_empty(addr, (size_t)1 << p->apb_bits)) {
		err = fsa_ext2_ind_release(p, slot);
		if (!err)
			return 0;
	}
	werr = dirty ? ext2fs_write_ind_block(fs, b, addr) : 0;
	return err ? err : werr;
}

/* Every i_block[] slot of @in through fsa_ext2_ind_slot(). */
static errcode_t fsa_ext2_ind_walk(struct fsa_ext2_ind_punch *p,
				   struct ext2_inode *in)
{
	blk64_t base = 0; /* where the slot starts mapping */
	errcode_t err = 0;

	for (int i = 0; i < EXT2_N_BLOCKS && !err; i++) {
		int level = i < EXT2_NDIR_BLOCKS ? 0 : i - EXT2_NDIR_BLOCKS + 1;

		err = fsa_ext2_ind_slot(p, &in->i_block[i], level, base);
		base += fsa_ext2_ind_span(p, level);
	}
	return err;
}

/*
 * Free the blocks mapped in [@first, @last] of indirect-mapped @in and the
 * indirect blocks left empty, lower i_blocks and write the inode (as
 * ext2fs_punch() does).  A first pass changes nothing and finds a block
 * free in the bitmap or met twice: damage is reported before anything is
 * freed (e2fsprogs' f_dup3, a file mapping block 99 twice, was left half
 * truncated).
 */
static errcode_t fsa_ext2_punch_ind(ext2_filsys fs, ext2_ino_t ino,
				    struct ext2_inode *in, blk64_t first,
				    blk64_t last)
{
	struct fsa_ext2_ind_punch p = { .fs = fs,
					.first = first,
					.last = last };
	errcode_t err, ierr, werr;

	if (!ext2fs_inode_has_valid_blocks2(fs, in))
		return 0;
	p.apb_bits = (unsigned int)EXT2_BLOCK_SIZE_BITS(fs->super) - 2;
	err = ext2fs_get_array(3, fs->blocksize, &p.buf);
	if (err)
		return err;
	err = ext2fs_allocate_block_bitmap(fs, "punch check", &p.seen);
	if (!err) {
		err = fsa_ext2_ind_walk(&p, in);
		ext2fs_free_block_bitmap(p.seen);
		p.seen = NULL;
	}
	if (err) {
		ext2fs_free_mem(&p.buf);
		return err;
	}
	err = fsa_ext2_ind_walk(&p, in);
	ext2fs_free_mem(&p.buf);
	/* What was freed is recorded even when the walk stopped early, and
	 * the cleared slots are written even when i_blocks was too low. */
	ierr = ext2fs_iblk_sub_blocks(fs, in, p.freed);
	werr = ext2fs_write_inode(fs, ino, in);
	return err ? err : ierr ? ierr : werr;
}

/*
 * The logical block of @in that maps the filesystem's last block: *@found
 * is set, and *@lblkp, when it lies in [@first, @last].
 */
static errcode_t fsa_ext2_find_last_block(ext2_filsys fs, ext2_ino_t ino,
					  struct ext2_inode *in, blk64_t first,
					  blk64_t last, blk64_t *lblkp,
					  int *found)
{
	blk64_t pend = ext2fs_blocks_count(fs->super) - 1, next = 0;
	ext2_extent_handle_t h;
	struct ext2fs_extent ext;
	errcode_t err;

	*found = 0;
	err = ext2fs_extent_open2(fs, ino, in, &h);
	if (err)
		return err;
	err = ext2fs_extent_get(h, EXT2_EXTENT_ROOT, &ext);
	while (!err) {
		/* Leaves come in logical order; a repeat means the walk
		 * went round (design.md: NEXT_LEAF quirk), so stop. */
		if (ext.e_flags & EXT2_EXTENT_FLAGS_LEAF) {
			if (next && ext.e_lblk < next)
				break;
			next = ext.e_lblk + ext.e_len;
		}
		if ((ext.e_flags & EXT2_EXTENT_FLAGS_LEAF) && ext.e_len &&
		    ext.e_pblk + ext.e_len - 1 == pend) {
			*lblkp = ext.e_lblk + ext.e_len - 1;
			*found = *lblkp >= first && *lblkp <= last;
			break;
		}
		err = ext2fs_extent_get(h, EXT2_EXTENT_NEXT_LEAF, &ext);
	}
	ext2fs_extent_free(h);
	if (err == EXT2_ET_EXTENT_NO_NEXT || err == EXT2_ET_NO_CURRENT_NODE)
		err = 0;
	return err;
}

/*
 * ext2fs_punch() of libext2fs 1.47.0 fails with "Illegal block number"
 * on any run that ends at the filesystem's last block (its range check
 * looks off by one), after it has taken the run out of the extent tree
 * but before it frees the blocks and lowers i_blocks: they leak.  An
 * image filled up to ENOSPC always owns that block, so every cleanup
 * after ENOSPC hit it.  Unmap that one block here first: it ends its
 * extent, so unmapping shrinks or deletes the extent, never splits it
 * (no new tree block is needed on a full image).
 */
static errcode_t fsa_ext2_punch_last_block(ext2_filsys fs, ext2_ino_t ino,
					   struct ext2_inode *in, blk64_t first,
					   blk64_t last)
{
	blk64_t pend = ext2fs_blocks_count(fs->super) - 1, lblk = 0;
	ext2_extent_handle_t h;
	errcode_t err;
	int found;

	if (!ext2fs_test_block_bitmap2(fs->block_map, pend))
		return 0;
	err = fsa_ext2_find_last_block(fs, ino, in, first, last, &lblk, &found);
	if (err || !found)
		return err;
	err = ext2fs_extent_open2(fs, ino, in, &h);
	if (err)
		return err;
	err = ext2fs_extent_set_bmap(h, lblk, 0, 0);
	ext2fs_extent_free(h);
	if (err)
		return err;
	ext2fs_block_alloc_stats2(fs, pend, -1);
	return ext2fs_iblk_sub_blocks(fs, in, 1);
}

/**
 * fsa_ext2_punch_range() - ext2fs_punch() without its 1.47.0 defects.
 * Frees the blocks of @in mapped in [@first, @last] (inclusive, @last may
 * be ~0), updates the bitmaps, group counts and i_blocks, and writes the
 * inode.  Indirect-mapped files take our own walk; extent files unmap the
 * filesystem's last block first; inline data is libext2fs' own.
 */
errcode_t fsa_ext2_punch_range(ext2_filsys fs, ext2_ino_t ino,
			       struct ext2_inode *in, blk64_t first,
			       blk64_t last)
{
	errcode_t err;

	if (first > last)
		return EINVAL;
	if (in->i_flags & EXT4_INLINE_DATA_FL)
		return ext2fs_punch(fs, ino, in, NULL, first, last);
	if (!(in->i_flags & EXT4_EXTENTS_FL))
		return fsa_ext2_punch_ind(fs, ino, in, first, last);
	err = fsa_ext2_punch_last_block(fs, ino, in, first, last);
	return err ? err : ext2fs_punch(fs, ino, in, NULL, first, last);
}
