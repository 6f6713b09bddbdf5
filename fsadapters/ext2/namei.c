// SPDX-License-Identifier: GPL-2.0
/* namei.c - ext2/3/4 operations on the names of existing inodes: rmdir,
 * rename and link, with the link counts and ".." entries they move. */
#include <errno.h>
#include <string.h>

#include "ext2.h"

/* Directory depth past which a ".." chain must be a loop. */
#define FSA_EXT2_MAX_DEPTH 65536

static int fsa_ext2_put_inode(struct fsa_ext2_fs *efs, ext2_ino_t ino,
			      struct ext2_inode_large *in)
{
	return fsa_ext2_errno(ext2fs_write_inode_full(
		efs->fs, ino, (struct ext2_inode *)in, sizeof(*in)));
}

/* A change to the inode itself (a link, a move): ctime, never mtime. */
static void fsa_ext2_touch_ctime(struct ext2_inode_large *in)
{
	uint32_t mtime = in->i_mtime, mtime_extra = in->i_mtime_extra;

	fsa_ext2_touch(in);
	in->i_mtime = mtime;
	in->i_mtime_extra = mtime_extra;
}

/* The dirent file type of an inode mode. */
static int fsa_ext2_ftype(uint16_t mode)
{
	static const struct {
		uint16_t fmt;
		int ft;
	} types[] = {
		{ LINUX_S_IFREG, EXT2_FT_REG_FILE },
		{ LINUX_S_IFDIR, EXT2_FT_DIR },
		{ LINUX_S_IFLNK, EXT2_FT_SYMLINK },
		{ LINUX_S_IFCHR, EXT2_FT_CHRDEV },
		{ LINUX_S_IFBLK, EXT2_FT_BLKDEV },
		{ LINUX_S_IFIFO, EXT2_FT_FIFO },
		{ LINUX_S_IFSOCK, EXT2_FT_SOCK },
	};

	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if ((mode & LINUX_S_IFMT) == types[i].fmt)
			return types[i].ft;
	return EXT2_FT_UNKNOWN;
}

/* Entry @name of directory @dir: its inode number and inode. */
static int fsa_ext2_entry(struct fsa_ext2_fs *efs, ext2_ino_t dir,
			  const char *name, ext2_ino_t *ino,
			  struct ext2_inode_large *in)
{
	size_t len = strlen(name);
	int ret;

	if (len == 0)
		return -ENOENT;
	if (len > EXT2_NAME_LEN)
		return -ENAMETOOLONG;
	ret = fsa_ext2_read_inode(efs, dir, in);
	if (!ret && !LINUX_S_ISDIR(in->i_mode))
		ret = -ENOTDIR;
	if (!ret)
		ret = fsa_ext2_errno(
			ext2fs_lookup(efs->fs, dir, name, (int)len, NULL, ino));
	return ret ? ret : fsa_ext2_read_inode(efs, *ino, in);
}

int fsa_ext2_dir_nlink_next(const struct fsa_ext2_fs *efs, uint16_t count,
			    int delta, uint16_t *next)
{
	if (delta > 0 && (count == 1 || count >= FSA_EXT2_LINK_MAX - 1)) {
		if (!ext2fs_has_feature_dir_nlink(efs->fs->super))
			return -EMLINK;
		*next = 1;
	} else if (delta > 0) {
		*next = count + 1;
	} else {
		*next = count > 2 ? count - 1 : count;
	}
	return 0;
}

/* One more (@delta 1) or one fewer (-1) subdirectory in @dir. */
static int fsa_ext2_dir_nlink(struct fsa_ext2_fs *efs, ext2_ino_t dir,
			      int delta)
{
	struct ext2_inode_large in;
	int ret = fsa_ext2_read_inode(efs, dir, &in);

	if (!ret)
		ret = fsa_ext2_dir_nlink_next(efs, in.i_links_count, delta,
					      &in.i_links_count);
	if (ret)
		return ret;
	fsa_ext2_touch(&in);
	return fsa_ext2_put_inode(efs, dir, &in);
}

static int fsa_ext2_any_entry(ext2_ino_t dir, int entry,
			      struct ext2_dir_entry *de, int offset,
			      int blocksize, char *buf, void *priv)
{
	int len = ext2fs_dirent_name_len(de);
	bool *found = priv;

	(void)dir;
	(void)offset;
	(void)blocksize;
	(void)buf;
	if (entry == DIRENT_DOT_FILE || entry == DIRENT_DOT_DOT_FILE ||
	    !de->inode || (len == 1 && de->name[0] == '.') ||
	    (len == 2 && de->name[0] == '.' && de->name[1] == '.'))
		return 0;
	*found = true;
	return DIRENT_ABORT;
}

/* 0 if directory @ino holds only "." and "..", else -ENOTEMPTY. */
static int fsa_ext2_dir_empty(struct fsa_ext2_fs *efs, ext2_ino_t ino)
{
	bool found = false;
	int ret = fsa_ext2_errno(ext2fs_dir_iterate2(
		efs->fs, ino, 0, NULL, fsa_ext2_any_entry, &found));

	return ret ? ret : found ? -ENOTEMPTY : 0;
}

