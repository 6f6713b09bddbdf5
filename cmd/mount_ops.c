// SPDX-License-Identifier: GPL-2.0
/* mount_ops.c - `mount`: the FUSE operation table, and the operations on
 * names, attributes, directories and extended attributes.  Each holds the
 * mount's lock for all of its work in the adapter. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <sys/xattr.h>

#include "mount.h"

/* The kernel resolves symlinks itself: the last component is never
 * followed. */
static int mnt_lookup(struct mnt_state *ms, const char *path, uint64_t *ino)
{
	struct fsa_fs *fs = ms->ctx->fs;

	if (fs->ops->lookup_link)
		return fs->ops->lookup_link(fs, path, ino);
	return fs->ops->lookup(fs, path, ino);
}

/* The inode of an operation: the open file's, else @path's. */
static int mnt_ino(struct mnt_state *ms, const char *path,
		   const struct fuse_file_info *fi, uint64_t *ino)
{
	if (fi && fi->fh) {
		*ino = ((struct mnt_open *)(uintptr_t)fi->fh)->mi->ino;
		return 0;
	}
	return mnt_lookup(ms, path, ino);
}

/* A name to create or remove: @path's directory and last component. */
struct mnt_name {
	char buf[PATH_MAX];
	uint64_t dir;
	const char *name;
};

static int mnt_parent(struct mnt_state *ms, const char *path,
		      struct mnt_name *nm)
{
	char *slash;

	if (strlen(path) >= sizeof(nm->buf))
		return -ENAMETOOLONG;
	strcpy(nm->buf, path);
	slash = strrchr(nm->buf, '/');
	if (!slash || !slash[1])
		return -EINVAL;
	*slash = '\0';
	nm->name = slash + 1;
	return mnt_lookup(ms, nm->buf[0] ? nm->buf : "/", &nm->dir);
}

/* A new inode belongs to the caller, as the kernel's filesystems do it. */
static int mnt_own(struct mnt_state *ms, uint64_t ino)
{
	const struct fuse_context *fc = fuse_get_context();
	struct fsa_fs *fs = ms->ctx->fs;
	struct fsa_stat st;
	int ret = fs->ops->stat(fs, ino, &st);

	if (ret || (st.uid == fc->uid && st.gid == fc->gid))
		return ret;
	if (!fs->ops->setattr)
		return -EOPNOTSUPP;
	st.uid = fc->uid;
	st.gid = fc->gid;
	return fs->ops->setattr(fs, ino, &st);
}

static void mnt_fill_stat(struct mnt_state *ms, const struct fsa_stat *fst,
			  struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_ino = fst->ino;
	st->st_mode = fst->mode;
	st->st_nlink = fst->nlink;
	st->st_uid = fst->uid;
	st->st_gid = fst->gid;
	st->st_size = mnt_size(ms, fst->ino, fst->size);
	st->st_blocks = (blkcnt_t)fst->blocks;
	st->st_blksize = 1 << ms->ctx->fs->blkbits;
	st->st_atim = fst->atime;
	st->st_mtim = fst->mtime;
	st->st_ctim = fst->ctime;
}

static int mnt_getattr(const char *path, struct stat *st,
		       struct fuse_file_info *fi)
{
	struct mnt_state *ms = mnt_state();
	struct fsa_fs *fs = ms->ctx->fs;
	struct fsa_stat fst;
	uint64_t ino;
	int ret;

	mnt_lock(ms);
	ret = mnt_ino(ms, path, fi, &ino);
	if (!ret)
		ret = fs->ops->stat(fs, ino, &fst);
	if (!ret)
		mnt_fill_stat(ms, &fst, st);
	mnt_unlock(ms);
	return ret;
}

