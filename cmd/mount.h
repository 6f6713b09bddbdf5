/* SPDX-License-Identifier: GPL-2.0 */
/* mount.h - `mount`: the state the FUSE operations share (cmd/mount.c,
 * cmd/mount_ops.c, cmd/mount_io.c). */
#ifndef IOMAPCTL_CMD_MOUNT_H
#define IOMAPCTL_CMD_MOUNT_H

#define FUSE_USE_VERSION 312
#include <fuse.h>
#include <pthread.h>

#include "cmd.h"

/* Buckets of the open-inode table; a power of two. */
#define MNT_INODE_BUCKETS 256

/**
 * struct mnt_inode - an inode with open files, shared by all its opens so
 * there is one engine page cache per inode.
 * @ino:	inode number.
 * @refs:	opens (and operations in progress) holding it.
 * @f:		the inode on the mount's --io path.
 * @df:		the same inode on the direct path, for O_DIRECT opens; its
 *		@io is NULL when the mount's path is direct already.
 * @dirty:	buffered writes since the last writeback.
 * @next:	the bucket chain.
 */
struct mnt_inode {
	uint64_t ino;
	unsigned int refs;
	bool dirty;
	struct imc_file f;
	struct imc_file df;
	struct mnt_inode *next;
};

/* fuse_file_info.fh of an open file. */
struct mnt_open {
	struct mnt_inode *mi;
	bool odirect; /* opened with O_DIRECT */
	bool direct; /* O_DIRECT on a buffered mount: through @mi->df */
	/* In mnt_state.opens: the kernel drops the releases still queued
	 * when it unmounts, and the daemon frees what they would have. */
	struct mnt_open *prev, *next;
};

/**
 * struct mnt_state - one mount.
 * @layout:	held exclusively (mnt_lock()) by every operation but O_DIRECT
 *		reads, which hold it shared: while they read the image
 *		outside @lock, no block can be freed or reallocated.
 * @lock:	every operation holds it while it runs in the engine or the
 *		adapter (neither is thread-safe; both keep all state in these
 *		objects, none global).
 * @dio_fd:	the image opened O_DIRECT (or plain where the host refuses),
 *		for the parallel O_DIRECT reads.
 * @dio_align:	what @dio_fd needs of offsets, lengths and memory.
 * @ctx:	the image (ctx->fs), the --io data path (ctx->dev).
 * @dctx:	the direct data path for O_DIRECT opens (dctx.fs is
 *		ctx->fs, borrowed); dctx.dev is NULL when ctx is direct.
 * @buckets:	open inodes by number.
 * @opens:	open files (their fuse_file_info.fh).
 * @ro:		mounted read-only.
 */
struct mnt_state {
	pthread_rwlock_t layout;
	pthread_mutex_t lock;
	int dio_fd;
	unsigned int dio_align;
	struct imc_ctx *ctx;
	struct imc_ctx dctx;
	struct mnt_inode *buckets[MNT_INODE_BUCKETS];
	struct mnt_open *opens;
	bool ro;
};

/* The mount of the calling FUSE operation. */
static inline struct mnt_state *mnt_state(void)
{
	return fuse_get_context()->private_data;
}

/* Every operation but an O_DIRECT read: alone in the engine and adapter. */
static inline void mnt_lock(struct mnt_state *ms)
{
	pthread_rwlock_wrlock(&ms->layout);
	pthread_mutex_lock(&ms->lock);
}

static inline void mnt_unlock(struct mnt_state *ms)
{
	pthread_mutex_unlock(&ms->lock);
	pthread_rwlock_unlock(&ms->layout);
}

/* mount_io.c: open files and their data */
int mnt_inode_get(struct mnt_state *ms, uint64_t ino, struct mnt_inode **mip);
/* Drops a reference; the last writes the inode back and returns the
 * first writeback error. */
int mnt_inode_put(struct mnt_state *ms, struct mnt_inode *mi);
/* Closes every open inode (at unmount); the first error. */
int mnt_inode_put_all(struct mnt_state *ms);
/* An open inode or NULL (under the lock). */
struct mnt_inode *mnt_inode_find(struct mnt_state *ms, uint64_t ino);
int mnt_open_file(struct mnt_state *ms, uint64_t ino,
		  struct fuse_file_info *fi);
int mnt_truncate(struct mnt_state *ms, uint64_t ino, off_t size);
/* Writes back every open inode and the image's metadata. */
int mnt_sync_all(struct mnt_state *ms);
/* The size of @ino as the engine has it when open (it may be ahead of the
 * inode on disk), else @disk. */
loff_t mnt_size(struct mnt_state *ms, uint64_t ino, loff_t disk);
int mnt_open(const char *path, struct fuse_file_info *fi);
int mnt_read(const char *path, char *buf, size_t size, off_t off,
	     struct fuse_file_info *fi);
int mnt_read_buf(const char *path, struct fuse_bufvec **bufp, size_t size,
		 off_t off, struct fuse_file_info *fi);
int mnt_write(const char *path, const char *buf, size_t size, off_t off,
	      struct fuse_file_info *fi);
int mnt_release(const char *path, struct fuse_file_info *fi);
int mnt_fsync(const char *path, int datasync, struct fuse_file_info *fi);
int mnt_fallocate(const char *path, int mode, off_t off, off_t len,
		  struct fuse_file_info *fi);
off_t mnt_lseek(const char *path, off_t off, int whence,
		struct fuse_file_info *fi);
int mnt_ioctl(const char *path, unsigned int cmd, void *arg,
	      struct fuse_file_info *fi, unsigned int flags, void *data);

/* mount_ops.c: the operation table */
extern const struct fuse_operations mnt_fuse_ops;

#endif /* IOMAPCTL_CMD_MOUNT_H */
