/* SPDX-License-Identifier: GPL-2.0 */
/* memfs.h - a table-driven in-memory filesystem for engine tests: its
 * extents come from a table, and knobs make it misbehave on purpose. */
#ifndef IOMAPCTL_TESTS_MEMFS_H
#define IOMAPCTL_TESTS_MEMFS_H

#include "iomapctl/bh.h"
#include "iomapctl/iomap.h"
#include "iomapctl/pagecache.h"

#define MEMFS_MAX_EXTENTS 256
#define MEMFS_MAX_CALLS 256

/* One row of the table: an extent; gaps between rows are holes. */
struct memfs_extent {
	loff_t offset;
	uint64_t length;
	uint16_t type;
	uint16_t flags;
	uint64_t addr; /* disk byte address; IOMAP_NULL_ADDR when none */
};

/* What ->iomap_begin or ->iomap_end was called with. */
struct memfs_call {
	loff_t pos;
	loff_t length;
	ssize_t written;
	unsigned int flags;
};

struct memfs {
	struct iomap_inode inode;
	struct iomap_stats stats;
	struct iomap_cache cache;
	struct memfs_extent ext[MEMFS_MAX_EXTENTS];
	int nr;
	uint8_t inline_data[4096];
	uint64_t next_alloc; /* bump allocator for writes, bytes */

	/* knobs */
	uint64_t max_map; /* cut every mapping to this many bytes after pos */
	int begin_error; /* returned by ->iomap_begin when pos >= error_at */
	int end_error; /* returned by ->iomap_end when pos >= error_at */
	loff_t error_at;
	loff_t bad_offset; /* if non-zero, mappings start here (contract bug) */
	uint64_t bad_length; /* if non-zero, mappings have this length */

	/* record */
	int nr_begin, nr_end, nr_get_block;
	struct memfs_call begins[MEMFS_MAX_CALLS];
	struct memfs_call ends[MEMFS_MAX_CALLS];
};

/* Set up @fs with @n extents from @table (sorted by offset) and i_size. */
void memfs_init(struct memfs *fs, unsigned int blkbits, loff_t size,
		const struct memfs_extent *table, int n);
void memfs_destroy(struct memfs *fs);
/* Attach the page cache to the inode (seek then consults it). */
void memfs_enable_cache(struct memfs *fs);

extern const struct iomap_ops memfs_ops;
int memfs_get_block(struct iomap_inode *inode, uint64_t iblock,
		    struct iomap_bh *bh, int create);

static inline struct memfs *memfs_of(struct iomap_inode *inode)
{
	return (struct memfs *)((char *)inode - offsetof(struct memfs, inode));
}

#endif /* IOMAPCTL_TESTS_MEMFS_H */
