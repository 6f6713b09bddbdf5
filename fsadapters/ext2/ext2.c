// SPDX-License-Identifier: GPL-2.0
/* ext2.c - the ext2/ext3/ext4 adapter: probing, opening, path lookup,
 * attributes and directories, through libext2fs. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <blkid/blkid.h>

#include "ext2.h"


/* libblkid's verdict: "ext2", "ext3", "ext4" (ext4dev counts as ext4). */
static int fsa_ext2_blkid_type(const char *path, char *type, size_t size)
{
	blkid_probe pr = blkid_new_probe_from_filename(path);
	const char *val = NULL;
	int ret = -ENODATA;

	if (!pr)
		return errno == ENOENT || errno == EACCES ? -errno : -ENODATA;
	blkid_probe_enable_superblocks(pr, 1);
	blkid_probe_set_superblocks_flags(pr, BLKID_SUBLKS_TYPE);
	if (blkid_do_safeprobe(pr) == 0 &&
	    blkid_probe_lookup_value(pr, "TYPE", &val, NULL) == 0) {
		if (!strcmp(val, "ext2") || !strcmp(val, "ext3") ||
		    !strcmp(val, "ext4")) {
			snprintf(type, size, "%s", val);
			ret = 0;
		} else if (!strcmp(val, "ext4dev")) {
			snprintf(type, size, "ext4");
			ret = 0;
		}
	}
	blkid_free_probe(pr);
	return ret;
}

static int fsa_ext2_probe(const char *path, struct fsa_info *info)
{
	struct fsa_fs *fs = NULL;
	char type[16];
	int ret = fsa_ext2_blkid_type(path, type, sizeof(type));

	if (ret)
		return ret;
	ret = fsa_ext2_ops.open(path, 0, NULL, &fs);
	if (ret)
		return ret;
	ret = fsa_ext2_ops.info(fs, info);
	fsa_ext2_ops.close(fs);
	return ret;
}

/* Inodes libext2fs keeps: more than a cp group looks through (CP_GROUP_SCAN). */
#define FSA_EXT2_ICACHE 96

static int fsa_ext2_open(const char *path, unsigned int flags,
			 struct iomap_stats *stats, struct fsa_fs **fsp)
{
	struct fsa_ext2_fs *efs = calloc(1, sizeof(*efs));
	int oflags = EXT2_FLAG_64BITS;
	errcode_t err;
	int ret;

	if (!efs)
		return -ENOMEM;
	ret = fsa_ext2_blkid_type(path, efs->type, sizeof(efs->type));
	if (ret)
		goto out_free;
	if (flags & FSA_OPEN_RDWR)
		oflags |= EXT2_FLAG_RW;
	fsa_ext2_errors_init();
	/* Metadata blocks go through the adapter's own bounded cache. */
	err = ext2fs_open2(path, NULL, oflags, 0, 0, fsa_ext2_bcache_io_manager,
			   &efs->fs);
	if (err) {
		ret = fsa_ext2_errno(err);
		goto out_free;
	}
	/*
	 * libext2fs keeps the last 4 inodes read; a tree walk stats each file
	 * of a group (cp_group.c) before it opens and copies them, and each
	 * miss copies an inode table block out of the block cache.  Room for
	 * a group: on failure the default stays, slower only.
	 */
	ext2fs_create_inode_cache(efs->fs, FSA_EXT2_ICACHE);
	efs->base.ops = &fsa_ext2_ops;
	efs->base.path = efs->fs->device_name;
	efs->base.blkbits =
		(unsigned int)(EXT2_BLOCK_SIZE_BITS(efs->fs->super));
	efs->base.rdwr = flags & FSA_OPEN_RDWR;
	efs->base.stats = stats ? stats : &efs->own_stats;
	if (efs->base.rdwr) {
		/*
		 * The engine reads and writes file data through its own
		 * descriptor: libext2fs keeps no write-back cache of its own
		 * (the bcache manager opens the unix one with IO_FLAG_NOCACHE,
		 * writes through, and forgets what the engine writes).
		 */
		ret = fsa_ext2_check_writable(efs);
		if (!ret)
			ret = fsa_ext2_errno(ext2fs_read_bitmaps(efs->fs));
		if (!ret)
			ret = fsa_ext2_check_counts(efs);
		if (ret)
			goto out_close;
	}
	*fsp = &efs->base;
	return 0;

out_close:
	ext2fs_free(efs->fs);
out_free:
	free(efs);
	return ret;
}

