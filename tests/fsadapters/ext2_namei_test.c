// SPDX-License-Identifier: GPL-2.0
/* ext2_namei_test.c - rmdir, rename, link, getxattr and removexattr of the
 * ext2 adapter: each image e2fsck -fn clean afterwards, names and link
 * counts checked with debugfs. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "ext2_util.h"
#include "helpers.h"

struct nctx {
	char *dir;
	char img[512];
	struct t_file f;
};

/* src/: a/ (f, g), b/ (sub/), e/ (empty), file, hard (= file), big (3 blocks). */
static void nctx_init(struct nctx *c, const char *type, const char *opts)
{
	c->dir = t_tmpdir();
	snprintf(c->img, sizeof(c->img), "%s/img", c->dir);
	cr_assert_eq(t_sh("cd %s && mkdir -p src/a src/b/sub src/e && "
			  "echo f > src/a/f && echo g > src/a/g && "
			  "echo one > src/file && ln src/file src/hard && "
			  "head -c 12288 /dev/urandom > src/big && "
			  "mke2fs -q -F -t %s -b 1024 %s -d src img 8M",
			  c->dir, type, opts),
		     0);
	t_open(&c->f, c->img, NULL, 1);
}

static void nctx_fsck(struct nctx *c)
{
	char *out;
	int st;

	t_close(&c->f);
	st = t_sh_out(&out, "e2fsck -fn %s 2>&1", c->img);
	cr_assert_eq(st, 0, "e2fsck -fn:\n%s", out);
	free(out);
	t_open(&c->f, c->img, NULL, 1);
}

static void nctx_fini(struct nctx *c)
{
	nctx_fsck(c);
	t_close(&c->f);
	t_tmpdir_remove(c->dir);
}

static uint64_t ino_of(struct nctx *c, const char *path)
{
	uint64_t ino = 0;
	int ret = fsa_ext2_ops.lookup_link(c->f.fs, path, &ino);

	cr_assert_eq(ret, 0, "lookup %s: %s", path, strerror(-ret));
	return ino;
}

static uint32_t nlink_of(struct nctx *c, const char *path)
{
	struct fsa_stat st;

	cr_assert_eq(fsa_ext2_ops.stat(c->f.fs, ino_of(c, path), &st), 0);
	return st.nlink;
}

static int lookup_err(struct nctx *c, const char *path)
{
	uint64_t ino;

	return fsa_ext2_ops.lookup_link(c->f.fs, path, &ino);
}

/* debugfs' view of a path: "ino links" from `stat`, or "" when absent. */
static void debugfs_expect(struct nctx *c, const char *path, uint64_t ino,
			   unsigned int links)
{
	char *out, want[64];

	t_close(&c->f);
	cr_assert_eq(t_sh_out(&out,
			      "debugfs -R 'stat %s' %s 2>&1 | "
			      "grep -o 'Inode: [0-9]*\\|Links: [0-9]*' | "
			      "tr '\\n' ' '",
			      path, c->img),
		     0);
	snprintf(want, sizeof(want), "Inode: %llu Links: %u ",
		 (unsigned long long)ino, links);
	cr_expect_str_eq(out, want, "debugfs stat %s", path);
	free(out);
	t_open(&c->f, c->img, NULL, 1);
}

