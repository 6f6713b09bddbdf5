// SPDX-License-Identifier: GPL-2.0
/* inline.c - inline data: a small regular file's bytes in one record of
 * the xattr tree instead of a block, mapped IOMAP_INLINE; moved into an
 * extent when a write goes past the record or anything but a buffered
 * write or a small truncate changes it. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "native.h"

static struct fsa_native_key inline_key(uint64_t ino)
{
	return (struct fsa_native_key){ { ino | FSA_NATIVE_INLINE_KEY, 0 } };
}

bool fsa_native_is_inline(const struct fsa_native_file *f)
{
	return f->in.flags & FSA_NATIVE_INODE_INLINE;
}

/* The file's bytes in f->inline_buf (a page of its own: IOMAP_INLINE
 * data must not cross one), zeros past them. */
static int load(struct fsa_native_file *f)
{
	struct fsa_native_key k = inline_key(f->vfs.ino);
	struct fsa_native_xattr x;
	void *buf;
	int ret;

	size_t size = f->nfs->block_size > 4096 ? f->nfs->block_size : 4096;

	if (f->inline_buf)
		return 0;
	if (posix_memalign(&buf, 4096, size))
		return -ENOMEM;
	memset(buf, 0, size);
	ret = fsa_native_bt_lookup(f->nfs, FSA_NATIVE_T_XATTRS, &k, &x);
	/* A file made inline by this handle has no record until its end. */
	if (ret == -ENOENT && !f->in.size)
		ret = 0;
	else if (!ret && (x.name_len || x.value_len != f->in.size ||
			  x.value_len > FSA_NATIVE_INLINE_MAX))
		ret = -EFSCORRUPTED;
	if (ret == -ENOENT || ret == -EFSCORRUPTED) {
		fsa_native_report(f->nfs, 0,
				  "inode %llu: inline data record %s",
				  (unsigned long long)f->vfs.ino,
				  ret == -ENOENT ? "missing" : "damaged");
		ret = -EFSCORRUPTED;
	}
	if (ret) {
		free(buf);
		return ret;
	}
	if (f->in.size)
		memcpy(buf, x.bytes, x.value_len);
	f->inline_buf = buf;
	return 0;
}

int fsa_native_inline_map(struct fsa_native_file *f, uint64_t pos,
			  uint64_t end_lblk, struct iomap *iomap)
{
	const unsigned int bits = f->vfs.blkbits;
	uint64_t lblk = pos >> bits, start = lblk << bits;
	int ret = load(f);

	if (ret)
		return ret;
	memset(iomap, 0, sizeof(*iomap));
	iomap->validity_cookie = f->seq;
	if (pos < f->in.size) {
		iomap->type = IOMAP_INLINE;
		iomap->addr = IOMAP_NULL_ADDR;
		iomap->length = f->in.size;
		iomap->inline_data = f->inline_buf;
		return 0;
	}
	/* Past the bytes: a hole from EOF (a mapping must cover @pos). */
	if (start < f->in.size)
		start = f->in.size;
	iomap->type = IOMAP_HOLE;
	iomap->addr = IOMAP_NULL_ADDR;
	iomap->offset = (loff_t)start;
	iomap->length = ((end_lblk > lblk ? end_lblk : lblk + 1) << bits) - start;
	return 0;
}

/* An empty file with no blocks anywhere: it may become inline. */
static int empty(struct fsa_native_file *f)
{
	struct fsa_native_extent e;
	uint64_t first, len;
	int ret;

	if (f->in.size || !S_ISREG(f->in.mode))
		return 0;
	ret = fsa_native_ext_find(f->nfs, f->vfs.ino, 0, UINT64_MAX, &first,
				  &e);
	if (ret)
		return ret < 0 ? ret : 0;
	return !fsa_native_da_find(f->nfs, f->vfs.ino, 0, UINT64_MAX, &first,
				   &len);
}

int fsa_native_inline_write_begin(struct fsa_native_file *f, loff_t pos,
				  loff_t length, struct iomap *iomap)
{
	int ret = fsa_native_writable(f->nfs);

	if (ret)
		return ret;
	if ((uint64_t)pos + (uint64_t)length > FSA_NATIVE_INLINE_MAX)
		return fsa_native_inline_convert(f);
	if (!fsa_native_is_inline(f)) {
		ret = fsa_native_iread(f->nfs, f->vfs.ino, &f->in);
		if (!ret)
			ret = empty(f);
		if (ret <= 0)
			return ret;
		/* Inline from now; ->iomap_end writes the record. */
		f->in.flags |= FSA_NATIVE_INODE_INLINE;
	}
	ret = load(f);
	if (ret)
		return ret;
	memset(iomap, 0, sizeof(*iomap));
	iomap->type = IOMAP_INLINE;
	iomap->addr = IOMAP_NULL_ADDR;
	iomap->length = FSA_NATIVE_INLINE_MAX;
	iomap->inline_data = f->inline_buf;
	iomap->validity_cookie = f->seq;
	return 1;
}

/* The record holds the first in.size bytes of the buffer (none: it goes,
 * and the file is an ordinary empty one). */
