// SPDX-License-Identifier: GPL-2.0
/*
 * dirindex.c - many new names in one large directory in linear time.
 *
 * libext2fs finds a name (ext2fs_lookup) and room for a new one
 * (ext2fs_link) by reading the whole directory, so filling a directory of
 * n entries costs O(n^2): 47,616 files took 81 s, and mke2fs -d minutes.
 * For a directory of DIRINDEX_MIN_BLOCKS or more, the adapter keeps the
 * 64-bit hashes of its names, built by one scan and extended by every name
 * this adapter adds: a hash not in the set is a name not in the directory
 * (a removed name only leaves a stale hash, which costs one real lookup).
 * A new name goes into the directory's last block, or a block appended
 * for it, never searched for.  Hashed (htree) and inline directories keep
 * libext2fs' own paths.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ext2.h"

/* Smaller directories are scanned as fast as a set is built. */
#define DIRINDEX_MIN_BLOCKS 16

struct fsa_ext2_dirindex {
	ext2_ino_t dir; /* 0: the slot is free */
	uint64_t *hash; /* open addressing, 0 free */
	size_t n, cap;
	uint64_t used; /* LRU clock */
};

static uint64_t name_hash(const char *name, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)name[i]) * 0x100000001b3ULL;
	return h ? h : 1;
}

static size_t slot_of(const struct fsa_ext2_dirindex *x, uint64_t h)
{
	size_t i = (size_t)(h * 0x9e3779b97f4a7c15ULL) & (x->cap - 1);

	while (x->hash[i] && x->hash[i] != h)
		i = (i + 1) & (x->cap - 1);
	return i;
}

static int set_add(struct fsa_ext2_dirindex *x, uint64_t h)
{
	size_t i;

	if (2 * (x->n + 1) > x->cap) {
		struct fsa_ext2_dirindex big = { .cap = x->cap ? 2 * x->cap : 1024 };

		big.hash = calloc(big.cap, sizeof(*big.hash));
		if (!big.hash)
			return -ENOMEM;
		for (size_t j = 0; j < x->cap; j++)
			if (x->hash[j])
				big.hash[slot_of(&big, x->hash[j])] = x->hash[j];
		free(x->hash);
		x->hash = big.hash;
		x->cap = big.cap;
	}
	i = slot_of(x, h);
	if (!x->hash[i])
		x->n++;
	x->hash[i] = h;
	return 0;
}

static void slot_free(struct fsa_ext2_dirindex *x)
{
	free(x->hash);
	memset(x, 0, sizeof(*x));
}

void fsa_ext2_dirindex_free(struct fsa_ext2_fs *efs)
{
	for (int i = 0; i < FSA_EXT2_DIRINDEX_SLOTS; i++) {
		if (efs->dirindex[i])
			slot_free(efs->dirindex[i]);
		free(efs->dirindex[i]);
		efs->dirindex[i] = NULL;
	}
}

static int collect(struct ext2_dir_entry *de, int offset, int blocksize,
		   char *buf, void *priv)
{
	struct fsa_ext2_dirindex *x = priv;

	(void)offset;
	(void)blocksize;
	(void)buf;
	if (!de->inode)
		return 0;
	return set_add(x, name_hash(de->name, ext2fs_dirent_name_len(de))) ?
		       DIRENT_ABORT :
		       0;
}

/* A plain directory of blocks, large enough to be worth a set. */
static bool worth_indexing(struct fsa_ext2_fs *efs, ext2_ino_t dir)
{
	struct ext2_inode_large in;

	if (fsa_ext2_read_inode(efs, dir, &in) || !LINUX_S_ISDIR(in.i_mode) ||
	    (in.i_flags & (EXT2_INDEX_FL | EXT4_INLINE_DATA_FL)))
		return false;
	return EXT2_I_SIZE(&in) >=
	       (uint64_t)DIRINDEX_MIN_BLOCKS * efs->fs->blocksize;
}

/* The set of @dir: found, built (in the least recently used slot), or
 * NULL when the directory is small or cannot be read. */
static struct fsa_ext2_dirindex *dirindex_get(struct fsa_ext2_fs *efs,
					      ext2_ino_t dir, bool build)
{
	struct fsa_ext2_dirindex *x = NULL;
	int victim = 0;

	for (int i = 0; i < FSA_EXT2_DIRINDEX_SLOTS; i++) {
		struct fsa_ext2_dirindex *s = efs->dirindex[i];

		if (s && s->dir == dir) {
			s->used = ++efs->dirindex_clock;
			return s;
		}
		if (!s || (efs->dirindex[victim] &&
			   s->used < efs->dirindex[victim]->used))
			victim = i;
	}
	if (!build || !worth_indexing(efs, dir))
		return NULL;
	if (!efs->dirindex[victim])
		efs->dirindex[victim] = calloc(1, sizeof(*x));
	x = efs->dirindex[victim];
	if (!x)
		return NULL;
	slot_free(x);
	if (ext2fs_dir_iterate(efs->fs, dir, 0, NULL, collect, x) ||
	    set_add(x, name_hash(".", 1)) || set_add(x, name_hash("..", 2))) {
		slot_free(x);
		return NULL;
	}
	x->dir = dir;
	x->used = ++efs->dirindex_clock;
	return x;
}

