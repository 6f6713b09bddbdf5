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
			  c->dir, type, bs, size),
		     0);
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
	unsigned int flags = IOMAP_WRITE |
			     (mode == W_DIRECT ? IOMAP_DIRECT : 0) |
			     (mode == W_DAX ? IOMAP_DAX : 0);
	struct iomap_iter it = {
		.inode = f->inode, .pos = pos, .len = len, .flags = flags
	};
	uint64_t bs = iomap_blocksize(f->inode);
	char *blk = malloc(bs);
	bool unwritten = false;
	int fd = open(f->fs->path, O_RDWR), ret;

	cr_assert(fd >= 0 && blk);
	while ((ret = iomap_iter(&it, ops)) > 0) {
		uint64_t n = iomap_length(&it);
		loff_t b0 = it.pos & ~(loff_t)(bs - 1);

		cr_assert(it.iomap.type == IOMAP_MAPPED ||
				  it.iomap.type == IOMAP_UNWRITTEN,
			  "write got type %u", it.iomap.type);
		if (mode == W_DAX)
			cr_assert_eq(it.iomap.type, IOMAP_MAPPED);
		unwritten |= it.iomap.type == IOMAP_UNWRITTEN;
		for (loff_t b = b0; b < it.pos + (loff_t)n; b += (loff_t)bs) {
			loff_t s = b > it.pos ? b : it.pos;
			loff_t e = b + (loff_t)bs < it.pos + (loff_t)n ?
					   b + (loff_t)bs :
					   it.pos + (loff_t)n;
			off_t a = (off_t)iomap_addr(&it.iomap, b);

			if (it.iomap.type == IOMAP_UNWRITTEN ||
			    (it.iomap.flags & IOMAP_F_NEW))
				memset(blk, 0, bs);
			else
				cr_assert_eq(pread(fd, blk, bs, a),
					     (ssize_t)bs);
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
					     unwritten ? IOMAP_DIO_UNWRITTEN :
							 0),
			     0);
	if (mode == W_BUFFERED && unwritten) {
		struct iomap_writepage_ctx wpc = { .inode = f->inode };
		struct iomap_ioend io = { .io_offset = pos,
					  .io_size = len,
					  .io_flags = IOMAP_IOEND_UNWRITTEN };

		cr_assert_eq(
			os->writeback->map_blocks(&wpc, f->inode, pos, len), 0);
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
			cr_assert_eq(
				pread(fd, got + it.pos, n,
				      (off_t)iomap_addr(&it.iomap, it.pos)),
				(ssize_t)n);
		else if (it.iomap.type == IOMAP_INLINE)
			memcpy(got + it.pos,
			       (char *)it.iomap.inline_data + it.pos, n);
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

static void host_pwrite(const struct ctx *c, loff_t pos, const char *buf,
			size_t len)
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
	static const struct {
		enum wmode m;
		loff_t pos;
		size_t len;
	} w[] = {
		{ W_DIRECT, 3000, 10000 }, /* unaligned, into a hole */
		{ W_BUFFERED, 50000, 5000 }, /* past EOF, leaving a hole */
		{ W_DAX, 200000, 3 }, /* DAX, far past EOF */
		{ W_DIRECT, 0, 70000 }, /* over all of it */
		{ W_BUFFERED, 65000, 700 }, /* overwrite inside */
	};

	ctx_init(&c, type, bs, "16M");
	t_open(&f, c.img, NULL, 1);
	cr_assert_eq(fsa_ext2_ops.lookup(f.fs, "/", &root), 0);
	cr_assert_eq(fsa_ext2_ops.create(f.fs, root, "new", 0644, &ino), 0);
	cr_assert_eq(fsa_ext2_ops.create(f.fs, root, "new", 0644, &ino),
		     -EEXIST);
	cr_assert_eq(fsa_ext2_ops.iget(f.fs, ino, &f.inode), 0);
	for (size_t i = 0; i < sizeof(w) / sizeof(w[0]); i++) {
		cr_assert_eq(mini_write(&f, w[i].m, w[i].pos, p + i, w[i].len),
			     (ssize_t)w[i].len, "write %zu", i);
		host_pwrite(&c, w[i].pos, p + i, w[i].len);
		reopen(&f, &c, "/new");
		compare_host(&f, &c);
	}
	t_close(&f);
	/* The kernel must read what we wrote (checksums, extents, size). */
	if (t_can_loop_mount()) {
		cr_assert_eq(
			t_sh("cd %s && mkdir mnt && mount -o loop,ro img mnt",
			     c.dir),
			0);
		cr_expect_eq(t_sh("cmp %s/mnt/new %s", c.dir, c.host), 0,
			     "kernel reads other bytes");
		t_sh("umount %s/mnt", c.dir);
	}
	free(p);
	ctx_fini(&c);
}

Test(ext2_write, write_ext2_1k)
{
	write_case("ext2", 1024);
}
Test(ext2_write, write_ext3_4k)
{
	write_case("ext3", 4096);
}
Test(ext2_write, write_ext4_1k)
{
	write_case("ext4", 1024);
}
Test(ext2_write, write_ext4_4k)
{
	write_case("ext4", 4096);
}

TestSuite(ext2_write, .timeout = 120);

static uint64_t blocks_of(struct t_file *f)
{
	struct fsa_stat st;

	cr_assert_eq(fsa_ext2_ops.stat(f->fs, f->ino, &st), 0);
	return st.blocks;
}

static void host_op(const struct ctx *c, int mode, loff_t a, loff_t b)
{
	int fd = open(c->host, O_RDWR);

	cr_assert(fd >= 0);
	if (mode < 0)
		cr_assert_eq(ftruncate(fd, a), 0);
	else if (fallocate(fd, mode, a, b) != 0) {
		/* A host filesystem without punch: write the zeros. */
		char *z = calloc(1, (size_t)b);

		cr_assert(mode & FALLOC_FL_PUNCH_HOLE);
		cr_assert_eq(pwrite(fd, z, (size_t)b, a), b);
		free(z);
	}
	close(fd);
}

/* Kinds of the file's blocks: how many of each type the report sees. */
static void kinds(struct t_file *f, uint64_t *count)
{
	struct t_bmap m;

	memset(count, 0, 4 * sizeof(*count));
	cr_assert_eq(t_fiemap_bmap(f, &m, 0), 0);
	for (uint64_t i = 0; i < m.n; i++)
		count[m.kind[i]]++;
	t_bmap_free(&m);
}

