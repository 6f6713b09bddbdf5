// SPDX-License-Identifier: GPL-2.0
/* meta.c - metadata blocks: the one place they are verified, the cache that
 * holds them for a session, and the journal that commits them. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/uio.h>

#include "native.h"

void fsa_native_report(struct fsa_native_fs *nfs, uint64_t blkno,
		       const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "iomapctl: iomapfs: %s: block %llu: ", nfs->path,
		(unsigned long long)blkno);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void fsa_native_set_faults(struct fsa_fs *fs, struct fsa_faults *faults)
{
	NATIVE_FS(fs)->faults = faults;
}

/*
 * A read, write or flush of the image failed with @err.  Read-write, the
 * session stops committing (as XFS shuts down): the operation that met
 * it may have changed metadata in memory half-way, and the image keeps
 * its last commit, which is consistent, instead.
 */
static int io_failed(struct fsa_native_fs *nfs, int err)
{
	if (nfs->base.rdwr && !nfs->err)
		nfs->err = err;
	return err;
}

/* The test's fault for this I/O, when it is the one armed; else 0. */
static int fault(struct fsa_native_fs *nfs)
{
	struct fsa_faults *f = nfs->faults;

	if (!f || ++f->nr_io != f->fail_at)
		return 0;
	f->nr_failed++;
	return io_failed(nfs, f->error ? f->error : -EIO);
}

int fsa_native_pread(struct fsa_native_fs *nfs, void *buf, size_t len,
		     uint64_t off)
{
	size_t done = 0;
	int ret = fault(nfs);

	if (ret)
		return ret;

	while (done < len) {
		ssize_t n = pread(nfs->fd, (uint8_t *)buf + done, len - done,
				  (off_t)(off + done));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return io_failed(nfs, -errno);
		if (n == 0) {
			fsa_native_report(nfs, off / nfs->block_size,
					  "past the end of the image "
					  "(truncated?)");
			return io_failed(nfs, -EFSCORRUPTED);
		}
		done += (size_t)n;
	}
	return 0;
}

int fsa_native_pwrite(struct fsa_native_fs *nfs, const void *buf, size_t len,
		      uint64_t off)
{
	size_t done = 0;
	int ret = fault(nfs);

	if (ret)
		return ret;

	while (done < len) {
		ssize_t n = pwrite(nfs->fd, (const uint8_t *)buf + done,
				   len - done, (off_t)(off + done));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return io_failed(nfs, n < 0 ? -errno : -EIO);
		done += (size_t)n;
	}
	return 0;
}

static size_t crc_len(const struct fsa_native_fs *nfs, uint32_t magic)
{
	return magic == FSA_NATIVE_MAGIC_SB ? FSA_NATIVE_SB_SIZE :
					      nfs->block_size;
}

uint32_t fsa_native_block_crc(const uint8_t *data, size_t len)
{
	static const uint32_t zero;
	uint32_t crc = fsa_native_crc32c(0, data, 4);

	crc = fsa_native_crc32c(crc, &zero, 4);
	return fsa_native_crc32c(crc, data + 8, len - 8);
}

void fsa_native_seal(struct fsa_native_fs *nfs, uint8_t *data, uint64_t blkno,
		     uint64_t owner, uint64_t generation)
{
	struct fsa_native_hdr *h = (struct fsa_native_hdr *)data;

	h->blkno = blkno;
	h->owner = owner;
	memcpy(h->uuid, nfs->sb.hdr.uuid, sizeof(h->uuid));
	h->generation = generation;
	h->crc = fsa_native_block_crc(data, crc_len(nfs, h->magic));
}

/* fsa_native_report() unless @quiet (a block read ahead may never be
 * used: its damage is said when it is). */
#define say(nfs, quiet, ...)                                 \
	do {                                                 \
		if (!(quiet))                                \
			fsa_native_report(nfs, __VA_ARGS__); \
	} while (0)