int fsa_ext2_rmdir(struct fsa_fs *fs, uint64_t dir, const char *name)
{
	struct fsa_ext2_fs *efs = EXT2_FS(fs);
	struct ext2_inode_large in;
	ext2_ino_t ino;
	int ret = fsa_ext2_dir_writable(efs, dir);

	if (ret)
		return ret;
	if (!strcmp(name, "."))
		return -EINVAL;
	if (!strcmp(name, ".."))
		return -ENOTEMPTY;
	ret = fsa_ext2_entry(efs, (ext2_ino_t)dir, name, &ino, &in);
	if (!ret && !LINUX_S_ISDIR(in.i_mode))
		ret = -ENOTDIR;
	if (!ret && ino == EXT2_ROOT_INO)
		ret = -EBUSY;
	if (!ret)
		ret = fsa_ext2_dir_empty(efs, ino);
	/* The name first: a failure after it leaks an inode, never leaves
	 * a name on a freed one. */
	if (!ret)
		ret = fsa_ext2_errno(
			ext2fs_unlink(efs->fs, (ext2_ino_t)dir, name, ino, 0));
	if (!ret)
		ret = fsa_ext2_release_inode(efs, ino);
	return ret ? ret : fsa_ext2_dir_nlink(efs, (ext2_ino_t)dir, -1);
}

int fsa_ext2_link(struct fsa_fs *fs, uint64_t ino, uint64_t dir,
		  const char *name)
{
	struct fsa_ext2_fs *efs = EXT2_FS(fs);
	struct ext2_inode_large in;
	int ret = fsa_ext2_dir_writable(efs, dir);

	if (!ret && ino > UINT32_MAX)
		ret = -ENOENT;
	if (!ret)
		ret = fsa_ext2_read_inode(efs, (ext2_ino_t)ino, &in);
	if (!ret && in.i_links_count == 0)
		ret = -ENOENT;
	if (!ret && LINUX_S_ISDIR(in.i_mode))
		ret = -EPERM;
	if (!ret && in.i_links_count >= FSA_EXT2_LINK_MAX)
		ret = -EMLINK;
	if (!ret)
		ret = fsa_ext2_check_name(efs, (ext2_ino_t)dir, name);
	if (!ret)
		ret = fsa_ext2_add_link(efs, (ext2_ino_t)dir, name,
					(ext2_ino_t)ino,
					fsa_ext2_ftype(in.i_mode));
	if (ret)
		return ret;
	fsa_ext2_touch_ctime(&in);
	in.i_links_count++;
	ret = fsa_ext2_put_inode(efs, (ext2_ino_t)ino, &in);
	return ret ? ret : fsa_ext2_touch_dir(efs, (ext2_ino_t)dir);
}

/* -EINVAL if directory @dir is @src or below it (a move into itself). */
static int fsa_ext2_not_below(struct fsa_ext2_fs *efs, ext2_ino_t src,
			      ext2_ino_t dir)
{
	for (unsigned int depth = 0; dir != EXT2_ROOT_INO; depth++) {
		if (dir == src)
			return -EINVAL;
		if (depth > FSA_EXT2_MAX_DEPTH)
			return -EFSCORRUPTED;
		int ret = fsa_ext2_errno(
			ext2fs_lookup(efs->fs, dir, "..", 2, NULL, &dir));
		if (ret)
			return ret;
	}
	return 0;
}

static int fsa_ext2_set_dotdot_one(ext2_ino_t dir, int entry,
				   struct ext2_dir_entry *de, int offset,
				   int blocksize, char *buf, void *priv)
{
	(void)dir;
	(void)offset;
	(void)blocksize;
	(void)buf;
	if (entry != DIRENT_DOT_DOT_FILE)
		return 0;
	de->inode = *(ext2_ino_t *)priv;
	return DIRENT_CHANGED | DIRENT_ABORT;
}

/*
 * A moved directory's ".." names its new parent.  An inline directory
 * keeps it in the first word of i_block, which the iterator's fake ".."
 * entry does not write back when changed.
 */
static int fsa_ext2_set_dotdot(struct fsa_ext2_fs *efs, ext2_ino_t ino,
			       ext2_ino_t parent)
{
	struct ext2_inode_large in;
	int ret = fsa_ext2_read_inode(efs, ino, &in);

	if (ret)
		return ret;
	if (in.i_flags & EXT4_INLINE_DATA_FL) {
		in.i_block[0] = ext2fs_cpu_to_le32(parent);
		return fsa_ext2_put_inode(efs, ino, &in);
	}
	return fsa_ext2_errno(
		ext2fs_dir_iterate2(efs->fs, ino, DIRENT_FLAG_INCLUDE_EMPTY,
				    NULL, fsa_ext2_set_dotdot_one, &parent));
}

