/* SPDX-License-Identifier: GPL-2.0 */
/* pagecache.h - a file's cached folios with per-block uptodate and dirty
 * state (the kernel's address_space and iomap_folio_state). */
#ifndef IOMAPCTL_PAGECACHE_H
#define IOMAPCTL_PAGECACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define IOMAP_PAGE_SHIFT 12
#define IOMAP_PAGE_SIZE (1UL << IOMAP_PAGE_SHIFT)
#define IOMAP_MAX_FOLIO_ORDER 9 /* 2 MiB folios */
#define IOMAP_MAX_BLKBITS 16 /* 64 KiB blocks, in folios of 16 pages */

struct iomap_cache;
struct iomap_lru;

/**
 * struct iomap_folio - one cached, naturally aligned piece of a file.
 * @pos:	file offset of the first byte; a multiple of the folio size.
 * @order:	the folio holds IOMAP_PAGE_SIZE << @order bytes.
 * @nblocks:	filesystem blocks in the folio.
 * @data:	the bytes.
 * @state:	2 bits per block: bits [0, nblocks) uptodate, bits
 *		[nblocks, 2 * nblocks) dirty, as iomap_folio_state.
 * @cache:	the cache holding the folio.
 * @lru_prev, @lru_next: position in the LRU of @cache->lru (prev is the
 *		more recently used side); NULL when the cache has no LRU.
 * @pins:	operations using the folio now; a pinned folio is never
 *		evicted.
 * @private:	for the user of the cache, or NULL; free()d with the folio.
 */
struct iomap_folio {
	loff_t pos;
	unsigned int order;
	unsigned int nblocks;
	uint8_t *data;
	unsigned long *state;
	struct iomap_cache *cache;
	struct iomap_folio *lru_prev;
	struct iomap_folio *lru_next;
	unsigned int pins;
	void *private;
};

/**
 * struct iomap_cache - the folios of one file, sorted by @pos, never
 * overlapping.
 * @blkbits:	log2 of the filesystem block size (at most the page size).
 * @folios:	array of @nr folio pointers (capacity @cap).
 * @bytes:	memory held by folio data.
 * @lru:	the least-recently-used list bounding the memory of the
 *		caches of one device, or NULL (the engine's own).
 */
struct iomap_cache {
	unsigned int blkbits;
	unsigned int min_order; /* folios hold whole blocks (kernel: bs > ps) */
	struct iomap_folio **folios;
	size_t nr;
	size_t cap;
	size_t bytes;
	struct iomap_lru *lru;
};

static inline size_t iomap_folio_size(const struct iomap_folio *folio)
{
	return IOMAP_PAGE_SIZE << folio->order;
}

/* Returns 0 or -EINVAL (a block under 512 bytes or over
 * IOMAP_MAX_BLKBITS) / -ENOMEM. */
int iomap_cache_init(struct iomap_cache *cache, unsigned int blkbits);
/* Frees every folio, dirty or not: write back first. */
void iomap_cache_destroy(struct iomap_cache *cache);

/* The folio holding byte @pos, or NULL. */
struct iomap_folio *iomap_cache_find(const struct iomap_cache *cache,
				     loff_t pos);
/**
 * iomap_cache_add() - a new folio of @order at @pos (aligned down), with
 * zeroed data and no block uptodate.  Returns 0, -EEXIST if it would
 * overlap a cached folio, -EINVAL or -ENOMEM.
 */
int iomap_cache_add(struct iomap_cache *cache, loff_t pos, unsigned int order,
		    struct iomap_folio **foliop);
/* Drops @folio from the cache and frees it. */
void iomap_cache_remove(struct iomap_cache *cache, struct iomap_folio *folio);

/* The first folio ending after @pos (it may contain @pos), or NULL. */
struct iomap_folio *iomap_cache_next(const struct iomap_cache *cache,
				     loff_t pos);

/* Memory held by the folios of every cache sharing @cache's bound (0 when
 * it has none). */
size_t iomap_cache_lru_bytes(const struct iomap_cache *cache);

/* True when any block of @folio is dirty. */
bool iomap_folio_is_dirty(const struct iomap_folio *folio);
/* Clear uptodate over a byte range of the folio (rounded out to blocks). */
void iomap_folio_clear_uptodate(struct iomap_folio *folio, size_t off,
				size_t len, unsigned int blkbits);

/* Per-block state over a byte range of the folio (rounded out to blocks). */
void iomap_folio_set_uptodate(struct iomap_folio *folio, size_t off,
			      size_t len, unsigned int blkbits);
void iomap_folio_set_dirty(struct iomap_folio *folio, size_t off, size_t len,
			   unsigned int blkbits);
void iomap_folio_clear_dirty(struct iomap_folio *folio, size_t off,
			     size_t len, unsigned int blkbits);
bool iomap_folio_block_uptodate(const struct iomap_folio *folio,
				unsigned int block);
bool iomap_folio_block_dirty(const struct iomap_folio *folio,
			     unsigned int block);

/**
 * iomap_cache_seek() - SEEK_DATA or SEEK_HOLE inside [@start, @end) by what
 * the cache holds: data is an uptodate block of a cached folio.
 * Returns the offset found, or -ENOENT when there is none in the range.
 */
loff_t iomap_cache_seek(const struct iomap_cache *cache, loff_t start,
			loff_t end, int whence);

#endif /* IOMAPCTL_PAGECACHE_H */
