// SPDX-License-Identifier: GPL-2.0
/* iomap.c - ext2/3/4 mappings for reading and reporting: extent trees and
 * indirect blocks read into a per-inode run list, inline data, the xattr
 * block, and the block-at-a-time get_block of the buffer-head emulation. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ext2.h"

void fsa_ext2_cursor_reset(struct fsa_ext2_inode *ei)
{
	struct fsa_ext2_cursor *cur = &ei->cur;

	free(cur->runs);
	free(cur->nodes);
	memset(cur, 0, sizeof(*cur));
	ei->seq++;
}

/* Index of the first run ending after @lblk, or cur->nr; sequential
 * callers hit the run after the last one found without a search. */
static size_t fsa_ext2_run_find(const struct fsa_ext2_cursor *cur, blk64_t lblk,
				size_t hint)
{
	size_t lo = 0, hi = cur->nr;

	for (size_t i = hint; i < cur->nr && i < hint + 2; i++) {
		if (cur->runs[i].lblk + cur->runs[i].len > lblk &&
		    (i == 0 ||
		     cur->runs[i - 1].lblk + cur->runs[i - 1].len <= lblk))
			return i;
	}
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (cur->runs[mid].lblk + cur->runs[mid].len <= lblk)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Forget the runs and the path, keeping the window's memory; the next
 * lookup positions the path with one descent. */
static void fsa_ext2_cursor_drop(struct fsa_ext2_cursor *cur)
{
	cur->positioned = false;
	cur->nr = 0;
	cur->hint = 0;
	cur->base = 0;
	cur->done = false;
	cur->err = 0;
}

/*
 * The mapping from block @from on changed.  Extent-mapped files keep the
 * runs that end before @from - 1 (the one ending there may have grown)
 * and resume the walk after them with one descent, so a sequence of
 * appends costs O(depth) each, not a re-walk of the file; indirect files
 * start over.
 */
void fsa_ext2_cursor_invalidate(struct fsa_ext2_inode *ei, blk64_t from)
{
	struct fsa_ext2_cursor *cur = &ei->cur;
	size_t keep = 0;

	if (!cur->started || !(ei->inode.i_flags & EXT4_EXTENTS_FL)) {
		fsa_ext2_cursor_reset(ei);
		return;
	}
	if (from && from - 1 >= cur->base)
		keep = fsa_ext2_run_find(cur, from - 1, 0);
	if (keep == 0) {
		fsa_ext2_cursor_drop(cur);
	} else {
		cur->positioned = false;
		cur->nr = keep;
		cur->last_end =
			cur->runs[keep - 1].lblk + cur->runs[keep - 1].len;
		cur->hint = 0;
		cur->done = false;
		cur->err = 0;
	}
	ei->seq++;
}

static int fsa_ext2_meta_cmp(const void *a, const void *b)
{
	const struct fsa_ext2_meta *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

/* Append [@start, @start + @len) to @m (room for it was counted); callers
 * pass @len 0 for what a group lacks (block 0 is a real superblock). */
static void fsa_ext2_meta_add(struct fsa_ext2_meta *m, size_t *n, blk64_t start,
			      blk64_t len)
{
	if (len)
		m[(*n)++] = (struct fsa_ext2_meta){ start, start + len };
}

/*
 * The table of what every group keeps for the filesystem: superblock and
 * descriptor copies, bitmaps, inode table.  Built once per image, sorted
 * and merged, so checking a run costs one binary search.
 */
static int fsa_ext2_meta_build(struct fsa_ext2_fs *efs)
{
	ext2_filsys fs = efs->fs;
	blk64_t gdt = fs->desc_blocks + fs->super->s_reserved_gdt_blocks;
	struct fsa_ext2_meta *m =
		calloc((size_t)fs->group_desc_count * 6, sizeof(*m));
	size_t n = 0, k = 0;

	if (!m)
		return -ENOMEM;
	for (dgrp_t g = 0; g < fs->group_desc_count; g++) {
		blk64_t sb = 0, old_desc = 0, new_desc = 0;
		blk64_t bb = ext2fs_block_bitmap_loc(fs, g);
		blk64_t ib = ext2fs_inode_bitmap_loc(fs, g);
		blk64_t it = ext2fs_inode_table_loc(fs, g);

		ext2fs_super_and_bgd_loc2(fs, g, &sb, &old_desc, &new_desc,
					  NULL);
		fsa_ext2_meta_add(m, &n, sb,
				  ext2fs_bg_has_super(fs, g) ? 1 : 0);
		fsa_ext2_meta_add(m, &n, old_desc, old_desc ? gdt : 0);
		fsa_ext2_meta_add(m, &n, new_desc, new_desc ? 1 : 0);
		fsa_ext2_meta_add(m, &n, bb, bb ? 1 : 0);
		fsa_ext2_meta_add(m, &n, ib, ib ? 1 : 0);
		fsa_ext2_meta_add(m, &n, it,
				  it ? fs->inode_blocks_per_group : 0);
	}
	qsort(m, n, sizeof(*m), fsa_ext2_meta_cmp);
	for (size_t i = 0; i < n; i++) {
		if (k && m[i].start <= m[k - 1].end) {
			if (m[i].end > m[k - 1].end)
				m[k - 1].end = m[i].end;
		} else {
			m[k++] = m[i];
		}
	}
	efs->meta = m;
	efs->nmeta = k;
	return 0;
}

/*
 * Does [@pblk, @pblk + @len) overlap the filesystem's metadata?  The
 * kernel's block_validity refuses such a mapping: writing through it
 * would overwrite an inode table or a bitmap.
 */
static int fsa_ext2_meta_check(struct fsa_ext2_fs *efs, blk64_t pblk,
			       uint64_t len)
{
	size_t lo = 0, hi;
	int ret;

	if (pblk >= efs->meta_gap_lo && pblk + len <= efs->meta_gap_hi)
		return 0;
	ret = efs->meta ? 0 : fsa_ext2_meta_build(efs);
	if (ret)
		return ret;
	/* The last range starting before the run's end. */
	hi = efs->nmeta;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (efs->meta[mid].start < pblk + len)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo && efs->meta[lo - 1].end > pblk)
		return -EFSCORRUPTED;
	efs->meta_gap_lo = lo ? efs->meta[lo - 1].end : 0;
	efs->meta_gap_hi = lo < efs->nmeta ?
				   efs->meta[lo].start :
				   ext2fs_blocks_count(efs->fs->super);
	return 0;
}

/* A run must lie inside the filesystem and after the previous one. */
static int fsa_ext2_run_check(struct fsa_ext2_inode *ei, blk64_t lblk,
			      blk64_t pblk, uint64_t len)
{
	ext2_filsys fs = ei->fs->fs;
	const struct fsa_ext2_cursor *cur = &ei->cur;
	blk64_t nblocks = ext2fs_blocks_count(fs->super);
	int ret;

	if (len == 0 || pblk < fs->super->s_first_data_block ||
	    pblk >= nblocks || len > nblocks - pblk)
		return -EFSCORRUPTED;
	ret = fsa_ext2_meta_check(ei->fs, pblk, len);
	if (ret)
		return ret;
	if (cur->walked && lblk < cur->last_end)
		return -EFSCORRUPTED;
	/* More runs than blocks in the filesystem: a looping tree. */
	if (cur->walked >= nblocks)
		return -EFSCORRUPTED;
	return 0;
}

/* Room for one more run: a full window slides on, keeping its last run
 * (the one the path is on); indirect files keep every run. */
static int fsa_ext2_run_room(struct fsa_ext2_inode *ei)
{
	struct fsa_ext2_cursor *cur = &ei->cur;
	bool window = ei->inode.i_flags & EXT4_EXTENTS_FL;
	size_t cap = cur->cap ? cur->cap * 2 : 16;
	void *runs;

	if (cur->nr < cur->cap)
		return 0;
	if (window && cur->cap >= FSA_EXT2_RUN_WINDOW) {
		cur->runs[0] = cur->runs[cur->nr - 1];
		cur->base = cur->runs[0].lblk;
		cur->nr = 1;
		cur->hint = 0;
		return 0;
	}
	if (window)
		cap = FSA_EXT2_RUN_WINDOW;
	runs = realloc(cur->runs, cap * sizeof(*cur->runs));
	if (!runs)
		return -ENOMEM;
	cur->runs = runs;
	cur->cap = cap;
	return 0;
}

static int fsa_ext2_run_push(struct fsa_ext2_inode *ei, blk64_t lblk,
			     blk64_t pblk, uint32_t len, bool uninit)
{
	struct fsa_ext2_cursor *cur = &ei->cur;
	int ret = fsa_ext2_run_check(ei, lblk, pblk, len);

	if (!ret)
		ret = fsa_ext2_run_room(ei);
	if (ret)
		return ret;
	cur->runs[cur->nr++] = (struct fsa_ext2_run){ lblk, pblk, len, uninit };
	cur->last_end = lblk + len;
	cur->walked++;
	return 0;
}

/* The extent at the path into the window, or the walk is done. */
static int fsa_ext2_extent_take(struct fsa_ext2_inode *ei)
{
	struct fsa_ext2_run ext;
	int ret = fsa_ext2_tree_next(ei, &ext);

	if (ret == 1)
		ei->cur.done = true;
	if (ret)
		return ret == 1 ? 0 : ret;
	return fsa_ext2_run_push(ei, ext.lblk, ext.pblk, ext.len, ext.uninit);
}

/*
 * Start the window at @lblk: the path on the extent covering it, or the
 * last one before it, or the first one after it (a hole before it).
 */
static int fsa_ext2_extent_start(struct fsa_ext2_inode *ei, blk64_t lblk)
{
	struct fsa_ext2_cursor *cur = &ei->cur;
	int ret;

	fsa_ext2_cursor_drop(cur);
	cur->walked = 0;
	cur->base = lblk;
	ret = fsa_ext2_tree_seek(ei, lblk);
	return ret ? ret : fsa_ext2_extent_take(ei);
}

/*
 * Read the next leaf extent into the run list.  The path stays on the
 * last extent read, so the walk continues from there (reading the next
 * leaf block only when this one is exhausted) instead of going down from
 * the root again.  After an invalidation it is put back on the last run
 * kept.
 */
static int fsa_ext2_extent_next(struct fsa_ext2_inode *ei)
{
	struct fsa_ext2_cursor *cur = &ei->cur;
	blk64_t resume = cur->runs[cur->nr - 1].lblk;
	struct fsa_ext2_run ext;
	int ret;

	if (!cur->positioned) {
		ret = fsa_ext2_tree_seek(ei, resume);
		if (!ret)
			ret = fsa_ext2_tree_next(ei, &ext);
		/* Not there any more: start over from it. */
		if (ret || ext.lblk != resume)
			return fsa_ext2_extent_start(ei, resume);
	}
	return fsa_ext2_extent_take(ei);
}

struct fsa_ext2_ind_walk {
	struct fsa_ext2_inode *ei;
	blk64_t visits;
	int ret;
};

/* Merge physically contiguous blocks into one run as they come. */
static int fsa_ext2_ind_block(ext2_filsys fs, blk64_t *blocknr,
			      e2_blkcnt_t blockcnt, blk64_t ref_blk,
			      int ref_offset, void *priv)
{
	struct fsa_ext2_ind_walk *w = priv;
	struct fsa_ext2_cursor *cur = &w->ei->cur;
	struct fsa_ext2_run *last = cur->nr ? &cur->runs[cur->nr - 1] : NULL;

	(void)ref_blk;
	(void)ref_offset;
	if (blockcnt < 0)
		return 0;
	/* More data blocks than the filesystem has: looping indirect blocks. */
	if (++w->visits > ext2fs_blocks_count(fs->super)) {
		w->ret = -EFSCORRUPTED;
		return BLOCK_ABORT;
	}
	if (last && last->lblk + last->len == (blk64_t)blockcnt &&
	    last->pblk + last->len == *blocknr && last->len < UINT32_MAX &&
	    *blocknr < ext2fs_blocks_count(fs->super)) {
		last->len++;
		cur->last_end++;
		return 0;
	}
	w->ret =
		fsa_ext2_run_push(w->ei, (blk64_t)blockcnt, *blocknr, 1, false);
	return w->ret ? BLOCK_ABORT : 0;
}

/* Indirect-mapped files are read in one pass: cost proportional to blocks
 * once, then to runs for every mapping. */
static int fsa_ext2_ind_load(struct fsa_ext2_inode *ei)
{
	struct fsa_ext2_ind_walk w = { ei, 0, 0 };
	errcode_t err;

	err = ext2fs_block_iterate3(ei->fs->fs, ei->ino,
				    BLOCK_FLAG_READ_ONLY | BLOCK_FLAG_DATA_ONLY,
				    NULL, fsa_ext2_ind_block, &w);
	ei->cur.done = true;
	if (w.ret)
		return w.ret;
	/* Runs grew block by block unchecked: check each once, whole. */
	for (size_t i = 0; !err && !w.ret && i < ei->cur.nr; i++)
		w.ret = fsa_ext2_meta_check(ei->fs, ei->cur.runs[i].pblk,
					    ei->cur.runs[i].len);
	return w.ret ? w.ret : fsa_ext2_errno(err);
}

/* Make the run list cover @lblk (or hold every run of the file). */
static int fsa_ext2_cursor_fill(struct fsa_ext2_inode *ei, blk64_t lblk)
{
	struct fsa_ext2_cursor *cur = &ei->cur;
	int ret = 0;

	if (cur->err)
		return cur->err;
	if (!cur->started) {
		cur->started = true;
		if (!(ei->inode.i_flags & EXT4_EXTENTS_FL))
			ret = fsa_ext2_ind_load(ei);
	}
	/* No window yet, or @lblk before it: one descent to @lblk. */
	if (!ret && ((cur->nr == 0 && !cur->done) || lblk < cur->base))
		ret = fsa_ext2_extent_start(ei, lblk);
	while (!ret && !cur->done && cur->last_end <= lblk)
		ret = fsa_ext2_extent_next(ei);
	/* A damaged map stays an error: never a partial map later. */
	cur->err = ret;
	return ret;
}

int fsa_ext2_load_inline(struct fsa_ext2_inode *ei)
{
	ext2_filsys fs = ei->fs->fs;
	size_t size;
	int ret;

	ret = fsa_ext2_errno(ext2fs_inline_data_size(fs, ei->ino, &size));
	if (ret)
		return ret;
	/* IOMAP_INLINE data must not cross a page: give it one to itself. */
	if (size > 4096)
		return -EFSCORRUPTED;
	free(ei->inline_buf);
	ei->inline_buf = NULL;
	if (posix_memalign(&ei->inline_buf, 4096, 4096))
		return -ENOMEM;
	memset(ei->inline_buf, 0, 4096);
	ret = fsa_ext2_errno(ext2fs_inline_data_get(
		fs, ei->ino, (struct ext2_inode *)&ei->inode, ei->inline_buf,
		&size));
	ei->inline_size = size < (size_t)ei->vfs.size ? size :
							(size_t)ei->vfs.size;
	return ret;
}

void fsa_ext2_set_hole(struct iomap *iomap, unsigned int bits, blk64_t lblk,
		       uint64_t end_byte)
{
	iomap->type = IOMAP_HOLE;
	iomap->addr = IOMAP_NULL_ADDR;
	iomap->offset = (loff_t)(lblk << bits);
	iomap->length = end_byte - (uint64_t)iomap->offset;
}

/*
 * The mapping of block @lblk from the run list, cut at block @eof (the
 * end of the file for reads, the end of the address space for writes).
 */
int fsa_ext2_map_runs(struct fsa_ext2_inode *ei, blk64_t lblk, blk64_t eof,
		      struct iomap *iomap)
{
	struct fsa_ext2_cursor *cur = &ei->cur;
	unsigned int bits = ei->vfs.blkbits;
	blk64_t end = eof;
	const struct fsa_ext2_run *r;
	size_t i;
	int ret;

	ret = fsa_ext2_cursor_fill(ei, lblk);
	if (ret)
		return ret;
	i = fsa_ext2_run_find(cur, lblk, cur->hint);
	if (i == cur->nr || cur->runs[i].lblk > lblk) {
		if (i < cur->nr && cur->runs[i].lblk < end)
			end = cur->runs[i].lblk;
		fsa_ext2_set_hole(iomap, bits, lblk, end << bits);
		return 0;
	}
	cur->hint = i;
	r = &cur->runs[i];
	if (r->lblk + r->len < end)
		end = r->lblk + r->len;
	iomap->type = r->uninit ? IOMAP_UNWRITTEN : IOMAP_MAPPED;
	iomap->flags = 0;
	iomap->offset = (loff_t)(lblk << bits);
	iomap->addr = (r->pblk + (lblk - r->lblk)) << bits;
	iomap->length = (end - lblk) << bits;
	return 0;
}

/*
 * Read and report: one mapping per extent (or run of contiguous blocks),
 * holes up to the next extent.  As ext4_iomap_begin(), nothing stops at
 * EOF: a KEEP_SIZE preallocation maps UNWRITTEN past i_size (the engine
 * never reads a disk block past EOF: it zero-fills there).
 */
static int fsa_ext2_iomap_begin(struct iomap_inode *inode, loff_t pos,
				loff_t length, unsigned int flags,
				struct iomap *iomap, struct iomap *srcmap)
{
	struct fsa_ext2_inode *ei = EXT2_I(inode);
	unsigned int bits = inode->blkbits;
	blk64_t lblk = (uint64_t)pos >> bits;
	uint64_t end = (uint64_t)pos + (uint64_t)length, cut;
	int ret;

	(void)srcmap;
	if (flags & IOMAP_WRITE)
		return -EROFS;
	iomap->validity_cookie = ei->seq;
	if (ei->inline_buf) {
		/* i_size beyond the inline bytes (a damaged or odd inode)
		 * reads as a hole, never past the buffer. */
		if ((uint64_t)pos < ei->inline_size) {
			iomap->type = IOMAP_INLINE;
			iomap->addr = IOMAP_NULL_ADDR;
			iomap->offset = 0;
			iomap->length = ei->inline_size;
			iomap->inline_data = ei->inline_buf;
			return 0;
		}
		fsa_ext2_set_hole(iomap, 0, (uint64_t)pos, end);
		return 0;
	}
	if (lblk >= FSA_EXT2_MAX_LBLK ||
	    !ext2fs_inode_has_valid_blocks2(ei->fs->fs,
					    (struct ext2_inode *)&ei->inode)) {
		fsa_ext2_set_hole(
			iomap, bits, lblk,
			end > (lblk + 1) << bits ? end : (lblk + 1) << bits);
		return 0;
	}
	ret = fsa_ext2_map_runs(ei, lblk, FSA_EXT2_MAX_LBLK, iomap);
	/* A hole ends at EOF or the range asked, whichever is later (as
	 * ext4 trims it to m_len), not at the end of the address space. */
	cut = (((uint64_t)ei->vfs.size > end ? (uint64_t)ei->vfs.size : end) +
	       (1ULL << bits) - 1) &
	      ~((1ULL << bits) - 1);
	if (!ret && iomap->type == IOMAP_HOLE &&
	    (uint64_t)iomap->offset + iomap->length > cut &&
	    (uint64_t)iomap->offset < cut)
		iomap->length = cut - (uint64_t)iomap->offset;
	return ret;
}

static const struct iomap_ops fsa_ext2_read_ops = {
	.iomap_begin = fsa_ext2_iomap_begin,
};

/*
 * fiemap, seek and bmap see every extent, also past EOF, as ext4's
 * ext4_iomap_begin_report() does: a KEEP_SIZE preallocation is listed
 * (UNWRITTEN beyond i_size).  Seek stays inside i_size on its own.  The
 * same mapping as for reads.
 */
static const struct iomap_ops fsa_ext2_report_ops = {
	.iomap_begin = fsa_ext2_iomap_begin,
};

/* Byte address of inode @ino in its inode table. */
static uint64_t fsa_ext2_inode_addr(ext2_filsys fs, ext2_ino_t ino)
{
	dgrp_t group = (ino - 1) / fs->super->s_inodes_per_group;
	uint64_t index = (ino - 1) % fs->super->s_inodes_per_group;

	return ext2fs_inode_table_loc(fs, group) * fs->blocksize +
	       index * EXT2_INODE_SIZE(fs->super);
}

/*
 * Where the extended attributes live, as ext4_iomap_xattr_fiemap: the
 * space after the inode's fixed fields when it holds xattrs (INLINE, with
 * its disk address as the kernel reports it), else the external EA block;
 * -ENOENT when there are none.
 */
/*
 * The whole on-disk inode, in a page-aligned buffer the inode owns
 * (struct ext2_inode_large stops before the in-inode attributes).
 * Returns the buffer or NULL with *@ret set.
 */
static char *fsa_ext2_raw_inode(struct fsa_ext2_inode *ei, int *ret)
{
	ext2_filsys fs = ei->fs->fs;
	unsigned int isize = EXT2_INODE_SIZE(fs->super);

	*ret = 0;
	if (isize > 4096) {
		*ret = -EFSCORRUPTED;
		return NULL;
	}
	if (!ei->raw_inode && posix_memalign(&ei->raw_inode, 4096, 4096)) {
		ei->raw_inode = NULL;
		*ret = -ENOMEM;
		return NULL;
	}
	*ret = fsa_ext2_errno(
		ext2fs_read_inode_full(fs, ei->ino, ei->raw_inode, (int)isize));
	return *ret ? NULL : ei->raw_inode;
}

static int fsa_ext2_xattr_begin(struct iomap_inode *inode, loff_t pos,
				loff_t length, unsigned int flags,
				struct iomap *iomap, struct iomap *srcmap)
{
	struct fsa_ext2_inode *ei = EXT2_I(inode);
	ext2_filsys fs = ei->fs->fs;
	struct ext2_inode_large *in = &ei->inode;
	blk64_t blk = ext2fs_file_acl_block(fs, (struct ext2_inode *)in);
	unsigned int isize = EXT2_INODE_SIZE(fs->super);
	unsigned int ibody = EXT2_GOOD_OLD_INODE_SIZE + in->i_extra_isize;
	uint32_t magic = 0;
	char *raw = NULL;
	int ret;

	(void)flags;
	(void)srcmap;
	if (isize > EXT2_GOOD_OLD_INODE_SIZE && ibody + 4 <= isize) {
		raw = fsa_ext2_raw_inode(ei, &ret);
		if (!raw)
			return ret;
		memcpy(&magic, raw + ibody, sizeof(magic));
	}
	if (magic == EXT2_EXT_ATTR_MAGIC) {
		iomap->type = IOMAP_INLINE;
		/* Where the kernel says it is: fiemap --xattr shows it. */
		iomap->addr = fsa_ext2_inode_addr(fs, ei->ino) + ibody;
		iomap->offset = 0;
		iomap->length = isize - ibody;
		iomap->inline_data = raw + ibody;
	} else if (blk && blk < ext2fs_blocks_count(fs->super)) {
		iomap->type = IOMAP_MAPPED;
		iomap->addr = blk << inode->blkbits;
		iomap->offset = 0;
		iomap->length = fs->blocksize;
	} else {
		return -ENOENT;
	}
	if (pos >= (loff_t)iomap->length) {
		fsa_ext2_set_hole(iomap, 0, (uint64_t)pos,
				  (uint64_t)pos + (uint64_t)length);
		return 0;
	}
	iomap->flags = IOMAP_F_XATTR;
	return 0;
}

static const struct iomap_ops fsa_ext2_xattr_ops = {
	.iomap_begin = fsa_ext2_xattr_begin,
};

/*
 * How far the hole at @iblock goes, at most @want bytes, as ext4's
 * _ext4_get_block() fills b_size for a hole: the caller asked for more
 * than one block (fiemap past EOF) and skips the hole whole.
 */
static int fsa_ext2_hole_size(struct fsa_ext2_inode *ei, blk64_t iblock,
			      uint64_t want, struct iomap_bh *bh)
{
	struct iomap map;
	int ret = fsa_ext2_map_runs(ei, iblock, FSA_EXT2_MAX_LBLK, &map);

	if (ret)
		return ret;
	if (map.type == IOMAP_HOLE)
		bh->size = map.length < want ? map.length : want;
	return 0;
}

/*
 * The buffer-head mapper: one ext2fs_bmap2() per block, which descends
 * the extent tree (or indirect blocks) from the inode every time.
 */
int fsa_ext2_get_block(struct iomap_inode *inode, uint64_t iblock,
		       struct iomap_bh *bh, int create)
{
	struct fsa_ext2_inode *ei = EXT2_I(inode);
	uint64_t pos = iblock << inode->blkbits, want = bh->size;
	blk64_t pblk = 0;
	int ret_flags = 0, ret;

	bh->state = 0;
	bh->size = iomap_blocksize(inode);
	if (create) {
		ret = fsa_ext2_get_block_create(ei, iblock, bh);
		/* The engine writes the block beside libext2fs' channel. */
		if (!ret && (bh->state & IOMAP_BH_MAPPED))
			fsa_ext2_bcache_forget(ei->fs, bh->blocknr << inode->blkbits,
					       bh->size);
		return ret;
	}
	if (ei->inline_buf) {
		if (pos < ei->inline_size)
			bh->inline_data = (char *)ei->inline_buf + pos;
		else if (want > bh->size)
			bh->size = want; /* no block follows */
		return 0;
	}
	/* As ext4_get_block(), not bounded by i_size: fiemap lists a
	 * KEEP_SIZE preallocation; the I/O paths stop at EOF themselves. */
	if (iblock >= FSA_EXT2_MAX_LBLK ||
	    !ext2fs_inode_has_valid_blocks2(ei->fs->fs,
					    (struct ext2_inode *)&ei->inode)) {
		bh->size = want > bh->size ? want : bh->size;
		return 0;
	}
	ret = fsa_ext2_errno(ext2fs_bmap2(ei->fs->fs, ei->ino,
					  (struct ext2_inode *)&ei->inode, NULL,
					  0, iblock, &ret_flags, &pblk));
	if (!ret && !pblk && want > bh->size)
		return fsa_ext2_hole_size(ei, iblock, want, bh);
	if (ret || !pblk)
		return ret;
	bh->blocknr = pblk;
	bh->state = IOMAP_BH_MAPPED;
	if (ret_flags & BMAP_RET_UNINIT)
		bh->state |= IOMAP_BH_UNWRITTEN;
	return 0;
}

const struct iomap_opset fsa_ext2_iomap_opset = {
	.read = &fsa_ext2_read_ops,
	.report = &fsa_ext2_report_ops,
	.xattr = &fsa_ext2_xattr_ops,
	.buffered_write = &fsa_ext2_buffered_write_ops,
	.direct_write = &fsa_ext2_direct_write_ops,
	.dax_write = &fsa_ext2_dax_write_ops,
	.dio = &fsa_ext2_dio_ops,
	.writeback = &fsa_ext2_writeback_ops,
	.get_block = fsa_ext2_get_block,
};