/* May an entry of @src_dir's kind replace inode @dst? rename(2)'s rules. */
static int fsa_ext2_can_replace(struct fsa_ext2_fs *efs, bool src_dir,
				ext2_ino_t dst,
				const struct ext2_inode_large *in)
{
	bool dst_dir = LINUX_S_ISDIR(in->i_mode);

	if (src_dir && !dst_dir)
		return -ENOTDIR;
	if (!src_dir && dst_dir)
		return -EISDIR;
	return dst_dir ? fsa_ext2_dir_empty(efs, dst) : 0;
}

/* The inode a rename replaced loses that link (a directory all). */
static int fsa_ext2_drop_replaced(struct fsa_ext2_fs *efs, ext2_ino_t dir,
				  ext2_ino_t ino, struct ext2_inode_large *in)
{
	int ret;

	if (LINUX_S_ISDIR(in->i_mode)) {
		ret = fsa_ext2_release_inode(efs, ino);
		return ret ? ret : fsa_ext2_dir_nlink(efs, dir, -1);
	}
	if (in->i_links_count <= 1)
		return fsa_ext2_release_inode(efs, ino);
	in->i_links_count--;
	fsa_ext2_touch(in);
	return fsa_ext2_put_inode(efs, ino, in);
}

/* The new name in place, pointing at @src: replacing @dst when non-zero. */
static int fsa_ext2_rename_link(struct fsa_ext2_fs *efs, ext2_ino_t dir,
				const char *name, ext2_ino_t src, int ft,
				ext2_ino_t dst)
{
	int ret;

	if (!dst) {
		ret = fsa_ext2_check_name(efs, dir, name);
		return ret ? ret : fsa_ext2_add_link(efs, dir, name, src, ft);
	}
	/* The slot just freed fits the same name: the link cannot fail for
	 * space, so the name is never lost. */
	ret = fsa_ext2_errno(ext2fs_unlink(efs->fs, dir, name, dst, 0));
	return ret ? ret : fsa_ext2_add_link(efs, dir, name, src, ft);
}

/* A directory moved between parents: its "..", both link counts. */
static int fsa_ext2_reparent(struct fsa_ext2_fs *efs, ext2_ino_t ino,
			     ext2_ino_t olddir, ext2_ino_t newdir)
{
	int ret = fsa_ext2_set_dotdot(efs, ino, newdir);

	if (!ret)
		ret = fsa_ext2_dir_nlink(efs, newdir, +1);
	return ret ? ret : fsa_ext2_dir_nlink(efs, olddir, -1);
}

static bool fsa_ext2_dot(const char *name)
{
	return !strcmp(name, ".") || !strcmp(name, "..");
}

int fsa_ext2_rename(struct fsa_fs *fs, uint64_t olddir, const char *oldname,
		    uint64_t newdir, const char *newname, unsigned int flags)
{
	struct fsa_ext2_fs *efs = EXT2_FS(fs);
	ext2_ino_t od = (ext2_ino_t)olddir, nd = (ext2_ino_t)newdir;
	struct ext2_inode_large src, dst;
	ext2_ino_t sino, dino = 0;
	bool isdir;
	int ret = fsa_ext2_dir_writable(efs, olddir);

	if (!ret)
		ret = fsa_ext2_dir_writable(efs, newdir);
	if (!ret && ((flags & ~FSA_RENAME_NOREPLACE) || fsa_ext2_dot(oldname) ||
		     fsa_ext2_dot(newname)))
		ret = -EINVAL;
	if (!ret)
		ret = fsa_ext2_entry(efs, od, oldname, &sino, &src);
	if (ret)
		return ret;
	isdir = LINUX_S_ISDIR(src.i_mode);
	ret = fsa_ext2_entry(efs, nd, newname, &dino, &dst);
	if (ret == -ENOENT)
		dino = 0, ret = 0;
	if (ret || dino == sino) /* two names of one inode: nothing to do */
		return ret;
	if (dino && (flags & FSA_RENAME_NOREPLACE))
		return -EEXIST;
	if (dino)
		ret = fsa_ext2_can_replace(efs, isdir, dino, &dst);
	if (!ret && isdir && od != nd)
		ret = fsa_ext2_not_below(efs, sino, nd);
	/* New name before the old one goes: a failure never loses the file. */
	if (!ret)
		ret = fsa_ext2_rename_link(efs, nd, newname, sino,
					   fsa_ext2_ftype(src.i_mode), dino);
	if (!ret)
		ret = fsa_ext2_errno(
			ext2fs_unlink(efs->fs, od, oldname, sino, 0));
	if (!ret && dino)
		ret = fsa_ext2_drop_replaced(efs, nd, dino, &dst);
	if (!ret && isdir && od != nd)
		ret = fsa_ext2_reparent(efs, sino, od, nd);
	/* Re-read: set_dotdot may have rewritten the inode (inline dirs). */
	if (!ret)
		ret = fsa_ext2_read_inode(efs, sino, &src);
	if (!ret) {
		fsa_ext2_touch_ctime(&src);
		ret = fsa_ext2_put_inode(efs, sino, &src);
	}
	if (!ret)
		ret = fsa_ext2_touch_dir(efs, od);
	return ret || od == nd ? ret : fsa_ext2_touch_dir(efs, nd);
}