static void rename_case(const char *type, const char *opts)
{
	struct nctx c;
	uint64_t root, a, b, e, file, big, sub;
	struct fsa_info before, after;

	nctx_init(&c, type, opts);
	root = ino_of(&c, "/");
	a = ino_of(&c, "/a");
	b = ino_of(&c, "/b");
	e = ino_of(&c, "/e");
	file = ino_of(&c, "/file");
	big = ino_of(&c, "/big");
	sub = ino_of(&c, "/b/sub");
	const struct fsa_ops *o = &fsa_ext2_ops;

	/* errors change nothing */
	cr_expect_eq(o->rename(c.f.fs, root, "nope", root, "x", 0), -ENOENT);
	cr_expect_eq(o->rename(c.f.fs, root, "a", a, "into", 0), -EINVAL);
	cr_expect_eq(o->rename(c.f.fs, root, "b", sub, "deeper", 0), -EINVAL);
	cr_expect_eq(o->rename(c.f.fs, root, "a", root, "b", 0), -ENOTEMPTY);
	cr_expect_eq(o->rename(c.f.fs, root, "a", root, "file", 0), -ENOTDIR);
	cr_expect_eq(o->rename(c.f.fs, root, "file", root, "e", 0), -EISDIR);
	cr_expect_eq(o->rename(c.f.fs, root, "file", root, "big",
			       FSA_RENAME_NOREPLACE),
		     -EEXIST);
	cr_expect_eq(o->rename(c.f.fs, root, "file", root, "x",
			       FSA_RENAME_EXCHANGE),
		     -EINVAL);
	cr_expect_eq(o->rename(c.f.fs, root, ".", root, "x", 0), -EINVAL);
	/* two names of one inode: nothing happens */
	cr_expect_eq(o->rename(c.f.fs, root, "file", root, "hard", 0), 0);
	cr_expect_eq(nlink_of(&c, "/hard"), 2);
	nctx_fsck(&c);

	/* in one directory, then across, then replacing a file */
	cr_assert_eq(o->rename(c.f.fs, root, "file", root, "renamed", 0), 0);
	cr_expect_eq(lookup_err(&c, "/file"), -ENOENT);
	cr_expect_eq(ino_of(&c, "/renamed"), file);
	cr_assert_eq(o->rename(c.f.fs, root, "renamed", a, "moved", 0), 0);
	cr_expect_eq(ino_of(&c, "/a/moved"), file);
	cr_assert_eq(o->info(c.f.fs, &before), 0);
	cr_assert_eq(o->rename(c.f.fs, a, "f", root, "big", 0), 0);
	cr_assert_eq(o->info(c.f.fs, &after), 0);
	cr_expect_geq(after.free_blocks, before.free_blocks + 12,
		      "the replaced file's blocks are freed");
	cr_expect_neq(ino_of(&c, "/big"), big);
	/* replacing one of two links only drops a link */
	cr_assert_eq(o->rename(c.f.fs, root, "big", a, "moved", 0), 0);
	cr_expect_eq(nlink_of(&c, "/hard"), 1);
	nctx_fsck(&c);

	/* a directory across parents: "..", both link counts */
	cr_assert_eq(o->rename(c.f.fs, b, "sub", a, "sub2", 0), 0);
	cr_expect_eq(ino_of(&c, "/a/sub2/.."), a);
	cr_expect_eq(nlink_of(&c, "/a"), 3);
	cr_expect_eq(nlink_of(&c, "/b"), 2);
	/* a directory over an empty one */
	cr_assert_eq(o->rename(c.f.fs, a, "sub2", root, "e", 0), 0);
	cr_expect_eq(ino_of(&c, "/e"), sub);
	cr_expect_eq(ino_of(&c, "/e/.."), root);
	cr_expect_eq(nlink_of(&c, "/a"), 2);
	nctx_fsck(&c);
	debugfs_expect(&c, "/e", sub, 2);
	debugfs_expect(&c, "/hard", file, 1);
	(void)e;
	nctx_fini(&c);
}

Test(ext2_namei, rename_ext2)
{
	rename_case("ext2", "");
}
Test(ext2_namei, rename_ext4)
{
	rename_case("ext4", "");
}
Test(ext2_namei, rename_ext4_inline)
{
	rename_case("ext4", "-O inline_data -I 256");
}

static void rmdir_link_case(const char *type, const char *opts)
{
	const struct fsa_ops *o = &fsa_ext2_ops;
	struct nctx c;
	uint64_t root, a, b, file;

	nctx_init(&c, type, opts);
	root = ino_of(&c, "/");
	a = ino_of(&c, "/a");
	b = ino_of(&c, "/b");
	file = ino_of(&c, "/file");
	cr_expect_eq(o->rmdir(c.f.fs, root, "a"), -ENOTEMPTY);
	cr_expect_eq(o->rmdir(c.f.fs, root, "file"), -ENOTDIR);
	cr_expect_eq(o->rmdir(c.f.fs, root, "nope"), -ENOENT);
	cr_expect_eq(o->rmdir(c.f.fs, root, "."), -EINVAL);
	cr_expect_eq(o->rmdir(c.f.fs, b, ".."), -ENOTEMPTY);
	cr_assert_eq(o->rmdir(c.f.fs, root, "e"), 0);
	cr_assert_eq(o->rmdir(c.f.fs, b, "sub"), 0);
	cr_expect_eq(lookup_err(&c, "/e"), -ENOENT);
	cr_expect_eq(nlink_of(&c, "/b"), 2);
	cr_expect_eq(nlink_of(&c, "/"), 5); /* 2 + lost+found, a, b */
	nctx_fsck(&c);

	cr_expect_eq(o->link(c.f.fs, a, root, "dirlink"), -EPERM);
	cr_expect_eq(o->link(c.f.fs, file, root, "hard"), -EEXIST);
	cr_assert_eq(o->link(c.f.fs, file, b, "third"), 0);
	cr_expect_eq(ino_of(&c, "/b/third"), file);
	cr_expect_eq(nlink_of(&c, "/file"), 3);
	cr_assert_eq(o->unlink(c.f.fs, root, "file"), 0);
	cr_assert_eq(o->unlink(c.f.fs, root, "hard"), 0);
	nctx_fsck(&c);
	debugfs_expect(&c, "/b/third", file, 1);
	nctx_fini(&c);
}

