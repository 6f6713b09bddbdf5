// SPDX-License-Identifier: GPL-2.0
/* delalloc.c - delayed allocation: a buffered write into a hole reserves
 * space and maps as DELALLOC; writeback allocates whole extents for it. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "native.h"

/*
 * Blocks that must stay free for @d reserved data blocks whose allocation
 * makes at most @e extents: the data; per tree changed by it (extents, and
 * free space, which may gain a record per allocation) one node per half
 * leaf of records plus a path of splits; and a refill of the metadata
 * reserve.  Nothing reserved promises nothing, so allocation without
 * delalloc is unchanged.
 */
static uint64_t promised(const struct fsa_native_fs *nfs, uint64_t d,
			 uint64_t e)
{
	uint64_t half_leaf = (nfs->block_size - FSA_NATIVE_NODE_HDR) /
			     (2 * (16 + sizeof(struct fsa_native_extent)));

	if (!d)
		return 0;
	return d + 2 * (e / (half_leaf ? half_leaf : 1) + 1) +
	       2 * FSA_NATIVE_MAX_LEVELS + FSA_NATIVE_RESERVE;
}

/*
 * The most extents allocating @d delayed blocks can make: each allocation
 * ends a free extent, a delalloc range or a maximal allocation, so at most
 * the free extents (counted, up to @d) plus those.
 */
static uint64_t extents_bound(struct fsa_native_fs *nfs, uint64_t d)
{
	struct fsa_native_key k = { { 0, 0 } };
	struct fsa_native_cursor c;
	uint64_t free_extents = 0;
	int ret = fsa_native_bt_seek(&c, nfs, FSA_NATIVE_T_FREE, &k);

	while (ret == 1 && free_extents < d) {
		free_extents++;
		ret = fsa_native_bt_next(&c);
	}
	if (ret < 0)
		return d;
	free_extents += nfs->da.n + 1 + (d >> 20);
	return free_extents < d ? free_extents : d;
}

/*
 * The blocks @d reserved blocks hold back from the free ones: by the worst
 * case of one extent per block, or when that is more than @free, by the
 * free extents there are (a walk of the free tree, short when little is
 * free).
 */
static uint64_t held(struct fsa_native_fs *nfs, uint64_t d, uint64_t free)
{
	uint64_t p = promised(nfs, d, d);

	return p > free ? promised(nfs, d, extents_bound(nfs, d)) : p;
}

uint64_t fsa_native_da_avail(struct fsa_native_fs *nfs, uint64_t want)
{
	uint64_t free = nfs->sb.free_blocks;
	uint64_t p = held(nfs, nfs->da.reserved,
			  free > want ? free - want : 0);

	if (p >= free)
		return 0;
	return free - p < want ? free - p : want;
}

/* How many more blocks, up to @want, a reservation may take now. */
static uint64_t room(struct fsa_native_fs *nfs, uint64_t want)
{
	uint64_t free = nfs->sb.free_blocks, d = nfs->da.reserved;
	uint64_t lo = 0, hi = want;

	/* held() grows with the reservation: the largest that fits. */
	while (lo < hi) {
		uint64_t mid = lo + (hi - lo + 1) / 2;

		if (held(nfs, d + mid, free) <= free)
			lo = mid;
		else
			hi = mid - 1;
	}
	return lo;
}

