// SPDX-License-Identifier: GPL-2.0
/* write.c - iomapfs files for writes: allocation of unwritten extents near
 * a goal, conversion once the data is on disk, writeback, get_block with
 * create, and the size and space operations (truncate, punch, falloc). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "iomapctl/bh.h"
#include "native.h"

/* The most blocks one mapping call allocates. */
#define NATIVE_MAX_ALLOC (1ULL << 20)

int fsa_native_writable(struct fsa_native_fs *nfs)
{
	if (!nfs->base.rdwr)
		return -EROFS;
	return nfs->err;
}

/* The inode as the trees hold it now (another handle may have changed it). */
static int refresh(struct fsa_native_file *f)
{
	return fsa_native_iread(f->nfs, f->vfs.ino, &f->in);
}

static int save(struct fsa_native_file *f)
{
	return fsa_native_iwrite(f->nfs, f->vfs.ino, &f->in);
}

void fsa_native_touch(struct fsa_native_inode *in)
{
	fsa_native_now(&in->times[FSA_NATIVE_MTIME]);
	in->times[FSA_NATIVE_CTIME] = in->times[FSA_NATIVE_MTIME];
}

int fsa_native_zero_disk(struct fsa_native_fs *nfs, uint64_t addr, uint64_t len)
{
	static const uint8_t zeros[65536];

	while (len) {
		size_t n = len < sizeof(zeros) ? (size_t)len : sizeof(zeros);
		int ret = fsa_native_pwrite(nfs, zeros, n, addr);

		if (ret)
			return ret;
		addr += n;
		len -= n;
	}
	return 0;
}

/* Where a new extent of @f at @lblk should start on disk. */
static uint64_t goal_for(struct fsa_native_file *f, uint64_t lblk)
{
	struct fsa_native_extent e;
	uint64_t first;

	if (lblk && fsa_native_ext_find(f->nfs, f->vfs.ino, lblk - 1, lblk,
					&first, &e) == 1)
		return e.start + (lblk - first);
	return f->nfs->alloc_hint;
}

/*
 * Allocates up to @want blocks for the hole at @lblk as one extent of
 * @flags; the first block in *@start, the count returned, or -errno.
 * Only a delalloc range (@delayed) may take blocks reservations promise.
 */
static int64_t alloc_extent(struct fsa_native_file *f, uint64_t lblk,
			    uint64_t want, uint32_t flags, bool delayed,
			    uint64_t *start)
{
	struct fsa_native_fs *nfs = f->nfs;
	uint64_t avail = delayed ? want : fsa_native_da_avail(nfs, want);
	int64_t n;
	int ret;

	if (!avail)
		return -ENOSPC;
	if (want > avail)
		want = avail;
	if (want > NATIVE_MAX_ALLOC)
		want = NATIVE_MAX_ALLOC;
	n = fsa_native_alloc(nfs, goal_for(f, lblk), want, start);
	if (n < 0)
		return n;
	ret = fsa_native_ext_add(nfs, f->vfs.ino, lblk, *start, (uint64_t)n,
				 flags);
	if (ret)
		return ret;
	nfs->alloc_hint = *start + (uint64_t)n;
	f->in.blocks += (uint64_t)n;
	f->seq++;
	if (delayed)
		ret = (int)fsa_native_da_release(nfs, f->vfs.ino, lblk,
						 lblk + (uint64_t)n, NULL);
	return ret < 0 ? ret : n;
}

/* Maps [@pos, @pos + @length) for a write, allocating the hole at @pos
 * as unwritten (or, for @written, zeroed written) blocks; a delalloc range
 * there is allocated whole (up to the request for @written). */