Test(ext2_namei, rmdir_link_ext2)
{
	rmdir_link_case("ext2", "");
}
Test(ext2_namei, rmdir_link_ext4)
{
	rmdir_link_case("ext4", "");
}
Test(ext2_namei, rmdir_link_ext4_inline)
{
	rmdir_link_case("ext4", "-O inline_data -I 256");
}

/* Many entries: rename and link grow a full directory. */
Test(ext2_namei, rename_into_full_dir)
{
	const struct fsa_ops *o = &fsa_ext2_ops;
	struct nctx c;
	uint64_t root, a, ino;
	char name[64];

	nctx_init(&c, "ext4", "");
	root = ino_of(&c, "/");
	a = ino_of(&c, "/a");
	for (int i = 0; i < 200; i++) {
		snprintf(name, sizeof(name), "a-rather-long-file-name-%04d", i);
		cr_assert_eq(o->create(c.f.fs, a, name, 0644, &ino), 0);
		cr_assert_eq(o->rename(c.f.fs, a, name, root, name, 0), 0);
		cr_assert_eq(o->link(c.f.fs, ino, a, name), 0);
	}
	cr_expect_eq(nlink_of(&c, "/a-rather-long-file-name-0199"), 2);
	nctx_fini(&c);
}

static int list_count(const char *name, const void *value, size_t len,
		      void *priv)
{
	(void)name;
	(void)value;
	(void)len;
	(*(int *)priv)++;
	return 0;
}

Test(ext2_namei, getxattr_removexattr)
{
	const struct fsa_ops *o = &fsa_ext2_ops;
	struct nctx c;
	char big[700], buf[4096], *out;
	uint64_t ino;
	int n = 0;

	memset(big, 'x', sizeof(big));
	nctx_init(&c, "ext4", "-I 256");
	ino = ino_of(&c, "/file");
	cr_assert_eq(o->setxattr(c.f.fs, ino, "user.small", "abc", 3), 0);
	cr_assert_eq(o->setxattr(c.f.fs, ino, "user.big", big, sizeof(big)), 0);
	cr_expect_eq(o->getxattr(c.f.fs, ino, "user.small", NULL, 0), 3);
	cr_expect_eq(o->getxattr(c.f.fs, ino, "user.small", buf, 2), -ERANGE);
	cr_assert_eq(o->getxattr(c.f.fs, ino, "user.small", buf, sizeof(buf)),
		     3);
	cr_expect_eq(memcmp(buf, "abc", 3), 0);
	cr_assert_eq(o->getxattr(c.f.fs, ino, "user.big", buf, sizeof(buf)),
		     700);
	cr_expect_eq(memcmp(buf, big, 700), 0);
	cr_expect_eq(o->getxattr(c.f.fs, ino, "user.none", buf, sizeof(buf)),
		     -ENODATA);
	cr_expect_eq(o->removexattr(c.f.fs, ino, "user.none"), -ENODATA);
	cr_assert_eq(o->removexattr(c.f.fs, ino, "user.big"), 0);
	cr_expect_eq(o->getxattr(c.f.fs, ino, "user.big", NULL, 0), -ENODATA);
	nctx_fsck(&c);
	cr_assert_eq(o->listxattr(c.f.fs, ino, list_count, &n), 0);
	cr_expect_eq(n, 1);
	t_close(&c.f);
	cr_assert_eq(
		t_sh_out(&out, "debugfs -R 'ea_list /file' %s 2>&1", c.img), 0);
	cr_expect(strstr(out, "user.small") && !strstr(out, "user.big"),
		  "debugfs ea_list: %s", out);
	free(out);
	t_open(&c.f, c.img, NULL, 0);
	cr_expect_eq(o->removexattr(c.f.fs, ino, "user.small"), -EROFS);
	t_close(&c.f);
	t_open(&c.f, c.img, NULL, 1);
	nctx_fini(&c);
}

TestSuite(ext2_namei, .timeout = 120);
