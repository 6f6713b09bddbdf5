/* SPDX-License-Identifier: GPL-2.0 */
/* fsa.h - filesystem adapters: open an image, find its files, and hand the
 * engine one iomap_ops table per operation. */
#ifndef IOMAPCTL_FSA_H
#define IOMAPCTL_FSA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "iomapctl/ioops.h"

/* fsa_ops.open flags */
#define FSA_OPEN_RDWR (1U << 0) /* open for mutating commands */

/* fsa_ops.rename flags (the values of renameat2()'s RENAME_*) */
#define FSA_RENAME_NOREPLACE (1U << 0) /* -EEXIST if the new name exists */
#define FSA_RENAME_EXCHANGE (1U << 1) /* swap the two names */

/* fsa_ops.caps: what the adapter can do, tested instead of its name. */
#define FSA_CAP_WRITE (1U << 0) /* can mutate images */
#define FSA_CAP_UNWRITTEN (1U << 1) /* has unwritten extents */
#define FSA_CAP_REFLINK (1U << 2) /* can share extents */

/**
 * struct fsa_info - what `probe` reports.
 * @type:	"ext2", "ext3", "ext4", "iomapfs".
 * @block_size:	bytes per filesystem block.
 * @block_count: blocks in the filesystem.
 * @free_blocks: blocks not allocated.
 * @inode_count: inodes in the filesystem.
 * @label:	volume label, NUL-terminated.
 * @uuid:	UUID as text, NUL-terminated.
 * @free_inodes: inodes not allocated.
 */
struct fsa_info {
	char type[16];
	uint32_t block_size;
	uint64_t block_count;
	uint64_t free_blocks;
	uint64_t inode_count;
	char label[64];
	char uuid[40];
	uint64_t free_inodes;
};

/**
 * struct fsa_stat - an inode's attributes.
 * @blocks:	512-byte units allocated, as st_blocks.
 * Times are wall-clock; @crtime is zero when the filesystem has none.
 */
struct fsa_stat {
	uint64_t ino;
	uint32_t mode;
	uint32_t nlink;
	uint32_t uid;
	uint32_t gid;
	loff_t size;
	uint64_t blocks;
	struct timespec atime;
	struct timespec mtime;
	struct timespec ctime;
	struct timespec crtime;
};

/**
 * struct fsa_dirent - one directory entry.
 * @type:	DT_* from <dirent.h>, DT_UNKNOWN if the filesystem has none.
 * @name:	NUL-terminated; adapters pass on-disk names as they are and
 *		callers that create host files must validate them.
 */
struct fsa_dirent {
	uint64_t ino;
	uint8_t type;
	char name[256];
};

typedef int (*fsa_dirent_cb)(const struct fsa_dirent *de, void *priv);

/* One extended attribute: full @name ("user.a"), @value of @len bytes. */
typedef int (*fsa_xattr_cb)(const char *name, const void *value, size_t len,
			    void *priv);

struct fsa_fs;

/**
 * struct fsa_faults - failures injected into one open image's metadata
 * I/O (fsa_ops.set_faults), the way faultdev fails the engine's data
 * requests: per open, no global state.
 * @fail_at:	the fail_at-th read or write that reaches the image
 *		(1-based; cache hits do not count) fails; 0: none does.
 * @error:	with this negative errno (0: -EIO).
 * @nr_io:	record: reads and writes counted so far.
 * @nr_failed:	record: how many of them failed on purpose.
 */
struct fsa_faults {
	unsigned int fail_at;
	int error;
	unsigned int nr_io;
	unsigned int nr_failed;
};

