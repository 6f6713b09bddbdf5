// SPDX-License-Identifier: GPL-2.0
/* super.c - the superblock: reading and checking it, opening an image
 * (with journal recovery), and making a new filesystem. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <linux/fs.h>

#include "native.h"

static bool is_pow2(uint64_t v)
{
	return v && !(v & (v - 1));
}

/* Everything a reader relies on before trusting any other field. */
static int check_sb(const struct fsa_native_sb *sb)
{
	uint64_t data_start = sb->journal_start + sb->journal_blocks;

	if (sb->block_size < FSA_NATIVE_MIN_BLOCK ||
	    sb->block_size > FSA_NATIVE_MAX_BLOCK || !is_pow2(sb->block_size))
		return -EFSCORRUPTED;
	if (sb->journal_start != 1 ||
	    sb->journal_blocks < FSA_NATIVE_JOURNAL_MIN ||
	    sb->journal_blocks > FSA_NATIVE_JOURNAL_MAX ||
	    data_start >= sb->block_count ||
	    sb->reserve_count > FSA_NATIVE_RESERVE ||
	    sb->free_blocks > sb->block_count - data_start)
		return -EFSCORRUPTED;
	for (uint32_t i = 0; i < sb->reserve_count; i++)
		if (sb->reserve[i] < data_start ||
		    sb->reserve[i] >= sb->block_count)
			return -EFSCORRUPTED;
	for (int t = 0; t < FSA_NATIVE_NR_TREES; t++)
		if (sb->trees[t].levels > FSA_NATIVE_MAX_LEVELS ||
		    (!sb->trees[t].levels) != (!sb->trees[t].root))
			return -EFSCORRUPTED;
	return 0;
}

int fsa_native_read_sb(int fd, struct fsa_native_sb *sb)
{
	ssize_t n = pread(fd, sb, sizeof(*sb), 0);

	/* A directory or a pipe is simply not an image. */
	if (n < 0)
		return errno == EIO ? -EIO : -ENODATA;
	if ((size_t)n < sizeof(*sb) || sb->hdr.magic != FSA_NATIVE_MAGIC_SB)
		return -ENODATA;
	if (sb->version < FSA_NATIVE_VERSION_MIN ||
	    sb->version > FSA_NATIVE_VERSION)
		return -EPROTONOSUPPORT;
	if (sb->hdr.crc !=
		    fsa_native_block_crc((const uint8_t *)sb, sizeof(*sb)) ||
	    sb->hdr.blkno != 0)
		return -EFSCORRUPTED;
	return check_sb(sb);
}

/* Says why the superblock was refused (probe and open only return a code). */
static void sb_complaint(const char *path, int fd, int ret)
{
	struct fsa_native_sb sb;

	if (ret == -EPROTONOSUPPORT && pread(fd, &sb, sizeof(sb), 0) > 52)
		fprintf(stderr,
			"iomapctl: iomapfs: %s: format version %u is "
			"newer than this iomapctl reads (%u)\n",
			path, sb.version, FSA_NATIVE_VERSION);
	else if (ret == -EFSCORRUPTED)
		fprintf(stderr,
			"iomapctl: iomapfs: %s: block 0: superblock "
			"damaged (checksum or geometry)\n",
			path);
}

/* A regular file shorter than the filesystem was cut: say so at once. */
static int check_image_size(struct fsa_native_fs *nfs)
{
	struct stat st;
	uint64_t need = nfs->sb.block_count * nfs->block_size;

	if (fstat(nfs->fd, &st) < 0)
		return -errno;
	if (S_ISREG(st.st_mode) && (uint64_t)st.st_size < need) {
		fsa_native_report(nfs, (uint64_t)st.st_size / nfs->block_size,
				  "the image ends here (%llu bytes) but the "
				  "filesystem needs %llu: truncated image",
				  (unsigned long long)st.st_size,
				  (unsigned long long)need);
		return -EFSCORRUPTED;
	}
	return 0;
}

