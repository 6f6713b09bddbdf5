// SPDX-License-Identifier: GPL-2.0
/* reflink.c - shared extents: the refcount tree, whole-file reflink, and
 * copy-on-write through staging extents remapped when the data is on disk
 * (docs/native-format.md, Reflink and copy-on-write). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "native.h"

/* The longest run one refcount or extent record holds. */
#define REC_MAX_LEN 0xffffffffULL

static struct fsa_native_key rkey(uint64_t blk)
{
	return (struct fsa_native_key){ { blk, 0 } };
}

/* ---- the refcount tree ---- */

/*
 * The owners of block @blk in *@refs (1 where no record covers it) and in
 * *@run how many blocks from @blk, up to @limit, have that same answer
 * from one record or gap.  0 or -errno.
 */
static int ref_get(struct fsa_native_fs *nfs, uint64_t blk, uint64_t limit,
		   uint64_t *refs, uint64_t *run)
{
	struct fsa_native_key k = rkey(blk);
	struct fsa_native_refcount r;
	struct fsa_native_cursor c;
	int ret;

	*refs = 1;
	*run = limit;
	if (!nfs->sb.trees[FSA_NATIVE_T_REFCOUNT].root)
		return 0;
	ret = fsa_native_bt_seek_le(&c, nfs, FSA_NATIVE_T_REFCOUNT, &k);
	if (ret == 1) {
		ret = fsa_native_bt_get(&c, &k, &r);
		if (ret)
			return ret;
		if (blk - k.w[0] < r.len) {
			*refs = r.refs;
			if (k.w[0] + r.len - blk < *run)
				*run = k.w[0] + r.len - blk;
			return 0;
		}
		ret = fsa_native_bt_next(&c);
	} else if (ret == 0) {
		ret = fsa_native_bt_seek(&c, nfs, FSA_NATIVE_T_REFCOUNT, &k);
	}
	if (ret < 0)
		return ret;
	if (ret == 1) {
		ret = fsa_native_bt_get(&c, &k, &r);
		if (ret)
			return ret;
		if (k.w[0] - blk < *run)
			*run = k.w[0] - blk;
	}
	return 0;
}

/* No record straddles @blk afterwards: one covering it is cut in two. */
static int ref_split(struct fsa_native_fs *nfs, uint64_t blk)
{
	struct fsa_native_key k = rkey(blk);
	struct fsa_native_refcount r, tail;
	struct fsa_native_cursor c;
	int ret;

	if (!nfs->sb.trees[FSA_NATIVE_T_REFCOUNT].root)
		return 0;
	ret = fsa_native_bt_seek_le(&c, nfs, FSA_NATIVE_T_REFCOUNT, &k);
	if (ret <= 0)
		return ret;
	ret = fsa_native_bt_get(&c, &k, &r);
	if (ret || k.w[0] == blk || blk - k.w[0] >= r.len)
		return ret;
	tail = r;
	tail.len = (uint32_t)(k.w[0] + r.len - blk);
	r.len = (uint32_t)(blk - k.w[0]);
	ret = fsa_native_bt_update(nfs, FSA_NATIVE_T_REFCOUNT, &k, &r);
	if (!ret) {
		k = rkey(blk);
		ret = fsa_native_bt_insert(nfs, FSA_NATIVE_T_REFCOUNT, &k,
					   &tail);
	}
	return ret;
}

/* A record of @refs owners for [blk, blk + n), in pieces records hold. */
static int ref_insert(struct fsa_native_fs *nfs, uint64_t blk, uint64_t n,
		      uint64_t refs)
{
	while (n) {
		uint64_t len = n < REC_MAX_LEN ? n : REC_MAX_LEN;
		struct fsa_native_refcount r = { (uint32_t)len, 0, refs };
		struct fsa_native_key k = rkey(blk);
		int ret = fsa_native_bt_insert(nfs, FSA_NATIVE_T_REFCOUNT, &k,
					       &r);

		if (ret)
			return ret;
		blk += len;
		n -= len;
	}
	return 0;
}

/*
 * One owner more (@delta 1) or fewer (-1) for every block of [start,
 * start + len).  A block losing its last owner is freed at the next
 * commit; records go where one owner is left.
 */
