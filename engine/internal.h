/* SPDX-License-Identifier: GPL-2.0 */
/* internal.h - helpers shared by the engine's files, not part of its API. */
#ifndef IOMAPCTL_ENGINE_INTERNAL_H
#define IOMAPCTL_ENGINE_INTERNAL_H

#include <stdio.h>
#include <sys/uio.h>

#include "iomapctl/iodev.h"
#include "iomapctl/io.h"
#include "iomapctl/iomap.h"
#include "iomapctl/pagecache.h"

/*
 * A broken invariant: report where on stderr and let the caller return
 * -EIO.  No once-only latch: that would be global mutable state.
 */
#define IOMAP_WARN_ON(cond)                                                   \
	({                                                                     \
		bool iomap__c = !!(cond);                                      \
		if (iomap__c)                                                  \
			iomap__warn(__FILE__, __LINE__, #cond);                \
		iomap__c;                                                      \
	})

void iomap__warn(const char *file, int line, const char *cond);

/* ---- the data paths (io.c and the per-path files) ---- */

#define IOMAP__MAX_IO (1U << 20) /* largest single device request */
#define IOMAP__MAX_IOV 64 /* segments of one vectored request */
#define IOMAP__PLUG_GAP (64U << 10) /* bytes a plugged read reads past */
#define IOMAP__ZERO_SIZE (64U << 10) /* the shared zero buffer */
#define IOMAP__DEFAULT_DEPTH 32
#define IOMAP__DEFAULT_CACHE (64UL << 20)

struct iomap_file;

/**
 * struct iomap__path_ops - one data path (buffered, direct, DAX), chosen
 * once by iomap_dev_open() so file operations dispatch without a switch.
 * @name:	for messages.
 * @open:	Required.  Open the image's I/O channel: @dev->bfd is open
 *		already; set @dev->fd (and @dev->lbs) and the backend.
 *		Returns 0 or a negative errno.
 * @read:	Required.  Read [@pos, @pos + @len) (@pos checked, the opset
 *		has ->read) with IOMAP_RWF_* @rwf (known bits only); returns
 *		bytes read (short at EOF) or -errno, -EOPNOTSUPP for an @rwf
 *		the path does not honour.
 * @write:	Required.  Write (@pos, @len checked, device writable) with
 *		@rwf; returns bytes written or -errno, -EOPNOTSUPP when the
 *		opset lacks the tables this path needs or for @rwf as @read.
 * @zero_range:	Required.  Make [@pos, @pos + @len) read as zeros; returns 0
 *		or -errno.
 * @writeback:	Optional.  Write back the dirty data of [@start, @end);
 *		NULL when the path keeps nothing dirty (DAX).  Returns 0 or the
 *		first error.
 */
struct iomap__path_ops {
	const char *name;
	int (*open)(struct iomap_dev *dev, const char *path);
	ssize_t (*read)(struct iomap_file *file, void *buf, size_t len,
			loff_t pos, unsigned int rwf);
	ssize_t (*write)(struct iomap_file *file, const void *buf, size_t len,
			 loff_t pos, unsigned int rwf);
	int (*zero_range)(struct iomap_file *file, loff_t pos, uint64_t len);
	int (*writeback)(struct iomap_file *file, loff_t start, loff_t end);
};

/**
 * struct iomap_dev - an image opened for one data path.
 * @params:	how it was opened (defaults filled in).
 * @rdwr:	opened for writing.
 * @fd:		the image, with O_DIRECT when @dio_ok.
 * @bfd:	the image without O_DIRECT, for requests not aligned to @lbs.
 * @dio_ok:	the host filesystem accepted O_DIRECT.
 * @lbs:	logical block size: the alignment O_DIRECT needs.
 * @io:		request backend (io_uring, or sync as the fallback).
 * @io_priv:	its state.
 * @depth:	requests in flight at most.
 * @pmem:	the DAX mapping (path DAX only).
 * @lru:	all cached folios of the files of this device.
 * @zero:	IOMAP__ZERO_SIZE aligned zero bytes, never written to.
 * @zero_fixed:	1 + registered-buffer index of @zero, or 0.
 * @spare_slots: request slots of a finished operation, kept for the next.
 * @pops:	the operations of @params.path, chosen once at open.
 */
struct iomap_dev {
	struct iomap_io_params params;
	bool rdwr;
	int fd;
	int bfd;
	bool dio_ok;
	unsigned int lbs;
	const struct iodev_ops *io;
	void *io_priv;
	unsigned int depth;
	struct iodev_pmem2 pmem;
	struct iomap_lru lru;
	void *zero;
	unsigned int zero_fixed;
	struct iomap__io *spare_slots;
	const struct iomap__path_ops *pops;
};

/**
 * struct iomap_file - an inode bound to a device.
 * @dev, @inode, @ops: what iomap_file_open() was given.
 * @cache:	the file's folios (the inode's cache while open).
 * @saved_cache: the inode's cache before, restored on close.
 * @ra_next:	where a sequential reader would read next.
 * @ra_size:	current readahead window in bytes.
 * @wb_error:	first writeback error not yet reported.
 */
struct iomap_file {
	struct iomap_dev *dev;
	struct iomap_inode *inode;
	const struct iomap_opset *ops;
	struct iomap_cache cache;
	struct iomap_cache *saved_cache;
	loff_t ra_next;
	size_t ra_size;
	int wb_error;
};

static inline bool iomap__bh_mode(const struct iomap_file *file)
{
	return file->dev->params.mapper == IOMAP_MAPPER_BH;
}

/* ---- request queue (iodev.c) ---- */

struct iomap__io;

/* A piece of a folio a request reads into (to mark it uptodate). */
struct iomap__seg {
	struct iomap_folio *folio;
	size_t off;
	size_t len;
};

/* Completion of one request: @error is 0 or the negative errno. */
typedef void (*iomap__io_done_t)(struct iomap__io *io, int error);

/**
 * struct iomap__io - a request slot of a queue.
 * @req:	what the backend sees.
 * @iov:	the segments; @req.iov points into it (advanced on a short
 *		transfer).
 * @len:	bytes still to transfer.
 * @done:	called once the whole request completed or failed.
 * @priv, @off: for @done (e.g. the folio and the offset in it).
 * @ioend:	for writeback completions.
 */
struct iomap__io {
	struct iodev_req req;
	size_t len;
	iomap__io_done_t done;
	void *priv;
	size_t off;
	struct iomap_ioend ioend;
	/* reset by iomap__ioq_get() up to here */
	struct iovec iov[IOMAP__MAX_IOV];
	struct iomap__seg seg[IOMAP__MAX_IOV];
	unsigned int nseg;
	struct iomap__ioq *q;
	bool counted;
	bool busy;
};

/**
 * struct iomap__ioq - requests of one operation, up to @dev->depth in
 * flight; the first error sticks in @error.
 */
struct iomap__ioq {
	struct iomap_dev *dev;
	struct iomap_stats *stats;
	struct iomap__io *slots;
	unsigned int nslots;
	unsigned int inflight;
	int error;
	/*
	 * @plug: requests are held back, and one that starts where the held
	 * one ends joins it as another segment (files laid out one after
	 * another become one request), until the queue is kicked or waited.
	 * With @discard (IOMAP__PLUG_GAP bytes, the queue owner's), a read
	 * also joins across a gap of up to that many bytes read into it:
	 * one larger request costs less than two.
	 */
	bool plug;
	struct iomap__io *plugged;
	void *discard;
};

int iomap__ioq_init(struct iomap__ioq *q, struct iomap_dev *dev,
		    struct iomap_stats *stats);
/* A free slot (waiting for completions if needed), or NULL on -ENOMEM. */
struct iomap__io *iomap__ioq_get(struct iomap__ioq *q);
/* Submit a slot filled with iov[]/req.niov/req.addr/req.write. */
int iomap__ioq_submit(struct iomap__ioq *q, struct iomap__io *io);
/* One contiguous request; @done may be NULL. */
int iomap__ioq_rw(struct iomap__ioq *q, uint64_t addr, void *buf, size_t len,
		  bool write, iomap__io_done_t done, void *priv, size_t off);
/* One synchronous request outside any queue (read-modify-write). */
int iomap__dev_rw_sync(struct iomap_dev *dev, struct iomap_stats *stats,
		       uint64_t addr, void *buf, size_t len, bool write);
/* Wait for everything in flight; returns the first error of the queue. */
int iomap__ioq_wait(struct iomap__ioq *q);
/*
 * Hand what is queued to the backend and take the completions already
 * there, without waiting: the requests run while the caller does other
 * work.  Returns 0 or -errno.
 */
int iomap__ioq_kick(struct iomap__ioq *q);
/* Wait and free; returns the first error. */
int iomap__ioq_destroy(struct iomap__ioq *q);

/* ---- page cache (buffered-io.c, writeback.c) ---- */

/*
 * Folios covering [start, end), created (evicting others to stay under the
 * bound) and pinned; the caller unpins with iomap__cache_unpin().
 */
int iomap__cache_grab(struct iomap_file *file, loff_t start, loff_t end);
void iomap__cache_unpin(struct iomap_file *file, loff_t start, loff_t end);
/* The folio holding @pos, pinned; a new one is sized for [pos, hint_end). */
struct iomap_folio *iomap__cache_grab_one(struct iomap_file *file, loff_t pos,
					  loff_t hint_end, int *errp);
/* Write back and drop the folios over [start, end) (before direct I/O). */
int iomap__cache_flush_invalidate(struct iomap_file *file, loff_t start,
				  loff_t end);
/* Drop the folios over [start, end) without writing them back. */
void iomap__cache_drop(struct iomap_file *file, loff_t start, loff_t end);

/* Read context of a folio fill: requests merge while contiguous. */
struct iomap__readctx {
	struct iomap_file *file;
	struct iomap__ioq q;
	struct iomap__io *cur; /* request being built, not yet submitted */
	uint64_t cur_addr_end;
	loff_t cur_pos_end;
	bool no_merge;
};

/* Bring the non-uptodate blocks of [pos, pos + len) in, by mapping @m. */
int iomap__read_range(struct iomap__readctx *rc, const struct iomap *m,
		      loff_t pos, uint64_t len);
int iomap__read_flush(struct iomap__readctx *rc);

/* Make the partial block at @bpos of @folio ready for a write of
 * [wpos, wpos + wlen) by mapping @src (read or zero what is not written). */
int iomap__write_prep_block(struct iomap_file *file, struct iomap_folio *folio,
			    const struct iomap *src, loff_t bpos, loff_t wpos,
			    uint64_t wlen);
/* Copy (or zero when @buf is NULL) into the folio, mark uptodate+dirty. */
void iomap__write_copy(struct iomap_file *file, struct iomap_folio *folio,
		       const uint8_t *buf, loff_t pos, size_t len);

/* Write back dirty folios overlapping [start, end) and wait. */
int iomap__writeback(struct iomap_file *file, loff_t start, loff_t end);

ssize_t iomap__buffered_read(struct iomap_file *file, void *buf, size_t len,
			     loff_t pos);
ssize_t iomap__buffered_write(struct iomap_file *file, const void *buf,
			      size_t len, loff_t pos);
int iomap__buffered_zero(struct iomap_file *file, loff_t pos, uint64_t len);

/* ---- direct I/O (direct-io.c) ---- */

/**
 * struct iomap__dio - one direct I/O.
 * @file:	the file.
 * @q:		its requests.
 * @buf:	user memory of @pos.
 * @pos:	file offset of the request.
 * @write:	direction.
 * @dio_flags:	IOMAP_DIO_* for ->end_io.
 * @rwf:	IOMAP_RWF_* of the call.
 */
struct iomap__dio {
	struct iomap_file *file;
	struct iomap__ioq *q; /* several reads may share one (read-batch.c) */
	uint8_t *buf;
	loff_t pos;
	bool write;
	unsigned int dio_flags;
	unsigned int rwf;
	size_t want; /* bytes a read returns, short at EOF */
};

/* Wait for a direct write's requests before the next mapping call. */
int iomap__dio_settle(struct iomap__dio *dio);
/* Do the part of a direct I/O the current mapping of @iter covers. */
int iomap__dio_range(struct iomap__dio *dio, const struct iomap_iter *iter);
ssize_t iomap__dio_rw(struct iomap_file *file, void *buf, size_t len,
		      loff_t pos, bool write, unsigned int rwf);
/*
 * A direct read in two halves, so several can share @dio->q: the start
 * maps and queues (returning the bytes mapped, 0 or -errno), the result
 * is taken once the queue has drained with error @err.
 */
ssize_t iomap__dio_read_start(struct iomap__dio *dio, size_t len);
ssize_t iomap__dio_read_result(struct iomap__dio *dio, ssize_t done, int err);

/* ---- DAX (dax.c) ---- */

struct iomap__dax {
	struct iomap_file *file;
	uint8_t *buf; /* user memory of @pos; NULL to zero */
	loff_t pos;
	bool write;
	bool zero;
};

int iomap__dax_range(struct iomap__dax *dx, const struct iomap_iter *iter);
ssize_t iomap__dax_rw(struct iomap_file *file, void *buf, size_t len,
		      loff_t pos, bool write);
int iomap__dax_zero(struct iomap_file *file, loff_t pos, uint64_t len);

/* ---- buffer-head emulation (bh-io.c) ---- */

/* A one-block mapping describing @bh (for the shared per-type helpers). */
void iomap__bh_to_iomap(const struct iomap_inode *inode, loff_t pos,
			const struct iomap_bh *bh, struct iomap *m);
int iomap__bh_read_folios(struct iomap__readctx *rc, loff_t start, loff_t end);
int iomap__bh_write_chunk(struct iomap_file *file, struct iomap_folio *folio,
			  const uint8_t *buf, loff_t pos, size_t len);
int iomap__bh_zero(struct iomap_file *file, loff_t pos, uint64_t len);
int iomap__bh_wb_map(struct iomap_file *file, struct iomap_folio *folio,
		     unsigned int block, struct iomap *m);
/* True when writeback of @block needs no get_block call. */
bool iomap__bh_wb_mapped(const struct iomap_folio *folio, unsigned int block);
void iomap__bh_wb_done(struct iomap_file *file, struct iomap_folio *folio,
		       unsigned int block);
ssize_t iomap__bh_dio_rw(struct iomap__dio *dio, size_t len);
ssize_t iomap__bh_dax_rw(struct iomap__dax *dx, size_t len);

#endif /* IOMAPCTL_ENGINE_INTERNAL_H */
