// SPDX-License-Identifier: GPL-2.0
/* ext2_write_test.c - the ext2 adapter's write side: allocation through the
 * write iomap_ops (driven here by a minimal engine), size changes,
 * preallocation, punching, new files; each checked with e2fsck -fn and
 * against the same operations on a host file. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/falloc.h>
#include <linux/fiemap.h>

#include <criterion/criterion.h>

#include "ext2_util.h"
#include "helpers.h"

enum wmode { W_BUFFERED, W_DIRECT, W_DAX };

struct ctx {
	char *dir;
	char img[512];
	char host[512];
	const char *type;
	unsigned int bs;
};

static void ctx_init(struct ctx *c, const char *type, unsigned int bs,
		     const char *size)
{
	c->dir = t_tmpdir();
	c->type = type;
	c->bs = bs;
	snprintf(c->img, sizeof(c->img), "%s/img", c->dir);
	snprintf(c->host, sizeof(c->host), "%s/host", c->dir);
	cr_assert_eq(t_sh("cd %s && mkdir src && echo hi > src/small && "
			  "mke2fs -q -F -t %s -b %u -d src img %s && : > host",
			  c->dir, type, bs, size), 0);
}

static void ctx_fini(struct ctx *c)
{
	t_tmpdir_remove(c->dir);
}

static void fsck(const struct ctx *c)
{
	char *out;
	int st = t_sh_out(&out, "e2fsck -fn %s 2>&1", c->img);

	cr_assert_eq(st, 0, "e2fsck -fn (%s %u):\n%s", c->type, c->bs, out);
	free(out);
}

/*
 * Write @len bytes at @pos the way the engine would: map with the write
 * ops, fill each block (zeros for NEW or UNWRITTEN, old bytes otherwise),
 * then complete (end_io for direct, writeback for buffered).
 */
static ssize_t mini_write(struct t_file *f, enum wmode mode, loff_t pos,
			  const char *buf, size_t len)
{
	const struct iomap_opset *os = fsa_ext2_ops.iomap;
	const struct iomap_ops *ops = mode == W_DIRECT ? os->direct_write :
				      mode == W_DAX    ? os->dax_write :
							 os->buffered_write;
	unsigned int flags = IOMAP_WRITE | (mode == W_DIRECT ? IOMAP_DIRECT : 0) |
			     (mode == W_DAX ? IOMAP_DAX : 0);
	struct iomap_iter it = { .inode = f->inode, .pos = pos, .len = len,
				 .flags = flags };
	uint64_t bs = iomap_blocksize(f->inode);
	char *blk = malloc(bs);
	bool unwritten = false;
	int fd = open(f->fs->path, O_RDWR), ret;

	cr_assert(fd >= 0 && blk);
	while ((ret = iomap_iter(&it, ops)) > 0) {
		uint64_t n = iomap_length(&it);
		loff_t b0 = it.pos & ~(loff_t)(bs - 1);

		cr_assert(it.iomap.type == IOMAP_MAPPED ||
			  it.iomap.type == IOMAP_UNWRITTEN, "write got type %u",
			  it.iomap.type);
		if (mode == W_DAX)
			cr_assert_eq(it.iomap.type, IOMAP_MAPPED);
		unwritten |= it.iomap.type == IOMAP_UNWRITTEN;
		for (loff_t b = b0; b < it.pos + (loff_t)n; b += (loff_t)bs) {
			loff_t s = b > it.pos ? b : it.pos;
			loff_t e = b + (loff_t)bs < it.pos + (loff_t)n ? b + (loff_t)bs :
									 it.pos + (loff_t)n;
			off_t a = (off_t)iomap_addr(&it.iomap, b);

			if (it.iomap.type == IOMAP_UNWRITTEN || (it.iomap.flags & IOMAP_F_NEW))
				memset(blk, 0, bs);
			else
				cr_assert_eq(pread(fd, blk, bs, a), (ssize_t)bs);
			memcpy(blk + (s - b), buf + (s - pos), (size_t)(e - s));
			cr_assert_eq(pwrite(fd, blk, bs, a), (ssize_t)bs);
		}
		if (mode == W_BUFFERED && it.pos + (loff_t)n > f->inode->size)
			f->inode->size = it.pos + (loff_t)n;
		it.status = iomap_iter_advance(&it, n);
	}
	close(fd);
	free(blk);
	if (ret < 0 && it.pos == pos)
		return ret;
	len = (size_t)(it.pos - pos);
	if (mode == W_DIRECT && os->dio->end_io)
		cr_assert_eq(os->dio->end_io(f->inode, pos, (ssize_t)len, 0,
					     unwritten ? IOMAP_DIO_UNWRITTEN : 0), 0);
	if (mode == W_BUFFERED && unwritten) {
		struct iomap_writepage_ctx wpc = { .inode = f->inode };
		struct iomap_ioend io = { .io_offset = pos, .io_size = len,
					  .io_flags = IOMAP_IOEND_UNWRITTEN };

		cr_assert_eq(os->writeback->map_blocks(&wpc, f->inode, pos, len), 0);
		cr_assert_eq(os->writeback->submit(&wpc, &io, 0), 0);
	}
	if (pos + (loff_t)len > f->inode->size)
		f->inode->size = pos + (loff_t)len;
	return (ssize_t)len;
}

