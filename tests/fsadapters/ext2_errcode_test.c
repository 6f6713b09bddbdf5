// SPDX-License-Identifier: GPL-2.0
/*
 * ext2_errcode_test.c - libext2fs' own messages: its error table is
 * registered (codes translate), and what it prints through com_err() goes
 * through the adapter: nothing unless IOMAPCTL_DEBUG is set, then one
 * "iomapctl: ext2: " line.  The write sequence of the issue made 1.47.0's
 * fallocate print "Unknown code ext2 47" during a successful write.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <et/com_err.h>
#include <ext2fs/ext2fs.h>

#include "ext2_util.h"
#include "helpers.h"
#include "iomapctl/io.h"

TestSuite(ext2_errcode, .timeout = 120);

/* stderr goes to a file between begin and end; end returns its text. */
struct capture {
	char path[600];
	int saved;
};

static void capture_begin(struct capture *cap, const char *dir)
{
	int fd;

	snprintf(cap->path, sizeof(cap->path), "%s/stderr", dir);
	fflush(stderr);
	cap->saved = dup(2);
	fd = open(cap->path, O_CREAT | O_TRUNC | O_WRONLY, 0644);
	cr_assert(cap->saved >= 0 && fd >= 0);
	cr_assert_eq(dup2(fd, 2), 2);
	close(fd);
}

static char *capture_end(struct capture *cap)
{
	char *out;

	fflush(stderr);
	cr_assert_eq(dup2(cap->saved, 2), 2);
	close(cap->saved);
	cr_assert_eq(t_sh_out(&out, "cat %s", cap->path), 0);
	return out;
}

/* An open image, for the adapter to set up libext2fs' error reporting. */
static void open_image(struct t_file *f, char *dir)
{
	cr_assert_eq(t_sh("mke2fs -q -F -t ext4 -b 1024 %s/img 8M", dir), 0);
	{
		char img[600];

		snprintf(img, sizeof(img), "%s/img", dir);
		t_open(f, img, NULL, 0);
	}
}

Test(ext2_errcode, table_registered)
{
	char *dir = t_tmpdir();
	struct t_file f;

	open_image(&f, dir);
	cr_assert_str_eq(error_message(EXT2_ET_BAD_BLOCK_TEST),
			 "Illegal block number passed to "
			 "ext2fs_test_block_bitmap");
	t_close(&f);
	t_tmpdir_remove(dir);
}

/* What libext2fs prints itself, once the adapter is set up. */
static char *libext2fs_says(const char *debug)
{
	char *dir = t_tmpdir(), *out;
	struct capture cap;
	struct t_file f;

	if (debug)
		setenv("IOMAPCTL_DEBUG", debug, 1);
	else
		unsetenv("IOMAPCTL_DEBUG");
	open_image(&f, dir);
	capture_begin(&cap, dir);
	com_err(NULL, EXT2_ET_BAD_BLOCK_TEST, "#%d for %s", 25588,
		"block bitmap");
	out = capture_end(&cap);
	t_close(&f);
	t_tmpdir_remove(dir);
	return out;
}

Test(ext2_errcode, messages_hidden)
{
	char *out = libext2fs_says(NULL);

	cr_assert_str_empty(out, "printed: %s", out);
	free(out);
}

Test(ext2_errcode, messages_with_debug)
{
	char *out = libext2fs_says("1");

	cr_assert_str_eq(out,
			 "iomapctl: ext2: Illegal block number passed to "
			 "ext2fs_test_block_bitmap #25588 for block bitmap\n");
	free(out);
}

/* Whole blocks of [off, off + len) punched and preallocated, as zero. */
static void zero_blocks(struct t_file *f, uint64_t off, uint64_t len)
{
	uint64_t a = (off + 1023) / 1024 * 1024, b = (off + len) / 1024 * 1024;

	cr_assert_eq(fsa_ext2_ops.punch(f->inode, (loff_t)a, b - a), 0);
	cr_assert_eq(fsa_ext2_ops.falloc(f->inode, (loff_t)a, b - a, true), 0);
}

/*
 * The sequence: on libext2fs 1.47.0 its last write makes
 * fallocate try to merge two extents that are not physically in order;
 * the bitmap search it starts fails and is retried elsewhere.  The write
 * succeeds and nothing may be printed.
 */
Test(ext2_errcode, reported_write_is_quiet)
{
	char *dir = t_tmpdir(), img[600], *out, *buf;
	struct iomap_io_params p = { .path = IOMAP_IO_BUFFERED };
	uint64_t root, pos = 13402112, left = 3229418;
	struct iomap_dev *dev;
	struct iomap_file *file;
	struct capture cap;
	struct t_file f;

	unsetenv("IOMAPCTL_DEBUG");
	snprintf(img, sizeof(img), "%s/img", dir);
	cr_assert_eq(t_sh("mke2fs -q -F -t ext4 -b 1024 %s 64M", img), 0);
	t_open(&f, img, NULL, 1);
	cr_assert_eq(fsa_ext2_ops.lookup(f.fs, "/", &root), 0);
	cr_assert_eq(fsa_ext2_ops.create(f.fs, root, "f", 0644, &f.ino), 0);
	cr_assert_eq(fsa_ext2_ops.iget(f.fs, f.ino, &f.inode), 0);
	capture_begin(&cap, dir);
	zero_blocks(&f, 9430528, 2614982);
	zero_blocks(&f, 16265850, 2869533);
	cr_assert_eq(iomap_dev_open(img, true, &p, &dev), 0);
	cr_assert_eq(iomap_file_open(dev, f.inode, fsa_ext2_ops.iomap, &file),
		     0);
	buf = malloc(1 << 20);
	memset(buf, 0xcc, 1 << 20);
	while (left) {
		size_t n = left < (1 << 20) ? (size_t)left : (1 << 20);

		cr_assert_eq(iomap_file_write(file, buf, n, (loff_t)pos),
			     (ssize_t)n);
		pos += n;
		left -= n;
	}
	cr_assert_eq(iomap_file_close(file), 0);
	cr_assert_eq(iomap_dev_close(dev), 0);
	out = capture_end(&cap);
	t_close(&f);
	cr_assert_str_empty(out, "printed: %s", out);
	cr_assert_eq(t_sh("e2fsck -fn %s >/dev/null 2>&1", img), 0);
	free(out);
	free(buf);
	t_tmpdir_remove(dir);
}