/*
 * Did this session change anything on disk?  libext2fs' close writes the
 * superblock (s_wtime, s_kbytes_written) and the group descriptors as
 * soon as the channel saw a write or the superblock was marked dirty:
 * a session that failed before writing, or only read, must leave the
 * image byte-identical.  Data the engine wrote through its own
 * descriptor needs no superblock update.
 */
static bool fsa_ext2_changed(ext2_filsys fs)
{
	io_stats stats = NULL;

	if (fs->flags &
	    (EXT2_FLAG_DIRTY | EXT2_FLAG_IB_DIRTY | EXT2_FLAG_BB_DIRTY))
		return true;
	if (!fs->io->manager->get_stats ||
	    fs->io->manager->get_stats(fs->io, &stats) || !stats)
		return true;
	return stats->bytes_written != 0;
}

static int fsa_ext2_close(struct fsa_fs *fs)
{
	struct fsa_ext2_fs *efs = EXT2_FS(fs);
	errcode_t lost;
	int ret = 0;

	if (!fs)
		return 0;
	lost = fsa_ext2_bcache_take_write_error(efs);
	/* A read-only handle is freed, never closed: closing may write. */
	if (fs->rdwr && fsa_ext2_changed(efs->fs))
		ret = fsa_ext2_errno(ext2fs_close2(efs->fs, 0));
	else
		ext2fs_free(efs->fs);
	if (ret && fs->rdwr)
		ext2fs_free(efs->fs);
	if (!ret && lost)
		ret = fsa_ext2_errno(lost);
	free(efs->meta);
	fsa_ext2_dirindex_free(efs);
	free(efs);
	return ret;
}

/* 16 bytes as 8-4-4-4-12 lower-case hex, as blkid prints a UUID. */
static void fsa_ext2_uuid(const uint8_t *u, char *buf, size_t size)
{
	snprintf(buf, size,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
		 "%02x%02x%02x%02x%02x%02x",
		 u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9],
		 u[10], u[11], u[12], u[13], u[14], u[15]);
}

static int fsa_ext2_info(struct fsa_fs *fs, struct fsa_info *info)
{
	struct fsa_ext2_fs *efs = EXT2_FS(fs);
	struct ext2_super_block *sb = efs->fs->super;

	memset(info, 0, sizeof(*info));
	snprintf(info->type, sizeof(info->type), "%s", efs->type);
	info->block_size = efs->fs->blocksize;
	info->block_count = ext2fs_blocks_count(sb);
	info->free_blocks = ext2fs_free_blocks_count(sb);
	info->inode_count = sb->s_inodes_count;
	info->free_inodes = sb->s_free_inodes_count;
	memcpy(info->label, sb->s_volume_name,
	       sizeof(sb->s_volume_name) < sizeof(info->label) - 1 ?
		       sizeof(sb->s_volume_name) :
		       sizeof(info->label) - 1);
	fsa_ext2_uuid(sb->s_uuid, info->uuid, sizeof(info->uuid));
	return 0;
}

/* Inode table read ahead at once, as ext4's inode_readahead_blks. */
#define FSA_EXT2_INODE_RA_BYTES (32U << 10)

/*
 * The inode table blocks from @ino's on, to the group's last inode in
 * use, read in one request when @ino's block is not cached: a tree walk
 * reads inodes in table order, and one small read per table block was
 * most of a walk's reads (four inodes a block on 1 KiB blocks).
 */
static void fsa_ext2_inode_readahead(struct fsa_ext2_fs *efs, ext2_ino_t ino)
{
	ext2_filsys fs = efs->fs;
	uint32_t ipg = fs->super->s_inodes_per_group;
	dgrp_t group = (ino - 1) / ipg;
	uint32_t index = (ino - 1) % ipg, used = ipg;
	uint32_t per_block = fs->blocksize / EXT2_INODE_SIZE(fs->super);
	blk64_t table = ext2fs_inode_table_loc(fs, group), first, count;

	if (ext2fs_has_group_desc_csum(fs) &&
	    ext2fs_bg_itable_unused(fs, group) < ipg)
		used = ipg - ext2fs_bg_itable_unused(fs, group);
	if (!table || !per_block || index >= used)
		return;
	first = index / per_block;
	count = (used + per_block - 1) / per_block - first;
	if (count > FSA_EXT2_INODE_RA_BYTES / fs->blocksize)
		count = FSA_EXT2_INODE_RA_BYTES / fs->blocksize;
	if (table + first + count > ext2fs_blocks_count(fs->super))
		return;
	io_channel_cache_readahead(fs->io, table + first, count);
}

