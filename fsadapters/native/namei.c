// SPDX-License-Identifier: GPL-2.0
/* namei.c - inodes, directory entries and the path walk of iomapfs. */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "native.h"


static struct fsa_native_key ikey(uint64_t ino)
{
	return (struct fsa_native_key){ { ino, 0 } };
}

int fsa_native_iread(struct fsa_native_fs *nfs, uint64_t ino,
		     struct fsa_native_inode *in)
{
	struct fsa_native_key k = ikey(ino);

	if (ino == 0)
		return -ENOENT;
	return fsa_native_bt_lookup(nfs, FSA_NATIVE_T_INODES, &k, in);
}

int fsa_native_iwrite(struct fsa_native_fs *nfs, uint64_t ino,
		      const struct fsa_native_inode *in)
{
	struct fsa_native_key k = ikey(ino);
	int ret = fsa_native_bt_update(nfs, FSA_NATIVE_T_INODES, &k, in);

	if (ret == -ENOENT)
		ret = fsa_native_bt_insert(nfs, FSA_NATIVE_T_INODES, &k, in);
	return ret;
}

void fsa_native_now(struct fsa_native_time *t)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	t->sec = ts.tv_sec;
	t->nsec = (uint32_t)ts.tv_nsec;
	t->reserved = 0;
}

uint32_t fsa_native_name_hash(uint64_t ino, const char *name, size_t len)
{
	return fsa_native_crc32c((uint32_t)ino, name, len);
}

int fsa_native_dir_find(struct fsa_native_fs *nfs, uint64_t dir,
			const char *name, size_t len,
			struct fsa_native_dirent *de,
			struct fsa_native_key *key)
{
	uint64_t hash = fsa_native_name_hash(dir, name, len);
	struct fsa_native_key k = { { dir, hash << 32 } };
	struct fsa_native_cursor c;
	int ret = fsa_native_bt_seek(&c, nfs, FSA_NATIVE_T_DIRENTS, &k);

	for (; ret == 1; ret = fsa_native_bt_next(&c)) {
		ret = fsa_native_bt_get(&c, &k, de);
		if (ret)
			return ret;
		if (k.w[0] != dir || k.w[1] >> 32 != hash)
			break;
		if (de->name_len == len && !memcmp(de->name, name, len)) {
			if (key)
				*key = k;
			return 0;
		}
	}
	return ret < 0 ? ret : -ENOENT;
}

/* Reads the first @len bytes of file @ino through its extents. */
static int read_small(struct fsa_native_fs *nfs, uint64_t ino, char *buf,
		      size_t len)
{
	const uint64_t bs = nfs->block_size;

	for (uint64_t off = 0; off < len;) {
		struct fsa_native_key k = { { ino, off / bs } };
		struct fsa_native_extent e;
		struct fsa_native_cursor c;
		uint64_t in_ext, n;
		int ret = fsa_native_bt_seek_le(&c, nfs, FSA_NATIVE_T_EXTENTS,
						&k);

		if (ret == 1)
			ret = fsa_native_bt_get(&c, &k, &e);
		else if (ret == 0)
			ret = -EFSCORRUPTED;
		if (ret)
			return ret;
		in_ext = off / bs - k.w[1];
		if (k.w[0] != ino || in_ext >= e.len) {
			memset(buf + off, 0,
			       bs - off % bs < len - off ? bs - off % bs :
							   len - off);
			off += bs - off % bs;
			continue;
		}
		n = (e.len - in_ext) * bs - off % bs;
		if (n > len - off)
			n = len - off;
		if (e.flags & FSA_NATIVE_EXT_UNWRITTEN)
			memset(buf + off, 0, n);
		else if ((ret = fsa_native_pread(nfs, buf + off, n,
						 (e.start + in_ext) * bs +
							 off % bs)))
			return ret;
		off += n;
	}
	return 0;
}

static int symlink_target(struct fsa_native_fs *nfs, uint64_t ino, char *buf,
			  size_t size)
{
	struct fsa_native_inode in;
	int ret = fsa_native_iread(nfs, ino, &in);

	if (ret)
		return ret;
	if (!S_ISLNK(in.mode))
		return -EINVAL;
	if (in.size == 0)
		return -ENOENT;
	if (in.size >= FSA_PATH_MAX)
		return -EFSCORRUPTED;
	if (in.size >= size)
		return -ENAMETOOLONG;
	ret = read_small(nfs, ino, buf, in.size);
	if (ret)
		return ret;
	buf[in.size] = '\0';
	return (int)in.size;
}

int fsa_native_readlink(struct fsa_fs *fs, uint64_t ino, char *buf, size_t size)
{
	int ret = symlink_target(NATIVE_FS(fs), ino, buf, size);

	return ret < 0 ? ret : 0;
}

