// SPDX-License-Identifier: GPL-2.0
/* xattr.c - extended attributes of ext2/3/4 inodes through libext2fs, for
 * copies and migrations that keep them. */
#include <errno.h>
#include <limits.h>
#include <string.h>

#include "ext2.h"

/* Where inline-data files keep their bytes: not an attribute to copy. */
#define FSA_EXT2_INLINE_XATTR "system.data"

struct fsa_ext2_xattr_walk {
	fsa_xattr_cb cb;
	void *priv;
	int ret;
};

static int fsa_ext2_xattr_one(char *name, char *value, size_t len, void *data)
{
	struct fsa_ext2_xattr_walk *w = data;

	if (!strcmp(name, FSA_EXT2_INLINE_XATTR))
		return 0;
	w->ret = w->cb(name, value, len, w->priv);
	return w->ret ? XATTR_ABORT : 0;
}

static int fsa_ext2_xattrs_open(struct fsa_fs *fs, uint64_t ino,
				struct ext2_xattr_handle **h)
{
	errcode_t err;

	if (ino == 0 || ino > EXT2_FS(fs)->fs->super->s_inodes_count)
		return -ENOENT;
	err = ext2fs_xattrs_open(EXT2_FS(fs)->fs, (ext2_ino_t)ino, h);
	if (!err)
		err = ext2fs_xattrs_read(*h);
	if (err && *h)
		ext2fs_xattrs_close(h);
	return fsa_ext2_errno(err);
}

int fsa_ext2_listxattr(struct fsa_fs *fs, uint64_t ino, fsa_xattr_cb cb,
		       void *priv)
{
	struct fsa_ext2_xattr_walk w = { cb, priv, 0 };
	struct ext2_xattr_handle *h = NULL;
	int ret = fsa_ext2_xattrs_open(fs, ino, &h);

	if (ret)
		return ret == -EOPNOTSUPP ? 0 : ret;
	ret = fsa_ext2_errno(ext2fs_xattrs_iterate(h, fsa_ext2_xattr_one, &w));
	ext2fs_xattrs_close(&h);
	return w.ret ? w.ret : ret;
}

int fsa_ext2_setxattr(struct fsa_fs *fs, uint64_t ino, const char *name,
		      const void *value, size_t len)
{
	struct ext2_xattr_handle *h = NULL;
	int ret = fsa_ext2_writable(EXT2_FS(fs));

	if (!ret && (!*name || !strcmp(name, FSA_EXT2_INLINE_XATTR)))
		ret = -EINVAL;
	if (!ret)
		ret = fsa_ext2_xattrs_open(fs, ino, &h);
	if (ret)
		return ret;
	/* ext2fs_xattr_set writes the inode body and EA block at once. */
	ret = fsa_ext2_errno(ext2fs_xattr_set(h, name, value, len));
	ext2fs_xattrs_close(&h);
	return ret;
}

int fsa_ext2_getxattr(struct fsa_fs *fs, uint64_t ino, const char *name,
		      void *buf, size_t size)
{
	struct ext2_xattr_handle *h = NULL;
	void *value = NULL;
	size_t len = 0;
	int ret;

	if (!*name || !strcmp(name, FSA_EXT2_INLINE_XATTR))
		return -ENODATA;
	ret = fsa_ext2_xattrs_open(fs, ino, &h);
	if (ret)
		return ret == -EOPNOTSUPP ? -ENODATA : ret;
	ret = fsa_ext2_errno(ext2fs_xattr_get(h, name, &value, &len));
	ext2fs_xattrs_close(&h);
	if (ret)
		return ret;
	if (len > INT_MAX)
		ret = -E2BIG;
	else if (size && len > size)
		ret = -ERANGE;
	else if (size)
		memcpy(buf, value, len);
	ext2fs_free_mem(&value);
	return ret ? ret : (int)len;
}

int fsa_ext2_removexattr(struct fsa_fs *fs, uint64_t ino, const char *name)
{
	struct ext2_xattr_handle *h = NULL;
	void *value = NULL;
	size_t len;
	int ret = fsa_ext2_writable(EXT2_FS(fs));

	if (!ret && (!*name || !strcmp(name, FSA_EXT2_INLINE_XATTR)))
		ret = -ENODATA;
	if (!ret)
		ret = fsa_ext2_xattrs_open(fs, ino, &h);
	if (ret)
		return ret == -EOPNOTSUPP ? -ENODATA : ret;
	/* ext2fs_xattr_remove() calls a missing name success: ask first. */
	ret = fsa_ext2_errno(ext2fs_xattr_get(h, name, &value, &len));
	if (!ret) {
		ext2fs_free_mem(&value);
		ret = fsa_ext2_errno(ext2fs_xattr_remove(h, name));
	}
	ext2fs_xattrs_close(&h);
	return ret;
}