int fsa_native_fs_open(const char *path, unsigned int flags,
		       struct iomap_stats *stats, struct fsa_native_fs **nfsp)
{
	struct fsa_native_fs *nfs = calloc(1, sizeof(*nfs));
	int ret = -ENOMEM;

	if (!nfs)
		return ret;
	nfs->path = strdup(path);
	nfs->fd = open(path,
		       (flags & FSA_OPEN_RDWR ? O_RDWR : O_RDONLY) | O_CLOEXEC);
	if (!nfs->path || nfs->fd < 0) {
		ret = nfs->fd < 0 && nfs->path ? -errno : -ENOMEM;
		goto out_free;
	}
	ret = fsa_native_read_sb(nfs->fd, &nfs->sb);
	if (ret) {
		sb_complaint(path, nfs->fd, ret);
		goto out_free;
	}
	nfs->block_size = nfs->sb.block_size;
	nfs->base.ops = &fsa_native_ops;
	nfs->base.path = nfs->path;
	nfs->base.blkbits = (unsigned int)__builtin_ctz(nfs->block_size);
	nfs->base.rdwr = flags & FSA_OPEN_RDWR;
	nfs->base.stats = stats ? stats : &nfs->own_stats;
	ret = check_image_size(nfs);
	if (!ret)
		ret = fsa_native_recover(nfs);
	if (!ret)
		ret = check_sb(&nfs->sb);
	if (ret)
		goto out_free;
	nfs->alloc_hint = nfs->sb.journal_start + nfs->sb.journal_blocks;
	*nfsp = nfs;
	return 0;
out_free:
	fsa_native_fs_free(nfs);
	return ret;
}

void fsa_native_fs_free(struct fsa_native_fs *nfs)
{
	if (!nfs)
		return;
	fsa_native_meta_free_all(nfs);
	fsa_native_da_free(nfs);
	free(nfs->deferred);
	free(nfs->cow);
	if (nfs->fd >= 0)
		close(nfs->fd);
	free(nfs->path);
	free(nfs);
}

/* ---- mkfs ---- */

/* The size of @fd's file or device, after setting a file's to @want. */
static int image_size(int fd, uint64_t want, uint64_t *size)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (S_ISBLK(st.st_mode)) {
		if (ioctl(fd, BLKGETSIZE64, size) < 0)
			return -errno;
		if (want > *size)
			return -ENOSPC;
		if (want)
			*size = want;
		return 0;
	}
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	if (want && ftruncate(fd, (off_t)want) < 0)
		return -errno;
	*size = want ? want : (uint64_t)st.st_size;
	return 0;
}

static uint64_t journal_size(uint64_t blocks)
{
	uint64_t j = blocks / 64;

	if (j < FSA_NATIVE_JOURNAL_MIN)
		j = FSA_NATIVE_JOURNAL_MIN;
	return j > FSA_NATIVE_JOURNAL_MAX ? FSA_NATIVE_JOURNAL_MAX : j;
}

static void mkfs_sb(struct fsa_native_fs *nfs,
		    const struct fsa_native_mkfs_opts *o, uint64_t blocks)
{
	struct fsa_native_sb *sb = &nfs->sb;
	uint64_t data_start;

	memset(sb, 0, sizeof(*sb));
	sb->hdr.magic = FSA_NATIVE_MAGIC_SB;
	memcpy(sb->hdr.uuid, o->uuid, sizeof(sb->hdr.uuid));
	sb->version = FSA_NATIVE_VERSION_MIN;
	sb->block_size = o->block_size;
	sb->block_count = blocks;
	sb->next_ino = FSA_NATIVE_ROOT_INO;
	sb->journal_start = 1;
	sb->journal_blocks = journal_size(blocks);
	data_start = sb->journal_start + sb->journal_blocks;
	/* The reserve is taken by hand: the free tree needs it to exist. */
	for (unsigned int i = 0; i < FSA_NATIVE_RESERVE; i++)
		sb->reserve[sb->reserve_count++] = data_start + i;
	snprintf(sb->label, sizeof(sb->label), "%s", o->label ? o->label : "");
	sb->mkfs_time = (int64_t)time(NULL);
}

