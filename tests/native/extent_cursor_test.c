// SPDX-License-Identifier: GPL-2.0
/* extent_cursor_test.c - extent lookups of iomapfs: a file's cursor (a
 * copy of the leaf its last lookup ended in) answers as the tree does,
 * through changes to the tree and leaves read ahead; a lookup from the
 * root visits a number of nodes bounded by the tree's height, which grows
 * as the log of the records; a walk in file order visits each leaf about
 * once; and files written in order, side by side, fill their leaves. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <criterion/criterion.h>

#include "native_util.h"

static char *dir;

static void setup(void)
{
	dir = t_tmpdir();
}

static void teardown(void)
{
	t_tmpdir_remove(dir);
}

TestSuite(extent_cursor, .init = setup, .fini = teardown);

/* The reference: every extent record, sorted by (ino, lblk). */
struct rec {
	uint64_t ino, lblk;
	struct fsa_native_extent e;
};

struct ref {
	struct rec *r;
	size_t n;
};

static int rec_cmp(const void *a, const void *b)
{
	const struct rec *x = a, *y = b;

	if (x->ino != y->ino)
		return x->ino < y->ino ? -1 : 1;
	return x->lblk < y->lblk ? -1 : x->lblk > y->lblk;
}

/* What fsa_native_ext_find() must answer, from the sorted records. */
static int ref_find(const struct ref *ref, uint64_t ino, uint64_t lblk,
		    uint64_t end, const struct rec **hit)
{
	size_t lo = 0, hi = ref->n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		const struct rec *m = &ref->r[mid];

		if (m->ino < ino || (m->ino == ino && m->lblk <= lblk))
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo && ref->r[lo - 1].ino == ino &&
	    lblk - ref->r[lo - 1].lblk < ref->r[lo - 1].e.len) {
		*hit = &ref->r[lo - 1];
		return 1;
	}
	if (lo < ref->n && ref->r[lo].ino == ino && ref->r[lo].lblk < end) {
		*hit = &ref->r[lo];
		return 1;
	}
	return 0;
}

/* One lookup through @cur (or none) checked against the reference. */
static void check_one(struct fsa_native_fs *nfs,
		      struct fsa_native_ext_cursor *cur, const struct ref *ref,
		      uint64_t ino, uint64_t lblk, uint64_t end)
{
	const struct rec *want = NULL;
	struct fsa_native_extent e;
	uint64_t first = 0;
	int exp = ref_find(ref, ino, lblk, end, &want);
	int ret = fsa_native_ext_find_cur(nfs, cur, ino, lblk, end, &first, &e);

	cr_assert_eq(ret, exp, "ino %llu lblk %llu end %llu: %d, want %d",
		     (unsigned long long)ino, (unsigned long long)lblk,
		     (unsigned long long)end, ret, exp);
	if (ret != 1)
		return;
	cr_assert_eq(first, want->lblk, "ino %llu lblk %llu: first %llu/%llu",
		     (unsigned long long)ino, (unsigned long long)lblk,
		     (unsigned long long)first, (unsigned long long)want->lblk);
	cr_assert(e.start == want->e.start && e.len == want->e.len &&
			  e.flags == want->e.flags,
		  "ino %llu lblk %llu: wrong extent", (unsigned long long)ino,
		  (unsigned long long)lblk);
}

static void insert(struct fsa_native_fs *nfs, struct ref *ref,
		   const struct rec *r)
{
	struct fsa_native_key k = { { r->ino, r->lblk } };
	int ret = fsa_native_bt_insert(nfs, FSA_NATIVE_T_EXTENTS, &k, &r->e);

	cr_assert_eq(ret, 0, "insert: %d", ret);
	ref->r[ref->n++] = *r;
}

/*
 * Extents of inodes 5, 6 and 7 inserted in turn (each file growing in
 * order while the others' records follow it), of 1 to 3 blocks with holes
 * of 0 to 3 blocks between them; every physical start is different.
 */
#define INOS 3
#define PER_INO 4000
static void build(struct fsa_native_fs *nfs, struct ref *ref)
{
	uint64_t next[INOS] = { 0 }, start = 100000;

	ref->r = calloc(INOS * PER_INO + 1000, sizeof(*ref->r));
	cr_assert_not_null(ref->r);
	for (int i = 0; i < PER_INO; i++) {
		for (int f = 0; f < INOS; f++) {
			struct rec r = { .ino = 5 + (uint64_t)f };

			next[f] += (uint64_t)(rand() % 4);
			r.lblk = next[f];
			r.e.len = 1 + (uint32_t)(rand() % 3);
			r.e.start = start;
			r.e.flags = rand() % 5 ? 0 : FSA_NATIVE_EXT_UNWRITTEN;
			start += r.e.len + 1;
			next[f] += r.e.len;
			insert(nfs, ref, &r);
		}
	}
	qsort(ref->r, ref->n, sizeof(*ref->r), rec_cmp);
}

