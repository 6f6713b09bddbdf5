// SPDX-License-Identifier: GPL-2.0
/* falloc.c - `falloc`: preallocate unwritten extents. */
#include "cmd.h"

static const struct option falloc_longopts[] = {
	{ "keep-size", no_argument, NULL, 'k' },
	{ NULL, 0, NULL, 0 },
};

static void falloc_help(FILE *out)
{
	fputs("\nPreallocates [OFFSET, OFFSET+LENGTH): holes become unwritten "
	      "extents (they read\nas zeros; fiemap shows flag 0x800).  Data "
	      "already there is kept.  A range\npast EOF grows the file unless "
	      "--keep-size.\n\n"
	      "  -k, --keep-size  do not change the file size\n\n"
	      "Example:\n  iomapctl falloc -k disk.img:/f 0 16m\n",
	      out);
}

static int do_falloc(struct imc_file *f, uint64_t off, uint64_t len, bool keep)
{
	struct iomap_space_ops ops;

	imc_file_space_ops(f, &ops);
	return iomap_file_falloc(f->io, &ops, (loff_t)off, len, keep);
}

static int cmd_falloc(struct imc_ctx *ctx, int argc, char **argv)
{
	return imc_range_cmd(ctx, argc, argv, &imc_cmd_falloc, do_falloc);
}

const struct imc_cmd imc_cmd_falloc = {
	.name = "falloc",
	.args = "[--keep-size] IMAGE:PATH OFFSET LENGTH",
	.oneline = "preallocate unwritten extents",
	.help = falloc_help,
	.fn = cmd_falloc,
	.argmin = 3,
	.argmax = 3,
	.flags = IMC_CMD_NEEDS_FS | IMC_CMD_RW,
	.shortopts = "k",
	.longopts = falloc_longopts,
	.complete = 'f',
};