static void size_case(const char *type, unsigned int bs)
{
	struct ctx c;
	struct t_file f;
	char *p = pattern(100000, 9);
	uint64_t before, k[4];
	bool ext4 = !strcmp(type, "ext4");

	ctx_init(&c, type, bs, "16M");
	t_open(&f, c.img, NULL, 1);
	{
		uint64_t root;

		cr_assert_eq(fsa_ext2_ops.lookup(f.fs, "/", &root), 0);
		cr_assert_eq(fsa_ext2_ops.create(f.fs, root, "f", 0600, &f.ino),
			     0);
		cr_assert_eq(fsa_ext2_ops.iget(f.fs, f.ino, &f.inode), 0);
	}
	cr_assert_eq(mini_write(&f, W_DIRECT, 0, p, 100000), 100000);
	host_pwrite(&c, 0, p, 100000);
	reopen(&f, &c, "/f");
	before = blocks_of(&f);

	/* shrink into the middle of a block: blocks freed, tail zero */
	cr_assert_eq(fsa_ext2_ops.setsize(f.inode, 40000), 0);
	host_op(&c, -1, 40000, 0);
	reopen(&f, &c, "/f");
	cr_assert_lt(blocks_of(&f), before);
	compare_host(&f, &c);
	/* grow: a hole, the old tail still zero */
	cr_assert_eq(fsa_ext2_ops.setsize(f.inode, 90000), 0);
	host_op(&c, -1, 90000, 0);
	reopen(&f, &c, "/f");
	compare_host(&f, &c);

	/* punch, unaligned edges zeroed, whole blocks freed */
	before = blocks_of(&f);
	cr_assert_eq(fsa_ext2_ops.punch(f.inode, 5000, 20000), 0);
	host_op(&c, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 5000, 20000);
	reopen(&f, &c, "/f");
	cr_assert_lt(blocks_of(&f), before);
	compare_host(&f, &c);
	{
		struct t_bmap m;

		cr_assert_eq(t_fiemap_bmap(&f, &m, 0), 0);
		for (uint64_t b = (5000 + bs - 1) / bs; b < 25000 / bs; b++)
			cr_assert_eq(m.kind[b], T_HOLE,
				     "block %llu not punched",
				     (unsigned long long)b);
		t_bmap_free(&m);
	}

	/* falloc over holes and past EOF: zeros, size as the host's */
	cr_assert_eq(fsa_ext2_ops.falloc(f.inode, 0, 120000, false), 0);
	host_op(&c, 0, 0, 120000);
	reopen(&f, &c, "/f");
	compare_host(&f, &c);
	kinds(&f, k);
	cr_assert_eq(k[T_HOLE], 0, "falloc left holes");
	if (ext4)
		cr_assert_gt(k[T_UNWRITTEN], 0);
	else
		cr_assert_eq(k[T_UNWRITTEN], 0);
	/* keep_size past EOF: unwritten extents on ext4, refused elsewhere */
	cr_assert_eq(fsa_ext2_ops.falloc(f.inode, 120000, 50000, true),
		     ext4 ? 0 : -EOPNOTSUPP);
	reopen(&f, &c, "/f");
	compare_host(&f, &c);
	/* writes into unwritten extents convert only what they cover */
	cr_assert_eq(mini_write(&f, W_BUFFERED, 30001, p, 10), 10);
	host_pwrite(&c, 30001, p, 10);
	cr_assert_eq(mini_write(&f, W_DAX, 60001, p, 10), 10);
	host_pwrite(&c, 60001, p, 10);
	reopen(&f, &c, "/f");
	compare_host(&f, &c);
	t_close(&f);
	free(p);
	ctx_fini(&c);
}

Test(ext2_write, size_ext2_1k)
{
	size_case("ext2", 1024);
}
Test(ext2_write, size_ext3_4k)
{
	size_case("ext3", 4096);
}
Test(ext2_write, size_ext4_1k)
{
	size_case("ext4", 1024);
}
Test(ext2_write, size_ext4_4k)
{
	size_case("ext4", 4096);
}

static int count_entries(const struct fsa_dirent *de, void *priv)
{
	(void)de;
	(*(int *)priv)++;
	return 0;
}

Test(ext2_write, mkdir_create_setattr)
{
	struct ctx c;
	struct t_file f;
	uint64_t root, d, sub, ino, got;
	struct fsa_stat st = { .mode = 0751,
			       .uid = 70000,
			       .gid = 1234,
			       .atime = { 1000000000, 5 },
			       .mtime = { 1200000000, 123456789 },
			       .ctime = { 1300000000, 0 } },
			back;
	int n = 0;
	char name[64];

	ctx_init(&c, "ext4", 1024, "16M");
	t_open(&f, c.img, NULL, 1);
	cr_assert_eq(fsa_ext2_ops.lookup(f.fs, "/", &root), 0);
	cr_assert_eq(fsa_ext2_ops.mkdir(f.fs, root, "d", 0700, &d), 0);
	cr_assert_eq(fsa_ext2_ops.mkdir(f.fs, root, "d", 0700, &d), -EEXIST);
	cr_assert_eq(fsa_ext2_ops.mkdir(f.fs, d, "sub", 0755, &sub), 0);
	cr_assert_eq(fsa_ext2_ops.create(f.fs, root, "a/b", 0644, &ino),
		     -EINVAL);
	cr_assert_eq(fsa_ext2_ops.create(f.fs, root, "", 0644, &ino), -EINVAL);
	cr_assert_eq(fsa_ext2_ops.create(f.fs, root, "..", 0644, &ino),
		     -EEXIST);
	/* Enough names to need more directory blocks than one. */
	for (int i = 0; i < 150; i++) {
		snprintf(name, sizeof(name), "file-with-a-long-name-%03d", i);
		cr_assert_eq(fsa_ext2_ops.create(f.fs, sub, name, 0644, &ino),
			     0);
	}
	cr_assert_eq(fsa_ext2_ops.setattr(f.fs, ino, &st), 0);
	t_close(&f);
	fsck(&c);
	t_open(&f, c.img, NULL, 0);
	cr_assert_eq(fsa_ext2_ops.lookup(
			     f.fs, "/d/sub/file-with-a-long-name-149", &got),
		     0);
	cr_assert_eq(got, ino);
	cr_assert_eq(fsa_ext2_ops.stat(f.fs, ino, &back), 0);
	cr_expect_eq(back.mode, 0100751);
	cr_expect_eq(back.uid, 70000);
	cr_expect_eq(back.gid, 1234);
	cr_expect_eq(back.mtime.tv_sec, 1200000000);
	cr_expect_eq(back.mtime.tv_nsec, 123456789);
	cr_expect_eq(back.atime.tv_nsec, 5);
	cr_assert_eq(fsa_ext2_ops.lookup(f.fs, "/d", &d), 0);
	cr_assert_eq(fsa_ext2_ops.stat(f.fs, d, &back), 0);
	cr_expect_eq(back.mode, 040700);
	cr_expect_eq(back.nlink, 3);
	cr_assert_eq(fsa_ext2_ops.readdir(f.fs, sub, count_entries, &n), 0);
	cr_expect_eq(n, 152);
	/* read-only handles refuse every mutation */
	cr_expect_eq(fsa_ext2_ops.create(f.fs, root, "ro", 0644, &ino), -EROFS);
	cr_expect_eq(fsa_ext2_ops.mkdir(f.fs, root, "ro", 0755, &ino), -EROFS);
	cr_expect_eq(fsa_ext2_ops.setattr(f.fs, ino, &st), -EROFS);
	t_close(&f);
	t_open(&f, c.img, "/small", 0);
	cr_expect_eq(fsa_ext2_ops.setsize(f.inode, 0), -EROFS);
	cr_expect_eq(fsa_ext2_ops.punch(f.inode, 0, 1), -EROFS);
	cr_expect_eq(fsa_ext2_ops.falloc(f.inode, 0, 1, false), -EROFS);
	t_close(&f);
	ctx_fini(&c);
}

