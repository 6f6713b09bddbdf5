// SPDX-License-Identifier: GPL-2.0
/* namei_test.c - the namespace operations of the native adapter through
 * fsa_ops, with rename(2)'s and rmdir(2)'s errors, link counts, hashed
 * lookups in a large directory and extended attributes; the image checks
 * clean after each group and after a reopen. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <criterion/criterion.h>

#include "native_util.h"

static char *dir, *img;
static struct fsa_fs *fs;

static void setup(void)
{
	dir = t_tmpdir();
	img = tn_mkfs(dir, "img", 64 << 20, 1024);
	cr_assert_eq(fsa_native_ops.open(img, FSA_OPEN_RDWR, NULL, &fs), 0);
}

static void teardown(void)
{
	if (fs)
		fsa_native_ops.close(fs);
	free(img);
	t_tmpdir_remove(dir);
}

TestSuite(namei, .init = setup, .fini = teardown);

static uint64_t lookup(const char *path)
{
	uint64_t ino = 0;
	int ret = fsa_native_ops.lookup(fs, path, &ino);

	cr_assert_eq(ret, 0, "lookup %s: %d", path, ret);
	return ino;
}

static uint32_t nlink(const char *path)
{
	struct fsa_stat st;

	cr_assert_eq(fsa_native_ops.stat(fs, lookup(path), &st), 0);
	return st.nlink;
}

static void reopen_clean(void)
{
	cr_assert_eq(fsa_native_ops.close(fs), 0);
	fs = NULL;
	tn_assert_clean(img);
	cr_assert_eq(fsa_native_ops.open(img, FSA_OPEN_RDWR, NULL, &fs), 0);
}

Test(namei, create_link_rename_unlink)
{
	uint64_t root = 1, a, b, f, g, x;

	cr_assert_eq(fsa_native_ops.mkdir(fs, root, "a", 0755, &a), 0);
	cr_assert_eq(fsa_native_ops.mkdir(fs, a, "b", 0700, &b), 0);
	cr_assert_eq(fsa_native_ops.create(fs, b, "f", 0644, &f), 0);
	cr_expect_eq(fsa_native_ops.create(fs, b, "f", 0644, &x), -EEXIST);
	cr_expect_eq(fsa_native_ops.create(fs, f, "x", 0644, &x), -ENOTDIR);
	cr_expect_eq(fsa_native_ops.create(fs, b, "..", 0644, &x), -EEXIST);
	cr_expect_eq(nlink("/"), 3);
	cr_expect_eq(nlink("/a"), 3);
	cr_expect_eq(lookup("/a/b/../b/./f"), f);
	cr_assert_eq(fsa_native_ops.link(fs, f, root, "hard"), 0);
	cr_expect_eq(nlink("/hard"), 2);
	cr_expect_eq(fsa_native_ops.link(fs, a, root, "dirlink"), -EPERM);
	cr_assert_eq(fsa_native_ops.symlink(fs, root, "s", "a/b/f", &g), 0);
	cr_expect_eq(lookup("/s"), f);
	cr_expect_eq(fsa_native_ops.rmdir(fs, root, "a"), -ENOTEMPTY);
	cr_expect_eq(fsa_native_ops.unlink(fs, root, "a"), -EISDIR);
	cr_expect_eq(fsa_native_ops.rmdir(fs, root, "hard"), -ENOTDIR);
	/* A directory never moves below itself. */
	cr_expect_eq(fsa_native_ops.rename(fs, root, "a", b, "a2", 0), -EINVAL);
	cr_assert_eq(fsa_native_ops.rename(fs, a, "b", root, "b2", 0), 0);
	cr_expect_eq(nlink("/a"), 2);
	cr_expect_eq(nlink("/"), 4);
	cr_expect_eq(lookup("/b2/.."), root);
	cr_expect_eq(fsa_native_ops.rename(fs, root, "hard", root, "b2", 0),
		     -EISDIR);
	cr_expect_eq(fsa_native_ops.rename(fs, root, "b2", root, "a",
					   FSA_RENAME_NOREPLACE),
		     -EEXIST);
	/* An empty directory is replaced by a directory. */
	cr_assert_eq(fsa_native_ops.rename(fs, root, "b2", root, "a", 0), 0);
	cr_expect_eq(lookup("/a/f"), f);
	cr_expect_eq(nlink("/"), 3);
	reopen_clean();
	cr_assert_eq(fsa_native_ops.unlink(fs, b, "f"), 0);
	cr_expect_eq(nlink("/hard"), 1);
	cr_assert_eq(fsa_native_ops.unlink(fs, root, "hard"), 0);
	cr_expect_eq(fsa_native_ops.stat(fs, f, &(struct fsa_stat){ 0 }),
		     -ENOENT);
	cr_expect_eq(fsa_native_ops.lookup(fs, "/s", &x), -ENOENT);
	cr_assert_eq(fsa_native_ops.unlink(fs, root, "s"), 0);
	cr_assert_eq(fsa_native_ops.rmdir(fs, root, "a"), 0);
	cr_expect_eq(nlink("/"), 2);
	reopen_clean();
	cr_expect_eq(NATIVE_FS(fs)->sb.inode_count, 1);
}