static int mnt_readlink(const char *path, char *buf, size_t size)
{
	struct mnt_state *ms = mnt_state();
	struct fsa_fs *fs = ms->ctx->fs;
	char target[PATH_MAX];
	uint64_t ino;
	int ret;

	if (!fs->ops->readlink)
		return -EINVAL;
	mnt_lock(ms);
	ret = mnt_lookup(ms, path, &ino);
	if (!ret)
		ret = fs->ops->readlink(fs, ino, target, sizeof(target));
	mnt_unlock(ms);
	/* readlink(2) truncates a long target. */
	if (!ret && size)
		snprintf(buf, size, "%s", target);
	return ret;
}

/* A new inode by @make in @path's directory, owned by the caller. */
typedef int (*mnt_make_fn)(struct fsa_fs *fs, uint64_t dir, const char *name,
			   const void *arg, uint64_t *ino);

static int mnt_make(const char *path, mnt_make_fn make, const void *arg,
		    struct fuse_file_info *fi)
{
	struct mnt_state *ms = mnt_state();
	struct mnt_name nm;
	uint64_t ino;
	int ret;

	mnt_lock(ms);
	ret = mnt_parent(ms, path, &nm);
	if (!ret)
		ret = make(ms->ctx->fs, nm.dir, nm.name, arg, &ino);
	if (!ret)
		ret = mnt_own(ms, ino);
	if (!ret && fi)
		ret = mnt_open_file(ms, ino, fi);
	mnt_unlock(ms);
	return ret;
}

static int mnt_make_file(struct fsa_fs *fs, uint64_t dir, const char *name,
			 const void *arg, uint64_t *ino)
{
	if (!fs->ops->create)
		return -EROFS;
	return fs->ops->create(fs, dir, name, *(const mode_t *)arg, ino);
}

static int mnt_make_dir(struct fsa_fs *fs, uint64_t dir, const char *name,
			const void *arg, uint64_t *ino)
{
	if (!fs->ops->mkdir)
		return -EROFS;
	return fs->ops->mkdir(fs, dir, name, *(const mode_t *)arg, ino);
}

static int mnt_make_symlink(struct fsa_fs *fs, uint64_t dir, const char *name,
			    const void *arg, uint64_t *ino)
{
	if (!fs->ops->symlink)
		return -EROFS;
	return fs->ops->symlink(fs, dir, name, arg, ino);
}

static int mnt_create(const char *path, mode_t mode,
		      struct fuse_file_info *fi)
{
	return mnt_make(path, mnt_make_file, &mode, fi);
}

/* Only regular files: the adapter makes no device, FIFO or socket. */
static int mnt_mknod(const char *path, mode_t mode, dev_t rdev)
{
	(void)rdev;
	if (!S_ISREG(mode))
		return -EOPNOTSUPP;
	return mnt_make(path, mnt_make_file, &mode, NULL);
}

static int mnt_mkdir(const char *path, mode_t mode)
{
	return mnt_make(path, mnt_make_dir, &mode, NULL);
}

static int mnt_symlink(const char *target, const char *path)
{
	return mnt_make(path, mnt_make_symlink, target, NULL);
}

/* unlink and rmdir: @op on @path's directory and name. */
static int mnt_remove(const char *path,
		      int (*op)(struct fsa_fs *, uint64_t, const char *))
{
	struct mnt_state *ms = mnt_state();
	struct mnt_name nm;
	int ret;

	if (!op)
		return -EROFS;
	mnt_lock(ms);
	ret = mnt_parent(ms, path, &nm);
	if (!ret)
		ret = op(ms->ctx->fs, nm.dir, nm.name);
	mnt_unlock(ms);
	return ret;
}

static int mnt_unlink(const char *path)
{
	return mnt_remove(path, mnt_state()->ctx->fs->ops->unlink);
}

static int mnt_rmdir(const char *path)
{
	return mnt_remove(path, mnt_state()->ctx->fs->ops->rmdir);
}

