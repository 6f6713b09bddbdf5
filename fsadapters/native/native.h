/* SPDX-License-Identifier: GPL-2.0 */
/* native.h - internals shared by the files of the iomapfs adapter. */
#ifndef IOMAPCTL_FSA_NATIVE_H
#define IOMAPCTL_FSA_NATIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "iomapctl/fsa.h"
#include "iomapctl/ioops.h"
#include "iomapctl/native.h"
#include "format.h"

#ifndef EUCLEAN
#define EUCLEAN 117
#endif
/* What the kernel's filesystems return for on-disk damage. */
#define EFSCORRUPTED EUCLEAN

/* crc32c.c: CRC-32C continuing from @seed (0 starts a fresh one), so
 * crc(crc(0, a), b) == crc(0, a b); crc(0, "123456789") == 0xe3069283. */
uint32_t fsa_native_crc32c(uint32_t seed, const void *buf, size_t len);

/**
 * struct fsa_native_buf - one metadata block in memory.
 * @blkno:	its home block.
 * @owner:	tree id + 1 (0 for none), checked on every read.
 * @data:	block_size bytes.
 * @dirty:	changed in the running transaction (it is on the dirty list).
 * @pinned:	newer than its home block (a journalled transaction laid
 *		over a read-only image): never dropped.
 * @next:	hash chain.
 */
struct fsa_native_buf {
	uint64_t blkno;
	uint64_t owner;
	uint8_t *data;
	bool dirty;
	bool pinned;
	struct fsa_native_buf *next;
};

/* A run of blocks [start, start + len). */
struct fsa_native_range {
	uint64_t start, len;
};

struct fsa_native_file;

/* A delayed-allocation range of one file: blocks [lblk, lblk + len) of
 * @ino, reserved by the open file @owner, not on disk yet. */
struct fsa_native_da_range {
	uint64_t ino, lblk, len;
	const struct fsa_native_file *owner;
};

/* The delalloc ranges of an image, sorted by (ino, lblk), disjoint, each
 * in a hole of its file; @reserved blocks over all of them. */
struct fsa_native_delalloc {
	struct fsa_native_da_range *r;
	size_t n, cap;
	uint64_t reserved;
};

/* A staged copy-on-write: file blocks [lblk, lblk + len) of @ino go to
 * disk blocks from @start once their data is written (reflink.c). */
struct fsa_native_cow {
	uint64_t ino, lblk, start, len;
};

/**
 * struct fsa_native_fs - an open iomapfs image.
 * @sb:		the superblock as the running transaction sees it.
 * @fd:		the image, for metadata (the engine opens its own).
 * @bufs:	hash table of metadata blocks read or made this session.
 * @dirty:	blocks changed since the last commit.
 * @deferred:	extents freed since the last commit: they join the free
 *		tree only at commit (docs/native-format.md, Allocation).
 * @in_refill:	the reserve is being refilled: no nested refill.
 * @changed:	the superblock or a block changed since the last commit.
 * @err:	a failed commit left memory ahead of the image: refuse more.
 * @da:		delayed allocations of the open files (in memory only).
 */
struct fsa_native_fs {
	struct fsa_fs base;
	struct fsa_native_sb sb;
	int fd;
	char *path;
	unsigned int block_size;
	struct fsa_native_buf **bufs;
	size_t nbuckets, nbufs;
	size_t trim_at; /* fsa_native_meta_trim() drops past this many bufs */
	struct fsa_native_buf *spare; /* dropped, for blocks read next */
	uint8_t *ra_scratch; /* where readahead reads blocks it passes over */
	struct fsa_native_buf **dirty;
	size_t ndirty, dirty_cap;
	struct fsa_native_range *deferred;
	size_t ndeferred, deferred_cap;
	bool in_refill;
	bool changed;
	uint64_t alloc_hint; /* where the last data allocation ended */
	struct fsa_native_cow *cow; /* the COW fork of every open file */
	size_t ncow, cow_cap;
	int err;
	struct iomap_stats own_stats;
	struct fsa_faults *faults; /* a test's, armed per open (or NULL) */
	struct fsa_native_delalloc da;
	/* Bumped by every change to a tree: copies of its leaves made at
	 * another value are stale (struct fsa_native_ext_cursor). */
	uint64_t tree_gen[FSA_NATIVE_NR_TREES];
	uint64_t node_visits; /* tree nodes looked at, cached or read */
};

