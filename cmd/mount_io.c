// SPDX-License-Identifier: GPL-2.0
/*
 * mount_io.c - `mount`: open files and their data.  One engine inode per
 * open inode, shared by its opens; O_DIRECT opens go through the direct
 * path and bypass both page caches (the kernel's and ours), kept coherent
 * with buffered opens of the same inode as the kernel keeps O_DIRECT
 * coherent: dirty buffered data is written back before a direct access,
 * and cached data past a direct write is dropped.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/falloc.h>
#include <linux/fiemap.h>

#include "mount.h"

static struct mnt_inode **mnt_bucket(struct mnt_state *ms, uint64_t ino)
{
	return &ms->buckets[ino & (MNT_INODE_BUCKETS - 1)];
}

struct mnt_inode *mnt_inode_find(struct mnt_state *ms, uint64_t ino)
{
	for (struct mnt_inode *mi = *mnt_bucket(ms, ino); mi; mi = mi->next)
		if (mi->ino == ino)
			return mi;
	return NULL;
}

loff_t mnt_size(struct mnt_state *ms, uint64_t ino, loff_t disk)
{
	struct mnt_inode *mi = mnt_inode_find(ms, ino);

	return mi && mi->f.inode ? mi->f.inode->size : disk;
}

/*
 * Both engine files: the direct one first, so the inode's page cache
 * (which SEEK_DATA consults for unwritten extents) is the buffered one's.
 */
static int mnt_inode_bind(struct mnt_state *ms, struct mnt_inode *mi)
{
	int ret = 0;

	mi->df = mi->f;
	mi->df.ctx = &ms->dctx;
	if (ms->dctx.dev)
		ret = imc_file_io(&mi->df);
	return ret ? ret : imc_file_io(&mi->f);
}

/* Engine files in the reverse order of mnt_inode_bind(), then the inode. */
static int mnt_inode_close(struct mnt_inode *mi)
{
	int ret = iomap_file_close(mi->f.io), r;

	mi->f.io = NULL;
	r = iomap_file_close(mi->df.io);
	mi->df.io = NULL;
	ret = ret ? ret : r;
	r = imc_file_close(&mi->f);
	return ret ? ret : r;
}

int mnt_inode_get(struct mnt_state *ms, uint64_t ino, struct mnt_inode **mip)
{
	struct fsa_fs *fs = ms->ctx->fs;
	struct mnt_inode *mi = mnt_inode_find(ms, ino);
	struct fsa_stat st;
	int ret;

	if (mi) {
		mi->refs++;
		*mip = mi;
		return 0;
	}
	ret = fs->ops->stat(fs, ino, &st);
	if (ret)
		return ret;
	if (!S_ISREG(st.mode))
		return S_ISDIR(st.mode) ? -EISDIR : -EINVAL;
	mi = calloc(1, sizeof(*mi));
	if (!mi)
		return -ENOMEM;
	mi->f = (struct imc_file){ .name = "", .host_fd = -1, .fs = fs,
				   .ctx = ms->ctx, .ino = ino,
				   .size = st.size, .mode = st.mode,
				   .blksize = 1U << fs->blkbits };
	ret = fs->ops->iget(fs, ino, &mi->f.inode);
	if (!ret)
		ret = mnt_inode_bind(ms, mi);
	if (ret) {
		mnt_inode_close(mi);
		free(mi);
		return ret;
	}
	mi->ino = ino;
	mi->refs = 1;
	mi->next = *mnt_bucket(ms, ino);
	*mnt_bucket(ms, ino) = mi;
	*mip = mi;
	return 0;
}

int mnt_inode_put(struct mnt_state *ms, struct mnt_inode *mi)
{
	struct mnt_inode **pp = mnt_bucket(ms, mi->ino);
	int ret;

	if (--mi->refs)
		return 0;
	while (*pp != mi)
		pp = &(*pp)->next;
	*pp = mi->next;
	ret = mnt_inode_close(mi);
	free(mi);
	return ret;
}

int mnt_inode_put_all(struct mnt_state *ms)
{
	int ret = 0, r;

	while (ms->opens) {
		struct mnt_open *mo = ms->opens;

		ms->opens = mo->next;
		free(mo);
	}

	for (unsigned int b = 0; b < MNT_INODE_BUCKETS; b++) {
		while (ms->buckets[b]) {
			ms->buckets[b]->refs = 1;
			r = mnt_inode_put(ms, ms->buckets[b]);
			ret = ret ? ret : r;
		}
	}
	return ret;
}

