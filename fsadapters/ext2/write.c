// SPDX-License-Identifier: GPL-2.0
/* write.c - ext2/3/4 mutations: allocation for writes, size changes,
 * preallocation, hole punching, new files and directories. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "ext2.h"

/*
 * Features whose on-disk rules we do not implement: writing such an image
 * with libext2fs alone could corrupt it (or a journal replay would undo
 * our changes), so it opens read-only only.
 */
int fsa_ext2_check_writable(struct fsa_ext2_fs *efs)
{
	struct ext2_super_block *sb = efs->fs->super;
	const char *feature = NULL;
	int ret = -EROFS;

	if (ext2fs_has_feature_journal_needs_recovery(sb))
		feature = "needs_recovery";
	else if (ext2fs_has_feature_encrypt(sb))
		feature = "encrypt";
	else if (ext2fs_has_feature_verity(sb))
		feature = "verity";
	else if (ext2fs_has_feature_casefold(sb))
		feature = "casefold";
	else if (ext2fs_has_feature_bigalloc(sb))
		feature = "bigalloc";
	else if (sb->s_feature_incompat & ~EXT2_LIB_FEATURE_INCOMPAT_SUPP)
		feature = "unknown incompat", ret = -EOPNOTSUPP;
	else if (sb->s_feature_ro_compat & ~EXT2_LIB_FEATURE_RO_COMPAT_SUPP)
		feature = "unknown ro_compat";
	if (!feature)
		return 0;
	fprintf(stderr,
		"iomapctl: %s: cannot write: the image has feature '%s' "
		"(it can be opened read-only)\n",
		efs->fs->device_name, feature);
	return ret;
}

/* ---- not yet implemented: refused cleanly ---- */

int fsa_ext2_create(struct fsa_fs *fs, uint64_t dir, const char *name,
		    uint32_t mode, uint64_t *ino)
{
	(void)fs, (void)dir, (void)name, (void)mode, (void)ino;
	return -EOPNOTSUPP;
}

int fsa_ext2_mkdir(struct fsa_fs *fs, uint64_t dir, const char *name,
		   uint32_t mode, uint64_t *ino)
{
	(void)fs, (void)dir, (void)name, (void)mode, (void)ino;
	return -EOPNOTSUPP;
}

int fsa_ext2_setattr(struct fsa_fs *fs, uint64_t ino,
		     const struct fsa_stat *st)
{
	(void)fs, (void)ino, (void)st;
	return -EOPNOTSUPP;
}

int fsa_ext2_setsize(struct iomap_inode *inode, loff_t size)
{
	(void)inode, (void)size;
	return -EOPNOTSUPP;
}

int fsa_ext2_falloc(struct iomap_inode *inode, loff_t pos, uint64_t len,
		    bool keep_size)
{
	(void)inode, (void)pos, (void)len, (void)keep_size;
	return -EOPNOTSUPP;
}

int fsa_ext2_punch(struct iomap_inode *inode, loff_t pos, uint64_t len)
{
	(void)inode, (void)pos, (void)len;
	return -EOPNOTSUPP;
}

static int fsa_ext2_write_begin(struct iomap_inode *inode, loff_t pos,
				loff_t length, unsigned int flags,
				struct iomap *iomap, struct iomap *srcmap)
{
	(void)inode, (void)pos, (void)length, (void)flags, (void)iomap,
		(void)srcmap;
	return -EOPNOTSUPP;
}

const struct iomap_ops fsa_ext2_buffered_write_ops = {
	.iomap_begin = fsa_ext2_write_begin,
};
const struct iomap_ops fsa_ext2_direct_write_ops = {
	.iomap_begin = fsa_ext2_write_begin,
};
const struct iomap_ops fsa_ext2_dax_write_ops = {
	.iomap_begin = fsa_ext2_write_begin,
};
const struct iomap_dio_ops fsa_ext2_dio_ops = { 0 };
const struct iomap_writeback_ops fsa_ext2_writeback_ops = { 0 };
