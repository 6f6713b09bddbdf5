/* SPDX-License-Identifier: GPL-2.0 */
/* ioops.h - the filesystem hooks of the data paths: direct I/O and writeback. */
#ifndef IOMAPCTL_IOOPS_H
#define IOMAPCTL_IOOPS_H

#include "iomapctl/bh.h"
#include "iomapctl/iomap.h"

/* dio_flags passed to iomap_dio_ops.end_io */
#define IOMAP_DIO_UNWRITTEN (1U << 0) /* convert unwritten extents */
#define IOMAP_DIO_COW (1U << 1) /* remap the copy-on-write staging extent */

/**
 * struct iomap_bio - one device request built by the engine.
 * @addr:	device byte address.
 * @file_offset: file byte offset the data belongs to.
 * @buf:	memory to read into or write from.
 * @len:	bytes.
 * @write:	true for a write.
 */
struct iomap_bio {
	uint64_t addr;
	loff_t file_offset;
	void *buf;
	size_t len;
	bool write;
};

/**
 * struct iomap_dio_ops - filesystem hooks around direct I/O.
 * @end_io:	Optional.  Called once the I/O of [@pos, @pos + @size) has
 *		completed with @error (0 or negative errno) and IOMAP_DIO_*
 *		@dio_flags; converts unwritten extents, updates the size.
 *		Returns 0 or a negative errno.
 * @submit_io:	Optional.  Submits @bio instead of the engine; returns 0 or
 *		a negative errno.
 */
struct iomap_dio_ops {
	int (*end_io)(struct iomap_inode *inode, loff_t pos, ssize_t size,
		      int error, unsigned int dio_flags);
	int (*submit_io)(const struct iomap_iter *iter, struct iomap_bio *bio,
			 loff_t file_offset);
};

/**
 * struct iomap_ioend - a run of contiguous dirty blocks written back as one
 * request.
 * @io_offset:	file byte offset.
 * @io_size:	bytes.
 * @io_addr:	device byte address.
 * @io_flags:	IOMAP_IOEND_* bits.
 */
struct iomap_ioend {
	loff_t io_offset;
	uint64_t io_size;
	uint64_t io_addr;
	unsigned int io_flags;
};

#define IOMAP_IOEND_SHARED (1U << 0) /* shared (COW) blocks */
#define IOMAP_IOEND_UNWRITTEN (1U << 1) /* unwritten: convert on completion */
#define IOMAP_IOEND_BOUNDARY (1U << 2) /* do not merge with the previous */

/**
 * struct iomap_writepage_ctx - state of one writeback pass.
 * @inode:	the file written back.
 * @iomap:	the mapping ->map_blocks last returned; it may be reused for
 *		following blocks it covers.
 * @private:	for the filesystem.
 */
struct iomap_writepage_ctx {
	struct iomap_inode *inode;
	struct iomap iomap;
	void *private;
};

/**
 * struct iomap_writeback_ops - filesystem hooks of writeback.
 * @map_blocks:	Required.  Make @wpc->iomap cover @offset (allocating
 *		delayed blocks); @len is the dirty length the engine wants.
 *		Returns 0 or a negative errno.
 * @submit:	Optional.  Called after the I/O of @ioend completed with
 *		@status, e.g. to convert unwritten extents.  Returns 0 or a
 *		negative errno.
 */
struct iomap_writeback_ops {
	int (*map_blocks)(struct iomap_writepage_ctx *wpc,
			  struct iomap_inode *inode, loff_t offset,
			  uint64_t len);
	int (*submit)(struct iomap_writepage_ctx *wpc,
		      const struct iomap_ioend *ioend, int status);
};

/**
 * struct iomap_opset - the mapping tables of one filesystem, one per
 * operation, as the kernel's filesystems pass different ops to each entry
 * point.  Every member is Optional: NULL means the filesystem cannot do that
 * operation and the engine returns -EOPNOTSUPP.
 * @read:	buffered and direct reads (flags 0 or IOMAP_DIRECT).
 * @report:	fiemap, seek, bmap and `map` (IOMAP_REPORT).
 * @xattr:	where the extended attributes live (FIEMAP_FLAG_XATTR).
 * @buffered_write: buffered writes, zero-range and truncate-page.
 * @direct_write: direct writes (IOMAP_DIRECT | IOMAP_WRITE).
 * @dax_write:	DAX writes (IOMAP_DAX | IOMAP_WRITE).
 * @dio:	hooks around direct I/O.
 * @writeback:	hooks of page-cache writeback.
 * @get_block:	the block-at-a-time mapper of the buffer-head emulation.
 */
struct iomap_opset {
	const struct iomap_ops *read;
	const struct iomap_ops *report;
	const struct iomap_ops *xattr;
	const struct iomap_ops *buffered_write;
	const struct iomap_ops *direct_write;
	const struct iomap_ops *dax_write;
	const struct iomap_dio_ops *dio;
	const struct iomap_writeback_ops *writeback;
	iomap_get_block_t get_block;
};

#endif /* IOMAPCTL_IOOPS_H */