/* Run out of space part way: the write is short or fails, never leaves
 * the image inconsistent, and what was written reads back. */
static void enospc_case(const char *type, enum wmode mode)
{
	struct ctx c;
	struct t_file f;
	uint64_t root;
	size_t len = 8 << 20;
	char *p = pattern(len, 1);
	ssize_t n;

	ctx_init(&c, type, 1024, "4M");
	t_open(&f, c.img, NULL, 1);
	cr_assert_eq(fsa_ext2_ops.lookup(f.fs, "/", &root), 0);
	cr_assert_eq(fsa_ext2_ops.create(f.fs, root, "big", 0644, &f.ino), 0);
	cr_assert_eq(fsa_ext2_ops.iget(f.fs, f.ino, &f.inode), 0);
	n = mini_write(&f, mode, 0, p, len);
	cr_assert(n == -ENOSPC || (n > 0 && (size_t)n < len), "write: %zd", n);
	if (n > 0)
		host_pwrite(&c, 0, p, (size_t)n);
	cr_assert_eq(fsa_ext2_ops.falloc(f.inode, 0, len, false), -ENOSPC);
	reopen(&f, &c, "/big");
	if (n > 0 && f.inode->size == n)
		compare_host(&f, &c);
	t_close(&f);
	fsck(&c);
	free(p);
	ctx_fini(&c);
}

Test(ext2_write, enospc_ext2_direct)
{
	enospc_case("ext2", W_DIRECT);
}
Test(ext2_write, enospc_ext4_buffered)
{
	enospc_case("ext4", W_BUFFERED);
}

/*
 * Fill a 1 MiB image to ENOSPC, then give the file back (unlink, or
 * truncate to 0 then unlink): the image is full, so the file owns the
 * filesystem's last block, which libext2fs 1.47.0's ext2fs_punch() took
 * out of the tree without freeing.  Every block must come back.
 */
static void enospc_remove_case(const char *type, enum wmode mode,
			       bool truncate)
{
	struct ctx c;
	struct t_file f;
	struct fsa_info before, after;
	uint64_t root;
	size_t len = 2 << 20, pos;
	char *p = pattern(len, 3);
	ssize_t n;

	ctx_init(&c, type, 1024, "1M");
	t_open(&f, c.img, NULL, 1);
	cr_assert_eq(fsa_ext2_ops.info(f.fs, &before), 0);
	cr_assert_eq(fsa_ext2_ops.lookup(f.fs, "/", &root), 0);
	cr_assert_eq(fsa_ext2_ops.create(f.fs, root, "big", 0644, &f.ino), 0);
	cr_assert_eq(fsa_ext2_ops.iget(f.fs, f.ino, &f.inode), 0);
	/* In 64 KiB writes, as the engine maps them: one 2 MiB request
	 * would fail whole, allocating nothing. */
	for (pos = 0; pos < len; pos += (size_t)n) {
		n = mini_write(&f, mode, (loff_t)pos, p + pos, 64 << 10);
		if (n != 64 << 10)
			break;
	}
	cr_assert(n == -ENOSPC || (n >= 0 && n < 64 << 10), "write: %zd", n);
	cr_assert_eq(fsa_ext2_ops.info(f.fs, &after), 0);
	cr_assert_lt(after.free_blocks, 8, "image not full");
	if (truncate)
		cr_assert_eq(fsa_ext2_ops.setsize(f.inode, 0), 0);
	fsa_ext2_ops.iput(f.inode);
	f.inode = NULL;
	cr_assert_eq(fsa_ext2_ops.unlink(f.fs, root, "big"), 0);
	cr_assert_eq(fsa_ext2_ops.info(f.fs, &after), 0);
	cr_expect_eq(after.free_blocks, before.free_blocks);
	t_close(&f);
	fsck(&c);
	free(p);
	ctx_fini(&c);
}

Test(ext2_write, enospc_remove_ext4_buffered)
{
	enospc_remove_case("ext4", W_BUFFERED, false);
}
Test(ext2_write, enospc_remove_ext4_direct)
{
	enospc_remove_case("ext4", W_DIRECT, false);
}
Test(ext2_write, enospc_remove_ext4_dax)
{
	enospc_remove_case("ext4", W_DAX, false);
}
Test(ext2_write, enospc_truncate_ext4_direct)
{
	enospc_remove_case("ext4", W_DIRECT, true);
}
Test(ext2_write, enospc_remove_ext2_direct)
{
	enospc_remove_case("ext2", W_DIRECT, false);
}

/*
 * Writeback converting the middle of an unwritten extent on a full image:
 * the split needs an extent block there is no room for.  The ioend fails,
 * and the extent is left whole and unwritten, still owning its blocks.
 */