/* Dirty buffered data out, before a direct access or a sync. */
static int mnt_writeback(struct mnt_inode *mi)
{
	int ret;

	if (!mi->dirty)
		return 0;
	ret = iomap_file_sync(mi->f.io);
	if (!ret)
		mi->dirty = false;
	return ret;
}

int mnt_sync_all(struct mnt_state *ms)
{
	struct fsa_fs *fs = ms->ctx->fs;
	int ret = 0, r;

	for (unsigned int b = 0; b < MNT_INODE_BUCKETS; b++) {
		for (struct mnt_inode *mi = ms->buckets[b]; mi; mi = mi->next) {
			r = iomap_file_sync(mi->f.io);
			if (!r)
				mi->dirty = false;
			ret = ret ? ret : r;
		}
	}
	if (!ms->ro && fs->ops->sync) {
		r = fs->ops->sync(fs);
		ret = ret ? ret : r;
	}
	return ret;
}

int mnt_open_file(struct mnt_state *ms, uint64_t ino,
		  struct fuse_file_info *fi)
{
	struct mnt_open *mo = calloc(1, sizeof(*mo));
	int ret;

	if (!mo)
		return -ENOMEM;
	ret = mnt_inode_get(ms, ino, &mo->mi);
	if (ret) {
		free(mo);
		return ret;
	}
	/* The kernel then sends O_DIRECT I/O as it comes, cache bypassed. */
	mo->odirect = fi->flags & O_DIRECT;
	mo->direct = mo->odirect && mo->mi->df.io;
	fi->direct_io = !!(fi->flags & O_DIRECT);
	fi->fh = (uintptr_t)mo;
	mo->next = ms->opens;
	if (ms->opens)
		ms->opens->prev = mo;
	ms->opens = mo;
	return 0;
}

static struct mnt_open *mnt_fh(const struct fuse_file_info *fi)
{
	return (struct mnt_open *)(uintptr_t)fi->fh;
}

/* Through the engine: the mount's path, or the direct one for O_DIRECT. */
static int mnt_read_engine(struct mnt_state *ms, struct mnt_open *mo,
			   char *buf, size_t size, off_t off)
{
	struct mnt_inode *mi = mo->mi;
	struct imc_file *f = mo->direct ? &mi->df : &mi->f;
	size_t done = 0;
	ssize_t n = 0;

	mnt_lock(ms);
	if (mo->direct)
		n = mnt_writeback(mi);
	while (!n && done < size) {
		n = imc_dio_pread(f, buf + done, size - done,
				  off + (off_t)done);
		if (n > 0)
			done += (size_t)n, n = 0;
		else
			break;
	}
	mnt_unlock(ms);
	return done ? (int)done : (int)n;
}

/* Extents one parallel read maps at most; more take the engine path. */
#define MNT_PREAD_EXTENTS 16

/*
 * Bytes [@at, @at + @len) of extent @e into @dst: zeros for unwritten
 * blocks, else a pread of its blocks (rounded up to @a past EOF, where
 * @dst has room: the request is aligned).  -EAGAIN for what only the
 * engine reads (inline data, delayed allocation).
 */
static int mnt_pread_extent(struct mnt_state *ms,
			    const struct fiemap_extent *e, char *dst,
			    uint64_t at, size_t len)
{
	uint64_t a = ms->dio_align, phys = e->fe_physical + (at - e->fe_logical);
	size_t rlen = (len + a - 1) & ~(a - 1);
	ssize_t n;

	if (e->fe_flags & FIEMAP_EXTENT_UNWRITTEN) {
		memset(dst, 0, len);
		return 0;
	}
	if (e->fe_flags & ~(FIEMAP_EXTENT_LAST | FIEMAP_EXTENT_MERGED) ||
	    (phys & (a - 1)))
		return -EAGAIN;
	do
		n = pread(ms->dio_fd, dst, rlen, (off_t)phys);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EINVAL ? -EAGAIN : -errno;
	return (size_t)n >= len ? 0 : -EIO;
}

/*
 * An O_DIRECT read in parallel with the others, as the kernel's iomap
 * direct I/O maps and then submits: the engine maps the range under the
 * lock (its report table, or get_block with the bh mapper), then the
 * blocks are read outside it, under @layout held shared so nothing is
 * freed meanwhile.  -EAGAIN when the engine must do it (unaligned, many
 * extents, inline data).
 */