static inline struct fsa_native_fs *NATIVE_FS(struct fsa_fs *fs)
{
	return (struct fsa_native_fs *)fs;
}

/* meta.c: verified metadata blocks, the journal commit and recovery. */

/* fsa_ops.set_faults: arms @faults on every read, write and flush of the
 * image the adapter does itself. */
void fsa_native_set_faults(struct fsa_fs *fs, struct fsa_faults *faults);

/* crc32c of a metadata block of @len bytes, its crc field taken as 0. */
uint32_t fsa_native_block_crc(const uint8_t *data, size_t len);

/* Checks the header and crc of block image @data as block @blkno of
 * owner @owner; 0 or -EFSCORRUPTED after saying what is wrong. */
int fsa_native_verify(struct fsa_native_fs *nfs, const uint8_t *data,
		      uint32_t magic, uint64_t blkno, uint64_t owner);
/* Sets the header of @data (magic kept) and its crc. */
void fsa_native_seal(struct fsa_native_fs *nfs, uint8_t *data, uint64_t blkno,
		     uint64_t owner, uint64_t generation);
/* Tree node @blkno of tree @owner, verified; the buffer stays cached. */
int fsa_native_meta_read(struct fsa_native_fs *nfs, uint64_t blkno,
			 uint64_t owner, struct fsa_native_buf **bp);
/*
 * Tree nodes @blkno[0..@n) of @owner, about to be read in this order, read
 * into the cache in one go: those up to the first already cached, as far
 * as one read of a few hundred KiB holds them.  Verified as they are read
 * (a damaged one is left for its own read to report).  Read-only sessions
 * only: a failed read would stop a read-write one for a guess.
 */
void fsa_native_meta_readahead(struct fsa_native_fs *nfs, uint64_t owner,
			       const uint64_t *blkno, unsigned int n);
/* A zeroed, dirty node buffer for block @blkno (newly allocated). */
int fsa_native_meta_new(struct fsa_native_fs *nfs, uint64_t blkno,
			uint64_t owner, struct fsa_native_buf **bp);
int fsa_native_meta_dirty(struct fsa_native_fs *nfs, struct fsa_native_buf *b);
/* Block @blkno is no longer metadata: drop it from the cache. */
void fsa_native_meta_forget(struct fsa_native_fs *nfs, uint64_t blkno);
void fsa_native_meta_free_all(struct fsa_native_fs *nfs);
/* Drops the clean blocks once the cache has grown by its bound since the
 * last time, so a walk of a large tree reuses its memory.  Only where no
 * buffer pointer is held: at the start of an operation of the engine. */
void fsa_native_meta_trim(struct fsa_native_fs *nfs);
/* Applies a complete journalled transaction newer than the superblock. */
int fsa_native_recover(struct fsa_native_fs *nfs);
/* Commits the running transaction (docs/native-format.md, Commit). */
int fsa_native_commit(struct fsa_native_fs *nfs);
/* Commits when half the journal is dirty: call at operation boundaries. */
int fsa_native_commit_if_full(struct fsa_native_fs *nfs);
/* Reads or writes @len bytes at @off of the image, whole or -EIO. */
int fsa_native_pread(struct fsa_native_fs *nfs, void *buf, size_t len,
		     uint64_t off);
int fsa_native_pwrite(struct fsa_native_fs *nfs, const void *buf, size_t len,
		      uint64_t off);
