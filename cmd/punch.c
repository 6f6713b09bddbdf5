// SPDX-License-Identifier: GPL-2.0
/* punch.c - `punch`: deallocate a range, leaving a hole. */
#include <errno.h>

#include "cmd.h"

static void punch_help(FILE *out)
{
	fputs("\nFrees the blocks of [OFFSET, OFFSET+LENGTH), leaving a hole; "
	      "partial blocks at\nthe edges are zeroed.  The size does not "
	      "change.\n\n"
	      "Example:\n  iomapctl punch disk.img:/f 1m 4m\n",
	      out);
}

static int cmd_punch(struct imc_ctx *ctx, int argc, char **argv)
{
	struct imc_file f;
	uint64_t off, len;
	int ret;

	while (imc_getopt(argc, argv, &imc_cmd_punch) != -1)
		;
	ret = imc_arg_range(ctx, argv[optind + 1], argv[optind + 2], &off,
			    &len);
	if (!ret)
		ret = imc_mutate_open(ctx, argv[optind], &f);
	if (ret)
		return ret;
	ret = f.fs->ops->punch ? f.fs->ops->punch(f.inode, (loff_t)off, len) :
				 -EOPNOTSUPP;
	/* The cache must not serve the bytes that are gone. */
	if (!ret)
		iomap_file_invalidate(f.io, (loff_t)(off & ~(uint64_t)(f.blksize - 1)));
	if (ret)
		ret = imc_err(ctx, f.name, ret);
	return imc_file_finish(&f, ret);
}

const struct imc_cmd imc_cmd_punch = {
	.name = "punch",
	.args = "IMAGE:PATH OFFSET LENGTH",
	.oneline = "deallocate a range, leaving a hole",
	.help = punch_help,
	.fn = cmd_punch,
	.argmin = 3,
	.argmax = 3,
	.flags = IMC_CMD_NEEDS_FS | IMC_CMD_RW,
	.shortopts = "",
	.complete = 'f',
};
