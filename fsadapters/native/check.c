// SPDX-License-Identifier: GPL-2.0
/* check.c - consistency checks of an open iomapfs (what fsck runs): every
 * tree's order and counts, every block owned exactly once, every inode's
 * extents, names and link count; and the repairs that need no guessing. */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "native.h"

/* A run of blocks and who holds it, for the space check. */
struct owned {
	uint64_t start, len;
	const char *what;
	uint64_t who; /* ino, tree id, ... */
};

/* What the inode pass learns of one inode. */
struct icheck {
	uint64_t ino;
	struct fsa_native_inode in;
	uint64_t links; /* entries naming it */
	uint64_t subdirs; /* directories among its entries */
	uint64_t blocks; /* blocks its extents map */
	bool has_inline; /* an inline data record names it */
};

struct checker {
	struct fsa_native_fs *nfs;
	const struct fsa_native_check_ops *ops;
	void *priv;
	unsigned long problems;
	bool damaged; /* a tree could not be read whole: space unknown */
	struct owned *runs;
	size_t nruns, cap;
	struct icheck *inodes;
	size_t ninodes, icap;
	uint64_t records[FSA_NATIVE_NR_TREES]; /* counted by check_order */
	struct fsa_native_range *leaks; /* blocks neither free nor used */
	size_t nleaks, lcap;
	uint64_t free_counted;
	struct owned *data; /* extent records: runs may be shared */
	size_t ndata, dcap;
	struct owned *uses; /* blocks used, who = how many records */
	size_t nuses, ucap;
	bool refs_bad; /* the refcount tree disagrees with the extents */
};

static void problem(struct checker *ck, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void repaired(struct checker *ck, const char *fmt, ...)
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

static int push_owned(struct owned **arr, size_t *n, size_t *cap,
		      struct owned o)
{
	if (*n == *cap) {
		size_t c = *cap ? *cap * 2 : 256;
		void *p = realloc(*arr, c * sizeof(**arr));

		if (!p)
			return -ENOMEM;
		*arr = p;
		*cap = c;
	}
	(*arr)[(*n)++] = o;
	return 0;
}

static int own(struct checker *ck, uint64_t start, uint64_t len,
	       const char *what, uint64_t who)
{
	return push_owned(&ck->runs, &ck->nruns, &ck->cap,
			  (struct owned){ start, len, what, who });
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
	ck->records[tree] = n;
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
			ret = push_owned(&ck->data, &ck->ndata, &ck->dcap,
					 (struct owned){ v.e.start, v.e.len,
							 "file data", k.w[0] });
		}
		if (ret)
			return ret;
	}
	if (ret < 0)
		return ret;
	if (tree == FSA_NATIVE_T_FREE)
		ck->free_counted = free_sum;
	if (tree == FSA_NATIVE_T_FREE && free_sum != ck->nfs->sb.free_blocks)
		problem(ck,
			"free tree holds %llu blocks, the superblock says "
			"%llu",
			(unsigned long long)free_sum,
			(unsigned long long)ck->nfs->sb.free_blocks);
	return 0;
}

static void leaked(struct checker *ck, uint64_t start, uint64_t len)
{
	problem(ck, "blocks %llu+%llu are neither free nor used (leaked)",
		(unsigned long long)start, (unsigned long long)len);
	if (ck->nleaks == ck->lcap) {
		size_t cap = ck->lcap ? ck->lcap * 2 : 16;
		void *p = realloc(ck->leaks, cap * sizeof(*ck->leaks));

		if (!p)
			return; /* reported, not repaired */
		ck->leaks = p;
		ck->lcap = cap;
	}
	ck->leaks[ck->nleaks++] = (struct fsa_native_range){ start, len };
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
			leaked(ck, at, o->start - at);
		if (o->start + o->len > at)
			at = o->start + o->len;
	}
	if (at < end)
		leaked(ck, at, end - at);
}

