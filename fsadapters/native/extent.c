// SPDX-License-Identifier: GPL-2.0
/* extent.c - a file's extents in the extent tree: find, add (merging with
 * contiguous neighbours), remove a range (splitting the extents at its
 * edges), and convert unwritten blocks to written. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>

#include "native.h"

/* The largest extent one record holds. */
#define EXT_MAX_LEN 0xffffffffULL

static struct fsa_native_key ekey(uint64_t ino, uint64_t lblk)
{
	return (struct fsa_native_key){ { ino, lblk } };
}

/* An extent record of no blocks: damage, said once where it is met. */
static int empty_extent(struct fsa_native_fs *nfs, uint64_t blkno, uint64_t ino,
			uint64_t lblk)
{
	fsa_native_report(nfs, blkno,
			  "inode %llu: empty extent at file block %llu",
			  (unsigned long long)ino, (unsigned long long)lblk);
	return -EFSCORRUPTED;
}

/* What a cursor's leaf says when it cannot answer a lookup: the key is
 * before its first record, or past its last (a walk in file order). */
enum { CUR_MISS = 2, CUR_PAST };

/*
 * The answer of fsa_native_ext_find() from the copied leaf alone, or
 * CUR_MISS when the leaf cannot tell: the key sought is before its first
 * record (an earlier leaf may hold the extent), or after its last record
 * without that record covering it (the next may start before @end).  The
 * last record covering @lblk is the answer whatever follows: a later one
 * of the same file starting at or before @lblk would overlap it.
 */
static bool key_le(const struct fsa_native_key *a, uint64_t ino, uint64_t lblk)
{
	return a->w[0] < ino || (a->w[0] == ino && a->w[1] <= lblk);
}

/* The last record of @cur with a key <= (@ino, @lblk), or -1: the one
 * after the last answer first (mappings asked for in file order). */
static int cur_le(struct fsa_native_ext_cursor *cur, uint64_t ino,
		  uint64_t lblk)
{
	unsigned int lo = 0, hi = cur->n;

	for (unsigned int i = cur->hint; i < cur->hint + 2 && i < cur->n; i++) {
		if (key_le(&cur->keys[i], ino, lblk) &&
		    (i + 1 == cur->n || !key_le(&cur->keys[i + 1], ino, lblk)))
			return (int)i;
	}
	while (lo < hi) {
		unsigned int mid = lo + (hi - lo) / 2;

		if (key_le(&cur->keys[mid], ino, lblk))
			lo = mid + 1;
		else
			hi = mid;
	}
	return (int)lo - 1;
}

static int cur_answer(struct fsa_native_fs *nfs,
		      struct fsa_native_ext_cursor *cur, uint64_t ino,
		      uint64_t lblk, uint64_t end, uint64_t *first,
		      struct fsa_native_extent *e)
{
	int at = cur_le(cur, ino, lblk);
	unsigned int i;

	if (at < 0)
		return CUR_MISS;
	i = (unsigned int)at;
	if (cur->keys[i].w[0] == ino &&
	    lblk - cur->keys[i].w[1] < cur->ext[i].len) {
		cur->hint = i;
		*first = cur->keys[i].w[1];
		*e = cur->ext[i];
		return 1;
	}
	if (++i == cur->n)
		return CUR_PAST;
	if (cur->keys[i].w[0] != ino || cur->keys[i].w[1] >= end)
		return 0;
	if (!cur->ext[i].len)
		return empty_extent(nfs, cur->blkno, ino, cur->keys[i].w[1]);
	cur->hint = i;
	*first = cur->keys[i].w[1];
	*e = cur->ext[i];
	return 1;
}

/* @cur takes a copy of the leaf under @c (left empty when it cannot:
 * it only saves descents). */
static void cur_fill(struct fsa_native_ext_cursor *cur,
		     const struct fsa_native_cursor *c)
{
	int n;

	cur->n = 0;
	if (!cur->keys) {
		unsigned int max = fsa_native_bt_leaf_max(c->nfs, c->tree);

		cur->keys = malloc(max * sizeof(*cur->keys));
		cur->ext = malloc(max * sizeof(*cur->ext));
		if (!cur->keys || !cur->ext) {
			fsa_native_ext_cursor_free(cur);
			return;
		}
	}
	n = fsa_native_bt_leaf_copy(c, cur->keys, cur->ext);
	if (n <= 0)
		return;
	cur->n = (unsigned int)n;
	cur->hint = c->idx[0];
	cur->blkno = c->blk[0];
	cur->gen = c->nfs->tree_gen[FSA_NATIVE_T_EXTENTS];
}

void fsa_native_ext_cursor_free(struct fsa_native_ext_cursor *cur)
{
	free(cur->keys);
	free(cur->ext);
	*cur = (struct fsa_native_ext_cursor){ 0 };
}

