// SPDX-License-Identifier: GPL-2.0
/* registry.c - the list of filesystem adapters, and probing an image. */
#include <errno.h>
#include <stddef.h>

#include "iomapctl/fsa.h"

const struct fsa_ops *const fsa_adapters[] = {
	&fsa_ext2_ops,
	&fsa_native_ops,
	NULL,
};

const struct fsa_ops *fsa_probe(const char *path, struct fsa_info *info,
				int *err)
{
	*err = -ENODATA;
	for (size_t i = 0; fsa_adapters[i]; i++) {
		int ret = fsa_adapters[i]->probe(path, info);

		if (ret == 0)
			return fsa_adapters[i];
		if (ret != -ENODATA) {
			*err = ret;
			return NULL;
		}
	}
	return NULL;
}

/*
 * Each adapter opens the image itself, saying -ENODATA when it is not its
 * own: probing first opened every image twice (libblkid and libext2fs
 * read it twice), a cost every command paid.
 */
int fsa_open(const char *path, unsigned int flags, struct iomap_stats *stats,
	     struct fsa_fs **fsp)
{
	for (size_t i = 0; fsa_adapters[i]; i++) {
		int ret = fsa_adapters[i]->open(path, flags, stats, fsp);

		if (ret != -ENODATA)
			return ret;
	}
	return -ENODATA;
}
