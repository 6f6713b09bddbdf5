// SPDX-License-Identifier: GPL-2.0
/* fsck_test.c - `fsck` finds each kind of inconsistency planted in a
 * native image, repairs the ones that need no guess, and leaves the
 * others reported. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "native_util.h"

static char *dir, *img;

static void setup(void)
{
	dir = t_tmpdir();
	img = tn_mkfs(dir, "img", 16 << 20, 1024);
	cr_assert_eq(t_sh("cd '%s' && head -c 100000 /dev/urandom > s && "
			  "%s -q cp s img:/a && %s -q cp s img:/b",
			  dir, IOMAPCTL_BINARY, IOMAPCTL_BINARY),
		     0);
}

static void teardown(void)
{
	free(img);
	t_tmpdir_remove(dir);
}

TestSuite(fsck, .init = setup, .fini = teardown);

/* `iomapctl fsck ARGS img`: exit status, stdout in *@out. */
static int fsck(char **out, const char *args)
{
	return t_sh_out(out, "cd '%s' && %s fsck %s img", dir, IOMAPCTL_BINARY,
			args);
}

static void expect_found(const char *what)
{
	char *out;

	cr_expect_eq(fsck(&out, ""), 1, "%s", out);
	cr_expect(strstr(out, what), "want '%s' in: %s", what, out);
	free(out);
}

Test(fsck, clean_image_is_clean)
{
	char *out;

	cr_expect_eq(fsck(&out, "--json"), 0, "%s", out);
	cr_expect_str_eq(out, "{\"image\":\"img\",\"clean\":true,\"problems\":"
			      "[],\"repaired\":[],\"remaining\":0}\n");
	free(out);
}

Test(fsck, counts_and_leaks_are_repaired)
{
	struct fsa_native_fs *nfs = tn_open(img, true);
	struct fsa_native_inode in;
	uint64_t start;
	char *out;

	/* Link count and block count of inode 2 wrong, 5 blocks leaked. */
	cr_assert_eq(fsa_native_iread(nfs, 2, &in), 0);
	in.nlink = 7;
	in.blocks += 3;
	cr_assert_eq(fsa_native_iwrite(nfs, 2, &in), 0);
	cr_assert_eq(fsa_native_alloc(nfs, 5000, 5, &start), 5);
	tn_close(nfs);
	expect_found("inode 2 has link count 7, counted 1");
	expect_found("inode 2 says 101 blocks, its extents map 98");
	expect_found("(leaked)");
	cr_expect_eq(fsck(&out, "--repair"), 0, "%s", out);
	cr_expect(strstr(out, "repaired: inode 2: link count 7 -> 1"), "%s",
		  out);
	cr_expect(strstr(out, "repaired, now clean"), "%s", out);
	free(out);
	tn_assert_clean(img);
	cr_assert_eq(t_sh("cd '%s' && %s cat img:/a | cmp - s", dir,
			  IOMAPCTL_BINARY),
		     0);
}

/*
 * Blocks two extents refer to without a refcount record saying so are an
 * under-count: the repair counts them (both files keep their bytes, and
 * a write to either copies first) rather than guess whose they are.
 */
Test(fsck, cross_linked_blocks_become_shared)
{
	struct fsa_native_fs *nfs = tn_open(img, true);
	struct fsa_native_extent e;
	uint64_t first;
	char *out;

	/* File b's first block points into file a's data. */
	cr_assert_eq(fsa_native_ext_find(nfs, 2, 0, 1, &first, &e), 1);
	cr_assert_eq(fsa_native_ext_remove(nfs, 3, 0, 1, FSA_NATIVE_UNMAP_FREE),
		     1);
	cr_assert_eq(fsa_native_ext_add(nfs, 3, 0, e.start, 1, 0), 0);
	tn_close(nfs);
	expect_found("2 extent records refer to them and no refcount record "
		     "counts them (under-counted)");
	cr_expect_eq(fsck(&out, "--repair --json"), 0, "%s", out);
	cr_expect(strstr(out, "refcount tree rebuilt"), "%s", out);
	free(out);
	tn_assert_clean(img);
	cr_assert_eq(t_sh("cd '%s' && %s cat img:/a | cmp - s", dir,
			  IOMAPCTL_BINARY),
		     0);
}

Test(fsck, orphan_and_dangling_entry)
{
	struct fsa_native_fs *nfs = tn_open(img, true);
	struct fsa_native_key k = { { 2, 0 } };

	/* Inode 2 goes; its name stays. */
	cr_assert_eq(fsa_native_ext_remove(nfs, 2, 0, UINT64_MAX,
					   FSA_NATIVE_UNMAP_FREE),
		     98);
	cr_assert_eq(fsa_native_bt_delete(nfs, FSA_NATIVE_T_INODES, &k), 0);
	nfs->sb.inode_count--;
	tn_close(nfs);
	expect_found("names inode 2, which does not exist");
}

Test(fsck, damaged_node_is_named)
{
	struct fsa_native_fs *nfs = tn_open(img, false);
	uint64_t root = nfs->sb.trees[FSA_NATIVE_T_EXTENTS].root;
	char *out;

	tn_close(nfs);
	cr_assert_eq(t_sh("printf Z | dd of='%s' bs=1 seek=%llu conv=notrunc "
			  "status=none",
			  img, (unsigned long long)(root * 1024 + 300)),
		     0);
	cr_expect_eq(t_sh_out(&out, "cd '%s' && %s fsck --repair img 2>&1", dir,
			      IOMAPCTL_BINARY),
		     1, "%s", out);
	cr_expect(strstr(out, "checksum mismatch") &&
			  strstr(out, "extents tree: damaged"),
		  "%s", out);
	free(out);
}

Test(fsck, orphan_gets_a_name)
{
	struct fsa_native_fs *nfs = tn_open(img, true);
	struct fsa_native_key k;
	struct fsa_native_dirent de;
	char *out;

	/* The name of inode 2 goes; the inode and its data stay. */
	cr_assert_eq(fsa_native_dir_find(nfs, 1, "a", 1, &de, &k), 0);
	cr_assert_eq(fsa_native_bt_delete(nfs, FSA_NATIVE_T_DIRENTS, &k), 0);
	tn_close(nfs);
	expect_found("inode 2 has no name (orphan)");
	cr_expect_eq(fsck(&out, "--repair"), 0, "%s", out);
	free(out);
	tn_assert_clean(img);
	cr_assert_eq(t_sh("cd '%s' && %s cat 'img:/#2' | cmp - s", dir,
			  IOMAPCTL_BINARY),
		     0);
}
