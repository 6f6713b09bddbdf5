// SPDX-License-Identifier: GPL-2.0
/* pagecache.c - the per-file folio index and per-block folio state. */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "internal.h"

#define LONG_BITS (sizeof(unsigned long) * CHAR_BIT)
#define IOMAP_HUGE_SIZE (2UL << 20) /* a transparent huge page on x86-64 */

int iomap_cache_init(struct iomap_cache *cache, unsigned int blkbits)
{
	if (blkbits < 9 || blkbits > IOMAP_MAX_BLKBITS)
		return -EINVAL;
	memset(cache, 0, sizeof(*cache));
	cache->blkbits = blkbits;
	/* A block larger than a page lives in one folio, never in two. */
	if (blkbits > IOMAP_PAGE_SHIFT)
		cache->min_order = blkbits - IOMAP_PAGE_SHIFT;
	return 0;
}

/*
 * Folio memory of an LRU goes back to its pool, up to a quarter of the
 * bound, so streaming through a bounded cache reuses faulted-in pages
 * instead of an mmap, page faults and munmap per folio.
 */
static void iomap_folio_free(struct iomap_folio *folio)
{
	struct iomap_lru *lru = folio->cache ? folio->cache->lru : NULL;
	size_t size = iomap_folio_size(folio);

	free(folio->private);
	if (lru && folio->data && lru->pool_bytes + size <= lru->limit / 4) {
		*(void **)folio->data = lru->pool[folio->order];
		lru->pool[folio->order] = folio->data;
		lru->pool_bytes += size;
	} else {
		free(folio->data);
	}
	free(folio->state);
	free(folio);
}

static void *iomap_folio_data(struct iomap_lru *lru, unsigned int order)
{
	size_t size = IOMAP_PAGE_SIZE << order;
	void *data = lru ? lru->pool[order] : NULL;

	if (data) {
		lru->pool[order] = *(void **)data;
		lru->pool_bytes -= size;
		return data;
	}
	/*
	 * Page-aligned so O_DIRECT can read straight into it.  A folio the
	 * size of a huge page sits on one, asked for with MADV_HUGEPAGE (THP
	 * is "madvise" on most distributions): a fresh 2 MiB folio then costs
	 * one page fault instead of 512, which dominated a first read into
	 * new memory (the faults run in io_uring's workers on a tmpfs image).
	 */
	if (size >= IOMAP_HUGE_SIZE) {
		if (posix_memalign(&data, IOMAP_HUGE_SIZE, size))
			return NULL;
		(void)madvise(data, size, MADV_HUGEPAGE);
		return data;
	}
	if (posix_memalign(&data, IOMAP_PAGE_SIZE, size))
		return NULL;
	return data;
}

void iomap_lru_release(struct iomap_lru *lru)
{
	for (unsigned int o = 0; o <= IOMAP_MAX_FOLIO_ORDER; o++) {
		while (lru->pool[o]) {
			void *next = *(void **)lru->pool[o];

			free(lru->pool[o]);
			lru->pool[o] = next;
		}
	}
	lru->pool_bytes = 0;
}

static void iomap_lru_unlink(struct iomap_folio *folio)
{
	struct iomap_lru *lru = folio->cache->lru;

	if (!lru)
		return;
	if (folio->lru_prev)
		folio->lru_prev->lru_next = folio->lru_next;
	else
		lru->head = folio->lru_next;
	if (folio->lru_next)
		folio->lru_next->lru_prev = folio->lru_prev;
	else
		lru->tail = folio->lru_prev;
	folio->lru_prev = folio->lru_next = NULL;
}

static void iomap_lru_link_head(struct iomap_folio *folio)
{
	struct iomap_lru *lru = folio->cache->lru;

	if (!lru)
		return;
	folio->lru_prev = NULL;
	folio->lru_next = lru->head;
	if (lru->head)
		lru->head->lru_prev = folio;
	else
		lru->tail = folio;
	lru->head = folio;
}

void iomap_cache_set_lru(struct iomap_cache *cache, struct iomap_lru *lru)
{
	cache->lru = lru;
}

void iomap_folio_touch(struct iomap_folio *folio)
{
	if (!folio->cache->lru || folio->cache->lru->head == folio)
		return;
	iomap_lru_unlink(folio);
	iomap_lru_link_head(folio);
}

