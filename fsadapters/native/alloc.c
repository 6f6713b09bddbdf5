// SPDX-License-Identifier: GPL-2.0
/* alloc.c - free space: extents in the free tree, allocated near a goal;
 * the metadata reserve tree nodes come from; frees deferred to commit. */
#include <errno.h>
#include <stdlib.h>

#include "native.h"

static struct fsa_native_key key1(uint64_t w)
{
	return (struct fsa_native_key){ { w, 0 } };
}

/*
 * The free extent holding @goal, else the first after it, else the first
 * of all: 1 with it in *@s, *@l; 0 when there is no free space.
 */
static int find_near(struct fsa_native_fs *nfs, uint64_t goal, uint64_t *s,
		     uint64_t *l)
{
	struct fsa_native_cursor c;
	struct fsa_native_key k = key1(goal);
	int ret = fsa_native_bt_seek_le(&c, nfs, FSA_NATIVE_T_FREE, &k);

	if (ret == 1) {
		fsa_native_bt_get(&c, &k, l);
		if (k.w[0] + *l > goal) {
			*s = k.w[0];
			return 1;
		}
		ret = fsa_native_bt_next(&c);
	} else if (ret == 0) {
		ret = fsa_native_bt_seek(&c, nfs, FSA_NATIVE_T_FREE, &k);
	}
	if (ret == 0) {
		k = key1(0);
		ret = fsa_native_bt_seek(&c, nfs, FSA_NATIVE_T_FREE, &k);
	}
	if (ret == 1) {
		fsa_native_bt_get(&c, &k, l);
		*s = k.w[0];
	}
	return ret;
}

/* Takes [start, start + n) out of the free extent [s, s + l). */
static int take(struct fsa_native_fs *nfs, uint64_t s, uint64_t l,
		uint64_t start, uint64_t n)
{
	struct fsa_native_key k = key1(s);
	uint64_t head = start - s, tail = s + l - (start + n);
	int ret;

	if (head)
		ret = fsa_native_bt_update(nfs, FSA_NATIVE_T_FREE, &k, &head);
	else
		ret = fsa_native_bt_delete(nfs, FSA_NATIVE_T_FREE, &k);
	if (!ret && tail) {
		k = key1(start + n);
		ret = fsa_native_bt_insert(nfs, FSA_NATIVE_T_FREE, &k, &tail);
	}
	if (ret)
		return ret;
	nfs->sb.free_blocks -= n;
	nfs->changed = true;
	return 0;
}

int fsa_native_reserve_fill(struct fsa_native_fs *nfs, unsigned int need)
{
	struct fsa_native_sb *sb = &nfs->sb;
	int ret = 0;

	if (nfs->in_refill || sb->reserve_count >= FSA_NATIVE_RESERVE_LOW)
		return sb->reserve_count >= need ? 0 : -ENOSPC;
	nfs->in_refill = true;
	while (sb->reserve_count < FSA_NATIVE_RESERVE) {
		uint64_t goal = sb->journal_start + sb->journal_blocks;
		uint64_t s, l, n = FSA_NATIVE_RESERVE - sb->reserve_count;

		ret = find_near(nfs, goal, &s, &l);
		if (ret <= 0)
			break;
		if (n > l)
			n = l;
		/* From the end: only the length changes, or a record goes. */
		ret = take(nfs, s, l, s + l - n, n);
		if (ret)
			break;
		/* A record going may have freed a node into the reserve. */
		for (uint64_t i = 0; i < n; i++) {
			if (sb->reserve_count < FSA_NATIVE_RESERVE)
				sb->reserve[sb->reserve_count++] =
					s + l - n + i;
			else
				ret = fsa_native_free(nfs, s + l - n + i, 1);
		}
		if (ret)
			break;
	}
	nfs->in_refill = false;
	if (ret < 0)
		return ret;
	return sb->reserve_count >= need ? 0 : -ENOSPC;
}

int fsa_native_alloc_node(struct fsa_native_fs *nfs, uint64_t *blkno)
{
	if (!nfs->sb.reserve_count)
		return -ENOSPC;
	*blkno = nfs->sb.reserve[--nfs->sb.reserve_count];
	nfs->changed = true;
	return 0;
}

int fsa_native_free_node(struct fsa_native_fs *nfs, uint64_t blkno)
{
	fsa_native_meta_forget(nfs, blkno);
	nfs->changed = true;
	if (nfs->sb.reserve_count < FSA_NATIVE_RESERVE) {
		nfs->sb.reserve[nfs->sb.reserve_count++] = blkno;
		return 0;
	}
	return fsa_native_free(nfs, blkno, 1);
}

