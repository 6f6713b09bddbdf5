/* SPDX-License-Identifier: GPL-2.0 */
/* internal.h - helpers shared by the engine's files, not part of its API. */
#ifndef IOMAPCTL_ENGINE_INTERNAL_H
#define IOMAPCTL_ENGINE_INTERNAL_H

#include <stddef.h>
#include <stdio.h>
#include <sys/uio.h>

#include "iomapctl/bh.h"
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

/* ---- the LRU of the folios of one device (pagecache.c) ---- */

/**
 * struct iomap_lru - least-recently-used order of the folios of several
 * caches, for a memory bound shared by the files of one device.
 * @head:	most recently used folio.
 * @tail:	least recently used folio.
 * @bytes:	memory held by the folios on the list.
 * @limit:	the bound the owner of the list keeps @bytes under.
 * @pool:	memory of freed folios by order, for reuse (a singly linked
 *		list through the first word of each buffer).
 * @pool_bytes:	memory in @pool; at most @limit / 4.
 */
struct iomap_lru {
	struct iomap_folio *head;
	struct iomap_folio *tail;
	size_t bytes;
	size_t limit;
	void *pool[IOMAP_MAX_FOLIO_ORDER + 1];
	size_t pool_bytes;
};

/*
 * Keep the folios of @cache on @lru from now on; call on an empty cache.
 * Adding a folio puts it at the head, removing unlinks it.
 */
void iomap_cache_set_lru(struct iomap_cache *cache, struct iomap_lru *lru);
/* Free the memory pooled by @lru (once no cache uses it any more). */
void iomap_lru_release(struct iomap_lru *lru);
/* Mark @folio most recently used. */
void iomap_folio_touch(struct iomap_folio *folio);
/* The least recently used folio that is not pinned, or NULL. */
struct iomap_folio *iomap_lru_victim(const struct iomap_lru *lru);

/* ---- the data paths (io.c and the per-path files) ---- */

#define IOMAP__MAX_IO (1U << 20) /* largest single device request */
#define IOMAP__MAX_IOV 64 /* segments of one vectored request */
#define IOMAP__PLUG_GAP (64U << 10) /* bytes a plugged read reads past */
#define IOMAP__SPARE_QUEUES 4 /* slot arrays a device keeps for reuse */
#define IOMAP__ZERO_SIZE (64U << 10) /* the shared zero buffer */
#define IOMAP__DEFAULT_DEPTH 32
#define IOMAP__DEFAULT_CACHE (64UL << 20)
#define IOMAP__DAX_UNMAP (2UL << 20) /* DAX pages unmapped at once */
#define IOMAP__PARKED 16 /* closed files whose cache a device keeps */

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
 * @writeback:	Optional.  Write back the dirty data of [@start, @end)
 *		(DAX: persist what the device stored).  Returns 0 or the
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
 * @spare_slots: request slots of finished operations, kept for the next
 *		(@nspare of them: read batches keep two queues busy at once).
 * @discard:	where plugged reads read the gaps they join across
 *		(IOMAP__PLUG_GAP bytes, made at the first use).
 * @pops:	the operations of @params.path, chosen once at open.
 * @dax_lo, @dax_hi: the span of the DAX mapping copied through whose
 *		pages are still mapped (dax.c drops them in pieces).
 * @dax_dirty_lo, @dax_dirty_hi: device addresses bounding what the DAX
 *		path stored and has not persisted yet (empty when equal).
 * @parked:	closed files of a read-only device whose cache is kept for
 *		the next open of the same inode (@nparked of them, oldest
 *		first); their folios stay on @lru, evicted as any other.
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
	struct iomap__io *spare_slots[IOMAP__SPARE_QUEUES];
	unsigned int nspare;
	void *discard;
	const struct iomap__path_ops *pops;
	uintptr_t dax_lo, dax_hi;
	uint64_t dax_dirty_lo, dax_dirty_hi;
	struct iomap_file *parked[IOMAP__PARKED];
	unsigned int nparked;
};

/**
 * struct iomap_file - an inode bound to a device.
 * @dev, @inode, @ops: what iomap_file_open() was given.
 * @cache:	the file's folios (the inode's cache while open).
 * @saved_cache: the inode's cache before, restored on close.
 * @ra_next:	where a sequential reader would read next.
 * @ra_size:	current readahead window in bytes.
 * @wb_error:	first writeback error not yet reported.
 * @parked_ino, @parked_size: the inode a parked file (closed, its cache
 *		kept by the device) was of, and its size then.
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
	uint64_t parked_ino;
	loff_t parked_size;
};

/*
 * The mapping source of operation @op of @file: its mapper from the
 * device's parameters, @ops (the table of the operation) and get_block.
 */
