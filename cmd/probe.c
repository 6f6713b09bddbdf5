// SPDX-License-Identifier: GPL-2.0
/* probe.c - `probe`: which filesystem an image holds, through the adapters
 * or, for filesystems no adapter claims, libblkid. */
#include <blkid.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"

static void probe_help(FILE *out)
{
	fputs("\nPrints the filesystem type of IMAGE (ext2, ext3, ext4, ...).\n"
	      "With -v or --json also the block size, block count, label and "
	      "UUID:\n  {\"image\", \"type\", \"block_size\", \"block_count\", "
	      "\"free_blocks\", \"inode_count\",\n   \"label\", \"uuid\", "
	      "\"source\"}\nwhere source is \"adapter\" when iomapctl can open "
	      "the image, \"blkid\" when\nonly libblkid recognises it; then only "
	      "type, label and UUID are known.\n\n"
	      "Examples:\n  iomapctl probe disk.img\n"
	      "  iomapctl probe --json disk.img\n",
	      out);
}

static void copy_value(blkid_probe pr, const char *name, char *buf,
		       size_t size)
{
	const char *val = NULL;

	if (blkid_probe_lookup_value(pr, name, &val, NULL) == 0 && val)
		snprintf(buf, size, "%s", val);
}

static int probe_blkid(const char *path, struct fsa_info *info)
{
	blkid_probe pr = blkid_new_probe_from_filename(path);
	int ret;

	if (!pr)
		return errno ? -errno : -EIO;
	blkid_probe_enable_superblocks(pr, 1);
	blkid_probe_set_superblocks_flags(pr, BLKID_SUBLKS_LABEL |
				BLKID_SUBLKS_UUID | BLKID_SUBLKS_TYPE);
	ret = blkid_do_safeprobe(pr);
	if (ret == 0) {
		copy_value(pr, "TYPE", info->type, sizeof(info->type));
		copy_value(pr, "LABEL", info->label, sizeof(info->label));
		copy_value(pr, "UUID", info->uuid, sizeof(info->uuid));
	}
	blkid_free_probe(pr);
	/* 1 = nothing found, -2 = ambiguous: neither is a usable answer. */
	return ret == 0 ? 0 : -ENODATA;
}

static void probe_text(struct imc_ctx *ctx, const struct fsa_info *info,
		       bool adapter)
{
	fprintf(ctx->out, "%s\n", info->type);
	if (!ctx->verbose)
		return;
	if (adapter)
		fprintf(ctx->out, "block size: %u\nblock count: %llu\n",
			info->block_size,
			(unsigned long long)info->block_count);
	fprintf(ctx->out, "label: %s\nuuid: %s\n", info->label, info->uuid);
}

/*
 * Sizes and counts come from the adapter alone: libblkid does not read the
 * counts, and its BLOCK_SIZE is the smallest I/O size (the sector size on
 * xfs), not the filesystem block.  What we cannot read is left out.
 */
static void probe_print(struct imc_ctx *ctx, const char *image,
			const struct fsa_info *info, const char *source)
{
	bool adapter = !strcmp(source, "adapter");
	struct imc_json j;

	if (!ctx->json) {
		probe_text(ctx, info, adapter);
		return;
	}
	imc_json_init(&j, ctx->out);
	imc_json_obj_begin(&j, NULL);
	imc_json_str(&j, "image", image);
	imc_json_str(&j, "type", info->type);
	if (adapter) {
		imc_json_u64(&j, "block_size", info->block_size);
		imc_json_u64(&j, "block_count", info->block_count);
		imc_json_u64(&j, "free_blocks", info->free_blocks);
		imc_json_u64(&j, "inode_count", info->inode_count);
	}
	imc_json_str(&j, "label", info->label);
	imc_json_str(&j, "uuid", info->uuid);
	imc_json_str(&j, "source", source);
	imc_json_obj_end(&j);
	imc_json_end(&j);
}

static int cmd_probe(struct imc_ctx *ctx, int argc, char **argv)
{
	const char *image = argv[argc - 1];
	struct fsa_info info = { 0 };
	const char *source = "adapter";
	int err = 0;

	(void)argc;
	if (access(image, R_OK) < 0)
		return imc_err(ctx, image, -errno);
	if (!fsa_probe(image, &info, &err)) {
		if (err != -ENODATA)
			return imc_err(ctx, image, err);
		memset(&info, 0, sizeof(info));
		err = probe_blkid(image, &info);
		if (err)
			return imc_err(ctx, image, err);
		source = "blkid";
	}
	probe_print(ctx, image, &info, source);
	return IMC_EXIT_OK;
}

const struct imc_cmd imc_cmd_probe = {
	.name = "probe",
	.args = "IMAGE",
	.oneline = "print the filesystem type of an image",
	.help = probe_help,
	.fn = cmd_probe,
	.argmin = 1,
	.argmax = 1,
	.shortopts = "",
	.complete = 'i',
};
