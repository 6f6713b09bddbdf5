// SPDX-License-Identifier: GPL-2.0
/* delalloc_test.c - delayed allocation on native images: buffered writes
 * into holes map DELALLOC until writeback, reserve space at write time,
 * land sequential data in one extent, and give reservations back. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <linux/fiemap.h>

#include <criterion/criterion.h>

#include "iomapctl/bh.h"
#include "iomapctl/io.h"
#include "native_util.h"

static char *dir;

static void setup(void)
{
	dir = t_tmpdir();
}

static void teardown(void)
{
	t_tmpdir_remove(dir);
}

TestSuite(delalloc, .init = setup, .fini = teardown);

static const struct iomap_space_ops space = {
	.setsize = fsa_native_setsize,
	.punch = fsa_native_punch,
	.falloc = fsa_native_falloc,
	.unwritten = true,
};

/* An image with one empty file /f open on the buffered path. */
struct da_env {
	char *img;
	struct fsa_native_fs *nfs;
	struct iomap_inode *inode;
	struct iomap_dev *dev;
	struct iomap_file *file;
};

static void env_open(struct da_env *e, uint64_t size, size_t cache_bytes,
		     enum iomap_mapper write_mapper)
{
	struct iomap_io_params p = { .path = IOMAP_IO_BUFFERED,
				     .cache_bytes = cache_bytes };
	uint64_t ino;

	p.op_mapper[IOMAP_OP_WRITE] = (unsigned char)(1 + write_mapper);
	e->img = tn_mkfs(dir, "img", size, 4096);
	e->nfs = tn_open(e->img, true);
	cr_assert_eq(fsa_native_create(&e->nfs->base, 1, "f", 0100644, &ino),
		     0);
	cr_assert_eq(fsa_native_ops.iget(&e->nfs->base, ino, &e->inode), 0);
	cr_assert_eq(iomap_dev_open(e->img, true, &p, &e->dev), 0);
	cr_assert_eq(iomap_file_open(e->dev, e->inode, &fsa_native_iomap_opset,
				     &e->file),
		     0);
}

/* Closes everything (committing) and checks the image. */
static void env_close(struct da_env *e)
{
	cr_assert_eq(iomap_file_close(e->file), 0);
	cr_assert_eq(iomap_dev_close(e->dev), 0);
	fsa_native_ops.iput(e->inode);
	cr_assert_eq(e->nfs->da.reserved, 0, "reservation left at close");
	tn_close(e->nfs);
	tn_assert_clean(e->img);
	free(e->img);
}

/* The report mappings of the whole file, as `map` prints them. */
static size_t report(struct da_env *e, struct iomap *maps, size_t max)
{
	struct iomap_iter it = { .inode = e->inode,
				 .len = (uint64_t)e->inode->size,
				 .flags = IOMAP_REPORT };
	size_t n = 0;
	int ret;

	while ((ret = iomap_iter(&it, fsa_native_iomap_opset.report)) > 0) {
		cr_assert_lt(n, max);
		maps[n++] = it.iomap;
		it.status = iomap_iter_advance(&it, iomap_length(&it));
	}
	cr_assert_eq(ret, 0);
	return n;
}

/* Extents written to disk, from the extent tree. */
static unsigned int disk_extents(struct da_env *e)
{
	unsigned int n = 0;
	uint64_t lblk = 0, first;
	struct fsa_native_extent x;

	while (fsa_native_ext_find(e->nfs, e->inode->ino, lblk, UINT64_MAX,
				   &first, &x) == 1) {
		n++;
		lblk = first + x.len;
	}
	return n;
}

static void write_pattern(struct da_env *e, loff_t pos, size_t len, int c)
{
	char *buf = malloc(len);

	memset(buf, c, len);
	cr_assert_eq(iomap_file_write(e->file, buf, len, pos), (ssize_t)len);
	free(buf);
}

static void expect_bytes(struct da_env *e, loff_t pos, size_t len, int c)
{
	char *buf = malloc(len), *want = malloc(len);

	memset(want, c, len);
	cr_assert_eq(iomap_file_read(e->file, buf, len, pos), (ssize_t)len);
	cr_assert_eq(memcmp(buf, want, len), 0, "bytes at %lld", (long long)pos);
	free(buf);
	free(want);
}