static int write_map(struct fsa_native_file *f, loff_t pos, uint64_t length,
		     bool written, struct iomap *iomap)
{
	const unsigned int bits = f->vfs.blkbits;
	uint64_t lblk = (uint64_t)pos >> bits;
	uint64_t end = ((uint64_t)pos + length + (1ULL << bits) - 1) >> bits;
	uint64_t start, want;
	int64_t n;
	bool delayed;
	int ret = fsa_native_inline_convert(f);

	if (!ret)
		ret = fsa_native_map_block(f, lblk, end, iomap);
	if (ret)
		return ret;
	delayed = iomap->type == IOMAP_DELALLOC;
	want = iomap->length >> bits;
	if (iomap->type != IOMAP_HOLE && !delayed)
		goto out;
	ret = refresh(f);
	if (ret)
		return ret;
	if (delayed && written && want > end - lblk)
		want = end - lblk;
	n = alloc_extent(f, lblk, want,
			 written ? 0 : FSA_NATIVE_EXT_UNWRITTEN, delayed, &start);
	if (n < 0)
		return (int)n;
	if (written)
		ret = fsa_native_zero_disk(f->nfs, start << bits,
					   (uint64_t)n << bits);
	if (!ret)
		ret = save(f);
	if (ret)
		return ret;
	iomap->type = written ? IOMAP_MAPPED : IOMAP_UNWRITTEN;
	iomap->addr = (uint64_t)start << bits;
	iomap->length = (uint64_t)n << bits;
	iomap->flags |= IOMAP_F_NEW;
out:
	if (!ret && iomap->length > (end - lblk) << bits)
		iomap->length = (end - lblk) << bits;
	iomap->validity_cookie = f->seq;
	return ret;
}

static int write_begin(struct iomap_inode *inode, loff_t pos, loff_t length,
		       unsigned int flags, struct iomap *iomap, bool written,
		       struct iomap *srcmap, enum fsa_native_cow_copy copy)
{
	struct fsa_native_file *f = NATIVE_I(inode);
	uint64_t len = (uint64_t)length;
	int ret = fsa_native_writable(f->nfs);

	if (ret)
		return ret;
	if (pos < 0 || length <= 0)
		return -EINVAL;
	if (!(flags & IOMAP_WRITE) || (flags & IOMAP_OVERWRITE_ONLY)) {
		uint64_t end = ((uint64_t)pos + (uint64_t)length +
				(1ULL << inode->blkbits) - 1) >>
			       inode->blkbits;

		ret = fsa_native_map_pos(f, pos, end, iomap);
		if (!ret && (flags & IOMAP_OVERWRITE_ONLY) &&
		    (iomap->type == IOMAP_HOLE || pos >= inode->size ||
		     (iomap->flags & IOMAP_F_SHARED)))
			ret = -EAGAIN;
		return ret;
	}
	ret = fsa_native_cow_begin(f, pos, &len, copy, iomap, srcmap);
	if (ret)
		return ret < 0 ? ret : 0;
	return write_map(f, pos, len, written, iomap);
}

static int buffered_begin(struct iomap_inode *inode, loff_t pos, loff_t length,
			  unsigned int flags, struct iomap *iomap,
			  struct iomap *srcmap)
{
	struct fsa_native_file *f = NATIVE_I(inode);
	uint64_t len;
	int ret;

	/*
	 * Zeroing shared blocks copies them like a write, with the space
	 * taken now rather than at writeback; DAX stores into the blocks
	 * themselves, so it copies the edges first.
	 */
	if (flags & IOMAP_ZERO) {
		bool dax = flags & IOMAP_DAX;

		len = (uint64_t)length;
		ret = fsa_native_writable(f->nfs);
		if (!ret)
			ret = fsa_native_cow_begin(
				f, pos, &len,
				dax ? FSA_NATIVE_COW_COPY_EDGES :
				      FSA_NATIVE_COW_NOCOPY,
				iomap, dax ? NULL : srcmap);
		if (ret)
			return ret < 0 ? ret : 0;
		length = (loff_t)len;
	}
	/* Direct I/O reads nothing through srcmap: edges are copied. */
	if (flags & IOMAP_DIRECT)
		return write_begin(inode, pos, length, flags, iomap, false,
				   NULL, FSA_NATIVE_COW_COPY_EDGES);
	if (!(flags & IOMAP_WRITE) || (flags & IOMAP_OVERWRITE_ONLY))
		return write_begin(inode, pos, length, flags, iomap, false,
				   srcmap, FSA_NATIVE_COW_NOCOPY);
	ret = fsa_native_inline_write_begin(f, pos, length, iomap);
	if (ret)
		return ret < 0 ? ret : 0;
	/* A shared block is copied now, its new blocks taken at once; a
	 * hole is delayed until writeback. */
	len = (uint64_t)length;
	ret = fsa_native_writable(f->nfs);
	if (!ret)
		ret = fsa_native_cow_begin(f, pos, &len, FSA_NATIVE_COW_NOCOPY,
					   iomap, srcmap);
	if (ret)
		return ret < 0 ? ret : 0;
	return fsa_native_da_write_begin(f, pos, (loff_t)len, iomap);
}

