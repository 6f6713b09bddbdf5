// SPDX-License-Identifier: GPL-2.0
/* punch.c - `punch`: deallocate a range, leaving a hole. */
#include "cmd.h"

static void punch_help(FILE *out)
{
	fputs("\nFrees the blocks of [OFFSET, OFFSET+LENGTH), leaving a hole; "
	      "partial blocks at\nthe edges are zeroed.  The size does not "
	      "change.\n\n"
	      "Example:\n  iomapctl punch disk.img:/f 1m 4m\n",
	      out);
}

static int do_punch(struct imc_file *f, uint64_t off, uint64_t len, bool keep)
{
	struct iomap_space_ops ops;

	(void)keep; /* punch never changes the size */
	imc_file_space_ops(f, &ops);
	return iomap_file_punch(f->io, &ops, (loff_t)off, len);
}

static int cmd_punch(struct imc_ctx *ctx, int argc, char **argv)
{
	return imc_range_cmd(ctx, argc, argv, &imc_cmd_punch, do_punch);
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
