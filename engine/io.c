// SPDX-License-Identifier: GPL-2.0
/* io.c - open an image for a data path, bind files, dispatch each file
 * operation to its path (buffered, direct, DAX). */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

/* The alignment O_DIRECT needs: the device's, or the file's DIO limits. */
static unsigned int iomap_dev_lbs(int fd)
{
	struct statx stx;
	struct stat st;
	int ssz;

	if (fstat(fd, &st) == 0 && S_ISBLK(st.st_mode) &&
	    ioctl(fd, BLKSSZGET, &ssz) == 0 && ssz > 0)
		return (unsigned int)ssz;
#ifdef STATX_DIOALIGN
	if (statx(fd, "", AT_EMPTY_PATH, STATX_DIOALIGN, &stx) == 0 &&
	    (stx.stx_mask & STATX_DIOALIGN) && stx.stx_dio_offset_align)
		return stx.stx_dio_offset_align;
#else
	(void)stx;
#endif
	return 512;
}

/* Buffered and direct: the image with O_DIRECT where the host allows it. */
static int iomap_dev_open_odirect(struct iomap_dev *dev, const char *path)
{
	int flags = (dev->rdwr ? O_RDWR : O_RDONLY) | O_CLOEXEC;

	dev->fd = open(path, flags | O_DIRECT);
	if (dev->fd >= 0) {
		dev->dio_ok = true;
		dev->lbs = iomap_dev_lbs(dev->fd);
		return 0;
	}
	if (errno != EINVAL)
		return -errno;
	/* The host filesystem (tmpfs, ...) refuses O_DIRECT: say so once. */
	if (dev->params.verbose)
		fprintf(stderr,
			"iomapctl: %s: no O_DIRECT here, using "
			"buffered I/O on the image\n",
			path);
	dev->fd = dev->bfd;
	dev->lbs = 512;
	return 0;
}

/* ->open of buffered and direct: O_DIRECT fd, io_uring (or sync) queue. */
static int iomap_dev_open_queue(struct iomap_dev *dev, const char *path)
{
	int ret = iomap_dev_open_odirect(dev, path);

	if (ret < 0)
		return ret;
	dev->io = dev->params.iodev ? dev->params.iodev : &iodev_uring_ops;
	dev->io_priv = dev->params.iodev_arg;
	ret = dev->io->open(&dev->io_priv, dev->fd, dev->depth);
	if (!dev->params.iodev && (ret == -ENOSYS || ret == -EPERM)) {
		if (dev->params.verbose)
			fprintf(stderr,
				"iomapctl: io_uring unavailable (%s), "
				"using pread/pwrite\n",
				strerror(-ret));
		dev->io = &iodev_sync_ops;
		ret = dev->io->open(&dev->io_priv, dev->fd, dev->depth);
	}
	if (ret < 0) {
		dev->io = NULL;
		return ret;
	}
	/* Zeroing around new blocks reuses one buffer: register it once. */
	if (dev->io->register_buffer) {
		ret = dev->io->register_buffer(dev->io_priv, dev->zero,
					       IOMAP__ZERO_SIZE);
		dev->zero_fixed = ret >= 0 ? (unsigned int)ret + 1 : 0;
	}
	return 0;
}

/* ->open of DAX: the plain fd mapped through libpmem2. */
static int iomap_dev_open_pmem(struct iomap_dev *dev, const char *path)
{
	char err[256] = "";
	int ret;

	dev->fd = dev->bfd;
	ret = iodev_pmem2_open(&dev->pmem, dev->fd, dev->rdwr, err,
			       sizeof(err));
	if (ret < 0 && dev->params.verbose)
		fprintf(stderr, "iomapctl: %s: DAX unavailable: %s\n", path,
			err);
	return ret;
}

static const struct iomap__path_ops *iomap_path_ops(enum iomap_io_path path);

/* Free a closed file and its cache. */
static void iomap_file_free(struct iomap_file *file)
{
	iomap_cache_destroy(&file->cache);
	free(file);
}

int iomap_dev_open(const char *path, bool rdwr,
		   const struct iomap_io_params *params,
		   struct iomap_dev **devp)
{
	struct iomap_dev *dev = calloc(1, sizeof(*dev));
	int ret;