/* The file's bytes as the read mappings say, against the host file. */
static void compare_host(struct t_file *f, const struct ctx *c)
{
	struct stat st;
	int hfd = open(c->host, O_RDONLY), fd = open(c->img, O_RDONLY), ret;
	struct iomap_iter it = { .inode = f->inode };
	char *got, *want;

	cr_assert(hfd >= 0 && fd >= 0 && fstat(hfd, &st) == 0);
	cr_assert_eq(f->inode->size, st.st_size, "size %lld vs host %lld",
		     (long long)f->inode->size, (long long)st.st_size);
	got = calloc(1, (size_t)st.st_size + 1);
	want = calloc(1, (size_t)st.st_size + 1);
	cr_assert_eq(pread(hfd, want, (size_t)st.st_size, 0), st.st_size);
	it.len = (uint64_t)st.st_size;
	while ((ret = iomap_iter(&it, fsa_ext2_ops.iomap->read)) > 0) {
		uint64_t n = iomap_length(&it);

		if (it.iomap.type == IOMAP_MAPPED)
			cr_assert_eq(pread(fd, got + it.pos, n,
					   (off_t)iomap_addr(&it.iomap, it.pos)), (ssize_t)n);
		else if (it.iomap.type == IOMAP_INLINE)
			memcpy(got + it.pos, (char *)it.iomap.inline_data + it.pos, n);
		it.status = iomap_iter_advance(&it, n);
	}
	cr_assert_eq(ret, 0);
	for (off_t i = 0; i < st.st_size; i++)
		cr_assert_eq(got[i], want[i], "byte %lld: %d vs host %d",
			     (long long)i, got[i], want[i]);
	free(got);
	free(want);
	close(hfd);
	close(fd);
}

static void host_pwrite(const struct ctx *c, loff_t pos, const char *buf, size_t len)
{
	int fd = open(c->host, O_RDWR);

	cr_assert(fd >= 0);
	cr_assert_eq(pwrite(fd, buf, len, pos), (ssize_t)len);
	close(fd);
}

/* Reopen: everything must come from the image, not from memory. */
static void reopen(struct t_file *f, const struct ctx *c, const char *path)
{
	t_close(f);
	fsck(c);
	t_open(f, c->img, path, 1);
}

static char *pattern(size_t len, int seed)
{
	char *b = malloc(len);

	for (size_t i = 0; i < len; i++)
		b[i] = (char)(seed + i * 7 + i / 251);
	return b;
}

static void write_case(const char *type, unsigned int bs)
{
	struct ctx c;
	struct t_file f;
	uint64_t root, ino;
	char *p = pattern(70100, 3);
	static const struct { enum wmode m; loff_t pos; size_t len; } w[] = {
		{ W_DIRECT, 3000, 10000 },	/* unaligned, into a hole */
		{ W_BUFFERED, 50000, 5000 },	/* past EOF, leaving a hole */
		{ W_DAX, 200000, 3 },		/* DAX, far past EOF */
		{ W_DIRECT, 0, 70000 },		/* over all of it */
		{ W_BUFFERED, 65000, 700 },	/* overwrite inside */
	};

	ctx_init(&c, type, bs, "16M");
	t_open(&f, c.img, NULL, 1);
	cr_assert_eq(fsa_ext2_ops.lookup(f.fs, "/", &root), 0);
	cr_assert_eq(fsa_ext2_ops.create(f.fs, root, "new", 0644, &ino), 0);
	cr_assert_eq(fsa_ext2_ops.create(f.fs, root, "new", 0644, &ino), -EEXIST);
	cr_assert_eq(fsa_ext2_ops.iget(f.fs, ino, &f.inode), 0);
	for (size_t i = 0; i < sizeof(w) / sizeof(w[0]); i++) {
		cr_assert_eq(mini_write(&f, w[i].m, w[i].pos, p + i, w[i].len),
			     (ssize_t)w[i].len, "write %zu", i);
		host_pwrite(&c, w[i].pos, p + i, w[i].len);
		reopen(&f, &c, "/new");
		compare_host(&f, &c);
	}
	t_close(&f);
	free(p);
	ctx_fini(&c);
}

Test(ext2_write, write_ext2_1k) { write_case("ext2", 1024); }
Test(ext2_write, write_ext3_4k) { write_case("ext3", 4096); }
Test(ext2_write, write_ext4_1k) { write_case("ext4", 1024); }
Test(ext2_write, write_ext4_4k) { write_case("ext4", 4096); }

TestSuite(ext2_write, .timeout = 120);