int64_t fsa_native_alloc(struct fsa_native_fs *nfs, uint64_t goal, uint64_t len,
			 uint64_t *start)
{
	uint64_t s, l, at, n;
	int ret = fsa_native_reserve_fill(nfs, 2);

	if (ret)
		return ret;
	ret = find_near(nfs, goal, &s, &l);
	if (ret < 0)
		return ret;
	if (ret == 0)
		return -ENOSPC;
	at = goal > s && goal < s + l ? goal : s;
	n = s + l - at;
	if (n > len)
		n = len;
	ret = take(nfs, s, l, at, n);
	if (ret)
		return ret;
	*start = at;
	return (int64_t)n;
}

int fsa_native_free(struct fsa_native_fs *nfs, uint64_t start, uint64_t len)
{
	struct fsa_native_range *last =
		nfs->ndeferred ? &nfs->deferred[nfs->ndeferred - 1] : NULL;

	if (last && last->start + last->len == start) {
		last->len += len;
		return 0;
	}
	if (nfs->ndeferred == nfs->deferred_cap) {
		size_t cap = nfs->deferred_cap ? nfs->deferred_cap * 2 : 16;
		void *p = realloc(nfs->deferred, cap * sizeof(*nfs->deferred));

		if (!p)
			return -ENOMEM;
		nfs->deferred = p;
		nfs->deferred_cap = cap;
	}
	nfs->deferred[nfs->ndeferred++] =
		(struct fsa_native_range){ start, len };
	nfs->changed = true;
	return 0;
}

/* The free extents before and after @start: 1 each when found. */
static int neighbours(struct fsa_native_fs *nfs, uint64_t start,
		      struct fsa_native_range *prev, bool *has_prev,
		      struct fsa_native_range *next, bool *has_next)
{
	struct fsa_native_cursor c;
	struct fsa_native_key k = key1(start);
	int ret = fsa_native_bt_seek_le(&c, nfs, FSA_NATIVE_T_FREE, &k);

	*has_prev = ret == 1;
	if (ret == 1) {
		fsa_native_bt_get(&c, &k, &prev->len);
		prev->start = k.w[0];
	}
	if (ret < 0)
		return ret;
	k = key1(start);
	ret = fsa_native_bt_seek(&c, nfs, FSA_NATIVE_T_FREE, &k);
	*has_next = ret == 1;
	if (ret == 1) {
		fsa_native_bt_get(&c, &k, &next->len);
		next->start = k.w[0];
	}
	return ret < 0 ? ret : 0;
}

int fsa_native_free_insert(struct fsa_native_fs *nfs, uint64_t start,
			   uint64_t len)
{
	struct fsa_native_range p, n;
	bool hp, hn;
	struct fsa_native_key k;
	uint64_t end = start + len;
	int ret = neighbours(nfs, start, &p, &hp, &n, &hn);

	if (ret)
		return ret;
	if ((hp && p.start + p.len > start) || (hn && n.start < end) ||
	    end > nfs->sb.block_count || end < start) {
		fsa_native_report(nfs, start,
				  "freeing %llu blocks that are "
				  "already free or outside the filesystem",
				  (unsigned long long)len);
		return -EFSCORRUPTED;
	}
	if (hn && n.start == end) {
		k = key1(n.start);
		ret = fsa_native_bt_delete(nfs, FSA_NATIVE_T_FREE, &k);
		len += n.len;
	}
	if (!ret && hp && p.start + p.len == start) {
		k = key1(p.start);
		len += p.len;
		ret = fsa_native_bt_update(nfs, FSA_NATIVE_T_FREE, &k, &len);
	} else if (!ret) {
		k = key1(start);
		ret = fsa_native_bt_insert(nfs, FSA_NATIVE_T_FREE, &k, &len);
	}
	if (ret)
		return ret;
	nfs->sb.free_blocks += end - start;
	nfs->changed = true;
	return 0;
}

int fsa_native_free_deferred(struct fsa_native_fs *nfs)
{
	/* Freeing may free tree nodes past the reserve: the list grows. */
	for (size_t i = 0; i < nfs->ndeferred; i++) {
		struct fsa_native_range r = nfs->deferred[i];
		int ret = fsa_native_free_insert(nfs, r.start, r.len);

		if (ret)
			return ret;
	}
	nfs->ndeferred = 0;
	return 0;
}
