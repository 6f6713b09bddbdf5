// SPDX-License-Identifier: GPL-2.0
/* io_dio_flags_test.c - IOMAP_RWF_NOWAIT and IOMAP_RWF_OVERWRITE_ONLY on
 * direct I/O (§5.6, §10.8): -EAGAIN before anything moves, and nothing
 * allocated or changed when they refuse. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "helpers.h"
#include "iomapctl/io.h"
#include "memfs.h"

#define IMG_SIZE (8U << 20)
#define ALLOC_START (4U << 20)
#define FSIZE (256 << 10)
#define K(x) ((x) << 10)

static char *dir, *img;
static struct memfs fs;
static struct iomap_dev *dev;
static struct iomap_file *file;
static uint8_t *want, *buf;

static const struct memfs_extent table[] = {
	{ K(0), K(64), IOMAP_MAPPED, 0, 1 << 20 },
	{ K(64), K(64), IOMAP_UNWRITTEN, 0, 2 << 20 },
	/* hole [128K, 192K) */
	{ K(192), K(64), IOMAP_MAPPED, 0, 3 << 20 },
};

static void start(enum iomap_io_path path, enum iomap_mapper mapper)
{
	struct iomap_io_params p = { .path = path, .mapper = mapper };

	memfs_init(&fs, 12, FSIZE, table, 3);
	memfs_set_backed(&fs, ALLOC_START);
	memfs_image_fill(&fs, img, 1);
	memfs_expected(&fs, want, 1);
	cr_assert_eq(iomap_dev_open(img, true, &p, &dev), 0);
	cr_assert_eq(iomap_file_open(dev, &fs.inode, &memfs_opset, &file), 0);
}

static void setup(void)
{
	dir = t_tmpdir();
	img = memfs_image_create(dir, "img", IMG_SIZE);
	cr_assert_eq(posix_memalign((void **)&buf, 4096, K(512)), 0);
	want = malloc(K(512));
}

static void teardown(void)
{
	if (file)
		iomap_file_close(file);
	if (dev)
		iomap_dev_close(dev);
	file = NULL;
	dev = NULL;
	memfs_destroy(&fs);
	free(buf);
	free(want);
	free(img);
	t_tmpdir_remove(dir);
}

TestSuite(io_dio_flags, .init = setup, .fini = teardown);

static void check_file(const char *what)
{
	cr_assert_eq(iomap_file_read(file, buf, K(512), 0), fs.inode.size);
	cr_assert_arr_eq(buf, want, (size_t)fs.inode.size, "%s", what);
}

struct flag_case {
	const char *what;
	unsigned int rwf;
	loff_t pos;
	size_t len;
	ssize_t ret;
	bool mapped; /* ->iomap_begin was called */
};

Test(io_dio_flags, direct_write_flags)
{
	static const struct flag_case cases[] = {
		{ "overwrite MAPPED", IOMAP_RWF_OVERWRITE_ONLY, K(0), K(16),
		  K(16), true },
		{ "overwrite UNWRITTEN", IOMAP_RWF_OVERWRITE_ONLY, K(64), K(16),
		  K(16), true },
		{ "overwrite across extents", IOMAP_RWF_OVERWRITE_ONLY, K(48),
		  K(32), -EAGAIN, true },
		{ "overwrite a hole", IOMAP_RWF_OVERWRITE_ONLY, K(128), K(8),
		  -EAGAIN, true },
		{ "overwrite past i_size", IOMAP_RWF_OVERWRITE_ONLY, K(252),
		  K(8), -EAGAIN, false },
		{ "nowait overwrite", IOMAP_RWF_NOWAIT, K(200), K(16), K(16),
		  true },
		{ "nowait into a hole", IOMAP_RWF_NOWAIT, K(136), K(8), -EAGAIN,
		  true },
		{ "nowait past EOF gap", IOMAP_RWF_NOWAIT, K(300), K(4),
		  -EAGAIN, false },
		{ "both, all inside",
		  IOMAP_RWF_NOWAIT | IOMAP_RWF_OVERWRITE_ONLY, K(196), K(8),
		  K(8), true },
	};

	start(IOMAP_IO_DIRECT, IOMAP_MAPPER_IOMAP);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct flag_case *c = &cases[i];
		int nr = fs.nr, begins = fs.nr_begin;
		unsigned int want_flags = IOMAP_DIRECT | IOMAP_WRITE;

		memfs_pattern(buf, c->len, c->pos, 9 + (unsigned int)i);
		cr_assert_eq(iomap_file_write_flags(file, buf, c->len, c->pos,
						    c->rwf),
			     c->ret, "%s", c->what);
		if (c->ret > 0)
			memfs_pattern(want + c->pos, c->len, c->pos,
				      9 + (unsigned int)i);
		else
			cr_assert_eq(fs.nr, nr, "%s allocated", c->what);
		cr_assert_eq(fs.nr_begin > begins, c->mapped, "%s", c->what);
		if (c->rwf & IOMAP_RWF_NOWAIT)
			want_flags |= IOMAP_NOWAIT;
		if (c->rwf & IOMAP_RWF_OVERWRITE_ONLY)
			want_flags |= IOMAP_OVERWRITE_ONLY;
		if (c->mapped)
			cr_assert_eq(fs.begins[begins].flags, want_flags, "%s",
				     c->what);
		cr_assert_eq(fs.inode.size, FSIZE, "%s", c->what);
		check_file(c->what);
	}
}