int fsa_ext2_read_inode(struct fsa_ext2_fs *efs, ext2_ino_t ino,
			struct ext2_inode_large *inode)
{
	if (ino == 0 || ino > efs->fs->super->s_inodes_count)
		return -ENOENT;
	fsa_ext2_inode_readahead(efs, ino);
	memset(inode, 0, sizeof(*inode));
	return fsa_ext2_errno(ext2fs_read_inode_full(
		efs->fs, ino, (struct ext2_inode *)inode, sizeof(*inode)));
}

/*
 * The target of symlink @ino into @buf (NUL-terminated).  Fast symlinks
 * keep it in i_block, inline-data ones in the inode, slow ones in a block.
 */
static int fsa_ext2_symlink_target(struct fsa_ext2_fs *efs, ext2_ino_t ino,
				   char *buf, size_t size)
{
	struct ext2_inode_large inode;
	ext2_file_t file;
	unsigned int got = 0;
	uint64_t len;
	int ret = fsa_ext2_read_inode(efs, ino, &inode);

	if (ret)
		return ret;
	if (!LINUX_S_ISLNK(inode.i_mode))
		return -EINVAL;
	len = EXT2_I_SIZE(&inode);
	/* An empty target names nothing, as in the kernel's walk. */
	if (len == 0)
		return -ENOENT;
	if (len >= FSA_PATH_MAX)
		return -EFSCORRUPTED;
	if (len >= size)
		return -ENAMETOOLONG;
	if (ext2fs_is_fast_symlink((struct ext2_inode *)&inode)) {
		if (len >= sizeof(inode.i_block))
			return -EFSCORRUPTED;
		memcpy(buf, inode.i_block, len);
	} else {
		ret = fsa_ext2_errno(ext2fs_file_open2(
			efs->fs, ino, (struct ext2_inode *)&inode, 0, &file));
		if (ret)
			return ret;
		ret = fsa_ext2_errno(
			ext2fs_file_read(file, buf, (unsigned int)len, &got));
		ext2fs_file_close(file);
		if (ret)
			return ret;
		if (got != len)
			return -EFSCORRUPTED;
	}
	buf[len] = '\0';
	return (int)len;
}

static int fsa_ext2_readlink(struct fsa_fs *fs, uint64_t ino, char *buf,
			     size_t size)
{
	int ret;

	if (ino > UINT32_MAX)
		return -ENOENT;
	ret = fsa_ext2_symlink_target(EXT2_FS(fs), (ext2_ino_t)ino, buf, size);
	return ret < 0 ? ret : 0;
}

/* fsa_lookup_one_fn: one component of a walk. */
static int fsa_ext2_lookup_one(struct fsa_fs *fs, uint64_t dir,
			       const char *name, size_t len, uint64_t *ino,
			       uint32_t *mode)
{
	struct fsa_ext2_fs *efs = EXT2_FS(fs);
	struct ext2_inode_large inode;
	ext2_ino_t found;
	int ret = dir > UINT32_MAX ?
			  -ENOENT :
			  fsa_ext2_read_inode(efs, (ext2_ino_t)dir, &inode);

	if (ret)
		return ret;
	if (!LINUX_S_ISDIR(inode.i_mode))
		return -ENOTDIR;
	if (len > EXT2_NAME_LEN)
		return -ENAMETOOLONG;
	ret = fsa_ext2_errno(ext2fs_lookup(efs->fs, (ext2_ino_t)dir, name,
					   (int)len, NULL, &found));
	if (!ret)
		ret = fsa_ext2_read_inode(efs, found, &inode);
	if (ret)
		return ret;
	*ino = found;
	*mode = inode.i_mode;
	return 0;
}

static int fsa_ext2_lookup(struct fsa_fs *fs, const char *path, uint64_t *ino)
{
	return fsa_walk(fs, EXT2_ROOT_INO, fsa_ext2_lookup_one, path, true,
			ino);
}

static int fsa_ext2_lookup_link(struct fsa_fs *fs, const char *path,
				uint64_t *ino)
{
	return fsa_walk(fs, EXT2_ROOT_INO, fsa_ext2_lookup_one, path, false,
			ino);
}

/*
 * Seconds and nanoseconds of one timestamp: the extra word holds two epoch
 * bits (extending the 32-bit seconds) and 30 bits of nanoseconds, when the
 * inode is large enough to have it.
 */
