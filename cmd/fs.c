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
#include "cmd.h"

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
		return ret;
	}
	if (ctx->meta_faults) {
		/* A test that injects none must not pass by accident. */
		if (!ctx->fs->ops->set_faults) {
			imc_fs_close(ctx);
			return -EOPNOTSUPP;
		}
		ctx->fs->ops->set_faults(ctx->fs, ctx->meta_faults);
	}
	return 0;
}

/* The device parameters a command's --io, --mapper and -v ask for. */
static struct iomap_io_params dev_params(const struct imc_ctx *ctx)
{
	struct iomap_io_params params = ctx->io;

	params.verbose = ctx->verbose;
	return params;
}

/* The data path of the open image, in the image's mode. */
static int imc_dev(struct imc_ctx *ctx, struct iomap_dev **devp)
{
	int ret = 0;

	if (!ctx->dev) {
		ctx->dev_io = dev_params(ctx);
		ret = iomap_dev_open(ctx->fs_image, ctx->fs->rdwr,
				     &ctx->dev_io, &ctx->dev);
	}
	*devp = ctx->dev;
	return ret;
}

/*
 * Writes back and releases the files the shell kept open dirty; their
 * metadata is then the filesystem's to commit.  The first error.
 */
static int kept_writeback(struct imc_ctx *ctx)
{
	int ret = 0, r;

	while (ctx->nkept) {
		struct imc_kept *k = &ctx->kept[--ctx->nkept];

		r = iomap_file_close(k->io);
		ret = ret ? ret : r;
		ctx->fs->ops->iput(k->inode);
	}
	return ret;
}

/*
 * A shell file whose cache is dirty stays open for the next command, as
 * the kernel keeps dirty pages after the last close; false when @f must
 * be released now.
 */
static bool kept_put(struct imc_file *f)
{
	struct imc_ctx *ctx = f->ctx;

	/* Test @f->io first: a host file may have no context. */
	if (!f->io || !ctx->shell_image || f->fs != ctx->fs ||
	    ctx->nkept == IMC_KEPT_MAX || !iomap_file_dirty(f->io))
		return false;
	ctx->kept[ctx->nkept++] = (struct imc_kept){ .ino = f->ino,
						     .inode = f->inode,
						     .io = f->io };
	f->io = NULL;
	f->inode = NULL;
	return true;
}

/* @f->ino's engine inode: the kept one with its cache, else a new one. */
static int file_iget(struct imc_file *f)
{
	struct imc_ctx *ctx = f->ctx;

	for (unsigned int i = 0; i < ctx->nkept; i++) {
		if (ctx->kept[i].ino != f->ino || f->fs != ctx->fs)
			continue;
		f->inode = ctx->kept[i].inode;
		f->io = ctx->kept[i].io;
		ctx->kept[i] = ctx->kept[--ctx->nkept];
		return 0;
	}
	return f->fs->ops->iget(f->fs, f->ino, &f->inode);
}

/* Writes the kept files back and closes the data path; the first error. */
static int dev_close(struct imc_ctx *ctx)
{
	int ret = kept_writeback(ctx), r;

	if (ctx->dev) {
		r = iomap_dev_close(ctx->dev);
		ret = ret ? ret : r;
		ctx->dev = NULL;
	}
	return ret;
}

int imc_fs_sync(struct imc_ctx *ctx)
{
	int ret = dev_close(ctx), r;

	if (ctx->fs && ctx->fs->rdwr && ctx->fs->ops->sync) {
		r = ctx->fs->ops->sync(ctx->fs);
		ret = ret ? ret : r;
	}
	return ret;
}

int imc_fs_settle(struct imc_ctx *ctx, const struct imc_cmd *cmd)
{
	struct iomap_io_params params = dev_params(ctx);
	int ret;

	if (!ctx->dev || ((!ctx->nkept || (cmd->flags & IMC_CMD_SEES_CACHE)) &&
			  iomap_io_params_same(&params, &ctx->dev_io)))
		return IMC_EXIT_OK;
	ret = imc_fs_sync(ctx);
	return ret ? imc_err(ctx, ctx->fs_image, ret) : IMC_EXIT_OK;
}

