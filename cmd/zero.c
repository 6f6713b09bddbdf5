// SPDX-License-Identifier: GPL-2.0
/* zero.c - `zero`: make a range read as zeros (FALLOC_FL_ZERO_RANGE). */
#include <errno.h>

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

/* Whole blocks: give them back and preallocate (unwritten reads zeros). */
static int zero_blocks(struct imc_file *f, uint64_t a, uint64_t b)
{
	const struct fsa_ops *ops = f->fs->ops;
	int ret;

	if (a >= b || !ops->punch)
		return 0;
	ret = ops->punch(f->inode, (loff_t)a, b - a);
	if (!ret)
		iomap_file_invalidate(f->io, (loff_t)a);
	if (!ret && ops->falloc && (ops->caps & FSA_CAP_UNWRITTEN))
		ret = ops->falloc(f->inode, (loff_t)a, b - a, true);
	return ret;
}

static int do_zero(struct imc_file *f, uint64_t off, uint64_t len, bool keep)
{
	uint64_t bs = f->blksize, end = off + len;
	uint64_t a = (off + bs - 1) / bs * bs, b = end / bs * bs;
	int ret = 0;

	if (!keep && end > (uint64_t)f->size && f->fs->ops->setsize)
		ret = f->fs->ops->setsize(f->inode, (loff_t)end);
	if (!ret && a < b)
		ret = zero_blocks(f, a, b);
	if (ret)
		return ret;
	/* What is left: the edges, or the whole range inside one block. */
	if (a >= b)
		return iomap_file_zero_range(f->io, (loff_t)off, len);
	if (off < a)
		ret = iomap_file_zero_range(f->io, (loff_t)off, a - off);
	if (!ret && b < end)
		ret = iomap_file_zero_range(f->io, (loff_t)b, end - b);
	return ret;
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
	.flags = IMC_CMD_NEEDS_FS | IMC_CMD_RW,
	.shortopts = "k",
	.longopts = zero_longopts,
	.complete = 'f',
};
