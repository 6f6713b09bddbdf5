// SPDX-License-Identifier: GPL-2.0
/* dir.c - changing the namespace of iomapfs: create, mkdir, symlink, link,
 * unlink, rmdir, rename, and setattr. */
#include <dirent.h>
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "native.h"

/* The most links one inode takes (as ext4's EXT4_LINK_MAX). */
#define NATIVE_LINK_MAX 65000U

/* A name a directory can hold: -EINVAL, -ENAMETOOLONG, -EEXIST for "."
 * and "..", or 0. */
static int check_name(const char *name)
{
	size_t len = strlen(name);

	if (!len || strchr(name, '/'))
		return -EINVAL;
	if (len > FSA_NATIVE_NAME_MAX)
		return -ENAMETOOLONG;
	if (!strcmp(name, ".") || !strcmp(name, ".."))
		return -EEXIST;
	return 0;
}

/* Directory @dir, writable, read into @in. */
static int dir_get(struct fsa_native_fs *nfs, uint64_t dir,
		   struct fsa_native_inode *in)
{
	int ret = fsa_native_writable(nfs);

	if (!ret)
		ret = fsa_native_iread(nfs, dir, in);
	if (!ret && !S_ISDIR(in->mode))
		ret = -ENOTDIR;
	return ret;
}

static uint8_t dtype(uint32_t mode)
{
	switch (mode & S_IFMT) {
	case S_IFDIR:
		return DT_DIR;
	case S_IFLNK:
		return DT_LNK;
	case S_IFREG:
		return DT_REG;
	default:
		return DT_UNKNOWN;
	}
}

/* Adds entry @name -> @ino to @dir, with the first free collision seq. */
int fsa_native_dir_add(struct fsa_native_fs *nfs, uint64_t dir,
		       const char *name, uint64_t ino, uint32_t mode)
{
	size_t len = strlen(name);
	uint64_t hash = fsa_native_name_hash(dir, name, len), seq = 0;
	struct fsa_native_key k = { { dir, hash << 32 } };
	struct fsa_native_dirent de;
	struct fsa_native_cursor c;
	int ret;

	for (ret = fsa_native_bt_seek(&c, nfs, FSA_NATIVE_T_DIRENTS, &k);
	     ret == 1; ret = fsa_native_bt_next(&c)) {
		ret = fsa_native_bt_get(&c, &k, &de);
		if (ret)
			return ret;
		if (k.w[0] != dir || k.w[1] >> 32 != hash)
			break;
		if (de.name_len == len && !memcmp(de.name, name, len))
			return -EEXIST;
		if ((k.w[1] & 0xffffffffU) != seq)
			break;
		seq++;
	}
	if (ret < 0)
		return ret;
	if (seq > 0xffffffffU)
		return -ENOSPC;
	memset(&de, 0, sizeof(de));
	de.ino = ino;
	de.type = dtype(mode);
	de.name_len = (uint8_t)len;
	memcpy(de.name, name, len);
	k = (struct fsa_native_key){ { dir, hash << 32 | seq } };
	return fsa_native_bt_insert(nfs, FSA_NATIVE_T_DIRENTS, &k, &de);
}

static int dir_touch(struct fsa_native_fs *nfs, uint64_t dir, int nlink_delta)
{
	struct fsa_native_inode in;
	int ret = fsa_native_iread(nfs, dir, &in);

	if (ret)
		return ret;
	in.nlink = (uint32_t)((int64_t)in.nlink + nlink_delta);
	fsa_native_touch(&in);
	return fsa_native_iwrite(nfs, dir, &in);
}

/* A new inode numbered from next_ino, linked as @name in @dir. */
static int new_inode(struct fsa_native_fs *nfs, uint64_t dir, const char *name,
		     uint32_t mode, uint64_t *inop)
{
	struct fsa_native_inode din, in = {
		.mode = mode,
		.nlink = S_ISDIR(mode) ? 2 : 1,
		.parent = S_ISDIR(mode) ? dir : 0,
		.generation = nfs->sb.hdr.generation + 1,
	};
	uint64_t ino = nfs->sb.next_ino;
	int ret = dir_get(nfs, dir, &din);

	if (!ret)
		ret = check_name(name);
	if (!ret && ino == UINT64_MAX)
		ret = -ENOSPC;
	if (!ret && S_ISDIR(mode) && din.nlink >= NATIVE_LINK_MAX)
		ret = -EMLINK;
	if (ret)
		return ret;
	fsa_native_now(&in.times[0]);
	for (int i = 1; i < 4; i++)
		in.times[i] = in.times[0];
	/* The name first: it fails on -EEXIST before anything changed. */
	ret = fsa_native_dir_add(nfs, dir, name, ino, mode);
	if (!ret)
		ret = fsa_native_bt_insert(
			nfs, FSA_NATIVE_T_INODES,
			&(struct fsa_native_key){ { ino, 0 } }, &in);
	if (!ret)
		ret = dir_touch(nfs, dir, S_ISDIR(mode) ? 1 : 0);
	if (ret)
		return ret;
	nfs->sb.next_ino++;
	nfs->sb.inode_count++;
	*inop = ino;
	return 0;
}

