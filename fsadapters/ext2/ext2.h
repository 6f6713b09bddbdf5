/* SPDX-License-Identifier: GPL-2.0 */
/* ext2.h - internals shared by the files of the ext2/ext3/ext4 adapter. */
#ifndef IOMAPCTL_FSA_EXT2_H
#define IOMAPCTL_FSA_EXT2_H

#include <ext2fs/ext2fs.h>

#include "iomapctl/fsa.h"

#ifndef EUCLEAN
#define EUCLEAN 117
#endif
/* What the kernel's ext4 returns for on-disk damage. */
#define EFSCORRUPTED EUCLEAN

/* An open image: the libext2fs handle carries everything else. */
/* ext4's EXT4_LINK_MAX: a directory past it counts 1 (dir_nlink). */
#define FSA_EXT2_LINK_MAX 65000

#define FSA_EXT2_DIRINDEX_SLOTS 4
struct fsa_ext2_dirindex;

struct fsa_ext2_fs {
	struct fsa_fs base;
	ext2_filsys fs;
	char type[16]; /* "ext2", "ext3" or "ext4" */
	struct iomap_stats own_stats; /* when the caller passes none */
	struct fsa_ext2_meta *meta; /* iomap.c: metadata ranges, sorted */
	size_t nmeta;
	/* dirindex.c: name sets of the large directories written last */
	struct fsa_ext2_dirindex *dirindex[FSA_EXT2_DIRINDEX_SLOTS];
	uint64_t dirindex_clock;
	/* The metadata-free block range the last run checked fell in,
	 * [lo, hi): runs of one area need no search. */
	blk64_t meta_gap_lo, meta_gap_hi;
};

/*
 * One physically contiguous run of blocks, the unit of the run list that
 * both extent-mapped and indirect-mapped files are read into.
 */
struct fsa_ext2_run {
	blk64_t lblk;
	blk64_t pblk;
	uint32_t len;
	bool uninit;
};

/* A node on the cursor's path down the extent tree. */
struct fsa_ext2_level {
	blk64_t blk; /* its block (0 for the root, in the inode) */
	unsigned int entries;
	unsigned int pos; /* the child read below; in a leaf, the next */
};

/* ext4's limit on the extent tree's depth. */
#define FSA_EXT2_TREE_DEPTH 5

/*
 * The per-inode mapping cursor.  Runs are appended in logical order as the
 * extent tree is walked leaf after leaf along one path (never re-descended
 * from the root), so mapping a whole file costs one walk; indirect-mapped
 * files are read in one block_iterate3 pass.  A mutation drops it.
 *
 * For extent-mapped files @runs is a window of at most
 * FSA_EXT2_RUN_WINDOW runs: it holds every run overlapping [@base, end of
 * the last run), and slides forward when full, so mapping a file of a
 * million extents takes the same memory as one of a thousand.  A lookup
 * before @base positions the path again with one descent.
 */
struct fsa_ext2_cursor {
	struct fsa_ext2_run *runs;
	size_t nr, cap;
	struct fsa_ext2_level path[FSA_EXT2_TREE_DEPTH + 1];
	unsigned int depth; /* of the tree: path[depth] is a leaf */
	void *nodes; /* the blocks of path[1..depth], one after the other */
	bool positioned; /* @path is on the last run read */
	size_t hint; /* run the last lookup found */
	blk64_t base; /* @runs are complete from this block on */
	blk64_t last_end; /* end of the last run read (runs ascend) */
	uint64_t walked; /* runs read since the walk (re)started */
	bool started;
	bool done; /* no run of the file follows the last one in @runs */
	int err; /* the walk failed: every lookup returns this */
};

/* Runs kept per extent-mapped inode (24 bytes each). */
#define FSA_EXT2_RUN_WINDOW 1024

/* New ranges a direct write remembers; more are left allocated (unwritten,
 * so e2fsck-clean) rather than freed by guess. */
#define FSA_EXT2_DIO_NEW 8

/**
 * struct fsa_ext2_inode - an open file of an ext2/3/4 image.
 * @vfs:	what the engine sees; first so container_of is a cast.
 * @fs:		the image.
 * @ino:	inode number.
 * @inode:	the on-disk inode as last read or written.
 * @cur:	run-list cursor for extent and indirect mapped files.
 * @inline_buf:	inline data, page-aligned as IOMAP_INLINE requires.
 * @inline_size: bytes in @inline_buf.
 * @raw_inode:	the whole on-disk inode (in-inode xattrs), page-aligned.
 * @seq:	bumped on every mapping change (iomap.validity_cookie).
 * @new_past_eof: get_block(create) allocated past EOF: iput frees what
 *		the size does not cover (a write that failed part way).
 * @dio_new:	block ranges [lblk, end) the direct write in progress
 *		allocated (its ->end_io frees their part past the final EOF;
 *		one direct write at a time per inode); @dio_nr of them.
 */
