/* SPDX-License-Identifier: GPL-2.0 */
/* memfs.h - a table-driven in-memory filesystem for engine tests: its
 * extents come from a table, and knobs make it misbehave on purpose. */
#ifndef IOMAPCTL_TESTS_MEMFS_H
#define IOMAPCTL_TESTS_MEMFS_H

#include "iomapctl/bh.h"
#include "iomapctl/iomap.h"
#include "iomapctl/ioops.h"
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
	uint16_t map_flags; /* ->iomap_end: the mapping's flags (SIZE_CHANGED) */
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
	/*
	 * Behave like a real filesystem over a backing image (see
	 * memfs_set_backed): block-aligned allocation, IOMAP_F_NEW only from
	 * the call that allocated, get_block(create) allocates, end_io and
	 * writeback convert unwritten extents.
	 */
	bool backed;
	int nr_end_io; /* ->end_io calls, and the last one's arguments */
	loff_t end_io_pos;
	ssize_t end_io_size;
	unsigned int end_io_flags;
	int nr_map_blocks, nr_wb_submit;
	/*
	 * Revalidation (§7): every change to the extent table bumps @seq,
	 * ->iomap_begin hands it out as the validity_cookie, ->iomap_valid
	 * compares.  @stale_at_valid = N makes the Nth ->iomap_valid call
	 * bump @seq first, as a racing writeback or truncate would.
	 */
	uint64_t seq;
	int stale_at_valid;
	int nr_valid, nr_stale;
	/* A test's probe, called first by ->iomap_begin and get_block. */
	void (*on_map)(struct memfs *fs);

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

/* Backed mode: allocations start at disk byte @alloc_start. */
void memfs_set_backed(struct memfs *fs, uint64_t alloc_start);

extern const struct iomap_ops memfs_ops;
extern const struct iomap_dio_ops memfs_dio_ops;
extern const struct iomap_writeback_ops memfs_writeback_ops;
/* Every table of memfs (memfs_ops for each operation). */
extern const struct iomap_opset memfs_opset;
int memfs_get_block(struct iomap_inode *inode, uint64_t iblock,
		    struct iomap_bh *bh, int create);

/* ---- backing images ---- */

#define MEMFS_MARKER 0xA5 /* what free space of a fresh image holds */

/* The test pattern: a byte per file offset, never 0 nor MEMFS_MARKER. */
uint8_t memfs_pattern_byte(loff_t pos, unsigned int seed);
void memfs_pattern(uint8_t *buf, size_t len, loff_t pos, unsigned int seed);
/* @dir/@name of @size bytes, all MEMFS_MARKER; returns the path (free it). */
char *memfs_image_create(const char *dir, const char *name, uint64_t size);
/* Write the pattern of each MAPPED extent of @fs at its address (markers
 * into UNWRITTEN ones). */
void memfs_image_fill(const struct memfs *fs, const char *path,
		      unsigned int seed);
/* What the file reads as after memfs_image_fill: i_size bytes. */
void memfs_expected(const struct memfs *fs, uint8_t *buf, unsigned int seed);

static inline struct memfs *memfs_of(struct iomap_inode *inode)
{
	return (struct memfs *)((char *)inode - offsetof(struct memfs, inode));
}

#endif /* IOMAPCTL_TESTS_MEMFS_H */