static int ref_adjust(struct fsa_native_fs *nfs, uint64_t start, uint64_t len,
		      int delta)
{
	uint64_t blk = start, end = start + len;
	int ret = ref_split(nfs, start);

	if (!ret)
		ret = ref_split(nfs, end);
	while (!ret && blk < end) {
		uint64_t refs, n;

		ret = ref_get(nfs, blk, end - blk, &refs, &n);
		if (ret)
			break;
		if (refs >= 2) {
			struct fsa_native_key k = rkey(blk);
			struct fsa_native_refcount r = { (uint32_t)n, 0,
							 refs + (uint64_t)delta };

			/* After the splits a record starts at @blk. */
			if (r.refs >= 2)
				ret = fsa_native_bt_update(
					nfs, FSA_NATIVE_T_REFCOUNT, &k, &r);
			else
				ret = fsa_native_bt_delete(
					nfs, FSA_NATIVE_T_REFCOUNT, &k);
		} else if (delta > 0) {
			ret = ref_insert(nfs, blk, n, 2);
		} else {
			ret = fsa_native_free(nfs, blk, n);
		}
		blk += n;
	}
	if (!ret)
		nfs->changed = true;
	return ret;
}

int fsa_native_ref_share(struct fsa_native_fs *nfs, uint64_t start,
			 uint64_t len)
{
	return ref_adjust(nfs, start, len, 1);
}

int fsa_native_ref_put(struct fsa_native_fs *nfs, uint64_t start, uint64_t len)
{
	return ref_adjust(nfs, start, len, -1);
}

int fsa_native_ref_mark(struct fsa_native_fs *nfs, struct iomap *iomap,
			unsigned int bits)
{
	uint64_t refs, run, len = iomap->length >> bits;
	int ret;

	if (iomap->type != IOMAP_MAPPED || !len)
		return 0;
	ret = ref_get(nfs, iomap->addr >> bits, len, &refs, &run);
	if (ret)
		return ret;
	if (refs >= 2)
		iomap->flags |= IOMAP_F_SHARED;
	/* One answer for the whole mapping: shared or not, never both. */
	iomap->length = run << bits;
	return 0;
}

/*
 * Tree blocks a switch or a share may take: an extent tree and a refcount
 * tree insert each splitting every level (deletes only free blocks).
 */
static unsigned int tree_need(const struct fsa_native_fs *nfs)
{
	unsigned int n = nfs->sb.trees[FSA_NATIVE_T_EXTENTS].levels +
			 nfs->sb.trees[FSA_NATIVE_T_REFCOUNT].levels + 2;

	return n < FSA_NATIVE_RESERVE ? n : FSA_NATIVE_RESERVE;
}

/* ---- the COW fork: staging extents waiting for their data ---- */

/* The entry of @ino's COW fork covering file block @lblk, or NULL; in
 * *@next the first file block of a later entry (UINT64_MAX if none). */
static struct fsa_native_cow *cow_find(struct fsa_native_fs *nfs, uint64_t ino,
				       uint64_t lblk, uint64_t *next)
{
	struct fsa_native_cow *hit = NULL;

	*next = UINT64_MAX;
	for (size_t i = 0; i < nfs->ncow; i++) {
		struct fsa_native_cow *c = &nfs->cow[i];

		if (c->ino != ino)
			continue;
		if (lblk - c->lblk < c->len)
			hit = c;
		else if (c->lblk > lblk && c->lblk < *next)
			*next = c->lblk;
	}
	return hit;
}

static int cow_push(struct fsa_native_fs *nfs, struct fsa_native_cow c)
{
	if (nfs->ncow == nfs->cow_cap) {
		size_t cap = nfs->cow_cap ? nfs->cow_cap * 2 : 8;
		void *p = realloc(nfs->cow, cap * sizeof(*nfs->cow));

		if (!p)
			return -ENOMEM;
		nfs->cow = p;
		nfs->cow_cap = cap;
	}
	nfs->cow[nfs->ncow++] = c;
	return 0;
}

/*
 * Takes file blocks [a, b) out of fork entry @i (their staging record
 * too); the blocks are the caller's.  What is left of the entry stays.
 */
static int cow_cut(struct fsa_native_fs *nfs, size_t i, uint64_t a, uint64_t b)
{
	struct fsa_native_cow c = nfs->cow[i];
	uint64_t cend = c.lblk + c.len;
	int64_t n = fsa_native_ext_remove(nfs, FSA_NATIVE_STAGING_INO,
					  c.start + (a - c.lblk),
					  c.start + (b - c.lblk),
					  FSA_NATIVE_UNMAP_KEEP);

	if (n < 0)
		return (int)n;
	nfs->cow[i] = nfs->cow[--nfs->ncow];
	if (c.lblk < a && cow_push(nfs, (struct fsa_native_cow){
					       c.ino, c.lblk, c.start,
					       a - c.lblk }))
		return -ENOMEM;
	if (b < cend && cow_push(nfs, (struct fsa_native_cow){
					      c.ino, b, c.start + (b - c.lblk),
					      cend - b }))
		return -ENOMEM;
	return 0;
}