Test(ext2_write, enospc_writeback_split_keeps_extent)
{
	struct ctx c;
	struct t_file f;
	struct iomap_writepage_ctx wpc = { 0 };
	const struct iomap_writeback_ops *wb = fsa_ext2_ops.iomap->writeback;
	struct fsa_info info;
	uint64_t root;
	int i, ret = 0;

	ctx_init(&c, "ext4", 1024, "1M");
	t_open(&f, c.img, NULL, 1);
	cr_assert_eq(fsa_ext2_ops.lookup(f.fs, "/", &root), 0);
	cr_assert_eq(fsa_ext2_ops.create(f.fs, root, "big", 0644, &f.ino), 0);
	cr_assert_eq(fsa_ext2_ops.iget(f.fs, f.ino, &f.inode), 0);
	/* Every free block, in one unwritten run. */
	cr_assert_eq(fsa_ext2_ops.info(f.fs, &info), 0);
	cr_assert_eq(fsa_ext2_ops.falloc(f.inode, 0, info.free_blocks << 10,
					 false),
		     0);
	cr_assert_eq(fsa_ext2_ops.info(f.fs, &info), 0);
	cr_assert_eq(info.free_blocks, 0);
	wpc.inode = f.inode;
	/* Islands in the unwritten run, each a split (two extents more),
	 * until the tree needs a block: ~84 extents fit a 1 KiB leaf. */
	for (i = 0; i < 140 && !ret; i++) {
		struct iomap_ioend io = { .io_offset = (loff_t)(60 + 6 * i)
						       << 10,
					  .io_size = 2 << 10,
					  .io_flags = IOMAP_IOEND_UNWRITTEN };

		ret = wb->submit(&wpc, &io, 0);
	}
	cr_expect_eq(ret, -ENOSPC, "i %d ret %d", i, ret);
	reopen(&f, &c, "/big");
	fsa_ext2_ops.iput(f.inode);
	f.inode = NULL;
	cr_assert_eq(fsa_ext2_ops.unlink(f.fs, root, "big"), 0);
	t_close(&f);
	fsck(&c);
	ctx_fini(&c);
}

/*
 * A direct write that fails after its blocks were mapped (ENOSPC later in
 * the same request, an I/O error): on ext2, without unwritten extents,
 * those blocks are written ones past EOF, and end_io must give them back.
 */
Test(ext2_write, failed_direct_write_ext2_frees_blocks)
{
	const struct iomap_opset *os = fsa_ext2_ops.iomap;
	struct fsa_info before, after;
	struct iomap_iter it = { .pos = 0,
				 .len = 64 << 10,
				 .flags = IOMAP_WRITE | IOMAP_DIRECT };
	struct ctx c;
	struct t_file f;
	uint64_t root;
	int ret;

	ctx_init(&c, "ext2", 1024, "4M");
	t_open(&f, c.img, NULL, 1);
	cr_assert_eq(fsa_ext2_ops.info(f.fs, &before), 0);
	cr_assert_eq(fsa_ext2_ops.lookup(f.fs, "/", &root), 0);
	cr_assert_eq(fsa_ext2_ops.create(f.fs, root, "f", 0644, &f.ino), 0);
	cr_assert_eq(fsa_ext2_ops.iget(f.fs, f.ino, &f.inode), 0);
	it.inode = f.inode;
	/* Map (and allocate) all of it, as the engine does before the I/O. */
	while ((ret = iomap_iter(&it, os->direct_write)) > 0)
		it.status = iomap_iter_advance(&it, iomap_length(&it));
	cr_assert_eq(ret, 0);
	cr_assert_eq(os->dio->end_io(f.inode, 0, 0, -EIO, 0), 0);
	t_close(&f);
	fsck(&c);
	t_open(&f, c.img, NULL, 1);
	cr_assert_eq(fsa_ext2_ops.info(f.fs, &after), 0);
	cr_expect_eq(after.free_blocks, before.free_blocks);
	t_close(&f);
	ctx_fini(&c);
}

/* Features we cannot write safely: read-only opens only. */
Test(ext2_write, refuse_unsafe_features)
{
	static const struct {
		const char *mkfs, *debugfs;
		int err;
	} t[] = {
		{ "-O casefold", NULL, -EROFS },
		{ "-O bigalloc", NULL, -EROFS },
		{ "-O encrypt", NULL, -EROFS },
		{ "-O verity", NULL, -EROFS },
		{ "-O quota", NULL, -EROFS },
		{ "", "feature needs_recovery", -EROFS },
	};
	char *dir = t_tmpdir();

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		char img[600];
		struct fsa_fs *fs;

		snprintf(img, sizeof(img), "%s/img%zu", dir, i);
		cr_assert_eq(t_sh("mke2fs -q -F -t ext4 %s %s 16M 2>/dev/null",
				  t[i].mkfs, img),
			     0);
		if (t[i].debugfs)
			cr_assert_eq(
				t_sh("debugfs -w -R '%s' %s >/dev/null 2>&1",
				     t[i].debugfs, img),
				0);
		cr_expect_eq(fsa_ext2_ops.open(img, FSA_OPEN_RDWR, NULL, &fs),
			     t[i].err, "%s%s", t[i].mkfs,
			     t[i].debugfs ? t[i].debugfs : "");
		cr_assert_eq(fsa_ext2_ops.open(img, 0, NULL, &fs), 0);
		cr_assert_eq(fsa_ext2_ops.close(fs), 0);
	}
	t_tmpdir_remove(dir);
}

/* get_block(create), the buffer-head write path: holes and unwritten
 * blocks come back NEW, MAPPED, zeroed, and the image stays clean. */
static void bh_case(const char *type)
{
	struct ctx c;
	struct t_file f;
	uint64_t root, k[4];
	char *p = pattern(4096, 5);
	int fd;

	ctx_init(&c, type, 1024, "16M");
	t_open(&f, c.img, NULL, 1);
	cr_assert_eq(fsa_ext2_ops.lookup(f.fs, "/", &root), 0);
	cr_assert_eq(fsa_ext2_ops.create(f.fs, root, "bh", 0644, &f.ino), 0);
	cr_assert_eq(fsa_ext2_ops.iget(f.fs, f.ino, &f.inode), 0);
	cr_assert_eq(fsa_ext2_ops.setsize(f.inode, 20480), 0);
	host_op(&c, -1, 20480, 0);
	if (!strcmp(type, "ext4"))
		cr_assert_eq(fsa_ext2_ops.falloc(f.inode, 8192, 4096, true), 0);
	fd = open(c.img, O_RDWR);
	cr_assert(fd >= 0);
	for (uint64_t b = 3; b < 20; b += 3) {
		struct iomap_bh bh = { .size = 1024 };

		cr_assert_eq(fsa_ext2_ops.iomap->get_block(f.inode, b, &bh, 1),
			     0);
		cr_assert(bh.state & IOMAP_BH_MAPPED);
		cr_assert(bh.state & IOMAP_BH_NEW);
		cr_assert(!(bh.state & IOMAP_BH_UNWRITTEN));
		cr_assert_eq(pwrite(fd, p + b, 100,
				    (off_t)(bh.blocknr * 1024 + 7)),
			     100);
		host_pwrite(&c, (loff_t)(b * 1024 + 7), p + b, 100);
	}
	close(fd);
	reopen(&f, &c, "/bh");
	compare_host(&f, &c);
	kinds(&f, k);
	cr_expect_eq(k[T_MAPPED], 6);
	t_close(&f);
	free(p);
	ctx_fini(&c);
}

