/* SPDX-License-Identifier: GPL-2.0 */
/* io.h - the data paths: move file bytes between memory and the image
 * through the filesystem's mappings (direct, buffered, DAX), or block at a
 * time through the buffer-head emulation. */
#ifndef IOMAPCTL_IO_H
#define IOMAPCTL_IO_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "iomapctl/ioops.h"

enum iomap_io_path {
	IOMAP_IO_BUFFERED = 0, /* our page cache over the image */
	IOMAP_IO_DIRECT, /* O_DIRECT on the image through io_uring */
	IOMAP_IO_DAX, /* the image mapped with libpmem2 */
};

/**
 * struct iomap_io_params - how to open a data path.
 * @path:	direct, buffered or DAX.
 * @mapper:	the mapper of every operation @op_mapper does not name.
 * @queue_depth: direct: requests in flight (0 = default 32).
 * @cache_bytes: buffered: memory bound of the page cache (0 = default).
 * @max_folio_order: buffered: largest folio is 4 KiB << order.
 * @verbose:	say on stderr when a path falls back (no io_uring, no
 *		O_DIRECT on the host filesystem).
 * @iodev:	buffered, direct: Optional request backend used instead of
 *		io_uring (and its sync fallback), e.g. a fault-injecting one
 *		in tests; NULL for the default.
 * @iodev_arg:	handed to @iodev->open in *privp (its configuration).
 * @op_mapper:	per operation (IOMAP_OP_*): 0 for @mapper, else 1 + the
 *		mapper of that operation (--mapper=bh,report=iomap).
 */
struct iomap_io_params {
	enum iomap_io_path path;
	enum iomap_mapper mapper;
	unsigned int queue_depth;
	size_t cache_bytes;
	unsigned int max_folio_order;
	bool verbose;
	const struct iodev_ops *iodev;
	void *iodev_arg;
	unsigned char op_mapper[IOMAP_OP_COUNT];
};

/*
 * True when a device opened with @a moves data exactly as one with @b
 * (verbose only says more about it).
 */
bool iomap_io_params_same(const struct iomap_io_params *a,
			  const struct iomap_io_params *b);
/* The mapper @params gives operation @op. */
enum iomap_mapper iomap_io_mapper(const struct iomap_io_params *params,
				  enum iomap_op op);

struct iomap_dev;
struct iomap_file;
struct iodev_ops;

/* Open the image at @path for data I/O; returns 0 or a negative errno. */
int iomap_dev_open(const char *path, bool rdwr,
		   const struct iomap_io_params *params,
		   struct iomap_dev **devp);
/* Flush and close; returns the first error met. */
int iomap_dev_close(struct iomap_dev *dev);
/*
 * What moves the bytes: "io_uring", "sync" (the pread/pwrite fallback) or
 * "pmem2" (DAX), for -v output and tests.
 */
const char *iomap_dev_backend(const struct iomap_dev *dev);
/* True when the image is read and written with O_DIRECT. */
bool iomap_dev_is_direct(const struct iomap_dev *dev);
/*
 * The alignment iomap_file_read() and iomap_file_write() need of the
 * position, length and memory address: the image's O_DIRECT alignment on
 * the direct path, which refuses anything else with -EINVAL; 1 elsewhere.
 */
unsigned int iomap_dev_dio_align(const struct iomap_dev *dev);

/* Bind @inode (mapped by @ops) to @dev; returns 0 or a negative errno. */
int iomap_file_open(struct iomap_dev *dev, struct iomap_inode *inode,
		    const struct iomap_opset *ops, struct iomap_file **filep);
/* Write back everything dirty and release; returns the first error. */
int iomap_file_close(struct iomap_file *file);
/* True while @file's cache holds data not yet written back. */
bool iomap_file_dirty(const struct iomap_file *file);

/* Bytes read (short at EOF, 0 past it) or a negative errno. */
ssize_t iomap_file_read(struct iomap_file *file, void *buf, size_t len,
			loff_t pos);
/* Bytes written or a negative errno; extends the size as needed. */
ssize_t iomap_file_write(struct iomap_file *file, const void *buf,
			 size_t len, loff_t pos);
/* Per-call flags of iomap_file_read_flags() and iomap_file_write_flags(). */
#define IOMAP_RWF_NOWAIT \
	(1U << 0) /* direct: -EAGAIN rather than block (cached pages in range,
		   * allocation, or the filesystem says -EAGAIN) */
#define IOMAP_RWF_OVERWRITE_ONLY \
	(1U << 1) /* direct write: -EAGAIN unless [pos, pos + len) is inside
		   * i_size and one allocated extent (MAPPED or UNWRITTEN) */

/**
 * iomap_file_read_flags(), iomap_file_write_flags() - as iomap_file_read()
 * and iomap_file_write(), with IOMAP_RWF_* @rwf (0 = the plain call).
 * The flags are for the direct path: elsewhere, or with the buffer-head
 * mapper, a non-zero @rwf is -EOPNOTSUPP; unknown bits are -EINVAL.
 * OVERWRITE_ONLY on a read is -EINVAL.  -EAGAIN means nothing was
 * transferred and the same call without the flag would have blocked
 * (NOWAIT) or needed allocation or zeroing (OVERWRITE_ONLY); the caller
 * retries without it, as io_uring does from a worker thread.  A NOWAIT call
 * whose later mapping would block returns the short count done before it.
 */
