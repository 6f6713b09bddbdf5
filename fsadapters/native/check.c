// SPDX-License-Identifier: GPL-2.0
/* check.c - consistency checks of an open iomapfs (what fsck runs): every
 * tree's order and counts, and every block owned exactly once. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "native.h"

/* A run of blocks and who holds it, for the space check. */
struct owned {
	uint64_t start, len;
	const char *what;
	uint64_t who; /* ino, tree id, ... */
};

struct checker {
	struct fsa_native_fs *nfs;
	const struct fsa_native_check_ops *ops;
	void *priv;
	unsigned long problems;
	bool damaged; /* a tree could not be read whole: space unknown */
	struct owned *runs;
	size_t nruns, cap;
};

static void problem(struct checker *ck, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void problem(struct checker *ck, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	ck->problems++;
	ck->ops->problem(ck->priv, msg);
}

static int own(struct checker *ck, uint64_t start, uint64_t len,
	       const char *what, uint64_t who)
{
	if (ck->nruns == ck->cap) {
		size_t cap = ck->cap ? ck->cap * 2 : 256;
		void *p = realloc(ck->runs, cap * sizeof(*ck->runs));

		if (!p)
			return -ENOMEM;
		ck->runs = p;
		ck->cap = cap;
	}
	ck->runs[ck->nruns++] = (struct owned){ start, len, what, who };
	return 0;
}

struct node_walk {
	struct checker *ck;
	unsigned int tree;
};

static int node_cb(uint64_t blkno, unsigned int level, void *priv)
{
	struct node_walk *w = priv;

	(void)level;
	return own(w->ck, blkno, 1, "tree node", w->tree + 1);
}

/* Keys strictly increasing over the whole tree, and the record count. */
static int check_order(struct checker *ck, unsigned int tree)
{
	const struct fsa_native_root *r = &ck->nfs->sb.trees[tree];
	struct fsa_native_key k = { { 0, 0 } }, prev;
	struct fsa_native_cursor c;
	uint64_t n = 0;
	int ret;

	for (ret = fsa_native_bt_seek(&c, ck->nfs, tree, &k); ret == 1;
	     ret = fsa_native_bt_next(&c)) {
		ret = fsa_native_bt_get(&c, &k, NULL);
		if (ret)
			return ret;
		if (n && fsa_native_key_cmp(&prev, &k) >= 0)
			problem(ck,
				"%s tree: key (%llu, %llu) after "
				"(%llu, %llu) in block %llu: out of order",
				fsa_native_trees[tree].name,
				(unsigned long long)k.w[0],
				(unsigned long long)k.w[1],
				(unsigned long long)prev.w[0],
				(unsigned long long)prev.w[1],
				(unsigned long long)c.blk[0]);
		prev = k;
		if (++n > r->records + (1ULL << 20))
			break; /* a cycle through leaves: counted below */
	}
	if (ret < 0)
		return ret;
	if (n != r->records)
		problem(ck,
			"%s tree holds %llu records, the superblock says "
			"%llu",
			fsa_native_trees[tree].name, (unsigned long long)n,
			(unsigned long long)r->records);
	return 0;
}

static int check_trees(struct checker *ck)
{
	for (unsigned int t = 0; t < FSA_NATIVE_NR_TREES; t++) {
		struct node_walk w = { ck, t };
		int ret = fsa_native_bt_walk_nodes(ck->nfs, t, node_cb, &w);

		if (!ret)
			ret = check_order(ck, t);
		if (ret == -EFSCORRUPTED) {
			problem(ck, "%s tree: damaged node (above)",
				fsa_native_trees[t].name);
			ck->damaged = true;
		} else if (ret) {
			return ret;
		}
	}
	return 0;
}

/* Free extents and file extents join the list of owned runs. */
static int collect_records(struct checker *ck, unsigned int tree)
{
	struct fsa_native_key k = { { 0, 0 } };
	struct fsa_native_cursor c;
	uint64_t free_sum = 0;
	int ret;

	for (ret = fsa_native_bt_seek(&c, ck->nfs, tree, &k); ret == 1;
	     ret = fsa_native_bt_next(&c)) {
		union {
			uint64_t len;
			struct fsa_native_extent e;
		} v;

		ret = fsa_native_bt_get(&c, &k, &v);
		if (ret)
			return ret;
		if (tree == FSA_NATIVE_T_FREE) {
			free_sum += v.len;
			ret = own(ck, k.w[0], v.len, "free space", 0);
		} else {
			ret = own(ck, v.e.start, v.e.len, "file data", k.w[0]);
		}
		if (ret)
			return ret;
	}
	if (ret < 0)
		return ret;
	if (tree == FSA_NATIVE_T_FREE && free_sum != ck->nfs->sb.free_blocks)
		problem(ck,
			"free tree holds %llu blocks, the superblock says "
			"%llu",
			(unsigned long long)free_sum,
			(unsigned long long)ck->nfs->sb.free_blocks);
	return 0;
}

static int cmp_owned(const void *a, const void *b)
{
	const struct owned *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

/* Every block owned once: no overlap, no gap, nothing past the end. */
static void check_space(struct checker *ck)
{
	const uint64_t end = ck->nfs->sb.block_count;
	uint64_t at = 0;

	qsort(ck->runs, ck->nruns, sizeof(*ck->runs), cmp_owned);
	for (size_t i = 0; i < ck->nruns; i++) {
		const struct owned *o = &ck->runs[i];

		if (o->start + o->len > end || o->start + o->len < o->start)
			problem(ck,
				"%s of %llu: blocks %llu+%llu past the end "
				"of the filesystem (%llu)",
				o->what, (unsigned long long)o->who,
				(unsigned long long)o->start,
				(unsigned long long)o->len,
				(unsigned long long)end);
		if (o->start < at)
			problem(ck,
				"%s of %llu: blocks %llu+%llu also used by "
				"%s of %llu",
				o->what, (unsigned long long)o->who,
				(unsigned long long)o->start,
				(unsigned long long)o->len,
				ck->runs[i - 1].what,
				(unsigned long long)ck->runs[i - 1].who);
		else if (o->start > at)
			problem(ck,
				"blocks %llu+%llu are neither free nor "
				"used (leaked)",
				(unsigned long long)at,
				(unsigned long long)(o->start - at));
		if (o->start + o->len > at)
			at = o->start + o->len;
	}
	if (at < end)
		problem(ck,
			"blocks %llu+%llu are neither free nor used "
			"(leaked)",
			(unsigned long long)at, (unsigned long long)(end - at));
}

int fsa_native_check(struct fsa_native_fs *nfs,
		     const struct fsa_native_check_ops *ops, void *priv)
{
	const struct fsa_native_sb *sb = &nfs->sb;
	struct checker ck = { .nfs = nfs, .ops = ops, .priv = priv };
	int ret = own(&ck, 0, sb->journal_start + sb->journal_blocks,
		      "superblock and journal", 0);

	for (uint32_t i = 0; !ret && i < sb->reserve_count; i++)
		ret = own(&ck, sb->reserve[i], 1, "metadata reserve", 0);
	if (!ret)
		ret = check_trees(&ck);
	if (!ret)
		ret = collect_records(&ck, FSA_NATIVE_T_FREE);
	if (!ret)
		ret = collect_records(&ck, FSA_NATIVE_T_EXTENTS);
	if (ret == -EFSCORRUPTED || (!ret && ck.damaged)) {
		problem(&ck, "free space not checked: a tree is damaged");
		ret = 0;
	} else if (!ret) {
		check_space(&ck);
	}
	free(ck.runs);
	return ret ? ret :
		     (int)(ck.problems > INT32_MAX ? INT32_MAX : ck.problems);
}
