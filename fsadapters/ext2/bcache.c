// SPDX-License-Identifier: GPL-2.0
/*
 * bcache.c - the adapter's metadata block cache: an io_manager around
 * libext2fs' unix one that keeps recently read single blocks (inode table,
 * directory, extent and indirect blocks), bounded, one per open image.
 *
 * Why not libext2fs' own cache: it is write-back, and the engine writes
 * file data through a descriptor of its own, so a dirty cached block
 * written later, or a stale one read back (fsa_ext2_zero_partial reads a
 * data block through libext2fs), would undo the engine's data.  This one
 * writes through at once, and every range the engine is about to write
 * (the write, writeback and get_block mappings, wrapped below) is dropped
 * from it first, so a block is never served older than the disk.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "ext2.h"

#define BCACHE_BYTES (8U << 20) /* the bound, whatever the block size */
#define BCACHE_MIN 64U
#define BCACHE_NONE (-1)
/* The arena is faulted in this much at a time (see bc_touch). */
#define BCACHE_POPULATE (256U << 10)

struct bcache_ent {
	blk64_t blk;
	int hnext; /* hash chain, or the free list */
	int prev, next; /* LRU, most recent at head */
};

struct fsa_ext2_bcache {
	io_channel real; /* the unix channel, its own cache off */
	unsigned int bsize;
	int cap, nbuckets;
	struct bcache_ent *ent;
	int *bucket;
	char *data; /* cap blocks */
	size_t populated; /* bytes of @data faulted in */
	int head, tail, free;
	struct fsa_ext2_bcache_stats stats;
	struct fsa_faults *faults; /* a test's, armed per open (or NULL) */
	/* The first write that failed, kept: libext2fs ignores some (an
	 * extent replaced writes its inode, unchecked), so that the next
	 * sync reports what a command would otherwise pass over. */
	errcode_t write_err;
};

static struct fsa_ext2_bcache *BC(io_channel io)
{
	return io->private_data;
}

static int bc_hash(const struct fsa_ext2_bcache *bc, blk64_t blk)
{
	return (int)((blk * 0x9e3779b97f4a7c15ULL) >> 40) & (bc->nbuckets - 1);
}

static void bc_free_arrays(struct fsa_ext2_bcache *bc)
{
	free(bc->ent);
	free(bc->bucket);
	if (bc->data)
		munmap(bc->data, BCACHE_BYTES);
	bc->ent = NULL;
	bc->bucket = NULL;
	bc->data = NULL;
	bc->populated = 0;
	bc->cap = 0;
}

/*
 * Empties the cache for blocks of @bsize: a new block size makes every
 * cached block meaningless.  The arrays are allocated once, for the
 * smallest block size libext2fs sets (SUPERBLOCK_OFFSET: it writes the
 * superblock at 1 KiB and switches back), so that switch costs no
 * allocation.
 */