/* DAX writes need written blocks: unwritten ones are zeroed first. */
static int dax_begin(struct iomap_inode *inode, loff_t pos, loff_t length,
		     unsigned int flags, struct iomap *iomap,
		     struct iomap *srcmap)
{
	struct fsa_native_file *f = NATIVE_I(inode);
	const unsigned int bits = inode->blkbits;
	int ret;

	(void)srcmap;
	ret = write_begin(inode, pos, length, flags, iomap, true, NULL,
			  FSA_NATIVE_COW_COPY_EDGES);
	if (ret || !(flags & IOMAP_WRITE) || iomap->type != IOMAP_UNWRITTEN)
		return ret;
	ret = fsa_native_zero_disk(f->nfs, iomap->addr, iomap->length);
	if (!ret)
		ret = fsa_native_ext_convert(
			f->nfs, inode->ino, (uint64_t)iomap->offset >> bits,
			((uint64_t)iomap->offset + iomap->length) >> bits);
	f->seq++;
	iomap->type = IOMAP_MAPPED;
	iomap->flags |= IOMAP_F_NEW;
	return ret;
}

/* After each write mapping: persist a size the engine grew, give back
 * new blocks past EOF that no byte reached (a short write). */
static int write_end(struct iomap_inode *inode, loff_t pos, loff_t length,
		     ssize_t written, unsigned int flags, struct iomap *iomap)
{
	struct fsa_native_file *f = NATIVE_I(inode);
	const unsigned int bits = inode->blkbits;
	uint64_t keep, map_end;
	int64_t n = 0;
	int ret;

	(void)length;
	if (fsa_native_writable(f->nfs))
		return 0;
	/* Zeroing too: the bytes are only in the inline record. */
	if (iomap->type == IOMAP_INLINE)
		return fsa_native_inline_end(f, written);
	/* DAX stores (and zeroing) are done when the mapping ends: the
	 * staged copy goes into the file now. */
	if ((flags & IOMAP_DAX) && (iomap->flags & IOMAP_F_SHARED) &&
	    written > 0) {
		ret = fsa_native_cow_end(
			f, (uint64_t)pos >> bits,
			((uint64_t)pos + (uint64_t)written + (1ULL << bits) -
			 1) >> bits);
		if (ret)
			return ret;
	}
	if (!(flags & IOMAP_WRITE))
		return 0;
	ret = refresh(f);
	if (ret)
		return ret;
	if ((uint64_t)inode->size > f->in.size)
		f->in.size = (uint64_t)inode->size;
	keep = (uint64_t)pos + (uint64_t)(written > 0 ? written : 0);
	if (keep < f->in.size)
		keep = f->in.size;
	keep = (keep + (1ULL << bits) - 1) >> bits;
	map_end = ((uint64_t)iomap->offset + iomap->length) >> bits;
	if (iomap->type == IOMAP_DELALLOC && (iomap->flags & IOMAP_F_NEW)) {
		/* What no byte reached was this call's reservation. */
		keep = ((uint64_t)pos + (uint64_t)(written > 0 ? written : 0) +
			(1ULL << bits) - 1) >> bits;
		if (keep < map_end)
			n = fsa_native_da_release(f->nfs, inode->ino, keep,
						  map_end, f);
		if (n < 0)
			return (int)n;
		if (n)
			f->seq++;
	} else if ((iomap->flags & IOMAP_F_NEW) && keep < map_end) {
		/* This mapping's call allocated them: nothing can have
		 * committed them since. */
		n = fsa_native_ext_remove(f->nfs, inode->ino, keep, map_end,
					  FSA_NATIVE_UNMAP_FREE_NOW);
		if (n < 0)
			return (int)n;
		f->in.blocks -= (uint64_t)n;
		f->seq++;
	}
	if (written > 0)
		fsa_native_touch(&f->in);
	ret = save(f);
	return ret ? ret : fsa_native_commit_if_full(f->nfs);
}

