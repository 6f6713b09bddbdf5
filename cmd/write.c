// SPDX-License-Identifier: GPL-2.0
/* write.c - `write`: stdin or a byte pattern into a file at an offset. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"

#define WRITE_CHUNK (1U << 20)

static const struct option write_longopts[] = {
	{ "pattern", required_argument, NULL, 'p' },
	{ "length", required_argument, NULL, 'l' },
	{ "from", required_argument, NULL, 'f' },
	{ NULL, 0, NULL, 0 },
};

static void write_help(FILE *out)
{
	fputs("\nWrites stdin (or LENGTH bytes of a pattern, or a host file) "
	      "into FILE at\nOFFSET, through the --io path, at any offset and "
	      "length; the file is created\nif it is missing.  Prints xfs_io's "
	      "report:\n  wrote N/M bytes at offset O\n  SIZE, OPS ops; SECONDS "
	      "sec (RATE/sec and OPS/sec ops/sec)\nN is what was written, M what "
	      "was asked for: when N < M (ENOSPC, EIO) the error\nfollows and "
	      "the exit status is 1.\n\n"
	      "  --pattern BYTE   write BYTE (0-255, decimal or 0x hex) "
	      "instead of stdin\n  --length N       bytes of pattern "
	      "(needed with --pattern)\n  --from HOSTFILE  write the bytes of "
	      "HOSTFILE instead of stdin\n\n"
	      "In the shell the data never comes from the command stream: give "
	      "--pattern,\n--from, or a here-document (write FILE OFFSET <<END, "
	      "then lines, then END).\n\n"
	      "Examples:\n  iomapctl write --pattern 0xab --length 1m "
	      "disk.img:/f 4k\n  echo hello | iomapctl write disk.img:/greeting "
	      "0\n  iomapctl --io=direct write --from ./blob disk.img:/blob 3\n",
	      out);
}

/*
 * Chunks are filled whole (a pipe hands out pieces whose sizes depend on
 * timing), so what is written where never depends on how the data came.
 * A chunk ends on a 4 KiB file boundary, so on the direct path only the
 * first and last chunks have unaligned edges.
 */
#define WRITE_ALIGN 4096U

struct write_src {
	int pattern; /* -1: the file @fd */
	int fd; /* stdin or --from */
	const char *name; /* for messages */
	uint64_t left; /* pattern bytes left */
	uint64_t asked; /* bytes taken from the source so far */
};