struct iomap_folio *iomap_lru_victim(const struct iomap_lru *lru)
{
	for (struct iomap_folio *f = lru->tail; f; f = f->lru_prev)
		if (!f->pins)
			return f;
	return NULL;
}

void iomap_cache_destroy(struct iomap_cache *cache)
{
	for (size_t i = 0; i < cache->nr; i++) {
		iomap_lru_unlink(cache->folios[i]);
		if (cache->lru)
			cache->lru->bytes -= iomap_folio_size(cache->folios[i]);
		iomap_folio_free(cache->folios[i]);
	}
	free(cache->folios);
	memset(cache, 0, sizeof(*cache));
}

/* Index of the first folio ending after @pos. */
static size_t iomap_cache_index(const struct iomap_cache *cache, loff_t pos)
{
	size_t lo = 0, hi = cache->nr;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct iomap_folio *f = cache->folios[mid];

		if (f->pos + (loff_t)iomap_folio_size(f) <= pos)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

struct iomap_folio *iomap_cache_next(const struct iomap_cache *cache,
				     loff_t pos)
{
	size_t i = iomap_cache_index(cache, pos);

	return i < cache->nr ? cache->folios[i] : NULL;
}

struct iomap_folio *iomap_cache_find(const struct iomap_cache *cache,
				     loff_t pos)
{
	size_t i = iomap_cache_index(cache, pos);

	if (i < cache->nr && cache->folios[i]->pos <= pos)
		return cache->folios[i];
	return NULL;
}

static struct iomap_folio *iomap_folio_alloc(struct iomap_lru *lru, loff_t pos,
					     unsigned int order,
					     unsigned int blkbits)
{
	struct iomap_folio *folio = calloc(1, sizeof(*folio));
	size_t size = IOMAP_PAGE_SIZE << order;

	if (!folio)
		return NULL;
	folio->pos = pos;
	folio->order = order;
	folio->nblocks = (unsigned int)(size >> blkbits);
	folio->state = calloc((2 * folio->nblocks + LONG_BITS - 1) / LONG_BITS,
			      sizeof(unsigned long));
	if (folio->state)
		folio->data = iomap_folio_data(lru, order);
	if (!folio->data) {
		iomap_folio_free(folio);
		return NULL;
	}
	/*
	 * No memset: a block's bytes are only ever seen once it is uptodate,
	 * and every way there (a read into it, read_fill, write_prep, a copy
	 * over the whole block) writes all of it first.  Zeroing here cost a
	 * pass over memory about to be read into, and faulted in fresh pages
	 * twice as often on a streaming read.
	 */
	return folio;
}

int iomap_cache_add(struct iomap_cache *cache, loff_t pos, unsigned int order,
		    struct iomap_folio **foliop)
{
	size_t size = IOMAP_PAGE_SIZE << order;
	struct iomap_folio *folio;
	size_t i;

	if (order > IOMAP_MAX_FOLIO_ORDER || order < cache->min_order ||
	    pos < 0)
		return -EINVAL;
	pos &= ~(loff_t)(size - 1);
	i = iomap_cache_index(cache, pos);
	if (i < cache->nr && cache->folios[i]->pos < pos + (loff_t)size)
		return -EEXIST;
	if (cache->nr == cache->cap) {
		size_t cap = cache->cap ? cache->cap * 2 : 64;
		void *p = realloc(cache->folios, cap * sizeof(*cache->folios));

		if (!p)
			return -ENOMEM;
		cache->folios = p;
		cache->cap = cap;
	}
	folio = iomap_folio_alloc(cache->lru, pos, order, cache->blkbits);
	if (!folio)
		return -ENOMEM;
	memmove(&cache->folios[i + 1], &cache->folios[i],
		(cache->nr - i) * sizeof(*cache->folios));
	cache->folios[i] = folio;
	cache->nr++;
	cache->bytes += size;
	folio->cache = cache;
	iomap_lru_link_head(folio);
	if (cache->lru)
		cache->lru->bytes += size;
	*foliop = folio;
	return 0;
}

void iomap_cache_remove(struct iomap_cache *cache, struct iomap_folio *folio)
{
	size_t i = iomap_cache_index(cache, folio->pos);

	if (i >= cache->nr || cache->folios[i] != folio)
		return;
	memmove(&cache->folios[i], &cache->folios[i + 1],
		(cache->nr - i - 1) * sizeof(*cache->folios));
	cache->nr--;
	cache->bytes -= iomap_folio_size(folio);
	iomap_lru_unlink(folio);
	if (cache->lru)
		cache->lru->bytes -= iomap_folio_size(folio);
	iomap_folio_free(folio);
}

static bool test_bit_ul(const unsigned long *map, unsigned int bit)
{
	return map[bit / LONG_BITS] & (1UL << (bit % LONG_BITS));
}

static void assign_bits(unsigned long *map, unsigned int first,
			unsigned int count, bool set)
{
	for (unsigned int bit = first; bit < first + count; bit++) {
		unsigned long mask = 1UL << (bit % LONG_BITS);

		if (set)
			map[bit / LONG_BITS] |= mask;
		else
			map[bit / LONG_BITS] &= ~mask;
	}
}

/* Blocks touched by [off, off + len) of the folio: first and count. */
static unsigned int folio_blocks(const struct iomap_folio *folio, size_t off,
				 size_t len, unsigned int blkbits,
				 unsigned int *first)
{
	size_t end = off + len;

	if (end > iomap_folio_size(folio))
		end = iomap_folio_size(folio);
	if (len == 0 || off >= end)
		return 0;
	*first = (unsigned int)(off >> blkbits);
	return (unsigned int)(((end - 1) >> blkbits) - *first + 1);
}

void iomap_folio_set_uptodate(struct iomap_folio *folio, size_t off,
			      size_t len, unsigned int blkbits)
{
	unsigned int first = 0;
	unsigned int n = folio_blocks(folio, off, len, blkbits, &first);

	assign_bits(folio->state, first, n, true);
}

void iomap_folio_set_dirty(struct iomap_folio *folio, size_t off, size_t len,
			   unsigned int blkbits)
{
	unsigned int first = 0;
	unsigned int n = folio_blocks(folio, off, len, blkbits, &first);

	assign_bits(folio->state, folio->nblocks + first, n, true);
}

void iomap_folio_clear_dirty(struct iomap_folio *folio, size_t off,
			     size_t len, unsigned int blkbits)
{
	unsigned int first = 0;
	unsigned int n = folio_blocks(folio, off, len, blkbits, &first);

	assign_bits(folio->state, folio->nblocks + first, n, false);
}

void iomap_folio_clear_uptodate(struct iomap_folio *folio, size_t off,
				size_t len, unsigned int blkbits)
{
	unsigned int first = 0;
	unsigned int n = folio_blocks(folio, off, len, blkbits, &first);

	assign_bits(folio->state, first, n, false);
}

bool iomap_folio_is_dirty(const struct iomap_folio *folio)
{
	for (unsigned int b = 0; b < folio->nblocks; b++)
		if (iomap_folio_block_dirty(folio, b))
			return true;
	return false;
}

bool iomap_folio_block_uptodate(const struct iomap_folio *folio,
				unsigned int block)
{
	return block < folio->nblocks && test_bit_ul(folio->state, block);
}

bool iomap_folio_block_dirty(const struct iomap_folio *folio,
			     unsigned int block)
{
	return block < folio->nblocks &&
	       test_bit_ul(folio->state, folio->nblocks + block);
}

/* Is the block holding @pos cached and uptodate? */
static bool iomap_cache_has_data(const struct iomap_cache *cache, loff_t pos,
				 loff_t *block_end)
{
	const struct iomap_folio *f = iomap_cache_find(cache, pos);
	loff_t bsize = (loff_t)1 << cache->blkbits;

	*block_end = (pos | (bsize - 1)) + 1;
	if (!f) {
		size_t i = iomap_cache_index(cache, pos);

		/* Skip the whole uncached gap in one step. */
		if (i < cache->nr)
			*block_end = cache->folios[i]->pos;
		else
			*block_end = INT64_MAX;
		return false;
	}
	return iomap_folio_block_uptodate(
		f, (unsigned int)((pos - f->pos) >> cache->blkbits));
}

loff_t iomap_cache_seek(const struct iomap_cache *cache, loff_t start,
			loff_t end, int whence)
{
	bool want_data = whence == SEEK_DATA;
	loff_t pos = start, next;

	while (pos < end) {
		if (iomap_cache_has_data(cache, pos, &next) == want_data)
			return pos;
		pos = next;
	}
	return -ENOENT;
}

size_t iomap_cache_lru_bytes(const struct iomap_cache *cache)
{
	return cache->lru ? cache->lru->bytes : 0;
}
