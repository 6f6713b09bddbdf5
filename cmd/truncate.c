// SPDX-License-Identifier: GPL-2.0
/* truncate.c - `truncate`: shrink or grow a file. */
#include "cmd.h"

static void truncate_help(FILE *out)
{
	fputs("\nSets the size of FILE to SIZE.  Shrinking frees the blocks "
	      "past the new end and\nzeroes the tail of the new last block, so "
	      "growing it again reads zeros;\ngrowing leaves a hole, after zeroing "
	      "the old last block past the old end.\n\n"
	      "Example:\n  iomapctl truncate disk.img:/f 10k\n",
	      out);
}

static int do_truncate(struct imc_file *f, uint64_t size)
{
	struct iomap_space_ops ops;

	imc_file_space_ops(f, &ops);
	return iomap_file_setsize(f->io, &ops, (loff_t)size);
}

static int cmd_truncate(struct imc_ctx *ctx, int argc, char **argv)
{
	struct imc_file f;
	uint64_t size;
	int ret;

	while (imc_getopt(argc, argv, &imc_cmd_truncate) != -1)
		;
	ret = imc_arg_range(ctx, argv[optind + 1], NULL, &size, NULL);
	if (!ret)
		ret = imc_mutate_open(ctx, argv[optind], &f);
	if (ret)
		return ret;
	ret = do_truncate(&f, size);
	if (ret)
		ret = imc_err(ctx, f.name, ret);
	return imc_file_finish(&f, ret);
}

const struct imc_cmd imc_cmd_truncate = {
	.name = "truncate",
	.args = "IMAGE:PATH SIZE",
	.oneline = "shrink or grow a file",
	.help = truncate_help,
	.fn = cmd_truncate,
	.argmin = 2,
	.argmax = 2,
	.flags = IMC_CMD_NEEDS_FS | IMC_CMD_RW,
	.shortopts = "",
	.complete = 'f',
};