static const struct iomap_ops native_buffered_write_ops = {
	.iomap_begin = buffered_begin,
	.iomap_end = write_end,
};

static const struct iomap_ops native_dax_write_ops = {
	.iomap_begin = dax_begin,
	.iomap_end = write_end,
};

static bool native_iomap_valid(struct iomap_inode *inode,
			       const struct iomap *iomap)
{
	return iomap->validity_cookie == NATIVE_I(inode)->seq;
}

static const struct iomap_ops native_buffered_valid_ops = {
	.iomap_begin = buffered_begin,
	.iomap_end = write_end,
	.iomap_valid = native_iomap_valid,
};

/* Data of [@pos, @pos + @size) reached the disk: convert, maybe grow. */
static int complete(struct fsa_native_file *f, loff_t pos, uint64_t size,
		    bool unwritten, bool grow)
{
	const unsigned int bits = f->vfs.blkbits;
	uint64_t end = (uint64_t)pos + size;
	int ret = refresh(f);

	if (!ret && unwritten && size) {
		ret = fsa_native_ext_convert(
			f->nfs, f->vfs.ino, (uint64_t)pos >> bits,
			(end + (1ULL << bits) - 1) >> bits);
		f->seq++;
	}
	if (!ret && grow && end > f->in.size && (loff_t)end >= f->vfs.size) {
		f->in.size = end;
		ret = save(f);
	}
	return ret ? ret : fsa_native_commit_if_full(f->nfs);
}

static int drop_blocks(struct fsa_native_file *f, uint64_t lblk, uint64_t end);

/* Written data of [@pos, @pos + @size) replaces what was shared there. */
static int cow_complete(struct fsa_native_file *f, loff_t pos, uint64_t size)
{
	const unsigned int bits = f->vfs.blkbits;

	return fsa_native_cow_end(f, (uint64_t)pos >> bits,
				  ((uint64_t)pos + size + (1ULL << bits) - 1) >>
					  bits);
}

/*
 * A direct write that failed or stopped short.  Its iomap extents stay
 * unwritten and read as zeros; but get_block (bh) maps each new block
 * written at once, so those past EOF hold the refused bytes, and a later
 * falloc or truncate up would show them: they go, as the kernel truncates
 * a failed write.  Unwritten blocks there (KEEP_SIZE) stay.
 */
static int drop_written_past_eof(struct fsa_native_file *f)
{
	const unsigned int bits = f->vfs.blkbits;
	uint64_t size = f->in.size > (uint64_t)f->vfs.size ? f->in.size :
							      (uint64_t)f->vfs.size;
	uint64_t lblk = (size + (1ULL << bits) - 1) >> bits;
	uint64_t last = lblk + (1ULL << 40);
	int ret = 0;

	while (!ret && lblk < last) {
		struct iomap m;
		uint64_t end;

		ret = fsa_native_map_block(f, lblk, last, &m);
		if (ret)
			break;
		end = lblk + ((uint64_t)m.length >> bits);
		if (m.type == IOMAP_MAPPED)
			ret = drop_blocks(f, lblk, end);
		else if (m.type == IOMAP_HOLE && end >= last)
			break;
		lblk = end;
	}
	return ret ? ret : save(f);
}