/**
 * struct fsa_ops - a filesystem adapter.  Return values are 0 or a negative
 * errno unless stated.
 * @name:	Required.  Adapter name ("ext2").
 * @probe:	Required.  0 if the image at @path is this adapter's (filling
 *		@info), -ENODATA if not, another negative errno on error.
 * @open:	Required.  Open the image; @flags are FSA_OPEN_*.  Statistics
 *		of every inode of this filesystem go to @stats.  -ENODATA,
 *		as @probe, when the image is not this adapter's.
 * @close:	Required.  Flush (when read-write) and free everything.
 * @info:	Required.  Fill @info for the open filesystem.
 * @lookup:	Required.  Resolve an absolute in-image @path to an inode
 *		number; errors as the kernel's path walk (-ENOENT, -ENOTDIR,
 *		-ELOOP, -ENAMETOOLONG).
 * @stat:	Required.
 * @readdir:	Required.  Calls @cb for each entry; a non-zero return from
 *		@cb stops the walk and is returned.
 * @readlink:	Optional.  The target of a symlink, NUL-terminated in @buf.
 * @iget:	Required.  An iomap_inode for @ino; release with @iput.
 * @iput:	Required.
 * @create:	Optional.  New regular file @name in directory @dir.
 * @mkdir:	Optional.  New directory.
 * @setattr:	Optional.  Mode, owner and times from @st.
 * @setsize:	Optional.  Shrink (freeing blocks) or grow (leaving a hole)
 *		the file to @size.
 * @falloc:	Optional.  Preallocate (unwritten where supported).
 * @punch:	Optional.  Free the blocks of a range, leaving a hole.
 * @sync:	Optional.  Write all metadata to the image.
 * @iomap:	Required.  The mapping tables.
 * @caps:	FSA_CAP_* bits.
 * @lookup_link: Optional.  As @lookup, but a symlink in the last component
 *		is returned itself, not followed (lstat, readlink, ls -l).
 *		Symlinks before the last component are followed.  Callers
 *		fall back to @lookup when NULL.
 * @symlink:	Optional.  New symlink @name in directory @dir whose target
 *		is @target (stored as given, not resolved); its inode number
 *		goes to *@ino.
 * @listxattr:	Optional.  Calls @cb for each extended attribute of @ino,
 *		POSIX ACLs in the Linux xattr format; a non-zero return from
 *		@cb stops the walk and is returned.
 * @setxattr:	Optional.  Creates or replaces attribute @name of @ino.
 * @unlink:	Optional.  Removes entry @name from directory @dir; when that
 *		was the last link, frees the inode's blocks and the inode.
 *		-EISDIR for a directory, -ENOENT when there is no such name.
 * @rmdir:	Optional.  Removes the empty directory @name from @dir and
 *		frees it: -ENOTDIR for a non-directory, -ENOTEMPTY when it
 *		has entries, -EINVAL for "." and -ENOTEMPTY for "..".
 * @rename:	Optional.  Moves @oldname in @olddir to @newname in @newdir,
 *		as rename(2): an existing @newname is replaced (a directory
 *		only by a directory, and only when empty: -ENOTEMPTY,
 *		-EISDIR, -ENOTDIR), a directory never moves below itself
 *		(-EINVAL), and a moved directory's ".." follows it.
 *		@flags: FSA_RENAME_NOREPLACE; -EINVAL for others.
 * @link:	Optional.  A new name @name in @dir for inode @ino (not a
 *		directory: -EPERM); -EMLINK past the link limit.
 * @getxattr:	Optional.  The value of attribute @name of @ino into @buf:
 *		returns its length; with @size 0 only the length; -ERANGE
 *		when @size is too small, -ENODATA when there is none.
 * @removexattr: Optional.  Removes attribute @name (-ENODATA if none).
 * @set_faults:	Optional, for tests.  From now on the adapter's own reads
 *		and writes of the image (metadata, and what it reads or
 *		writes through its library) fail as @faults says and are
 *		counted there; @faults stays the caller's and must outlive
 *		@fs (closing writes too).  NULL disarms.
 * @reflink:	Optional.  Regular file @dst's contents become those of
 *		@src (size included) by sharing @src's blocks, not copying
 *		them; a later write to either copies only what it changes.
 *		-EINVAL when @src is @dst or either is not a regular file
 *		(-EISDIR for a directory); nothing changes then.  NULL:
 *		the adapter cannot share blocks (callers say EOPNOTSUPP).
 */