	if (!dev)
		return -ENOMEM;
	dev->params = *params;
	dev->rdwr = rdwr;
	dev->fd = dev->bfd = -1;
	dev->lbs = 512;
	dev->depth = params->queue_depth ? params->queue_depth :
					   IOMAP__DEFAULT_DEPTH;
	if (dev->params.max_folio_order > IOMAP_MAX_FOLIO_ORDER)
		dev->params.max_folio_order = IOMAP_MAX_FOLIO_ORDER;
	dev->lru.limit = params->cache_bytes ? params->cache_bytes :
					       IOMAP__DEFAULT_CACHE;
	ret = -ENOMEM;
	if (posix_memalign(&dev->zero, IOMAP_PAGE_SIZE, IOMAP__ZERO_SIZE))
		goto out_free;
	memset(dev->zero, 0, IOMAP__ZERO_SIZE);
	dev->pops = iomap_path_ops(params->path);
	ret = -EINVAL;
	if (!dev->pops)
		goto out_free;
	dev->bfd = open(path, (rdwr ? O_RDWR : O_RDONLY) | O_CLOEXEC);
	if (dev->bfd < 0) {
		ret = -errno;
		goto out_free;
	}
	ret = dev->pops->open(dev, path);
	if (ret < 0)
		goto out_free;
	*devp = dev;
	return 0;
out_free:
	if (dev->fd >= 0 && dev->fd != dev->bfd)
		close(dev->fd);
	if (dev->bfd >= 0)
		close(dev->bfd);
	free(dev->zero);
	free(dev);
	return ret;
}

int iomap_dev_close(struct iomap_dev *dev)
{
	int ret = 0;

	if (!dev)
		return 0;
	if (dev->io) {
		if (dev->rdwr)
			ret = dev->io->flush(dev->io_priv);
		dev->io->close(dev->io_priv);
	}
	iomap__dax_persist(dev);
	iodev_pmem2_close(&dev->pmem);
	while (dev->nparked)
		iomap_file_free(dev->parked[--dev->nparked]);
	while (dev->nspare)
		free(dev->spare_slots[--dev->nspare]);
	free(dev->discard);
	iomap_lru_release(&dev->lru);
	if (dev->fd != dev->bfd && close(dev->fd) && !ret)
		ret = -errno;
	if (close(dev->bfd) && !ret)
		ret = -errno;
	free(dev->zero);
	free(dev);
	return ret;
}

const char *iomap_dev_backend(const struct iomap_dev *dev)
{
	return dev->io ? dev->io->name : "pmem2";
}

bool iomap_dev_is_direct(const struct iomap_dev *dev)
{
	return dev->dio_ok;
}

unsigned int iomap_dev_dio_align(const struct iomap_dev *dev)
{
	return dev->params.path == IOMAP_IO_DIRECT ? dev->lbs : 1;
}

bool iomap_file_dirty(const struct iomap_file *file)
{
	for (size_t i = 0; i < file->cache.nr; i++)
		if (iomap_folio_is_dirty(file->cache.folios[i]))
			return true;
	return false;
}

/* The parked file of inode @ino, taken off the device's list, or NULL. */
static struct iomap_file *iomap_unpark(struct iomap_dev *dev, uint64_t ino)
{
	for (unsigned int i = 0; i < dev->nparked; i++) {
		struct iomap_file *file = dev->parked[i];

		if (file->parked_ino != ino)
			continue;
		memmove(&dev->parked[i], &dev->parked[i + 1],
			(dev->nparked - i - 1) * sizeof(*dev->parked));
		dev->nparked--;
		return file;
	}
	return NULL;
}

/*
 * Keep the (clean) cache of a closed file for the next open of its inode,
 * as the kernel keeps a file's pages after the last close.  Only on a
 * read-only device: nothing in this process can change the image under it
 * then, while on a writable one a truncate, unlink or block reuse through
 * the filesystem, which the engine does not see, would leave it stale.
 */
static bool iomap_park(struct iomap_file *file)
{
	struct iomap_dev *dev = file->dev;
	struct iomap_file *old;

	if (dev->rdwr || !file->cache.nr || iomap_file_dirty(file))
		return false;
	old = iomap_unpark(dev, file->inode->ino);
	if (old)
		iomap_file_free(old);
	if (dev->nparked == IOMAP__PARKED) {
		iomap_file_free(dev->parked[0]);
		memmove(&dev->parked[0], &dev->parked[1],
			(IOMAP__PARKED - 1) * sizeof(*dev->parked));
		dev->nparked--;
	}
	file->parked_ino = file->inode->ino;
	file->parked_size = file->inode->size;
	file->inode = NULL;
	dev->parked[dev->nparked++] = file;
	return true;
}

/* A new file of @inode, with the cache its last close parked if any. */
static int iomap_file_alloc(struct iomap_dev *dev, struct iomap_inode *inode,
			    struct iomap_file **filep)
{
	struct iomap_file *file = iomap_unpark(dev, inode->ino);
	int ret;