static inline struct iomap_source
iomap__file_source(const struct iomap_file *file, enum iomap_op op,
		   const struct iomap_ops *ops)
{
	return (struct iomap_source){
		.mapper = iomap_io_mapper(&file->dev->params, op),
		.ops = ops,
		.get_block = file->ops->get_block,
	};
}

/* The file whose cache @cache is (every cache on a device's LRU is one). */
static inline struct iomap_file *iomap__cache_file(struct iomap_cache *cache)
{
	return (struct iomap_file *)((char *)cache -
				     offsetof(struct iomap_file, cache));
}

/* The buffer heads the bh and hybrid mappers keep on @folio, or NULL. */
static inline struct iomap_bh *iomap__folio_bhs(const struct iomap_folio *folio)
{
	return folio->private;
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

/* ---- page cache (filemap.c) ---- */

/*
 * Folios covering [start, end), created (evicting others to stay under the
 * bound) and pinned; the caller unpins with iomap__cache_unpin().
 */
int iomap__cache_grab(struct iomap_file *file, loff_t start, loff_t end);
void iomap__cache_unpin(struct iomap_file *file, loff_t start, loff_t end);
/* The folio holding @pos, pinned; a new one is sized for [pos, hint_end). */
struct iomap_folio *iomap__cache_grab_one(struct iomap_file *file, loff_t pos,
					  loff_t hint_end, int *errp);
/* A quarter of the memory bound (at least a page): the most one
 * operation keeps pinned or writes back for room. */
size_t iomap__cache_budget(const struct iomap_file *file);
/* The largest folio order for @file: the configured one, or larger when
 * its blocks are. */
unsigned int iomap__max_order(const struct iomap_file *file);
/* Write back and drop the folios over [start, end) (before direct I/O). */
int iomap__cache_flush_invalidate(struct iomap_file *file, loff_t start,
				  loff_t end);
/* Drop the folios over [start, end) without writing them back. */
void iomap__cache_drop(struct iomap_file *file, loff_t start, loff_t end);

/*
 * Copy @len bytes of @buf into the cache at @pos by the file's write
 * mapper (write_begin, copy, write_end per folio), moving i_size.  Bytes
 * copied, or -errno when none.
 */
ssize_t iomap__cache_write(struct iomap_file *file, const void *buf, size_t len,
			   loff_t pos);
/* Make [pos, pos + len) read as zeros through the cache (zero_range). */
int iomap__cache_zero(struct iomap_file *file, loff_t pos, uint64_t len);

/* Write back dirty folios overlapping [start, end) and wait (writeback.c). */
int iomap__writeback(struct iomap_file *file, loff_t start, loff_t end);

/* ---- buffered reads (buffered-io.c) ---- */

ssize_t iomap__buffered_read(struct iomap_file *file, void *buf, size_t len,
			     loff_t pos);
ssize_t iomap__buffered_write(struct iomap_file *file, const void *buf,
			      size_t len, loff_t pos);

/* ---- direct I/O (direct-io.c) ---- */

ssize_t iomap__dio_rw(struct iomap_file *file, void *buf, size_t len,
		      loff_t pos, bool write, unsigned int rwf);

/* ---- DAX (dax.c) ---- */

ssize_t iomap__dax_rw(struct iomap_file *file, void *buf, size_t len,
		      loff_t pos, bool write);
int iomap__dax_zero(struct iomap_file *file, loff_t pos, uint64_t len);
/*
 * Persist everything the DAX path stored on @dev since the last persist:
 * ->writeback of the DAX path (fsync and close of any file reach it) and
 * the device's close.  The stores themselves only store.
 */
void iomap__dax_persist(struct iomap_dev *dev);
int iomap__dax_writeback(struct iomap_file *file, loff_t start, loff_t end);

/* ---- buffer heads (bh.c) ---- */

/* The bh mapping source (iter.c's table). */
int iomap__bh_begin(struct iomap_iter *iter, const struct iomap_source *src);
int iomap__bh_end(struct iomap_iter *iter, const struct iomap_source *src,
		  loff_t length, ssize_t written);
/* The buffer head of the block of @folio at @pos if it is mapped (not
 * delayed), or NULL: a mapping that needs no get_block. */
const struct iomap_bh *iomap__folio_bh_mapped(const struct iomap_folio *folio,
					      loff_t pos);
/*
 * Remember mapping @m in the buffer heads of the blocks of @folio in
 * [pos, pos + len), attaching them on first use (counted in
 * @st->bh_allocated).  Returns 0 or -ENOMEM.
 */
int iomap__folio_bh_record(struct iomap_folio *folio, const struct iomap *m,
			   loff_t pos, uint64_t len, struct iomap_stats *st);

#endif /* IOMAPCTL_ENGINE_INTERNAL_H */
