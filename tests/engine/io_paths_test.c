// SPDX-License-Identifier: GPL-2.0
/* io_paths_test.c - every data path x mapper (iomap, bh, hybrid and mixed
 * per-operation specs) reads and writes the same bytes on dense, sparse,
 * unwritten and fragmented files. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "helpers.h"
#include "iomapctl/io.h"
#include "memfs.h"

#define IMG_SIZE (16U << 20)
#define ALLOC_START (8U << 20)
#define SEED 7

static const char *const path_names[] = { "buffered", "direct", "dax" };

enum layout { L_DENSE, L_SPARSE, L_UNWRITTEN, L_FRAG, L_COUNT };
static const char *const layout_names[] = { "dense", "sparse", "unwritten",
					    "fragmented" };

/* Build a layout of about 256 KiB with an EOF inside a block. */
static void setup_layout(struct memfs *fs, enum layout l, unsigned int blkbits)
{
	struct memfs_extent t[64];
	loff_t size = (256 << 10) + 1234;
	uint64_t bs = 1ULL << blkbits;
	int n = 0;

	switch (l) {
	case L_DENSE:
		t[n++] = (struct memfs_extent){ 0, 260 << 10, IOMAP_MAPPED, 0,
						1 << 20 };
		break;
	case L_SPARSE:
		for (int i = 0; i < 8; i++)
			t[n++] = (struct memfs_extent){
				(loff_t)i * (32 << 10), 16 << 10, IOMAP_MAPPED,
				0, (1 << 20) + (uint64_t)i * (64 << 10)
			};
		break;
	case L_UNWRITTEN:
		t[n++] = (struct memfs_extent){ 0, 64 << 10, IOMAP_MAPPED, 0,
						1 << 20 };
		t[n++] = (struct memfs_extent){ 64 << 10, 64 << 10,
						IOMAP_UNWRITTEN, 0, 2 << 20 };
		t[n++] = (struct memfs_extent){ 128 << 10, 132 << 10,
						IOMAP_MAPPED, 0, 3 << 20 };
		break;
	default:
		/* 2-block extents laid out backwards on the disk. */
		for (int i = 0; i < 64; i++)
			t[n++] = (struct memfs_extent){
				(loff_t)(i * 2 * bs), 2 * bs, IOMAP_MAPPED, 0,
				(4 << 20) - (uint64_t)(i + 1) * 4 * bs
			};
		size = (loff_t)(128 * bs) - 100;
		break;
	}
	memfs_init(fs, blkbits, size, t, n);
	memfs_set_backed(fs, ALLOC_START);
}

static int open_path(const char *img, enum iomap_io_path path, int mi,
		     struct iomap_dev **dev)
{
	struct iomap_io_params p = { .path = path, .max_folio_order = 4 };

	t_mapper_params(mi, &p);
	return iomap_dev_open(img, true, &p, dev);
}

static bool dax_available(const char *img)
{
	struct iomap_dev *dev;
	int ret = open_path(img, IOMAP_IO_DAX, IOMAP_MAPPER_IOMAP, &dev);

	if (ret == -EOPNOTSUPP)
		return false;
	cr_assert_eq(ret, 0, "dax open: %d", ret);
	cr_assert_eq(iomap_dev_close(dev), 0);
	return true;
}

static uint8_t *abuf(size_t len)
{
	void *p = NULL;

	cr_assert_eq(posix_memalign(&p, 4096, len), 0);
	cr_assert_not_null(p);
	memset(p, 0xEE, len);
	return p;
}

/* Read the whole file in @chunk pieces and compare with @want. */
static void read_compare(struct iomap_file *file, const uint8_t *want,
			 loff_t size, size_t chunk, const char *what)
{
	size_t cap = (size_t)size + 8192;
	uint8_t *got = abuf(cap);
	loff_t pos = 0;
	ssize_t n;

	while (pos < size) {
		n = iomap_file_read(file, got + pos, chunk, pos);

		cr_assert_gt(n, 0, "%s: read at %lld: %zd", what,
			     (long long)pos, n);
		pos += n;
	}
	cr_assert_eq(pos, size, "%s: read %lld of %lld", what, (long long)pos,
		     (long long)size);
	n = iomap_file_read(file, got, chunk, size);
	cr_assert_eq(n, 0, "%s: read at EOF: %zd", what, n);
	for (loff_t i = 0; i < size; i++)
		cr_assert_eq(got[i], want[i], "%s: byte %lld is %#x not %#x",
			     what, (long long)i, got[i], want[i]);
	free(got);
}

static void read_one(const char *img, enum layout l, unsigned int blkbits,
		     enum iomap_io_path path, int mapper)
{
	struct memfs fs;
	struct iomap_dev *dev;
	struct iomap_file *file;
	uint8_t *want;
	char what[128];
	size_t chunks[] = { 1 << 20, 8192, 3000 };

