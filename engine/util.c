// SPDX-License-Identifier: GPL-2.0
/* util.c - names of mapping types and flags, statistics, warnings. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "internal.h"

const char *iomap_type_name(unsigned int type)
{
	static const char *const names[IOMAP_TYPE_COUNT] = {
		[IOMAP_HOLE] = "HOLE",	   [IOMAP_DELALLOC] = "DELALLOC",
		[IOMAP_MAPPED] = "MAPPED", [IOMAP_UNWRITTEN] = "UNWRITTEN",
		[IOMAP_INLINE] = "INLINE",
	};

	return type < IOMAP_TYPE_COUNT ? names[type] : "UNKNOWN";
}

char *iomap_flags_names(unsigned int flags, char *buf, size_t size)
{
	static const struct {
		unsigned int flag;
		const char *name;
	} names[] = {
		{ IOMAP_F_NEW, "NEW" },
		{ IOMAP_F_DIRTY, "DIRTY" },
		{ IOMAP_F_SHARED, "SHARED" },
		{ IOMAP_F_MERGED, "MERGED" },
		{ IOMAP_F_BUFFER_HEAD, "BUFFER_HEAD" },
		{ IOMAP_F_XATTR, "XATTR" },
		{ IOMAP_F_BOUNDARY, "BOUNDARY" },
		{ IOMAP_F_SIZE_CHANGED, "SIZE_CHANGED" },
		{ IOMAP_F_STALE, "STALE" },
	};
	size_t used = 0;

	if (size == 0)
		return buf;
	buf[0] = '\0';
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		int n;

		if (!(flags & names[i].flag))
			continue;
		n = snprintf(buf + used, size - used, "%s%s", used ? "," : "",
			     names[i].name);
		if (n < 0 || (size_t)n >= size - used) {
			buf[used] = '\0'; /* drop the name that did not fit */
			break;
		}
		used += (size_t)n;
	}
	return buf;
}

uint64_t iomap_stats_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

double iomap_stats_write_amplification(const struct iomap_stats *st)
{
	if (!st->bytes_dirtied)
		return 0.0;
	return (double)st->bytes_written_back / (double)st->bytes_dirtied;
}

void iomap_stats_add(struct iomap_stats *dst, const struct iomap_stats *src)
{
	dst->map_calls += src->map_calls;
	dst->io_requests += src->io_requests;
	dst->bytes_read += src->bytes_read;
	dst->bytes_written += src->bytes_written;
	dst->blocks_zeroed += src->blocks_zeroed;
	dst->bytes_dirtied += src->bytes_dirtied;
	dst->bytes_written_back += src->bytes_written_back;
	dst->wall_ns += src->wall_ns;
	dst->bh_allocated += src->bh_allocated;
}

const char *iomap_mapper_name(enum iomap_mapper mapper)
{
	static const char *const names[IOMAP_MAPPER_COUNT] = {
		[IOMAP_MAPPER_IOMAP] = "iomap",
		[IOMAP_MAPPER_BH] = "bh",
		[IOMAP_MAPPER_HYBRID] = "hybrid",
	};

	return (unsigned int)mapper < IOMAP_MAPPER_COUNT ? names[mapper] : NULL;
}

const char *iomap_op_name(enum iomap_op op)
{
	static const char *const names[IOMAP_OP_COUNT] = {
		[IOMAP_OP_XATTR] = "xattr",   [IOMAP_OP_REPORT] = "report",
		[IOMAP_OP_DIRECT] = "direct", [IOMAP_OP_WRITE] = "write",
		[IOMAP_OP_READ] = "read",     [IOMAP_OP_DAX] = "dax",
	};

	return (unsigned int)op < IOMAP_OP_COUNT ? names[op] : NULL;
}

enum iomap_mapper iomap_io_mapper(const struct iomap_io_params *params,
				  enum iomap_op op)
{
	unsigned int m =
		(unsigned int)op < IOMAP_OP_COUNT ? params->op_mapper[op] : 0;

	if (m && m <= IOMAP_MAPPER_COUNT)
		return (enum iomap_mapper)(m - 1);
	return params->mapper;
}

bool iomap_io_params_same(const struct iomap_io_params *a,
			  const struct iomap_io_params *b)
{
	return a->path == b->path && a->mapper == b->mapper &&
	       a->queue_depth == b->queue_depth &&
	       a->cache_bytes == b->cache_bytes &&
	       a->max_folio_order == b->max_folio_order &&
	       a->iodev == b->iodev &&
	       a->iodev_arg == b->iodev_arg &&
	       !memcmp(a->op_mapper, b->op_mapper, sizeof(a->op_mapper));
}

void iomap__warn(const char *file, int line, const char *cond)
{
	fprintf(stderr, "iomapctl: engine bug at %s:%d: %s\n", file, line,
		cond);
}