static int mnt_rename(const char *from, const char *to, unsigned int flags)
{
	struct mnt_state *ms = mnt_state();
	struct fsa_fs *fs = ms->ctx->fs;
	struct mnt_name *a = malloc(2 * sizeof(*a)), *b = a + 1;
	int ret = a ? 0 : -ENOMEM;

	if (!ret && !fs->ops->rename)
		ret = -EROFS;
	if (ret) {
		free(a);
		return ret;
	}
	mnt_lock(ms);
	ret = mnt_parent(ms, from, a);
	if (!ret)
		ret = mnt_parent(ms, to, b);
	if (!ret)
		ret = fs->ops->rename(fs, a->dir, a->name, b->dir, b->name,
				      flags);
	mnt_unlock(ms);
	free(a);
	return ret;
}

static int mnt_link(const char *from, const char *to)
{
	struct mnt_state *ms = mnt_state();
	struct fsa_fs *fs = ms->ctx->fs;
	struct mnt_name nm;
	uint64_t ino;
	int ret;

	if (!fs->ops->link)
		return -EROFS;
	mnt_lock(ms);
	ret = mnt_lookup(ms, from, &ino);
	if (!ret)
		ret = mnt_parent(ms, to, &nm);
	if (!ret)
		ret = fs->ops->link(fs, ino, nm.dir, nm.name);
	mnt_unlock(ms);
	return ret;
}

/* chmod, chown, utimens: @edit changes the attributes, ctime is now. */
typedef void (*mnt_edit_fn)(struct fsa_stat *st, const void *arg);

static int mnt_setattr(const char *path, struct fuse_file_info *fi,
		       mnt_edit_fn edit, const void *arg)
{
	struct mnt_state *ms = mnt_state();
	struct fsa_fs *fs = ms->ctx->fs;
	struct fsa_stat st;
	uint64_t ino;
	int ret;

	if (!fs->ops->setattr)
		return -EROFS;
	mnt_lock(ms);
	ret = mnt_ino(ms, path, fi, &ino);
	if (!ret)
		ret = fs->ops->stat(fs, ino, &st);
	if (!ret) {
		edit(&st, arg);
		clock_gettime(CLOCK_REALTIME, &st.ctime);
		ret = fs->ops->setattr(fs, ino, &st);
	}
	mnt_unlock(ms);
	return ret;
}

static void mnt_edit_mode(struct fsa_stat *st, const void *arg)
{
	st->mode = (st->mode & S_IFMT) | (*(const mode_t *)arg & 07777);
}

static int mnt_chmod(const char *path, mode_t mode, struct fuse_file_info *fi)
{
	return mnt_setattr(path, fi, mnt_edit_mode, &mode);
}

static void mnt_edit_owner(struct fsa_stat *st, const void *arg)
{
	const uid_t *ids = arg;

	if (ids[0] != (uid_t)-1)
		st->uid = ids[0];
	if (ids[1] != (uid_t)-1)
		st->gid = ids[1];
}

static int mnt_chown(const char *path, uid_t uid, gid_t gid,
		     struct fuse_file_info *fi)
{
	const uid_t ids[2] = { uid, (uid_t)gid };

	return mnt_setattr(path, fi, mnt_edit_owner, ids);
}

static struct timespec mnt_time(struct timespec old, struct timespec ts)
{
	if (ts.tv_nsec == UTIME_OMIT)
		return old;
	if (ts.tv_nsec == UTIME_NOW)
		clock_gettime(CLOCK_REALTIME, &ts);
	return ts;
}

static void mnt_edit_times(struct fsa_stat *st, const void *arg)
{
	const struct timespec *tv = arg;

	st->atime = mnt_time(st->atime, tv[0]);
	st->mtime = mnt_time(st->mtime, tv[1]);
}

static int mnt_utimens(const char *path, const struct timespec tv[2],
		       struct fuse_file_info *fi)
{
	return mnt_setattr(path, fi, mnt_edit_times, tv);
}

static int mnt_truncate_op(const char *path, off_t size,
			   struct fuse_file_info *fi)
{
	struct mnt_state *ms = mnt_state();
	uint64_t ino;
	int ret;

