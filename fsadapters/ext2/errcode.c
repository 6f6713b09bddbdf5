// SPDX-License-Identifier: GPL-2.0
/* errcode.c - the one place where libext2fs error codes become -errno,
 * and where libext2fs' own messages go. */
#include <errno.h>
#include <stdarg.h>
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

/* IOMAPCTL_DEBUG set (to anything): say what libext2fs says. */
static bool fsa_ext2_debug(void)
{
	return getenv("IOMAPCTL_DEBUG") != NULL;
}

/**
 * fsa_ext2_errno() - convert a libext2fs error code to a negative errno.
 * Codes below 256 are already errnos (libext2fs passes system errors
 * through); unknown codes become -EIO.  With IOMAPCTL_DEBUG the library's
 * own message is printed too: it says more than any errno can.
 */
int fsa_ext2_errno(errcode_t err)
{
	if (!err)
		return 0;
	if (fsa_ext2_debug())
		fprintf(stderr, "iomapctl: ext2: %s\n", error_message(err));
	if (err > 0 && err < 256)
		return -(int)err;
	for (size_t i = 0;
	     i < sizeof(fsa_ext2_errtab) / sizeof(fsa_ext2_errtab[0]); i++)
		if (fsa_ext2_errtab[i].code == err)
			return -fsa_ext2_errtab[i].err;
	return -EIO;
}

/*
 * What libext2fs prints itself through com_err() (bitmap range warnings,
 * "Illegal block number passed to ...").  Each such call also returns a
 * code or is retried inside the library (1.47.0's fallocate warns while
 * probing a merge it then gives up, in a write that succeeds), so the
 * message alone is no error of ours: it is shown only with IOMAPCTL_DEBUG,
 * in our format.
 */
static void fsa_ext2_com_err(const char *whoami, long code, const char *fmt,
			     va_list args)
{
	if (!fsa_ext2_debug())
		return;
	fputs("iomapctl: ext2: ", stderr);
	if (whoami && *whoami)
		fprintf(stderr, "%s: ", whoami);
	if (code)
		fprintf(stderr, "%s ", error_message((errcode_t)code));
	vfprintf(stderr, fmt, args);
	fputc('\n', stderr);
}

/**
 * fsa_ext2_errors_init() - register libext2fs' error table (codes
 * translate in messages) and take over its com_err() output.  Both are
 * libcom_err's process-wide state, so this runs before every open; it is
 * idempotent.
 */
void fsa_ext2_errors_init(void)
{
	initialize_ext2_error_table();
	set_com_err_hook(fsa_ext2_com_err);
}
