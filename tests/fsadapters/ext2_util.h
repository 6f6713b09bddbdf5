/* SPDX-License-Identifier: GPL-2.0 */
/* ext2_util.h - building ext2/3/4 test images and comparing block maps. */
#ifndef IOMAPCTL_TESTS_EXT2_UTIL_H
#define IOMAPCTL_TESTS_EXT2_UTIL_H

#include <stdint.h>
#include <sys/types.h>

#include "iomapctl/fsa.h"

/* What one file block is, for block-for-block comparisons. */
enum t_kind { T_HOLE = 0, T_MAPPED, T_UNWRITTEN, T_INLINE };

/* A file's map: for each logical block, its kind and physical block. */
struct t_bmap {
	uint64_t n;
	uint64_t *pblk;
	uint8_t *kind;
};

void t_bmap_init(struct t_bmap *m, uint64_t nblocks);
void t_bmap_free(struct t_bmap *m);
/* Fill from FIEMAP extents (bytes); INLINE keeps no physical block. */
void t_bmap_from_fiemap(struct t_bmap *m, const void *extents, uint32_t n,
			unsigned int bs);
/* Fill from debugfs (`ex` for extent files, `stat` otherwise). */
void t_bmap_from_debugfs(struct t_bmap *m, const char *img, const char *path,
			 int extents);
/* First block where the maps differ, or -1. */
int64_t t_bmap_diff(const struct t_bmap *a, const struct t_bmap *b);

/* An open image and file, for the tests' convenience. */
struct t_file {
	struct fsa_fs *fs;
	struct iomap_inode *inode;
	struct iomap_stats stats;
	uint64_t ino;
};

/* Open @img (RDWR when @rw) and, if @path, iget it; asserts on failure. */
void t_open(struct t_file *f, const char *img, const char *path, int rw);
void t_close(struct t_file *f);

/* Engine fiemap of the whole file into @m (with @ops). */
int t_fiemap_bmap(struct t_file *f, struct t_bmap *m, int bh);

#endif