ssize_t iomap_file_read_flags(struct iomap_file *file, void *buf, size_t len,
			      loff_t pos, unsigned int rwf);
ssize_t iomap_file_write_flags(struct iomap_file *file, const void *buf,
			       size_t len, loff_t pos, unsigned int rwf);
/**
 * struct iomap_read_req - one read of a batch.
 * @file, @buf, @len, @pos: as iomap_file_read(); a request whose @buf,
 *		@len or @pos is not aligned to the image's O_DIRECT alignment
 *		(4 KiB always is) or on the DAX path is read at once, alone.
 * @res:	set by the batch: bytes read (short at EOF) or -errno.
 */
struct iomap_read_req {
	struct iomap_file *file;
	void *buf;
	size_t len;
	loff_t pos;
	ssize_t res;
};

struct iomap_read_batch;

/**
 * iomap_read_batch_start() - start @n reads of files of one device with all
 * their requests in flight together, and return without waiting for them.
 * Each reads the direct way whatever the path: the file's cached pages over
 * its range are written back and dropped first.  Until
 * iomap_read_batch_wait(), @reqs, their buffers and the files' ranges are
 * the batch's.  Returns 0 with *@bp to wait on, or -errno (-EINVAL for no
 * request or files of different devices) with nothing started.
 */
int iomap_read_batch_start(struct iomap_read_req *reqs, unsigned int n,
			   struct iomap_read_batch **bp);
/*
 * Wait for the batch, set every @res and free it.  A failed request fails
 * every read of the batch still in flight (read them alone to tell which);
 * returns that error or 0.  NULL is a no-op.
 */
int iomap_read_batch_wait(struct iomap_read_batch *b);
/* Afterwards [pos, pos + len) reads as zeros. */
int iomap_file_zero_range(struct iomap_file *file, loff_t pos, uint64_t len);
/* Zero from @pos to the end of its block (before a truncate to @pos). */
int iomap_file_truncate_page(struct iomap_file *file, loff_t pos);
/* Drop cached data at and past @pos (after the filesystem truncated). */
void iomap_file_invalidate(struct iomap_file *file, loff_t pos);
/* Write back dirty data and wait for it. */
int iomap_file_sync(struct iomap_file *file);

/**
 * struct iomap_space_ops - the filesystem's half of the size and space
 * sequences below (engine/file-ops.c).  Each member is Optional; the
 * sequence that needs a missing one returns -EOPNOTSUPP.  Returns 0 or a
 * negative errno; each updates @inode->size where the size changes.
 * @setsize:	Shrink (freeing blocks) or grow (leaving a hole) to @size.
 * @punch:	Free the blocks of [@pos, @pos + @len), zeroing partial
 *		blocks at the edges on disk.
 * @falloc:	Preallocate [@pos, @pos + @len), growing the size unless
 *		@keep_size.
 * @unwritten:	@falloc makes unwritten extents (which read as zeros).
 */
struct iomap_space_ops {
	int (*setsize)(struct iomap_inode *inode, loff_t size);
	int (*punch)(struct iomap_inode *inode, loff_t pos, uint64_t len);
	int (*falloc)(struct iomap_inode *inode, loff_t pos, uint64_t len,
		      bool keep_size);
	bool unwritten;
};

/*
 * The sequences that move a file's size or blocks, with the page cache
 * kept right around the filesystem's step; commands call these and never
 * @ops directly.  Ranges: @len > 0, @pos + @len <= INT64_MAX, else -EINVAL.
 *
 * iomap_file_setsize() - truncate(2): zero the tail of the block holding
 * the new EOF (shrinking) or the old one (growing), write back, ->setsize,
 * drop the cache past @size.
 * iomap_file_punch() - FALLOC_FL_PUNCH_HOLE: write back, ->punch, drop the
 * cache from the block holding @pos.
 * iomap_file_falloc() - fallocate(2) mode 0: when growing, zero the old
 * EOF block's tail first; ->falloc.
 * iomap_file_falloc_zero() - FALLOC_FL_ZERO_RANGE: grow as
 * iomap_file_setsize() unless @keep_size, punch and preallocate the whole
 * blocks inside (zero them through the cache without ->punch), zero the
 * partial blocks at the edges through the cache.
 */
int iomap_file_setsize(struct iomap_file *file,
		       const struct iomap_space_ops *ops, loff_t size);
int iomap_file_punch(struct iomap_file *file, const struct iomap_space_ops *ops,
		     loff_t pos, uint64_t len);
int iomap_file_falloc(struct iomap_file *file,
		      const struct iomap_space_ops *ops, loff_t pos,
		      uint64_t len, bool keep_size);
int iomap_file_falloc_zero(struct iomap_file *file,
			   const struct iomap_space_ops *ops, loff_t pos,
			   uint64_t len, bool keep_size);

#endif /* IOMAPCTL_IO_H */