static int native_dio_end_io(struct iomap_inode *inode, loff_t pos,
			     ssize_t size, int error, unsigned int dio_flags)
{
	struct fsa_native_file *f = NATIVE_I(inode);
	int ret;

	if (fsa_native_writable(f->nfs))
		return 0;
	if (error || size <= 0)
		ret = refresh(f);
	else
		ret = complete(f, pos, (uint64_t)size,
			       dio_flags & IOMAP_DIO_UNWRITTEN, true);
	if (!ret && !error && size > 0 && f->nfs->ncow)
		ret = cow_complete(f, pos, (uint64_t)size);
	/* Failed, or short: what it mapped past the new EOF goes. */
	if (!ret)
		ret = drop_written_past_eof(f);
	return ret ? ret : fsa_native_commit_if_full(f->nfs);
}

static const struct iomap_dio_ops native_dio_ops = {
	.end_io = native_dio_end_io,
};

static int native_map_blocks(struct iomap_writepage_ctx *wpc,
			     struct iomap_inode *inode, loff_t offset,
			     uint64_t len)
{
	struct fsa_native_file *f = NATIVE_I(inode);
	int ret = fsa_native_writable(f->nfs);

	if (ret)
		return ret;
	memset(&wpc->iomap, 0, sizeof(wpc->iomap));
	if (!len)
		len = 1;
	ret = fsa_native_cow_begin(f, offset, &len, FSA_NATIVE_COW_NOCOPY,
				   &wpc->iomap, NULL);
	if (ret)
		return ret < 0 ? ret : 0;
	return write_map(f, offset, len, false, &wpc->iomap);
}

static int native_wb_submit(struct iomap_writepage_ctx *wpc,
			    const struct iomap_ioend *ioend, int status)
{
	struct fsa_native_file *f = NATIVE_I(wpc->inode);
	int ret = 0;

	/* bh and hybrid write by buffer heads, unflagged: look at the fork. */
	if (!status && f->nfs->ncow && !fsa_native_writable(f->nfs))
		ret = cow_complete(f, ioend->io_offset, ioend->io_size);
	if (ret || status || !(ioend->io_flags & IOMAP_IOEND_UNWRITTEN))
		return ret;
	return complete(NATIVE_I(wpc->inode), ioend->io_offset, ioend->io_size,
			true, false);
}

static const struct iomap_writeback_ops native_writeback_ops = {
	.map_blocks = native_map_blocks,
	.submit = native_wb_submit,
};

/*
 * get_block(create): one block mapped written, zeroed on disk when new.
 * A shared block is copied whole and the copy switched into the file at
 * once: buffer heads write the block later without telling anyone when
 * (DAX stores end with no ->iomap_end to switch it), and the copy holds
 * the old bytes, so the file reads the same until they land.
 */
static int get_block_create(struct fsa_native_file *f, uint64_t iblock,
			    struct iomap_bh *bh)
{
	const unsigned int bits = f->vfs.blkbits;
	uint64_t len = 1ULL << bits;
	struct iomap m;
	int ret = fsa_native_writable(f->nfs);

	if (!ret)
		ret = fsa_native_cow_begin(f, (loff_t)(iblock << bits), &len,
					   FSA_NATIVE_COW_COPY_ALL, &m, NULL);
	if (ret == 0)
		ret = write_map(f, (loff_t)(iblock << bits), len, true, &m);
	else if (ret > 0)
		ret = fsa_native_cow_end(f, iblock, iblock + 1);
	if (!ret && m.type == IOMAP_UNWRITTEN) {
		ret = fsa_native_zero_disk(f->nfs, m.addr, 1ULL << bits);
		if (!ret)
			ret = fsa_native_ext_convert(f->nfs, f->vfs.ino, iblock,
						     iblock + 1);
		f->seq++;
		m.flags |= IOMAP_F_NEW;
	}
	if (ret)
		return ret;
	bh->blocknr = m.addr >> bits;
	bh->size = 1ULL << bits;
	bh->state = IOMAP_BH_MAPPED |
		    (m.flags & IOMAP_F_NEW ? IOMAP_BH_NEW : 0);
	return fsa_native_commit_if_full(f->nfs);
}

