// SPDX-License-Identifier: GPL-2.0
/* inline_test.c - inline data on native images: small files keep their
 * bytes in a record and map INLINE, every operation on them matches a
 * host file through every data path and mapper, and fsck checks them. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include "native_util.h"

static char *dir;

static void setup(void)
{
	dir = t_tmpdir();
}

static void teardown(void)
{
	t_tmpdir_remove(dir);
}

TestSuite(inline_data, .init = setup, .fini = teardown);

/* The inode of @path in the image, read through the adapter. */
static void inode_of(struct fsa_native_fs *nfs, const char *path,
		     uint64_t *ino, struct fsa_native_inode *in)
{
	cr_assert_eq(fsa_native_lookup(&nfs->base, path, ino), 0, "%s", path);
	cr_assert_eq(fsa_native_iread(nfs, *ino, in), 0);
}

static struct fsa_native_key inline_key(uint64_t ino)
{
	return (struct fsa_native_key){ { ino | FSA_NATIVE_INLINE_KEY, 0 } };
}

Test(inline_data, small_file_maps_inline)
{
	char *img = tn_mkfs(dir, "img", 16 << 20, 4096), *out;
	struct fsa_native_fs *nfs;
	struct fsa_native_inode in;
	struct fsa_native_xattr x;
	struct fsa_native_key k;
	uint64_t ino;

	nfs = tn_open(img, false);
	cr_expect_eq(nfs->sb.version, 1, "mkfs writes version 1");
	tn_close(nfs);
	cr_assert_eq(t_sh("cd '%s' && head -c 300 /dev/urandom > s && "
			  "%s -q cp s img:/s && %s cat img:/s | cmp - s",
			  dir, IOMAPCTL_BINARY, IOMAPCTL_BINARY),
		     0);
	cr_assert_eq(t_sh_out(&out, "cd '%s' && %s map img:/s | tail -n +2",
			      dir, IOMAPCTL_BINARY),
		     0);
	cr_expect(strstr(out, "INLINE"), "%s", out);
	cr_expect(strstr(out, "300"), "%s", out);
	free(out);
	cr_assert_eq(t_sh_out(&out, "cd '%s' && %s --json fiemap img:/s", dir,
			      IOMAPCTL_BINARY),
		     0);
	cr_expect(strstr(out, "data_inline"), "%s", out);
	free(out);
	cr_assert_eq(t_sh("cd '%s' && %s seek -h img:/s 0 | grep -q 300", dir,
			  IOMAPCTL_BINARY),
		     0);

	nfs = tn_open(img, false);
	cr_expect_eq(nfs->sb.version, 2, "an inline file makes version 2");
	inode_of(nfs, "/s", &ino, &in);
	cr_expect(in.flags & FSA_NATIVE_INODE_INLINE);
	cr_expect_eq(in.blocks, 0);
	k = inline_key(ino);
	cr_assert_eq(fsa_native_bt_lookup(nfs, FSA_NATIVE_T_XATTRS, &k, &x),
		     0);
	cr_expect_eq(x.value_len, 300);
	cr_expect_eq(tn_check(nfs), 0);
	tn_close(nfs);

	/* Past 448 bytes the data moves to a block; the record goes. */
	cr_assert_eq(t_sh("cd '%s' && %s -q write --pattern 0x61 --length 200 "
			  "img:/s 400 && (cat s; head -c 100 /dev/zero; "
			  "head -c 200 /dev/zero | tr '\\0' a) > want && "
			  "%s cat img:/s | cmp - want",
			  dir, IOMAPCTL_BINARY, IOMAPCTL_BINARY),
		     0);
	nfs = tn_open(img, false);
	inode_of(nfs, "/s", &ino, &in);
	cr_expect_eq(in.flags, 0);
	cr_expect_eq(in.blocks, 1);
	cr_expect_eq(fsa_native_bt_lookup(nfs, FSA_NATIVE_T_XATTRS, &k, &x),
		     -ENOENT);
	cr_expect_eq(tn_check(nfs), 0);
	tn_close(nfs);
	free(img);
}

/* One step: the iomapctl command (after the options) and the host one. */
static const char *const steps[][2] = {
	{ "write --pattern 0x41 --length 200 img:/f 0",
	  "python3 -c \"f=open('h','r+b');f.seek(0);f.write(b'A'*200)\"" },
	{ "write --pattern 0x42 --length 50 img:/f 100",
	  "python3 -c \"f=open('h','r+b');f.seek(100);f.write(b'B'*50)\"" },
	{ "truncate img:/f 300", "truncate -s 300 h" },
	{ "truncate img:/f 120", "truncate -s 120 h" },
	{ "zero img:/f 10 20", "fallocate -z -o 10 -l 20 h" },
	{ "write --pattern 0x43 --length 100 img:/f 400",
	  "python3 -c \"f=open('h','r+b');f.seek(400);f.write(b'C'*100)\"" },
	{ "truncate img:/f 0", "truncate -s 0 h" },
	{ "write --pattern 0x44 --length 30 img:/f 0",
	  "python3 -c \"f=open('h','r+b');f.seek(0);f.write(b'D'*30)\"" },
	{ "punch img:/f 5 10", "fallocate -p -o 5 -l 10 h" },
	{ "truncate img:/f 0", "truncate -s 0 h" },
	{ "write --pattern 0x45 --length 40 img:/f 0",
	  "python3 -c \"f=open('h','r+b');f.seek(0);f.write(b'E'*40)\"" },
	{ "falloc img:/f 0 100", "fallocate -o 0 -l 100 h" },
	{ "truncate img:/f 0", "truncate -s 0 h" },
	{ "write --pattern 0x46 --length 448 img:/f 0",
	  "python3 -c \"f=open('h','r+b');f.seek(0);f.write(b'F'*448)\"" },
	{ "truncate img:/f 5000", "truncate -s 5000 h" },
};