Test(delalloc, maps_delalloc_until_writeback)
{
	struct da_env e;
	struct iomap m[8];
	struct fiemap_extent fx[4];
	struct iomap_fiemap_info fi = { .fi_extents_max = 4,
					.fi_extents_start = fx };
	struct iomap_bh bh = { .size = 4096 };
	size_t n;

	env_open(&e, 64 << 20, 0, IOMAP_MAPPER_IOMAP);
	write_pattern(&e, 0, 10000, 'a');
	write_pattern(&e, 65536, 4096, 'b');
	n = report(&e, m, 8);
	cr_assert_eq(n, 3);
	cr_expect_eq(m[0].type, IOMAP_DELALLOC);
	cr_expect_eq(m[0].length, 12288);
	cr_expect_eq(m[0].addr, IOMAP_NULL_ADDR);
	cr_expect_eq(m[1].type, IOMAP_HOLE);
	cr_expect_eq(m[2].type, IOMAP_DELALLOC);
	cr_expect_eq(e.nfs->da.reserved, 4);
	/* Nothing on disk refers to a delayed block. */
	cr_expect_eq(disk_extents(&e), 0);
	cr_expect_eq(tn_check(e.nfs), 0);
	cr_assert_eq(iomap_fiemap(e.inode, &fi, 0, 1 << 20, 0,
				  fsa_native_iomap_opset.report),
		     0);
	cr_assert_eq(fi.fi_extents_mapped, 2);
	cr_expect_eq(fx[0].fe_flags & (FIEMAP_EXTENT_DELALLOC |
				       FIEMAP_EXTENT_UNKNOWN),
		     FIEMAP_EXTENT_DELALLOC | FIEMAP_EXTENT_UNKNOWN);
	/* The buffer-head mapper sees a delayed block, not a hole. */
	cr_assert_eq(fsa_native_iomap_opset.get_block(e.inode, 1, &bh, 0), 0);
	cr_expect_eq(bh.state, IOMAP_BH_DELAY);

	cr_assert_eq(iomap_file_sync(e.file), 0);
	n = report(&e, m, 8);
	cr_assert_eq(n, 3);
	cr_expect_eq(m[0].type, IOMAP_MAPPED);
	cr_expect_eq(m[2].type, IOMAP_MAPPED);
	cr_expect_eq(e.nfs->da.reserved, 0);
	cr_expect_eq(disk_extents(&e), 2);
	expect_bytes(&e, 0, 10000, 'a');
	expect_bytes(&e, 65536, 4096, 'b');
	env_close(&e);
}

/* The hybrid mapper keeps DELALLOC in buffer heads; writeback allocates. */
Test(delalloc, hybrid_writes_back_delayed_blocks)
{
	struct da_env e;

	env_open(&e, 64 << 20, 0, IOMAP_MAPPER_HYBRID);
	write_pattern(&e, 4096, 300000, 'h');
	cr_expect_gt(e.nfs->da.reserved, 0);
	cr_assert_eq(iomap_file_sync(e.file), 0);
	cr_expect_eq(e.nfs->da.reserved, 0);
	cr_expect_eq(disk_extents(&e), 1);
	expect_bytes(&e, 4096, 300000, 'h');
	env_close(&e);
}

/* Small sequential pwrites, through a cache small enough that eviction
 * writes back (and allocates) while the file grows: one extent. */
Test(delalloc, sequential_small_writes_are_one_extent)
{
	static const size_t caches[] = { 0, 1 << 20 };

	for (size_t c = 0; c < 2; c++) {
		struct da_env e;
		char buf[4000];

		env_open(&e, 64 << 20, caches[c], IOMAP_MAPPER_IOMAP);
		for (size_t i = 0; i < (16 << 20) / sizeof(buf); i++) {
			memset(buf, (int)(i & 0xff), sizeof(buf));
			cr_assert_eq(iomap_file_write(e.file, buf, sizeof(buf),
						      (loff_t)(i * sizeof(buf))),
				     (ssize_t)sizeof(buf));
		}
		cr_assert_eq(iomap_file_sync(e.file), 0);
		cr_expect_eq(disk_extents(&e), 1, "cache %zu", caches[c]);
		expect_bytes(&e, 4000 * 1000, 4000, 1000 & 0xff);
		env_close(&e);
	}
}