Test(ext2_write, bh_create_ext2)
{
	bh_case("ext2");
}
Test(ext2_write, bh_create_ext4)
{
	bh_case("ext4");
}

/* Writes and truncates of inline-data files move the data to a block
 * when it no longer fits, as the kernel does. */
Test(ext2_write, inline_data)
{
	struct ctx c;
	struct t_file f;
	char *p = pattern(6000, 11);
	uint64_t k[4];

	c.dir = t_tmpdir();
	c.type = "ext4";
	c.bs = 4096;
	snprintf(c.img, sizeof(c.img), "%s/img", c.dir);
	snprintf(c.host, sizeof(c.host), "%s/host", c.dir);
	cr_assert_eq(
		t_sh("cd %s && mkdir src && printf 'inline bytes here' > src/a && "
		     "printf 'second inline file' > src/b && cp src/a host && "
		     "mke2fs -q -F -t ext4 -O inline_data -b 4096 -d src img 16M",
		     c.dir),
		0);
	t_open(&f, c.img, "/a", 1);
	kinds(&f, k);
	cr_assert_eq(k[T_INLINE], 1);
	cr_assert_eq(fsa_ext2_ops.setsize(f.inode, 6), 0);
	host_op(&c, -1, 6, 0);
	reopen(&f, &c, "/a");
	compare_host(&f, &c);
	cr_assert_eq(mini_write(&f, W_BUFFERED, 100, p, 6000), 6000);
	host_pwrite(&c, 100, p, 6000);
	reopen(&f, &c, "/a");
	compare_host(&f, &c);
	kinds(&f, k);
	cr_assert_eq(k[T_INLINE], 0);
	t_close(&f);
	/* grow past the inline area by truncate */
	snprintf(c.host, sizeof(c.host), "%s/src/b", c.dir);
	t_open(&f, c.img, "/b", 1);
	cr_assert_eq(fsa_ext2_ops.setsize(f.inode, 10000), 0);
	host_op(&c, -1, 10000, 0);
	reopen(&f, &c, "/b");
	compare_host(&f, &c);
	t_close(&f);
	fsck(&c);
	free(p);
	ctx_fini(&c);
}

/*
 * A write that starts in a hole and ends inside data: the allocation may
 * merge with the next extent, but only the hole may come back NEW (the
 * data after it must not be zeroed around the written bytes).
 */
static void hole_then_data_case(enum wmode mode)
{
	struct ctx c;
	struct t_file f;
	uint64_t root;
	char *p = pattern(40960, 21), *q = pattern(40960, 77);

	ctx_init(&c, "ext4", 4096, "16M");
	t_open(&f, c.img, NULL, 1);
	cr_assert_eq(fsa_ext2_ops.lookup(f.fs, "/", &root), 0);
	cr_assert_eq(fsa_ext2_ops.create(f.fs, root, "m", 0644, &f.ino), 0);
	cr_assert_eq(fsa_ext2_ops.iget(f.fs, f.ino, &f.inode), 0);
	cr_assert_eq(mini_write(&f, W_DIRECT, 0, p, 40960), 40960);
	host_pwrite(&c, 0, p, 40960);
	cr_assert_eq(fsa_ext2_ops.punch(f.inode, 3 * 4096, 2 * 4096), 0);
	host_op(&c, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 3 * 4096,
		2 * 4096);
	reopen(&f, &c, "/m");
	cr_assert_eq(mini_write(&f, mode, 3 * 4096 + 100, q, 3 * 4096),
		     3 * 4096);
	host_pwrite(&c, 3 * 4096 + 100, q, 3 * 4096);
	reopen(&f, &c, "/m");
	compare_host(&f, &c);
	t_close(&f);
	free(p);
	free(q);
	ctx_fini(&c);
}

Test(ext2_write, hole_then_data_dax)
{
	hole_then_data_case(W_DAX);
}
Test(ext2_write, hole_then_data_direct)
{
	hole_then_data_case(W_DIRECT);
}

/* Small appends: each allocates an unwritten extent converted on
 * completion and folded into the previous one, so the file stays a few
 * extents, and the cursor resumes instead of re-walking the file. */
static void append_case(enum wmode mode)
{
	struct ctx c;
	struct t_file f;
	uint64_t root;
	char *p = pattern(8192 * 64, 8);
	struct fiemap_extent fe[256];
	struct iomap_fiemap_info fi = { .fi_extents_max = 256,
					.fi_extents_start = fe };

	ctx_init(&c, "ext4", 4096, "16M");
	t_open(&f, c.img, NULL, 1);
	cr_assert_eq(fsa_ext2_ops.lookup(f.fs, "/", &root), 0);
	cr_assert_eq(fsa_ext2_ops.create(f.fs, root, "log", 0644, &f.ino), 0);
	cr_assert_eq(fsa_ext2_ops.iget(f.fs, f.ino, &f.inode), 0);
	for (int i = 0; i < 64; i++) {
		cr_assert_eq(mini_write(&f, mode, i * 8192, p + i * 8192, 8192),
			     8192);
		/* the mapping seen between writes must stay right */
		cr_assert_eq(iomap_bmap(f.inode, (uint64_t)i * 2,
					fsa_ext2_ops.iomap->report) != 0,
			     true);
	}
	host_pwrite(&c, 0, p, 8192 * 64);
	reopen(&f, &c, "/log");
	compare_host(&f, &c);
	cr_assert_eq(iomap_fiemap(f.inode, &fi, 0, FIEMAP_MAX_OFFSET, 0,
				  fsa_ext2_ops.iomap->report),
		     0);
	cr_expect_leq(fi.fi_extents_mapped, 4, "%u extents after 64 appends",
		      fi.fi_extents_mapped);
	t_close(&f);
	free(p);
	ctx_fini(&c);
}