/* Prints "iomapfs: <image>: block N: <why>" (damage reports). */
void fsa_native_report(struct fsa_native_fs *nfs, uint64_t blkno,
		       const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* btree.c: the one B+tree (docs/native-format.md, B+tree nodes). */

struct fsa_native_key {
	uint64_t w[2]; /* second word 0 for one-word trees */
};

/* Key words and value bytes of each tree. */
struct fsa_native_tree_type {
	unsigned int key_words;
	unsigned int value_size;
	const char *name;
};
extern const struct fsa_native_tree_type fsa_native_trees[FSA_NATIVE_NR_TREES];

int fsa_native_key_cmp(const struct fsa_native_key *a,
		       const struct fsa_native_key *b);

/**
 * struct fsa_native_cursor - a position in a tree: the path of (block,
 * index) from the root to a leaf record.  Valid until the tree changes.
 */
struct fsa_native_cursor {
	struct fsa_native_fs *nfs;
	unsigned int tree;
	unsigned int levels;
	uint64_t blk[FSA_NATIVE_MAX_LEVELS]; /* [0] = leaf */
	unsigned int idx[FSA_NATIVE_MAX_LEVELS];
	bool on_record;
};

/* Exact-match lookup: 0 with the value in @val, or -ENOENT. */
int fsa_native_bt_lookup(struct fsa_native_fs *nfs, unsigned int tree,
			 const struct fsa_native_key *key, void *val);
/* New record; -EEXIST when the key is there. */
int fsa_native_bt_insert(struct fsa_native_fs *nfs, unsigned int tree,
			 const struct fsa_native_key *key, const void *val);
/* Replace the value of an existing key; -ENOENT when absent. */
int fsa_native_bt_update(struct fsa_native_fs *nfs, unsigned int tree,
			 const struct fsa_native_key *key, const void *val);
/* Remove a record; -ENOENT when absent. */
int fsa_native_bt_delete(struct fsa_native_fs *nfs, unsigned int tree,
			 const struct fsa_native_key *key);
/*
 * Position @c on the first record with a key >= @key: 1 when there is
 * one, 0 when the tree has none (past the end), or a negative errno.
 */
int fsa_native_bt_seek(struct fsa_native_cursor *c, struct fsa_native_fs *nfs,
		       unsigned int tree, const struct fsa_native_key *key);
/* The last record with a key <= @key: 1, 0 when none, or -errno. */
int fsa_native_bt_seek_le(struct fsa_native_cursor *c,
			  struct fsa_native_fs *nfs, unsigned int tree,
			  const struct fsa_native_key *key);
/* Step to the next / previous record: 1, 0 at the end, or -errno. */
int fsa_native_bt_next(struct fsa_native_cursor *c);
int fsa_native_bt_prev(struct fsa_native_cursor *c);
/* The record under @c (either pointer may be NULL). */
int fsa_native_bt_get(const struct fsa_native_cursor *c,
		      struct fsa_native_key *key, void *val);
/* Entries a leaf of @tree holds at most. */
unsigned int fsa_native_bt_leaf_max(const struct fsa_native_fs *nfs,
				    unsigned int tree);
/* Copies the records of the leaf under @c to @keys and @vals (each with
 * room for fsa_native_bt_leaf_max()): their number, or -errno. */
int fsa_native_bt_leaf_copy(const struct fsa_native_cursor *c,
			    struct fsa_native_key *keys, void *vals);
/* The leaves after the one under @c in its parent (at most @count, up to
 * FSA_NATIVE_RA_LEAVES), read ahead: a walk in key order goes there next. */
#define FSA_NATIVE_RA_LEAVES 64U
void fsa_native_bt_readahead(const struct fsa_native_cursor *c,
			     unsigned int count);
/* Every block of the tree, for fsck: @cb(blkno, level, priv). */
int fsa_native_bt_walk_nodes(struct fsa_native_fs *nfs, unsigned int tree,
			     int (*cb)(uint64_t blkno, unsigned int level,
				       void *priv),
			     void *priv);

/* alloc.c: free space, the metadata reserve, deferred frees. */

/* Keeps the reserve at FSA_NATIVE_RESERVE_LOW or more when space allows;
 * -ENOSPC when it holds fewer than @need blocks. */
int fsa_native_reserve_fill(struct fsa_native_fs *nfs, unsigned int need);
/* A block for a tree node, from the reserve. */
int fsa_native_alloc_node(struct fsa_native_fs *nfs, uint64_t *blkno);
/* A tree node no longer used. */
int fsa_native_free_node(struct fsa_native_fs *nfs, uint64_t blkno);
/*
 * Up to @len blocks (at least one) in one extent as near @goal as the
 * free tree allows: the start in *@start, the length returned, or -ENOSPC.
 */
int64_t fsa_native_alloc(struct fsa_native_fs *nfs, uint64_t goal, uint64_t len,
			 uint64_t *start);
/* Blocks no longer used: free at the next commit. */
int fsa_native_free(struct fsa_native_fs *nfs, uint64_t start, uint64_t len);
/* Returns the deferred frees to the free tree (commit step 1). */
int fsa_native_free_deferred(struct fsa_native_fs *nfs);
/* Adds [start, start + len) to the free tree, merging neighbours. */
int fsa_native_free_insert(struct fsa_native_fs *nfs, uint64_t start,
			   uint64_t len);

/* super.c: superblock, open, mkfs. */

/* Reads and checks the superblock of @fd: 0, -ENODATA (not iomapfs),
 * -EPROTONOSUPPORT (a newer version) or -EFSCORRUPTED. */
int fsa_native_read_sb(int fd, struct fsa_native_sb *sb);
int fsa_native_fs_open(const char *path, unsigned int flags,
		       struct iomap_stats *stats, struct fsa_native_fs **nfsp);
void fsa_native_fs_free(struct fsa_native_fs *nfs);

/* namei.c: inodes, names and directories. */
int fsa_native_iread(struct fsa_native_fs *nfs, uint64_t ino,
		     struct fsa_native_inode *in);
int fsa_native_iwrite(struct fsa_native_fs *nfs, uint64_t ino,
		      const struct fsa_native_inode *in);
void fsa_native_now(struct fsa_native_time *t);
/* The hash part of a dirent or xattr key for @name under @ino. */
uint32_t fsa_native_name_hash(uint64_t ino, const char *name, size_t len);
int fsa_native_lookup(struct fsa_fs *fs, const char *path, uint64_t *ino);
int fsa_native_lookup_link(struct fsa_fs *fs, const char *path, uint64_t *ino);
int fsa_native_stat(struct fsa_fs *fs, uint64_t ino, struct fsa_stat *st);
int fsa_native_readdir(struct fsa_fs *fs, uint64_t dir, fsa_dirent_cb cb,
		       void *priv);
int fsa_native_readlink(struct fsa_fs *fs, uint64_t ino, char *buf,
			size_t size);
/* The entry @name (@len bytes) of @dir: 0 with it in @de (its key in @key
 * unless NULL), or -ENOENT. */
int fsa_native_dir_find(struct fsa_native_fs *nfs, uint64_t dir,
			const char *name, size_t len,
			struct fsa_native_dirent *de,
			struct fsa_native_key *key);

/**
 * struct fsa_native_ext_cursor - a copy of the extent-tree leaf a file's
 * last lookup ended in, so the next lookup in the same leaf (the common
 * case: mappings asked for in file order) is a search of @n records in
 * memory instead of a descent from the root.
 * @gen:	nfs->tree_gen[FSA_NATIVE_T_EXTENTS] when copied.
 * @blkno:	the leaf's block (for damage reports).
 * @n:		records copied (0: none).
 * @hint:	the record of the last answer.
 * @keys, @ext:	the leaf's records, room for a full leaf.
 */
struct fsa_native_ext_cursor {
	uint64_t gen;
	uint64_t blkno;
	unsigned int n, hint;
	struct fsa_native_key *keys;
	struct fsa_native_extent *ext;
};

/* iomap.c: mapping files for the engine. */

/* An open file: the engine's inode first, so container_of is a cast. */
struct fsa_native_file {
	struct iomap_inode vfs;
	struct fsa_native_fs *nfs;
	struct fsa_native_inode in; /* as last read or written */
	uint64_t seq; /* bumped on every mapping change (validity_cookie) */
	void *inline_buf; /* inline files: their bytes, once loaded */
	struct fsa_native_ext_cursor cur; /* its mapping lookups' leaf */
};

static inline struct fsa_native_file *NATIVE_I(struct iomap_inode *inode)
{
	return (struct fsa_native_file *)inode;
}

extern const struct iomap_opset fsa_native_iomap_opset;
extern const struct iomap_ops fsa_native_read_ops;
/* The extent of @f at file block @lblk as a mapping, or the hole up to
 * the next extent (at most to @end_lblk). */
int fsa_native_map_block(struct fsa_native_file *f, uint64_t lblk,
			 uint64_t end_lblk, struct iomap *iomap);

/* fsa_native_map_block() for the block holding byte @pos, which an inline
 * file maps exactly. */
int fsa_native_map_pos(struct fsa_native_file *f, loff_t pos,
		       uint64_t end_lblk, struct iomap *iomap);

/* extent.c: a file's extents. */

/* The first extent of @ino overlapping file blocks [@lblk, @end): 1 with
 * it in @e and its first block in *@first, 0 when none, or -errno. */
int fsa_native_ext_find(struct fsa_native_fs *nfs, uint64_t ino, uint64_t lblk,
			uint64_t end, uint64_t *first,
			struct fsa_native_extent *e);
/* The same through @cur: answered from its leaf when that leaf holds the
 * answer and the tree has not changed, else found in the tree, @cur then
 * taking the leaf the answer is in. */
int fsa_native_ext_find_cur(struct fsa_native_fs *nfs,
			    struct fsa_native_ext_cursor *cur, uint64_t ino,
			    uint64_t lblk, uint64_t end, uint64_t *first,
			    struct fsa_native_extent *e);
void fsa_native_ext_cursor_free(struct fsa_native_ext_cursor *cur);
/* Maps the hole [@lblk, @lblk + @len) to disk blocks from @start. */
int fsa_native_ext_add(struct fsa_native_fs *nfs, uint64_t ino, uint64_t lblk,
		       uint64_t start, uint64_t len, uint32_t flags);
/* What becomes of the blocks fsa_native_ext_remove() unmaps. */
enum fsa_native_unmap {
	FSA_NATIVE_UNMAP_KEEP, /* still used (being remapped) */
	FSA_NATIVE_UNMAP_FREE, /* free at the next commit */
	/* Free now: allocated in this transaction and never written, so
	 * the committed state does not know them. */
	FSA_NATIVE_UNMAP_FREE_NOW,
	/* One owner fewer, as FREE, but no commit part way: the old half of
	 * a copy-on-write switch, which is one transaction. */
	FSA_NATIVE_UNMAP_SWITCH,
};
/* Unmaps [@lblk, @end): the number of blocks unmapped, or -errno. */
int64_t fsa_native_ext_remove(struct fsa_native_fs *nfs, uint64_t ino,
			      uint64_t lblk, uint64_t end,
			      enum fsa_native_unmap how);
/* Unwritten blocks of [@lblk, @end) become written. */
int fsa_native_ext_convert(struct fsa_native_fs *nfs, uint64_t ino,
			   uint64_t lblk, uint64_t end);

/* write.c: writes, sizes and space. */
/* 0 when the image may change: -EROFS read-only, or a failed commit's. */
int fsa_native_writable(struct fsa_native_fs *nfs);
/* mtime and ctime to now. */
void fsa_native_touch(struct fsa_native_inode *in);
int fsa_native_zero_disk(struct fsa_native_fs *nfs, uint64_t addr,
			 uint64_t len);
int fsa_native_setsize(struct iomap_inode *inode, loff_t size);
int fsa_native_punch(struct iomap_inode *inode, loff_t pos, uint64_t len);
int fsa_native_falloc(struct iomap_inode *inode, loff_t pos, uint64_t len,
		      bool keep_size);

/* delalloc.c: delayed allocation (docs/native-format.md, Delayed
 * allocation). */

/* Up to @want of the free blocks no reservation promises: what other
 * allocations may take (0: none). */
uint64_t fsa_native_da_avail(struct fsa_native_fs *nfs, uint64_t want);
/* The first delalloc range of @ino overlapping [@lblk, @end): 1 with it
 * in *@first, *@len, or 0. */
int fsa_native_da_find(const struct fsa_native_fs *nfs, uint64_t ino,
		       uint64_t lblk, uint64_t end, uint64_t *first,
		       uint64_t *len);
/* The blocks reserved for @ino's delalloc ranges. */
uint64_t fsa_native_da_blocks(const struct fsa_native_fs *nfs, uint64_t ino);
/* A HOLE mapping of @f at @lblk becomes DELALLOC (to the end of the
 * range) where a delalloc range holds @lblk, or ends where one starts. */
void fsa_native_da_overlay(struct fsa_native_file *f, uint64_t lblk,
			   struct iomap *iomap);
/* Reserves up to @len blocks of the hole at @lblk: the count, or -ENOSPC
 * when no block can be promised. */
int64_t fsa_native_da_reserve(struct fsa_native_file *f, uint64_t lblk,
			      uint64_t len);
/* Ends the delalloc of [@lblk, @end) of @ino (only @owner's unless NULL):
 * the blocks released, or -ENOMEM. */
int64_t fsa_native_da_release(struct fsa_native_fs *nfs, uint64_t ino,
			      uint64_t lblk, uint64_t end,
			      const struct fsa_native_file *owner);
void fsa_native_da_free(struct fsa_native_fs *nfs);
/* ->iomap_begin of a buffered write (IOMAP_WRITE, not direct). */
int fsa_native_da_write_begin(struct fsa_native_file *f, loff_t pos,
			      loff_t length, struct iomap *iomap);

/* inline.c: inline data (docs/native-format.md, Inline data). */

bool fsa_native_is_inline(const struct fsa_native_file *f);
/* The mapping of an inline file at byte @pos: INLINE over its bytes, else
 * a hole from EOF up to @end_lblk. */
int fsa_native_inline_map(struct fsa_native_file *f, uint64_t pos,
			  uint64_t end_lblk, struct iomap *iomap);
/* A buffered write of [@pos, @pos + @length): 1 with an INLINE mapping
 * when it fits inline (an empty file becomes inline), 0 when it goes to
 * blocks (an inline file moved to an extent first), or -errno. */
int fsa_native_inline_write_begin(struct fsa_native_file *f, loff_t pos,
				  loff_t length, struct iomap *iomap);
/* ->iomap_end of an INLINE mapping: the record takes the bytes. */
int fsa_native_inline_end(struct fsa_native_file *f, ssize_t written);
/* An inline file's size to @size: 1 when it stays inline, 0 when it moved
 * to an extent (the caller goes on), or -errno. */
int fsa_native_inline_resize(struct fsa_native_file *f, uint64_t size);
/* An inline file's bytes to a block of their own (no-op otherwise). */
int fsa_native_inline_convert(struct fsa_native_file *f);
/* Removes the inline record of @ino, if any (its last link went). */
int fsa_native_inline_drop(struct fsa_native_fs *nfs, uint64_t ino);
/* Inode @dst's inline record becomes a copy of @src's (reflink: a few
 * hundred bytes are copied, not shared). */
int fsa_native_inline_clone(struct fsa_native_fs *nfs, uint64_t src,
			    uint64_t dst);

/* dir.c: the namespace operations of fsa_ops. */
/* Entry @name -> @ino (of @mode) in @dir; -EEXIST when the name is there. */
int fsa_native_dir_add(struct fsa_native_fs *nfs, uint64_t dir,
		       const char *name, uint64_t ino, uint32_t mode);
int fsa_native_create(struct fsa_fs *fs, uint64_t dir, const char *name,
		      uint32_t mode, uint64_t *ino);
int fsa_native_mkdir(struct fsa_fs *fs, uint64_t dir, const char *name,
		     uint32_t mode, uint64_t *ino);
int fsa_native_symlink(struct fsa_fs *fs, uint64_t dir, const char *name,
		       const char *target, uint64_t *ino);
int fsa_native_unlink(struct fsa_fs *fs, uint64_t dir, const char *name);
int fsa_native_rmdir(struct fsa_fs *fs, uint64_t dir, const char *name);
int fsa_native_rename(struct fsa_fs *fs, uint64_t olddir, const char *oldname,
		      uint64_t newdir, const char *newname, unsigned int flags);
int fsa_native_link(struct fsa_fs *fs, uint64_t ino, uint64_t dir,
		    const char *name);
int fsa_native_setattr(struct fsa_fs *fs, uint64_t ino,
		       const struct fsa_stat *st);

/* xattr.c: extended attributes in the xattr tree. */
int fsa_native_listxattr(struct fsa_fs *fs, uint64_t ino, fsa_xattr_cb cb,
			 void *priv);
int fsa_native_getxattr(struct fsa_fs *fs, uint64_t ino, const char *name,
			void *buf, size_t size);
int fsa_native_setxattr(struct fsa_fs *fs, uint64_t ino, const char *name,
			const void *value, size_t len);
int fsa_native_removexattr(struct fsa_fs *fs, uint64_t ino, const char *name);
/* Every attribute of @ino goes (its last link went). */
int fsa_native_xattr_drop_all(struct fsa_native_fs *nfs, uint64_t ino);

/* reflink.c: the refcount tree, reflink and copy-on-write. */

/* One owner more for each block of [start, start + len). */
int fsa_native_ref_share(struct fsa_native_fs *nfs, uint64_t start,
			 uint64_t len);
/* One owner fewer: blocks left with none are freed at the next commit. */
int fsa_native_ref_put(struct fsa_native_fs *nfs, uint64_t start,
		       uint64_t len);
/* Flags a MAPPED @iomap IOMAP_F_SHARED when its first block has two owners
 * or more, trimmed to the blocks that answer the same. */
int fsa_native_ref_mark(struct fsa_native_fs *nfs, struct iomap *iomap,
			unsigned int bits);
/* What fsa_native_cow_begin() copies from the old blocks to new ones. */
enum fsa_native_cow_copy {
	FSA_NATIVE_COW_NOCOPY, /* the engine reads edges from srcmap */
	FSA_NATIVE_COW_COPY_EDGES, /* partial first and last blocks */
	FSA_NATIVE_COW_COPY_ALL, /* every block (get_block) */
};
/*
 * A write to [@pos, @pos + *@length) of @f: 1 when @pos is shared or
 * staged, with @iomap the staging blocks (IOMAP_F_SHARED) and @srcmap
 * (unless NULL) the old ones; 0 when the caller maps it as usual, with
 * *@length cut short of a staged range; or -errno.
 */
int fsa_native_cow_begin(struct fsa_native_file *f, loff_t pos,
			 uint64_t *length, enum fsa_native_cow_copy copy,
			 struct iomap *iomap, struct iomap *srcmap);
/* The data of file blocks [lblk, end) is on disk: staged blocks there
 * replace the old ones in the file, in the running transaction. */
int fsa_native_cow_end(struct fsa_native_file *f, uint64_t lblk, uint64_t end);
/* Staged blocks of [lblk, end) of @ino are not wanted: freed. */
int fsa_native_cow_cancel(struct fsa_native_fs *nfs, uint64_t ino,
			  uint64_t lblk, uint64_t end);
/* Every staged block goes (closing: nothing waits for them any more). */
int fsa_native_cow_drop_all(struct fsa_native_fs *nfs);
/* Opening read-write: staging left by a crash is freed and committed. */
int fsa_native_cow_recover(struct fsa_native_fs *nfs);
/* fsa_ops.reflink: @dst's contents become @src's, sharing its blocks. */
int fsa_native_reflink(struct fsa_fs *fs, uint64_t src, uint64_t dst);

/* check.c: what fsck checks.  The number of problems found (0:
 * consistent), or a negative errno. */
#define FSA_NATIVE_CHECK_REPAIR \
	(1U << 0) /* make (and commit) the repairs
					   * that need no guess; @nfs rdwr */
#define FSA_NATIVE_CHECK_TREES \
	(1U << 1) /* trees and space only, not what
					  * the records mean (tree tests) */
int fsa_native_check(struct fsa_native_fs *nfs, unsigned int flags,
		     const struct fsa_native_check_ops *ops, void *priv);

#endif /* IOMAPCTL_FSA_NATIVE_H */