/* Steps take the options in turn: a file made inline by one mapper or
 * path is changed by the next. */
struct inline_case {
	char opts[3][40];
	unsigned int block_size;
};

ParameterizedTestParameters(inline_data, steps_match_a_host_file)
{
	static struct inline_case cases[] = {
		{ { "--mapper=iomap", "--mapper=iomap", "--mapper=bh" }, 1024 },
		{ { "--mapper=hybrid", "--mapper=hybrid,read=bh,report=bh",
		    "--io=direct --mapper=iomap" },
		  4096 },
	};

	return cr_make_param_array(struct inline_case, cases,
				   sizeof(cases) / sizeof(cases[0]));
}

/* Every step from a small file on, read back by the default path and
 * mapper (fsck at the end: a step that breaks the record shows in the
 * next step's read or there). */
ParameterizedTest(struct inline_case *tc, inline_data, steps_match_a_host_file)
{
	char *img = tn_mkfs(dir, "img", 16 << 20, tc->block_size);

	cr_assert_eq(t_sh("cd '%s' && : > h", dir), 0);
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
		cr_assert_eq(t_sh("cd '%s' && %s -q %s %s && %s && "
				  "%s cat img:/f | cmp - h",
				  dir, IOMAPCTL_BINARY, tc->opts[i % 3],
				  steps[i][0], steps[i][1], IOMAPCTL_BINARY),
			     0, "%s %s", tc->opts[i % 3], steps[i][0]);
	tn_assert_clean(img);
	free(img);
}

/* An image holding /a, 10 bytes inline, open read-write: its inode (in
 * @ino, @in) and the key of its record. */
static char *inline_file(struct fsa_native_fs **nfs, uint64_t *ino,
			 struct fsa_native_inode *in, struct fsa_native_key *k)
{
	char *img = tn_mkfs(dir, "img", 16 << 20, 4096);

	cr_assert_eq(t_sh("cd '%s' && %s -q write --pattern 0x41 --length 10 "
			  "img:/a 0",
			  dir, IOMAPCTL_BINARY),
		     0);
	*nfs = tn_open(img, true);
	inode_of(*nfs, "/a", ino, in);
	cr_assert(in->flags & FSA_NATIVE_INODE_INLINE);
	*k = inline_key(*ino);
	return img;
}

Test(inline_data, unlink_removes_the_record)
{
	struct fsa_native_fs *nfs;
	struct fsa_native_inode in;
	struct fsa_native_xattr x;
	struct fsa_native_key k;
	uint64_t ino;
	char *img = inline_file(&nfs, &ino, &in, &k);

	cr_assert_eq(fsa_native_unlink(&nfs->base, FSA_NATIVE_ROOT_INO, "a"),
		     0);
	cr_expect_eq(fsa_native_bt_lookup(nfs, FSA_NATIVE_T_XATTRS, &k, &x),
		     -ENOENT);
	cr_expect_eq(tn_check(nfs), 0);
	tn_close(nfs);
	tn_assert_clean(img);
	free(img);
}

/* fsck finds an inline file without its record and a record without its
 * inline file. */
Test(inline_data, fsck_checks_inline_records)
{
	struct fsa_native_fs *nfs;
	struct fsa_native_inode in;
	struct fsa_native_xattr x;
	struct fsa_native_key k;
	uint64_t ino;
	char *img = inline_file(&nfs, &ino, &in, &k);

	cr_assert_eq(fsa_native_bt_lookup(nfs, FSA_NATIVE_T_XATTRS, &k, &x),
		     0);
	cr_assert_eq(fsa_native_bt_delete(nfs, FSA_NATIVE_T_XATTRS, &k), 0);
	cr_expect_gt(tn_check(nfs), 0, "inline file without its record");
	cr_assert_eq(fsa_native_bt_insert(nfs, FSA_NATIVE_T_XATTRS, &k, &x),
		     0);
	cr_expect_eq(tn_check(nfs), 0);
	in.flags = 0;
	cr_assert_eq(fsa_native_iwrite(nfs, ino, &in), 0);
	cr_expect_gt(tn_check(nfs), 0, "record without an inline file");
	in.flags = FSA_NATIVE_INODE_INLINE;
	in.size = 11;
	cr_assert_eq(fsa_native_iwrite(nfs, ino, &in), 0);
	cr_expect_gt(tn_check(nfs), 0, "record shorter than the size");
	fsa_native_fs_free(nfs);
	free(img);
}