/* The first fork entry of @ino overlapping [lblk, end): its index, or -1. */
static ssize_t cow_overlap(const struct fsa_native_fs *nfs, uint64_t ino,
			   uint64_t lblk, uint64_t end)
{
	for (size_t i = 0; i < nfs->ncow; i++) {
		const struct fsa_native_cow *c = &nfs->cow[i];

		if (c->ino == ino && c->lblk < end && lblk < c->lblk + c->len)
			return (ssize_t)i;
	}
	return -1;
}

int fsa_native_cow_cancel(struct fsa_native_fs *nfs, uint64_t ino,
			  uint64_t lblk, uint64_t end)
{
	ssize_t i;

	while ((i = cow_overlap(nfs, ino, lblk, end)) >= 0) {
		struct fsa_native_cow c = nfs->cow[i];
		uint64_t a = c.lblk > lblk ? c.lblk : lblk;
		uint64_t b = c.lblk + c.len < end ? c.lblk + c.len : end;
		int ret = cow_cut(nfs, (size_t)i, a, b);

		/* The committed state may know the staging record. */
		if (!ret)
			ret = fsa_native_free(nfs, c.start + (a - c.lblk), b - a);
		if (ret)
			return ret;
	}
	return 0;
}

/* Copies whole blocks [from, from + n) of the disk to @to. */
static int copy_blocks(struct fsa_native_fs *nfs, uint64_t from, uint64_t to,
		       uint64_t n)
{
	const uint64_t bs = nfs->block_size;
	uint8_t *buf = malloc(bs);
	int ret = buf ? 0 : -ENOMEM;

	for (uint64_t i = 0; !ret && i < n; i++) {
		ret = fsa_native_pread(nfs, buf, bs, (from + i) * bs);
		if (!ret)
			ret = fsa_native_pwrite(nfs, buf, bs, (to + i) * bs);
	}
	free(buf);
	return ret;
}

/*
 * New staging blocks for file blocks [lblk, lblk + n) of @f, which are
 * shared: a staging record keeps them owned across a commit, the fork
 * entry remembers where they go.  The count staged, or -errno.
 */
static int64_t cow_stage(struct fsa_native_file *f, uint64_t lblk, uint64_t n,
			 uint64_t old, struct fsa_native_cow *out)
{
	struct fsa_native_fs *nfs = f->nfs;
	uint64_t start;
	int64_t got = fsa_native_alloc(nfs, old + n, n, &start);
	int ret;

	if (got < 0)
		return got;
	ret = fsa_native_ext_add(nfs, FSA_NATIVE_STAGING_INO, start, start,
				 (uint64_t)got, 0);
	if (!ret) {
		*out = (struct fsa_native_cow){ f->vfs.ino, lblk, start,
						(uint64_t)got };
		ret = cow_push(nfs, *out);
	}
	f->seq++;
	return ret ? ret : got;
}

int fsa_native_cow_begin(struct fsa_native_file *f, loff_t pos,
			 uint64_t *length, enum fsa_native_cow_copy copy,
			 struct iomap *iomap, struct iomap *srcmap)
{
	const unsigned int bits = f->vfs.blkbits;
	const uint64_t bmask = (1ULL << bits) - 1;
	uint64_t lblk = (uint64_t)pos >> bits, next, n, to;
	uint64_t end = ((uint64_t)pos + *length + bmask) >> bits;
	struct fsa_native_cow *hit = cow_find(f->nfs, f->vfs.ino, lblk, &next);
	struct fsa_native_cow c;
	struct iomap old;
	int ret;