int imc_fs_close(struct imc_ctx *ctx)
{
	int ret = dev_close(ctx), r;

	if (ctx->fs) {
		r = ctx->fs->ops->close(ctx->fs);
		ret = ret ? ret : r;
	}
	ctx->fs = NULL;
	free(ctx->fs_image);
	ctx->fs_image = NULL;
	return ret;
}

static int open_host(struct imc_ctx *ctx, const char *path, unsigned int flags,
		     struct imc_file *f)
{
	int oflags = (flags & IMC_OPEN_RDWR) ? O_RDWR : O_RDONLY;
	struct stat st;

	if (flags & IMC_OPEN_CREATE)
		oflags |= O_CREAT;
	f->host_fd = open(path, oflags | O_CLOEXEC, 0644);
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

/* Creates @path's last component as an empty regular file. */
static int create_image_file(struct fsa_fs *fs, const char *path,
			     uint64_t *ino)
{
	char *parent = strdup(path), *slash;
	uint64_t dir;
	int ret;

	if (!parent)
		return -ENOMEM;
	slash = strrchr(parent, '/');
	if (!slash || !slash[1]) {
		free(parent);
		return -EISDIR;
	}
	*slash = '\0';
	ret = fs->ops->lookup(fs, parent[0] ? parent : "/", &dir);
	if (!ret)
		ret = fs->ops->create ? fs->ops->create(fs, dir, slash + 1, 0644,
							ino) : -EOPNOTSUPP;
	free(parent);
	return ret;
}

/* @f->ino of the open image: its attributes and engine inode. */
static void attach_stat(struct imc_file *f, const struct fsa_stat *st)
{
	f->size = st->size;
	f->mode = st->mode;
	f->blksize = 1U << f->fs->blkbits;
}

static int attach_inode(struct imc_file *f)
{
	struct fsa_stat st;
	int ret = f->fs->ops->stat(f->fs, f->ino, &st);

	if (!ret)
		ret = file_iget(f);
	if (!ret)
		attach_stat(f, &st);
	return ret;
}

static int open_image(struct imc_ctx *ctx, const struct imc_spec *sp,
		      const char *arg, unsigned int flags, struct imc_file *f)
{
	int ret;

	ret = imc_fs_open(ctx, sp->image, flags & IMC_OPEN_RDWR);
	if (ret)
		return imc_err(ctx, sp->image, ret);
	f->fs = ctx->fs;
	ret = f->fs->ops->lookup(f->fs, sp->path, &f->ino);
	if (ret == -ENOENT && (flags & IMC_OPEN_CREATE))
		ret = create_image_file(f->fs, sp->path, &f->ino);
	if (!ret)
		ret = attach_inode(f);
	return ret ? imc_err(ctx, arg, ret) : IMC_EXIT_OK;
}

static void imc_file_init(struct imc_ctx *ctx, const char *name,
			  struct imc_file *f)
{
	memset(f, 0, sizeof(*f));
	f->name = name;
	f->host_fd = -1;
	f->ctx = ctx;
}

int imc_file_attach_ino(struct imc_ctx *ctx, const char *name, uint64_t ino,
			struct imc_file *f)
{
	imc_file_init(ctx, name, f);
	f->fs = ctx->fs;
	f->ino = ino;
	return attach_inode(f);
}

int imc_file_attach_stat(struct imc_ctx *ctx, const char *name, uint64_t ino,
			 const struct fsa_stat *st, struct imc_file *f)
{
	int ret;

	imc_file_init(ctx, name, f);
	f->fs = ctx->fs;
	f->ino = ino;
	ret = file_iget(f);
	if (!ret)
		attach_stat(f, st);
	return ret;
}

int imc_file_open_ino(struct imc_ctx *ctx, const char *name, uint64_t ino,
		      struct imc_file *f)
{
	int ret = imc_file_attach_ino(ctx, name, ino, f);

