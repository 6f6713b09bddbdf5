// SPDX-License-Identifier: GPL-2.0
/* iosweep.c - read throughput of one file of an image against the size of
 * each read, for every data path (buffered, direct, DAX) and mapper (iomap,
 * hybrid, bh): the data of bench/run.sh's throughput plot.  Each point
 * reads the first MIB MiB of the file in reads of one size on a freshly
 * opened image (an empty page cache of ours, the host's cache as it is),
 * best of RUNS.  Prints "path mapper bytes MB/s" rows. */
#include <stdio.h>
#include <stdlib.h>

#include "iomapctl/imc.h"

#define MIN_IO (4U << 10)
#define MAX_IO (8U << 20)
#define RUNS 3

static const char *const path_names[] = { "buffered", "direct", "dax" };

/* Seconds to read @total bytes of @spec in @io-byte reads; < 0 on error. */
static double sweep_one(const char *spec, enum iomap_io_path path,
			enum iomap_mapper mapper, size_t io, uint64_t total,
			char *buf)
{
	struct imc_ctx ctx;
	struct imc_file f;
	uint64_t pos = 0, t0;
	double secs = -1;

	imc_ctx_init(&ctx);
	ctx.io.path = path;
	ctx.io.mapper = mapper;
	if (imc_file_open(&ctx, spec, &f)) {
		imc_ctx_fini(&ctx);
		return -1;
	}
	if ((uint64_t)f.size < total)
		total = (uint64_t)f.size;
	t0 = iomap_stats_now_ns();
	while (pos < total) {
		ssize_t n = imc_file_pread(&f, buf, io, (loff_t)pos);

		if (n <= 0)
			break;
		pos += (uint64_t)n;
	}
	if (pos >= total)
		secs = (double)(iomap_stats_now_ns() - t0) / 1e9;
	imc_file_close(&f);
	imc_ctx_fini(&ctx);
	return secs;
}

/* The best of RUNS of sweep_one(); < 0 on error. */
static double sweep_best(const char *spec, int path, int mapper, size_t io,
			 uint64_t total, char *buf)
{
	double best = -1;

	for (int r = 0; r < RUNS; r++) {
		double s = sweep_one(spec, (enum iomap_io_path)path,
				     (enum iomap_mapper)mapper, io, total, buf);

		if (s < 0)
			return -1;
		if (best < 0 || s < best)
			best = s;
	}
	return best;
}

int main(int argc, char **argv)
{
	uint64_t total;
	char *buf;

	if (argc != 3) {
		fprintf(stderr, "usage: iosweep IMAGE:PATH MIB\n");
		return 2;
	}
	total = strtoull(argv[2], NULL, 0) << 20;
	/* Page-aligned: the direct path refuses unaligned user memory. */
	if (posix_memalign((void **)&buf, 4096, MAX_IO))
		return 1;
	/* The mappers of one size one after the other, so the load of the
	 * moment weighs on all three alike. */
	for (int p = 0; p < 3; p++) {
		for (size_t io = MIN_IO; io <= MAX_IO; io *= 2) {
			for (int m = 0; m < IOMAP_MAPPER_COUNT; m++) {
				double s = sweep_best(argv[1], p, m, io, total,
						      buf);

				if (s < 0) {
					fprintf(stderr,
						"iosweep: %s: %s read failed\n",
						argv[1], path_names[p]);
					free(buf);
					return 1;
				}
				printf("%s %s %zu %.1f\n", path_names[p],
				       iomap_mapper_name((enum iomap_mapper)m),
				       io, (double)total / 1e6 / s);
				fflush(stdout);
			}
		}
	}
	free(buf);
	return 0;
}