	setup_layout(&fs, l, blkbits);
	memfs_image_fill(&fs, img, SEED);
	want = malloc((size_t)fs.inode.size);
	memfs_expected(&fs, want, SEED);
	for (unsigned int c = 0; c < 3; c++) {
		/* Direct I/O needs aligned lengths: skip the odd chunk. */
		if (path == IOMAP_IO_DIRECT && chunks[c] % 4096)
			continue;
		snprintf(what, sizeof(what), "%s/%s/%s/bs%u/chunk%zu",
			 path_names[path], t_mappers[mapper].name,
			 layout_names[l], 1U << blkbits, chunks[c]);
		cr_assert_eq(open_path(img, path, mapper, &dev), 0, "%s", what);
		cr_assert_eq(iomap_file_open(dev, &fs.inode, &memfs_opset,
					     &file),
			     0);
		memset(&fs.stats, 0, sizeof(fs.stats));
		read_compare(file, want, fs.inode.size, chunks[c], what);
		if (t_spec_mapper(mapper, t_path_op(path)) == IOMAP_MAPPER_BH)
			cr_assert_geq(fs.stats.map_calls,
				      (uint64_t)fs.inode.size >> blkbits,
				      "%s: bh maps per block", what);
		else
			cr_assert_leq(fs.stats.map_calls,
				      (uint64_t)fs.nr * 2 + 2 +
					      (uint64_t)fs.inode.size /
						      chunks[c] * 2,
				      "%s: iomap maps per extent (%llu)", what,
				      (unsigned long long)fs.stats.map_calls);
		/* Buffer heads only where a buffered mapper keeps them. */
		if (path == IOMAP_IO_BUFFERED &&
		    t_spec_mapper(mapper, IOMAP_OP_READ) != IOMAP_MAPPER_IOMAP)
			cr_assert_gt(fs.stats.bh_allocated, 0, "%s", what);
		if (t_spec_mapper(mapper, t_path_op(path)) ==
		    IOMAP_MAPPER_IOMAP)
			cr_assert_eq(fs.stats.bh_allocated, 0, "%s", what);
		cr_assert_eq(iomap_file_close(file), 0);
		cr_assert_eq(iomap_dev_close(dev), 0);
	}
	free(want);
	memfs_destroy(&fs);
}

TestSuite(io_paths);

/* Every layout, block size and mapper through the paths [@p0, @p1]. */
static void read_matrix(int p0, int p1)
{
	char *dir = t_tmpdir();
	char *img = memfs_image_create(dir, "img", IMG_SIZE);

	if (p1 == IOMAP_IO_DAX && !dax_available(img)) {
		free(img);
		t_tmpdir_remove(dir);
		cr_skip_test("libpmem2 cannot map a file in TMPDIR here");
	}
	for (unsigned int bb = 10; bb <= 12; bb += 2)
		for (int l = 0; l < L_COUNT; l++)
			for (int p = p0; p <= p1; p++)
				for (int m = 0; m < T_NR_MAPPERS; m++)
					if (!t_spec_redundant(m, p))
						read_one(img, l, bb, p, m);
	free(img);
	t_tmpdir_remove(dir);
}

Test(io_paths, read_matrix)
{
	read_matrix(IOMAP_IO_BUFFERED, IOMAP_IO_DIRECT);
}

Test(io_paths, read_matrix_dax)
{
	read_matrix(IOMAP_IO_DAX, IOMAP_IO_DAX);
}

struct wr {
	loff_t pos;
	size_t len;
};

/* Sector-aligned writes that still hit partial blocks (for direct I/O). */
static const struct wr aligned_writes[] = {
	{ 512, 1024 },	{ 15872, 1024 }, { 20992, 512 },       { 31744, 1536 },
	{ 41984, 512 }, { 65536, 4096 }, { 81920 + 512, 512 }, { 8192, 16384 },
};
/* Anything goes for buffered and DAX. */
static const struct wr odd_writes[] = {
	{ 1, 1 },	{ 15000, 3000 }, { 20001, 77 }, { 31000, 2000 },
	{ 41000, 100 }, { 65526, 4106 }, { 90001, 33 }, { 4095, 2 },
};

/* [0,16K) MAPPED, [16K,32K) hole, [32K,48K) UNWRITTEN, [48K,64K) MAPPED. */
static void setup_mixed(struct memfs *fs, unsigned int blkbits)
{
	static const struct memfs_extent t[] = {
		{ 0, 16 << 10, IOMAP_MAPPED, 0, 1 << 20 },
		{ 32 << 10, 16 << 10, IOMAP_UNWRITTEN, 0, 2 << 20 },
		{ 48 << 10, 16 << 10, IOMAP_MAPPED, 0, 3 << 20 },
	};

	memfs_init(fs, blkbits, 64 << 10, t, 3);
	memfs_set_backed(fs, ALLOC_START);
}