static int native_get_block(struct iomap_inode *inode, uint64_t iblock,
			    struct iomap_bh *bh, int create)
{
	struct fsa_native_file *f = NATIVE_I(inode);
	const unsigned int bits = inode->blkbits;
	uint64_t want = bh->size >> bits ? bh->size >> bits : 1;
	struct iomap m;
	int ret;

	if (create)
		return get_block_create(f, iblock, bh);
	ret = fsa_native_map_block(f, iblock, iblock + want, &m);
	if (ret)
		return ret;
	bh->state = 0;
	if (m.type == IOMAP_INLINE) {
		bh->size = 1ULL << bits;
		bh->inline_data = m.inline_data;
		return 0;
	}
	if (m.length < bh->size)
		bh->size = m.length;
	if (m.type == IOMAP_HOLE)
		return 0;
	if (m.type == IOMAP_DELALLOC) {
		bh->state = IOMAP_BH_DELAY;
		return 0;
	}
	bh->blocknr = m.addr >> bits;
	bh->state = IOMAP_BH_MAPPED;
	if (m.type == IOMAP_UNWRITTEN)
		bh->state |= IOMAP_BH_UNWRITTEN;
	if (m.flags & IOMAP_F_SHARED)
		bh->state |= IOMAP_BH_SHARED;
	return 0;
}

const struct iomap_opset fsa_native_iomap_opset = {
	.read = &fsa_native_read_ops,
	.report = &fsa_native_read_ops,
	.buffered_write = &native_buffered_valid_ops,
	.direct_write = &native_buffered_write_ops,
	.dax_write = &native_dax_write_ops,
	.dio = &native_dio_ops,
	.writeback = &native_writeback_ops,
	.get_block = native_get_block,
};

/* ---- size and space ---- */

/* Frees the blocks of [@lblk, @end) of @f, and ends its delalloc there
 * (the engine wrote the cache back first: only a failed writeback's
 * dropped data can have left a range). */
static int drop_blocks(struct fsa_native_file *f, uint64_t lblk, uint64_t end)
{
	int64_t n = fsa_native_da_release(f->nfs, f->vfs.ino, lblk, end, NULL);

	if (n >= 0)
		n = fsa_native_ext_remove(f->nfs, f->vfs.ino, lblk, end,
					  FSA_NATIVE_UNMAP_FREE);
	if (n < 0)
		return (int)n;
	f->in.blocks -= (uint64_t)n;
	f->seq++;
	return 0;
}

int fsa_native_setsize(struct iomap_inode *inode, loff_t size)
{
	struct fsa_native_file *f = NATIVE_I(inode);
	const unsigned int bits = inode->blkbits;
	int ret = fsa_native_writable(f->nfs);

	if (!ret && size < 0)
		ret = -EINVAL;
	if (!ret)
		ret = refresh(f);
	/* The bh path moves only the engine's size while writing. */
	if (!ret && (uint64_t)inode->size > f->in.size)
		f->in.size = (uint64_t)inode->size;
	if (!ret && fsa_native_is_inline(f)) {
		ret = fsa_native_inline_resize(f, (uint64_t)size);
		if (ret == 1) {
			fsa_native_touch(&f->in);
			ret = save(f);
			if (!ret)
				inode->size = size;
			return ret ? ret : fsa_native_commit_if_full(f->nfs);
		}
	}
	if (!ret && (uint64_t)size < f->in.size)
		ret = drop_blocks(f,
				  ((uint64_t)size + (1ULL << bits) - 1) >> bits,
				  UINT64_MAX);
	if (ret)
		return ret;
	f->in.size = (uint64_t)size;
	fsa_native_touch(&f->in);
	ret = save(f);
	if (!ret)
		inode->size = size;
	return ret ? ret : fsa_native_commit_if_full(f->nfs);
}

