// SPDX-License-Identifier: GPL-2.0
/*
 * walk.c - the kernel's path walk inside an image, for every adapter: a
 * symlink met on the way is spliced into the rest of the path, at most
 * FSA_MAXSYMLINKS times, so "../" above the root stays at the root and
 * nothing resolves on the host.  The adapter answers one component at a
 * time; the rules (ELOOP, ENOTDIR, a trailing "/") live here once.
 */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "iomapctl/fsa.h"

/*
 * Replaces the component of @path at @p (@len bytes) by the target of
 * symlink @ino: the walk goes on with "target + rest", from the root when
 * the target is absolute, else from the symlink's directory.
 */
static int splice_link(struct fsa_fs *fs, uint64_t ino, char *path,
		       const char *p, size_t len)
{
	char target[FSA_PATH_MAX];
	int ret = fs->ops->readlink(fs, ino, target, sizeof(target));

	if (ret)
		return ret;
	if (strlen(target) + strlen(p + len) >= FSA_PATH_MAX)
		return -ENAMETOOLONG;
	strcat(target, p + len);
	strcpy(path, target);
	return 0;
}

int fsa_walk(struct fsa_fs *fs, uint64_t root, fsa_lookup_one_fn lookup_one,
	     const char *name, bool follow, uint64_t *inop)
{
	char path[FSA_PATH_MAX];
	uint64_t dir = root, ino = root;
	struct fsa_stat st;
	char *p = path;
	int links = 0, ret;

	if (strlen(name) >= sizeof(path))
		return -ENAMETOOLONG;
	if (!*name)
		return -ENOENT;
	strcpy(path, name);
	for (;;) {
		uint32_t mode;
		size_t len;
		bool last;

		while (*p == '/')
			p++;
		if (!*p)
			break;
		len = strcspn(p, "/");
		last = p[len] == '\0';
		ret = lookup_one(fs, dir, p, len, &ino, &mode);
		if (ret)
			return ret;
		if (S_ISLNK(mode) && (follow || !last)) {
			if (++links > FSA_MAXSYMLINKS)
				return -ELOOP;
			ret = splice_link(fs, ino, path, p, len);
			if (ret)
				return ret;
			p = path;
			if (*p == '/')
				dir = root;
			ino = dir;
			continue;
		}
		if (!last && !S_ISDIR(mode))
			return -ENOTDIR;
		dir = ino;
		p += len;
	}
	/* "file/" names a directory, as in the kernel. */
	if (name[strlen(name) - 1] == '/' || ino == root) {
		ret = fs->ops->stat(fs, ino, &st);
		if (ret)
			return ret;
		if (!S_ISDIR(st.mode))
			return -ENOTDIR;
	}
	*inop = ino;
	return 0;
}
