// SPDX-License-Identifier: GPL-2.0
/* native.c - the iomapfs adapter: probing, opening, open files, and the
 * ops table the registry lists. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "native.h"

static int native_info(struct fsa_fs *fs, struct fsa_info *info)
{
	const struct fsa_native_sb *sb = &NATIVE_FS(fs)->sb;

	memset(info, 0, sizeof(*info));
	snprintf(info->type, sizeof(info->type), "iomapfs");
	info->block_size = sb->block_size;
	info->block_count = sb->block_count;
	info->free_blocks = sb->free_blocks;
	info->inode_count = sb->inode_count;
	info->free_inodes = UINT64_MAX - sb->next_ino;
	memcpy(info->label, sb->label,
	       strnlen(sb->label, FSA_NATIVE_LABEL_MAX));
	fsa_native_uuid_str(sb->hdr.uuid, info->uuid, sizeof(info->uuid));
	return 0;
}

static int native_open(const char *path, unsigned int flags,
		       struct iomap_stats *stats, struct fsa_fs **fsp)
{
	struct fsa_native_fs *nfs;
	int ret = fsa_native_fs_open(path, flags, stats, &nfs);

	/* Copies a crash cut short are garbage: their blocks come back
	 * (fsck opens without this, to see the image as it is). */
	if (!ret && nfs->base.rdwr) {
		ret = fsa_native_cow_recover(nfs);
		if (ret)
			fsa_native_fs_free(nfs);
	}
	if (!ret)
		*fsp = &nfs->base;
	return ret;
}

static int native_probe(const char *path, struct fsa_info *info)
{
	struct fsa_native_sb sb;
	struct fsa_fs *fs;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int ret;

	if (fd < 0)
		return -errno;
	ret = fsa_native_read_sb(fd, &sb);
	close(fd);
	if (ret == -ENODATA)
		return ret;
	/* Opening reports why it refuses, and recovers the journal. */
	ret = native_open(path, 0, NULL, &fs);
	if (ret)
		return ret;
	ret = native_info(fs, info);
	fsa_native_fs_free(NATIVE_FS(fs));
	return ret;
}

static int native_sync(struct fsa_fs *fs)
{
	return fs->rdwr ? fsa_native_commit(NATIVE_FS(fs)) : 0;
}

static int native_close(struct fsa_fs *fs)
{
	int ret;

	if (!fs)
		return 0;
	/* Every file is closed: staged copies nobody wrote are not kept. */
	ret = fs->rdwr && !fsa_native_writable(NATIVE_FS(fs)) ?
		      fsa_native_cow_drop_all(NATIVE_FS(fs)) :
		      0;
	if (!ret)
		ret = native_sync(fs);
	fsa_native_fs_free(NATIVE_FS(fs));
	return ret;
}

static int native_iget(struct fsa_fs *fs, uint64_t ino,
		       struct iomap_inode **inodep)
{
	struct fsa_native_file *f = calloc(1, sizeof(*f));
	int ret;

	if (!f)
		return -ENOMEM;
	f->nfs = NATIVE_FS(fs);
	ret = fsa_native_iread(f->nfs, ino, &f->in);
	if (!ret && f->in.size > INT64_MAX)
		ret = -EFSCORRUPTED;
	if (ret) {
		free(f);
		return ret;
	}
	f->vfs.ino = ino;
	f->vfs.size = (loff_t)f->in.size;
	f->vfs.blkbits = fs->blkbits;
	f->vfs.stats = fs->stats;
	*inodep = &f->vfs;
	return 0;
}

static void native_iput(struct iomap_inode *inode)
{
	struct fsa_native_file *f = NATIVE_I(inode);

	/* Paths that grow the file after ->iomap_end (DAX) leave the new
	 * size only in the engine's inode: persist it. */
	if (f->nfs->base.rdwr && !fsa_native_writable(f->nfs) &&
	    fsa_native_iread(f->nfs, inode->ino, &f->in) == 0 &&
	    (uint64_t)inode->size > f->in.size) {
		f->in.size = (uint64_t)inode->size;
		fsa_native_iwrite(f->nfs, inode->ino, &f->in);
	}
	/* Its cache is gone: what writeback did not allocate never will. */
	fsa_native_da_release(f->nfs, inode->ino, 0, UINT64_MAX, f);
	fsa_native_ext_cursor_free(&f->cur);
	free(f->inline_buf);
	free(f);
}

int fsa_native_fsck(const char *path, bool repair,
		    const struct fsa_native_check_ops *ops, void *priv)
{
	struct fsa_native_fs *nfs;
	int ret = fsa_native_fs_open(path, repair ? FSA_OPEN_RDWR : 0, NULL,
				     &nfs);

	if (ret)
		return ret;
	ret = fsa_native_check(nfs, repair ? FSA_NATIVE_CHECK_REPAIR : 0, ops,
			       priv);
	/* Close without committing: a repair committed, a check changed
	 * nothing. */
	fsa_native_fs_free(nfs);
	return ret;
}

const struct fsa_ops fsa_native_ops = {
	.name = "iomapfs",
	.probe = native_probe,
	.open = native_open,
	.close = native_close,
	.info = native_info,
	.lookup = fsa_native_lookup,
	.stat = fsa_native_stat,
	.readdir = fsa_native_readdir,
	.readlink = fsa_native_readlink,
	.iget = native_iget,
	.iput = native_iput,
	.create = fsa_native_create,
	.mkdir = fsa_native_mkdir,
	.setattr = fsa_native_setattr,
	.setsize = fsa_native_setsize,
	.falloc = fsa_native_falloc,
	.punch = fsa_native_punch,
	.sync = native_sync,
	.iomap = &fsa_native_iomap_opset,
	.caps = FSA_CAP_WRITE | FSA_CAP_UNWRITTEN,
	.lookup_link = fsa_native_lookup_link,
	.symlink = fsa_native_symlink,
	.listxattr = fsa_native_listxattr,
	.setxattr = fsa_native_setxattr,
	.unlink = fsa_native_unlink,
	.rmdir = fsa_native_rmdir,
	.rename = fsa_native_rename,
	.link = fsa_native_link,
	.set_faults = fsa_native_set_faults,
	.getxattr = fsa_native_getxattr,
	.removexattr = fsa_native_removexattr,
	.reflink = fsa_native_reflink,
};