/* Zeroes bytes [@pos, @end) of one block on disk when it holds data. */
static int zero_partial(struct fsa_native_file *f, uint64_t pos, uint64_t end)
{
	const unsigned int bits = f->vfs.blkbits;
	struct iomap m;
	int ret;

	if (pos >= end)
		return 0;
	ret = fsa_native_map_block(f, pos >> bits, (pos >> bits) + 1, &m);
	if (ret || m.type != IOMAP_MAPPED)
		return ret;
	if (m.flags & IOMAP_F_SHARED) {
		/* Zeroing in place would reach the other owners: copy the
		 * block, zero the copy, put it in the file. */
		uint64_t len = 1ULL << bits;

		ret = fsa_native_cow_begin(f, (loff_t)pos, &len,
					   FSA_NATIVE_COW_COPY_ALL, &m, NULL);
		if (ret < 0)
			return ret;
		ret = fsa_native_zero_disk(f->nfs, iomap_addr(&m, (loff_t)pos),
					   end - pos);
		return ret ? ret : fsa_native_cow_end(f, pos >> bits,
						      (pos >> bits) + 1);
	}
	return fsa_native_zero_disk(f->nfs, iomap_addr(&m, (loff_t)pos),
				    end - pos);
}

int fsa_native_punch(struct iomap_inode *inode, loff_t pos, uint64_t len)
{
	struct fsa_native_file *f = NATIVE_I(inode);
	const uint64_t bs = 1ULL << inode->blkbits;
	uint64_t start = (uint64_t)pos, end = start + len;
	uint64_t first = (start + bs - 1) / bs, last = end / bs;
	int ret = fsa_native_writable(f->nfs);

	if (!ret)
		ret = refresh(f);
	if (!ret)
		ret = fsa_native_inline_convert(f);
	if (ret)
		return ret;
	if (first > last) /* inside one block */
		return zero_partial(f, start, end);
	ret = zero_partial(f, start, first * bs);
	if (!ret)
		ret = zero_partial(f, last * bs, end);
	if (!ret && first < last)
		ret = drop_blocks(f, first, last);
	if (!ret) {
		fsa_native_touch(&f->in);
		ret = save(f);
	}
	return ret ? ret : fsa_native_commit_if_full(f->nfs);
}

int fsa_native_falloc(struct iomap_inode *inode, loff_t pos, uint64_t len,
		      bool keep_size)
{
	struct fsa_native_file *f = NATIVE_I(inode);
	const unsigned int bits = inode->blkbits;
	uint64_t lblk = (uint64_t)pos >> bits, done = (uint64_t)pos;
	uint64_t end = ((uint64_t)pos + len + (1ULL << bits) - 1) >> bits;
	int ret = fsa_native_writable(f->nfs);

	if (!ret)
		ret = refresh(f);
	if (!ret)
		ret = fsa_native_inline_convert(f);
	if (!ret && (uint64_t)inode->size > f->in.size)
		f->in.size = (uint64_t)inode->size;
	while (!ret && lblk < end) {
		struct iomap m;
		uint64_t start;
		int64_t n;

		ret = fsa_native_map_block(f, lblk, end, &m);
		if (ret)
			break;
		n = (int64_t)(m.length >> bits);
		if (m.type == IOMAP_HOLE)
			n = alloc_extent(f, lblk, (uint64_t)n,
					 FSA_NATIVE_EXT_UNWRITTEN, false,
					 &start);
		if (n < 0) {
			ret = (int)n;
			break;
		}
		lblk += (uint64_t)n;
		done = lblk << bits;
		ret = fsa_native_commit_if_full(f->nfs);
	}
	/* Out of space part way: the size covers what was allocated. */
	if (done > (uint64_t)pos + len)
		done = (uint64_t)pos + len;
	if (!keep_size && done > f->in.size) {
		f->in.size = done;
		inode->size = (loff_t)done;
	}
	if (!keep_size)
		fsa_native_touch(&f->in);
	if (!f->nfs->err) {
		int r = save(f);

		ret = ret ? ret : r;
	}
	return ret;
}
