// SPDX-License-Identifier: GPL-2.0
/* btree.c - the one B+tree every index of iomapfs is: fixed-size keys of
 * one or two u64 words and fixed-size values per tree type. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "native.h"

const struct fsa_native_tree_type fsa_native_trees[FSA_NATIVE_NR_TREES] = {
	[FSA_NATIVE_T_INODES] = { 1, sizeof(struct fsa_native_inode),
				  "inodes" },
	[FSA_NATIVE_T_EXTENTS] = { 2, sizeof(struct fsa_native_extent),
				   "extents" },
	[FSA_NATIVE_T_DIRENTS] = { 2, sizeof(struct fsa_native_dirent),
				   "dirents" },
	[FSA_NATIVE_T_FREE] = { 1, 8, "free" },
	[FSA_NATIVE_T_REFCOUNT] = { 1, sizeof(struct fsa_native_refcount),
				    "refcount" },
	[FSA_NATIVE_T_XATTRS] = { 2, sizeof(struct fsa_native_xattr),
				  "xattrs" },
};

int fsa_native_key_cmp(const struct fsa_native_key *a,
		       const struct fsa_native_key *b)
{
	for (int i = 0; i < 2; i++)
		if (a->w[i] != b->w[i])
			return a->w[i] < b->w[i] ? -1 : 1;
	return 0;
}

/* Where the entries of a node of one tree and level live. */
struct geom {
	unsigned int kw; /* key words */
	unsigned int ps; /* payload bytes: the value, or a child u64 */
	unsigned int max; /* entries per node */
};

static struct geom geom(const struct fsa_native_fs *nfs, unsigned int tree,
			unsigned int level)
{
	struct geom g = { fsa_native_trees[tree].key_words,
			  level ? 8 : fsa_native_trees[tree].value_size, 0 };

	g.max = (nfs->block_size - FSA_NATIVE_NODE_HDR) / (8 * g.kw + g.ps);
	return g;
}

static uint8_t *key_at(uint8_t *d, const struct geom *g, unsigned int i)
{
	return d + FSA_NATIVE_NODE_HDR + (size_t)i * 8 * g->kw;
}

static uint8_t *pay_at(uint8_t *d, const struct geom *g, unsigned int i)
{
	return d + FSA_NATIVE_NODE_HDR + (size_t)g->max * 8 * g->kw +
	       (size_t)i * g->ps;
}

static void load_key(uint8_t *d, const struct geom *g, unsigned int i,
		     struct fsa_native_key *k)
{
	k->w[1] = 0;
	memcpy(k->w, key_at(d, g, i), 8 * g->kw);
}

static uint64_t child_at(uint8_t *d, const struct geom *g, unsigned int i)
{
	uint64_t c;

	memcpy(&c, pay_at(d, g, i), 8);
	return c;
}

static struct fsa_native_node *node(struct fsa_native_buf *b)
{
	return (struct fsa_native_node *)b->data;
}

/* Node @blk of @tree at @level, checked beyond its header. */
static int read_node(struct fsa_native_fs *nfs, unsigned int tree, uint64_t blk,
		     unsigned int level, struct fsa_native_buf **bp)
{
	struct geom g = geom(nfs, tree, level);
	int ret = fsa_native_meta_read(nfs, blk, tree + 1, bp);

	nfs->node_visits++;
	if (ret)
		return ret;
	if (node(*bp)->level != level || node(*bp)->nrecs == 0 ||
	    node(*bp)->nrecs > g.max) {
		fsa_native_report(nfs, blk,
				  "%s tree node has level %u and %u "
				  "records (expected level %u, 1..%u records)",
				  fsa_native_trees[tree].name, node(*bp)->level,
				  node(*bp)->nrecs, level, g.max);
		return -EFSCORRUPTED;
	}
	return 0;
}