/* The checks of a metadata block; said on stderr unless @quiet. */
static int check_block(struct fsa_native_fs *nfs, const uint8_t *data,
		       uint32_t magic, uint64_t blkno, uint64_t owner,
		       uint64_t max_gen, bool quiet)
{
	const struct fsa_native_hdr *h = (const struct fsa_native_hdr *)data;

	if (h->magic != magic) {
		say(nfs, quiet, blkno, "bad magic %#x (want %#x)", h->magic,
		    magic);
		return -EFSCORRUPTED;
	}
	if (h->crc != fsa_native_block_crc(data, crc_len(nfs, magic))) {
		say(nfs, quiet, blkno, "checksum mismatch");
		return -EFSCORRUPTED;
	}
	if (h->blkno != blkno) {
		say(nfs, quiet, blkno,
		    "claims to be block %llu "
		    "(misdirected write)",
		    (unsigned long long)h->blkno);
		return -EFSCORRUPTED;
	}
	if (memcmp(h->uuid, nfs->sb.hdr.uuid, sizeof(h->uuid))) {
		say(nfs, quiet, blkno, "belongs to another filesystem");
		return -EFSCORRUPTED;
	}
	if (h->owner != owner) {
		say(nfs, quiet, blkno, "owned by %llu, expected %llu",
		    (unsigned long long)h->owner, (unsigned long long)owner);
		return -EFSCORRUPTED;
	}
	if (h->generation > max_gen) {
		say(nfs, quiet, blkno,
		    "written by transaction %llu, "
		    "newer than the last commit %llu",
		    (unsigned long long)h->generation,
		    (unsigned long long)max_gen);
		return -EFSCORRUPTED;
	}
	return 0;
}

static int verify_gen(struct fsa_native_fs *nfs, const uint8_t *data,
		      uint32_t magic, uint64_t blkno, uint64_t owner,
		      uint64_t max_gen)
{
	return check_block(nfs, data, magic, blkno, owner, max_gen, false);
}

int fsa_native_verify(struct fsa_native_fs *nfs, const uint8_t *data,
		      uint32_t magic, uint64_t blkno, uint64_t owner)
{
	return verify_gen(nfs, data, magic, blkno, owner,
			  nfs->sb.hdr.generation);
}

/* ---- the cache ---- */

static size_t bucket(const struct fsa_native_fs *nfs, uint64_t blkno)
{
	return (size_t)((blkno * 0x9e3779b97f4a7c15ULL) >> 20) % nfs->nbuckets;
}

static struct fsa_native_buf *cache_find(struct fsa_native_fs *nfs,
					 uint64_t blkno)
{
	if (!nfs->nbuckets)
		return NULL;
	for (struct fsa_native_buf *b = nfs->bufs[bucket(nfs, blkno)]; b;
	     b = b->next)
		if (b->blkno == blkno)
			return b;
	return NULL;
}

static int cache_grow(struct fsa_native_fs *nfs)
{
	size_t n = nfs->nbuckets ? nfs->nbuckets * 4 : 1024;
	struct fsa_native_buf **old = nfs->bufs;
	size_t oldn = nfs->nbuckets;

	nfs->bufs = calloc(n, sizeof(*nfs->bufs));
	if (!nfs->bufs) {
		nfs->bufs = old;
		return -ENOMEM;
	}
	nfs->nbuckets = n;
	for (size_t i = 0; i < oldn; i++) {
		while (old[i]) {
			struct fsa_native_buf *b = old[i];
			size_t k = bucket(nfs, b->blkno);

			old[i] = b->next;
			b->next = nfs->bufs[k];
			nfs->bufs[k] = b;
		}
	}
	free(old);
	return 0;
}

/* Where a buffer's block starts in its allocation (aligned for the
 * structures read in place). */
#define BUF_HDR ((sizeof(struct fsa_native_buf) + 63) & ~(size_t)63)

static int cache_add(struct fsa_native_fs *nfs, uint64_t blkno, uint64_t owner,
		     struct fsa_native_buf **bp)
{
	struct fsa_native_buf *b;
	size_t k;

	if (nfs->nbufs >= nfs->nbuckets * 2) {
		int ret = cache_grow(nfs);

		if (ret)
			return ret;
	}
	b = nfs->spare;
	if (b) {
		nfs->spare = b->next;
	} else {
		/* One allocation per block, its bytes after the header. */
		b = malloc(BUF_HDR + nfs->block_size);
		if (!b)
			return -ENOMEM;
	}
	*b = (struct fsa_native_buf){ .data = (uint8_t *)b + BUF_HDR };
	b->blkno = blkno;
	b->owner = owner;
	k = bucket(nfs, blkno);
	b->next = nfs->bufs[k];
	nfs->bufs[k] = b;
	nfs->nbufs++;
	*bp = b;
	return 0;
}