/* fsa_lookup_one_fn: one component of a walk. */
static int lookup_one(struct fsa_fs *fs, uint64_t dir, const char *name,
		      size_t len, uint64_t *ino, uint32_t *mode)
{
	struct fsa_native_fs *nfs = NATIVE_FS(fs);
	struct fsa_native_dirent de;
	struct fsa_native_inode in;
	int ret = fsa_native_iread(nfs, dir, &in);

	if (ret)
		return ret;
	if (!S_ISDIR(in.mode))
		return -ENOTDIR;
	if (len > FSA_NATIVE_NAME_MAX)
		return -ENAMETOOLONG;
	if (len == 1 && name[0] == '.') {
		*ino = dir;
		*mode = in.mode;
		return 0;
	}
	if (len == 2 && name[0] == '.' && name[1] == '.') {
		*ino = in.parent;
	} else {
		ret = fsa_native_dir_find(nfs, dir, name, len, &de, NULL);
		if (ret)
			return ret;
		*ino = de.ino;
	}
	ret = fsa_native_iread(nfs, *ino, &in);
	*mode = in.mode;
	return ret;
}

int fsa_native_lookup(struct fsa_fs *fs, const char *path, uint64_t *ino)
{
	return fsa_walk(fs, FSA_NATIVE_ROOT_INO, lookup_one, path, true, ino);
}

int fsa_native_lookup_link(struct fsa_fs *fs, const char *path, uint64_t *ino)
{
	return fsa_walk(fs, FSA_NATIVE_ROOT_INO, lookup_one, path, false, ino);
}

static struct timespec ts_of(const struct fsa_native_time *t)
{
	return (struct timespec){ .tv_sec = t->sec,
				  .tv_nsec = t->nsec < 1000000000U ?
						     (long)t->nsec :
						     0 };
}

int fsa_native_stat(struct fsa_fs *fs, uint64_t ino, struct fsa_stat *st)
{
	struct fsa_native_inode in;
	int ret = fsa_native_iread(NATIVE_FS(fs), ino, &in);

	if (ret)
		return ret;
	memset(st, 0, sizeof(*st));
	st->ino = ino;
	st->mode = in.mode;
	st->nlink = in.nlink;
	st->uid = in.uid;
	st->gid = in.gid;
	st->size = (loff_t)(in.size > INT64_MAX ? INT64_MAX : in.size);
	/* As XFS and ext4 count delayed blocks: they are promised. */
	st->blocks = (in.blocks + fsa_native_da_blocks(NATIVE_FS(fs), ino))
		     << (fs->blkbits - 9);
	st->atime = ts_of(&in.times[FSA_NATIVE_ATIME]);
	st->mtime = ts_of(&in.times[FSA_NATIVE_MTIME]);
	st->ctime = ts_of(&in.times[FSA_NATIVE_CTIME]);
	st->crtime = ts_of(&in.times[FSA_NATIVE_CRTIME]);
	return 0;
}

static int emit(fsa_dirent_cb cb, void *priv, uint64_t ino, uint8_t type,
		const char *name, size_t len)
{
	struct fsa_dirent de = { .ino = ino, .type = type };

	memcpy(de.name, name, len);
	de.name[len] = '\0';
	return cb(&de, priv);
}

int fsa_native_readdir(struct fsa_fs *fs, uint64_t dir, fsa_dirent_cb cb,
		       void *priv)
{
	struct fsa_native_fs *nfs = NATIVE_FS(fs);
	struct fsa_native_key k = { { dir, 0 } };
	struct fsa_native_inode in;
	struct fsa_native_dirent de;
	struct fsa_native_cursor c;
	int ret = fsa_native_iread(nfs, dir, &in);

	if (ret)
		return ret;
	if (!S_ISDIR(in.mode))
		return -ENOTDIR;
	ret = emit(cb, priv, dir, DT_DIR, ".", 1);
	if (!ret)
		ret = emit(cb, priv, in.parent, DT_DIR, "..", 2);
	if (ret)
		return ret;
	for (ret = fsa_native_bt_seek(&c, nfs, FSA_NATIVE_T_DIRENTS, &k);
	     ret == 1; ret = fsa_native_bt_next(&c)) {
		ret = fsa_native_bt_get(&c, &k, &de);
		if (ret)
			return ret;
		if (k.w[0] != dir)
			break;
		if (!de.name_len || de.name_len > FSA_NATIVE_NAME_MAX) {
			fsa_native_report(nfs, c.blk[0],
					  "directory %llu: "
					  "entry with name length %u",
					  (unsigned long long)dir, de.name_len);
			return -EFSCORRUPTED;
		}
		ret = emit(cb, priv, de.ino, de.type, de.name, de.name_len);
		if (ret)
			return ret;
	}
	return ret < 0 ? ret : 0;
}