Test(ext2_write, append_direct)
{
	append_case(W_DIRECT);
}
Test(ext2_write, append_buffered)
{
	append_case(W_BUFFERED);
}

/* Offsets past 4 GiB: 64-bit sizes, deep indirect blocks, high logical
 * blocks in the extent tree. */
static void big_offset_case(const char *type, unsigned int bs)
{
	struct ctx c;
	struct t_file f;
	uint64_t root, k[4];
	loff_t far = (5LL << 30) + 12345;
	char *p = pattern(9000, 4);

	ctx_init(&c, type, bs, "16M");
	t_open(&f, c.img, NULL, 1);
	cr_assert_eq(fsa_ext2_ops.lookup(f.fs, "/", &root), 0);
	cr_assert_eq(fsa_ext2_ops.create(f.fs, root, "big", 0644, &f.ino), 0);
	cr_assert_eq(fsa_ext2_ops.iget(f.fs, f.ino, &f.inode), 0);
	cr_assert_eq(mini_write(&f, W_BUFFERED, far, p, 9000), 9000);
	cr_assert_eq(mini_write(&f, W_DIRECT, 4096, p, 100), 100);
	reopen(&f, &c, "/big");
	cr_assert_eq(f.inode->size, far + 9000);
	cr_assert_eq(iomap_seek_data(f.inode, 8192, fsa_ext2_ops.iomap->report),
		     far & ~(loff_t)(bs - 1));
	cr_assert_eq(iomap_seek_hole(f.inode, far, fsa_ext2_ops.iomap->report),
		     far + 9000);
	kinds(&f, k);
	cr_expect_eq(k[T_MAPPED], 1 + (far % bs + 9000 + bs - 1) / bs);
	cr_assert_eq(fsa_ext2_ops.setsize(f.inode, far), 0);
	reopen(&f, &c, "/big");
	kinds(&f, k);
	cr_expect_eq(k[T_MAPPED], 1 + (far % bs ? 1 : 0));
	t_close(&f);
	free(p);
	ctx_fini(&c);
}

Test(ext2_write, big_offset_ext2_1k)
{
	big_offset_case("ext2", 1024);
}
Test(ext2_write, big_offset_ext4_4k)
{
	big_offset_case("ext4", 4096);
}

/* Symlinks: fast, inline and slow targets, a directory grown by them,
 * resolution and readlink afterwards. */
static void symlink_case(const char *type, const char *opts)
{
	struct ctx c;
	struct t_file f;
	uint64_t root, d, ino, got, want;
	char name[64], buf[1100], slow[200], huge[1100];

	c.dir = t_tmpdir();
	snprintf(c.img, sizeof(c.img), "%s/img", c.dir);
	cr_assert_eq(t_sh("cd %s && mkdir -p src/t && echo x > src/t/file && "
			  "mke2fs -q -F -t %s -b 1024 %s -d src img 16M",
			  c.dir, type, opts),
		     0);
	memset(slow, 'a', sizeof(slow));
	memcpy(slow, "/t/", 3);
	slow[150] = '\0';
	memset(huge, 'b', sizeof(huge));
	huge[sizeof(huge) - 1] = '\0';
	t_open(&f, c.img, NULL, 1);
	cr_assert_eq(fsa_ext2_ops.lookup(f.fs, "/", &root), 0);
	cr_assert_eq(fsa_ext2_ops.mkdir(f.fs, root, "d", 0755, &d), 0);
	cr_assert_eq(fsa_ext2_ops.symlink(f.fs, root, "fast", "t/file", &ino),
		     0);
	cr_assert_eq(fsa_ext2_ops.symlink(f.fs, root, "slow", slow, &ino), 0);
	cr_assert_eq(fsa_ext2_ops.symlink(f.fs, root, "huge", huge, &ino),
		     -ENAMETOOLONG);
	cr_assert_eq(fsa_ext2_ops.symlink(f.fs, root, "fast", "x", &ino),
		     -EEXIST);
	for (int i = 0; i < 120; i++) {
		snprintf(name, sizeof(name), "a-fairly-long-link-name-%03d", i);
		cr_assert_eq(fsa_ext2_ops.symlink(f.fs, d, name, "../t/file",
						  &ino),
			     0);
	}
	t_close(&f);
	fsck(&c);
	t_open(&f, c.img, NULL, 0);
	cr_assert_eq(fsa_ext2_ops.lookup(f.fs, "/t/file", &want), 0);
	cr_assert_eq(fsa_ext2_ops.lookup(f.fs, "/fast", &got), 0);
	cr_expect_eq(got, want);
	cr_assert_eq(fsa_ext2_ops.lookup(f.fs, "/d/a-fairly-long-link-name-119",
					 &got),
		     0);
	cr_expect_eq(got, want);
	cr_assert_eq(fsa_ext2_ops.lookup_link(f.fs, "/slow", &ino), 0);
	cr_assert_eq(fsa_ext2_ops.readlink(f.fs, ino, buf, sizeof(buf)), 0);
	cr_expect_str_eq(buf, slow);
	t_close(&f);
	if (t_can_loop_mount()) {
		cr_assert_eq(
			t_sh("cd %s && mkdir mnt && mount -o loop,ro img mnt",
			     c.dir),
			0);
		cr_expect_eq(
			t_sh("cd %s && test \"$(readlink mnt/slow)\" = '%s' && "
			     "cmp mnt/d/a-fairly-long-link-name-007 mnt/t/file",
			     c.dir, slow),
			0);
		t_sh("umount %s/mnt", c.dir);
	}
	t_tmpdir_remove(c.dir);
}

Test(ext2_write, symlink_ext2)
{
	symlink_case("ext2", "");
}
Test(ext2_write, symlink_ext4)
{
	symlink_case("ext4", "");
}
Test(ext2_write, symlink_ext4_inline)
{
	symlink_case("ext4", "-O inline_data");
}

struct xattrs {
	int n;
	char names[16][64];
	size_t lens[16];
};

static int collect_xattr(const char *name, const void *value, size_t len,
			 void *priv)
{
	struct xattrs *x = priv;

	(void)value;
	cr_assert_lt(x->n, 16);
	snprintf(x->names[x->n], 64, "%s", name);
	x->lens[x->n++] = len;
	return 0;
}