/* The answer found in the tree, @c left on its record (when 1). */
static int tree_answer(struct fsa_native_fs *nfs, struct fsa_native_cursor *c,
		       uint64_t ino, uint64_t lblk, uint64_t end,
		       uint64_t *first, struct fsa_native_extent *e)
{
	struct fsa_native_key k = ekey(ino, lblk);
	int ret = fsa_native_bt_seek_le(c, nfs, FSA_NATIVE_T_EXTENTS, &k);

	if (ret == 1) {
		ret = fsa_native_bt_get(c, &k, e);
		if (ret)
			return ret;
		if (k.w[0] == ino && lblk - k.w[1] < e->len) {
			*first = k.w[1];
			return 1;
		}
		ret = fsa_native_bt_next(c);
	} else if (ret == 0) {
		k = ekey(ino, lblk);
		ret = fsa_native_bt_seek(c, nfs, FSA_NATIVE_T_EXTENTS, &k);
	}
	if (ret != 1)
		return ret;
	ret = fsa_native_bt_get(c, &k, e);
	if (ret)
		return ret;
	if (k.w[0] != ino || k.w[1] >= end)
		return 0;
	if (!e->len)
		return empty_extent(nfs, c->blk[0], ino, k.w[1]);
	*first = k.w[1];
	return 1;
}

/* The answer from the tree, @cur (unless NULL) then on its leaf. */
static int tree_answer_cur(struct fsa_native_fs *nfs,
			   struct fsa_native_ext_cursor *cur, bool walking,
			   uint64_t ino, uint64_t lblk, uint64_t end,
			   uint64_t *first, struct fsa_native_extent *e)
{
	struct fsa_native_cursor c;
	int ret;

	/* Set by the seek's descent, unless the tree's root is damaged. */
	c.on_record = false;
	ret = tree_answer(nfs, &c, ino, lblk, end, first, e);
	if (!cur || ret < 0 || !c.on_record)
		return ret;
	/* The next lookup in file order most likely falls in this leaf, and
	 * a walk past a leaf goes on to the next ones: read them in one go.
	 * Without a copy (no memory) the next lookup descends again. */
	cur_fill(cur, &c);
	if (walking)
		fsa_native_bt_readahead(&c, FSA_NATIVE_RA_LEAVES);
	return ret;
}

int fsa_native_ext_find_cur(struct fsa_native_fs *nfs,
			    struct fsa_native_ext_cursor *cur, uint64_t ino,
			    uint64_t lblk, uint64_t end, uint64_t *first,
			    struct fsa_native_extent *e)
{
	int ret = CUR_MISS;

	if (cur && cur->n && cur->gen == nfs->tree_gen[FSA_NATIVE_T_EXTENTS]) {
		ret = cur_answer(nfs, cur, ino, lblk, end, first, e);
		if (ret != CUR_MISS && ret != CUR_PAST)
			return ret;
	}
	return tree_answer_cur(nfs, cur, ret == CUR_PAST, ino, lblk, end, first,
			       e);
}

int fsa_native_ext_find(struct fsa_native_fs *nfs, uint64_t ino, uint64_t lblk,
			uint64_t end, uint64_t *first,
			struct fsa_native_extent *e)
{
	return fsa_native_ext_find_cur(nfs, NULL, ino, lblk, end, first, e);
}

/* The extent ending exactly at @lblk, if it continues on disk at @start. */
static int find_prev(struct fsa_native_fs *nfs, uint64_t ino, uint64_t lblk,
		     uint64_t start, uint32_t flags, uint64_t *first,
		     struct fsa_native_extent *e)
{
	int ret;

	if (!lblk)
		return 0;
	ret = fsa_native_ext_find(nfs, ino, lblk - 1, lblk, first, e);
	if (ret != 1)
		return ret;
	return *first + e->len == lblk && e->start + e->len == start &&
	       e->flags == flags;
}