static uint64_t last_block(const struct ref *ref, uint64_t ino)
{
	uint64_t end = 0;

	for (size_t i = 0; i < ref->n; i++)
		if (ref->r[i].ino == ino)
			end = ref->r[i].lblk + ref->r[i].e.len;
	return end;
}

/* Every block of @ino and a little past, in order, as fiemap asks. */
static void walk(struct fsa_native_fs *nfs, struct fsa_native_ext_cursor *cur,
		 const struct ref *ref, uint64_t ino)
{
	uint64_t end = last_block(ref, ino) + 5;

	for (uint64_t lblk = 0; lblk < end; lblk++)
		check_one(nfs, cur, ref, ino, lblk, lblk + 1 + lblk % 4);
}

Test(extent_cursor, answers_as_the_tree_through_changes)
{
	char *img = tn_mkfs(dir, "img", 256 << 20, 1024);
	struct fsa_native_fs *nfs = tn_open(img, true);
	struct fsa_native_ext_cursor cur = { 0 };
	struct ref ref = { 0 };

	srand(11);
	build(nfs, &ref);
	for (uint64_t ino = 4; ino <= 8; ino++)
		walk(nfs, &cur, &ref, ino);
	for (int i = 0; i < 20000; i++) {
		uint64_t ino = 4 + (uint64_t)(rand() % 5);
		uint64_t lblk = (uint64_t)(rand() % 14000);

		check_one(nfs, &cur, &ref, ino, lblk,
			  lblk + 1 + (uint64_t)(rand() % 6));
	}
	/* Changes between lookups: each one makes the copied leaf stale. */
	for (int i = 0; i < 300; i++) {
		size_t at = (size_t)rand() % ref.n;
		struct rec r = ref.r[at];
		struct fsa_native_key k = { { r.ino, r.lblk } };

		check_one(nfs, &cur, &ref, r.ino, r.lblk, r.lblk + 1);
		if (i % 2) {
			cr_assert_eq(fsa_native_bt_delete(
					     nfs, FSA_NATIVE_T_EXTENTS, &k),
				     0);
			memmove(&ref.r[at], &ref.r[at + 1],
				(ref.n - at - 1) * sizeof(*ref.r));
			ref.n--;
		} else {
			r.e.len = 1;
			r.e.start += 7;
			cr_assert_eq(fsa_native_bt_update(nfs,
							  FSA_NATIVE_T_EXTENTS,
							  &k, &r.e),
				     0);
			ref.r[at] = r;
		}
		check_one(nfs, &cur, &ref, r.ino, r.lblk, r.lblk + 2);
		check_one(nfs, &cur, &ref, r.ino, r.lblk + 1, r.lblk + 3);
	}
	walk(nfs, &cur, &ref, 6);
	fsa_native_ext_cursor_free(&cur);
	tn_close(nfs);

	/* Read-only, where a walk reads the next leaves ahead. */
	nfs = tn_open(img, false);
	for (uint64_t ino = 5; ino <= 7; ino++)
		walk(nfs, &cur, &ref, ino);
	fsa_native_ext_cursor_free(&cur);
	tn_close(nfs);
	free(ref.r);
	free(img);
}