struct fsa_ext2_inode {
	struct iomap_inode vfs;
	struct fsa_ext2_fs *fs;
	ext2_ino_t ino;
	struct ext2_inode_large inode;
	struct fsa_ext2_cursor cur;
	void *inline_buf;
	size_t inline_size;
	void *raw_inode;
	uint64_t seq;
	bool new_past_eof;
	struct {
		blk64_t lblk, end;
	} dio_new[FSA_EXT2_DIO_NEW];
	unsigned int dio_nr;
};

static inline struct fsa_ext2_inode *EXT2_I(struct iomap_inode *inode)
{
	return (struct fsa_ext2_inode *)inode;
}

static inline struct fsa_ext2_fs *EXT2_FS(struct fsa_fs *fs)
{
	return (struct fsa_ext2_fs *)fs;
}

/* bcache.c: the metadata block cache (see there for why it is safe) */
struct fsa_ext2_bcache_stats {
	uint64_t reads; /* read calls that reached the image file */
	uint64_t hits; /* single-block reads the cache answered */
	uint64_t writes; /* write calls (all written through at once) */
};
extern io_manager fsa_ext2_bcache_io_manager;
void fsa_ext2_bcache_stats(struct fsa_ext2_fs *efs,
			   struct fsa_ext2_bcache_stats *st);
/* Drops the cached blocks of bytes [@addr, @addr + @len) of the image. */
void fsa_ext2_bcache_forget(struct fsa_ext2_fs *efs, uint64_t addr,
			    uint64_t len);
void fsa_ext2_bcache_forget_map(struct fsa_ext2_fs *efs,
				const struct iomap *map);
/* The first write to the image that failed since the last call (0: none),
 * reported once, as fsync reports a lost page. */
errcode_t fsa_ext2_bcache_take_write_error(struct fsa_ext2_fs *efs);
/* fsa_ops.set_faults: the cache's reads and writes of the image fail. */
void fsa_ext2_set_faults(struct fsa_fs *fs, struct fsa_faults *faults);

/* errcode.c */
int fsa_ext2_errno(errcode_t err);
void fsa_ext2_errors_init(void);

/* A range of blocks the filesystem keeps for itself: [start, end). */
struct fsa_ext2_meta {
	blk64_t start, end;
};

/* iomap.c */
extern const struct iomap_opset fsa_ext2_iomap_opset;
void fsa_ext2_cursor_reset(struct fsa_ext2_inode *ei);
void fsa_ext2_cursor_invalidate(struct fsa_ext2_inode *ei, blk64_t from);
int fsa_ext2_load_inline(struct fsa_ext2_inode *ei);
int fsa_ext2_map_runs(struct fsa_ext2_inode *ei, blk64_t lblk, blk64_t eof,
		      struct iomap *iomap);
void fsa_ext2_set_hole(struct iomap *iomap, unsigned int bits, blk64_t lblk,
		       uint64_t end_byte);
int fsa_ext2_get_block(struct iomap_inode *inode, uint64_t iblock,
		       struct iomap_bh *bh, int create);

/*
 * extent.c: put @ei's cursor path on the last extent starting at or
 * before @lblk (or the first of its leaf); the extent at the path, moving
 * it on (0), 1 at the end of the tree, or -errno for a damaged tree.
 */
int fsa_ext2_tree_seek(struct fsa_ext2_inode *ei, blk64_t lblk);
int fsa_ext2_tree_next(struct fsa_ext2_inode *ei, struct fsa_ext2_run *ext);

/* ext2.c */
int fsa_ext2_read_inode(struct fsa_ext2_fs *efs, ext2_ino_t ino,
			struct ext2_inode_large *inode);
int fsa_ext2_write_inode(struct fsa_ext2_inode *ei);

/* The largest run one allocation asks for: one uninitialised extent. */
#define FSA_EXT2_MAX_ALLOC 32767U
/* ext4's logical block limit: mapping for writes ends there. */
#define FSA_EXT2_MAX_LBLK (1ULL << 32)

/* punch.c */
errcode_t fsa_ext2_punch_range(ext2_filsys fs, ext2_ino_t ino,
			       struct ext2_inode *in, blk64_t first,
			       blk64_t last);

/*
 * After an allocation in a block-mapped file failed part way: the
 * indirect blocks libext2fs mapped meanwhile stay in the written inode,
 * counted in i_blocks (libext2fs counts them only on success).
 */
int fsa_ext2_ind_alloc_failed(struct fsa_ext2_inode *ei);
/* write.c: inode-level helpers shared with write-iomap.c */
int fsa_ext2_writable(struct fsa_ext2_fs *efs);
int fsa_ext2_refresh(struct fsa_ext2_inode *ei);
void fsa_ext2_touch(struct ext2_inode_large *in);
int fsa_ext2_set_size(struct fsa_ext2_inode *ei, loff_t size);
int fsa_ext2_free_blocks(struct fsa_ext2_inode *ei, blk64_t first,
			 blk64_t last);
int fsa_ext2_alloc(struct fsa_ext2_inode *ei, blk64_t lblk, blk64_t len,
		   bool uninit);
