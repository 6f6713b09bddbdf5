// SPDX-License-Identifier: GPL-2.0
/* cat.c - `cat`: a file's bytes (or a range of them) to stdout. */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "cmd.h"

#define CAT_CHUNK (1U << 20)
#define CAT_ALIGN 4096U

static void cat_help(FILE *out)
{
	fputs("\nWrites the bytes of FILE from OFFSET (default 0) for LENGTH "
	      "bytes (default to\nEOF) to stdout, at any offset and length on "
	      "every --io path.  Holes read as\nzeros.\n\n"
	      "Examples:\n  iomapctl cat disk.img:/etc/hostname\n"
	      "  iomapctl cat ./host-file 4k 512 | xxd\n",
	      out);
}

static int write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

static int cat_range(struct imc_ctx *ctx, struct imc_file *f, uint64_t pos,
		     uint64_t end)
{
	struct imc_progress p;
	char *buf = NULL;
	uint64_t start = pos;
	int ret = 0;

	/* Page-aligned: --io=direct refuses unaligned user memory. */
	if (posix_memalign((void **)&buf, CAT_ALIGN, CAT_CHUNK))
		return imc_err(ctx, "buffer", -ENOMEM);
	fflush(ctx->out);
	imc_progress_begin(ctx, &p, end - pos);
	while (pos < end && ret == 0) {
		/*
		 * Chunks end on 4 KiB file boundaries and sit at the same
		 * offset in memory, so on the direct path only the first and
		 * last chunks of an unaligned range need bounce buffers.
		 */
		size_t skew = pos % CAT_ALIGN, want = CAT_CHUNK - skew;
		ssize_t n;

		if (end - pos < want)
			want = (size_t)(end - pos);
		n = imc_file_pread(f, buf + skew, want, (loff_t)pos);
		if (n <= 0) {
			if (n < 0)
				ret = imc_err(ctx, f->name, (int)n);
			break;
		}
		ret = write_all(fileno(ctx->out), buf + skew, (size_t)n);
		if (ret)
			ret = imc_err(ctx, "stdout", ret);
		pos += (uint64_t)n;
		imc_progress_update(&p, pos - start);
	}
	imc_progress_end(&p);
	free(buf);
	return ret;
}

static int cmd_cat(struct imc_ctx *ctx, int argc, char **argv)
{
	uint64_t off = 0, len = UINT64_MAX, end;
	struct imc_file f;
	int ret;

	while (imc_getopt(argc, argv, &imc_cmd_cat) != -1)
		;
	if (optind + 1 < argc &&
	    (ret = imc_arg_size(ctx, "offset", argv[optind + 1], &off)))
		return ret;
	if (optind + 2 < argc &&
	    (ret = imc_arg_size(ctx, "length", argv[optind + 2], &len)))
		return ret;
	ret = imc_file_open(ctx, argv[optind], &f);
	if (ret)
		return ret;
	end = (uint64_t)f.size;
	if (off < end && len < end - off)
		end = off + len;
	ret = off < end ? cat_range(ctx, &f, off, end) : IMC_EXIT_OK;
	imc_file_close(&f);
	return ret;
}

const struct imc_cmd imc_cmd_cat = {
	.name = "cat",
	.args = "FILE [OFFSET [LENGTH]]",
	.oneline = "write a file's bytes to stdout",
	.help = cat_help,
	.fn = cmd_cat,
	.argmin = 1,
	.argmax = 3,
	.flags = IMC_CMD_SEES_CACHE,
	.shortopts = "",
	.complete = 'f',
};