Test(extent_cursor, lookups_stay_logarithmic_and_walks_visit_leaves_once)
{
	char *img = tn_mkfs(dir, "img", 256 << 20, 1024);
	struct fsa_native_fs *nfs = tn_open(img, true);
	struct fsa_native_ext_cursor cur = { 0 };
	const unsigned int leaf_max =
		fsa_native_bt_leaf_max(nfs, FSA_NATIVE_T_EXTENTS);
	struct ref ref = { 0 };
	unsigned int levels, bound;
	uint64_t before, most = 0, uncached;

	srand(12);
	build(nfs, &ref);
	tn_close(nfs);
	nfs = tn_open(img, false);
	/*
	 * The height of a tree of nodes at least half full: fan-out
	 * leaf_max / 2 at the leaves and (1 KiB - header) / (16 + 8) / 2 = 20
	 * above.  It grows as the log of the records; a split that left
	 * nodes nearly empty would make it taller.
	 */
	levels = nfs->sb.trees[FSA_NATIVE_T_EXTENTS].levels;
	bound = 1;
	for (uint64_t cap = leaf_max / 2; cap < ref.n; cap *= 20)
		bound++;
	cr_assert_leq(levels, bound, "%u levels for %zu records (bound %u)",
		      levels, ref.n, bound);
	cr_assert_geq(levels, 3, "too small a tree to tell: %u levels", levels);
	/*
	 * A lookup from the root: one node per level down, the leaf again
	 * for each record it reads, and at worst the paths to both of its
	 * neighbours (the record before it is at the end of the previous
	 * leaf, the one after at the start of the next): nodes looked at
	 * grow with the height, about twice it on average.
	 */
	before = nfs->node_visits;
	for (int i = 0; i < 5000; i++) {
		uint64_t ino = 5 + (uint64_t)(rand() % 3);
		uint64_t lblk = (uint64_t)(rand() % 14000);
		uint64_t at = nfs->node_visits;

		check_one(nfs, NULL, &ref, ino, lblk, lblk + 3);
		if (nfs->node_visits - at > most)
			most = nfs->node_visits - at;
	}
	cr_assert_leq(most, 6 * (uint64_t)levels + 10,
		      "a lookup visited %llu nodes of a %u-level tree",
		      (unsigned long long)most, levels);
	cr_assert_leq(nfs->node_visits - before, 5000 * 3 * (uint64_t)levels,
		      "5000 lookups visited %llu nodes of a %u-level tree",
		      (unsigned long long)(nfs->node_visits - before), levels);
	/* A walk in order through a cursor: a descent per leaf (of
	 * leaf_max records here), not per lookup as without one. */
	before = nfs->node_visits;
	for (uint64_t ino = 5; ino <= 7; ino++)
		walk(nfs, NULL, &ref, ino);
	uncached = nfs->node_visits - before;
	before = nfs->node_visits;
	for (uint64_t ino = 5; ino <= 7; ino++)
		walk(nfs, &cur, &ref, ino);
	cr_assert_lt((nfs->node_visits - before) * 10, uncached,
		     "a walk visited %llu nodes with a cursor, %llu without",
		     (unsigned long long)(nfs->node_visits - before),
		     (unsigned long long)uncached);
	fsa_native_ext_cursor_free(&cur);
	tn_close(nfs);
	free(ref.r);
	free(img);
}

static int count_leaf(uint64_t blkno, unsigned int level, void *priv)
{
	(void)blkno;
	if (!level)
		(*(uint64_t *)priv)++;
	return 0;
}

/* Two files preallocated a block each in turn, as bench/mkfrag-native
 * does: each file's extents are appended before the other's records. */
Test(extent_cursor, files_written_side_by_side_fill_their_leaves)
{
	enum { N = 3000 };
	char *img = tn_mkfs(dir, "img", 64 << 20, 1024);
	struct fsa_native_fs *nfs = tn_open(img, true);
	struct fsa_fs *fs = &nfs->base;
	struct iomap_inode *f[2];
	uint64_t ino[2], leaves = 0, records, ideal;

	cr_assert_eq(fsa_native_create(fs, FSA_NATIVE_ROOT_INO, "a",
				       S_IFREG | 0644, &ino[0]),
		     0);
	cr_assert_eq(fsa_native_create(fs, FSA_NATIVE_ROOT_INO, "b",
				       S_IFREG | 0644, &ino[1]),
		     0);
	for (int i = 0; i < 2; i++)
		cr_assert_eq(fsa_native_ops.iget(fs, ino[i], &f[i]), 0);
	for (int b = 0; b < N; b++)
		for (int i = 0; i < 2; i++)
			cr_assert_eq(fsa_native_falloc(f[i], (loff_t)b * 1024,
						       1024, false),
				     0);
	for (int i = 0; i < 2; i++)
		fsa_native_ops.iput(f[i]);
	records = nfs->sb.trees[FSA_NATIVE_T_EXTENTS].records;
	cr_assert_eq(records, 2 * N, "%llu extents: blocks merged",
		     (unsigned long long)records);
	cr_assert_eq(fsa_native_bt_walk_nodes(nfs, FSA_NATIVE_T_EXTENTS,
					      count_leaf, &leaves),
		     0);
	/* Half-full leaves (a split in two halves each time) would take
	 * twice the ideal. */
	ideal = (records + fsa_native_bt_leaf_max(nfs, FSA_NATIVE_T_EXTENTS) -
		 1) /
		fsa_native_bt_leaf_max(nfs, FSA_NATIVE_T_EXTENTS);
	cr_assert_leq(leaves, ideal + ideal / 10 + 2,
		      "%llu leaves for %llu records (%llu full)",
		      (unsigned long long)leaves, (unsigned long long)records,
		      (unsigned long long)ideal);
	tn_close(nfs);
	tn_assert_clean(img);

	/* Mapped through the file in order, as the engine asks: the same
	 * as lookups from the root, and every block its own extent. */
	nfs = tn_open(img, false);
	cr_assert_eq(fsa_native_ops.iget(&nfs->base, ino[0], &f[0]), 0);
	for (uint64_t b = 0; b < N; b++) {
		struct fsa_native_extent e;
		struct iomap m;
		uint64_t first;

		cr_assert_eq(fsa_native_map_block(NATIVE_I(f[0]), b, N, &m), 0);
		cr_assert_eq(fsa_native_ext_find(nfs, ino[0], b, N, &first, &e),
			     1);
		cr_assert(m.type == IOMAP_UNWRITTEN && m.length == 1024 &&
				  m.addr == e.start * 1024 && first == b,
			  "block %llu", (unsigned long long)b);
	}
	fsa_native_ops.iput(f[0]);
	tn_close(nfs);
	free(img);
}