/* Tree blocks live after the journal and inside the filesystem. */
static int check_node_blkno(struct fsa_native_fs *nfs, uint64_t blkno)
{
	const struct fsa_native_sb *sb = &nfs->sb;

	if (blkno < sb->journal_start + sb->journal_blocks ||
	    blkno >= sb->block_count) {
		fsa_native_report(nfs, blkno,
				  "tree block outside the "
				  "filesystem's data area");
		return -EFSCORRUPTED;
	}
	return 0;
}

int fsa_native_meta_read(struct fsa_native_fs *nfs, uint64_t blkno,
			 uint64_t owner, struct fsa_native_buf **bp)
{
	struct fsa_native_buf *b = cache_find(nfs, blkno);
	int ret;

	if (b) {
		if (b->owner != owner) {
			fsa_native_report(nfs, blkno,
					  "in use by tree %llu, "
					  "referenced from tree %llu",
					  (unsigned long long)b->owner,
					  (unsigned long long)owner);
			return -EFSCORRUPTED;
		}
		*bp = b;
		return 0;
	}
	ret = check_node_blkno(nfs, blkno);
	if (ret)
		return ret;
	ret = cache_add(nfs, blkno, owner, &b);
	if (ret)
		return ret;
	ret = fsa_native_pread(nfs, b->data, nfs->block_size,
			       blkno * nfs->block_size);
	if (!ret)
		ret = fsa_native_verify(nfs, b->data, FSA_NATIVE_MAGIC_NODE,
					blkno, owner);
	if (ret) {
		fsa_native_meta_forget(nfs, blkno);
		return ret;
	}
	*bp = b;
	return 0;
}

/* Bytes one readahead reads at most (and the smallest block size). */
#define META_RA_BYTES (256U << 10)
#define META_RA_SLOTS (META_RA_BYTES / FSA_NATIVE_MIN_BLOCK)

/*
 * One read of the @n blocks from @lo into @slot[i] (a cache buffer's bytes,
 * or NULL for a block not wanted, read into a scratch block): the blocks
 * wanted land where they stay, and those between them are only passed
 * over.  0, or -errno (a short read too).
 */
static int read_scattered(struct fsa_native_fs *nfs, uint64_t lo,
			  uint8_t *const *slot, unsigned int n)
{
	struct iovec iov[META_RA_SLOTS];
	size_t len = (size_t)n * nfs->block_size;
	ssize_t got;
	int ret = fault(nfs);

	if (ret)
		return ret;
	if (!nfs->ra_scratch && !(nfs->ra_scratch = malloc(nfs->block_size)))
		return -ENOMEM;
	for (unsigned int i = 0; i < n; i++)
		iov[i] = (struct iovec){ slot[i] ? slot[i] : nfs->ra_scratch,
					 nfs->block_size };
	do
		got = preadv(nfs->fd, iov, (int)n, (off_t)(lo * nfs->block_size));
	while (got < 0 && errno == EINTR);
	return got == (ssize_t)len ? 0 : got < 0 ? -errno : -EIO;
}

void fsa_native_meta_readahead(struct fsa_native_fs *nfs, uint64_t owner,
			       const uint64_t *blkno, unsigned int n)
{
	const uint64_t span = META_RA_BYTES / nfs->block_size;
	const struct fsa_native_sb *sb = &nfs->sb;
	struct fsa_native_buf *added[META_RA_SLOTS];
	uint8_t *slot[META_RA_SLOTS] = { 0 };
	uint64_t lo = UINT64_MAX, hi = 0;
	unsigned int use = 0, nadded = 0;

	if (nfs->base.rdwr || span < 2)
		return;
	/* The blocks not cached yet, in order, while one read holds them. */
	for (; use < n; use++) {
		uint64_t b = blkno[use];

		if (b < sb->journal_start + sb->journal_blocks ||
		    b >= sb->block_count || cache_find(nfs, b))
			break;
		if ((b > hi ? b : hi) - (b < lo ? b : lo) >= span)
			break;
		lo = b < lo ? b : lo;
		hi = b > hi ? b : hi;
	}
	if (use < 2)
		return;
	for (unsigned int i = 0; i < use; i++) {
		/* A tree naming a block twice is damaged: read it once. */
		if (slot[blkno[i] - lo] ||
		    cache_add(nfs, blkno[i], owner, &added[nadded]))
			continue;
		slot[blkno[i] - lo] = added[nadded++]->data;
	}
	if (read_scattered(nfs, lo, slot, (unsigned int)(hi - lo + 1)))
		goto out_drop;
	for (unsigned int i = 0; i < nadded; i++) {
		/* A damaged block is left out, for its own read to report. */
		if (!check_block(nfs, added[i]->data, FSA_NATIVE_MAGIC_NODE,
				 added[i]->blkno, owner, sb->hdr.generation,
				 true))
			added[i] = NULL;
	}
out_drop:
	for (unsigned int i = 0; i < nadded; i++)
		if (added[i])
			fsa_native_meta_forget(nfs, added[i]->blkno);
}

