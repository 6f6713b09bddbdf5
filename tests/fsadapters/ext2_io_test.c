// SPDX-License-Identifier: GPL-2.0
/* ext2_io_test.c - the engine's data paths (buffered, direct, DAX; iomap
 * and buffer-head mappers) reading and writing ext2/ext4 images through
 * the adapter's ops: bytes, e2fsck -fn, and the kernel's view. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "ext2_util.h"
#include "helpers.h"
#include "iomapctl/io.h"

TestSuite(ext2_io, .timeout = 120);

#define DATA_LEN (300 * 1024 + 123)
#define WRITE_LEN (256 * 1024)

static uint8_t *abuf(size_t len)
{
	void *p = NULL;

	cr_assert_eq(posix_memalign(&p, 4096, len), 0);
	memset(p, 0, len);
	return p;
}

static void read_all(struct iomap_file *file, uint8_t *buf, loff_t size)
{
	loff_t pos = 0;

	while (pos < size) {
		ssize_t n = iomap_file_read(file, buf + pos, 64 * 1024, pos);

		cr_assert_gt(n, 0, "read at %lld: %zd", (long long)pos, n);
		pos += n;
	}
}

/* Writes: unaligned for buffered and DAX, 4 KiB-aligned for direct. */
static void do_writes(struct iomap_file *file, uint8_t *shadow,
		      enum iomap_io_path path)
{
	static const struct {
		loff_t pos;
		size_t len;
	} w[] = {
		{ 8192, 16384 },	   { 100 * 1024, 8192 }, { 0, 4096 },
		{ 200 * 1024, 56 * 1024 }, { 12288, 4096 },
	};
	uint8_t *src = abuf(64 * 1024);

	for (size_t i = 0; i < sizeof(w) / sizeof(w[0]); i++) {
		loff_t pos = w[i].pos +
			     (path == IOMAP_IO_DIRECT ? 0 : 7 * (loff_t)i);
		size_t len = w[i].len - (path == IOMAP_IO_DIRECT ? 0 : 3 * i);

		for (size_t j = 0; j < len; j++)
			src[j] = (uint8_t)(i * 31 + j * 7 + 1);
		cr_assert_eq(iomap_file_write(file, src, len, pos),
			     (ssize_t)len, "write %zu", i);
		memcpy(shadow + pos, src, len);
	}
	free(src);
}

static void io_case(const char *type, unsigned int bs, enum iomap_io_path path,
		    enum iomap_mapper mapper)
{
	char *d = t_tmpdir();
	char img[512], host[512];
	struct iomap_io_params p = { .path = path,
				     .mapper = mapper,
				     .max_folio_order = 2 };
	struct iomap_dev *dev;
	struct iomap_file *file;
	struct t_file f;
	uint8_t *want = abuf(DATA_LEN), *got = abuf(DATA_LEN + 8192);
	uint8_t *shadow = abuf(WRITE_LEN + 4096);
	uint64_t root;
	loff_t size = 0;
	FILE *fp;
	int ret;

	snprintf(img, sizeof(img), "%s/img", d);
	snprintf(host, sizeof(host), "%s/host", d);
	cr_assert_eq(
		t_sh("cd %s && mkdir src && head -c %d /dev/urandom > src/data && "
		     "mke2fs -q -F -t %s -b %u -d src img 32M",
		     d, DATA_LEN, type, bs),
		0);
	t_open(&f, img, "/data", 1);
	ret = iomap_dev_open(img, true, &p, &dev);
	if (ret == -EOPNOTSUPP && path == IOMAP_IO_DAX) {
		t_close(&f);
		t_tmpdir_remove(d);
		cr_skip_test("DAX unavailable here");
	}
	cr_assert_eq(ret, 0, "dev open: %d", ret);

	/* read an existing file */
	cr_assert_eq(iomap_file_open(dev, f.inode, fsa_ext2_ops.iomap, &file),
		     0);
	read_all(file, got, DATA_LEN);
	cr_assert_eq(iomap_file_read(file, got, 4096, DATA_LEN), 0);
	snprintf(host, sizeof(host), "%s/src/data", d);
	fp = fopen(host, "r");
	cr_assert_eq(fread(want, 1, DATA_LEN, fp), (size_t)DATA_LEN);
	fclose(fp);
	cr_assert(memcmp(got, want, DATA_LEN) == 0, "read bytes differ");
	cr_assert_eq(iomap_file_close(file), 0);
	fsa_ext2_ops.iput(f.inode);
	f.inode = NULL;

	/* write a new one */
	cr_assert_eq(fsa_ext2_ops.lookup(f.fs, "/", &root), 0);
	cr_assert_eq(fsa_ext2_ops.create(f.fs, root, "w", 0644, &f.ino), 0);
	cr_assert_eq(fsa_ext2_ops.iget(f.fs, f.ino, &f.inode), 0);
	cr_assert_eq(iomap_file_open(dev, f.inode, fsa_ext2_ops.iomap, &file),
		     0);
	do_writes(file, shadow, path);
	size = f.inode->size;
	cr_assert_eq(size, 256 * 1024 + (path == IOMAP_IO_DIRECT ? 0 : 7 * 3) -
				   (path == IOMAP_IO_DIRECT ? 0 : 9));
	read_all(file, got, size);
	cr_assert(memcmp(got, shadow, (size_t)size) == 0,
		  "written bytes differ");
	cr_assert_eq(iomap_file_close(file), 0);
	cr_assert_eq(iomap_dev_close(dev), 0);
	t_close(&f);
	cr_assert_eq(t_sh("e2fsck -fn %s >/dev/null 2>&1", img), 0, "e2fsck");

	/* reopened, through the engine again and through the kernel */
	snprintf(host, sizeof(host), "%s/host", d);
	fp = fopen(host, "w");
	cr_assert_eq(fwrite(shadow, 1, (size_t)size, fp), (size_t)size);
	fclose(fp);
	if (t_can_loop_mount()) {
		cr_assert_eq(
			t_sh("cd %s && mkdir mnt && mount -o loop,ro img mnt",
			     d),
			0);
		cr_expect_eq(t_sh("cmp %s/mnt/w %s", d, host), 0,
			     "kernel reads other bytes");
		t_sh("umount %s/mnt", d);
	}
	free(want);
	free(got);
	free(shadow);
	t_tmpdir_remove(d);
}

#define IO_TEST(fs, bs, path, mapper)                                     \
	Test(ext2_io, fs##_##bs##_##path##_##mapper)                      \
	{                                                                 \
		io_case(#fs, bs, IOMAP_IO_##path, IOMAP_MAPPER_##mapper); \
	}

IO_TEST(ext2, 1024, BUFFERED, IOMAP)
IO_TEST(ext2, 1024, DIRECT, IOMAP)
IO_TEST(ext2, 1024, DAX, IOMAP)
IO_TEST(ext2, 1024, BUFFERED, BH)
IO_TEST(ext4, 4096, BUFFERED, IOMAP)
IO_TEST(ext4, 4096, DIRECT, IOMAP)
IO_TEST(ext4, 4096, DAX, IOMAP)
IO_TEST(ext4, 4096, BUFFERED, BH)
IO_TEST(ext4, 4096, DIRECT, BH)
IO_TEST(ext4, 1024, BUFFERED, IOMAP)
