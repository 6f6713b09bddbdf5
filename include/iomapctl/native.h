/* SPDX-License-Identifier: GPL-2.0 */
/* native.h - what the commands of the native format (mkfs, fsck) call in
 * the iomapfs adapter (fsadapters/native/, docs/native-format.md). */
#ifndef IOMAPCTL_NATIVE_H
#define IOMAPCTL_NATIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/**
 * struct fsa_native_mkfs_opts - what `mkfs` asks for.
 * @size:	bytes; 0 = the file's or device's size.
 * @block_size:	bytes (power of two, 1 KiB..64 KiB).
 * @label:	NUL-terminated, at most 63 bytes, or NULL.
 * @uuid:	16 bytes.
 */
struct fsa_native_mkfs_opts {
	uint64_t size;
	unsigned int block_size;
	const char *label;
	uint8_t uuid[16];
};

/**
 * fsa_native_mkfs() - make an empty iomapfs on @path, creating the file
 * when missing (and setting its size to @o->size when not 0).  Writes the
 * superblock, one journal block and the few tree blocks, nothing else.
 * Returns 0, -EINVAL for bad options, -ENOSPC for an image too small, or
 * the I/O error.
 */
int fsa_native_mkfs(const char *path, const struct fsa_native_mkfs_opts *o);

/**
 * struct fsa_native_check_ops - where fsck's findings go.
 * @problem:	Required.  One inconsistency, as a sentence.
 * @repaired:	Optional.  One repair made (with fsa_native_fsck's @repair).
 */
struct fsa_native_check_ops {
	void (*problem)(void *priv, const char *msg);
	void (*repaired)(void *priv, const char *msg);
};

/**
 * fsa_native_fsck() - check every structure of the iomapfs at @path:
 * checksums (on every read), tree order and counts, blocks owned exactly
 * once (overlaps, extents past the end, leaks, free space), extents,
 * directory entries, the directory tree and link counts.  With @repair,
 * fixes counts and leaked blocks (nothing that needs a guess about user
 * data) and commits.  Returns the number of problems found (0: clean), or
 * a negative errno when the image cannot be opened.
 */
int fsa_native_fsck(const char *path, bool repair,
		    const struct fsa_native_check_ops *ops, void *priv);

/* Formats 16 bytes as blkid prints a UUID; parses it back (0 or -EINVAL). */
void fsa_native_uuid_str(const uint8_t *u, char *buf, size_t size);
int fsa_native_uuid_parse(const char *s, uint8_t *u);

#endif /* IOMAPCTL_NATIVE_H */
