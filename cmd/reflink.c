// SPDX-License-Identifier: GPL-2.0
/* reflink.c - `reflink`: a file shares another's blocks inside one image. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"

static void reflink_help(FILE *out)
{
	fputs("\nMakes DST a copy of SRC that shares SRC's blocks instead of "
	      "copying them\n(a reflink, as `cp --reflink` on XFS or btrfs): "
	      "DST is created when missing,\nelse its contents and size are "
	      "replaced.  Both files must be in the same\nimage, and the "
	      "image's format must count references to blocks (the native\n"
	      "format does; ext2/3/4 do not: EOPNOTSUPP).  Afterwards a write "
	      "to either file\ncopies only the blocks it changes (copy-on-"
	      "write), so the other keeps its\nbytes; `map` and `fiemap` show "
	      "SHARED where blocks still have two owners or\nmore.  "
	      "Preallocated (unwritten) ranges of SRC are holes in DST (both "
	      "read as\nzeros).  The change is journalled: after a crash DST "
	      "holds what it held,\nor the shared copy (a large file: a prefix "
	      "of it, past its size).\n\n"
	      "Examples:\n"
	      "  iomapctl reflink disk.img:/vm.raw disk.img:/vm-snap.raw\n"
	      "  iomapctl shell disk.img  then  reflink /a /b\n",
	      out);
}

/* Both arguments name files of one image: its path in *@image. */
static int same_image(struct imc_ctx *ctx, const char *src, const char *dst,
		      char **image)
{
	struct imc_spec s, d;
	int ret = imc_spec_parse(ctx, src, &s);

	if (ret)
		return ret;
	ret = imc_spec_parse(ctx, dst, &d);
	if (ret) {
		imc_spec_free(&s);
		return ret;
	}
	if (!s.image || !d.image) {
		fprintf(ctx->err,
			"iomapctl: %s: %s: give IMAGE:PATH (reflink works "
			"inside images)\n",
			ctx->cmdname, s.image ? dst : src);
		ret = IMC_EXIT_USAGE;
	} else if (strcmp(s.image, d.image)) {
		struct stat a, b;

		/* Two spellings of one image file are one image. */
		if (stat(s.image, &a) || stat(d.image, &b) ||
		    a.st_dev != b.st_dev || a.st_ino != b.st_ino)
			ret = imc_errf(ctx,
				       "%s and %s are in different images: "
				       "blocks are shared only inside one "
				       "(use cp to copy between images)",
				       src, dst);
	}
	if (!ret) {
		*image = s.image;
		s.image = NULL;
	}
	imc_spec_free(&s);
	imc_spec_free(&d);
	return ret;
}

/* The inode of @arg, a regular file (created when @create). */
static int reflink_file(struct imc_ctx *ctx, const char *arg, bool create,
			uint64_t *ino)
{
	unsigned int flags = IMC_OPEN_RDWR | (create ? IMC_OPEN_CREATE : 0);
	struct imc_file f;
	int ret = imc_file_open_flags(ctx, arg, flags, &f);

	if (ret)
		return ret;
	*ino = f.ino;
	ret = S_ISREG(f.mode) ? 0 : S_ISDIR(f.mode) ? -EISDIR : -EINVAL;
	/* Closed before the reflink: an open file would keep its old size. */
	imc_file_close(&f);
	return ret ? imc_err(ctx, arg, ret) : IMC_EXIT_OK;
}

static int cmd_reflink(struct imc_ctx *ctx, int argc, char **argv)
{
	const char *src, *dst;
	uint64_t sino, dino;
	char *image = NULL;
	int ret;

	while (imc_getopt(argc, argv, &imc_cmd_reflink) != -1)
		;
	src = argv[optind];
	dst = argv[optind + 1];
	ret = same_image(ctx, src, dst, &image);
	if (!ret) {
		ret = imc_fs_open(ctx, image, true);
		if (ret)
			ret = imc_err(ctx, image, ret);
	}
	if (!ret && !ctx->fs->ops->reflink)
		ret = imc_errf(ctx, "%s: %s images cannot share blocks: %s",
			       image, ctx->fs->ops->name,
			       imc_strerror(EOPNOTSUPP));
	/* Everything checked before DST is made: bad input changes nothing. */
	if (!ret)
		ret = reflink_file(ctx, src, false, &sino);
	if (!ret)
		ret = reflink_file(ctx, dst, true, &dino);
	if (!ret && sino == dino)
		ret = imc_errf(ctx, "%s and %s are the same file", src, dst);
	/* In the shell, data written before must reach the image first. */
	if (!ret) {
		ret = imc_fs_sync(ctx);
		if (!ret)
			ret = ctx->fs->ops->reflink(ctx->fs, sino, dino);
		ret = ret ? imc_err(ctx, dst, ret) : IMC_EXIT_OK;
	}
	if (image) {
		int r = ctx->fs ? imc_fs_sync(ctx) : 0;

		if (!ret && r)
			ret = imc_err(ctx, image, r);
	}
	free(image);
	return ret;
}

const struct imc_cmd imc_cmd_reflink = {
	.name = "reflink",
	.args = "IMAGE:SRC IMAGE:DST",
	.oneline = "make DST a copy of SRC sharing its blocks (copy-on-write)",
	.help = reflink_help,
	.fn = cmd_reflink,
	.argmin = 2,
	.argmax = 2,
	.flags = IMC_CMD_NEEDS_FS | IMC_CMD_RW,
	.shortopts = "",
	.complete = 'f',
};