int fsa_native_create(struct fsa_fs *fs, uint64_t dir, const char *name,
		      uint32_t mode, uint64_t *ino)
{
	struct fsa_native_fs *nfs = NATIVE_FS(fs);
	int ret = new_inode(nfs, dir, name, S_IFREG | (mode & 07777), ino);

	return ret ? ret : fsa_native_commit_if_full(nfs);
}

int fsa_native_mkdir(struct fsa_fs *fs, uint64_t dir, const char *name,
		     uint32_t mode, uint64_t *ino)
{
	struct fsa_native_fs *nfs = NATIVE_FS(fs);
	int ret = new_inode(nfs, dir, name, S_IFDIR | (mode & 07777), ino);

	return ret ? ret : fsa_native_commit_if_full(nfs);
}

/* The target is the file's data: whole written blocks, zero-padded. */
int fsa_native_symlink(struct fsa_fs *fs, uint64_t dir, const char *name,
		       const char *target, uint64_t *ino)
{
	struct fsa_native_fs *nfs = NATIVE_FS(fs);
	size_t len = strlen(target);
	uint64_t bs = nfs->block_size, nblk = (len + bs - 1) / bs, start;
	struct fsa_native_inode in;
	int64_t n;
	int ret;

	if (!len)
		return -ENOENT;
	if (len >= 4096)
		return -ENAMETOOLONG;
	/* The target first: what fails here leaves no half-made link. */
	n = fsa_native_alloc(nfs, nfs->alloc_hint, nblk, &start);
	if (n >= 0 && (uint64_t)n < nblk) {
		fsa_native_free(nfs, start, (uint64_t)n);
		n = -ENOSPC;
	}
	if (n < 0)
		return (int)n;
	ret = fsa_native_zero_disk(nfs, start * bs, nblk * bs);
	if (!ret)
		ret = fsa_native_pwrite(nfs, target, len, start * bs);
	if (!ret)
		ret = new_inode(nfs, dir, name, S_IFLNK | 0777, ino);
	if (ret) {
		fsa_native_free(nfs, start, nblk);
		return ret;
	}
	ret = fsa_native_ext_add(nfs, *ino, 0, start, nblk, 0);
	if (!ret)
		ret = fsa_native_iread(nfs, *ino, &in);
	if (ret)
		return ret;
	in.size = len;
	in.blocks = nblk;
	ret = fsa_native_iwrite(nfs, *ino, &in);
	return ret ? ret : fsa_native_commit_if_full(nfs);
}

/* The inode has no name left: its blocks, xattrs and record go. */
static int release(struct fsa_native_fs *nfs, uint64_t ino)
{
	struct fsa_native_key k = { { ino, 0 } };
	int64_t n = fsa_native_ext_remove(nfs, ino, 0, UINT64_MAX,
					  FSA_NATIVE_UNMAP_FREE);
	int ret = n < 0 ? (int)n : fsa_native_xattr_drop_all(nfs, ino);

	/* An open file's delayed blocks have nowhere to go. */
	if (!ret && fsa_native_da_release(nfs, ino, 0, UINT64_MAX, NULL) < 0)
		ret = -ENOMEM;
	if (!ret)
		ret = fsa_native_inline_drop(nfs, ino);

	if (!ret)
		ret = fsa_native_bt_delete(nfs, FSA_NATIVE_T_INODES, &k);
	if (!ret)
		nfs->sb.inode_count--;
	return ret;
}

/* One link of @ino fewer (@in as read); the last one releases it. */
static int drop_link(struct fsa_native_fs *nfs, uint64_t ino,
		     struct fsa_native_inode *in)
{
	if (S_ISDIR(in->mode) || in->nlink <= 1)
		return release(nfs, ino);
	in->nlink--;
	fsa_native_now(&in->times[FSA_NATIVE_CTIME]);
	return fsa_native_iwrite(nfs, ino, in);
}