	return ret ? imc_err(ctx, name, ret) : IMC_EXIT_OK;
}

int imc_file_open_flags(struct imc_ctx *ctx, const char *arg,
			unsigned int flags, struct imc_file *f)
{
	struct imc_spec sp;
	int ret;

	imc_file_init(ctx, arg, f);
	ret = imc_spec_parse(ctx, arg, &sp);
	if (ret)
		return ret;
	if (sp.image)
		ret = open_image(ctx, &sp, arg, flags, f);
	else
		ret = open_host(ctx, sp.path, flags, f);
	imc_spec_free(&sp);
	return ret;
}

int imc_file_open(struct imc_ctx *ctx, const char *arg, struct imc_file *f)
{
	return imc_file_open_flags(ctx, arg, 0, f);
}

int imc_file_close(struct imc_file *f)
{
	int ret = 0;

	if (f->host_fd >= 0)
		close(f->host_fd);
	f->host_fd = -1;
	if (kept_put(f))
		return 0;
	if (f->io)
		ret = iomap_file_close(f->io);
	f->io = NULL;
	if (f->inode)
		f->fs->ops->iput(f->inode);
	f->inode = NULL;
	return ret;
}

/* Binds an image file to the data path on first use. */
int imc_file_io(struct imc_file *f)
{
	struct iomap_dev *dev;
	int ret;

	if (f->io)
		return 0;
	ret = imc_dev(f->ctx, &dev);
	if (!ret)
		ret = iomap_file_open(dev, f->inode, f->fs->ops->iomap, &f->io);
	return ret;
}

ssize_t imc_file_pread(struct imc_file *f, void *buf, size_t len, loff_t pos)
{
	ssize_t n;
	int ret;

	if (f->host_fd >= 0) {
		do
			n = pread(f->host_fd, buf, len, pos);
		while (n < 0 && errno == EINTR);
		return n < 0 ? -errno : n;
	}
	ret = imc_file_io(f);
	return ret ? ret : imc_dio_pread(f, buf, len, pos);
}

ssize_t imc_file_pwrite(struct imc_file *f, const void *buf, size_t len,
			loff_t pos)
{
	ssize_t n;
	int ret;

	if (f->host_fd >= 0) {
		do
			n = pwrite(f->host_fd, buf, len, pos);
		while (n < 0 && errno == EINTR);
		return n < 0 ? -errno : n;
	}
	ret = imc_file_io(f);
	return ret ? ret : imc_dio_pwrite(f, buf, len, pos);
}

/*
 * The mapping source of report operation @op (REPORT or XATTR) of @f under
 * --mapper, calling @table; -EOPNOTSUPP when the filesystem lacks what
 * that mapper calls.
 */
static int imc_report_source(const struct imc_ctx *ctx, struct imc_file *f,
			     enum iomap_op op, const struct iomap_ops *table,
			     struct iomap_source *src)
{
	const struct iomap_opset *ops = f->fs->ops->iomap;