static errcode_t bc_reset(struct fsa_ext2_bcache *bc, unsigned int bsize)
{
	int most = (int)(BCACHE_BYTES / SUPERBLOCK_OFFSET);

	/* ext blocks are 1 KiB to 64 KiB: at least BCACHE_MIN of them. */
	if (bsize < SUPERBLOCK_OFFSET || bsize > BCACHE_BYTES / BCACHE_MIN)
		return EXT2_ET_INVALID_ARGUMENT;
	if (!bc->ent) {
		bc->nbuckets = 1;
		while (bc->nbuckets < 2 * most)
			bc->nbuckets <<= 1;
		bc->ent = calloc((size_t)most, sizeof(*bc->ent));
		bc->bucket = malloc((size_t)bc->nbuckets * sizeof(*bc->bucket));
		bc->data = mmap(NULL, BCACHE_BYTES, PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (bc->data == MAP_FAILED)
			bc->data = NULL;
		if (!bc->ent || !bc->bucket || !bc->data) {
			bc_free_arrays(bc);
			return EXT2_ET_NO_MEMORY;
		}
	}
	bc->cap = (int)(BCACHE_BYTES / bsize);
	bc->bsize = bsize;
	for (int i = 0; i < bc->nbuckets; i++)
		bc->bucket[i] = BCACHE_NONE;
	for (int i = 0; i < bc->cap; i++)
		bc->ent[i].hnext = i + 1 < bc->cap ? i + 1 : BCACHE_NONE;
	bc->free = 0;
	bc->head = bc->tail = BCACHE_NONE;
	return 0;
}

static int bc_find(const struct fsa_ext2_bcache *bc, blk64_t blk)
{
	int i = bc->cap ? bc->bucket[bc_hash(bc, blk)] : BCACHE_NONE;

	while (i != BCACHE_NONE && bc->ent[i].blk != blk)
		i = bc->ent[i].hnext;
	return i;
}

static void lru_unlink(struct fsa_ext2_bcache *bc, int i)
{
	struct bcache_ent *e = &bc->ent[i];

	if (e->prev != BCACHE_NONE)
		bc->ent[e->prev].next = e->next;
	else
		bc->head = e->next;
	if (e->next != BCACHE_NONE)
		bc->ent[e->next].prev = e->prev;
	else
		bc->tail = e->prev;
}

static void lru_push(struct fsa_ext2_bcache *bc, int i)
{
	bc->ent[i].prev = BCACHE_NONE;
	bc->ent[i].next = bc->head;
	if (bc->head != BCACHE_NONE)
		bc->ent[bc->head].prev = i;
	bc->head = i;
	if (bc->tail == BCACHE_NONE)
		bc->tail = i;
}

static void bc_drop(struct fsa_ext2_bcache *bc, int i)
{
	int *p = &bc->bucket[bc_hash(bc, bc->ent[i].blk)];

	while (*p != i)
		p = &bc->ent[*p].hnext;
	*p = bc->ent[i].hnext;
	lru_unlink(bc, i);
	bc->ent[i].hnext = bc->free;
	bc->free = i;
}

/* Remembers block @blk's @buf, evicting the least recently used. */
/*
 * Faults in the arena up to @end ahead of its first use, a chunk per
 * system call: a tree walk fills the cache with inode table blocks once,
 * and a page fault per block was a tenth of its time on a virtual machine
 * that traps each one.  Slots are first handed out in order, so the
 * faulted part only grows.  Where the kernel refuses, pages fault as usual.
 */
static void bc_touch(struct fsa_ext2_bcache *bc, size_t end)
{
	size_t to;

	if (end <= bc->populated)
		return;
	to = (end + BCACHE_POPULATE - 1) & ~(size_t)(BCACHE_POPULATE - 1);
	if (to > BCACHE_BYTES)
		to = BCACHE_BYTES;
#ifdef MADV_POPULATE_WRITE
	madvise(bc->data + bc->populated, to - bc->populated,
		MADV_POPULATE_WRITE);
#endif
	bc->populated = to;
}

static void bc_insert(struct fsa_ext2_bcache *bc, blk64_t blk, const void *buf)
{
	int i = bc_find(bc, blk), h;

	if (!bc->cap)
		return;
	if (i == BCACHE_NONE) {
		if (bc->free == BCACHE_NONE)
			bc_drop(bc, bc->tail);
		i = bc->free;
		bc->free = bc->ent[i].hnext;
		h = bc_hash(bc, blk);
		bc->ent[i].blk = blk;
		bc->ent[i].hnext = bc->bucket[h];
		bc->bucket[h] = i;
	} else {
		lru_unlink(bc, i);
	}
	lru_push(bc, i);
	bc_touch(bc, ((size_t)i + 1) * bc->bsize);
	memcpy(bc->data + (size_t)i * bc->bsize, buf, bc->bsize);
}

/* Forgets blocks [@blk, @blk + @count): visits whichever is fewer, the
 * range or the cache. */
static void bc_forget(struct fsa_ext2_bcache *bc, blk64_t blk, blk64_t count)
{
	if (!bc->cap || !count)
		return;
	if (count <= (blk64_t)bc->cap) {
		for (blk64_t b = blk; b < blk + count; b++) {
			int i = bc_find(bc, b);

			if (i != BCACHE_NONE)
				bc_drop(bc, i);
		}
		return;
	}
	for (int i = bc->head, next; i != BCACHE_NONE; i = next) {
		next = bc->ent[i].next;
		if (bc->ent[i].blk >= blk && bc->ent[i].blk - blk < count)
			bc_drop(bc, i);
	}
}

/* Blocks an io_manager count covers: > 0 blocks, < 0 bytes. */
static blk64_t bc_blocks(const struct fsa_ext2_bcache *bc, int count)
{
	if (count >= 0)
		return (blk64_t)count;
	return ((blk64_t) - (int64_t)count + bc->bsize - 1) / bc->bsize;
}

/*
 * Counts one read or write that is about to reach the image and says
 * whether the armed test wants it to fail, with what.
 */
static errcode_t bc_fault(struct fsa_ext2_bcache *bc)
{
	struct fsa_faults *f = bc->faults;

	if (!f)
		return 0;
	if (++f->nr_io != f->fail_at)
		return 0;
	f->nr_failed++;
	/* libext2fs passes system errors through as their errno values. */
	return f->error ? -f->error : EIO;
}

/*
 * A write of @io failed with @err: kept for the next sync, and libext2fs'
 * inode cache dropped.  ext2fs_write_inode2() puts the new inode in its
 * cache and its table block buffer before writing: kept, they would be
 * read back as if on disk, and the buffer written again with the next
 * inode of that block.
 */
static void bc_write_failed(io_channel io, errcode_t err)
{
	ext2_filsys fs = io->app_data; /* set by ext2fs_open2() */

	if (!BC(io)->write_err)
		BC(io)->write_err = err;
	if (fs && fs->magic == EXT2_ET_MAGIC_EXT2FS_FILSYS)
		ext2fs_flush_icache(fs);
}

static errcode_t bc_read_blk64(io_channel io, unsigned long long blk, int count,
			       void *data)
{
	struct fsa_ext2_bcache *bc = BC(io);
	errcode_t err;
	int i;

	if (count == 1 && (i = bc_find(bc, blk)) != BCACHE_NONE) {
		bc->stats.hits++;
		lru_unlink(bc, i);
		lru_push(bc, i);
		memcpy(data, bc->data + (size_t)i * bc->bsize, bc->bsize);
		return 0;
	}
	/* Larger reads pass by: the cache holds what the disk holds. */
	bc->stats.reads++;
	err = bc_fault(bc);
	if (!err)
		err = io_channel_read_blk64(bc->real, blk, count, data);
	if (!err && count == 1)
		bc_insert(bc, blk, data);
	return err;
}

static errcode_t bc_read_blk(io_channel io, unsigned long blk, int count,
			     void *data)
{
	return bc_read_blk64(io, blk, count, data);
}

static errcode_t bc_write_blk64(io_channel io, unsigned long long blk,
				int count, const void *data)
{
	struct fsa_ext2_bcache *bc = BC(io);
	errcode_t err;

	bc->stats.writes++;
	bc_forget(bc, blk, bc_blocks(bc, count));
	err = bc_fault(bc);
	if (!err)
		err = io_channel_write_blk64(bc->real, blk, count, data);
	if (err)
		bc_write_failed(io, err);
	if (!err && count == 1)
		bc_insert(bc, blk, data);
	return err;
}

static errcode_t bc_write_blk(io_channel io, unsigned long blk, int count,
			      const void *data)
{
	return bc_write_blk64(io, blk, count, data);
}

/*
 * Never for the primary superblock: libext2fs then writes it whole, in
 * one request, instead of one request per changed run of fields, of which
 * a failure part way leaves fields that disagree with its checksum (an
 * image no e2fsck can open when it has no backup superblock).
 */
static errcode_t bc_write_byte(io_channel io, unsigned long offset, int size,
			       const void *data)
{
	struct fsa_ext2_bcache *bc = BC(io);
	errcode_t err;

	if (size > 0 && offset < SUPERBLOCK_OFFSET + SUPERBLOCK_SIZE &&
	    offset + (unsigned long)size > SUPERBLOCK_OFFSET)
		return EXT2_ET_UNIMPLEMENTED;
	bc->stats.writes++;
	if (size > 0)
		bc_forget(bc, offset / bc->bsize,
			  (offset + (unsigned long)size - 1) / bc->bsize -
				  offset / bc->bsize + 1);
	err = bc_fault(bc);
	if (!err)
		err = io_channel_write_byte(bc->real, offset, size, data);
	if (err)
		bc_write_failed(io, err);
	return err;
}

static errcode_t bc_set_blksize(io_channel io, int blksize)
{
	struct fsa_ext2_bcache *bc = BC(io);
	errcode_t err = io_channel_set_blksize(bc->real, blksize);

	if (!err)
		err = bc_reset(bc, (unsigned int)blksize);
	if (!err)
		io->block_size = blksize;
	return err;
}

static errcode_t bc_flush(io_channel io)
{
	struct fsa_ext2_bcache *bc = BC(io);
	errcode_t err = bc_fault(bc);

	if (!err)
		err = io_channel_flush(bc->real);
	if (err)
		bc_write_failed(io, err);
	return err;
}

static errcode_t bc_set_option(io_channel io, const char *option,
			       const char *arg)
{
	return BC(io)->real->manager->set_option ?
		       BC(io)->real->manager->set_option(BC(io)->real, option,
							 arg) :
		       EXT2_ET_INVALID_ARGUMENT;
}

static errcode_t bc_get_stats(io_channel io, io_stats *stats)
{
	io_channel real = BC(io)->real;

	return real->manager->get_stats ?
		       real->manager->get_stats(real, stats) :
		       EXT2_ET_UNIMPLEMENTED;
}

static errcode_t bc_discard(io_channel io, unsigned long long blk,
			    unsigned long long count)
{
	bc_forget(BC(io), blk, count);
	return io_channel_discard(BC(io)->real, blk, count);
}

static errcode_t bc_zeroout(io_channel io, unsigned long long blk,
			    unsigned long long count)
{
	struct fsa_ext2_bcache *bc = BC(io);
	errcode_t err;

	bc_forget(bc, blk, count);
	/* Not kept in write_err: every caller checks, and falls back when
	 * the file cannot punch. */
	err = bc_fault(bc);
	return err ? err : io_channel_zeroout(bc->real, blk, count);
}

/*
 * Blocks [@blk, @blk + @count) read in one request and kept, unless @blk
 * is cached already.  Advisory: a failure is left for the block's own
 * read to meet and report.  At most a quarter of the cache, so a
 * readahead never flushes what a walk is using.
 */
static errcode_t bc_cache_readahead(io_channel io, unsigned long long blk,
				    unsigned long long count)
{
	struct fsa_ext2_bcache *bc = BC(io);
	char *buf;

	if (count > (unsigned long long)bc->cap / 4)
		count = (unsigned long long)bc->cap / 4;
	if (count < 2 || bc_find(bc, blk) != BCACHE_NONE)
		return 0;
	buf = malloc(count * bc->bsize);
	if (!buf)
		return 0;
	bc->stats.reads++;
	if (!bc_fault(bc) &&
	    !io_channel_read_blk64(bc->real, blk, (int)count, buf))
		for (unsigned long long i = 0; i < count; i++)
			if (bc_find(bc, blk + i) == BCACHE_NONE)
				bc_insert(bc, blk + i, buf + i * bc->bsize);
	free(buf);
	return 0;
}

static errcode_t bc_close(io_channel io)
{
	struct fsa_ext2_bcache *bc = BC(io);
	errcode_t err;

	if (--io->refcount > 0)
		return 0;
	err = io_channel_close(bc->real);
	bc_free_arrays(bc);
	free(bc);
	free(io->name);
	free(io);
	return err;
}

static errcode_t bc_open(const char *name, int flags, io_channel *channel);

static struct struct_io_manager fsa_ext2_bcache_manager = {
	.magic = EXT2_ET_MAGIC_IO_MANAGER,
	.name = "iomapctl cached I/O manager",
	.open = bc_open,
	.close = bc_close,
	.set_blksize = bc_set_blksize,
	.read_blk = bc_read_blk,
	.write_blk = bc_write_blk,
	.flush = bc_flush,
	.write_byte = bc_write_byte,
	.set_option = bc_set_option,
	.get_stats = bc_get_stats,
	.read_blk64 = bc_read_blk64,
	.write_blk64 = bc_write_blk64,
	.discard = bc_discard,
	.cache_readahead = bc_cache_readahead,
	.zeroout = bc_zeroout,
};

/* Never written: libext2fs wants a non-const io_manager. */
io_manager fsa_ext2_bcache_io_manager = &fsa_ext2_bcache_manager;

static errcode_t bc_open(const char *name, int flags, io_channel *channel)
{
	struct fsa_ext2_bcache *bc = calloc(1, sizeof(*bc));
	io_channel io = calloc(1, sizeof(*io));
	errcode_t err = EXT2_ET_NO_MEMORY;

	if (!bc || !io || !(io->name = strdup(name)))
		goto fail;
	err = unix_io_manager->open(name, flags | IO_FLAG_NOCACHE, &bc->real);
	if (err)
		goto fail;
	err = bc_reset(bc, (unsigned int)bc->real->block_size);
	if (err) {
		io_channel_close(bc->real);
		goto fail;
	}
	io->magic = EXT2_ET_MAGIC_IO_CHANNEL;
	io->manager = fsa_ext2_bcache_io_manager;
	io->block_size = bc->real->block_size;
	io->refcount = 1;
	io->flags = bc->real->flags;
	io->align = bc->real->align;
	io->private_data = bc;
	*channel = io;
	return 0;

fail:
	if (io)
		free(io->name);
	free(io);
	free(bc);
	return err;
}

void fsa_ext2_bcache_stats(struct fsa_ext2_fs *efs,
			   struct fsa_ext2_bcache_stats *st)
{
	*st = BC(efs->fs->io)->stats;
}

void fsa_ext2_bcache_forget(struct fsa_ext2_fs *efs, uint64_t addr,
			    uint64_t len)
{
	unsigned int bits = efs->base.blkbits;

	if (len)
		bc_forget(BC(efs->fs->io), addr >> bits,
			  ((addr + len - 1) >> bits) - (addr >> bits) + 1);
}

/* A mapping the engine is about to write through its own descriptor
 * leaves the cache first. */
void fsa_ext2_bcache_forget_map(struct fsa_ext2_fs *efs,
				const struct iomap *map)
{
	if (map->type == IOMAP_MAPPED || map->type == IOMAP_UNWRITTEN)
		fsa_ext2_bcache_forget(efs, map->addr, map->length);
}

void fsa_ext2_set_faults(struct fsa_fs *fs, struct fsa_faults *faults)
{
	BC(EXT2_FS(fs)->fs->io)->faults = faults;
}

errcode_t fsa_ext2_bcache_take_write_error(struct fsa_ext2_fs *efs)
{
	struct fsa_ext2_bcache *bc = BC(efs->fs->io);
	errcode_t err = bc->write_err;

	bc->write_err = 0;
	return err;
}
