/* SPDX-License-Identifier: GPL-2.0 */
/* cp.h - what cp.c (trees, arguments) and cp_file.c (one file) share. */
#ifndef IOMAPCTL_CMD_CP_H
#define IOMAPCTL_CMD_CP_H

#include "cmd.h"

enum cp_sparse { CP_SPARSE_AUTO, CP_SPARSE_ALWAYS, CP_SPARSE_NEVER };

/**
 * struct cp - one cp run.
 * @sctx:	context the sources are opened in.
 * @dctx:	context the destination image is opened in (== @sctx when
 *		both are the same image, so one handle sees every change).
 * @failed:	IMC_EXIT_FAIL once any file failed; cp goes on with the rest.
 */
struct cp {
	struct imc_ctx *sctx;
	struct imc_ctx *dctx;
	struct imc_ctx dst_ctx;
	bool recursive, force, verify;
	enum cp_sparse sparse;
	uint64_t bytes;
	struct imc_progress prog;
	int failed;
};

/**
 * struct cp_dst - where one copy goes.
 * @image:	NULL for the host, else the destination image path.
 * @dirfd:	host: the open destination directory (names resolve in it,
 *		never through a symlink).
 * @path:	image: absolute in-image path of the new entry.
 * @name:	the new entry's name.
 */
struct cp_dst {
	const char *image;
	int dirfd;
	char path[PATH_MAX];
	const char *name;
};

/* Copies regular file @src to @dst; prints its own error; IMC_EXIT_*. */
int cp_file(struct cp *cp, const char *src, const struct cp_dst *dst);
/* A name read from a directory that is safe to create: 0 or -EINVAL. */
int cp_check_name(const char *name);

#endif /* IOMAPCTL_CMD_CP_H */