/* A write larger than the free space fails at write time: what was
 * written before reaches the disk, writeback never meets ENOSPC. */
Test(delalloc, enospc_at_write_time)
{
	size_t len = 12 << 20;
	char *buf = malloc(len);
	struct da_env e;
	ssize_t n;

	memset(buf, 'z', len);
	env_open(&e, 8 << 20, 0, IOMAP_MAPPER_IOMAP);
	n = iomap_file_write(e.file, buf, len, 0);
	cr_assert_gt(n, 0);
	cr_assert_lt(n, (ssize_t)len);
	cr_expect_eq(iomap_file_write(e.file, buf, len - (size_t)n, n),
		     -ENOSPC);
	/* Other allocations cannot take what the reservation promised. */
	cr_expect_eq(fsa_native_falloc(e.inode, 16 << 20, 4096, true),
		     -ENOSPC);
	cr_assert_eq(iomap_file_sync(e.file), 0);
	cr_expect_eq(e.nfs->da.reserved, 0);
	cr_expect_eq(e.inode->size, n);
	expect_bytes(&e, 0, (size_t)n, 'z');
	env_close(&e);
	free(buf);
}

Test(delalloc, truncate_and_punch_release_reservations)
{
	struct da_env e;
	struct iomap m[8];
	size_t n;

	env_open(&e, 64 << 20, 0, IOMAP_MAPPER_IOMAP);
	write_pattern(&e, 0, 1 << 20, 'p');
	cr_assert_eq(e.nfs->da.reserved, 256);
	/* What a failed writeback leaves: the adapter drops the rest. */
	cr_assert_eq(fsa_native_setsize(e.inode, 512 << 10), 0);
	iomap_file_invalidate(e.file, 512 << 10);
	cr_expect_eq(e.nfs->da.reserved, 128);
	/* Through the engine: written back, then freed. */
	cr_assert_eq(iomap_file_punch(e.file, &space, 65536, 131072), 0);
	cr_expect_eq(e.nfs->da.reserved, 0);
	n = report(&e, m, 8);
	cr_assert_eq(n, 3);
	cr_expect_eq(m[0].type, IOMAP_MAPPED);
	cr_expect_eq(m[1].type, IOMAP_HOLE);
	cr_expect_eq(m[1].offset, 65536);
	cr_expect_eq(m[1].length, 131072);
	expect_bytes(&e, 0, 65536, 'p');
	expect_bytes(&e, 65536, 131072, 0);
	write_pattern(&e, 1 << 20, 8192, 'q');
	cr_assert_eq(iomap_file_setsize(e.file, &space, 700000), 0);
	cr_expect_eq(e.nfs->da.reserved, 0);
	cr_expect_eq(e.inode->size, 700000);
	expect_bytes(&e, 196608, (512 << 10) - 196608, 'p');
	expect_bytes(&e, 512 << 10, 700000 - (512 << 10), 0);
	env_close(&e);
}

/* Through the CLI: a write into a nearly full image fails with ENOSPC
 * and leaves a clean image holding the earlier file. */
Test(delalloc, cli_write_into_full_image)
{
	char *img = tn_mkfs(dir, "img", 8 << 20, 4096);

	cr_assert_eq(t_sh("cd '%s' && head -c 3000000 /dev/urandom > a && "
			  "%s -q cp a img:/a",
			  dir, IOMAPCTL_BINARY),
		     0);
	cr_assert_neq(t_sh("cd '%s' && %s -q write --pattern 0x41 --length 8m "
			   "img:/b 0 2> err",
			   dir, IOMAPCTL_BINARY),
		      0);
	cr_assert_eq(t_sh("cd '%s' && grep -q 'No space left' err && "
			  "%s cat img:/a | cmp - a",
			  dir, IOMAPCTL_BINARY),
		     0);
	tn_assert_clean(img);
	free(img);
}