static struct timespec fsa_ext2_time(const struct ext2_inode_large *inode,
				     uint32_t secs, const uint32_t *extra)
{
	struct timespec ts = { .tv_sec = (int32_t)secs };
	size_t end = (size_t)((const char *)(extra + 1) - (const char *)inode);

	if (extra &&
	    (size_t)EXT2_GOOD_OLD_INODE_SIZE + inode->i_extra_isize >= end) {
		ts.tv_sec += (int64_t)(*extra & 3) << 32;
		ts.tv_nsec = (long)(*extra >> 2);
		if (ts.tv_nsec >= 1000000000L)
			ts.tv_nsec = 0;
	}
	return ts;
}

static int fsa_ext2_stat(struct fsa_fs *fs, uint64_t ino, struct fsa_stat *st)
{
	struct fsa_ext2_fs *efs = EXT2_FS(fs);
	struct ext2_inode_large in;
	int ret;

	if (ino > UINT32_MAX)
		return -ENOENT;
	ret = fsa_ext2_read_inode(efs, (ext2_ino_t)ino, &in);
	if (ret)
		return ret;
	memset(st, 0, sizeof(*st));
	st->ino = ino;
	st->mode = in.i_mode;
	st->nlink = in.i_links_count;
	st->uid = inode_uid(in);
	st->gid = inode_gid(in);
	st->size = (loff_t)EXT2_I_SIZE(&in);
	st->blocks =
		ext2fs_get_stat_i_blocks(efs->fs, (struct ext2_inode *)&in);
	st->atime = fsa_ext2_time(&in, in.i_atime, &in.i_atime_extra);
	st->mtime = fsa_ext2_time(&in, in.i_mtime, &in.i_mtime_extra);
	st->ctime = fsa_ext2_time(&in, in.i_ctime, &in.i_ctime_extra);
	if ((size_t)EXT2_GOOD_OLD_INODE_SIZE + in.i_extra_isize >=
	    offsetof(struct ext2_inode_large, i_crtime_extra) + 4)
		st->crtime =
			fsa_ext2_time(&in, in.i_crtime, &in.i_crtime_extra);
	return 0;
}

struct fsa_ext2_readdir {
	struct fsa_ext2_fs *efs;
	fsa_dirent_cb cb;
	void *priv;
	int ret;
};

static int fsa_ext2_readdir_one(ext2_ino_t dir, int entry,
				struct ext2_dir_entry *dirent, int offset,
				int blocksize, char *buf, void *priv)
{
	static const uint8_t dt[EXT2_FT_MAX] = {
		[EXT2_FT_REG_FILE] = DT_REG, [EXT2_FT_DIR] = DT_DIR,
		[EXT2_FT_CHRDEV] = DT_CHR,   [EXT2_FT_BLKDEV] = DT_BLK,
		[EXT2_FT_FIFO] = DT_FIFO,    [EXT2_FT_SOCK] = DT_SOCK,
		[EXT2_FT_SYMLINK] = DT_LNK,
	};
	struct fsa_ext2_readdir *rd = priv;
	struct fsa_dirent de = { .ino = dirent->inode };
	int len = ext2fs_dirent_name_len(dirent);
	int ft = ext2fs_dirent_file_type(dirent);

	(void)dir;
	(void)entry;
	(void)offset;
	(void)blocksize;
	(void)buf;
	if (ext2fs_has_feature_filetype(rd->efs->fs->super) && ft < EXT2_FT_MAX)
		de.type = dt[ft];
	memcpy(de.name, dirent->name, (size_t)len);
	de.name[len] = '\0';
	rd->ret = rd->cb(&de, rd->priv);
	return rd->ret ? DIRENT_ABORT : 0;
}

static int fsa_ext2_readdir(struct fsa_fs *fs, uint64_t dir, fsa_dirent_cb cb,
			    void *priv)
{
	struct fsa_ext2_readdir rd = { EXT2_FS(fs), cb, priv, 0 };
	struct ext2_inode_large inode;
	errcode_t err;
	int ret;

	if (dir > UINT32_MAX)
		return -ENOENT;
	ret = fsa_ext2_read_inode(rd.efs, (ext2_ino_t)dir, &inode);
	if (ret)
		return ret;
	if (!LINUX_S_ISDIR(inode.i_mode))
		return -ENOTDIR;
	err = ext2fs_dir_iterate2(rd.efs->fs, (ext2_ino_t)dir, 0, NULL,
				  fsa_ext2_readdir_one, &rd);
	if (rd.ret)
		return rd.ret;
	return fsa_ext2_errno(err);
}