/* ---- shared blocks: the refcount tree against the extents ---- */

struct edge {
	uint64_t blk;
	int64_t delta; /* +1 where a record starts, -1 past its end */
	uint64_t ino;
};

static int cmp_edge(const void *a, const void *b)
{
	const struct edge *x = a, *y = b;

	return x->blk < y->blk ? -1 : x->blk > y->blk;
}

/*
 * The extent records' blocks as runs each used by a constant number of
 * records (ck->uses); each run joins the space check once, so blocks
 * shared by reflink are not double use.
 */
static int count_uses(struct checker *ck)
{
	struct edge *ev = malloc((2 * ck->ndata + 1) * sizeof(*ev));
	uint64_t depth = 0, ino = 0;
	int ret = 0;

	if (!ev)
		return -ENOMEM;
	for (size_t i = 0; i < ck->ndata; i++) {
		const struct owned *d = &ck->data[i];

		ev[2 * i] = (struct edge){ d->start, 1, d->who };
		ev[2 * i + 1] = (struct edge){ d->start + d->len, -1, d->who };
	}
	qsort(ev, 2 * ck->ndata, sizeof(*ev), cmp_edge);
	for (size_t i = 0; i < 2 * ck->ndata && !ret; i++) {
		depth += (uint64_t)ev[i].delta;
		if (ev[i].delta > 0)
			ino = ev[i].ino;
		if (i + 1 < 2 * ck->ndata && ev[i + 1].blk == ev[i].blk)
			continue;
		if (depth && i + 1 < 2 * ck->ndata) {
			struct owned u = { ev[i].blk, ev[i + 1].blk - ev[i].blk,
					   "file data", depth };

			ret = push_owned(&ck->uses, &ck->nuses, &ck->ucap, u);
			if (!ret)
				ret = own(ck, u.start, u.len, "file data", ino);
		}
	}
	free(ev);
	return ret;
}

/* Records from the sum of [blk, blk + len) said @refs, counted @uses. */
static void ref_mismatch(struct checker *ck, uint64_t blk, uint64_t len,
			 uint64_t refs, uint64_t uses)
{
	ck->refs_bad = true;
	if (refs)
		problem(ck,
			"blocks %llu+%llu: refcount %llu, but %llu extent "
			"records refer to them (%s-counted)",
			(unsigned long long)blk, (unsigned long long)len,
			(unsigned long long)refs, (unsigned long long)uses,
			refs > uses ? "over" : "under");
	else
		problem(ck,
			"blocks %llu+%llu: %llu extent records refer to them "
			"and no refcount record counts them (under-counted)",
			(unsigned long long)blk, (unsigned long long)len,
			(unsigned long long)uses);
}

/* The refcount record covering @blk among @r (sorted): its refs, or 0. */
static uint64_t refs_at(const struct owned *r, size_t n, size_t *i,
			uint64_t blk, uint64_t *until)
{
	while (*i < n && r[*i].start + r[*i].len <= blk)
		(*i)++;
	if (*i < n && r[*i].start <= blk) {
		*until = r[*i].start + r[*i].len;
		return r[*i].who;
	}
	*until = *i < n ? r[*i].start : UINT64_MAX;
	return 0;
}

