// SPDX-License-Identifier: GPL-2.0
/* maploop.c - the cost per mapping of fiemap through each mapper.  With
 * no argument: a 1 GiB file of 262,144 one-block extents from a mapping
 * source that answers at once, so what is timed is the engine's loop.
 * With IMAGE:PATH: that file through its filesystem adapter, the engine
 * clock of the mapping alone (no process start, no printing, no digest),
 * each run on a freshly opened file as a command starts; CPU time beside
 * wall time, which a loaded machine inflates for the short runs. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <linux/fiemap.h>

#include "iomapctl/bh.h"
#include "iomapctl/imc.h"
#include "iomapctl/iomap.h"

#define FILE_BYTES (1LL << 30)
#define BATCH 64 /* extents per fiemap call, as the commands ask */
#define RUNS 5 /* the best of: other load only ever adds time */

/* Every block its own extent: physically every other block. */
static int one_block_begin(struct iomap_inode *inode, loff_t pos,
			   loff_t length, unsigned int flags, struct iomap *m,
			   struct iomap *srcmap)
{
	(void)length;
	(void)flags;
	(void)srcmap;
	m->offset = pos & ~(loff_t)(iomap_blocksize(inode) - 1);
	m->length = iomap_blocksize(inode);
	m->type = IOMAP_MAPPED;
	m->addr = (uint64_t)m->offset * 2;
	return 0;
}

static int one_block_get_block(struct iomap_inode *inode, uint64_t iblock,
			       struct iomap_bh *bh, int create)
{
	(void)inode;
	(void)create;
	bh->state = IOMAP_BH_MAPPED;
	bh->blocknr = iblock * 2;
	return 0;
}

static const struct iomap_ops one_block_ops = {
	.iomap_begin = one_block_begin,
};

/* ns per mapping call of fiemap over the whole file through @mapper. */
static double loop_ns(enum iomap_mapper mapper)
{
	struct iomap_stats st = { 0 };
	struct iomap_inode inode = { .size = FILE_BYTES,
				     .blkbits = 12,
				     .stats = &st };
	struct iomap_source src = { .mapper = mapper,
				    .ops = &one_block_ops,
				    .get_block = one_block_get_block };
	struct fiemap_extent ext[BATCH];
	uint64_t t0 = iomap_stats_now_ns();
	loff_t pos = 0;

	while (pos < FILE_BYTES) {
		struct iomap_fiemap_info fi = { .fi_extents_max = BATCH,
						.fi_extents_start = ext };
		struct fiemap_extent *last;

		if (iomap_fiemap_source(&inode, &fi, pos,
					(uint64_t)(FILE_BYTES - pos), 0,
					&src) < 0 ||
		    !fi.fi_extents_mapped)
			return -1;
		last = &ext[fi.fi_extents_mapped - 1];
		pos = (loff_t)(last->fe_logical + last->fe_length);
	}
	return (double)(iomap_stats_now_ns() - t0) / (double)st.map_calls;
}

/* CPU seconds of this thread: on a shared machine a short run's wall
 * time is mostly when it was scheduled, its CPU time is what it cost. */
static double cpu_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct image_times {
	double wall, cpu; /* seconds */
	uint64_t calls, extents;
};

/* Fiemap all of @spec through @mapper into @t; -1 on failure. */
static int image_run(const char *spec, enum iomap_mapper mapper,
		     struct image_times *t)
{
	struct fiemap_extent ext[BATCH];
	struct imc_ctx ctx;
	struct imc_file f;
	uint64_t pos = 0, t0;
	double c0;
	int ret;

	imc_ctx_init(&ctx);
	ctx.io.mapper = mapper;
	if (imc_file_open(&ctx, spec, &f)) {
		imc_ctx_fini(&ctx);
		return -1;
	}
	t->extents = 0;
	c0 = cpu_now();
	t0 = iomap_stats_now_ns();
	for (;;) {
		unsigned int n = 0;

		ret = imc_file_fiemap(&ctx, &f, 0, pos, UINT64_MAX - pos, ext,
				      BATCH, &n);
		if (ret || n == 0)
			break;
		t->extents += n;
		if (ext[n - 1].fe_flags & FIEMAP_EXTENT_LAST)
			break;
		pos = ext[n - 1].fe_logical + ext[n - 1].fe_length;
	}
	t->wall = (double)(iomap_stats_now_ns() - t0) / 1e9;
	t->cpu = cpu_now() - c0;
	t->calls = ctx.stats.map_calls;
	imc_file_close(&f);
	imc_ctx_fini(&ctx);
	return ret ? -1 : 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Medians over RUNS of each mapper on @spec, and the bh / iomap ratios. */
static int image_main(const char *spec)
{
	double wall[IOMAP_MAPPER_COUNT], cpu[IOMAP_MAPPER_COUNT];

	for (int m = 0; m < IOMAP_MAPPER_COUNT; m++) {
		double w[RUNS], c[RUNS];
		struct image_times t = { 0 };

		for (int r = 0; r < RUNS; r++) {
			if (image_run(spec, (enum iomap_mapper)m, &t)) {
				fprintf(stderr, "maploop: %s: fiemap failed\n",
					spec);
				return 1;
			}
			w[r] = t.wall;
			c[r] = t.cpu;
		}
		qsort(w, RUNS, sizeof(w[0]), cmp_double);
		qsort(c, RUNS, sizeof(c[0]), cmp_double);
		wall[m] = w[RUNS / 2];
		cpu[m] = c[RUNS / 2];
		printf("%s, %s mapper: %llu extents, %llu mapping calls; "
		       "wall min %.3f median %.3f ms; CPU min %.3f median "
		       "%.3f ms, %.1f ns per call\n",
		       spec, iomap_mapper_name((enum iomap_mapper)m),
		       (unsigned long long)t.extents,
		       (unsigned long long)t.calls, w[0] * 1e3, wall[m] * 1e3,
		       c[0] * 1e3, cpu[m] * 1e3,
		       cpu[m] * 1e9 / (double)(t.calls ? t.calls : 1));
	}
	printf("%s: bh / iomap = %.0fx by CPU time, %.0fx by wall time "
	       "(medians of %d)\n",
	       spec, cpu[IOMAP_MAPPER_BH] / cpu[IOMAP_MAPPER_IOMAP],
	       wall[IOMAP_MAPPER_BH] / wall[IOMAP_MAPPER_IOMAP], RUNS);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc > 1)
		return image_main(argv[1]);
	for (int m = 0; m < IOMAP_MAPPER_COUNT; m++) {
		double best = -1;

		for (int r = 0; r < RUNS; r++) {
			double ns = loop_ns((enum iomap_mapper)m);

			if (ns < 0) {
				fprintf(stderr, "maploop: fiemap failed\n");
				return 1;
			}
			if (best < 0 || ns < best)
				best = ns;
		}
		printf("engine loop, %s mapper: %.1f ns per mapping (best of "
		       "%d)\n",
		       iomap_mapper_name((enum iomap_mapper)m), best, RUNS);
	}
	return 0;
}