int fsa_native_meta_dirty(struct fsa_native_fs *nfs, struct fsa_native_buf *b)
{
	if (b->dirty)
		return 0;
	if (nfs->ndirty == nfs->dirty_cap) {
		size_t cap = nfs->dirty_cap ? nfs->dirty_cap * 2 : 64;
		void *p = realloc(nfs->dirty, cap * sizeof(*nfs->dirty));

		if (!p)
			return -ENOMEM;
		nfs->dirty = p;
		nfs->dirty_cap = cap;
	}
	nfs->dirty[nfs->ndirty++] = b;
	b->dirty = true;
	return 0;
}

int fsa_native_meta_new(struct fsa_native_fs *nfs, uint64_t blkno,
			uint64_t owner, struct fsa_native_buf **bp)
{
	struct fsa_native_buf *b = cache_find(nfs, blkno);
	int ret;

	if (!b) {
		ret = cache_add(nfs, blkno, owner, &b);
		if (ret)
			return ret;
	}
	b->owner = owner;
	memset(b->data, 0, nfs->block_size);
	((struct fsa_native_hdr *)b->data)->magic = FSA_NATIVE_MAGIC_NODE;
	ret = fsa_native_meta_dirty(nfs, b);
	if (ret)
		return ret;
	*bp = b;
	return 0;
}

void fsa_native_meta_forget(struct fsa_native_fs *nfs, uint64_t blkno)
{
	struct fsa_native_buf **pp;

	if (!nfs->nbuckets)
		return;
	for (pp = &nfs->bufs[bucket(nfs, blkno)]; *pp; pp = &(*pp)->next) {
		struct fsa_native_buf *b = *pp;

		if (b->blkno != blkno)
			continue;
		if (b->dirty) {
			for (size_t i = 0; i < nfs->ndirty; i++) {
				if (nfs->dirty[i] == b) {
					nfs->dirty[i] =
						nfs->dirty[--nfs->ndirty];
					break;
				}
			}
		}
		*pp = b->next;
		free(b);
		nfs->nbufs--;
		return;
	}
}

/* Bytes of blocks the cache grows by between two trims. */
#define META_TRIM_BYTES (512U << 10)

void fsa_native_meta_trim(struct fsa_native_fs *nfs)
{
	const size_t step = META_TRIM_BYTES / nfs->block_size;

	if (!nfs->trim_at)
		nfs->trim_at = step;
	if (nfs->nbufs <= nfs->trim_at)
		return;
	for (size_t i = 0; i < nfs->nbuckets; i++) {
		struct fsa_native_buf **pp = &nfs->bufs[i];

		while (*pp) {
			struct fsa_native_buf *b = *pp;

			if (b->dirty || b->pinned) {
				pp = &b->next;
				continue;
			}
			/* Kept for the blocks read next. */
			*pp = b->next;
			b->next = nfs->spare;
			nfs->spare = b;
			nfs->nbufs--;
		}
	}
	/* Dirty blocks stay: the next trim waits for as many new ones. */
	nfs->trim_at = nfs->nbufs + step;
}

void fsa_native_meta_free_all(struct fsa_native_fs *nfs)
{
	for (size_t i = 0; i < nfs->nbuckets; i++) {
		while (nfs->bufs[i]) {
			struct fsa_native_buf *b = nfs->bufs[i];

			nfs->bufs[i] = b->next;
			free(b);
		}
	}
	free(nfs->ra_scratch);
	nfs->ra_scratch = NULL;
	while (nfs->spare) {
		struct fsa_native_buf *b = nfs->spare;

		nfs->spare = b->next;
		free(b);
	}
	free(nfs->bufs);
	free(nfs->dirty);
	nfs->bufs = NULL;
	nfs->dirty = NULL;
	nfs->nbuckets = nfs->nbufs = nfs->ndirty = nfs->dirty_cap = 0;
	nfs->trim_at = 0;
}