/* Every refcount record against the uses counted: over and under. */
static int check_refcounts(struct checker *ck)
{
	struct fsa_native_key k = { { 0, 0 } };
	struct fsa_native_refcount rc;
	struct fsa_native_cursor c;
	struct owned *r = NULL;
	size_t nr = 0, cap = 0, ri = 0, ui = 0;
	uint64_t blk = 0, prev_end = 0;
	int ret;

	for (ret = fsa_native_bt_seek(&c, ck->nfs, FSA_NATIVE_T_REFCOUNT, &k);
	     ret == 1; ret = fsa_native_bt_next(&c)) {
		ret = fsa_native_bt_get(&c, &k, &rc);
		if (!ret && (rc.len == 0 || rc.refs < 2 || k.w[0] < prev_end)) {
			problem(ck,
				"refcount record at block %llu: %u blocks, "
				"%llu refs%s",
				(unsigned long long)k.w[0], rc.len,
				(unsigned long long)rc.refs,
				k.w[0] < prev_end ? ", overlapping" : "");
			ck->refs_bad = true;
		}
		if (!ret && rc.len && k.w[0] >= prev_end) {
			ret = push_owned(&r, &nr, &cap,
					 (struct owned){ k.w[0], rc.len,
							 "refcount", rc.refs });
			prev_end = k.w[0] + rc.len;
		}
		if (ret)
			break;
	}
	/* Walk the boundaries of both lists: compare piece by piece. */
	while (ret >= 0 && (ui < ck->nuses || ri < nr)) {
		uint64_t until, uend = UINT64_MAX, uses = 0;
		uint64_t refs = refs_at(r, nr, &ri, blk, &until);

		while (ui < ck->nuses &&
		       ck->uses[ui].start + ck->uses[ui].len <= blk)
			ui++;
		if (ui < ck->nuses && ck->uses[ui].start <= blk) {
			uses = ck->uses[ui].who;
			uend = ck->uses[ui].start + ck->uses[ui].len;
		} else if (ui < ck->nuses) {
			uend = ck->uses[ui].start;
		}
		if (uend < until)
			until = uend;
		if (until == UINT64_MAX)
			break;
		if ((uses >= 2 || refs) && refs != uses)
			ref_mismatch(ck, blk, until - blk, refs, uses);
		blk = until;
	}
	free(r);
	return ret < 0 ? ret : 0;
}

/* Rebuilds the refcount tree from the uses counted (fsck --repair). */
static int repair_refcounts(struct checker *ck)
{
	struct fsa_native_fs *nfs = ck->nfs;
	struct fsa_native_key k = { { 0, 0 } };
	struct fsa_native_cursor c;
	int ret;

	while ((ret = fsa_native_bt_seek(&c, nfs, FSA_NATIVE_T_REFCOUNT,
					 &k)) == 1) {
		ret = fsa_native_bt_get(&c, &k, NULL);
		if (!ret)
			ret = fsa_native_bt_delete(nfs, FSA_NATIVE_T_REFCOUNT,
						   &k);
		if (ret)
			return ret;
	}
	for (size_t i = 0; !ret && i < ck->nuses; i++) {
		const struct owned *u = &ck->uses[i];

		for (uint64_t b = u->start; !ret && u->who >= 2 &&
					    b < u->start + u->len;) {
			uint64_t n = u->start + u->len - b;
			struct fsa_native_refcount rc;

			if (n > UINT32_MAX)
				n = UINT32_MAX;
			rc = (struct fsa_native_refcount){ (uint32_t)n, 0,
							   u->who };
			k = (struct fsa_native_key){ { b, 0 } };
			ret = fsa_native_bt_insert(nfs, FSA_NATIVE_T_REFCOUNT,
						   &k, &rc);
			b += n;
		}
	}
	if (!ret)
		repaired(ck, "refcount tree rebuilt from the extents");
	return ret;
}

/* ---- the inode pass ---- */

static int load_inodes(struct checker *ck)
{
	struct fsa_native_key k = { { 0, 0 } };
	struct fsa_native_cursor c;
	int ret;

	for (ret = fsa_native_bt_seek(&c, ck->nfs, FSA_NATIVE_T_INODES, &k);
	     ret == 1; ret = fsa_native_bt_next(&c)) {
		struct icheck ic = { 0 };

		ret = fsa_native_bt_get(&c, &k, &ic.in);
		if (ret)
			return ret;
		ic.ino = k.w[0];
		if (ck->ninodes == ck->icap) {
			size_t cap = ck->icap ? ck->icap * 2 : 256;
			void *p = realloc(ck->inodes, cap * sizeof(ic));

			if (!p)
				return -ENOMEM;
			ck->inodes = p;
			ck->icap = cap;
		}
		ck->inodes[ck->ninodes++] = ic;
	}
	return ret;
}

