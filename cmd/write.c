// SPDX-License-Identifier: GPL-2.0
/* write.c - `write`: stdin or a byte pattern into a file at an offset. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"

#define WRITE_CHUNK (1U << 20)

static const struct option write_longopts[] = {
	{ "pattern", required_argument, NULL, 'p' },
	{ "length", required_argument, NULL, 'l' },
	{ NULL, 0, NULL, 0 },
};

static void write_help(FILE *out)
{
	fputs("\nWrites stdin (or LENGTH bytes of a pattern) into FILE at "
	      "OFFSET, through the\n--io path; the file is created if it is "
	      "missing.  Prints xfs_io's report:\n  wrote N/N bytes at "
	      "offset O\n  SIZE, OPS ops; SECONDS sec (RATE/sec and OPS/sec "
	      "ops/sec)\n\n"
	      "  --pattern BYTE   write BYTE (0-255, decimal or 0x hex) "
	      "instead of stdin\n  --length N       bytes of pattern "
	      "(needed with --pattern)\n\n"
	      "Examples:\n  iomapctl write --pattern 0xab --length 1m "
	      "disk.img:/f 4k\n  echo hello | iomapctl write disk.img:/greeting "
	      "0\n",
	      out);
}

struct write_src {
	int pattern; /* -1: stdin */
	uint64_t left; /* pattern bytes left */
};

/* Next chunk from stdin or the pattern; bytes, 0 at the end, or -errno. */
static ssize_t next_chunk(struct write_src *src, char *buf)
{
	size_t n = WRITE_CHUNK;
	ssize_t r;

	if (src->pattern >= 0) {
		if (src->left < n)
			n = (size_t)src->left;
		memset(buf, src->pattern, n);
		src->left -= n;
		return (ssize_t)n;
	}
	do
		r = read(STDIN_FILENO, buf, n);
	while (r < 0 && errno == EINTR);
	return r < 0 ? -errno : r;
}

static void report(struct imc_ctx *ctx, uint64_t done, uint64_t off,
		   uint64_t ops, uint64_t ns)
{
	char hs[32], hr[32];
	double secs = (double)ns / 1e9;

	if (secs <= 0)
		secs = 1e-9;
	fprintf(ctx->out, "wrote %llu/%llu bytes at offset %llu\n",
		(unsigned long long)done, (unsigned long long)done,
		(unsigned long long)off);
	fprintf(ctx->out, "%s, %llu ops; %.4f sec (%s/sec and %.4f ops/sec)\n",
		imc_human(done, hs, sizeof(hs)), (unsigned long long)ops, secs,
		imc_human((uint64_t)((double)done / secs), hr, sizeof(hr)),
		(double)ops / secs);
}

static int write_loop(struct imc_ctx *ctx, struct imc_file *f,
		      struct write_src *src, uint64_t off)
{
	char *buf = NULL;
	uint64_t pos = off, ops = 0, t0 = iomap_stats_now_ns();
	ssize_t n;

	/* Page-aligned: --io=direct refuses unaligned user memory. */
	if (posix_memalign((void **)&buf, 4096, WRITE_CHUNK))
		return imc_err(ctx, "buffer", -ENOMEM);
	while ((n = next_chunk(src, buf)) > 0) {
		ssize_t w = imc_file_pwrite(f, buf, (size_t)n, (loff_t)pos);

		if (w < 0) {
			free(buf);
			return imc_err(ctx, f->name, (int)w);
		}
		pos += (uint64_t)w;
		ops++;
	}
	free(buf);
	if (n < 0)
		return imc_err(ctx, "stdin", (int)n);
	if (!ctx->quiet && !ctx->json)
		report(ctx, pos - off, off, ops, iomap_stats_now_ns() - t0);
	return IMC_EXIT_OK;
}

static int cmd_write(struct imc_ctx *ctx, int argc, char **argv)
{
	struct write_src src = { .pattern = -1 };
	bool have_len = false;
	struct imc_file f;
	uint64_t off;
	char *end;
	int c, ret;

	while ((c = imc_getopt(argc, argv, &imc_cmd_write)) != -1) {
		if (c == 'p') {
			unsigned long v = strtoul(optarg, &end, 0);

			if (!*optarg || *end || v > 255) {
				fprintf(ctx->err, "iomapctl: write: bad "
					"--pattern '%s' (0 to 255)\n", optarg);
				return IMC_EXIT_USAGE;
			}
			src.pattern = (int)v;
		} else if (c == 'l') {
			ret = imc_arg_size(ctx, "length", optarg, &src.left);
			if (ret)
				return ret;
			have_len = true;
		}
	}
	if ((src.pattern >= 0) != have_len) {
		fprintf(ctx->err, "iomapctl: write: --pattern and --length go "
			"together\n");
		return imc_usage(ctx, &imc_cmd_write);
	}
	ret = imc_arg_range(ctx, argv[optind + 1], NULL, &off, NULL);
	if (ret)
		return ret;
	ret = imc_file_open_flags(ctx, argv[optind],
				  IMC_OPEN_RDWR | IMC_OPEN_CREATE, &f);
	if (ret)
		return ret;
	if (!S_ISREG(f.mode))
		ret = imc_err(ctx, f.name, S_ISDIR(f.mode) ? -EISDIR : -EINVAL);
	else
		ret = write_loop(ctx, &f, &src, off);
	return imc_file_finish(&f, ret);
}

const struct imc_cmd imc_cmd_write = {
	.name = "write",
	.args = "[--pattern BYTE --length N] FILE OFFSET",
	.oneline = "write stdin or a byte pattern into a file",
	.help = write_help,
	.fn = cmd_write,
	.argmin = 2,
	.argmax = 2,
	.flags = IMC_CMD_NEEDS_FS | IMC_CMD_RW,
	.shortopts = "",
	.longopts = write_longopts,
	.complete = 'f',
};
