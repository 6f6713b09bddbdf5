/* SPDX-License-Identifier: GPL-2.0 */
/* iodev.h - device backends: how the engine's requests reach the image
 * (io_uring, pread/pwrite) and how the image is mapped for DAX (libpmem2). */
#ifndef IOMAPCTL_IODEV_H
#define IOMAPCTL_IODEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

/**
 * struct iodev_req - one vectored request to the image.
 * @addr:	device byte address.
 * @iov:	memory; owned by the submitter, valid until the request is
 *		reaped.
 * @niov:	entries in @iov.
 * @write:	true for a write.
 * @res:	on completion: bytes transferred (possibly fewer than asked)
 *		or a negative errno.
 * @fixed:	1 + the index ->register_buffer returned for the buffer that
 *		holds the single segment, or 0 for ordinary memory.
 */
struct iodev_req {
	uint64_t addr;
	struct iovec *iov;
	unsigned int niov;
	bool write;
	ssize_t res;
	unsigned int fixed;
};

/* iodev_ops.caps bits */
#define IODEV_CAP_ASYNC (1U << 0) /* several requests in flight */

/**
 * struct iodev_ops - a request backend.
 * @name:	for messages ("io_uring", "sync").
 * @open:	Required.  Set up a backend on @fd with room for @depth
 *		requests in flight; stores its state in *@privp, which
 *		holds iomap_io_params.iodev_arg on entry (NULL for the
 *		built-in backends; a test backend reads its configuration
 *		there).  Returns 0,
 *		-ENOSYS/-EPERM when the kernel refuses the backend, or another
 *		negative errno.
 * @submit:	Required.  Queue @req; the caller never has more than @depth
 *		requests queued or in flight.  Returns 0 or a negative errno.
 * @reap:	Required.  Hand back one completed request in *@reqp and
 *		return 1; return 0 when none is complete and @wait is false (or
 *		nothing is in flight), or a negative errno.
 * @flush:	Required.  Make completed writes durable.  0 or -errno.
 * @close:	Required.  Release the backend; nothing may be in flight.
 * @caps:	IODEV_CAP_* bits.
 * @register_buffer: Optional.  Pin [@buf, @buf + @len) for requests with
 *		@fixed set (io_uring registered buffers: no page pinning per
 *		request).  Called at most once; returns the index or -errno.
 */
struct iodev_ops {
	const char *name;
	int (*open)(void **privp, int fd, unsigned int depth);
	int (*submit)(void *priv, struct iodev_req *req);
	int (*reap)(void *priv, struct iodev_req **reqp, bool wait);
	int (*flush)(void *priv);
	void (*close)(void *priv);
	unsigned int caps;
	int (*register_buffer)(void *priv, void *buf, size_t len);
};

/* Requests submitted through liburing (io-uring.c). */
extern const struct iodev_ops iodev_uring_ops;
/* Requests done at once with preadv/pwritev (io-sync.c). */
extern const struct iodev_ops iodev_sync_ops;

/**
 * struct iodev_pmem2 - the image mapped with libpmem2 (io-pmem2.c).
 * @base:	first byte of the mapping (device address 0).
 * @size:	bytes mapped.
 * @memcpy_fn:	copy into the mapping (persistent with flags 0).
 * @memset_fn:	fill the mapping (persistent with flags 0).
 * @store_flags: flags for @memcpy_fn and @memset_fn that store with
 *		non-temporal stores and leave the persisting to one
 *		iodev_pmem2_persist() of everything stored (chosen from the
 *		mapping's store granularity).
 * @priv:	libpmem2 objects.
 */
struct iodev_pmem2 {
	uint8_t *base;
	size_t size;
	void *(*memcpy_fn)(void *dst, const void *src, size_t len,
			   unsigned int flags);
	void *(*memset_fn)(void *dst, int c, size_t len, unsigned int flags);
	unsigned int store_flags;
	void *priv;
};

/*
 * Map the whole of @fd (read-only unless @rdwr).  Returns 0, -EOPNOTSUPP
 * when libpmem2 cannot map it (the message is in @err), or -ENOMEM.
 */
int iodev_pmem2_open(struct iodev_pmem2 *pm, int fd, bool rdwr, char *err,
		     size_t errlen);
/*
 * Make what @memcpy_fn and @memset_fn stored with @store_flags in
 * [@addr, @addr + @len) of the mapping persistent: the page cache's pages
 * written back (msync) on a page-granularity mapping, then one drain of the
 * CPU's store buffers.
 */
void iodev_pmem2_persist(struct iodev_pmem2 *pm, uint64_t addr, uint64_t len);
void iodev_pmem2_close(struct iodev_pmem2 *pm);

#endif /* IOMAPCTL_IODEV_H */