static ssize_t xattr_len(const struct xattrs *x, const char *name)
{
	for (int i = 0; i < x->n; i++)
		if (!strcmp(x->names[i], name))
			return (ssize_t)x->lens[i];
	return -1;
}

/* Extended attributes listed and set, in the inode and in an EA block;
 * inline data is not an attribute; no ext_attr feature, no attributes. */
Test(ext2_write, xattrs)
{
	struct ctx c;
	struct t_file f;
	struct xattrs x = { 0 };
	char big[3000], *out;

	memset(big, 'q', sizeof(big));
	c.dir = t_tmpdir();
	snprintf(c.img, sizeof(c.img), "%s/img", c.dir);
	cr_assert_eq(
		t_sh("cd %s && mkdir src && echo tiny > src/a && "
		     "mke2fs -q -F -t ext4 -O inline_data -I 256 -b 4096 -d src img 16M && "
		     "debugfs -w -R 'ea_set /a user.old value' img >/dev/null 2>&1 && "
		     "mke2fs -q -F -t ext2 -O ^ext_attr -d src noea 8M",
		     c.dir),
		0);
	t_open(&f, c.img, "/a", 1);
	cr_assert_eq(fsa_ext2_ops.listxattr(f.fs, f.ino, collect_xattr, &x), 0);
	cr_expect_eq(x.n, 1, "system.data must not be listed");
	cr_expect_eq(xattr_len(&x, "user.old"), 5);
	cr_assert_eq(fsa_ext2_ops.setxattr(f.fs, f.ino, "user.new", "12345678",
					   8),
		     0);
	cr_assert_eq(fsa_ext2_ops.setxattr(f.fs, f.ino, "user.big", big,
					   sizeof(big)),
		     0);
	cr_assert_eq(fsa_ext2_ops.setxattr(f.fs, f.ino, "user.old", "v2", 2),
		     0);
	cr_expect_eq(fsa_ext2_ops.setxattr(f.fs, f.ino, "system.data", "x", 1),
		     -EINVAL);
	t_close(&f);
	fsck(&c);
	t_open(&f, c.img, "/a", 0);
	x.n = 0;
	cr_assert_eq(fsa_ext2_ops.listxattr(f.fs, f.ino, collect_xattr, &x), 0);
	cr_expect_eq(x.n, 3);
	cr_expect_eq(xattr_len(&x, "user.new"), 8);
	cr_expect_eq(xattr_len(&x, "user.big"), 3000);
	cr_expect_eq(xattr_len(&x, "user.old"), 2);
	cr_expect_eq(fsa_ext2_ops.setxattr(f.fs, f.ino, "user.ro", "x", 1),
		     -EROFS);
	t_close(&f);
	cr_assert_eq(t_sh_out(&out,
			      "debugfs -R 'ea_get /a user.new' %s 2>/dev/null",
			      c.img),
		     0);
	cr_expect(strstr(out, "12345678") != NULL, "debugfs sees: %s", out);
	free(out);
	snprintf(c.img, sizeof(c.img), "%s/noea", c.dir);
	t_open(&f, c.img, "/a", 1);
	x.n = 0;
	cr_expect_eq(fsa_ext2_ops.listxattr(f.fs, f.ino, collect_xattr, &x), 0);
	cr_expect_eq(x.n, 0);
	cr_expect_eq(fsa_ext2_ops.setxattr(f.fs, f.ino, "user.a", "b", 1),
		     -EOPNOTSUPP);
	t_close(&f);
	t_tmpdir_remove(c.dir);
}

/*
 * A mutation in the middle of a many-leaf extent tree, right after a run
 * that starts a leaf: the cursor keeps the runs before it and resumes the
 * walk there, and must still see every later leaf.
 */
Test(ext2_write, resume_mid_tree)
{
	struct ctx c;
	struct t_file f;
	struct t_bmap before, after, fresh;
	char *out;
	unsigned long long key = 0;
	int n = 0;

	c.dir = t_tmpdir();
	snprintf(c.img, sizeof(c.img), "%s/img", c.dir);
	cr_assert_eq(
		t_sh("cd %s && mkdir src && head -c 2M /dev/zero | tr '\\0' z > src/f && "
		     "mke2fs -q -F -t ext4 -b 1024 -d src img 16M && "
		     "for i in $(seq 1 2 2047); do echo \"punch /f $i $i\"; done > cmds && "
		     "debugfs -w -f cmds img >/dev/null 2>&1",
		     c.dir),
		0);
	/* the logical start of the third leaf */
	cr_assert_eq(t_sh_out(&out,
			      "debugfs -R 'ex /f' %s 2>/dev/null | "
			      "awk '{ split($1, l, \"/\"); "
			      "if ($2 > 0 && l[1] + 1 == $2) print $5 }'",
			      c.img),
		     0);
	for (char *s = strtok(out, "\n"); s; s = strtok(NULL, "\n"))
		if (++n == 3)
			key = strtoull(s, NULL, 10);
	free(out);
	cr_assert_geq(n, 4, "want a tree of 4+ leaves, got %d", n);
	t_open(&f, c.img, "/f", 1);
	cr_assert_eq(t_fiemap_bmap(&f, &before, 0), 0);
	/* punch the extent after the leaf's first one */
	cr_assert_eq(
		fsa_ext2_ops.punch(f.inode, (loff_t)(key + 2) * 1024, 1024), 0);
	before.kind[key + 2] = T_HOLE;
	before.pblk[key + 2] = 0;
	cr_assert_eq(t_fiemap_bmap(&f, &after, 0), 0);
	cr_assert_eq(t_bmap_diff(&before, &after), -1,
		     "resumed walk differs at block %lld (leaf key %llu)",
		     (long long)t_bmap_diff(&before, &after), key);
	reopen(&f, &c, "/f");
	cr_assert_eq(t_fiemap_bmap(&f, &fresh, 0), 0);
	cr_assert_eq(t_bmap_diff(&before, &fresh), -1);
	t_bmap_free(&before);
	t_bmap_free(&after);
	t_bmap_free(&fresh);
	t_close(&f);
	t_tmpdir_remove(c.dir);
}