	if (file && file->parked_size == inode->size &&
	    file->cache.blkbits == inode->blkbits) {
		file->ra_next = file->ra_size = 0;
		*filep = file;
		return 0;
	}
	if (file)
		iomap_file_free(file);
	file = calloc(1, sizeof(*file));
	if (!file)
		return -ENOMEM;
	ret = iomap_cache_init(&file->cache, inode->blkbits);
	if (ret < 0) {
		free(file);
		return ret;
	}
	iomap_cache_set_lru(&file->cache, &dev->lru);
	*filep = file;
	return 0;
}

int iomap_file_open(struct iomap_dev *dev, struct iomap_inode *inode,
		    const struct iomap_opset *ops, struct iomap_file **filep)
{
	struct iomap_file *file;
	int ret;

	/* The data paths' bh mapper needs get_block (xattr does not). */
	for (enum iomap_op op = IOMAP_OP_DIRECT; op < IOMAP_OP_COUNT; op++)
		if (iomap_io_mapper(&dev->params, op) == IOMAP_MAPPER_BH &&
		    !ops->get_block)
			return -EOPNOTSUPP;
	ret = iomap_file_alloc(dev, inode, &file);
	if (ret < 0)
		return ret;
	file->dev = dev;
	file->inode = inode;
	file->ops = ops;
	file->saved_cache = inode->cache;
	inode->cache = &file->cache;
	*filep = file;
	return 0;
}

int iomap_file_close(struct iomap_file *file)
{
	int ret;

	if (!file)
		return 0;
	ret = iomap_file_sync(file);
	file->inode->cache = file->saved_cache;
	if (ret || !iomap_park(file))
		iomap_file_free(file);
	return ret;
}

/* Adds the wall time of one operation to the file's statistics. */
#define IOMAP_TIMED(file, expr)                            \
	({                                                 \
		uint64_t iomap__t0 = iomap_stats_now_ns(); \
		__typeof__(expr) iomap__r = (expr);        \
		(file)->inode->stats->wall_ns +=           \
			iomap_stats_now_ns() - iomap__t0;  \
		iomap__r;                                  \
	})

/* ---- the per-path operations ---- */

static ssize_t iomap_dio_read(struct iomap_file *file, void *buf, size_t len,
			      loff_t pos, unsigned int rwf)
{
	return iomap__dio_rw(file, buf, len, pos, false, rwf);
}

static ssize_t iomap_dio_write(struct iomap_file *file, const void *buf,
			       size_t len, loff_t pos, unsigned int rwf)
{
	/* Zeroing past EOF goes through the buffered tables. */
	if (!file->ops->direct_write || !file->ops->buffered_write)
		return -EOPNOTSUPP;
	return iomap__dio_rw(file, (void *)buf, len, pos, true, rwf);
}

static int iomap_dio_zero_range(struct iomap_file *file, loff_t pos,
				uint64_t len)
{
	int ret = iomap__cache_zero(file, pos, len);

	/* A direct-I/O file keeps nothing dirty behind an operation. */
	if (!ret)
		ret = iomap__cache_flush_invalidate(file, pos,
						    pos + (loff_t)len);
	return ret;
}

/* Buffered and DAX honour no IOMAP_RWF_* flag (yet). */
static ssize_t iomap_dax_read(struct iomap_file *file, void *buf, size_t len,
			      loff_t pos, unsigned int rwf)
{
	if (rwf)
		return -EOPNOTSUPP;
	return iomap__dax_rw(file, buf, len, pos, false);
}

static ssize_t iomap_dax_write(struct iomap_file *file, const void *buf,
			       size_t len, loff_t pos, unsigned int rwf)
{
	if (rwf)
		return -EOPNOTSUPP;
	if (!file->ops->dax_write || !file->ops->buffered_write)
		return -EOPNOTSUPP;
	return iomap__dax_rw(file, (void *)buf, len, pos, true);
}

static ssize_t iomap_buffered_read(struct iomap_file *file, void *buf,
				   size_t len, loff_t pos, unsigned int rwf)
{
	if (rwf)
		return -EOPNOTSUPP;
	return iomap__buffered_read(file, buf, len, pos);
}

static ssize_t iomap_buffered_write(struct iomap_file *file, const void *buf,
				    size_t len, loff_t pos, unsigned int rwf)
{
	if (rwf)
		return -EOPNOTSUPP;
	if (!file->ops->buffered_write)
		return -EOPNOTSUPP;
	return iomap__buffered_write(file, buf, len, pos);
}

