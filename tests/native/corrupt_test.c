// SPDX-License-Identifier: GPL-2.0
/* corrupt_test.c - damaged iomapfs images: each kind of damage is a clear
 * error naming what is wrong, never a crash, a hang or a silent answer. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "native_util.h"

static char *dir, *img;

static void setup(void)
{
	dir = t_tmpdir();
	img = tn_mkfs(dir, "img", 16 << 20, 1024);
}

static void teardown(void)
{
	free(img);
	t_tmpdir_remove(dir);
}

TestSuite(corrupt, .init = setup, .fini = teardown);

/* `iomapctl ARGS` on the image: its exit status, its stderr in *@err. */
static int run(char **err, const char *args)
{
	return t_sh_out(err, "cd '%s' && %s %s 2>&1 >/dev/null", dir,
			IOMAPCTL_BINARY, args);
}

static void expect_refused(const char *args, const char *why)
{
	char *err;

	cr_expect_eq(run(&err, args), 1, "%s: %s", args, err);
	cr_expect(strstr(err, why), "%s: want '%s' in: %s", args, why, err);
	cr_expect(!strstr(err, "AddressSanitizer") && !strstr(err, "runtime"),
		  "%s", err);
	free(err);
}

static void rw_bytes(bool write, void *buf, size_t len, uint64_t off)
{
	int fd = open(img, O_RDWR);

	cr_assert_geq(fd, 0);
	if (write)
		cr_assert_eq(pwrite(fd, buf, len, (off_t)off), (ssize_t)len);
	else
		cr_assert_eq(pread(fd, buf, len, (off_t)off), (ssize_t)len);
	close(fd);
}

/* Reads the superblock, lets @edit change it, writes it back resealed. */
static void edit_sb(void (*edit)(struct fsa_native_sb *sb))
{
	struct fsa_native_sb sb;

	rw_bytes(false, &sb, sizeof(sb), 0);
	edit(&sb);
	sb.hdr.crc = fsa_native_block_crc((const uint8_t *)&sb, sizeof(sb));
	rw_bytes(true, &sb, sizeof(sb), 0);
}

static struct fsa_native_sb read_sb(void)
{
	struct fsa_native_sb sb;

	rw_bytes(false, &sb, sizeof(sb), 0);
	return sb;
}

Test(corrupt, bad_magic_is_not_an_image)
{
	uint32_t magic = 0x12345678;

	rw_bytes(true, &magic, 4, 0);
	expect_refused("probe img", "not a filesystem image");
	expect_refused("ls img:/", "not a filesystem image");
}

Test(corrupt, bad_superblock_checksum)
{
	char c = 'X';

	rw_bytes(true, &c, 1, 384); /* the label */
	expect_refused("probe img", "superblock damaged");
	expect_refused("ls img:/", "Structure needs cleaning");
}

static void version_3(struct fsa_native_sb *sb)
{
	sb->version = 3;
}

Test(corrupt, newer_version_is_named)
{
	edit_sb(version_3);
	expect_refused("probe img", "format version 3 is newer than this "
				    "iomapctl reads (2)");
	expect_refused("stat img:/", "Protocol not supported");
}

Test(corrupt, bad_node_checksum_names_the_block)
{
	struct fsa_native_sb sb = read_sb();
	char want[64], c = 0x5a;

	rw_bytes(true, &c, 1,
		 sb.trees[FSA_NATIVE_T_INODES].root * sb.block_size + 100);
	snprintf(want, sizeof(want), "block %llu: checksum mismatch",
		 (unsigned long long)sb.trees[FSA_NATIVE_T_INODES].root);
	expect_refused("ls img:/", want);
	expect_refused("stat img:/", want);
}

Test(corrupt, misdirected_block_is_caught)
{
	struct fsa_native_sb sb = read_sb();
	uint64_t from = sb.trees[FSA_NATIVE_T_FREE].root;
	uint64_t to = sb.trees[FSA_NATIVE_T_INODES].root;
	char want[64], *block = malloc(sb.block_size);

	rw_bytes(false, block, sb.block_size, from * sb.block_size);
	rw_bytes(true, block, sb.block_size, to * sb.block_size);
	snprintf(want, sizeof(want), "block %llu: claims to be block %llu",
		 (unsigned long long)to, (unsigned long long)from);
	expect_refused("ls img:/", want);
	free(block);
}

static void root_past_end(struct fsa_native_sb *sb)
{
	sb->trees[FSA_NATIVE_T_INODES].root = sb->block_count + 5;
}

Test(corrupt, tree_root_past_the_end)
{
	edit_sb(root_past_end);
	expect_refused("ls img:/", "outside the filesystem");
}

Test(corrupt, truncated_image)
{
	cr_assert_eq(truncate(img, 8 << 20), 0);
	expect_refused("probe img", "truncated image");
	expect_refused("ls img:/", "truncated image");
}

/* A child pointer back to its own node: the walk must not loop. */
Test(corrupt, loop_in_a_tree_ends_in_an_error)
{
	struct fsa_native_fs *nfs = tn_open(img, true);
	struct fsa_native_sb sb;
	struct fsa_native_refcount v = { 1, 0, 2 };
	uint8_t *block;
	uint64_t root, self;
	char want[96];

	for (uint64_t i = 0; i < 400; i++) {
		struct fsa_native_key k = { { i * 10, 0 } };

		cr_assert_eq(fsa_native_bt_insert(nfs, FSA_NATIVE_T_REFCOUNT,
						  &k, &v),
			     0);
	}
	cr_assert_geq(nfs->sb.trees[FSA_NATIVE_T_REFCOUNT].levels, 2);
	tn_close(nfs);
	sb = read_sb();
	root = sb.trees[FSA_NATIVE_T_REFCOUNT].root;
	block = malloc(sb.block_size);
	rw_bytes(false, block, sb.block_size, root * sb.block_size);
	/* Child 0 of the root (after max keys of 8 bytes) is the root. */
	self = root;
	memcpy(block + FSA_NATIVE_NODE_HDR +
		       (size_t)((sb.block_size - FSA_NATIVE_NODE_HDR) / 16) * 8,
	       &self, 8);
	((struct fsa_native_hdr *)block)->crc =
		fsa_native_block_crc(block, sb.block_size);
	rw_bytes(true, block, sb.block_size, root * sb.block_size);
	free(block);
	nfs = tn_open(img, false);
	struct fsa_native_cursor c;
	struct fsa_native_key k = { { 0, 0 } };

	cr_expect_eq(fsa_native_bt_seek(&c, nfs, FSA_NATIVE_T_REFCOUNT, &k),
		     -EUCLEAN);
	cr_expect_gt(tn_check_flags(nfs, FSA_NATIVE_CHECK_TREES), 0);
	tn_close(nfs);
	(void)want;
}
