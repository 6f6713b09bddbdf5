// SPDX-License-Identifier: GPL-2.0
/* cp_reflink.c - `cp --reflink`: a file copied inside one image shares its
 * source's blocks when the image's format can (fsa_ops.reflink). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cp.h"

/* Source and destination are files of one image that shares blocks. */
static bool can_share(const struct cp *cp, const struct cp_dst *dst)
{
	return cp->src_image && dst->image && cp->sctx == cp->dctx &&
	       cp->dctx->fs && cp->dctx->fs->ops->reflink;
}

/* The destination's inode: an existing regular file (with -f) or a new
 * one.  0, a negative errno, or 1 when the error was already printed. */
static int reflink_dst(struct cp *cp, const struct cp_dst *dst, uint64_t *ino)
{
	struct fsa_fs *fs = cp->dctx->fs;
	char spec[PATH_MAX + 16];
	struct fsa_stat st;
	struct imc_file d;
	int ret = fs->ops->lookup_link ? fs->ops->lookup_link(fs, dst->path, ino) :
					 fs->ops->lookup(fs, dst->path, ino);

	if (!ret) {
		ret = fs->ops->stat(fs, *ino, &st);
		if (!ret && !S_ISREG(st.mode))
			return S_ISDIR(st.mode) ? -EISDIR : -ELOOP;
		return ret ? ret : cp->force ? 0 : -EEXIST;
	}
	if (ret != -ENOENT)
		return ret;
	snprintf(spec, sizeof(spec), "%s:%s", dst->image, dst->path);
	if (imc_file_open_flags(cp->dctx, spec, IMC_OPEN_RDWR | IMC_OPEN_CREATE,
				&d))
		return 1;
	*ino = d.ino;
	return imc_file_close(&d);
}

/* Mode and times of the source, as a copy gets them. */
static int reflink_attrs(struct fsa_fs *fs, uint64_t ino,
			 const struct fsa_stat *src)
{
	struct fsa_stat st;
	int ret;

	if (!fs->ops->setattr)
		return 0;
	ret = fs->ops->stat(fs, ino, &st);
	if (ret)
		return ret;
	st.mode = (st.mode & ~07777U) | (src->mode & 07777);
	st.atime = src->atime;
	st.mtime = src->mtime;
	return fs->ops->setattr(fs, ino, &st);
}

int cp_reflink(struct cp *cp, const char *src, const struct fsa_stat *st,
	       const struct cp_dst *dst)
{
	struct fsa_fs *fs;
	uint64_t ino;
	int ret;

	if (cp->reflink == CP_REFLINK_NEVER)
		return -1;
	if (!can_share(cp, dst))
		return cp->reflink == CP_REFLINK_AUTO ?
			       -1 :
			       cp_fail(cp, src, dst, -EOPNOTSUPP);
	fs = cp->dctx->fs;
	ret = reflink_dst(cp, dst, &ino);
	if (ret > 0)
		return IMC_EXIT_FAIL;
	if (!ret)
		ret = fs->ops->reflink(fs, st->ino, ino);
	if (!ret)
		ret = reflink_attrs(fs, ino, st);
	if (ret)
		return cp_fail(cp, src, dst, ret);
	cp->walked += (uint64_t)st->size;
	imc_progress_update(&cp->prog, cp->walked);
	return IMC_EXIT_OK;
}