struct fsa_ops {
	const char *name;
	int (*probe)(const char *path, struct fsa_info *info);
	int (*open)(const char *path, unsigned int flags,
		    struct iomap_stats *stats, struct fsa_fs **fsp);
	int (*close)(struct fsa_fs *fs);
	int (*info)(struct fsa_fs *fs, struct fsa_info *info);
	int (*lookup)(struct fsa_fs *fs, const char *path, uint64_t *ino);
	int (*stat)(struct fsa_fs *fs, uint64_t ino, struct fsa_stat *st);
	int (*readdir)(struct fsa_fs *fs, uint64_t dir, fsa_dirent_cb cb,
		       void *priv);
	int (*readlink)(struct fsa_fs *fs, uint64_t ino, char *buf,
			size_t size);
	int (*iget)(struct fsa_fs *fs, uint64_t ino,
		    struct iomap_inode **inodep);
	void (*iput)(struct iomap_inode *inode);
	int (*create)(struct fsa_fs *fs, uint64_t dir, const char *name,
		      uint32_t mode, uint64_t *ino);
	int (*mkdir)(struct fsa_fs *fs, uint64_t dir, const char *name,
		     uint32_t mode, uint64_t *ino);
	int (*setattr)(struct fsa_fs *fs, uint64_t ino,
		       const struct fsa_stat *st);
	int (*setsize)(struct iomap_inode *inode, loff_t size);
	int (*falloc)(struct iomap_inode *inode, loff_t pos, uint64_t len,
		      bool keep_size);
	int (*punch)(struct iomap_inode *inode, loff_t pos, uint64_t len);
	int (*sync)(struct fsa_fs *fs);
	const struct iomap_opset *iomap;
	unsigned int caps;
	int (*lookup_link)(struct fsa_fs *fs, const char *path,
			   uint64_t *ino);
	int (*symlink)(struct fsa_fs *fs, uint64_t dir, const char *name,
		       const char *target, uint64_t *ino);
	int (*listxattr)(struct fsa_fs *fs, uint64_t ino, fsa_xattr_cb cb,
			 void *priv);
	int (*setxattr)(struct fsa_fs *fs, uint64_t ino, const char *name,
			const void *value, size_t len);
	int (*unlink)(struct fsa_fs *fs, uint64_t dir, const char *name);
	int (*rmdir)(struct fsa_fs *fs, uint64_t dir, const char *name);
	int (*rename)(struct fsa_fs *fs, uint64_t olddir, const char *oldname,
		      uint64_t newdir, const char *newname, unsigned int flags);
	int (*link)(struct fsa_fs *fs, uint64_t ino, uint64_t dir,
		    const char *name);
	int (*getxattr)(struct fsa_fs *fs, uint64_t ino, const char *name,
			void *buf, size_t size);
	int (*removexattr)(struct fsa_fs *fs, uint64_t ino, const char *name);
	void (*set_faults)(struct fsa_fs *fs, struct fsa_faults *faults);
	int (*reflink)(struct fsa_fs *fs, uint64_t src, uint64_t dst);
};

/**
 * struct fsa_fs - an open image; adapters embed it first in their own.
 * @ops:	the adapter.
 * @path:	the image path as given.
 * @blkbits:	log2 of the block size.
 * @rdwr:	opened for writing.
 * @stats:	where the engine counts this filesystem's work.
 */
struct fsa_fs {
	const struct fsa_ops *ops;
	const char *path;
	unsigned int blkbits;
	bool rdwr;
	struct iomap_stats *stats;
};

/* Registry (fsadapters/registry.c). */

/* ext2, ext3 and ext4 through libext2fs (fsadapters/ext2/). */
extern const struct fsa_ops fsa_ext2_ops;
/* iomapfs, the native format (fsadapters/native/, docs/native-format.md). */
extern const struct fsa_ops fsa_native_ops;

/* The adapters, NULL-terminated, in probe order. */
extern const struct fsa_ops *const fsa_adapters[];

/**
 * fsa_probe() - which adapter claims the image at @path.
 * Returns the adapter (filling @info) or NULL with *@err set: -ENODATA when
 * none recognises it, or the error met opening it.
 */
const struct fsa_ops *fsa_probe(const char *path, struct fsa_info *info,
				int *err);

/* The kernel's limits on a path and on symlinks followed in one walk. */
#define FSA_PATH_MAX 4096
#define FSA_MAXSYMLINKS 40

/*
 * One component of a path walk: @name (@len bytes, not NUL-terminated,
 * "." and ".." included) in directory @dir: its inode number and mode;
 * -ENOTDIR when @dir is not a directory, -ENOENT when there is no such name.
 */
typedef int (*fsa_lookup_one_fn)(struct fsa_fs *fs, uint64_t dir,
				 const char *name, size_t len, uint64_t *ino,
				 uint32_t *mode);

/*
 * fsa_walk() - the kernel's path walk inside an image (walk.c), for an
 * adapter's @lookup (@follow) and @lookup_link: absolute @name from
 * directory @root, one component at a time through @lookup_one, symlinks
 * read with the adapter's @readlink and spliced in.
 */
int fsa_walk(struct fsa_fs *fs, uint64_t root, fsa_lookup_one_fn lookup_one,
	     const char *name, bool follow, uint64_t *ino);

/* Probe and open in one go; returns 0 or a negative errno. */
int fsa_open(const char *path, unsigned int flags, struct iomap_stats *stats,
	     struct fsa_fs **fsp);

#endif /* IOMAPCTL_FSA_H */