/* The root directory, inode 1, its own parent. */
static int mkfs_root(struct fsa_native_fs *nfs)
{
	struct fsa_native_inode in = {
		.mode = 040755,
		.nlink = 2,
		.uid = (uint32_t)getuid(),
		.gid = (uint32_t)getgid(),
		.parent = FSA_NATIVE_ROOT_INO,
		.generation = 1,
	};

	fsa_native_now(&in.times[0]);
	for (int i = 1; i < 4; i++)
		in.times[i] = in.times[0];
	nfs->sb.next_ino = FSA_NATIVE_ROOT_INO + 1;
	nfs->sb.inode_count = 1;
	return fsa_native_iwrite(nfs, FSA_NATIVE_ROOT_INO, &in);
}

static int mkfs_build(struct fsa_native_fs *nfs)
{
	const struct fsa_native_sb *sb = &nfs->sb;
	uint64_t first =
		sb->journal_start + sb->journal_blocks + FSA_NATIVE_RESERVE;
	uint8_t *zero = calloc(1, nfs->block_size);
	int ret = -ENOMEM;

	if (!zero)
		return ret;
	/* Nothing older on the device may pass for a transaction. */
	ret = fsa_native_pwrite(nfs, zero, nfs->block_size,
				sb->journal_start * nfs->block_size);
	free(zero);
	if (!ret)
		ret = fsa_native_free_insert(nfs, first,
					     sb->block_count - first);
	if (!ret)
		ret = mkfs_root(nfs);
	if (!ret)
		ret = fsa_native_commit(nfs);
	return ret;
}

int fsa_native_mkfs(const char *path, const struct fsa_native_mkfs_opts *o)
{
	struct fsa_native_fs *nfs;
	uint64_t size, blocks;
	int ret;

	if (o->block_size < FSA_NATIVE_MIN_BLOCK ||
	    o->block_size > FSA_NATIVE_MAX_BLOCK || !is_pow2(o->block_size) ||
	    (o->label && strlen(o->label) > FSA_NATIVE_LABEL_MAX))
		return -EINVAL;
	nfs = calloc(1, sizeof(*nfs));
	if (!nfs)
		return -ENOMEM;
	nfs->path = strdup(path);
	nfs->fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (!nfs->path || nfs->fd < 0) {
		ret = nfs->fd < 0 && nfs->path ? -errno : -ENOMEM;
		goto out;
	}
	ret = image_size(nfs->fd, o->size, &size);
	if (ret)
		goto out;
	blocks = size / o->block_size;
	ret = -ENOSPC;
	if (blocks < 1 + journal_size(blocks) + 2 * FSA_NATIVE_RESERVE)
		goto out;
	nfs->block_size = o->block_size;
	nfs->base.ops = &fsa_native_ops;
	nfs->base.rdwr = true;
	nfs->base.stats = &nfs->own_stats;
	mkfs_sb(nfs, o, blocks);
	ret = mkfs_build(nfs);
out:
	fsa_native_fs_free(nfs);
	return ret;
}

void fsa_native_uuid_str(const uint8_t *u, char *buf, size_t size)
{
	snprintf(buf, size,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
		 "%02x%02x%02x%02x%02x%02x",
		 u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9],
		 u[10], u[11], u[12], u[13], u[14], u[15]);
}

int fsa_native_uuid_parse(const char *s, uint8_t *u)
{
	for (int i = 0; i < 16; i++) {
		unsigned int v;

		if (*s == '-' && (i == 4 || i == 6 || i == 8 || i == 10))
			s++;
		if (sscanf(s, "%2x", &v) != 1 || !s[0] || !s[1] ||
		    s[0] == '-' || s[1] == '-' || s[0] == '+' || s[0] == ' ')
			return -EINVAL;
		u[i] = (uint8_t)v;
		s += 2;
	}
	return *s ? -EINVAL : 0;
}