static void apply(uint8_t *ref, loff_t *ref_size, const struct wr *w,
		  const uint8_t *data)
{
	if (w->pos > *ref_size)
		memset(ref + *ref_size, 0, (size_t)(w->pos - *ref_size));
	memcpy(ref + w->pos, data, w->len);
	if (w->pos + (loff_t)w->len > *ref_size)
		*ref_size = w->pos + (loff_t)w->len;
}

/* The same writes go to @host with pwrite: the oracle. */
static void write_list(struct iomap_file *file, int host, uint8_t *ref,
		       loff_t *ref_size, const struct wr *ws, size_t n,
		       unsigned int seed, const char *what)
{
	for (size_t i = 0; i < n; i++) {
		uint8_t *data = abuf(ws[i].len);

		memfs_pattern(data, ws[i].len, ws[i].pos, seed + (unsigned)i);
		cr_assert_eq(iomap_file_write(file, data, ws[i].len, ws[i].pos),
			     (ssize_t)ws[i].len, "%s: write %zu", what, i);
		cr_assert_eq(pwrite(host, data, ws[i].len, ws[i].pos),
			     (ssize_t)ws[i].len);
		apply(ref, ref_size, &ws[i], data);
		free(data);
	}
}

static void write_one(const char *img, unsigned int blkbits,
		      enum iomap_io_path path, int mapper)
{
	struct memfs fs;
	struct iomap_dev *dev;
	struct iomap_file *file;
	uint8_t *ref = calloc(1, 1 << 20);
	loff_t ref_size;
	char what[128], *hpath;
	uint8_t *hbuf;
	int host;

	snprintf(what, sizeof(what), "%s/%s/bs%u", path_names[path],
		 t_mappers[mapper].name, 1U << blkbits);
	setup_mixed(&fs, blkbits);
	memfs_image_fill(&fs, img, SEED);
	memfs_expected(&fs, ref, SEED);
	ref_size = fs.inode.size;
	cr_assert(asprintf(&hpath, "%s.host", img) > 0);
	host = open(hpath, O_CREAT | O_TRUNC | O_RDWR, 0644);
	cr_assert(host >= 0);
	cr_assert_eq(pwrite(host, ref, (size_t)ref_size, 0), ref_size);
	free(hpath);
	cr_assert_eq(open_path(img, path, mapper, &dev), 0, "%s", what);
	cr_assert_eq(iomap_file_open(dev, &fs.inode, &memfs_opset, &file), 0);
	write_list(file, host, ref, &ref_size, aligned_writes,
		   sizeof(aligned_writes) / sizeof(aligned_writes[0]), 100,
		   what);
	if (path != IOMAP_IO_DIRECT)
		write_list(file, host, ref, &ref_size, odd_writes,
			   sizeof(odd_writes) / sizeof(odd_writes[0]), 200,
			   what);
	cr_assert_eq(fs.inode.size, ref_size, "%s: size", what);
	/* The model agrees with the host file the same pwrites built. */
	hbuf = malloc((size_t)ref_size + 1);
	cr_assert_eq(pread(host, hbuf, (size_t)ref_size + 1, 0), ref_size);
	cr_assert_arr_eq(hbuf, ref, (size_t)ref_size, "%s: host file", what);
	free(hbuf);
	close(host);
	/* Through the same path, then from the disk through another. */
	read_compare(file, ref, ref_size, path == IOMAP_IO_DIRECT ? 4096 : 5000,
		     what);
	cr_assert_eq(iomap_file_close(file), 0, "%s: close", what);
	cr_assert_eq(iomap_dev_close(dev), 0);
	cr_assert_eq(open_path(img, IOMAP_IO_DIRECT, 0, &dev), 0);
	cr_assert_eq(iomap_file_open(dev, &fs.inode, &memfs_opset, &file), 0);
	read_compare(file, ref, ref_size, 1 << 20, what);
	cr_assert_eq(iomap_file_close(file), 0);
	cr_assert_eq(iomap_dev_close(dev), 0);
	free(ref);
	memfs_destroy(&fs);
}

static void write_matrix(int p0, int p1)
{
	char *dir = t_tmpdir();
	char *img = memfs_image_create(dir, "img", IMG_SIZE);

	if (p1 == IOMAP_IO_DAX && !dax_available(img)) {
		free(img);
		t_tmpdir_remove(dir);
		cr_skip_test("libpmem2 cannot map a file in TMPDIR here");
	}
	for (unsigned int bb = 10; bb <= 12; bb += 2)
		for (int p = p0; p <= p1; p++)
			for (int m = 0; m < T_NR_MAPPERS; m++)
				if (!t_spec_redundant(m, p))
					write_one(img, bb, p, m);
	free(img);
	t_tmpdir_remove(dir);
}

Test(io_paths, write_matrix)
{
	write_matrix(IOMAP_IO_BUFFERED, IOMAP_IO_DIRECT);
}

Test(io_paths, write_matrix_dax)
{
	write_matrix(IOMAP_IO_DAX, IOMAP_IO_DAX);
}