int fsa_native_ext_add(struct fsa_native_fs *nfs, uint64_t ino, uint64_t lblk,
		       uint64_t start, uint64_t len, uint32_t flags)
{
	while (len) {
		struct fsa_native_extent e, next;
		struct fsa_native_key k;
		uint64_t first, nfirst, n = len;
		int ret = find_prev(nfs, ino, lblk, start, flags, &first, &e);

		if (ret < 0)
			return ret;
		if (ret == 1 && e.len + n <= EXT_MAX_LEN) {
			/* Grow the one before, then swallow the one after. */
			e.len += (uint32_t)n;
			k = ekey(ino, first);
			ret = fsa_native_ext_find(nfs, ino, lblk + n,
						  lblk + n + 1, &nfirst, &next);
			if (ret == 1 && nfirst == lblk + n &&
			    next.start == start + n && next.flags == flags &&
			    e.len + (uint64_t)next.len <= EXT_MAX_LEN) {
				struct fsa_native_key nk = ekey(ino, nfirst);

				e.len += next.len;
				ret = fsa_native_bt_delete(
					nfs, FSA_NATIVE_T_EXTENTS, &nk);
			}
			if (ret >= 0)
				ret = fsa_native_bt_update(
					nfs, FSA_NATIVE_T_EXTENTS, &k, &e);
		} else {
			if (n > EXT_MAX_LEN)
				n = EXT_MAX_LEN;
			e = (struct fsa_native_extent){ start, (uint32_t)n,
							flags };
			k = ekey(ino, lblk);
			ret = fsa_native_bt_insert(nfs, FSA_NATIVE_T_EXTENTS,
						   &k, &e);
		}
		if (ret < 0)
			return ret;
		lblk += n;
		start += n;
		len -= n;
	}
	return 0;
}

/* Cuts [@a, @b) out of extent @e starting at file block @first. */
static int cut(struct fsa_native_fs *nfs, uint64_t ino, uint64_t first,
	       const struct fsa_native_extent *e, uint64_t a, uint64_t b)
{
	struct fsa_native_key k = ekey(ino, first);
	uint64_t end = first + e->len;
	int ret;

	if (first < a) {
		struct fsa_native_extent head = *e;

		head.len = (uint32_t)(a - first);
		ret = fsa_native_bt_update(nfs, FSA_NATIVE_T_EXTENTS, &k,
					   &head);
	} else {
		ret = fsa_native_bt_delete(nfs, FSA_NATIVE_T_EXTENTS, &k);
	}
	if (!ret && b < end) {
		struct fsa_native_extent tail = { e->start + (b - first),
						  (uint32_t)(end - b),
						  e->flags };

		k = ekey(ino, b);
		ret = fsa_native_bt_insert(nfs, FSA_NATIVE_T_EXTENTS, &k,
					   &tail);
	}
	return ret;
}

int64_t fsa_native_ext_remove(struct fsa_native_fs *nfs, uint64_t ino,
			      uint64_t lblk, uint64_t end,
			      enum fsa_native_unmap how)
{
	int64_t removed = 0;

	/* Data staged for blocks that go has nowhere to land. */
	if (how == FSA_NATIVE_UNMAP_FREE && nfs->ncow) {
		int ret = fsa_native_cow_cancel(nfs, ino, lblk, end);

		if (ret)
			return ret;
	}
	while (lblk < end) {
		struct fsa_native_extent e;
		uint64_t first, a, b;
		int ret = fsa_native_ext_find(nfs, ino, lblk, end, &first, &e);

		if (ret < 0)
			return ret;
		if (ret == 0)
			break;
		a = first > lblk ? first : lblk;
		b = first + e.len < end ? first + e.len : end;
		ret = cut(nfs, ino, first, &e, a, b);
		if (!ret && (how == FSA_NATIVE_UNMAP_FREE ||
			     how == FSA_NATIVE_UNMAP_SWITCH))
			ret = fsa_native_ref_put(nfs, e.start + (a - first),
						 b - a);
		else if (!ret && how == FSA_NATIVE_UNMAP_FREE_NOW)
			ret = fsa_native_free_insert(nfs, e.start + (a - first),
						     b - a);
		/* A file of more extents than half the journal holds is
		 * freed over several commits: a crash in between leaves it
		 * partly freed, with counts fsck --repair sets right. */
		if (!ret && how == FSA_NATIVE_UNMAP_FREE)
			ret = fsa_native_commit_if_full(nfs);
		if (ret)
			return ret;
		removed += (int64_t)(b - a);
		lblk = b;
	}
	return removed;
}

int fsa_native_ext_convert(struct fsa_native_fs *nfs, uint64_t ino,
			   uint64_t lblk, uint64_t end)
{
	while (lblk < end) {
		struct fsa_native_extent e;
		uint64_t first, a, b;
		int ret = fsa_native_ext_find(nfs, ino, lblk, end, &first, &e);

		if (ret <= 0)
			return ret;
		a = first > lblk ? first : lblk;
		b = first + e.len < end ? first + e.len : end;
		if (e.flags & FSA_NATIVE_EXT_UNWRITTEN) {
			ret = cut(nfs, ino, first, &e, a, b);
			if (!ret)
				ret = fsa_native_ext_add(
					nfs, ino, a, e.start + (a - first),
					b - a,
					e.flags & ~FSA_NATIVE_EXT_UNWRITTEN);
			if (ret)
				return ret;
		}
		lblk = b;
	}
	return 0;
}