/* unlink: names go, inodes and blocks with the last link, nothing leaks. */
static void unlink_case(const char *type, const char *opts)
{
	struct ctx c;
	struct t_file f;
	struct fsa_info before, after;
	uint64_t root, ino, a, b;
	char *p = pattern(300000, 2), big[2000], slow[200];

	memset(big, 'e', sizeof(big));
	memset(slow, 's', sizeof(slow));
	slow[sizeof(slow) - 1] = '\0';
	c.dir = t_tmpdir();
	snprintf(c.img, sizeof(c.img), "%s/img", c.dir);
	cr_assert_eq(
		t_sh("cd %s && mkdir -p src/d && echo one > src/a && ln src/a src/b && "
		     "echo tiny > src/tiny && mke2fs -q -F -t %s -b 4096 %s -d src img 16M",
		     c.dir, type, opts),
		0);
	t_open(&f, c.img, NULL, 1);
	cr_assert_eq(fsa_ext2_ops.info(f.fs, &before), 0);
	cr_assert_eq(fsa_ext2_ops.lookup(f.fs, "/", &root), 0);
	cr_assert_eq(fsa_ext2_ops.create(f.fs, root, "data", 0644, &f.ino), 0);
	cr_assert_eq(fsa_ext2_ops.iget(f.fs, f.ino, &f.inode), 0);
	cr_assert_eq(mini_write(&f, W_DIRECT, 4096, p, 300000), 300000);
	cr_assert_eq(fsa_ext2_ops.setxattr(f.fs, f.ino, "user.big", big,
					   sizeof(big)),
		     0);
	fsa_ext2_ops.iput(f.inode);
	f.inode = NULL;
	cr_assert_eq(fsa_ext2_ops.symlink(f.fs, root, "fast", "a", &ino), 0);
	cr_assert_eq(fsa_ext2_ops.symlink(f.fs, root, "slow", slow, &ino), 0);
	cr_assert_eq(fsa_ext2_ops.unlink(f.fs, root, "data"), 0);
	cr_assert_eq(fsa_ext2_ops.unlink(f.fs, root, "fast"), 0);
	cr_assert_eq(fsa_ext2_ops.unlink(f.fs, root, "slow"), 0);
	cr_assert_eq(fsa_ext2_ops.unlink(f.fs, root, "tiny"), 0);
	cr_assert_eq(fsa_ext2_ops.unlink(f.fs, root, "data"), -ENOENT);
	cr_assert_eq(fsa_ext2_ops.unlink(f.fs, root, "d"), -EISDIR);
	cr_assert_eq(fsa_ext2_ops.lookup(f.fs, "/a", &a), 0);
	cr_assert_eq(fsa_ext2_ops.unlink(f.fs, root, "a"), 0);
	cr_assert_eq(fsa_ext2_ops.lookup(f.fs, "/b", &b), 0);
	cr_assert_eq(a, b);
	t_close(&f);
	fsck(&c);
	t_open(&f, c.img, "/b", 1);
	{
		struct fsa_stat st;

		cr_assert_eq(fsa_ext2_ops.stat(f.fs, f.ino, &st), 0);
		cr_expect_eq(st.nlink, 1);
		cr_expect_eq(st.size, 4);
	}
	cr_assert_eq(fsa_ext2_ops.info(f.fs, &after), 0);
	/* everything made since, and tiny, is free again */
	cr_expect_geq(after.free_blocks, before.free_blocks);
	cr_assert_eq(fsa_ext2_ops.lookup(f.fs, "/", &root), 0);
	cr_assert_eq(fsa_ext2_ops.unlink(f.fs, root, "b"), 0);
	t_close(&f);
	fsck(&c);
	free(p);
	t_tmpdir_remove(c.dir);
}

Test(ext2_write, unlink_ext2)
{
	unlink_case("ext2", "");
}
Test(ext2_write, unlink_ext4)
{
	unlink_case("ext4", "");
}
Test(ext2_write, unlink_ext4_inline)
{
	unlink_case("ext4", "-O inline_data");
}

static int count_ex_lines(const struct ctx *c, const char *path, int *uninit)
{
	char *out;
	int n = 0;

	cr_assert_eq(t_sh_out(&out, "debugfs -R 'ex %s' %s 2>/dev/null", path,
			      c->img),
		     0);
	*uninit = 0;
	for (char *s = strtok(out, "\n"); s; s = strtok(NULL, "\n")) {
		int lvl, max;

		if (sscanf(s, "%d/%d", &lvl, &max) == 2 && lvl == max) {
			n++;
			*uninit += strstr(s, "Uninit") != NULL;
		}
	}
	free(out);
	return n;
}

/*
 * Writeback converting part of a large unwritten extent splits it in
 * three (head, written middle, tail) and merges the next written piece
 * into the middle: the tree stays 3 extents, not one per block.
 */
Test(ext2_write, convert_middle_of_unwritten)
{
	struct ctx c;
	struct t_file f;
	uint64_t root;
	char *p = pattern(400 * 4096, 6);
	int uninit;

	ctx_init(&c, "ext4", 4096, "16M");
	t_open(&f, c.img, NULL, 1);
	cr_assert_eq(fsa_ext2_ops.lookup(f.fs, "/", &root), 0);
	cr_assert_eq(fsa_ext2_ops.create(f.fs, root, "u", 0644, &f.ino), 0);
	cr_assert_eq(fsa_ext2_ops.iget(f.fs, f.ino, &f.inode), 0);
	cr_assert_eq(fsa_ext2_ops.falloc(f.inode, 0, 1000 * 4096, false), 0);
	host_op(&c, -1, 1000 * 4096, 0);
	reopen(&f, &c, "/u");
	cr_assert_eq(count_ex_lines(&c, "/u", &uninit), 1);
	cr_assert_eq(mini_write(&f, W_BUFFERED, 300 * 4096, p, 200 * 4096),
		     200 * 4096);
	host_pwrite(&c, 300 * 4096, p, 200 * 4096);
	reopen(&f, &c, "/u");
	cr_expect_eq(count_ex_lines(&c, "/u", &uninit), 3);
	cr_expect_eq(uninit, 2);
	cr_assert_eq(mini_write(&f, W_BUFFERED, 500 * 4096, p + 7, 100 * 4096),
		     100 * 4096);
	host_pwrite(&c, 500 * 4096, p + 7, 100 * 4096);
	reopen(&f, &c, "/u");
	cr_expect_eq(count_ex_lines(&c, "/u", &uninit), 3,
		     "written pieces merged");
	cr_expect_eq(uninit, 2);
	compare_host(&f, &c);
	t_close(&f);
	free(p);
	ctx_fini(&c);
}