static int fsa_ext2_iget(struct fsa_fs *fs, uint64_t ino,
			 struct iomap_inode **inodep)
{
	struct fsa_ext2_fs *efs = EXT2_FS(fs);
	struct fsa_ext2_inode *ei;
	int ret;

	if (ino > UINT32_MAX)
		return -ENOENT;
	ei = calloc(1, sizeof(*ei));
	if (!ei)
		return -ENOMEM;
	ei->fs = efs;
	ei->ino = (ext2_ino_t)ino;
	ret = fsa_ext2_read_inode(efs, ei->ino, &ei->inode);
	if (ret)
		goto out_free;
	ei->vfs.ino = ino;
	ei->vfs.size = (loff_t)EXT2_I_SIZE(&ei->inode);
	if (ei->vfs.size < 0) {
		ret = -EFSCORRUPTED;
		goto out_free;
	}
	ei->vfs.blkbits = fs->blkbits;
	ei->vfs.stats = fs->stats;
	if (ei->inode.i_flags & EXT4_INLINE_DATA_FL) {
		ret = fsa_ext2_load_inline(ei);
		if (ret)
			goto out_free;
	}
	*inodep = &ei->vfs;
	return 0;

out_free:
	free(ei);
	return ret;
}

static void fsa_ext2_iput(struct iomap_inode *inode)
{
	struct fsa_ext2_inode *ei = EXT2_I(inode);

	if (!inode)
		return;
	/* Paths that grow the file after ->iomap_end (DAX) leave the new
	 * size only in the engine's inode: persist it. */
	if (ei->fs->base.rdwr &&
	    fsa_ext2_read_inode(ei->fs, ei->ino, &ei->inode) == 0 &&
	    inode->size > (loff_t)EXT2_I_SIZE(&ei->inode) &&
	    ext2fs_inode_size_set(ei->fs->fs, (struct ext2_inode *)&ei->inode,
				  (ext2_off64_t)inode->size) == 0)
		fsa_ext2_write_inode(ei);
	/* The bh path has no write_end: give back what a failed write
	 * allocated past the final size. */
	if (ei->new_past_eof && ei->fs->base.rdwr &&
	    fsa_ext2_read_inode(ei->fs, ei->ino, &ei->inode) == 0)
		fsa_ext2_trim_eof(ei);
	fsa_ext2_cursor_reset(ei);
	free(ei->inline_buf);
	free(ei->raw_inode);
	free(ei);
}

static int fsa_ext2_sync(struct fsa_fs *fs)
{
	struct fsa_ext2_fs *efs = EXT2_FS(fs);
	errcode_t lost;
	int ret = 0;

	if (!fs->rdwr)
		return 0;
	if (fsa_ext2_changed(efs->fs))
		ret = fsa_ext2_errno(ext2fs_flush(efs->fs));
	/* A write libext2fs did not check failed: say so, at last. */
	lost = fsa_ext2_bcache_take_write_error(efs);
	return ret ? ret : lost ? fsa_ext2_errno(lost) : 0;
}

const struct fsa_ops fsa_ext2_ops = {
	.name = "ext2",
	.probe = fsa_ext2_probe,
	.open = fsa_ext2_open,
	.close = fsa_ext2_close,
	.info = fsa_ext2_info,
	.lookup = fsa_ext2_lookup,
	.stat = fsa_ext2_stat,
	.readdir = fsa_ext2_readdir,
	.readlink = fsa_ext2_readlink,
	.iget = fsa_ext2_iget,
	.iput = fsa_ext2_iput,
	.create = fsa_ext2_create,
	.mkdir = fsa_ext2_mkdir,
	.setattr = fsa_ext2_setattr,
	.setsize = fsa_ext2_setsize,
	.falloc = fsa_ext2_falloc,
	.punch = fsa_ext2_punch,
	.sync = fsa_ext2_sync,
	.iomap = &fsa_ext2_iomap_opset,
	.caps = FSA_CAP_WRITE | FSA_CAP_UNWRITTEN,
	.lookup_link = fsa_ext2_lookup_link,
	.symlink = fsa_ext2_symlink,
	.listxattr = fsa_ext2_listxattr,
	.setxattr = fsa_ext2_setxattr,
	.unlink = fsa_ext2_unlink,
	.rmdir = fsa_ext2_rmdir,
	.rename = fsa_ext2_rename,
	.link = fsa_ext2_link,
	.getxattr = fsa_ext2_getxattr,
	.removexattr = fsa_ext2_removexattr,
	.set_faults = fsa_ext2_set_faults,
};
