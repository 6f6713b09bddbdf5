// SPDX-License-Identifier: GPL-2.0
/* fs.c - opening images and files in them or on the host, and the report
 * operations (seek, fiemap) that work the same on both. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/fiemap.h>
#include <linux/fs.h>

#include "iomapctl/bh.h"
#include "iomapctl/imc.h"

int imc_fs_open(struct imc_ctx *ctx, const char *image, bool rdwr)
{
	int ret;

	/* The shell keeps its image open; reopen only to gain write access. */
	if (ctx->fs && ctx->fs_image && !strcmp(ctx->fs_image, image) &&
	    (ctx->fs->rdwr || !rdwr))
		return 0;
	imc_fs_close(ctx);
	/* Say "No such file" rather than "not an image" for a typo. */
	if (access(image, rdwr ? R_OK | W_OK : R_OK) < 0)
		return -errno;
	ctx->fs_image = strdup(image);
	if (!ctx->fs_image)
		return -ENOMEM;
	ret = fsa_open(image, rdwr ? FSA_OPEN_RDWR : 0, &ctx->stats, &ctx->fs);
	if (ret) {
		ctx->fs = NULL;
		imc_fs_close(ctx);
	}
	return ret;
}

void imc_fs_close(struct imc_ctx *ctx)
{
	if (ctx->fs)
		ctx->fs->ops->close(ctx->fs);
	ctx->fs = NULL;
	free(ctx->fs_image);
	ctx->fs_image = NULL;
}

static int open_host(struct imc_ctx *ctx, const char *path,
		     struct imc_file *f)
{
	struct stat st;

	f->host_fd = open(path, O_RDONLY | O_CLOEXEC);
	if (f->host_fd < 0)
		return imc_err(ctx, path, -errno);
	if (fstat(f->host_fd, &st) < 0) {
		int err = -errno;

		imc_file_close(f);
		return imc_err(ctx, path, err);
	}
	f->size = st.st_size;
	f->blksize = (unsigned int)st.st_blksize;
	f->mode = st.st_mode;
	f->ino = st.st_ino;
	return IMC_EXIT_OK;
}

static int open_image(struct imc_ctx *ctx, const struct imc_spec *sp,
		      const char *arg, struct imc_file *f)
{
	struct fsa_stat st;
	int ret;

	ret = imc_fs_open(ctx, sp->image, false);
	if (ret)
		return imc_err(ctx, sp->image, ret);
	f->fs = ctx->fs;
	ret = f->fs->ops->lookup(f->fs, sp->path, &f->ino);
	if (!ret)
		ret = f->fs->ops->stat(f->fs, f->ino, &st);
	if (!ret)
		ret = f->fs->ops->iget(f->fs, f->ino, &f->inode);
	if (ret)
		return imc_err(ctx, arg, ret);
	f->size = st.size;
	f->mode = st.mode;
	f->blksize = 1U << f->fs->blkbits;
	return IMC_EXIT_OK;
}

int imc_file_open(struct imc_ctx *ctx, const char *arg, struct imc_file *f)
{
	struct imc_spec sp;
	int ret;

	memset(f, 0, sizeof(*f));
	f->name = arg;
	f->host_fd = -1;
	ret = imc_spec_parse(ctx, arg, &sp);
	if (ret)
		return ret;
	if (sp.image)
		ret = open_image(ctx, &sp, arg, f);
	else
		ret = open_host(ctx, sp.path, f);
	imc_spec_free(&sp);
	return ret;
}

void imc_file_close(struct imc_file *f)
{
	if (f->host_fd >= 0)
		close(f->host_fd);
	f->host_fd = -1;
	if (f->inode)
		f->fs->ops->iput(f->inode);
	f->inode = NULL;
}

loff_t imc_file_seek(struct imc_ctx *ctx, struct imc_file *f, loff_t off,
		     int whence)
{
	const struct iomap_opset *ops;

	if (f->host_fd >= 0) {
		loff_t r = lseek(f->host_fd, off, whence);

		return r < 0 ? -errno : r;
	}
	ops = f->fs->ops->iomap;
	if (ctx->io.mapper == IOMAP_MAPPER_BH) {
		if (!ops->get_block)
			return -EOPNOTSUPP;
		return whence == SEEK_DATA ?
			iomap_bh_seek_data(f->inode, off, ops->get_block) :
			iomap_bh_seek_hole(f->inode, off, ops->get_block);
	}
	if (!ops->report)
		return -EOPNOTSUPP;
	return whence == SEEK_DATA ? iomap_seek_data(f->inode, off, ops->report) :
				     iomap_seek_hole(f->inode, off, ops->report);
}

