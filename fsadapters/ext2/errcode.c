// SPDX-License-Identifier: GPL-2.0
/* errcode.c - the one place where libext2fs error codes become -errno. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include <et/com_err.h>

#include "ext2.h"

static const struct {
	errcode_t code;
	int err;
} fsa_ext2_errtab[] = {
	{ EXT2_ET_NO_MEMORY, ENOMEM },
	{ EXT2_ET_FILE_NOT_FOUND, ENOENT },
	{ EXT2_ET_NO_DIRECTORY, ENOTDIR },
	{ EXT2_ET_DIR_EXISTS, EEXIST },
	{ EXT2_ET_FILE_EXISTS, EEXIST },
	{ EXT2_ET_BLOCK_ALLOC_FAIL, ENOSPC },
	{ EXT2_ET_INODE_ALLOC_FAIL, ENOSPC },
	{ EXT2_ET_DIR_NO_SPACE, ENOSPC },
	{ EXT2_ET_EA_NO_SPACE, ENOSPC },
	{ EXT2_ET_RO_FILSYS, EROFS },
	{ EXT2_ET_FILE_RO, EROFS },
	{ EXT2_ET_UNSUPP_FEATURE, EOPNOTSUPP },
	{ EXT2_ET_RO_UNSUPP_FEATURE, EROFS },
	{ EXT2_ET_OP_NOT_SUPPORTED, EOPNOTSUPP },
	{ EXT2_ET_UNIMPLEMENTED, EOPNOTSUPP },
	{ EXT2_ET_INVALID_ARGUMENT, EINVAL },
	{ EXT2_ET_BAD_MAGIC, EINVAL },
	{ EXT2_ET_FILE_TOO_BIG, EFBIG },
	{ EXT2_ET_TOOSMALL, EFBIG },
	{ EXT2_ET_SYMLINK_LOOP, ELOOP },
	{ EXT2_ET_NO_INLINE_DATA, ENODATA },
	{ EXT2_ET_EA_KEY_NOT_FOUND, ENODATA },
	{ EXT2_ET_MISSING_EA_FEATURE, EOPNOTSUPP },
	{ EXT2_ET_BAD_INODE_NUM, EINVAL },
	{ EXT2_ET_SHORT_READ, EIO },
	{ EXT2_ET_SHORT_WRITE, EIO },
	/* On-disk damage: the kernel says EFSCORRUPTED (EUCLEAN). */
	{ EXT2_ET_EXTENT_HEADER_BAD, EFSCORRUPTED },
	{ EXT2_ET_EXTENT_INDEX_BAD, EFSCORRUPTED },
	{ EXT2_ET_EXTENT_LEAF_BAD, EFSCORRUPTED },
	{ EXT2_ET_EXTENT_CSUM_INVALID, EFSCORRUPTED },
	{ EXT2_ET_INODE_CSUM_INVALID, EFSCORRUPTED },
	{ EXT2_ET_DIR_CSUM_INVALID, EFSCORRUPTED },
	{ EXT2_ET_DIR_CORRUPTED, EFSCORRUPTED },
	{ EXT2_ET_EXT_ATTR_CSUM_INVALID, EFSCORRUPTED },
	{ EXT2_ET_BAD_EA_HEADER, EFSCORRUPTED },
	{ EXT2_ET_BAD_EA_BLOCK_NUM, EFSCORRUPTED },
	{ EXT2_ET_INLINE_DATA_NO_SPACE, ENOSPC },
	{ EXT2_ET_CORRUPT_SUPERBLOCK, EFSCORRUPTED },
	{ EXT2_ET_SB_CSUM_INVALID, EFSCORRUPTED },
	{ EXT2_ET_BAD_DESC_SIZE, EFSCORRUPTED },
	{ EXT2_ET_GDESC_BAD_BLOCK_MAP, EFSCORRUPTED },
	{ EXT2_ET_GDESC_BAD_INODE_MAP, EFSCORRUPTED },
	{ EXT2_ET_GDESC_BAD_INODE_TABLE, EFSCORRUPTED },
	{ EXT2_ET_BAD_BLOCK_NUM, EFSCORRUPTED },
	{ EXT2_ET_BAD_IND_BLOCK, EFSCORRUPTED },
	{ EXT2_ET_BAD_DIND_BLOCK, EFSCORRUPTED },
	{ EXT2_ET_BAD_TIND_BLOCK, EFSCORRUPTED },
	{ EXT2_ET_MISSING_INODE_TABLE, EFSCORRUPTED },
	{ EXT2_ET_UNEXPECTED_BLOCK_SIZE, EFSCORRUPTED },
};

/**
 * fsa_ext2_errno() - convert a libext2fs error code to a negative errno.
 * Codes below 256 are already errnos (libext2fs passes system errors
 * through); unknown codes become -EIO.  Set IOMAPCTL_DEBUG to see the
 * library's own message, which says more than any errno can.
 */
int fsa_ext2_errno(errcode_t err)
{
	if (!err)
		return 0;
	if (getenv("IOMAPCTL_DEBUG"))
		fprintf(stderr, "iomapctl: ext2: %s\n", error_message(err));
	if (err > 0 && err < 256)
		return -(int)err;
	for (size_t i = 0;
	     i < sizeof(fsa_ext2_errtab) / sizeof(fsa_ext2_errtab[0]); i++)
		if (fsa_ext2_errtab[i].code == err)
			return -fsa_ext2_errtab[i].err;
	return -EIO;
}