/* First entry with a key >= @k (nrecs when none). */
static unsigned int lower_bound(uint8_t *d, const struct geom *g,
				unsigned int n, const struct fsa_native_key *k)
{
	unsigned int lo = 0, hi = n;

	while (lo < hi) {
		unsigned int mid = lo + (hi - lo) / 2;
		struct fsa_native_key m;

		load_key(d, g, mid, &m);
		if (fsa_native_key_cmp(&m, k) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* First entry after entry 0 with a key > @k (@n when none). */
static unsigned int upper_bound(uint8_t *d, const struct geom *g,
				unsigned int n, const struct fsa_native_key *k)
{
	unsigned int lo = 1, hi = n;

	while (lo < hi) {
		unsigned int mid = lo + (hi - lo) / 2;
		struct fsa_native_key m;

		load_key(d, g, mid, &m);
		if (fsa_native_key_cmp(&m, k) <= 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Root to leaf towards @k; the leaf index is the first key >= @k. */
static int descend(struct fsa_native_cursor *c, struct fsa_native_fs *nfs,
		   unsigned int tree, const struct fsa_native_key *k)
{
	const struct fsa_native_root *r = &nfs->sb.trees[tree];
	uint64_t blk = r->root;

	memset(c, 0, sizeof(*c));
	c->nfs = nfs;
	c->tree = tree;
	c->levels = r->levels;
	if (r->levels > FSA_NATIVE_MAX_LEVELS || (!r->levels) != (!r->root)) {
		fsa_native_report(nfs, 0, "%s tree: root %llu with %u levels",
				  fsa_native_trees[tree].name,
				  (unsigned long long)r->root, r->levels);
		return -EFSCORRUPTED;
	}
	for (unsigned int l = c->levels; l-- > 0;) {
		struct geom g = geom(nfs, tree, l);
		struct fsa_native_buf *b;
		unsigned int i;
		int ret = read_node(nfs, tree, blk, l, &b);

		if (ret)
			return ret;
		c->blk[l] = blk;
		if (l) {
			/*
			 * The child whose range holds @k: the last key <= k,
			 * child 0 below keys[1].  keys[0] is not compared: it
			 * is the bound child 0 had when it was made, and once
			 * child 0 is removed its successor's bound is larger
			 * than keys that then go to it (and split off).
			 */
			i = node(b)->nrecs > 1 ?
				    upper_bound(b->data, &g, node(b)->nrecs, k) :
				    1;
			c->idx[l] = i - 1;
			blk = child_at(b->data, &g, i - 1);
		} else {
			c->idx[0] = lower_bound(b->data, &g, node(b)->nrecs, k);
		}
	}
	return 0;
}

static int cur_node(const struct fsa_native_cursor *c, unsigned int l,
		    struct fsa_native_buf **bp)
{
	return read_node(c->nfs, c->tree, c->blk[l], l, bp);
}

/* From level @l down, follow the first (or last) entry to a leaf. */
static int descend_edge(struct fsa_native_cursor *c, unsigned int l, bool last)
{
	while (l > 0) {
		struct geom g = geom(c->nfs, c->tree, l);
		struct fsa_native_buf *b, *child;
		int ret = cur_node(c, l, &b);

		if (ret)
			return ret;
		c->blk[l - 1] = child_at(b->data, &g, c->idx[l]);
		ret = cur_node(c, l - 1, &child);
		if (ret)
			return ret;
		c->idx[l - 1] = last ? node(child)->nrecs - 1u : 0;
		l--;
	}
	return 1;
}

/* To the first record of the next leaf: 1, or 0 (cursor unchanged). */
static int next_leaf(struct fsa_native_cursor *c)
{
	for (unsigned int l = 1; l < c->levels; l++) {
		struct fsa_native_buf *b;
		int ret = cur_node(c, l, &b);

		if (ret)
			return ret;
		if (c->idx[l] + 1u < node(b)->nrecs) {
			c->idx[l]++;
			return descend_edge(c, l, false);
		}
	}
	return 0;
}

static int settle(struct fsa_native_cursor *c)
{
	struct fsa_native_buf *b;
	int ret;

	if (!c->levels)
		return c->on_record = false;
	ret = cur_node(c, 0, &b);
	if (ret)
		return ret;
	if (c->idx[0] < node(b)->nrecs)
		return c->on_record = true;
	ret = next_leaf(c);
	c->on_record = ret == 1;
	return ret;
}

int fsa_native_bt_seek(struct fsa_native_cursor *c, struct fsa_native_fs *nfs,
		       unsigned int tree, const struct fsa_native_key *key)
{
	int ret = descend(c, nfs, tree, key);

	return ret ? ret : settle(c);
}

int fsa_native_bt_next(struct fsa_native_cursor *c)
{
	if (!c->on_record)
		return 0;
	c->idx[0]++;
	return settle(c);
}

int fsa_native_bt_prev(struct fsa_native_cursor *c)
{
	if (!c->levels)
		return 0;
	if (c->idx[0] > 0) {
		c->idx[0]--;
		c->on_record = true;
		return 1;
	}
	for (unsigned int l = 1; l < c->levels; l++) {
		if (c->idx[l] > 0) {
			int ret;

			c->idx[l]--;
			ret = descend_edge(c, l, true);
			c->on_record = ret == 1;
			return ret;
		}
	}
	return 0;
}

int fsa_native_bt_seek_le(struct fsa_native_cursor *c,
			  struct fsa_native_fs *nfs, unsigned int tree,
			  const struct fsa_native_key *key)
{
	struct fsa_native_key k;
	int ret = fsa_native_bt_seek(c, nfs, tree, key);

	if (ret < 0)
		return ret;
	if (ret == 1) {
		fsa_native_bt_get(c, &k, NULL);
		if (!fsa_native_key_cmp(&k, key))
			return 1;
	}
	return fsa_native_bt_prev(c);
}

unsigned int fsa_native_bt_leaf_max(const struct fsa_native_fs *nfs,
				    unsigned int tree)
{
	return geom(nfs, tree, 0).max;
}

/* The leaf under @c, when it is on a record. */
static int cur_leaf(const struct fsa_native_cursor *c,
		    struct fsa_native_buf **bp)
{
	return c->on_record ? cur_node(c, 0, bp) : -ENOENT;
}

int fsa_native_bt_leaf_copy(const struct fsa_native_cursor *c,
			    struct fsa_native_key *keys, void *vals)
{
	struct geom g = geom(c->nfs, c->tree, 0);
	struct fsa_native_buf *b;
	unsigned int n;
	int ret = cur_leaf(c, &b);

	if (ret)
		return ret;
	n = node(b)->nrecs;
	for (unsigned int i = 0; i < n; i++)
		load_key(b->data, &g, i, &keys[i]);
	memcpy(vals, pay_at(b->data, &g, 0), (size_t)n * g.ps);
	return (int)n;
}

void fsa_native_bt_readahead(const struct fsa_native_cursor *c,
			     unsigned int count)
{
	struct geom g = geom(c->nfs, c->tree, 1);
	uint64_t blk[FSA_NATIVE_RA_LEAVES];
	struct fsa_native_buf *b;
	unsigned int n = 0;

	if (c->levels < 2 || cur_node(c, 1, &b))
		return;
	if (count > FSA_NATIVE_RA_LEAVES)
		count = FSA_NATIVE_RA_LEAVES;
	for (unsigned int i = c->idx[1] + 1; i < node(b)->nrecs && n < count;
	     i++)
		blk[n++] = child_at(b->data, &g, i);
	fsa_native_meta_readahead(c->nfs, c->tree + 1, blk, n);
}

int fsa_native_bt_get(const struct fsa_native_cursor *c,
		      struct fsa_native_key *key, void *val)
{
	struct geom g = geom(c->nfs, c->tree, 0);
	struct fsa_native_buf *b;
	int ret = cur_leaf(c, &b);

	if (ret)
		return ret;
	if (key)
		load_key(b->data, &g, c->idx[0], key);
	if (val)
		memcpy(val, pay_at(b->data, &g, c->idx[0]), g.ps);
	return 0;
}

/* The cursor on exactly @key, or -ENOENT. */
static int find_exact(struct fsa_native_cursor *c, struct fsa_native_fs *nfs,
		      unsigned int tree, const struct fsa_native_key *key)
{
	struct fsa_native_key k;
	int ret = fsa_native_bt_seek(c, nfs, tree, key);

	if (ret < 0)
		return ret;
	if (ret == 0)
		return -ENOENT;
	fsa_native_bt_get(c, &k, NULL);
	return fsa_native_key_cmp(&k, key) ? -ENOENT : 0;
}

int fsa_native_bt_lookup(struct fsa_native_fs *nfs, unsigned int tree,
			 const struct fsa_native_key *key, void *val)
{
	struct fsa_native_cursor c;
	int ret = find_exact(&c, nfs, tree, key);

	return ret ? ret : fsa_native_bt_get(&c, NULL, val);
}

int fsa_native_bt_update(struct fsa_native_fs *nfs, unsigned int tree,
			 const struct fsa_native_key *key, const void *val)
{
	struct geom g = geom(nfs, tree, 0);
	struct fsa_native_cursor c;
	struct fsa_native_buf *b;
	int ret = find_exact(&c, nfs, tree, key);

	nfs->tree_gen[tree]++;
	if (!ret)
		ret = cur_node(&c, 0, &b);
	if (!ret)
		ret = fsa_native_meta_dirty(nfs, b);
	if (ret)
		return ret;
	memcpy(pay_at(b->data, &g, c.idx[0]), val, g.ps);
	return 0;
}

/* ---- insert ---- */

static void put_entry(uint8_t *d, const struct geom *g, unsigned int i,
		      const struct fsa_native_key *k, const void *payload)
{
	memcpy(key_at(d, g, i), k->w, 8 * g->kw);
	memcpy(pay_at(d, g, i), payload, g->ps);
}

/* Opens a gap at @pos in a node with @n entries. */
static void make_gap(uint8_t *d, const struct geom *g, unsigned int pos,
		     unsigned int n)
{
	memmove(key_at(d, g, pos + 1), key_at(d, g, pos),
		(size_t)(n - pos) * 8 * g->kw);
	memmove(pay_at(d, g, pos + 1), pay_at(d, g, pos),
		(size_t)(n - pos) * g->ps);
}

/* A new root above the old one and its new right sibling. */
static int grow_root(struct fsa_native_cursor *c, unsigned int l,
		     const struct fsa_native_key *sep, uint64_t right)
{
	struct fsa_native_fs *nfs = c->nfs;
	struct fsa_native_root *r = &nfs->sb.trees[c->tree];
	struct geom g = geom(nfs, c->tree, l), pg = geom(nfs, c->tree, l + 1);
	struct fsa_native_buf *old, *b;
	struct fsa_native_key first;
	uint64_t blk;
	int ret = cur_node(c, l, &old);

	if (!ret)
		ret = fsa_native_alloc_node(nfs, &blk);
	if (!ret)
		ret = fsa_native_meta_new(nfs, blk, c->tree + 1, &b);
	if (ret)
		return ret;
	load_key(old->data, &g, 0, &first);
	node(b)->level = (uint16_t)(l + 1);
	node(b)->nrecs = 2;
	put_entry(b->data, &pg, 0, &first, &c->blk[l]);
	put_entry(b->data, &pg, 1, sep, &right);
	r->root = blk;
	r->levels++;
	return 0;
}

static int insert_at(struct fsa_native_cursor *c, unsigned int l,
		     unsigned int pos, const struct fsa_native_key *k,
		     const void *payload);

/*
 * The key after the entries of the node at level @l of @c's path: the
 * next separator of a node above it; 1 with it in @k, 0 when the node is
 * the last of its level, or -errno.
 */
static int next_bound(const struct fsa_native_cursor *c, unsigned int l,
		      struct fsa_native_key *k)
{
	for (unsigned int up = l + 1; up < c->levels; up++) {
		struct geom g = geom(c->nfs, c->tree, up);
		struct fsa_native_buf *b;
		int ret = cur_node(c, up, &b);

		if (ret)
			return ret;
		if (c->idx[up] + 1u < node(b)->nrecs) {
			load_key(b->data, &g, c->idx[up] + 1, k);
			return 1;
		}
	}
	return 0;
}

/*
 * Entries the left node keeps when the full node at level @l (data @d)
 * splits to take @k at @pos.  Half, unless @k ends a run that grows in
 * order: in a tree of two-word keys, after an entry of its object and
 * before any other of it (a file's extents growing while other files'
 * follow); in any tree, after every key (the tree growing at its end).
 * The left node then keeps every entry up to @k, so a file written in
 * order fills its leaves instead of leaving them half empty.  Keys put in
 * before such a run's end (a file written backwards) split in halves, so
 * no order of inserts leaves a trail of nearly empty nodes.
 */
static unsigned int split_point(const struct fsa_native_cursor *c,
				unsigned int l, const struct geom *g,
				uint8_t *d, unsigned int pos,
				const struct fsa_native_key *k)
{
	const unsigned int half = (g->max + 1) / 2;
	struct fsa_native_key prev, next;
	int has_next = 1;

	if (pos < g->max)
		load_key(d, g, pos, &next);
	else
		has_next = next_bound(c, l, &next);
	if (has_next < 0)
		return half;
	if (fsa_native_trees[c->tree].key_words == 1 || pos == 0)
		return has_next ? half : g->max;
	load_key(d, g, pos - 1, &prev);
	if (prev.w[0] != k->w[0] || (has_next && next.w[0] == k->w[0]))
		return half;
	return pos < g->max ? pos + 1 : g->max;
}

/* Splits the full node at level @l while inserting entry @k at @pos. */
static int split(struct fsa_native_cursor *c, unsigned int l,
		 struct fsa_native_buf *b, unsigned int pos,
		 const struct fsa_native_key *k, const void *payload)
{
	struct fsa_native_fs *nfs = c->nfs;
	struct geom g = geom(nfs, c->tree, l);
	unsigned int n = g.max + 1, left = split_point(c, l, &g, b->data, pos, k);
	size_t esz = 8 * g.kw + g.ps;
	uint8_t *tmp = malloc(FSA_NATIVE_NODE_HDR + n * esz);
	struct geom tg = { g.kw, g.ps, n };
	struct fsa_native_buf *rb;
	struct fsa_native_key sep;
	uint64_t rblk;
	int ret = -ENOMEM;

	if (!tmp)
		return ret;
	ret = fsa_native_alloc_node(nfs, &rblk);
	if (!ret)
		ret = fsa_native_meta_new(nfs, rblk, c->tree + 1, &rb);
	if (ret)
		goto out;
	/* All n entries in order in @tmp, then the halves back out. */
	for (unsigned int i = 0, j = 0; i < n; i++) {
		if (i == pos) {
			put_entry(tmp, &tg, i, (const void *)k, payload);
			continue;
		}
		memcpy(key_at(tmp, &tg, i), key_at(b->data, &g, j), 8 * g.kw);
		memcpy(pay_at(tmp, &tg, i), pay_at(b->data, &g, j), g.ps);
		j++;
	}
	for (unsigned int i = 0; i < n; i++) {
		uint8_t *d = i < left ? b->data : rb->data;
		unsigned int at = i < left ? i : i - left;

		memcpy(key_at(d, &g, at), key_at(tmp, &tg, i), 8 * g.kw);
		memcpy(pay_at(d, &g, at), pay_at(tmp, &tg, i), g.ps);
	}
	node(b)->nrecs = (uint16_t)left;
	node(rb)->level = (uint16_t)l;
	node(rb)->nrecs = (uint16_t)(n - left);
	load_key(rb->data, &g, 0, &sep);
	if (l + 1 == c->levels)
		ret = grow_root(c, l, &sep, rblk);
	else
		ret = insert_at(c, l + 1, c->idx[l + 1] + 1, &sep, &rblk);
out:
	free(tmp);
	return ret;
}

static int insert_at(struct fsa_native_cursor *c, unsigned int l,
		     unsigned int pos, const struct fsa_native_key *k,
		     const void *payload)
{
	struct geom g = geom(c->nfs, c->tree, l);
	struct fsa_native_buf *b;
	int ret = cur_node(c, l, &b);

	if (!ret)
		ret = fsa_native_meta_dirty(c->nfs, b);
	if (ret)
		return ret;
	if (node(b)->nrecs == g.max)
		return split(c, l, b, pos, k, payload);
	make_gap(b->data, &g, pos, node(b)->nrecs);
	put_entry(b->data, &g, pos, k, payload);
	node(b)->nrecs++;
	return 0;
}

static int new_root_leaf(struct fsa_native_fs *nfs, unsigned int tree,
			 const struct fsa_native_key *key, const void *val)
{
	struct fsa_native_root *r = &nfs->sb.trees[tree];
	struct geom g = geom(nfs, tree, 0);
	struct fsa_native_buf *b;
	uint64_t blk;
	int ret = fsa_native_alloc_node(nfs, &blk);

	if (!ret)
		ret = fsa_native_meta_new(nfs, blk, tree + 1, &b);
	if (ret)
		return ret;
	node(b)->nrecs = 1;
	put_entry(b->data, &g, 0, key, val);
	r->root = blk;
	r->levels = 1;
	return 0;
}

int fsa_native_bt_insert(struct fsa_native_fs *nfs, unsigned int tree,
			 const struct fsa_native_key *key, const void *val)
{
	struct fsa_native_root *r = &nfs->sb.trees[tree];
	struct fsa_native_cursor c;
	int ret;

	if (nfs->err)
		return nfs->err;
	nfs->tree_gen[tree]++;
	/* A split of every level and a new root, before anything changes. */
	ret = fsa_native_reserve_fill(nfs, r->levels + 1);
	if (ret)
		return ret;
	if (!r->levels) {
		ret = new_root_leaf(nfs, tree, key, val);
	} else {
		ret = descend(&c, nfs, tree, key);
		if (ret)
			return ret;
		if (settle(&c) == 1) {
			struct fsa_native_key k;

			fsa_native_bt_get(&c, &k, NULL);
			if (!fsa_native_key_cmp(&k, key))
				return -EEXIST;
		}
		/* settle() may have moved on: insert where descend() was. */
		ret = descend(&c, nfs, tree, key);
		if (!ret)
			ret = insert_at(&c, 0, c.idx[0], key, val);
	}
	if (ret) {
		/* A half-done split cannot be undone: refuse further work. */
		nfs->err = ret;
		return ret;
	}
	r->records++;
	nfs->changed = true;
	return 0;
}

/* ---- delete ---- */

/* The root has one child: it becomes the root. */
static int shrink_root(struct fsa_native_fs *nfs, unsigned int tree)
{
	struct fsa_native_root *r = &nfs->sb.trees[tree];

	while (r->levels > 1) {
		struct geom g = geom(nfs, tree, r->levels - 1);
		struct fsa_native_buf *b;
		uint64_t old = r->root;
		int ret = read_node(nfs, tree, old, r->levels - 1, &b);

		if (ret)
			return ret;
		if (node(b)->nrecs != 1)
			return 0;
		r->root = child_at(b->data, &g, 0);
		r->levels--;
		ret = fsa_native_free_node(nfs, old);
		if (ret)
			return ret;
	}
	return 0;
}

static int remove_at(struct fsa_native_cursor *c, unsigned int l,
		     unsigned int pos)
{
	struct fsa_native_fs *nfs = c->nfs;
	struct fsa_native_root *r = &nfs->sb.trees[c->tree];
	struct geom g = geom(nfs, c->tree, l);
	struct fsa_native_buf *b;
	unsigned int n;
	int ret = cur_node(c, l, &b);

	if (!ret)
		ret = fsa_native_meta_dirty(nfs, b);
	if (ret)
		return ret;
	n = node(b)->nrecs;
	memmove(key_at(b->data, &g, pos), key_at(b->data, &g, pos + 1),
		(size_t)(n - pos - 1) * 8 * g.kw);
	memmove(pay_at(b->data, &g, pos), pay_at(b->data, &g, pos + 1),
		(size_t)(n - pos - 1) * g.ps);
	node(b)->nrecs = (uint16_t)(n - 1);
	if (n > 1)
		return l + 1 == c->levels ? shrink_root(nfs, c->tree) : 0;
	ret = fsa_native_free_node(nfs, c->blk[l]);
	if (ret)
		return ret;
	if (l + 1 == c->levels) {
		r->root = 0;
		r->levels = 0;
		return 0;
	}
	return remove_at(c, l + 1, c->idx[l + 1]);
}

int fsa_native_bt_delete(struct fsa_native_fs *nfs, unsigned int tree,
			 const struct fsa_native_key *key)
{
	struct fsa_native_cursor c;
	int ret;

	if (nfs->err)
		return nfs->err;
	nfs->tree_gen[tree]++;
	ret = find_exact(&c, nfs, tree, key);
	if (ret)
		return ret;
	ret = remove_at(&c, 0, c.idx[0]);
	if (ret) {
		nfs->err = ret;
		return ret;
	}
	nfs->sb.trees[tree].records--;
	nfs->changed = true;
	return 0;
}

/* ---- walking every node (fsck) ---- */

static int walk(struct fsa_native_fs *nfs, unsigned int tree, uint64_t blk,
		unsigned int level, int (*cb)(uint64_t, unsigned int, void *),
		void *priv)
{
	struct geom g = geom(nfs, tree, level);
	struct fsa_native_buf *b;
	int ret = read_node(nfs, tree, blk, level, &b);

	if (!ret)
		ret = cb(blk, level, priv);
	for (unsigned int i = 0; !ret && level && i < node(b)->nrecs; i++) {
		/* @b stays cached: nothing is forgotten during a walk. */
		ret = walk(nfs, tree, child_at(b->data, &g, i), level - 1, cb,
			   priv);
	}
	return ret;
}

int fsa_native_bt_walk_nodes(struct fsa_native_fs *nfs, unsigned int tree,
			     int (*cb)(uint64_t blkno, unsigned int level,
				       void *priv),
			     void *priv)
{
	const struct fsa_native_root *r = &nfs->sb.trees[tree];

	if (!r->levels)
		return 0;
	if (r->levels > FSA_NATIVE_MAX_LEVELS)
		return -EFSCORRUPTED;
	return walk(nfs, tree, r->root, r->levels - 1, cb, priv);
}