static int dir_is_empty(struct fsa_native_fs *nfs, uint64_t dir)
{
	struct fsa_native_key k = { { dir, 0 } };
	struct fsa_native_cursor c;
	int ret = fsa_native_bt_seek(&c, nfs, FSA_NATIVE_T_DIRENTS, &k);

	if (ret <= 0)
		return ret < 0 ? ret : 1;
	ret = fsa_native_bt_get(&c, &k, NULL);
	if (ret)
		return ret;
	return k.w[0] != dir;
}

/* Entry @name of @dir and its inode. */
static int entry_get(struct fsa_native_fs *nfs, uint64_t dir, const char *name,
		     struct fsa_native_key *key, struct fsa_native_dirent *de,
		     struct fsa_native_inode *in)
{
	struct fsa_native_inode din;
	int ret = dir_get(nfs, dir, &din);

	if (!ret)
		ret = fsa_native_dir_find(nfs, dir, name, strlen(name), de,
					  key);
	if (!ret)
		ret = fsa_native_iread(nfs, de->ino, in);
	return ret;
}

int fsa_native_unlink(struct fsa_fs *fs, uint64_t dir, const char *name)
{
	struct fsa_native_fs *nfs = NATIVE_FS(fs);
	struct fsa_native_dirent de;
	struct fsa_native_inode in;
	struct fsa_native_key k;
	int ret = entry_get(nfs, dir, name, &k, &de, &in);

	if (!ret && S_ISDIR(in.mode))
		ret = -EISDIR;
	if (!ret)
		ret = fsa_native_bt_delete(nfs, FSA_NATIVE_T_DIRENTS, &k);
	if (!ret)
		ret = drop_link(nfs, de.ino, &in);
	if (!ret)
		ret = dir_touch(nfs, dir, 0);
	return ret ? ret : fsa_native_commit_if_full(nfs);
}

int fsa_native_rmdir(struct fsa_fs *fs, uint64_t dir, const char *name)
{
	struct fsa_native_fs *nfs = NATIVE_FS(fs);
	struct fsa_native_dirent de;
	struct fsa_native_inode in;
	struct fsa_native_key k;
	int ret;

	if (!strcmp(name, "."))
		return -EINVAL;
	if (!strcmp(name, ".."))
		return -ENOTEMPTY;
	ret = entry_get(nfs, dir, name, &k, &de, &in);
	if (!ret && !S_ISDIR(in.mode))
		ret = -ENOTDIR;
	if (!ret)
		ret = dir_is_empty(nfs, de.ino);
	if (ret == 0)
		return -ENOTEMPTY;
	if (ret < 0)
		return ret;
	ret = fsa_native_bt_delete(nfs, FSA_NATIVE_T_DIRENTS, &k);
	if (!ret)
		ret = release(nfs, de.ino);
	if (!ret)
		ret = dir_touch(nfs, dir, -1);
	return ret ? ret : fsa_native_commit_if_full(nfs);
}

int fsa_native_link(struct fsa_fs *fs, uint64_t ino, uint64_t dir,
		    const char *name)
{
	struct fsa_native_fs *nfs = NATIVE_FS(fs);
	struct fsa_native_inode din, in;
	int ret = dir_get(nfs, dir, &din);

	if (!ret)
		ret = check_name(name);
	if (!ret)
		ret = fsa_native_iread(nfs, ino, &in);
	if (!ret && S_ISDIR(in.mode))
		ret = -EPERM;
	if (!ret && in.nlink >= NATIVE_LINK_MAX)
		ret = -EMLINK;
	if (!ret)
		ret = fsa_native_dir_add(nfs, dir, name, ino, in.mode);
	if (ret)
		return ret;
	in.nlink++;
	fsa_native_now(&in.times[FSA_NATIVE_CTIME]);
	ret = fsa_native_iwrite(nfs, ino, &in);
	if (!ret)
		ret = dir_touch(nfs, dir, 0);
	return ret ? ret : fsa_native_commit_if_full(nfs);
}

/* Is @anc @dir or one of its ancestors?  (A loop is damage.) */
static int is_ancestor(struct fsa_native_fs *nfs, uint64_t anc, uint64_t dir)
{
	for (int depth = 0; depth < 1 << 16; depth++) {
		struct fsa_native_inode in;
		int ret;

		if (dir == anc)
			return 1;
		if (dir == FSA_NATIVE_ROOT_INO)
			return 0;
		ret = fsa_native_iread(nfs, dir, &in);
		if (ret)
			return ret;
		dir = in.parent;
	}
	return -EFSCORRUPTED;
}