static int mnt_read_parallel(struct mnt_state *ms, struct mnt_inode *mi,
			     char *buf, size_t size, off_t off)
{
	struct fiemap_extent ext[MNT_PREAD_EXTENTS];
	uint64_t pos = (uint64_t)off, end;
	unsigned int n = 0;
	loff_t isize;
	int ret;

	if (ms->dio_fd < 0 ||
	    (((uint64_t)off | size | (uintptr_t)buf) & (ms->dio_align - 1)))
		return -EAGAIN;
	pthread_mutex_lock(&ms->lock);
	ret = mnt_writeback(mi);
	isize = mi->f.inode->size;
	end = (uint64_t)off + size < (uint64_t)isize ? (uint64_t)off + size :
						       (uint64_t)isize;
	if (!ret && pos < end)
		ret = imc_file_fiemap(ms->ctx, &mi->f, 0, pos, end - pos, ext,
				      MNT_PREAD_EXTENTS, &n);
	pthread_mutex_unlock(&ms->lock);
	if (ret || pos >= end)
		return ret;
	if (n == MNT_PREAD_EXTENTS &&
	    ext[n - 1].fe_logical + ext[n - 1].fe_length < end)
		return -EAGAIN;
	for (unsigned int i = 0; i < n && !ret && pos < end; i++) {
		uint64_t s = ext[i].fe_logical > pos ? ext[i].fe_logical : pos;
		uint64_t e = ext[i].fe_logical + ext[i].fe_length;

		if (s > pos) /* a hole */
			memset(buf + (pos - (uint64_t)off), 0,
			       (s < end ? s : end) - pos);
		if (s >= end)
			break;
		e = e < end ? e : end;
		ret = mnt_pread_extent(ms, &ext[i], buf + (s - (uint64_t)off),
				       s, e - s);
		pos = e;
	}
	if (!ret && pos < end)
		memset(buf + (pos - (uint64_t)off), 0, end - pos);
	return ret ? ret : (int)(end - (uint64_t)off);
}

int mnt_read(const char *path, char *buf, size_t size, off_t off,
	     struct fuse_file_info *fi)
{
	struct mnt_state *ms = mnt_state();
	struct mnt_open *mo = mnt_fh(fi);
	int ret = -EAGAIN;

	(void)path;
	if (mo->odirect) {
		pthread_rwlock_rdlock(&ms->layout);
		ret = mnt_read_parallel(ms, mo->mi, buf, size, off);
		pthread_rwlock_unlock(&ms->layout);
	}
	return ret == -EAGAIN ? mnt_read_engine(ms, mo, buf, size, off) : ret;
}

/*
 * read with a page-aligned buffer of ours, which libfuse frees after the
 * reply: libfuse's own is malloc'd, off by a header, and O_DIRECT would
 * bounce every byte through another buffer.
 */
int mnt_read_buf(const char *path, struct fuse_bufvec **bufp, size_t size,
		 off_t off, struct fuse_file_info *fi)
{
	struct fuse_bufvec *bv = malloc(sizeof(*bv));
	void *mem = NULL;
	int n;

	if (!bv || posix_memalign(&mem, 4096, size ? size : 1)) {
		free(bv);
		return -ENOMEM;
	}
	n = mnt_read(path, mem, size, off, fi);
	if (n < 0) {
		free(mem);
		free(bv);
		return n;
	}
	*bv = (struct fuse_bufvec)FUSE_BUFVEC_INIT((size_t)n);
	bv->buf[0].mem = mem;
	*bufp = bv;
	return 0;
}

int mnt_write(const char *path, const char *buf, size_t size, off_t off,
	      struct fuse_file_info *fi)
{
	struct mnt_state *ms = mnt_state();
	struct mnt_open *mo = mnt_fh(fi);
	struct mnt_inode *mi = mo->mi;
	struct imc_file *f = mo->direct ? &mi->df : &mi->f;
	size_t done = 0;
	ssize_t n = 0;

	(void)path;
	mnt_lock(ms);
	if (mo->direct)
		n = mnt_writeback(mi);
	while (!n && done < size) {
		n = imc_dio_pwrite(f, buf + done, size - done,
				   off + (off_t)done);
		if (n > 0)
			done += (size_t)n, n = 0;
		else
			break;
	}
	if (mo->direct && done)
		iomap_file_invalidate(mi->f.io, off);
	else if (done)
		mi->dirty = true;
	mnt_unlock(ms);
	return done ? (int)done : (n ? (int)n : -EIO);
}

int mnt_release(const char *path, struct fuse_file_info *fi)
{
	struct mnt_state *ms = mnt_state();
	struct mnt_open *mo = mnt_fh(fi);
	int ret;

	(void)path;
	mnt_lock(ms);
	ret = mnt_inode_put(ms, mo->mi);
	if (mo->prev)
		mo->prev->next = mo->next;
	else
		ms->opens = mo->next;
	if (mo->next)
		mo->next->prev = mo->prev;
	mnt_unlock(ms);
	free(mo);
	return ret;
}