	if (hit) {
		c = *hit;
		if (end > c.lblk + c.len)
			end = c.lblk + c.len;
	} else if (next < end) {
		end = next;
	}
	ret = fsa_native_map_block(f, lblk, end, &old);
	if (ret)
		return ret;
	n = old.length >> bits;
	if (n > end - lblk)
		n = end - lblk;
	if (!hit && !(old.flags & IOMAP_F_SHARED)) {
		/* Not shared: the caller maps it, up to a staged range. */
		if (next < UINT64_MAX && (next << bits) < (uint64_t)pos + *length)
			*length = (next << bits) - (uint64_t)pos;
		return 0;
	}
	if (!hit) {
		int64_t got = cow_stage(f, lblk, n, old.addr >> bits, &c);

		if (got < 0)
			return (int)got;
		n = (uint64_t)got;
	}
	memset(iomap, 0, sizeof(*iomap));
	iomap->type = IOMAP_MAPPED;
	iomap->flags = IOMAP_F_SHARED;
	iomap->offset = (loff_t)(lblk << bits);
	to = c.start + (lblk - c.lblk);
	iomap->addr = to << bits;
	iomap->length = n << bits;
	iomap->validity_cookie = f->seq;
	if (old.type == IOMAP_MAPPED && srcmap) {
		*srcmap = old;
		srcmap->length = n << bits;
	}
	if (old.type != IOMAP_MAPPED || copy == FSA_NATIVE_COW_NOCOPY)
		return 1;
	/*
	 * No srcmap on this path: the new blocks start as the old ones
	 * where the write leaves bytes of them.  Staged blocks found here
	 * too: the paths that copy switch a copy in as their I/O ends, so a
	 * staged range left is a failed write's, holding its refused bytes.
	 */
	if (copy == FSA_NATIVE_COW_COPY_ALL)
		ret = copy_blocks(f->nfs, old.addr >> bits, to, n);
	else if (pos & bmask)
		ret = copy_blocks(f->nfs, old.addr >> bits, to, 1);
	if (!ret && copy == FSA_NATIVE_COW_COPY_EDGES &&
	    (((uint64_t)pos + *length) & bmask) &&
	    (((uint64_t)pos + *length) >> bits) < lblk + n) {
		uint64_t last = ((uint64_t)pos + *length) >> bits;

		ret = copy_blocks(f->nfs, (old.addr >> bits) + (last - lblk),
				  to + (last - lblk), 1);
	}
	return ret ? ret : 1;
}

int fsa_native_cow_end(struct fsa_native_file *f, uint64_t lblk, uint64_t end)
{
	struct fsa_native_fs *nfs = f->nfs;
	bool changed = false;
	ssize_t i;
	int ret = 0;

	while (!ret && (i = cow_overlap(nfs, f->vfs.ino, lblk, end)) >= 0) {
		struct fsa_native_cow c = nfs->cow[i];
		uint64_t a = c.lblk > lblk ? c.lblk : lblk;
		uint64_t b = c.lblk + c.len < end ? c.lblk + c.len : end;
		int64_t n;

		if (!changed)
			ret = fsa_native_iread(nfs, f->vfs.ino, &f->in);
		changed = true;
		/* Room for the switch's tree blocks before it starts: it must
		 * not stop half way, with neither mapping in the file. */
		if (!ret)
			ret = fsa_native_reserve_fill(nfs, tree_need(nfs));
		/* One transaction: the file never shows neither copy. */
		n = ret ? ret :
			  fsa_native_ext_remove(nfs, f->vfs.ino, a, b,
						FSA_NATIVE_UNMAP_SWITCH);
		if (n < 0)
			return (int)n;
		f->in.blocks -= (uint64_t)n;
		ret = cow_cut(nfs, (size_t)i, a, b);
		if (!ret)
			ret = fsa_native_ext_add(nfs, f->vfs.ino, a,
						 c.start + (a - c.lblk), b - a,
						 0);
		f->in.blocks += b - a;
	}
	if (!changed)
		return ret;
	f->seq++;
	return ret ? ret : fsa_native_iwrite(nfs, f->vfs.ino, &f->in);
}

int fsa_native_cow_drop_all(struct fsa_native_fs *nfs)
{
	while (nfs->ncow) {
		struct fsa_native_cow c = nfs->cow[nfs->ncow - 1];
		int ret = fsa_native_cow_cancel(nfs, c.ino, c.lblk,
						c.lblk + c.len);

		if (ret)
			return ret;
	}
	return 0;
}

int fsa_native_cow_recover(struct fsa_native_fs *nfs)
{
	int changed = 0;

	for (;;) {
		struct fsa_native_extent e;
		uint64_t first;
		int64_t n;
		int ret = fsa_native_ext_find(nfs, FSA_NATIVE_STAGING_INO, 0,
					      UINT64_MAX, &first, &e);

		if (ret < 0)
			return ret;
		if (ret == 0)
			break;
		n = fsa_native_ext_remove(nfs, FSA_NATIVE_STAGING_INO, first,
					  first + e.len, FSA_NATIVE_UNMAP_KEEP);
		if (n < 0)
			return (int)n;
		ret = fsa_native_free(nfs, e.start, e.len);
		if (ret)
			return ret;
		changed = 1;
	}
	return changed ? fsa_native_commit(nfs) : 0;
}

/* ---- reflink ---- */

