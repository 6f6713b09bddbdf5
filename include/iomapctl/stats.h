/* SPDX-License-Identifier: GPL-2.0 */
/* stats.h - the cost record both mappers (iomap and buffer heads) fill in. */
#ifndef IOMAPCTL_STATS_H
#define IOMAPCTL_STATS_H

#include <stdint.h>

/**
 * struct iomap_stats - what an operation cost.
 * @map_calls:	->iomap_begin calls (iomap) or get_block calls (bh).
 * @io_requests: requests submitted to the device.
 * @bytes_read:	bytes read from the device.
 * @bytes_written: bytes written to the device.
 * @blocks_zeroed: filesystem blocks zeroed on the device or in the cache.
 * @bytes_dirtied: bytes user writes dirtied in the page cache.
 * @bytes_written_back: bytes writeback sent to the device.
 * @wall_ns:	wall-clock time of the measured section.
 * @bh_allocated: buffer heads attached to folios (bh and hybrid mappers).
 */
struct iomap_stats {
	uint64_t map_calls;
	uint64_t io_requests;
	uint64_t bytes_read;
	uint64_t bytes_written;
	uint64_t blocks_zeroed;
	uint64_t bytes_dirtied;
	uint64_t bytes_written_back;
	uint64_t wall_ns;
	uint64_t bh_allocated;
};

/* Monotonic clock in nanoseconds, for @wall_ns. */
uint64_t iomap_stats_now_ns(void);

/* Written-back bytes over user-dirtied bytes; 0 when nothing was dirtied. */
double iomap_stats_write_amplification(const struct iomap_stats *st);

/* @dst += @src, field by field. */
void iomap_stats_add(struct iomap_stats *dst, const struct iomap_stats *src);

#endif /* IOMAPCTL_STATS_H */