int mnt_fsync(const char *path, int datasync, struct fuse_file_info *fi)
{
	struct mnt_state *ms = mnt_state();
	struct mnt_inode *mi = fi && fi->fh ? mnt_fh(fi)->mi : NULL;
	struct fsa_fs *fs = ms->ctx->fs;
	int ret = 0;

	(void)path;
	(void)datasync; /* the size and new blocks are metadata it needs */
	mnt_lock(ms);
	if (mi) {
		ret = iomap_file_sync(mi->f.io);
		if (!ret)
			mi->dirty = false;
		if (!ret && mi->df.io)
			ret = iomap_file_sync(mi->df.io);
	}
	if (!ret && !ms->ro && fs->ops->sync)
		ret = fs->ops->sync(fs);
	mnt_unlock(ms);
	return ret;
}

/* Under the lock: ftruncate and truncate. */
int mnt_truncate(struct mnt_state *ms, uint64_t ino, off_t size)
{
	struct iomap_space_ops sops;
	struct mnt_inode *mi;
	int ret = mnt_inode_get(ms, ino, &mi), r;

	if (ret)
		return ret;
	imc_file_space_ops(&mi->f, &sops);
	ret = iomap_file_setsize(mi->f.io, &sops, size);
	if (mi->df.io)
		iomap_file_invalidate(mi->df.io, size);
	r = mnt_inode_put(ms, mi);
	return ret ? ret : r;
}

#define MNT_FALLOC_MODES \
	(FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE | FALLOC_FL_ZERO_RANGE)

/* fallocate(2) on @mi: modes 0, KEEP_SIZE, PUNCH_HOLE, ZERO_RANGE. */
static int mnt_falloc_mode(struct mnt_inode *mi, int mode, off_t off,
			   off_t len)
{
	bool keep = mode & FALLOC_FL_KEEP_SIZE;
	struct iomap_space_ops sops;

	if (mode & ~MNT_FALLOC_MODES)
		return -EOPNOTSUPP;
	if (off < 0 || len <= 0)
		return -EINVAL;
	imc_file_space_ops(&mi->f, &sops);
	if (mode & FALLOC_FL_PUNCH_HOLE) {
		if (!keep || (mode & FALLOC_FL_ZERO_RANGE))
			return -EOPNOTSUPP;
		return iomap_file_punch(mi->f.io, &sops, off, (uint64_t)len);
	}
	if (mode & FALLOC_FL_ZERO_RANGE) {
		/* Partial blocks are zeroed through the cache. */
		mi->dirty = true;
		return iomap_file_falloc_zero(mi->f.io, &sops, off,
					      (uint64_t)len, keep);
	}
	return iomap_file_falloc(mi->f.io, &sops, off, (uint64_t)len, keep);
}

int mnt_fallocate(const char *path, int mode, off_t off, off_t len,
		  struct fuse_file_info *fi)
{
	struct mnt_state *ms = mnt_state();
	struct mnt_inode *mi = mnt_fh(fi)->mi;
	int ret;

	(void)path;
	if (ms->ro)
		return -EROFS;
	mnt_lock(ms);
	ret = mnt_falloc_mode(mi, mode, off, len);
	if (mi->df.io)
		iomap_file_invalidate(mi->df.io, off);
	mnt_unlock(ms);
	return ret;
}

off_t mnt_lseek(const char *path, off_t off, int whence,
		struct fuse_file_info *fi)
{
	struct mnt_state *ms = mnt_state();
	loff_t ret;

	(void)path;
	/* The kernel answers SEEK_SET, SEEK_CUR and SEEK_END itself. */
	if (whence != SEEK_DATA && whence != SEEK_HOLE)
		return -EINVAL;
	mnt_lock(ms);
	ret = imc_file_seek(ms->ctx, &mnt_fh(fi)->mi->f, off, whence);
	mnt_unlock(ms);
	return ret;
}

int mnt_ioctl(const char *path, unsigned int cmd, void *arg,
	      struct fuse_file_info *fi, unsigned int flags, void *data)
{
	struct mnt_state *ms = mnt_state();
	struct imc_ioc_fiemap *q = data;
	unsigned int n = 0;
	int ret;

	(void)path;
	(void)arg;
	if (flags & FUSE_IOCTL_COMPAT)
		return -ENOSYS;
	if (cmd != IMC_IOC_FIEMAP || !fi || !fi->fh)
		return -ENOTTY;
	mnt_lock(ms);
	ret = imc_file_fiemap(ms->ctx, &mnt_fh(fi)->mi->f, q->flags, q->start,
			      q->length, q->ext, IMC_IOC_FIEMAP_MAX, &n);
	mnt_unlock(ms);
	q->count = n;
	return ret;
}