/* Shares the extent @e at file block @first of the source into @dst. */
static int64_t share_extent(struct fsa_native_fs *nfs, uint64_t dst,
			    uint64_t first, const struct fsa_native_extent *e)
{
	int ret;

	/* Unwritten blocks hold no data: a hole reads the same, and shared
	 * preallocation would make every write to it a copy. */
	if (e->flags & FSA_NATIVE_EXT_UNWRITTEN)
		return 0;
	/*
	 * Counts first: out of space part way leaves blocks over-counted
	 * (copied on write needlessly, fsck --repair lowers them), never a
	 * second owner uncounted, whose writes would reach the first's data.
	 */
	ret = fsa_native_reserve_fill(nfs, tree_need(nfs));
	if (!ret)
		ret = fsa_native_ref_share(nfs, e->start, e->len);
	if (!ret) {
		ret = fsa_native_ext_add(nfs, dst, first, e->start, e->len, 0);
		if (ret)
			fsa_native_ref_put(nfs, e->start, e->len);
	}
	return ret ? ret : (int64_t)e->len;
}

static bool has_delalloc(const struct fsa_native_fs *nfs, uint64_t ino)
{
	uint64_t first, len;

	return fsa_native_da_find(nfs, ino, 0, UINT64_MAX, &first, &len) == 1;
}

/* Both regular files of this image, distinct: else nothing changes. */
static int reflink_check(struct fsa_native_fs *nfs, uint64_t src, uint64_t dst,
			 struct fsa_native_inode *sin,
			 struct fsa_native_inode *din)
{
	int ret = fsa_native_writable(nfs);

	if (!ret)
		ret = fsa_native_iread(nfs, src, sin);
	if (!ret)
		ret = fsa_native_iread(nfs, dst, din);
	if (ret)
		return ret;
	if (S_ISDIR(sin->mode) || S_ISDIR(din->mode))
		return -EISDIR;
	if (!S_ISREG(sin->mode) || !S_ISREG(din->mode))
		return -EINVAL;
	return src == dst ? -EINVAL : 0;
}

/*
 * Extent by extent, each with its counts, so the commits a large file
 * needs fall between consistent states: a crash leaves @dst holding a
 * prefix of the source, past its size.
 */
static int share_extents(struct fsa_native_fs *nfs, uint64_t src, uint64_t dst,
			 struct fsa_native_inode *din)
{
	struct fsa_native_key k = { { src, 0 } };
	int64_t n;
	int ret;

	for (;;) {
		struct fsa_native_extent e;
		struct fsa_native_cursor c;

		ret = fsa_native_bt_seek(&c, nfs, FSA_NATIVE_T_EXTENTS, &k);
		if (ret == 1)
			ret = fsa_native_bt_get(&c, &k, &e) ?: 1;
		if (ret < 0)
			return ret;
		if (ret == 0 || k.w[0] != src)
			return 0;
		n = share_extent(nfs, dst, k.w[1], &e);
		if (n < 0)
			return (int)n;
		din->blocks += (uint64_t)n;
		ret = fsa_native_iwrite(nfs, dst, din);
		if (!ret)
			ret = fsa_native_commit_if_full(nfs);
		if (ret)
			return ret;
		k.w[1] += e.len;
	}
}

int fsa_native_reflink(struct fsa_fs *fs, uint64_t src, uint64_t dst)
{
	struct fsa_native_fs *nfs = NATIVE_FS(fs);
	struct fsa_native_inode sin, din;
	int64_t n;
	int ret = reflink_check(nfs, src, dst, &sin, &din);

	if (ret)
		return ret;
	/* Delayed bytes have no blocks to share: an open file must write
	 * them back first (the commands close theirs before this). */
	if (has_delalloc(nfs, src) || has_delalloc(nfs, dst))
		return -EBUSY;
	n = fsa_native_ext_remove(nfs, dst, 0, UINT64_MAX,
				  FSA_NATIVE_UNMAP_FREE);
	if (n < 0)
		return (int)n;
	ret = fsa_native_inline_drop(nfs, dst);
	if (!ret)
		ret = fsa_native_iread(nfs, dst, &din);
	if (ret)
		return ret;
	din.blocks -= (uint64_t)n;
	din.size = 0;
	din.flags &= ~FSA_NATIVE_INODE_INLINE;
	/* An inline source has no blocks: its record is copied. */
	if (sin.flags & FSA_NATIVE_INODE_INLINE) {
		ret = fsa_native_inline_clone(nfs, src, dst);
		din.flags |= FSA_NATIVE_INODE_INLINE;
	} else {
		ret = share_extents(nfs, src, dst, &din);
	}
	if (ret)
		return ret;
	din.size = sin.size;
	fsa_native_touch(&din);
	ret = fsa_native_iwrite(nfs, dst, &din);
	return ret ? ret : fsa_native_commit_if_full(nfs);
}