/* ---- the journal ---- */

/* Targets one descriptor block lists. */
static size_t jdesc_slots(const struct fsa_native_fs *nfs)
{
	return (nfs->block_size - FSA_NATIVE_JDESC_HDR) / 8;
}

/* Journal blocks a transaction of @n metadata blocks takes. */
static uint64_t jblocks(const struct fsa_native_fs *nfs, size_t n)
{
	size_t slots = jdesc_slots(nfs);

	return (n + slots - 1) / slots + n + 1;
}

int fsa_native_commit_if_full(struct fsa_native_fs *nfs)
{
	/* Each deferred free may dirty a free-tree leaf at commit; +16 for
	 * the superblock and the splits above them. */
	if (jblocks(nfs, nfs->ndirty + nfs->ndeferred + 16) * 2 <=
	    nfs->sb.journal_blocks)
		return 0;
	return fsa_native_commit(nfs);
}

/* The superblock as block 0's image, sealed for generation @gen. */
static void sb_image(struct fsa_native_fs *nfs, uint8_t *block, uint64_t gen)
{
	memset(block, 0, nfs->block_size);
	memcpy(block, &nfs->sb, sizeof(nfs->sb));
	fsa_native_seal(nfs, block, 0, 0, gen);
}

static int flush(struct fsa_native_fs *nfs)
{
	int ret = fault(nfs);

	if (!ret && fdatasync(nfs->fd) < 0)
		ret = io_failed(nfs, -errno);
	return ret;
}

/*
 * Journal @n block images (@blocks, home block numbers @targets) as
 * transaction @gen: descriptor groups, a flush, then the commit record and
 * a flush.  After this returns 0 the transaction survives any crash.
 */
static int journal_write(struct fsa_native_fs *nfs, uint8_t *const *blocks,
			 const uint64_t *targets, size_t n, uint64_t gen)
{
	const size_t bs = nfs->block_size, slots = jdesc_slots(nfs);
	uint64_t jb = nfs->sb.journal_start;
	uint32_t data_crc = 0;
	uint8_t *buf = malloc(bs);
	int ret = 0;

	if (!buf)
		return -ENOMEM;
	for (size_t i = 0; i < n && !ret; i += slots) {
		size_t cnt = n - i < slots ? n - i : slots;
		uint32_t c32 = (uint32_t)cnt;

		memset(buf, 0, bs);
		((struct fsa_native_hdr *)buf)->magic = FSA_NATIVE_MAGIC_JDESC;
		memcpy(buf + FSA_NATIVE_HDR_SIZE, &c32, 4);
		memcpy(buf + FSA_NATIVE_JDESC_HDR, targets + i, cnt * 8);
		fsa_native_seal(nfs, buf, jb, 0, gen);
		ret = fsa_native_pwrite(nfs, buf, bs, jb++ * bs);
		for (size_t k = i; k < i + cnt && !ret; k++) {
			data_crc = fsa_native_crc32c(data_crc, blocks[k], bs);
			ret = fsa_native_pwrite(nfs, blocks[k], bs, jb++ * bs);
		}
	}
	if (!ret)
		ret = flush(nfs);
	if (!ret) {
		uint32_t nb = (uint32_t)n;

		memset(buf, 0, bs);
		((struct fsa_native_hdr *)buf)->magic =
			FSA_NATIVE_MAGIC_JCOMMIT;
		memcpy(buf + FSA_NATIVE_HDR_SIZE, &nb, 4);
		memcpy(buf + FSA_NATIVE_HDR_SIZE + 4, &data_crc, 4);
		fsa_native_seal(nfs, buf, jb, 0, gen);
		ret = fsa_native_pwrite(nfs, buf, bs, jb * bs);
	}
	if (!ret)
		ret = flush(nfs);
	free(buf);
	return ret;
}

/*
 * Writes the committed blocks in place, the superblock (@blocks[0]) last
 * and alone after a flush: its generation says the transaction is in
 * place, so until it is durable, recovery still finds the transaction
 * newer than the superblock and replays it.  Written first, a failure or
 * a crash part way left the new generation over old tree blocks, and the
 * journal was then ignored as old.
 */