/* Leaves of the extent tree after inserting @n records keyed by @key(i). */
static uint64_t leaves_after(const char *name, unsigned int n,
			     struct fsa_native_key (*key)(unsigned int i))
{
	char *img = tn_mkfs(dir, name, 64 << 20, 1024);
	struct fsa_native_fs *nfs = tn_open(img, true);
	struct fsa_native_extent e = { 1000, 1, 0 };
	uint64_t leaves = 0;

	for (unsigned int i = 0; i < n; i++) {
		struct fsa_native_key k = key(i);

		e.start += 2;
		cr_assert_eq(fsa_native_bt_insert(nfs, FSA_NATIVE_T_EXTENTS,
						  &k, &e),
			     0);
	}
	cr_assert_eq(fsa_native_bt_walk_nodes(nfs, FSA_NATIVE_T_EXTENTS,
					      count_leaf, &leaves),
		     0);
	tn_close(nfs);
	free(img);
	return leaves;
}

/* The first tenth in order, then the rest backwards from the top down to
 * it: every insert lands right after the full leaves of the first part. */
enum { REVERSE_N = 3000 };
static uint64_t back_order(unsigned int i)
{
	return i < REVERSE_N / 10 ? i : REVERSE_N - 1 - (i - REVERSE_N / 10);
}

static struct fsa_native_key one_file_backwards(unsigned int i)
{
	return (struct fsa_native_key){ { 9, 2 * back_order(i) } };
}

static struct fsa_native_key files_newest_first(unsigned int i)
{
	return (struct fsa_native_key){ { 100 + back_order(i), 0 } };
}

static struct fsa_native_key one_file_forwards(unsigned int i)
{
	return (struct fsa_native_key){ { 9, 2 * (uint64_t)i } };
}

/* Whatever the order of inserts, leaves stay at least half full; in file
 * order they fill. */
Test(extent_cursor, no_insert_order_leaves_leaves_nearly_empty)
{
	const uint64_t full = (REVERSE_N + 29) / 30; /* 30 per 1 KiB leaf */
	uint64_t n;

	n = leaves_after("backwards", REVERSE_N, one_file_backwards);
	cr_expect_leq(n, 2 * full + 2, "a file written backwards: %llu leaves",
		      (unsigned long long)n);
	n = leaves_after("newest", REVERSE_N, files_newest_first);
	cr_expect_leq(n, 2 * full + 2, "files newest first: %llu leaves",
		      (unsigned long long)n);
	n = leaves_after("forwards", REVERSE_N, one_file_forwards);
	cr_expect_leq(n, full + 1, "a file written in order: %llu leaves",
		      (unsigned long long)n);
}

/* 400 refcount records: a transaction of several blocks. */
static void add_refcounts(struct fsa_native_fs *nfs)
{
	tn_add_refcounts(nfs, 400, 5);
}

/* A read-only open lays a transaction committed to the journal but not
 * written in place over the image in the cache: dropping clean blocks to
 * bound the cache must keep those, or the older blocks come back. */
Test(extent_cursor, cache_trim_keeps_a_journalled_transaction)
{
	char *img = tn_mkfs(dir, "img", 16 << 20, 1024);
	char *crash = tn_crash_copy(dir, img, add_refcounts);
	struct fsa_native_fs *nfs = tn_open(crash, false);

	cr_assert_eq(tn_count_records(nfs, FSA_NATIVE_T_REFCOUNT), 400);
	/* Every clean block goes at the next trim. */
	nfs->trim_at = 1;
	fsa_native_meta_trim(nfs);
	cr_assert_eq(tn_count_records(nfs, FSA_NATIVE_T_REFCOUNT), 400);
	tn_close(nfs);
	free(crash);
	free(img);
}