bool fsa_ext2_can_unwritten(const struct fsa_ext2_inode *ei);
int fsa_ext2_uninline(struct fsa_ext2_inode *ei);
int fsa_ext2_zero_eof_tail(struct fsa_ext2_inode *ei, loff_t old);
int fsa_ext2_trim_eof(struct fsa_ext2_inode *ei);

/* write-iomap.c */
extern const struct iomap_ops fsa_ext2_buffered_write_ops;
extern const struct iomap_ops fsa_ext2_direct_write_ops;
extern const struct iomap_ops fsa_ext2_dax_write_ops;
extern const struct iomap_dio_ops fsa_ext2_dio_ops;
extern const struct iomap_writeback_ops fsa_ext2_writeback_ops;
int fsa_ext2_get_block_create(struct fsa_ext2_inode *ei, uint64_t iblock,
			      struct iomap_bh *bh);

/* write.c: the fsa_ops mutations */
int fsa_ext2_check_writable(struct fsa_ext2_fs *efs);
int fsa_ext2_check_counts(struct fsa_ext2_fs *efs);
int fsa_ext2_create(struct fsa_fs *fs, uint64_t dir, const char *name,
		    uint32_t mode, uint64_t *ino);
int fsa_ext2_mkdir(struct fsa_fs *fs, uint64_t dir, const char *name,
		   uint32_t mode, uint64_t *ino);
int fsa_ext2_setattr(struct fsa_fs *fs, uint64_t ino,
		     const struct fsa_stat *st);
int fsa_ext2_symlink(struct fsa_fs *fs, uint64_t dir, const char *name,
		     const char *target, uint64_t *ino);
int fsa_ext2_unlink(struct fsa_fs *fs, uint64_t dir, const char *name);
int fsa_ext2_setsize(struct iomap_inode *inode, loff_t size);
int fsa_ext2_falloc(struct iomap_inode *inode, loff_t pos, uint64_t len,
		    bool keep_size);
int fsa_ext2_punch(struct iomap_inode *inode, loff_t pos, uint64_t len);
/* write.c: directory-entry helpers shared with namei.c */
int fsa_ext2_dir_writable(struct fsa_ext2_fs *efs, uint64_t dir);
/* A new name in @dir: valid, not there yet (-EEXIST). */
int fsa_ext2_check_name(struct fsa_ext2_fs *efs, ext2_ino_t dir,
			const char *name);
/* Link @name to @ino (file type @ft), growing a full directory. */
int fsa_ext2_add_link(struct fsa_ext2_fs *efs, ext2_ino_t dir, const char *name,
		      ext2_ino_t ino, int ft);
/* mtime and ctime of directory @dir to now. */
int fsa_ext2_touch_dir(struct fsa_ext2_fs *efs, ext2_ino_t dir);
/* Frees inode @ino, its blocks and EA block (its last link is gone). */
int fsa_ext2_release_inode(struct fsa_ext2_fs *efs, ext2_ino_t ino);

/* namei.c: rmdir, rename, link */
int fsa_ext2_rmdir(struct fsa_fs *fs, uint64_t dir, const char *name);
int fsa_ext2_rename(struct fsa_fs *fs, uint64_t olddir, const char *oldname,
		    uint64_t newdir, const char *newname, unsigned int flags);
int fsa_ext2_link(struct fsa_fs *fs, uint64_t ino, uint64_t dir,
		  const char *name);
/* @dir's link count @count with one subdirectory more (@delta 1) or fewer
 * (-1) in *@next: past the limit it sticks at 1 (ext4's dir_nlink),
 * -EMLINK without that feature. */
int fsa_ext2_dir_nlink_next(const struct fsa_ext2_fs *efs, uint16_t count,
			    int delta, uint16_t *next);

/* xattr.c */
int fsa_ext2_listxattr(struct fsa_fs *fs, uint64_t ino, fsa_xattr_cb cb,
		       void *priv);
int fsa_ext2_setxattr(struct fsa_fs *fs, uint64_t ino, const char *name,
		      const void *value, size_t len);
int fsa_ext2_getxattr(struct fsa_fs *fs, uint64_t ino, const char *name,
		      void *buf, size_t size);
int fsa_ext2_removexattr(struct fsa_fs *fs, uint64_t ino, const char *name);

/*
 * dirindex.c: names added to large directories in linear time.
 * _absent() is true only when @name is surely not in @dir; _link() adds
 * the entry when @dir has a name set (1: it has none, use ext2fs_link);
 * _added() records a name added some other way.
 */
bool fsa_ext2_dirindex_absent(struct fsa_ext2_fs *efs, ext2_ino_t dir,
			      const char *name);
/* @dir has a name set: its new names go through _link(). */
bool fsa_ext2_dirindex_has(struct fsa_ext2_fs *efs, ext2_ino_t dir);
int fsa_ext2_dirindex_link(struct fsa_ext2_fs *efs, ext2_ino_t dir,
			   const char *name, ext2_ino_t ino, int ft);
void fsa_ext2_dirindex_added(struct fsa_ext2_fs *efs, ext2_ino_t dir,
			     const char *name);
void fsa_ext2_dirindex_free(struct fsa_ext2_fs *efs);

#endif /* IOMAPCTL_FSA_EXT2_H */