static int checkpoint(struct fsa_native_fs *nfs, uint8_t *const *blocks,
		      const uint64_t *targets, size_t n)
{
	int ret = 0;

	for (size_t i = 1; i < n && !ret; i++)
		ret = fsa_native_pwrite(nfs, blocks[i], nfs->block_size,
					targets[i] * nfs->block_size);
	if (!ret)
		ret = flush(nfs);
	if (!ret)
		ret = fsa_native_pwrite(nfs, blocks[0], nfs->block_size, 0);
	return ret ? ret : flush(nfs);
}

static int commit_locked(struct fsa_native_fs *nfs, uint8_t *sbblock)
{
	uint64_t gen = nfs->sb.hdr.generation + 1;
	size_t n = nfs->ndirty + 1;
	uint8_t **blocks = malloc(n * sizeof(*blocks));
	uint64_t *targets = malloc(n * sizeof(*targets));
	int ret = -ENOMEM;

	if (!blocks || !targets)
		goto out;
	ret = -ENOSPC;
	if (jblocks(nfs, n) > nfs->sb.journal_blocks)
		goto out;
	blocks[0] = sbblock;
	targets[0] = 0;
	for (size_t i = 0; i < nfs->ndirty; i++) {
		struct fsa_native_buf *b = nfs->dirty[i];

		fsa_native_seal(nfs, b->data, b->blkno, b->owner, gen);
		blocks[i + 1] = b->data;
		targets[i + 1] = b->blkno;
	}
	sb_image(nfs, sbblock, gen);
	ret = journal_write(nfs, blocks, targets, n, gen);
	if (ret)
		goto out;
	nfs->sb.hdr.generation = gen;
	ret = checkpoint(nfs, blocks, targets, n);
	for (size_t i = 0; i < nfs->ndirty; i++)
		nfs->dirty[i]->dirty = false;
	nfs->ndirty = 0;
out:
	free(blocks);
	free(targets);
	return ret;
}

int fsa_native_commit(struct fsa_native_fs *nfs)
{
	struct fsa_native_sb before;
	uint8_t *sbblock;
	int ret;

	if (nfs->err)
		return nfs->err;
	ret = fsa_native_free_deferred(nfs);
	if (ret)
		goto fail;
	if (!nfs->ndirty && !nfs->changed)
		return 0;
	sbblock = malloc(nfs->block_size);
	if (!sbblock) {
		ret = -ENOMEM;
		goto fail;
	}
	before = nfs->sb;
	ret = commit_locked(nfs, sbblock);
	free(sbblock);
	if (ret) {
		nfs->sb.hdr = before.hdr;
		goto fail;
	}
	nfs->changed = false;
	return 0;
fail:
	/* Memory is ahead of the image now: stop before it diverges more. */
	nfs->err = ret;
	return ret;
}

/* ---- recovery ---- */

struct jtx {
	size_t n;
	uint64_t *targets;
	uint8_t *images; /* n blocks */
};

/* Reads the transaction @gen from the journal, or returns -ENOENT when
 * what is there is not a complete one. */