bool fsa_ext2_dirindex_has(struct fsa_ext2_fs *efs, ext2_ino_t dir)
{
	return dirindex_get(efs, dir, false) != NULL;
}

bool fsa_ext2_dirindex_absent(struct fsa_ext2_fs *efs, ext2_ino_t dir,
			      const char *name)
{
	struct fsa_ext2_dirindex *x = dirindex_get(efs, dir, true);

	return x && !x->hash[slot_of(x, name_hash(name, strlen(name)))];
}

void fsa_ext2_dirindex_added(struct fsa_ext2_fs *efs, ext2_ino_t dir,
			     const char *name)
{
	struct fsa_ext2_dirindex *x = dirindex_get(efs, dir, false);

	/* Without its hash the set would deny a name that exists. */
	if (x && set_add(x, name_hash(name, strlen(name))))
		slot_free(x);
}

/*
 * Puts the entry into block @buf where an entry has room after its name
 * (or is unused and large enough): true when it fit.  @end is where the
 * entries end (before the checksum tail); a malformed block is left to
 * libext2fs.
 */
static bool block_insert(ext2_filsys fs, char *buf, unsigned int end,
			 const char *name, ext2_ino_t ino, int ft)
{
	unsigned int len = (unsigned int)strlen(name);
	unsigned int need = EXT2_DIR_REC_LEN(len);

	for (unsigned int off = 0; off + 8 <= end;) {
		struct ext2_dir_entry *de = (struct ext2_dir_entry *)(buf + off);
		unsigned int rec, used;

		if (ext2fs_get_rec_len(fs, de, &rec) || rec < 8 || rec % 4 ||
		    off + rec > end)
			return false;
		used = de->inode ? EXT2_DIR_REC_LEN(ext2fs_dirent_name_len(de)) :
				   0;
		if (rec - used >= need) {
			if (used) {
				ext2fs_set_rec_len(fs, used, de);
				de = (struct ext2_dir_entry *)(buf + off + used);
				ext2fs_set_rec_len(fs, rec - used, de);
			}
			de->inode = ino;
			ext2fs_dirent_set_name_len(de, (int)len);
			ext2fs_dirent_set_file_type(
				de, ext2fs_has_feature_filetype(fs->super) ? ft :
									      0);
			memcpy(de->name, name, len);
			return true;
		}
		off += rec;
	}
	return false;
}

/* The new entry in the directory's last block, if it has room: 0, 1 when
 * it has none, or -errno. */
static int tail_insert(struct fsa_ext2_fs *efs, ext2_ino_t dir,
		       const char *name, ext2_ino_t ino, int ft)
{
	ext2_filsys fs = efs->fs;
	struct ext2_inode_large in;
	blk64_t pblk = 0;
	unsigned int end = fs->blocksize;
	char *buf;
	int ret = fsa_ext2_read_inode(efs, dir, &in);

	if (ret)
		return ret;
	if (EXT2_I_SIZE(&in) < fs->blocksize)
		return 1;
	ret = fsa_ext2_errno(ext2fs_bmap2(fs, dir, (struct ext2_inode *)&in,
					  NULL, 0,
					  EXT2_I_SIZE(&in) / fs->blocksize - 1,
					  NULL, &pblk));
	if (ret || !pblk)
		return ret ? ret : 1;
	buf = malloc(fs->blocksize);
	if (!buf)
		return -ENOMEM;
	ret = fsa_ext2_errno(ext2fs_read_dir_block4(fs, pblk, buf, 0, dir));
	if (!ret && ext2fs_dirent_has_tail(fs, (struct ext2_dir_entry *)buf))
		end -= sizeof(struct ext2_dir_entry_tail);
	if (!ret)
		ret = block_insert(fs, buf, end, name, ino, ft) ? 0 : 1;
	if (!ret)
		ret = fsa_ext2_errno(
			ext2fs_write_dir_block4(fs, pblk, buf, 0, dir));
	free(buf);
	return ret;
}

int fsa_ext2_dirindex_link(struct fsa_ext2_fs *efs, ext2_ino_t dir,
			   const char *name, ext2_ino_t ino, int ft)
{
	int ret;

	if (!dirindex_get(efs, dir, false))
		return 1;
	ret = tail_insert(efs, dir, name, ino, ft);
	if (ret == 1) {
		ret = fsa_ext2_errno(ext2fs_expand_dir(efs->fs, dir));
		if (!ret)
			ret = tail_insert(efs, dir, name, ino, ft);
	}
	if (!ret)
		fsa_ext2_dirindex_added(efs, dir, name);
	return ret;
}