	if (ms->ro)
		return -EROFS;
	mnt_lock(ms);
	ret = mnt_ino(ms, path, fi, &ino);
	if (!ret)
		ret = mnt_truncate(ms, ino, size);
	mnt_unlock(ms);
	return ret;
}

int mnt_open(const char *path, struct fuse_file_info *fi)
{
	struct mnt_state *ms = mnt_state();
	uint64_t ino;
	int ret;

	if (ms->ro && (fi->flags & O_ACCMODE) != O_RDONLY)
		return -EROFS;
	mnt_lock(ms);
	ret = mnt_lookup(ms, path, &ino);
	if (!ret)
		ret = mnt_open_file(ms, ino, fi);
	mnt_unlock(ms);
	return ret;
}

static int mnt_statfs(const char *path, struct statvfs *sv)
{
	struct mnt_state *ms = mnt_state();
	struct fsa_info info;
	int ret;

	(void)path;
	mnt_lock(ms);
	ret = ms->ctx->fs->ops->info(ms->ctx->fs, &info);
	mnt_unlock(ms);
	if (ret)
		return ret;
	memset(sv, 0, sizeof(*sv));
	sv->f_bsize = info.block_size;
	sv->f_frsize = info.block_size;
	sv->f_blocks = info.block_count;
	sv->f_bfree = info.free_blocks;
	sv->f_bavail = info.free_blocks;
	sv->f_files = info.inode_count;
	sv->f_ffree = info.free_inodes;
	sv->f_favail = info.free_inodes;
	sv->f_namemax = 255;
	return 0;
}

struct mnt_fill {
	void *buf;
	fuse_fill_dir_t filler;
};

static int mnt_fill_one(const struct fsa_dirent *de, void *priv)
{
	struct mnt_fill *fill = priv;
	struct stat st = { .st_ino = de->ino, .st_mode = DTTOIF(de->type) };

	return fill->filler(fill->buf, de->name, &st, 0, 0) ? -ENOBUFS : 0;
}

static int mnt_readdir(const char *path, void *buf, fuse_fill_dir_t filler,
		       off_t off, struct fuse_file_info *fi,
		       enum fuse_readdir_flags flags)
{
	struct mnt_state *ms = mnt_state();
	struct mnt_fill fill = { buf, filler };
	uint64_t ino;
	int ret;

	(void)off;
	(void)fi;
	(void)flags;
	mnt_lock(ms);
	ret = mnt_lookup(ms, path, &ino);
	if (!ret)
		ret = ms->ctx->fs->ops->readdir(ms->ctx->fs, ino, mnt_fill_one,
						&fill);
	mnt_unlock(ms);
	return ret == -ENOBUFS ? 0 : ret;
}

static int mnt_fsyncdir(const char *path, int datasync,
			struct fuse_file_info *fi)
{
	struct mnt_state *ms = mnt_state();
	int ret;

	(void)path;
	(void)datasync;
	(void)fi;
	mnt_lock(ms);
	ret = mnt_sync_all(ms);
	mnt_unlock(ms);
	return ret;
}

static int mnt_setxattr(const char *path, const char *name, const char *value,
			size_t size, int flags)
{
	struct mnt_state *ms = mnt_state();
	struct fsa_fs *fs = ms->ctx->fs;
	uint64_t ino;
	int ret;

	if (!fs->ops->setxattr || !fs->ops->getxattr)
		return -EOPNOTSUPP;
	mnt_lock(ms);
	ret = mnt_lookup(ms, path, &ino);
	if (!ret && flags) {
		int len = fs->ops->getxattr(fs, ino, name, NULL, 0);

		if (len >= 0 && (flags & XATTR_CREATE))
			ret = -EEXIST;
		else if (len == -ENODATA && (flags & XATTR_REPLACE))
			ret = -ENODATA;
		else if (len < 0 && len != -ENODATA)
			ret = len;
	}
	if (!ret)
		ret = fs->ops->setxattr(fs, ino, name, value, size);
	mnt_unlock(ms);
	return ret;
}