/* A folio a buffered reader left in the range: NOWAIT will not flush it. */
Test(io_dio_flags, nowait_with_cached_pages_is_eagain)
{
	struct iomap_folio *folio;

	start(IOMAP_IO_DIRECT, IOMAP_MAPPER_IOMAP);
	cr_assert_eq(iomap_cache_add(fs.inode.cache, K(32), 0, &folio), 0);
	cr_assert_eq(iomap_file_read_flags(file, buf, K(64), 0,
					   IOMAP_RWF_NOWAIT),
		     -EAGAIN);
	cr_assert_eq(iomap_file_write_flags(file, buf, K(4), K(32),
					    IOMAP_RWF_NOWAIT),
		     -EAGAIN);
	cr_assert_eq(fs.nr_begin, 0);
	/* Outside the cached folio NOWAIT goes ahead. */
	cr_assert_eq(iomap_file_read_flags(file, buf, K(16), K(48),
					   IOMAP_RWF_NOWAIT),
		     K(16));
	cr_assert_arr_eq(buf, want + K(48), K(16));
	cr_assert_eq(fs.begins[0].flags, IOMAP_DIRECT | IOMAP_NOWAIT);
	/* Without the flag the folio is written back and dropped. */
	cr_assert_eq(iomap_file_read(file, buf, K(64), 0), K(64));
	check_file("after the plain read");
}

Test(io_dio_flags, rejected_flags)
{
	start(IOMAP_IO_DIRECT, IOMAP_MAPPER_IOMAP);
	cr_assert_eq(iomap_file_write_flags(file, buf, K(4), 0, 1U << 7),
		     -EINVAL);
	cr_assert_eq(iomap_file_read_flags(file, buf, K(4), 0,
					   IOMAP_RWF_OVERWRITE_ONLY),
		     -EINVAL);
	iomap_file_close(file);
	iomap_dev_close(dev);
	memfs_destroy(&fs);
	file = NULL;
	dev = NULL;
	for (int p = 0; p < 2; p++) {
		start(p ? IOMAP_IO_DIRECT : IOMAP_IO_BUFFERED,
		      p ? IOMAP_MAPPER_BH : IOMAP_MAPPER_IOMAP);
		cr_assert_eq(iomap_file_write_flags(file, buf, K(4), 0,
						    IOMAP_RWF_NOWAIT),
			     -EOPNOTSUPP);
		cr_assert_eq(iomap_file_read_flags(file, buf, K(4), 0,
						   IOMAP_RWF_NOWAIT),
			     -EOPNOTSUPP);
		/* The plain calls still work. */
		cr_assert_eq(iomap_file_write(file, buf, K(4), 0), K(4));
		iomap_file_close(file);
		iomap_dev_close(dev);
		memfs_destroy(&fs);
		file = NULL;
		dev = NULL;
	}
}