/* Checks rename(2)'s rules for replacing @nin (entry @nde) by @oin. */
static int check_replace(struct fsa_native_fs *nfs,
			 const struct fsa_native_inode *oin,
			 const struct fsa_native_dirent *nde,
			 const struct fsa_native_inode *nin)
{
	if (S_ISDIR(oin->mode) && !S_ISDIR(nin->mode))
		return -ENOTDIR;
	if (!S_ISDIR(oin->mode) && S_ISDIR(nin->mode))
		return -EISDIR;
	if (S_ISDIR(nin->mode)) {
		int ret = dir_is_empty(nfs, nde->ino);

		return ret < 0 ? ret : ret ? 0 : -ENOTEMPTY;
	}
	return 0;
}

int fsa_native_rename(struct fsa_fs *fs, uint64_t olddir, const char *oldname,
		      uint64_t newdir, const char *newname, unsigned int flags)
{
	struct fsa_native_fs *nfs = NATIVE_FS(fs);
	struct fsa_native_dirent ode, nde;
	struct fsa_native_inode oin, nin, din;
	struct fsa_native_key ok, nk;
	bool moved_dir;
	int ret;

	if (flags & ~FSA_RENAME_NOREPLACE)
		return -EINVAL;
	ret = entry_get(nfs, olddir, oldname, &ok, &ode, &oin);
	if (!ret)
		ret = dir_get(nfs, newdir, &din);
	if (!ret)
		ret = check_name(newname);
	if (ret)
		return ret;
	moved_dir = S_ISDIR(oin.mode) && olddir != newdir;
	if (S_ISDIR(oin.mode)) {
		ret = is_ancestor(nfs, ode.ino, newdir);
		if (ret)
			return ret < 0 ? ret : -EINVAL;
	}
	ret = entry_get(nfs, newdir, newname, &nk, &nde, &nin);
	if (ret == 0) {
		if (flags & FSA_RENAME_NOREPLACE)
			return -EEXIST;
		if (nde.ino == ode.ino)
			return 0;
		ret = check_replace(nfs, &oin, &nde, &nin);
		if (!ret)
			ret = fsa_native_bt_delete(nfs, FSA_NATIVE_T_DIRENTS,
						   &nk);
		if (!ret)
			ret = drop_link(nfs, nde.ino, &nin);
		if (!ret && S_ISDIR(nin.mode))
			ret = dir_touch(nfs, newdir, -1);
	} else if (ret == -ENOENT) {
		ret = 0;
	}
	if (!ret)
		ret = fsa_native_bt_delete(nfs, FSA_NATIVE_T_DIRENTS, &ok);
	if (!ret)
		ret = fsa_native_dir_add(nfs, newdir, newname, ode.ino,
					 oin.mode);
	if (!ret && moved_dir) {
		oin.parent = newdir;
		ret = fsa_native_iwrite(nfs, ode.ino, &oin);
	}
	if (!ret)
		ret = dir_touch(nfs, olddir, moved_dir ? -1 : 0);
	if (!ret && newdir != olddir)
		ret = dir_touch(nfs, newdir, moved_dir ? 1 : 0);
	return ret ? ret : fsa_native_commit_if_full(nfs);
}

static void set_time(struct fsa_native_time *t, struct timespec ts)
{
	t->sec = ts.tv_sec;
	t->nsec = (uint32_t)ts.tv_nsec;
	t->reserved = 0;
}

int fsa_native_setattr(struct fsa_fs *fs, uint64_t ino,
		       const struct fsa_stat *st)
{
	struct fsa_native_fs *nfs = NATIVE_FS(fs);
	struct fsa_native_inode in;
	int ret = fsa_native_writable(nfs);

	if (!ret)
		ret = fsa_native_iread(nfs, ino, &in);
	if (ret)
		return ret;
	in.mode = (in.mode & S_IFMT) | (st->mode & 07777);
	in.uid = st->uid;
	in.gid = st->gid;
	set_time(&in.times[FSA_NATIVE_ATIME], st->atime);
	set_time(&in.times[FSA_NATIVE_MTIME], st->mtime);
	set_time(&in.times[FSA_NATIVE_CTIME], st->ctime);
	if (st->crtime.tv_sec || st->crtime.tv_nsec)
		set_time(&in.times[FSA_NATIVE_CRTIME], st->crtime);
	ret = fsa_native_iwrite(nfs, ino, &in);
	return ret ? ret : fsa_native_commit_if_full(nfs);
}