static int mnt_getxattr(const char *path, const char *name, char *value,
			size_t size)
{
	struct mnt_state *ms = mnt_state();
	struct fsa_fs *fs = ms->ctx->fs;
	uint64_t ino;
	int ret;

	if (!fs->ops->getxattr)
		return -ENODATA;
	mnt_lock(ms);
	ret = mnt_lookup(ms, path, &ino);
	if (!ret)
		ret = fs->ops->getxattr(fs, ino, name, size ? value : NULL,
					size);
	mnt_unlock(ms);
	return ret;
}

struct mnt_names {
	char *buf;
	size_t size, len;
};

static int mnt_name_one(const char *name, const void *value, size_t len,
			void *priv)
{
	struct mnt_names *nl = priv;
	size_t n = strlen(name) + 1;

	(void)value;
	(void)len;
	if (nl->size && nl->len + n > nl->size)
		return -ERANGE;
	if (nl->size)
		memcpy(nl->buf + nl->len, name, n);
	nl->len += n;
	return 0;
}

static int mnt_listxattr(const char *path, char *list, size_t size)
{
	struct mnt_state *ms = mnt_state();
	struct fsa_fs *fs = ms->ctx->fs;
	struct mnt_names nl = { list, size, 0 };
	uint64_t ino;
	int ret;

	if (!fs->ops->listxattr)
		return 0;
	mnt_lock(ms);
	ret = mnt_lookup(ms, path, &ino);
	if (!ret)
		ret = fs->ops->listxattr(fs, ino, mnt_name_one, &nl);
	mnt_unlock(ms);
	return ret ? ret : (int)nl.len;
}

static int mnt_removexattr(const char *path, const char *name)
{
	struct mnt_state *ms = mnt_state();
	struct fsa_fs *fs = ms->ctx->fs;
	uint64_t ino;
	int ret;

	if (!fs->ops->removexattr)
		return -EOPNOTSUPP;
	mnt_lock(ms);
	ret = mnt_lookup(ms, path, &ino);
	if (!ret)
		ret = fs->ops->removexattr(fs, ino, name);
	mnt_unlock(ms);
	return ret;
}

/* Largest request the kernel sends: 1 MiB writes and direct reads. */
#define MNT_MAX_IO (1U << 20)

static void *mnt_init(struct fuse_conn_info *conn, struct fuse_config *cfg)
{
	/* Our inode numbers, so `ls -i`, FIEMAP users and hard links see
	 * the image's. */
	cfg->use_ino = 1;
	cfg->readdir_ino = 1;
	conn->max_write = MNT_MAX_IO;
	return fuse_get_context()->private_data;
}

const struct fuse_operations mnt_fuse_ops = {
	.init = mnt_init,
	.getattr = mnt_getattr,
	.readlink = mnt_readlink,
	.mknod = mnt_mknod,
	.mkdir = mnt_mkdir,
	.unlink = mnt_unlink,
	.rmdir = mnt_rmdir,
	.symlink = mnt_symlink,
	.rename = mnt_rename,
	.link = mnt_link,
	.chmod = mnt_chmod,
	.chown = mnt_chown,
	.truncate = mnt_truncate_op,
	.utimens = mnt_utimens,
	.open = mnt_open,
	.create = mnt_create,
	.read = mnt_read,
	.read_buf = mnt_read_buf,
	.write = mnt_write,
	.statfs = mnt_statfs,
	.release = mnt_release,
	.fsync = mnt_fsync,
	.fsyncdir = mnt_fsyncdir,
	.setxattr = mnt_setxattr,
	.getxattr = mnt_getxattr,
	.listxattr = mnt_listxattr,
	.removexattr = mnt_removexattr,
	.readdir = mnt_readdir,
	.fallocate = mnt_fallocate,
	.lseek = mnt_lseek,
	.ioctl = mnt_ioctl,
};
