// SPDX-License-Identifier: GPL-2.0
/* mkfrag-native.c - make a file of NEXTENTS one-block extents in an iomapfs
 * image, for the mapping benchmark of a million extents (B8): NAME and a
 * companion NAME.gaps are preallocated one block each in turn, through the
 * adapter's own falloc, so each takes every other block and neither's
 * blocks merge.  One process does it all (a command per extent took a
 * process start and a commit each); the adapter commits as its journal
 * fills, and the image is left as `iomapctl fsck` wants it. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "iomapctl/fsa.h"

static int fail(const char *what, int err)
{
	fprintf(stderr, "mkfrag-native: %s: %s\n", what, strerror(-err));
	return 1;
}

/* Creates /@name and opens it. */
static int new_file(struct fsa_fs *fs, uint64_t root, const char *name,
		    struct iomap_inode **inodep)
{
	uint64_t ino;
	int ret = fs->ops->create(fs, root, name, S_IFREG | 0644, &ino);

	return ret ? ret : fs->ops->iget(fs, ino, inodep);
}

static int make(struct fsa_fs *fs, const char *name, uint64_t nextents)
{
	struct iomap_inode *file = NULL, *gaps = NULL;
	const loff_t bs = (loff_t)1 << fs->blkbits;
	char gaps_name[256];
	uint64_t root;
	int ret;

	if (snprintf(gaps_name, sizeof(gaps_name), "%s.gaps", name) >=
	    (int)sizeof(gaps_name))
		return fail(name, -ENAMETOOLONG);
	ret = fs->ops->lookup(fs, "/", &root);
	if (!ret)
		ret = new_file(fs, root, name, &file);
	if (!ret)
		ret = new_file(fs, root, gaps_name, &gaps);
	for (uint64_t i = 0; !ret && i < nextents; i++) {
		ret = fs->ops->falloc(file, (loff_t)i * bs, (uint64_t)bs,
				      false);
		if (!ret)
			ret = fs->ops->falloc(gaps, (loff_t)i * bs,
					      (uint64_t)bs, false);
	}
	if (ret)
		fail("falloc", ret);
	if (gaps)
		fs->ops->iput(gaps);
	if (file)
		fs->ops->iput(file);
	return ret;
}

int main(int argc, char **argv)
{
	struct fsa_fs *fs;
	uint64_t nextents;
	char *end;
	int ret;

	if (argc != 4) {
		fprintf(stderr, "usage: mkfrag-native IMAGE NAME NEXTENTS\n");
		return 2;
	}
	nextents = strtoull(argv[3], &end, 0);
	if (*end || !*argv[3])
		return fail(argv[3], -EINVAL);
	ret = fsa_open(argv[1], FSA_OPEN_RDWR, NULL, &fs);
	if (ret)
		return fail(argv[1], ret);
	if (!fs->ops->falloc || !fs->ops->create) {
		fs->ops->close(fs);
		return fail(argv[1], -EOPNOTSUPP);
	}
	ret = make(fs, argv[2], nextents);
	if (ret) {
		fs->ops->close(fs);
		return 1;
	}
	ret = fs->ops->close(fs);
	return ret ? fail("close", ret) : 0;
}