/* Index of the first range of @ino ending after @lblk (or past them). */
static size_t lookup(const struct fsa_native_delalloc *da, uint64_t ino,
		     uint64_t lblk)
{
	size_t lo = 0, hi = da->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct fsa_native_da_range *r = &da->r[mid];

		if (r->ino < ino || (r->ino == ino && r->lblk + r->len <= lblk))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int fsa_native_da_find(const struct fsa_native_fs *nfs, uint64_t ino,
		       uint64_t lblk, uint64_t end, uint64_t *first,
		       uint64_t *len)
{
	const struct fsa_native_delalloc *da = &nfs->da;
	size_t i = lookup(da, ino, lblk);

	if (i == da->n || da->r[i].ino != ino || da->r[i].lblk >= end)
		return 0;
	*first = da->r[i].lblk;
	*len = da->r[i].len;
	return 1;
}

uint64_t fsa_native_da_blocks(const struct fsa_native_fs *nfs, uint64_t ino)
{
	const struct fsa_native_delalloc *da = &nfs->da;
	uint64_t blocks = 0;

	for (size_t i = lookup(da, ino, 0); i < da->n && da->r[i].ino == ino;
	     i++)
		blocks += da->r[i].len;
	return blocks;
}

void fsa_native_da_overlay(struct fsa_native_file *f, uint64_t lblk,
			   struct iomap *iomap)
{
	const unsigned int bits = f->vfs.blkbits;
	uint64_t end = lblk + (iomap->length >> bits), first, len;

	if (!fsa_native_da_find(f->nfs, f->vfs.ino, lblk, end, &first, &len))
		return;
	if (first > lblk) {
		iomap->length = (first - lblk) << bits;
		return;
	}
	/* Delalloc ranges lie in holes: the whole rest is one mapping. */
	iomap->type = IOMAP_DELALLOC;
	iomap->length = (first + len - lblk) << bits;
}

/* Room for one more range record. */
static int grow(struct fsa_native_delalloc *da)
{
	size_t cap = da->cap ? da->cap * 2 : 16;
	void *p;

	if (da->n < da->cap)
		return 0;
	p = realloc(da->r, cap * sizeof(*da->r));
	if (!p)
		return -ENOMEM;
	da->r = p;
	da->cap = cap;
	return 0;
}

/* Adds [lblk, lblk + len) of @f, in a hole, merging with its neighbours
 * of the same owner. */
static int insert(struct fsa_native_file *f, uint64_t lblk, uint64_t len)
{
	struct fsa_native_delalloc *da = &f->nfs->da;
	uint64_t ino = f->vfs.ino;
	size_t i = lookup(da, ino, lblk);
	struct fsa_native_da_range *prev = i ? &da->r[i - 1] : NULL;
	struct fsa_native_da_range *next = i < da->n ? &da->r[i] : NULL;
	bool to_prev = prev && prev->ino == ino && prev->owner == f &&
		       prev->lblk + prev->len == lblk;
	bool to_next = next && next->ino == ino && next->owner == f &&
		       next->lblk == lblk + len;
	int ret;

	if (to_prev && to_next) {
		prev->len += len + next->len;
		memmove(next, next + 1, (da->n - i - 1) * sizeof(*next));
		da->n--;
	} else if (to_prev) {
		prev->len += len;
	} else if (to_next) {
		next->lblk = lblk;
		next->len += len;
	} else {
		ret = grow(da);
		if (ret)
			return ret;
		memmove(&da->r[i + 1], &da->r[i], (da->n - i) * sizeof(*da->r));
		da->r[i] = (struct fsa_native_da_range){ ino, lblk, len, f };
		da->n++;
	}
	da->reserved += len;
	return 0;
}

int64_t fsa_native_da_reserve(struct fsa_native_file *f, uint64_t lblk,
			      uint64_t len)
{
	struct fsa_native_fs *nfs = f->nfs;
	uint64_t n = room(nfs, len);
	int ret;

	/* Blocks freed in this transaction are free once it commits. */
	if (!n && nfs->ndeferred) {
		ret = fsa_native_commit(nfs);
		if (ret)
			return ret;
		n = room(nfs, len);
	}
	if (!n)
		return -ENOSPC;
	ret = insert(f, lblk, n);
	return ret ? ret : (int64_t)n;
}

/* Takes [a, b) out of range @i (which overlaps it): 0 or -ENOMEM. */
static int cut(struct fsa_native_delalloc *da, size_t i, uint64_t a,
	       uint64_t b)
{
	struct fsa_native_da_range *r = &da->r[i];
	uint64_t end = r->lblk + r->len;
	int ret;

	if (a <= r->lblk && b >= end) {
		memmove(r, r + 1, (da->n - i - 1) * sizeof(*r));
		da->n--;
	} else if (a <= r->lblk) {
		r->len = end - b;
		r->lblk = b;
	} else if (b >= end) {
		r->len = a - r->lblk;
	} else {
		ret = grow(da);
		if (ret)
			return ret;
		r = &da->r[i];
		memmove(r + 1, r, (da->n - i) * sizeof(*r));
		da->n++;
		r->len = a - r->lblk;
		r[1].lblk = b;
		r[1].len = end - b;
	}
	return 0;
}

int64_t fsa_native_da_release(struct fsa_native_fs *nfs, uint64_t ino,
			      uint64_t lblk, uint64_t end,
			      const struct fsa_native_file *owner)
{
	struct fsa_native_delalloc *da = &nfs->da;
	size_t i = lookup(da, ino, lblk);
	int64_t released = 0;

	while (i < da->n && da->r[i].ino == ino && da->r[i].lblk < end) {
		struct fsa_native_da_range *r = &da->r[i];
		uint64_t a = r->lblk > lblk ? r->lblk : lblk;
		uint64_t b = r->lblk + r->len < end ? r->lblk + r->len : end;
		size_t before = da->n;
		int ret;

		if (owner && r->owner != owner) {
			i++;
			continue;
		}
		ret = cut(da, i, a, b);
		if (ret)
			return ret;
		da->reserved -= b - a;
		released += (int64_t)(b - a);
		/* A range wholly taken out leaves @i on the next one. */
		if (da->n >= before)
			i++;
	}
	return released;
}

void fsa_native_da_free(struct fsa_native_fs *nfs)
{
	free(nfs->da.r);
	memset(&nfs->da, 0, sizeof(nfs->da));
}

/*
 * A buffered write at @pos: blocks on disk or already delayed map as they
 * are; a hole becomes a reservation mapped DELALLOC | NEW, which
 * writeback's ->map_blocks turns into extents.  -ENOSPC now when no block
 * can be promised, never later at writeback.
 */
int fsa_native_da_write_begin(struct fsa_native_file *f, loff_t pos,
			      loff_t length, struct iomap *iomap)
{
	const unsigned int bits = f->vfs.blkbits;
	uint64_t lblk = (uint64_t)pos >> bits;
	uint64_t end = ((uint64_t)pos + (uint64_t)length + (1ULL << bits) - 1) >>
		       bits;
	int64_t n;
	int ret = fsa_native_writable(f->nfs);

	if (!ret && (pos < 0 || length <= 0))
		ret = -EINVAL;
	if (!ret)
		ret = fsa_native_map_block(f, lblk, end, iomap);
	if (ret)
		return ret;
	if (iomap->type == IOMAP_HOLE) {
		n = fsa_native_da_reserve(f, lblk, iomap->length >> bits);
		if (n < 0)
			return (int)n;
		f->seq++;
		iomap->type = IOMAP_DELALLOC;
		iomap->length = (uint64_t)n << bits;
		iomap->flags |= IOMAP_F_NEW;
	}
	if (iomap->length > (end - lblk) << bits)
		iomap->length = (end - lblk) << bits;
	iomap->validity_cookie = f->seq;
	return 0;
}