static struct icheck *inode_of(struct checker *ck, uint64_t ino)
{
	size_t lo = 0, hi = ck->ninodes;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (ck->inodes[mid].ino == ino)
			return &ck->inodes[mid];
		if (ck->inodes[mid].ino < ino)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* Extents: an inode behind each, no overlap inside a file. */
static int check_extents(struct checker *ck)
{
	struct fsa_native_key k = { { 0, 0 } };
	struct fsa_native_extent e;
	struct fsa_native_cursor c;
	uint64_t prev_ino = 0, prev_end = 0;
	int ret;

	for (ret = fsa_native_bt_seek(&c, ck->nfs, FSA_NATIVE_T_EXTENTS, &k);
	     ret == 1; ret = fsa_native_bt_next(&c)) {
		struct icheck *ic;

		ret = fsa_native_bt_get(&c, &k, &e);
		if (ret)
			return ret;
		if (k.w[0] == FSA_NATIVE_STAGING_INO) {
			/* Copy-on-write staging, keyed by its disk block. */
			if (k.w[1] != e.start || !e.len || e.flags)
				problem(ck,
					"staging extent at block %llu: "
					"start %llu, length %u, flags %#x",
					(unsigned long long)k.w[1],
					(unsigned long long)e.start, e.len,
					e.flags);
			continue;
		}
		ic = inode_of(ck, k.w[0]);
		if (!ic)
			problem(ck,
				"extent at file block %llu of inode %llu, "
				"which does not exist",
				(unsigned long long)k.w[1],
				(unsigned long long)k.w[0]);
		else if (S_ISDIR(ic->in.mode))
			problem(ck, "directory %llu has data extents",
				(unsigned long long)k.w[0]);
		if (!e.len || (e.flags & ~FSA_NATIVE_EXT_UNWRITTEN))
			problem(ck,
				"inode %llu: extent at file block %llu "
				"with length %u, flags %#x",
				(unsigned long long)k.w[0],
				(unsigned long long)k.w[1], e.len, e.flags);
		if (prev_ino == k.w[0] && prev_end > k.w[1])
			problem(ck,
				"inode %llu: extents overlap at file "
				"block %llu",
				(unsigned long long)k.w[0],
				(unsigned long long)k.w[1]);
		if (ic)
			ic->blocks += e.len;
		prev_ino = k.w[0];
		prev_end = k.w[1] + e.len;
	}
	return ret;
}

static uint8_t dtype_of(uint32_t mode)
{
	return S_ISDIR(mode) ? DT_DIR :
	       S_ISLNK(mode) ? DT_LNK :
	       S_ISREG(mode) ? DT_REG :
			       DT_UNKNOWN;
}

static void check_dirent(struct checker *ck, const struct fsa_native_key *k,
			 const struct fsa_native_dirent *de)
{
	struct icheck *dir = inode_of(ck, k->w[0]), *t = inode_of(ck, de->ino);
	unsigned long long d = k->w[0];

	if (!de->name_len || de->name_len > FSA_NATIVE_NAME_MAX ||
	    memchr(de->name, '/', de->name_len)) {
		problem(ck, "directory %llu: entry with a bad name", d);
		return;
	}
	if (fsa_native_name_hash(d, de->name, de->name_len) != k->w[1] >> 32)
		problem(ck,
			"directory %llu: entry '%.*s' under the wrong "
			"hash",
			d, de->name_len, de->name);
	if (!dir || !S_ISDIR(dir->in.mode))
		problem(ck, "entry '%.*s' in %llu, which is not a directory",
			de->name_len, de->name, d);
	if (!t) {
		problem(ck,
			"directory %llu: entry '%.*s' names inode %llu, "
			"which does not exist",
			d, de->name_len, de->name, (unsigned long long)de->ino);
		return;
	}
	t->links++;
	if (de->type != dtype_of(t->in.mode))
		problem(ck,
			"directory %llu: entry '%.*s' has type %u, inode "
			"%llu is %u",
			d, de->name_len, de->name, de->type,
			(unsigned long long)de->ino, dtype_of(t->in.mode));
	if (S_ISDIR(t->in.mode)) {
		if (dir)
			dir->subdirs++;
		if (t->in.parent != d)
			problem(ck,
				"directory %llu is named in %llu but its "
				"parent is %llu",
				(unsigned long long)de->ino, d,
				(unsigned long long)t->in.parent);
	}
}

static int check_dirents(struct checker *ck)
{
	struct fsa_native_key k = { { 0, 0 } };
	struct fsa_native_dirent de;
	struct fsa_native_cursor c;
	int ret;

	for (ret = fsa_native_bt_seek(&c, ck->nfs, FSA_NATIVE_T_DIRENTS, &k);
	     ret == 1; ret = fsa_native_bt_next(&c)) {
		ret = fsa_native_bt_get(&c, &k, &de);
		if (ret)
			return ret;
		check_dirent(ck, &k, &de);
	}
	return ret;
}

/* An inline data record: its inode is an inline regular file of its size. */
static void check_inline(struct checker *ck, const struct fsa_native_key *k,
			 const struct fsa_native_xattr *x)
{
	unsigned long long ino = k->w[0] & ~FSA_NATIVE_INLINE_KEY;
	struct icheck *ic = inode_of(ck, ino);

	if (!ic || !(ic->in.flags & FSA_NATIVE_INODE_INLINE) || k->w[1]) {
		problem(ck, "inline data of inode %llu, which is not an "
			"inline file", ino);
		return;
	}
	ic->has_inline = true;
	if (x->name_len || x->value_len > FSA_NATIVE_INLINE_MAX ||
	    x->value_len != ic->in.size || !x->value_len)
		problem(ck, "inode %llu: inline data of %u bytes, size %llu",
			ino, x->value_len,
			(unsigned long long)ic->in.size);
}

static int check_xattrs(struct checker *ck)
{
	struct fsa_native_key k = { { 0, 0 } };
	struct fsa_native_xattr x;
	struct fsa_native_cursor c;
	int ret;

	for (ret = fsa_native_bt_seek(&c, ck->nfs, FSA_NATIVE_T_XATTRS, &k);
	     ret == 1; ret = fsa_native_bt_next(&c)) {
		ret = fsa_native_bt_get(&c, &k, &x);
		if (ret)
			return ret;
		if (k.w[0] & FSA_NATIVE_INLINE_KEY) {
			check_inline(ck, &k, &x);
			continue;
		}
		if (!inode_of(ck, k.w[0]))
			problem(ck,
				"xattr of inode %llu, which does not "
				"exist",
				(unsigned long long)k.w[0]);
		if (!x.name_len ||
		    x.name_len + x.value_len > FSA_NATIVE_XATTR_BYTES)
			problem(ck, "inode %llu: xattr of %u + %u bytes",
				(unsigned long long)k.w[0], x.name_len,
				x.value_len);
	}
	return ret;
}

/* Link counts, block counts and the directory tree of each inode. */
static void check_inode(struct checker *ck, struct icheck *ic)
{
	unsigned long long ino = ic->ino;
	bool dir = S_ISDIR(ic->in.mode), root = ino == FSA_NATIVE_ROOT_INO;
	uint64_t want = dir ? 2 + ic->subdirs : ic->links;

	if (!dir && !S_ISREG(ic->in.mode) && !S_ISLNK(ic->in.mode))
		problem(ck, "inode %llu has mode %#o", ino, ic->in.mode);
	if (ino >= ck->nfs->sb.next_ino)
		problem(ck, "inode %llu is not below next_ino %llu", ino,
			(unsigned long long)ck->nfs->sb.next_ino);
	if (!root && ic->links == 0)
		problem(ck, "inode %llu has no name (orphan)", ino);
	if (dir && ic->links != (root ? 0 : 1))
		problem(ck, "directory %llu is named %llu times", ino,
			(unsigned long long)ic->links);
	if (root && (!dir || ic->in.parent != ino))
		problem(ck, "the root inode is not a directory of its own");
	if (ic->in.nlink != want && (dir || ic->links))
		problem(ck, "inode %llu has link count %u, counted %llu", ino,
			ic->in.nlink, (unsigned long long)want);
	if ((ic->in.flags & FSA_NATIVE_INODE_INLINE) &&
	    (!S_ISREG(ic->in.mode) || !ic->has_inline || ic->blocks ||
	     ck->nfs->sb.version < FSA_NATIVE_VERSION_INLINE))
		problem(ck, "inode %llu: inline file without its record, with "
			"extents, or in a version 1 image", ino);
	if (ic->in.flags & ~FSA_NATIVE_INODE_INLINE)
		problem(ck, "inode %llu has unknown flags %#x", ino,
			ic->in.flags);
	if (ic->in.blocks != ic->blocks)
		problem(ck, "inode %llu says %llu blocks, its extents map %llu",
			ino, (unsigned long long)ic->in.blocks,
			(unsigned long long)ic->blocks);
}

static int check_inodes(struct checker *ck)
{
	int ret = load_inodes(ck);

	if (!ret)
		ret = check_extents(ck);
	if (!ret)
		ret = check_dirents(ck);
	if (!ret)
		ret = check_xattrs(ck);
	if (ret)
		return ret;
	if (!inode_of(ck, FSA_NATIVE_ROOT_INO))
		problem(ck, "the root directory (inode 1) is missing");
	for (size_t i = 0; i < ck->ninodes; i++)
		check_inode(ck, &ck->inodes[i]);
	if (ck->ninodes != ck->nfs->sb.inode_count)
		problem(ck, "%zu inodes, the superblock says %llu", ck->ninodes,
			(unsigned long long)ck->nfs->sb.inode_count);
	return check_refcounts(ck);
}

/* ---- repair: what needs no guess about user data ---- */

static void repaired(struct checker *ck, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (ck->ops->repaired)
		ck->ops->repaired(ck->priv, msg);
}

/* A file without a name is given one in the root, "#<ino>" (as
 * e2fsck's lost+found): its data is kept, nothing is guessed. */
static int repair_orphan(struct checker *ck, struct icheck *ic)
{
	char name[32];
	int ret;

	snprintf(name, sizeof(name), "#%llu", (unsigned long long)ic->ino);
	ret = fsa_native_dir_add(ck->nfs, FSA_NATIVE_ROOT_INO, name, ic->ino,
				 ic->in.mode);
	if (ret)
		return ret;
	repaired(ck, "inode %llu had no name: now /%s",
		 (unsigned long long)ic->ino, name);
	ic->links = 1;
	return 0;
}

static int repair_inodes(struct checker *ck)
{
	for (size_t i = 0; i < ck->ninodes; i++) {
		struct icheck *ic = &ck->inodes[i];

		if (!ic->links && !S_ISDIR(ic->in.mode)) {
			int ret = repair_orphan(ck, ic);

			if (ret)
				return ret;
		}
	}
	for (size_t i = 0; i < ck->ninodes; i++) {
		struct icheck *ic = &ck->inodes[i];
		uint64_t want = S_ISDIR(ic->in.mode) ? 2 + ic->subdirs :
						       ic->links;
		bool fix = false;

		if (want && ic->in.nlink != want) {
			repaired(ck, "inode %llu: link count %u -> %llu",
				 (unsigned long long)ic->ino, ic->in.nlink,
				 (unsigned long long)want);
			ic->in.nlink = (uint32_t)want;
			fix = true;
		}
		if (ic->in.blocks != ic->blocks) {
			repaired(ck, "inode %llu: blocks %llu -> %llu",
				 (unsigned long long)ic->ino,
				 (unsigned long long)ic->in.blocks,
				 (unsigned long long)ic->blocks);
			ic->in.blocks = ic->blocks;
			fix = true;
		}
		if (fix) {
			int ret = fsa_native_iwrite(ck->nfs, ic->ino, &ic->in);

			if (ret)
				return ret;
		}
	}
	return 0;
}

static int repair(struct checker *ck)
{
	struct fsa_native_sb *sb = &ck->nfs->sb;
	uint64_t max_ino = 0;
	int ret = 0;

	for (int t = 0; t < FSA_NATIVE_NR_TREES; t++) {
		if (sb->trees[t].records != ck->records[t])
			repaired(ck, "%s tree: record count %llu -> %llu",
				 fsa_native_trees[t].name,
				 (unsigned long long)sb->trees[t].records,
				 (unsigned long long)ck->records[t]);
		sb->trees[t].records = ck->records[t];
	}
	if (sb->free_blocks != ck->free_counted)
		repaired(ck, "free blocks %llu -> %llu",
			 (unsigned long long)sb->free_blocks,
			 (unsigned long long)ck->free_counted);
	sb->free_blocks = ck->free_counted;
	if (sb->inode_count != ck->ninodes)
		repaired(ck, "inode count %llu -> %zu",
			 (unsigned long long)sb->inode_count, ck->ninodes);
	sb->inode_count = ck->ninodes;
	for (size_t i = 0; i < ck->ninodes; i++)
		if (ck->inodes[i].ino > max_ino)
			max_ino = ck->inodes[i].ino;
	if (sb->next_ino <= max_ino) {
		repaired(ck, "next_ino -> %llu",
			 (unsigned long long)(max_ino + 1));
		sb->next_ino = max_ino + 1;
	}
	ck->nfs->changed = true;
	for (size_t i = 0; i < ck->nleaks && !ret; i++) {
		ret = fsa_native_free_insert(ck->nfs, ck->leaks[i].start,
					     ck->leaks[i].len);
		if (!ret)
			repaired(ck, "blocks %llu+%llu freed",
				 (unsigned long long)ck->leaks[i].start,
				 (unsigned long long)ck->leaks[i].len);
	}
	if (!ret)
		ret = repair_inodes(ck);
	if (!ret && ck->refs_bad)
		ret = repair_refcounts(ck);
	return ret ? ret : fsa_native_commit(ck->nfs);
}

int fsa_native_check(struct fsa_native_fs *nfs, unsigned int flags,
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
	if (!ret)
		ret = count_uses(&ck);
	if (ret == -EFSCORRUPTED || (!ret && ck.damaged)) {
		problem(&ck, "free space not checked: a tree is damaged");
		ret = 0;
	} else if (!ret) {
		check_space(&ck);
	}
	if (!ret && !ck.damaged && !(flags & FSA_NATIVE_CHECK_TREES))
		ret = check_inodes(&ck);
	if (ret == -EFSCORRUPTED) {
		problem(&ck, "inodes not checked: a tree is damaged");
		ck.damaged = true;
		ret = 0;
	}
	/* A damaged tree needs more than counting: repair nothing. */
	if (!ret && (flags & FSA_NATIVE_CHECK_REPAIR) && ck.problems &&
	    !ck.damaged && !(flags & FSA_NATIVE_CHECK_TREES))
		ret = repair(&ck);
	free(ck.runs);
	free(ck.data);
	free(ck.uses);
	free(ck.inodes);
	free(ck.leaks);
	return ret ? ret :
		     (int)(ck.problems > INT32_MAX ? INT32_MAX : ck.problems);
}