static const struct iomap__path_ops iomap_buffered_path = {
	.name = "buffered",
	.open = iomap_dev_open_queue,
	.read = iomap_buffered_read,
	.write = iomap_buffered_write,
	.zero_range = iomap__cache_zero,
	.writeback = iomap__writeback,
};

static const struct iomap__path_ops iomap_direct_path = {
	.name = "direct",
	.open = iomap_dev_open_queue,
	.read = iomap_dio_read,
	.write = iomap_dio_write,
	.zero_range = iomap_dio_zero_range,
	/* Zeroing past EOF may leave a folio behind an error: flush it. */
	.writeback = iomap__writeback,
};

static const struct iomap__path_ops iomap_dax_path = {
	.name = "dax",
	.open = iomap_dev_open_pmem,
	.read = iomap_dax_read,
	.write = iomap_dax_write,
	.zero_range = iomap__dax_zero,
	.writeback = iomap__dax_writeback,
};

static const struct iomap__path_ops *iomap_path_ops(enum iomap_io_path path)
{
	static const struct iomap__path_ops *const paths[] = {
		[IOMAP_IO_BUFFERED] = &iomap_buffered_path,
		[IOMAP_IO_DIRECT] = &iomap_direct_path,
		[IOMAP_IO_DAX] = &iomap_dax_path,
	};

	if ((unsigned int)path >= sizeof(paths) / sizeof(paths[0]))
		return NULL;
	return paths[path];
}

/* ---- file operations: checks shared by all paths, then the path ---- */

#define IOMAP_RWF_ALL (IOMAP_RWF_NOWAIT | IOMAP_RWF_OVERWRITE_ONLY)

ssize_t iomap_file_read_flags(struct iomap_file *file, void *buf, size_t len,
			      loff_t pos, unsigned int rwf)
{
	if (pos < 0 || (rwf & ~IOMAP_RWF_ALL) ||
	    (rwf & IOMAP_RWF_OVERWRITE_ONLY))
		return -EINVAL;
	if (!file->ops->read)
		return -EOPNOTSUPP;
	return IOMAP_TIMED(file,
			   file->dev->pops->read(file, buf, len, pos, rwf));
}

ssize_t iomap_file_read(struct iomap_file *file, void *buf, size_t len,
			loff_t pos)
{
	return iomap_file_read_flags(file, buf, len, pos, 0);
}

ssize_t iomap_file_write_flags(struct iomap_file *file, const void *buf,
			       size_t len, loff_t pos, unsigned int rwf)
{
	if (pos < 0 || len > (size_t)(INT64_MAX - pos) ||
	    (rwf & ~IOMAP_RWF_ALL))
		return -EINVAL;
	if (!file->dev->rdwr)
		return -EBADF;
	return IOMAP_TIMED(file,
			   file->dev->pops->write(file, buf, len, pos, rwf));
}

ssize_t iomap_file_write(struct iomap_file *file, const void *buf, size_t len,
			 loff_t pos)
{
	return iomap_file_write_flags(file, buf, len, pos, 0);
}

int iomap_file_zero_range(struct iomap_file *file, loff_t pos, uint64_t len)
{
	if (pos < 0 || len > (uint64_t)(INT64_MAX - pos))
		return -EINVAL;
	if (!file->dev->rdwr)
		return -EBADF;
	if (!file->ops->buffered_write)
		return -EOPNOTSUPP;
	return IOMAP_TIMED(file, file->dev->pops->zero_range(file, pos, len));
}

int iomap_file_truncate_page(struct iomap_file *file, loff_t pos)
{
	unsigned int bs = iomap_blocksize(file->inode);
	loff_t off = pos & (loff_t)(bs - 1);

	if (pos < 0)
		return -EINVAL;
	if (!off)
		return 0;
	return iomap_file_zero_range(file, pos, bs - (uint64_t)off);
}

void iomap_file_invalidate(struct iomap_file *file, loff_t pos)
{
	if (pos < 0)
		pos = 0;
	iomap__cache_drop(file, pos, INT64_MAX);
}

int iomap_file_sync(struct iomap_file *file)
{
	struct iomap_dev *dev = file->dev;
	int ret = 0, err;

	if (dev->pops->writeback)
		ret = dev->pops->writeback(file, 0, INT64_MAX);
	if (!ret && file->wb_error)
		ret = file->wb_error;
	file->wb_error = 0;
	if (!dev->rdwr)
		return ret;
	/* DAX persisted its stores in ->writeback; it has no queue. */
	err = dev->io ? dev->io->flush(dev->io_priv) : 0;
	return ret ? ret : err;
}