	*src = (struct iomap_source){ .mapper = iomap_io_mapper(&ctx->io, op),
				      .ops = table,
				      .get_block = ops->get_block };
	/* bh maps the xattr block a block at a time through its table. */
	if (src->mapper == IOMAP_MAPPER_BH && op == IOMAP_OP_XATTR)
		src->get_block = NULL;
	if (src->mapper == IOMAP_MAPPER_BH && op != IOMAP_OP_XATTR)
		return src->get_block ? 0 : -EOPNOTSUPP;
	return table ? 0 : -EOPNOTSUPP;
}

loff_t imc_file_seek(struct imc_ctx *ctx, struct imc_file *f, loff_t off,
		     int whence)
{
	struct iomap_source src;
	int ret;

	if (f->host_fd >= 0) {
		loff_t r = lseek(f->host_fd, off, whence);

		return r < 0 ? -errno : r;
	}
	ret = imc_report_source(ctx, f, IOMAP_OP_REPORT,
				f->fs->ops->iomap->report, &src);
	if (ret)
		return ret;
	return iomap_seek_source(f->inode, off, whence, &src);
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
	struct iomap_source src;
	int ret;

	if (f->host_fd >= 0)
		return host_fiemap(f, flags, start, len, ext, max, n);
	ops = f->fs->ops->iomap;
	ret = (flags & FIEMAP_FLAG_XATTR) ?
		      imc_report_source(ctx, f, IOMAP_OP_XATTR, ops->xattr,
					&src) :
		      imc_report_source(ctx, f, IOMAP_OP_REPORT, ops->report,
					&src);
	if (ret)
		return ret;
	/* SYNC needs nothing here: report mappings see the cache. */
	ret = iomap_fiemap_source(f->inode, &fi, (loff_t)start, len,
				  FIEMAP_FLAG_XATTR, &src);
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

int imc_file_finish(struct imc_file *f, int ret)
{
	struct imc_ctx *ctx = f->ctx;
	int r = imc_file_close(f);

	/* Data before metadata: writeback may convert unwritten extents. */
	if (!ret && r)
		ret = imc_err(ctx, f->name, r);
	/* The shell kept it dirty: `sync` or the end of the shell commits. */
	if (ctx->nkept)
		return ret;
	r = imc_fs_sync(ctx);
	if (!ret && r)
		ret = imc_err(ctx, ctx->fs_image ? ctx->fs_image : f->name, r);
	return ret;
}

int imc_arg_range(struct imc_ctx *ctx, const char *off_s, const char *len_s,
		  uint64_t *off, uint64_t *len)
{
	int ret = imc_arg_size(ctx, "offset", off_s, off);

	if (!ret && len_s)
		ret = imc_arg_size(ctx, "length", len_s, len);
	if (ret)
		return ret;
	if (len_s && *len == 0) {
		fprintf(ctx->err, "iomapctl: %s: length must not be 0\n",
			ctx->cmdname);
		return IMC_EXIT_USAGE;
	}
	if (len_s && *len > (uint64_t)INT64_MAX - *off)
		return imc_err(ctx, "offset + length", -EFBIG);
	return IMC_EXIT_OK;
}

int imc_range_cmd(struct imc_ctx *ctx, int argc, char **argv,
		  const struct imc_cmd *cmd, imc_range_fn op)
{
	bool keep = false;
	struct imc_file f;
	uint64_t off, len;
	int ret;

	/* The only option of these commands is -k/--keep-size. */
	while (imc_getopt(argc, argv, cmd) != -1)
		keep = true;
	ret = imc_arg_range(ctx, argv[optind + 1], argv[optind + 2], &off,
			    &len);
	if (!ret)
		ret = imc_mutate_open(ctx, argv[optind], &f);
	if (ret)
		return ret;
	ret = op(&f, off, len, keep);
	if (ret)
		ret = imc_err(ctx, f.name, ret);
	return imc_file_finish(&f, ret);
}

int imc_mutate_open(struct imc_ctx *ctx, const char *arg, struct imc_file *f)
{
	int ret = imc_file_open_flags(ctx, arg, IMC_OPEN_RDWR, f);

	if (ret)
		return ret;
	if (f->host_fd >= 0) {
		imc_file_close(f);
		fprintf(ctx->err, "iomapctl: %s: %s: give IMAGE:PATH (this "
			"command works inside images)\n", ctx->cmdname, arg);
		return IMC_EXIT_USAGE;
	}
	if (!S_ISREG(f->mode))
		ret = S_ISDIR(f->mode) ? -EISDIR : -EINVAL;
	else
		ret = imc_file_io(f);
	if (ret) {
		imc_file_close(f);
		return imc_err(ctx, arg, ret);
	}
	return IMC_EXIT_OK;
}

void imc_file_space_ops(const struct imc_file *f, struct iomap_space_ops *ops)
{
	const struct fsa_ops *fo = f->fs->ops;

	*ops = (struct iomap_space_ops){
		.setsize = fo->setsize,
		.punch = fo->punch,
		.falloc = fo->falloc,
		.unwritten = fo->caps & FSA_CAP_UNWRITTEN,
	};
}

int imc_file_stat(struct imc_file *f, struct fsa_stat *st)
{
	struct stat hs;

	memset(st, 0, sizeof(*st));
	if (f->host_fd < 0)
		return f->fs->ops->stat(f->fs, f->ino, st);
	if (fstat(f->host_fd, &hs) < 0)
		return -errno;
	st->ino = hs.st_ino;
	st->mode = hs.st_mode;
	st->nlink = (uint32_t)hs.st_nlink;
	st->uid = hs.st_uid;
	st->gid = hs.st_gid;
	st->size = hs.st_size;
	st->blocks = (uint64_t)hs.st_blocks;
	st->atime = hs.st_atim;
	st->mtime = hs.st_mtim;
	st->ctime = hs.st_ctim;
	return 0;
}
