// SPDX-License-Identifier: GPL-2.0
/* mkfs.c - `mkfs`: make an empty native (iomapfs) image. */
#include <errno.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>

#include "iomapctl/native.h"
#include "cmd.h"

static const struct option mkfs_longopts[] = {
	{ "size", required_argument, NULL, 's' },
	{ "block-size", required_argument, NULL, 'b' },
	{ "label", required_argument, NULL, 'L' },
	{ "uuid", required_argument, NULL, 'U' },
	{ NULL, 0, NULL, 0 },
};

static void mkfs_help(FILE *out)
{
	fputs("\nMakes an empty iomapfs, the native format (docs/native-format.md), "
	      "on IMAGE,\ncreating the file when it is missing.  Only the "
	      "superblock, one journal block\nand a few tree blocks are "
	      "written: a sparse image stays sparse.  With --json\nprints "
	      "{\"image\", \"type\", \"block_size\", \"block_count\", "
	      "\"free_blocks\", \"label\", \"uuid\"}.\n\n"
	      "  -s, --size SIZE        image size (default: the file's or "
	      "device's size;\n                         required for a new file)\n"
	      "  -b, --block-size N     block size, 1k to 64k, a power of two "
	      "(default 4k)\n"
	      "  -L, --label L          volume label, at most 63 bytes\n"
	      "  -U, --uuid U           filesystem UUID (default: random)\n\n"
	      "Examples:\n  iomapctl mkfs --size 1g disk.img\n"
	      "  iomapctl mkfs -b 1k -L data --size 16t big.img\n",
	      out);
}

struct mkfs_args {
	struct fsa_native_mkfs_opts o;
	bool have_uuid;
};

static int mkfs_option(struct imc_ctx *ctx, int c, struct mkfs_args *a)
{
	uint64_t v;
	int ret;

	switch (c) {
	case 's':
		return imc_arg_size(ctx, "size", optarg, &a->o.size);
	case 'b':
		ret = imc_arg_size(ctx, "block size", optarg, &v);
		if (ret)
			return ret;
		if (v < 1024 || v > 65536 || (v & (v - 1))) {
			fprintf(ctx->err,
				"iomapctl: mkfs: block size %s is not "
				"a power of two from 1k to 64k\n",
				optarg);
			return IMC_EXIT_USAGE;
		}
		a->o.block_size = (unsigned int)v;
		return 0;
	case 'L':
		if (strlen(optarg) > 63) {
			fprintf(ctx->err, "iomapctl: mkfs: label longer than "
					  "63 bytes\n");
			return IMC_EXIT_USAGE;
		}
		a->o.label = optarg;
		return 0;
	case 'U':
		if (fsa_native_uuid_parse(optarg, a->o.uuid)) {
			fprintf(ctx->err, "iomapctl: mkfs: bad UUID '%s'\n",
				optarg);
			return IMC_EXIT_USAGE;
		}
		a->have_uuid = true;
		return 0;
	}
	return IMC_EXIT_USAGE;
}

/* A random (version 4) UUID. */
static int random_uuid(uint8_t *u)
{
	if (getrandom(u, 16, 0) != 16)
		return -errno;
	u[6] = (uint8_t)((u[6] & 0x0f) | 0x40);
	u[8] = (uint8_t)((u[8] & 0x3f) | 0x80);
	return 0;
}

static void mkfs_print(struct imc_ctx *ctx, const char *image,
		       const struct fsa_info *info)
{
	struct imc_json j;

	if (!ctx->json) {
		if (!ctx->quiet)
			fprintf(ctx->out,
				"%s: iomapfs, %llu blocks of %u "
				"bytes, uuid %s\n",
				image, (unsigned long long)info->block_count,
				info->block_size, info->uuid);
		return;
	}
	imc_json_init(&j, ctx->out);
	imc_json_obj_begin(&j, NULL);
	imc_json_str(&j, "image", image);
	imc_json_str(&j, "type", info->type);
	imc_json_u64(&j, "block_size", info->block_size);
	imc_json_u64(&j, "block_count", info->block_count);
	imc_json_u64(&j, "free_blocks", info->free_blocks);
	imc_json_str(&j, "label", info->label);
	imc_json_str(&j, "uuid", info->uuid);
	imc_json_obj_end(&j);
	imc_json_end(&j);
}

static int cmd_mkfs(struct imc_ctx *ctx, int argc, char **argv)
{
	struct mkfs_args a = { .o = { .block_size = 4096 } };
	struct fsa_info info;
	struct stat st;
	const char *image;
	int c, ret;

	while ((c = imc_getopt(argc, argv, &imc_cmd_mkfs)) != -1) {
		ret = mkfs_option(ctx, c, &a);
		if (ret)
			return ret;
	}
	image = argv[optind];
	if (!a.o.size && stat(image, &st) < 0 && errno == ENOENT) {
		fprintf(ctx->err,
			"iomapctl: mkfs: %s does not exist: give "
			"--size to create it\n",
			image);
		return IMC_EXIT_USAGE;
	}
	if (!a.have_uuid && (ret = random_uuid(a.o.uuid)))
		return imc_err(ctx, "random UUID", ret);
	ret = fsa_native_mkfs(image, &a.o);
	if (ret == -ENOSPC)
		return imc_errf(ctx,
				"%s: too small for an iomapfs of %u-byte "
				"blocks",
				image, a.o.block_size);
	if (!ret)
		ret = fsa_native_ops.probe(image, &info);
	if (ret)
		return imc_err(ctx, image, ret);
	mkfs_print(ctx, image, &info);
	return IMC_EXIT_OK;
}

const struct imc_cmd imc_cmd_mkfs = {
	.name = "mkfs",
	.args = "[--size SIZE] [--block-size N] [--label L] [--uuid U] IMAGE",
	.oneline = "make an empty native (iomapfs) image",
	.help = mkfs_help,
	.fn = cmd_mkfs,
	.argmin = 1,
	.argmax = 1,
	.flags = IMC_CMD_ONESHOT,
	.shortopts = "s:b:L:U:",
	.longopts = mkfs_longopts,
	.complete = 'i',
};
