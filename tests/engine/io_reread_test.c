// SPDX-License-Identifier: GPL-2.0
/* io_reread_test.c - a read-only device keeps a closed file's page cache for
 * the next open of the same inode (a reread is served from memory), and
 * only there: writable devices, a changed size and eviction read again. */
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "helpers.h"
#include "iomapctl/io.h"
#include "memfs.h"

#define IMG_SIZE (16U << 20)
#define FILE_SIZE (1U << 20)

static char *dir, *img;
static struct memfs a, b;
static struct iomap_dev *dev;

static const struct memfs_extent at1m[] = {
	{ 0, FILE_SIZE, IOMAP_MAPPED, 0, 1 << 20 },
};
static const struct memfs_extent at4m[] = {
	{ 0, FILE_SIZE, IOMAP_MAPPED, 0, 4 << 20 },
};

static void setup(void)
{
	dir = t_tmpdir();
	img = memfs_image_create(dir, "img", IMG_SIZE);
	memfs_init(&a, 12, FILE_SIZE, at1m, 1);
	memfs_init(&b, 12, FILE_SIZE, at4m, 1);
	a.inode.ino = 12;
	b.inode.ino = 13;
	memfs_image_fill(&a, img, 1);
	memfs_image_fill(&b, img, 2);
}

static void teardown(void)
{
	if (dev)
		cr_assert_eq(iomap_dev_close(dev), 0);
	dev = NULL;
	memfs_destroy(&a);
	memfs_destroy(&b);
	free(img);
	t_tmpdir_remove(dir);
}

TestSuite(io_reread, .init = setup, .fini = teardown);

static void open_dev(bool rdwr, size_t cache)
{
	struct iomap_io_params p = { .path = IOMAP_IO_BUFFERED,
				     .cache_bytes = cache,
				     .max_folio_order = IOMAP_MAX_FOLIO_ORDER };

	cr_assert_eq(iomap_dev_open(img, rdwr, &p, &dev), 0);
}

/* Open @fs's inode, read all of it, check the bytes, close. */
static void read_whole(struct memfs *fs, unsigned int seed)
{
	static uint8_t got[FILE_SIZE], want[FILE_SIZE];
	struct iomap_file *file;

	memfs_expected(fs, want, seed);
	cr_assert_eq(iomap_file_open(dev, &fs->inode, &memfs_opset, &file), 0);
	memset(got, 0, sizeof(got));
	cr_assert_eq(iomap_file_read(file, got, FILE_SIZE, 0), FILE_SIZE);
	cr_assert(!memcmp(got, want, FILE_SIZE), "ino %llu: wrong bytes",
		  (unsigned long long)fs->inode.ino);
	cr_assert_eq(iomap_file_close(file), 0);
}

Test(io_reread, read_only_device_rereads_from_memory)
{
	open_dev(false, 0);
	read_whole(&a, 1);
	cr_assert_eq(a.stats.bytes_read, FILE_SIZE);
	for (int i = 0; i < 3; i++)
		read_whole(&a, 1);
	cr_assert_eq(a.stats.bytes_read, FILE_SIZE,
		     "rereads went to the image: %llu bytes read",
		     (unsigned long long)a.stats.bytes_read);
	/* Another inode has its own cache, and does not take a's. */
	read_whole(&b, 2);
	cr_assert_eq(b.stats.bytes_read, FILE_SIZE);
	read_whole(&a, 1);
	read_whole(&b, 2);
	cr_assert_eq(a.stats.bytes_read + b.stats.bytes_read, 2 * FILE_SIZE);
}

Test(io_reread, writable_device_reads_again)
{
	open_dev(true, 0);
	read_whole(&a, 1);
	read_whole(&a, 1);
	cr_assert_eq(a.stats.bytes_read, 2 * FILE_SIZE,
		     "a writable device kept a closed file's cache");
}

Test(io_reread, changed_size_reads_again)
{
	static uint8_t got[FILE_SIZE], want[FILE_SIZE];
	const size_t size = FILE_SIZE - 4096;
	struct iomap_file *file;

	open_dev(false, 0);
	read_whole(&a, 1);
	a.inode.size = (loff_t)size;
	memfs_expected(&a, want, 1);
	cr_assert_eq(iomap_file_open(dev, &a.inode, &memfs_opset, &file), 0);
	cr_assert_eq(iomap_file_read(file, got, FILE_SIZE, 0), (ssize_t)size);
	cr_assert(!memcmp(got, want, size));
	cr_assert_eq(iomap_file_close(file), 0);
	cr_assert_eq(a.stats.bytes_read, FILE_SIZE + size,
		     "a parked cache was used for a different size");
}

/* Parked folios are on the device's LRU: other files' reads evict them. */
Test(io_reread, parked_cache_is_evicted_under_the_bound)
{
	open_dev(false, FILE_SIZE);
	read_whole(&a, 1);
	read_whole(&b, 2);
	read_whole(&a, 1);
	cr_assert_gt(a.stats.bytes_read, FILE_SIZE,
		     "a's folios survived a bound of one file");
}