/* Up to @n bytes from the source into @buf; bytes, 0 at the end, -errno. */
static ssize_t next_chunk(struct write_src *src, char *buf, size_t n)
{
	size_t got = 0;
	ssize_t r;

	if (src->pattern >= 0) {
		if (src->left < n)
			n = (size_t)src->left;
		memset(buf, src->pattern, n);
		src->left -= n;
		src->asked += n;
		return (ssize_t)n;
	}
	while (got < n) {
		r = read(src->fd, buf + got, n - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			break;
		got += (size_t)r;
	}
	src->asked += got;
	return (ssize_t)got;
}

static void report(struct imc_ctx *ctx, uint64_t done, uint64_t asked,
		   uint64_t off, uint64_t ops, uint64_t ns)
{
	char hs[32], hr[32];
	double secs = (double)ns / 1e9;

	if (secs <= 0)
		secs = 1e-9;
	fprintf(ctx->out, "wrote %llu/%llu bytes at offset %llu\n",
		(unsigned long long)done, (unsigned long long)asked,
		(unsigned long long)off);
	fprintf(ctx->out, "%s, %llu ops; %.4f sec (%s/sec and %.4f ops/sec)\n",
		imc_human(done, hs, sizeof(hs)), (unsigned long long)ops, secs,
		imc_human((uint64_t)((double)done / secs), hr, sizeof(hr)),
		(double)ops / secs);
}

/*
 * All of @buf at @pos.  A short write is never success: the rest is
 * retried at its own offset, and that call says why (ENOSPC, EIO).
 */
static int write_all(struct imc_file *f, const char *buf, size_t len,
		     uint64_t pos, uint64_t *done, uint64_t *ops)
{
	while (len) {
		ssize_t w = imc_file_pwrite(f, buf, len, (loff_t)pos);

		if (w <= 0)
			return w ? (int)w : -EIO;
		(*ops)++;
		*done += (uint64_t)w;
		buf += w;
		pos += (uint64_t)w;
		len -= (size_t)w;
	}
	return 0;
}

static int write_loop(struct imc_ctx *ctx, struct imc_file *f,
		      struct write_src *src, uint64_t off)
{
	uint64_t pos = off, done = 0, ops = 0, t0 = iomap_stats_now_ns();
	const char *what = f->name;
	char *buf = NULL;
	int ret = 0;
	ssize_t n;

	/* Page-aligned: --io=direct refuses unaligned user memory. */
	if (posix_memalign((void **)&buf, WRITE_ALIGN, WRITE_CHUNK))
		return imc_err(ctx, "buffer", -ENOMEM);
	for (;;) {
		/* Same offset in memory as in the file: the body goes direct. */
		size_t skew = pos % WRITE_ALIGN;

		n = next_chunk(src, buf + skew, WRITE_CHUNK - skew);
		if (n <= 0) {
			ret = (int)n;
			what = src->name;
			break;
		}
		ret = write_all(f, buf + skew, (size_t)n, pos, &done, &ops);
		if (ret)
			break;
		pos += (uint64_t)n;
	}
	free(buf);
	if (src->pattern >= 0)
		src->asked += src->left;
	if (!ctx->quiet && !ctx->json)
		report(ctx, done, src->asked, off, ops,
		       iomap_stats_now_ns() - t0);
	return ret ? imc_err(ctx, what, ret) : IMC_EXIT_OK;
}

/* Is @fd stdin (--from /dev/stdin), the shell's command stream? */
static bool is_stdin(int fd)
{
	struct stat a, b;

	return fstat(fd, &a) == 0 && fstat(STDIN_FILENO, &b) == 0 &&
	       a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

/* Where the data comes from: --from, stdin, or the pattern. */
static int write_open_src(struct imc_ctx *ctx, const char *from,
			  struct write_src *src)
{
	src->name = from ? from : "stdin";
	if (from) {
		src->fd = open(from, O_RDONLY | O_CLOEXEC);
		if (src->fd < 0)
			return imc_err(ctx, from, -errno);
		if (!ctx->shell_image || !is_stdin(src->fd))
			return IMC_EXIT_OK;
		close(src->fd);
	}
	if (src->pattern < 0 && ctx->shell_image) {
		/* The rest of a script is commands, never file data. */
		fprintf(ctx->err, "iomapctl: write: in the shell, give "
				  "--pattern, --from HOSTFILE or <<END\n");
		return IMC_EXIT_USAGE;
	}
	src->fd = STDIN_FILENO;
	return IMC_EXIT_OK;
}

static int write_opt(struct imc_ctx *ctx, int c, struct write_src *src,
		     bool *have_len, const char **from)
{
	unsigned long v;
	char *end;

	if (c == 'f') {
		*from = optarg;
	} else if (c == 'p') {
		v = strtoul(optarg, &end, 0);
		if (!*optarg || *end || v > 255) {
			fprintf(ctx->err,
				"iomapctl: write: bad --pattern '%s' "
				"(0 to 255)\n",
				optarg);
			return IMC_EXIT_USAGE;
		}
		src->pattern = (int)v;
	} else if (c == 'l') {
		*have_len = true;
		return imc_arg_size(ctx, "length", optarg, &src->left);
	}
	return IMC_EXIT_OK;
}

static int cmd_write(struct imc_ctx *ctx, int argc, char **argv)
{
	struct write_src src = { .pattern = -1, .fd = -1 };
	const char *from = NULL;
	bool have_len = false;
	struct imc_file f;
	uint64_t off;
	int c, ret;

	while ((c = imc_getopt(argc, argv, &imc_cmd_write)) != -1)
		if ((ret = write_opt(ctx, c, &src, &have_len, &from)))
			return ret;
	if ((src.pattern >= 0) != have_len) {
		fprintf(ctx->err, "iomapctl: write: --pattern and --length go "
			"together\n");
		return imc_usage(ctx, &imc_cmd_write);
	}
	if (from && src.pattern >= 0) {
		fprintf(ctx->err, "iomapctl: write: --from and --pattern "
				  "exclude each other\n");
		return imc_usage(ctx, &imc_cmd_write);
	}
	ret = imc_arg_range(ctx, argv[optind + 1], NULL, &off, NULL);
	if (!ret)
		ret = write_open_src(ctx, from, &src);
	if (ret)
		return ret;
	ret = imc_file_open_flags(ctx, argv[optind],
				  IMC_OPEN_RDWR | IMC_OPEN_CREATE, &f);
	if (!ret) {
		if (!S_ISREG(f.mode))
			ret = imc_err(ctx, f.name,
				      S_ISDIR(f.mode) ? -EISDIR : -EINVAL);
		else
			ret = write_loop(ctx, &f, &src, off);
		ret = imc_file_finish(&f, ret);
	}
	if (from)
		close(src.fd);
	return ret;
}

const struct imc_cmd imc_cmd_write = {
	.name = "write",
	.args = "[--pattern BYTE --length N | --from HOSTFILE] FILE OFFSET",
	.oneline = "write stdin or a byte pattern into a file",
	.help = write_help,
	.fn = cmd_write,
	.argmin = 2,
	.argmax = 2,
	.flags = IMC_CMD_NEEDS_FS | IMC_CMD_RW | IMC_CMD_SEES_CACHE,
	.shortopts = "",
	.longopts = write_longopts,
	.complete = 'f',
};
