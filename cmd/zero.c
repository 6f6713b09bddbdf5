// SPDX-License-Identifier: GPL-2.0
/* zero.c - `zero`: make a range read as zeros (FALLOC_FL_ZERO_RANGE). */
#include "cmd.h"

static const struct option zero_longopts[] = {
	{ "keep-size", no_argument, NULL, 'k' },
	{ NULL, 0, NULL, 0 },
};

static void zero_help(FILE *out)
{
	fputs("\nAfterwards [OFFSET, OFFSET+LENGTH) reads as zeros.  Partial "
	      "blocks at the edges\nare zeroed in place through the --io path; "
	      "whole blocks inside are freed and\npreallocated again as "
	      "unwritten extents (where the filesystem has them).\nA range past "
	      "EOF grows the file unless --keep-size.\n\n"
	      "  -k, --keep-size  do not change the file size\n\n"
	      "Example:\n  iomapctl zero disk.img:/f 1000 1m\n",
	      out);
}

static int do_zero(struct imc_file *f, uint64_t off, uint64_t len, bool keep)
{
	struct iomap_space_ops ops;

	imc_file_space_ops(f, &ops);
	return iomap_file_falloc_zero(f->io, &ops, (loff_t)off, len, keep);
}

static int cmd_zero(struct imc_ctx *ctx, int argc, char **argv)
{
	return imc_range_cmd(ctx, argc, argv, &imc_cmd_zero, do_zero);
}

const struct imc_cmd imc_cmd_zero = {
	.name = "zero",
	.args = "[--keep-size] IMAGE:PATH OFFSET LENGTH",
	.oneline = "make a range read as zeros (zero-range)",
	.help = zero_help,
	.fn = cmd_zero,
	.argmin = 3,
	.argmax = 3,
	.flags = IMC_CMD_NEEDS_FS | IMC_CMD_RW | IMC_CMD_SEES_CACHE,
	.shortopts = "k",
	.longopts = zero_longopts,
	.complete = 'f',
};