static int store(struct fsa_native_file *f)
{
	struct fsa_native_fs *nfs = f->nfs;
	struct fsa_native_key k = inline_key(f->vfs.ino);
	struct fsa_native_xattr x = { .value_len = (uint16_t)f->in.size };
	int ret;

	if (!f->in.size) {
		f->in.flags &= ~FSA_NATIVE_INODE_INLINE;
		ret = fsa_native_bt_delete(nfs, FSA_NATIVE_T_XATTRS, &k);
		return ret == -ENOENT ? 0 : ret;
	}
	memcpy(x.bytes, f->inline_buf, f->in.size);
	ret = fsa_native_bt_update(nfs, FSA_NATIVE_T_XATTRS, &k, &x);
	if (ret == -ENOENT)
		ret = fsa_native_bt_insert(nfs, FSA_NATIVE_T_XATTRS, &k, &x);
	if (!ret && nfs->sb.version < FSA_NATIVE_VERSION_INLINE) {
		nfs->sb.version = FSA_NATIVE_VERSION_INLINE;
		nfs->changed = true;
	}
	return ret;
}

int fsa_native_inline_end(struct fsa_native_file *f, ssize_t written)
{
	int ret = fsa_native_iread(f->nfs, f->vfs.ino, &f->in);

	if (ret)
		return ret;
	f->in.flags |= FSA_NATIVE_INODE_INLINE;
	if ((uint64_t)f->vfs.size > f->in.size)
		f->in.size = (uint64_t)f->vfs.size;
	if (f->in.size > FSA_NATIVE_INLINE_MAX)
		return -EFSCORRUPTED; /* the mapping bounds the write */
	ret = store(f);
	if (written > 0)
		fsa_native_touch(&f->in);
	if (!ret)
		ret = fsa_native_iwrite(f->nfs, f->vfs.ino, &f->in);
	return ret ? ret : fsa_native_commit_if_full(f->nfs);
}

int fsa_native_inline_resize(struct fsa_native_file *f, uint64_t size)
{
	uint64_t old = f->in.size;
	int ret;

	if (size > FSA_NATIVE_INLINE_MAX)
		return fsa_native_inline_convert(f);
	ret = load(f);
	if (ret)
		return ret;
	if (size < old)
		memset((uint8_t *)f->inline_buf + size, 0, old - size);
	f->in.size = size;
	ret = store(f);
	return ret ? ret : 1;
}

int fsa_native_inline_convert(struct fsa_native_file *f)
{
	struct fsa_native_fs *nfs = f->nfs;
	struct fsa_native_key k = inline_key(f->vfs.ino);
	uint64_t start = 0;
	int64_t n = 0;
	int ret;

	if (!fsa_native_is_inline(f))
		return 0;
	ret = fsa_native_iread(nfs, f->vfs.ino, &f->in);
	if (ret || !fsa_native_is_inline(f))
		return ret;
	ret = load(f);
	if (ret)
		return ret;
	/* The bytes go to a block of their own, written before the record
	 * goes (the commit flushes data before its commit record). */
	if (f->in.size) {
		if (!fsa_native_da_avail(nfs, 1))
			return -ENOSPC;
		n = fsa_native_alloc(nfs, nfs->alloc_hint, 1, &start);
		if (n < 0)
			return (int)n;
		ret = fsa_native_pwrite(nfs, f->inline_buf, nfs->block_size,
					start * nfs->block_size);
		if (!ret)
			ret = fsa_native_ext_add(nfs, f->vfs.ino, 0, start, 1, 0);
		if (ret) {
			int r = fsa_native_free_insert(nfs, start, 1);

			return r ? r : ret;
		}
		ret = fsa_native_bt_delete(nfs, FSA_NATIVE_T_XATTRS, &k);
		if (ret)
			return ret;
	}
	f->in.flags &= ~FSA_NATIVE_INODE_INLINE;
	f->in.blocks += (uint64_t)n;
	f->seq++;
	free(f->inline_buf);
	f->inline_buf = NULL;
	return fsa_native_iwrite(nfs, f->vfs.ino, &f->in);
}

int fsa_native_inline_clone(struct fsa_native_fs *nfs, uint64_t src,
			    uint64_t dst)
{
	struct fsa_native_key k = inline_key(src);
	struct fsa_native_xattr x;
	int ret = fsa_native_bt_lookup(nfs, FSA_NATIVE_T_XATTRS, &k, &x);

	if (ret)
		return ret == -ENOENT ? -EFSCORRUPTED : ret;
	k = inline_key(dst);
	ret = fsa_native_bt_update(nfs, FSA_NATIVE_T_XATTRS, &k, &x);
	if (ret == -ENOENT)
		ret = fsa_native_bt_insert(nfs, FSA_NATIVE_T_XATTRS, &k, &x);
	return ret;
}

int fsa_native_inline_drop(struct fsa_native_fs *nfs, uint64_t ino)
{
	struct fsa_native_key k = inline_key(ino);
	int ret = fsa_native_bt_delete(nfs, FSA_NATIVE_T_XATTRS, &k);

	return ret == -ENOENT ? 0 : ret;
}
