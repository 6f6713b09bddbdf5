// SPDX-License-Identifier: GPL-2.0
/* io_random_test.c - random writes, zero-ranges, truncates, syncs and
 * reads on every path x mapper, checked against a plain memory model. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "helpers.h"
#include "iomapctl/io.h"
#include "memfs.h"

#define RANGE (96 << 10)
#define NOPS 150

static const char *const path_names[] = { "buffered", "direct", "dax" };

struct rng {
	uint64_t s;
};

static uint64_t rnd(struct rng *r, uint64_t n)
{
	r->s ^= r->s << 13;
	r->s ^= r->s >> 7;
	r->s ^= r->s << 17;
	return r->s % n;
}

struct model {
	uint8_t data[2 * RANGE];
	loff_t size;
};

static void *abuf(size_t len)
{
	void *p = NULL;

	cr_assert_eq(posix_memalign(&p, 4096, len ? len : 1), 0);
	cr_assert_not_null(p);
	return p;
}

static void verify(struct iomap_file *file, const struct model *md, bool direct,
		   const char *what, int op)
{
	size_t cap = (size_t)md->size + 4096;
	uint8_t *got = abuf(cap);
	size_t len = direct ? (cap & ~(size_t)4095) : (size_t)md->size + 1;

	cr_assert_eq(iomap_file_read(file, got, len, 0), md->size,
		     "%s op %d: size", what, op);
	for (loff_t i = 0; i < md->size; i++)
		cr_assert_eq(got[i], md->data[i],
			     "%s op %d: byte %lld %#x != %#x", what, op,
			     (long long)i, got[i], md->data[i]);
	free(got);
}

static void op_write(struct iomap_file *file, struct model *md, struct rng *r,
		     unsigned int align, int op)
{
	loff_t pos = (loff_t)rnd(r, RANGE) & ~(loff_t)(align - 1);
	size_t len = ((size_t)rnd(r, 20000) + align) & ~(size_t)(align - 1);
	uint8_t *buf = abuf(len);

	memfs_pattern(buf, len, pos, (unsigned int)op);
	cr_assert_eq(iomap_file_write(file, buf, len, pos), (ssize_t)len,
		     "op %d write %lld+%zu", op, (long long)pos, len);
	if (pos > md->size)
		memset(md->data + md->size, 0, (size_t)(pos - md->size));
	memcpy(md->data + pos, buf, len);
	if (pos + (loff_t)len > md->size)
		md->size = pos + (loff_t)len;
	free(buf);
}

static void op_zero(struct iomap_file *file, struct model *md, struct rng *r)
{
	loff_t pos = (loff_t)rnd(r, (uint64_t)md->size + 1);
	uint64_t len = rnd(r, 30000);

	cr_assert_eq(iomap_file_zero_range(file, pos, len), 0);
	if (pos < md->size)
		memset(md->data + pos, 0,
		       (size_t)(pos + (loff_t)len < md->size ? (loff_t)len :
							       md->size - pos));
}

/* Shrink as a filesystem's setattr would: truncate_page, size, invalidate. */
static void op_truncate(struct iomap_file *file, struct memfs *fs,
			struct model *md, struct rng *r)
{
	loff_t nsize = (loff_t)rnd(r, (uint64_t)md->size + 1);

	cr_assert_eq(iomap_file_truncate_page(file, nsize), 0);
	fs->inode.size = nsize;
	iomap_file_invalidate(file, nsize);
	md->size = nsize;
}

static void run(const char *img, enum iomap_io_path path,
		enum iomap_mapper mapper, unsigned int blkbits, uint64_t seed)
{
	struct iomap_io_params p = { .path = path,
				     .mapper = mapper,
				     .cache_bytes = 48 << 10,
				     .max_folio_order = 4 };
	struct rng r = { seed };
	struct model *md = calloc(1, sizeof(*md));
	struct iomap_dev *dev;
	struct iomap_file *file;
	struct memfs fs;
	unsigned int align = path == IOMAP_IO_DIRECT ? 512 : 1;
	char what[64];
	int ret;

	snprintf(what, sizeof(what), "%s/%s/bs%u", path_names[path],
		 mapper ? "bh" : "iomap", 1U << blkbits);
	memfs_init(&fs, blkbits, 0, NULL, 0);
	memfs_set_backed(&fs, 1 << 20);
	ret = iomap_dev_open(img, true, &p, &dev);
	cr_assert_eq(ret, 0, "%s: open: %d", what, ret);
	cr_assert_eq(iomap_file_open(dev, &fs.inode, &memfs_opset, &file), 0);
	for (int op = 0; op < NOPS; op++) {
		uint64_t k = rnd(&r, 10);

		if (k < 5)
			op_write(file, md, &r, align, op);
		else if (k < 7)
			op_zero(file, md, &r);
		else if (k < 8)
			op_truncate(file, &fs, md, &r);
		else if (k < 9)
			cr_assert_eq(iomap_file_sync(file), 0);
		else
			verify(file, md, path == IOMAP_IO_DIRECT, what, op);
		cr_assert_eq(fs.inode.size, md->size, "%s op %d", what, op);
	}
	verify(file, md, path == IOMAP_IO_DIRECT, what, NOPS);
	cr_assert_eq(iomap_file_close(file), 0);
	cr_assert_eq(iomap_dev_close(dev), 0);
	/* What reached the disk, read back through the direct path. */
	p.path = IOMAP_IO_DIRECT;
	p.mapper = IOMAP_MAPPER_IOMAP;
	cr_assert_eq(iomap_dev_open(img, true, &p, &dev), 0);
	cr_assert_eq(iomap_file_open(dev, &fs.inode, &memfs_opset, &file), 0);
	verify(file, md, true, what, NOPS + 1);
	cr_assert_eq(iomap_file_close(file), 0);
	cr_assert_eq(iomap_dev_close(dev), 0);
	memfs_destroy(&fs);
	free(md);
}

TestSuite(io_random);

/* Paths [@p0, @p1], each mapper, 1 KiB and 4 KiB blocks. */
static void match_the_model(int p0, int p1)
{
	char *dir = t_tmpdir();

	for (int path = p0; path <= p1; path++)
		for (int m = 0; m < 2; m++)
			for (unsigned int bb = 10; bb <= 12; bb += 2) {
				char *img =
					memfs_image_create(dir, "img", 4 << 20);

				run(img, path, m, bb,
				    0x9E3779B97F4A7C15ULL ^
					    (uint64_t)(path * 8 + m * 2 + bb));
				free(img);
			}
	t_tmpdir_remove(dir);
}

Test(io_random, all_paths_match_the_model)
{
	match_the_model(IOMAP_IO_BUFFERED, IOMAP_IO_DIRECT);
}

Test(io_random, dax_matches_the_model)
{
	char *dir = t_tmpdir();
	char *img = memfs_image_create(dir, "img", 4 << 20);
	int ok = t_dax_maps(img);

	free(img);
	t_tmpdir_remove(dir);
	if (!ok)
		cr_skip_test("libpmem2 cannot map a file in TMPDIR here");
	match_the_model(IOMAP_IO_DAX, IOMAP_IO_DAX);
}