static int host_fiemap(struct imc_file *f, uint32_t flags, uint64_t start,
		       uint64_t len, struct fiemap_extent *ext,
		       unsigned int max, unsigned int *n)
{
	struct fiemap *fm;

	fm = calloc(1, sizeof(*fm) + max * sizeof(*ext));
	if (!fm)
		return -ENOMEM;
	fm->fm_start = start;
	fm->fm_length = len;
	fm->fm_flags = flags;
	fm->fm_extent_count = max;
	if (ioctl(f->host_fd, FS_IOC_FIEMAP, fm) < 0) {
		int err = -errno;

		free(fm);
		return err;
	}
	*n = fm->fm_mapped_extents;
	memcpy(ext, fm->fm_extents, *n * sizeof(*ext));
	free(fm);
	return 0;
}

int imc_file_fiemap(struct imc_ctx *ctx, struct imc_file *f, uint32_t flags,
		    uint64_t start, uint64_t len, struct fiemap_extent *ext,
		    unsigned int max, unsigned int *n)
{
	const struct iomap_opset *ops;
	struct iomap_fiemap_info fi = {
		.fi_flags = flags,
		.fi_extents_max = max,
		.fi_extents_start = ext,
	};
	const struct iomap_ops *map;
	int ret;

	if (f->host_fd >= 0)
		return host_fiemap(f, flags, start, len, ext, max, n);
	ops = f->fs->ops->iomap;
	map = (flags & FIEMAP_FLAG_XATTR) ? ops->xattr : ops->report;
	if (ctx->io.mapper == IOMAP_MAPPER_BH) {
		if (!ops->get_block || (flags & FIEMAP_FLAG_XATTR))
			return -EOPNOTSUPP;
		ret = iomap_bh_fiemap(f->inode, &fi, (loff_t)start, len,
				      ops->get_block);
	} else {
		if (!map)
			return -EOPNOTSUPP;
		/* SYNC needs nothing here: report mappings see the cache. */
		ret = iomap_fiemap(f->inode, &fi, (loff_t)start, len,
				   FIEMAP_FLAG_XATTR, map);
	}
	*n = fi.fi_extents_mapped;
	return ret;
}

/* Copies the data segments of @in to @out, keeping holes. */
static int copy_sparse_fd(int in, int out, loff_t size)
{
	loff_t pos = 0;

	while (pos < size) {
		loff_t data = lseek(in, pos, SEEK_DATA), hole;

		if (data < 0)
			return errno == ENXIO ? 0 : -errno;
		hole = lseek(in, data, SEEK_HOLE);
		if (hole < 0)
			return -errno;
		for (loff_t at = data; at < hole;) {
			loff_t src = at, dst = at;
			ssize_t n = copy_file_range(in, &src, out, &dst,
						    (size_t)(hole - at), 0);

			if (n <= 0)
				return n < 0 ? -errno : -EIO;
			at += n;
		}
		pos = hole;
	}
	return 0;
}

int imc_image_tmpcopy(const char *image, char **tmp)
{
	const char *base = getenv("TMPDIR");
	struct stat st;
	int in, out, ret = 0;

	in = open(image, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return -errno;
	if (asprintf(tmp, "%s/iomapctl-XXXXXX", base ? base : "/tmp") < 0) {
		close(in);
		return -ENOMEM;
	}
	out = mkstemp(*tmp);
	if (out < 0 || fstat(in, &st) < 0) {
		ret = -errno;
	} else if (ioctl(out, FICLONE, in) < 0) {
		/* No reflink here: copy the data, keep the holes. */
		if (ftruncate(out, st.st_size) < 0)
			ret = -errno;
		else
			ret = copy_sparse_fd(in, out, st.st_size);
	}
	if (ret && out >= 0)
		unlink(*tmp);
	if (out >= 0)
		close(out);
	close(in);
	if (ret) {
		free(*tmp);
		*tmp = NULL;
	}
	return ret;
}