static int journal_read(struct fsa_native_fs *nfs, uint64_t gen, struct jtx *tx)
{
	const size_t bs = nfs->block_size;
	const uint64_t jstart = nfs->sb.journal_start;
	const uint64_t jend = jstart + nfs->sb.journal_blocks;
	uint8_t *buf = malloc(bs);
	uint64_t jb = jstart;
	uint32_t data_crc = 0, cnt, nb, want_crc;
	int ret = -ENOMEM;

	if (!buf)
		return ret;
	for (;;) {
		const struct fsa_native_hdr *h = (void *)buf;

		ret = -ENOENT;
		if (jb >= jend || fsa_native_pread(nfs, buf, bs, jb * bs))
			goto out;
		if (h->magic == FSA_NATIVE_MAGIC_JCOMMIT)
			break;
		if (h->magic != FSA_NATIVE_MAGIC_JDESC ||
		    h->generation != gen ||
		    h->crc != fsa_native_block_crc(buf, bs) || h->blkno != jb ||
		    memcmp(h->uuid, nfs->sb.hdr.uuid, sizeof(h->uuid)))
			goto out;
		memcpy(&cnt, buf + FSA_NATIVE_HDR_SIZE, 4);
		if (cnt == 0 || cnt > jdesc_slots(nfs) || jb + 1 + cnt >= jend)
			goto out;
		ret = -ENOMEM;
		void *t = realloc(tx->targets, (tx->n + cnt) * 8);

		if (!t)
			goto out;
		tx->targets = t;
		t = realloc(tx->images, (tx->n + cnt) * bs);
		if (!t)
			goto out;
		tx->images = t;
		memcpy(tx->targets + tx->n, buf + FSA_NATIVE_JDESC_HDR,
		       cnt * 8);
		ret = fsa_native_pread(nfs, tx->images + tx->n * bs, cnt * bs,
				       (jb + 1) * bs);
		if (ret)
			goto out;
		for (uint32_t k = 0; k < cnt; k++)
			data_crc = fsa_native_crc32c(
				data_crc, tx->images + (tx->n + k) * bs, bs);
		tx->n += cnt;
		jb += 1 + cnt;
	}
	ret = -ENOENT;
	memcpy(&nb, buf + FSA_NATIVE_HDR_SIZE, 4);
	memcpy(&want_crc, buf + FSA_NATIVE_HDR_SIZE + 4, 4);
	if (((struct fsa_native_hdr *)buf)->generation != gen ||
	    ((struct fsa_native_hdr *)buf)->blkno != jb ||
	    fsa_native_block_crc(buf, bs) !=
		    ((struct fsa_native_hdr *)buf)->crc ||
	    nb != tx->n || want_crc != data_crc || !tx->n)
		goto out;
	ret = 0;
out:
	free(buf);
	return ret;
}

/* Each journalled image must be a valid block for its home. */
static int journal_check(struct fsa_native_fs *nfs, const struct jtx *tx,
			 uint64_t gen)
{
	for (size_t i = 0; i < tx->n; i++) {
		const uint8_t *img = tx->images + i * nfs->block_size;
		const struct fsa_native_hdr *h = (const void *)img;
		uint32_t magic = tx->targets[i] ? FSA_NATIVE_MAGIC_NODE :
						  FSA_NATIVE_MAGIC_SB;

		if (tx->targets[i] &&
		    (tx->targets[i] >= nfs->sb.block_count || h->owner == 0))
			return -EFSCORRUPTED;
		if (verify_gen(nfs, img, magic, tx->targets[i], h->owner, gen))
			return -EFSCORRUPTED;
	}
	return tx->targets[0] == 0 ? 0 : -EFSCORRUPTED;
}

/* Read-only: the transaction is laid over the image in the cache. */
static int journal_overlay(struct fsa_native_fs *nfs, const struct jtx *tx)
{
	for (size_t i = 1; i < tx->n; i++) {
		const uint8_t *img = tx->images + i * nfs->block_size;
		struct fsa_native_buf *b;
		int ret;

		fsa_native_meta_forget(nfs, tx->targets[i]);
		ret = cache_add(nfs, tx->targets[i],
				((const struct fsa_native_hdr *)img)->owner,
				&b);
		if (ret)
			return ret;
		memcpy(b->data, img, nfs->block_size);
		b->pinned = true;
	}
	return 0;
}

int fsa_native_recover(struct fsa_native_fs *nfs)
{
	uint64_t gen = nfs->sb.hdr.generation + 1;
	struct jtx tx = { 0 };
	int ret = journal_read(nfs, gen, &tx);

	if (ret == -ENOENT) {
		ret = 0;
		goto out;
	}
	if (!ret && journal_check(nfs, &tx, gen)) {
		/* A committed transaction that does not verify: damage. */
		fsa_native_report(nfs, nfs->sb.journal_start,
				  "journalled transaction %llu is damaged",
				  (unsigned long long)gen);
		ret = -EFSCORRUPTED;
	}
	if (ret)
		goto out;
	if (nfs->base.rdwr) {
		uint8_t **blocks = malloc(tx.n * sizeof(*blocks));

		ret = -ENOMEM;
		if (blocks) {
			for (size_t i = 0; i < tx.n; i++)
				blocks[i] = tx.images + i * nfs->block_size;
			ret = checkpoint(nfs, blocks, tx.targets, tx.n);
		}
		free(blocks);
	} else {
		ret = journal_overlay(nfs, &tx);
	}
	if (!ret)
		memcpy(&nfs->sb, tx.images, sizeof(nfs->sb));
out:
	free(tx.targets);
	free(tx.images);
	return ret;
}