static int count_entry(const struct fsa_dirent *de, void *priv)
{
	(void)de;
	(*(int *)priv)++;
	return 0;
}

Test(namei, big_directory_by_hash)
{
	char name[64];
	uint64_t ino;
	int n = 0;

	for (int i = 0; i < 5000; i++) {
		snprintf(name, sizeof(name), "entry-%d-with-a-longer-name", i);
		cr_assert_eq(fsa_native_ops.create(fs, 1, name, 0600, &ino), 0);
	}
	for (int i = 0; i < 5000; i += 7) {
		snprintf(name, sizeof(name), "/entry-%d-with-a-longer-name", i);
		cr_expect_eq(lookup(name), (uint64_t)i + 2);
	}
	cr_assert_eq(fsa_native_ops.readdir(fs, 1, count_entry, &n), 0);
	cr_expect_eq(n, 5002);
	for (int i = 0; i < 5000; i += 2) {
		snprintf(name, sizeof(name), "entry-%d-with-a-longer-name", i);
		cr_assert_eq(fsa_native_ops.unlink(fs, 1, name), 0);
	}
	reopen_clean();
	n = 0;
	cr_assert_eq(fsa_native_ops.readdir(fs, 1, count_entry, &n), 0);
	cr_expect_eq(n, 2502);
}

struct xa {
	int n;
	char names[8][64];
};

static int list_one(const char *name, const void *value, size_t len, void *priv)
{
	struct xa *x = priv;

	(void)value;
	(void)len;
	snprintf(x->names[x->n++ % 8], 64, "%s", name);
	return 0;
}

Test(namei, xattrs)
{
	uint64_t f;
	char buf[512], big[443];
	struct xa x = { 0 };

	memset(big, 'v', sizeof(big));
	cr_assert_eq(fsa_native_ops.create(fs, 1, "f", 0644, &f), 0);
	cr_assert_eq(fsa_native_ops.setxattr(fs, f, "user.a", "one", 3), 0);
	cr_assert_eq(fsa_native_ops.setxattr(fs, f, "user.b", big, 442), 0);
	cr_expect_eq(fsa_native_ops.setxattr(fs, f, "user.c", big, 443),
		     -ENOSPC);
	cr_assert_eq(fsa_native_ops.setxattr(fs, f, "user.a", "three", 5), 0);
	cr_expect_eq(fsa_native_ops.getxattr(fs, f, "user.a", NULL, 0), 5);
	cr_expect_eq(fsa_native_ops.getxattr(fs, f, "user.a", buf, 2), -ERANGE);
	cr_assert_eq(fsa_native_ops.getxattr(fs, f, "user.a", buf, sizeof(buf)),
		     5);
	cr_expect_arr_eq(buf, "three", 5);
	cr_expect_eq(fsa_native_ops.getxattr(fs, f, "user.z", buf, 9),
		     -ENODATA);
	reopen_clean();
	cr_assert_eq(fsa_native_ops.listxattr(fs, f, list_one, &x), 0);
	cr_expect_eq(x.n, 2);
	cr_assert_eq(fsa_native_ops.removexattr(fs, f, "user.a"), 0);
	cr_expect_eq(fsa_native_ops.removexattr(fs, f, "user.a"), -ENODATA);
	cr_assert_eq(fsa_native_ops.unlink(fs, 1, "f"), 0);
	reopen_clean();
	cr_expect_eq(NATIVE_FS(fs)->sb.trees[FSA_NATIVE_T_XATTRS].records, 0);
}

/* A file of more extents than half the journal holds is still freed. */
Test(namei, unlink_of_a_file_larger_than_the_journal)
{
	struct fsa_native_fs *nfs = NATIVE_FS(fs);
	struct fsa_native_inode in;
	uint64_t f, start;

	cr_assert_eq(fsa_native_ops.create(fs, 1, "many", 0644, &f), 0);
	for (uint64_t i = 0; i < 6000; i++) {
		cr_assert_eq(fsa_native_alloc(nfs, nfs->alloc_hint + 1, 1,
					      &start),
			     1);
		nfs->alloc_hint = start + 2;
		cr_assert_eq(fsa_native_ext_add(nfs, f, 2 * i, start, 1, 0), 0);
		cr_assert_eq(fsa_native_commit_if_full(nfs), 0);
	}
	cr_assert_eq(fsa_native_iread(nfs, f, &in), 0);
	in.blocks = 6000;
	cr_assert_eq(fsa_native_iwrite(nfs, f, &in), 0);
	cr_assert_gt(nfs->sb.trees[FSA_NATIVE_T_EXTENTS].records, 5000);
	reopen_clean();
	cr_assert_eq(fsa_native_ops.unlink(fs, 1, "many"), 0);
	reopen_clean();
	cr_expect_eq(NATIVE_FS(fs)->sb.trees[FSA_NATIVE_T_EXTENTS].records, 0);
}
