// SPDX-License-Identifier: GPL-2.0
/* corrupt_test.c - the mutating commands on damaged images: a clear error
 * and an image left byte-identical (nothing half done, no superblock
 * written back); on sound ext2/3 images they work and e2fsck stays clean. */
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "cmd_helpers.h"

static char *dir;

static void setup(void)
{
	dir = t_tmpdir();
}

static void teardown(void)
{
	t_tmpdir_remove(dir);
}

TestSuite(corrupt, .init = setup, .fini = teardown);

/* @dir/img: a small @type image with /f, 3000 bytes of 'x'; then the
 * debugfs commands @dbg (";"-separated, may be empty). */
static void mkimg(const char *type, const char *dbg)
{
	cr_assert_eq(t_sh("cd '%s' && mke2fs -q -F -t %s -b 1024 img 2M && "
			  "head -c 3000 /dev/zero | tr '\\0' x > data && "
			  "debugfs -w -R 'write data f' img >/dev/null 2>&1",
			  dir, type),
		     0);
	if (*dbg)
		cr_assert_eq(t_sh("cd '%s' && debugfs -w -f - img >/dev/null "
				  "2>&1 <<'EOF'\n%s\nEOF\n",
				  dir, dbg),
			     0);
	cr_assert_eq(t_sh("cd '%s' && md5sum < img > img.md5", dir), 0);
}

/* `iomapctl ARGS` fails with @why and leaves img as mkimg() left it. */
static void fails_unchanged(const char *args, const char *why)
{
	char *err = NULL;

	cr_expect_neq(tc_run(dir, NULL, &err, "%s", args), 0, "%s", args);
	cr_expect(err && strstr(err, why), "%s: %s", args, err);
	free(err);
	cr_expect_eq(t_sh("cd '%s' && md5sum < img | cmp -s - img.md5", dir), 0,
		     "%s changed the image", args);
}

/* A broken extent header: every mutating command refuses the file and
 * the image keeps every byte (s_wtime, s_kbytes_written included). */
Test(corrupt, failed_command_leaves_image_byte_identical)
{
	static const char *const cmds[] = {
		"truncate img:/f 100",
		"punch img:/f 0 2048",
		"zero img:/f 500 9000",
		"falloc img:/f 0 9000",
	};

	mkimg("ext4", "sif f block[0] 0");
	for (unsigned int i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		fails_unchanged(cmds[i], "Structure needs cleaning");
}

#define CORPUS IOMAPCTL_SOURCE_DIR "/../shared/corpus/e2fsprogs-test-images"

/* @dir/img from the e2fsprogs corpus image @name; skips without it. */
static void corpus_img(const char *name)
{
	if (t_sh("test -r '" CORPUS "/%s.img.gz'", name))
		cr_skip_test("no corpus image %s at " CORPUS, name);
	cr_assert_eq(t_sh("cd '%s' && zcat '" CORPUS "/%s.img.gz' > img && "
			  "md5sum < img > img.md5",
			  dir, name),
		     0);
}

/*
 * A bad interior extent block checksum: ext2fs_punch() found it after
 * freeing part of the range, and `zero` past EOF had grown the size
 * before its punch; both now fail before anything changes.  falloc wrote
 * the inode back with new times after its allocation failed.
 */
Test(corrupt, zero_on_bad_extent_csum_changes_nothing)
{
	corpus_img("f_extent_int_bad_csum");
	fails_unchanged("zero img:/a 500 9000", "Structure needs cleaning");
	fails_unchanged("zero img:/a 700000 20000", "Structure needs cleaning");
	fails_unchanged("truncate img:/a 100", "Structure needs cleaning");
	fails_unchanged("falloc img:/a 0 65536", "Structure needs cleaning");
}

/* A full image (e2fsprogs' f_extents2): a falloc that can allocate nothing
 * leaves the inode and its times as they were, as the kernel does. */
Test(corrupt, falloc_refused_for_space_changes_nothing)
{
	corpus_img("f_extents2");
	fails_unchanged("falloc img:/extent.c 0 65536",
			"No space left on device");
}

/* `iomapctl ARGS` succeeds, e2fsck stays clean, /f reads as @expr
 * (Python over its bytes `d`; `o` is the 3000 bytes of 'x' it held). */
static void works(const char *args, const char *expr)
{
	cr_expect_eq(tc_run(dir, NULL, NULL, "%s", args), 0, "%s", args);
	cr_expect_eq(t_sh("cd '%s' && e2fsck -fn img >/dev/null 2>&1", dir), 0,
		     "%s: e2fsck finds damage", args);
	cr_assert_eq(setenv("TC_BYTES_CHECK", expr, 1), 0);
	cr_expect_eq(
		t_sh("cd '%s' && %s cat img:/f | python3 -c 'import os, "
		     "sys\nd = sys.stdin.buffer.read()\no = b\"x\" * 3000\n"
		     "sys.exit(0 if eval(os.environ[\"TC_BYTES_CHECK\"]) "
		     "else 3)'",
		     dir, IOMAPCTL_BINARY),
		0, "%s: %s", args, expr);
}

/* Files without extents hold no unwritten blocks: `zero` past EOF (with
 * and without -k) leaves holes there instead of failing after its punch. */
Test(corrupt, zero_past_eof_on_ext3)
{
	mkimg("ext3", "");
	works("zero -k img:/f 2000 5000", "d == o[:2000] + bytes(1000)");
	mkimg("ext3", "");
	works("zero img:/f 2000 5000", "d == o[:2000] + bytes(5000)");
	mkimg("ext3", "");
	works("zero img:/f 4000 20000", "d == o + bytes(21000)");
}

/*
 * An extent into the inode table (block 51 of a 1 KiB-block 2 MiB ext4:
 * the table starts at 50): reading it would show inodes as file data and
 * the truncate's tail zeroing wrote into the table.  Mapping refuses the
 * run, as the kernel's block_validity does.
 */
Test(corrupt, extent_into_inode_table_is_refused)
{
	mkimg("ext4", "sif f block[5] 51");
	cr_assert_eq(t_sh("cd '%s' && dumpe2fs img 2>/dev/null | grep -q "
			  "'Inode table at 50-'",
			  dir),
		     0);
	fails_unchanged("cat img:/f", "Structure needs cleaning");
	fails_unchanged("truncate img:/f 100", "Structure needs cleaning");
	fails_unchanged("write --pattern 0xab --length 100 img:/f 0",
			"Structure needs cleaning");
}

/*
 * A group descriptor counting fewer free blocks (inodes) than its bitmap
 * holds: allocation took the count below zero, to 65535 free blocks
 * (found on e2fsprogs' f_baddotdir, a write that ran into ENOSPC).  Any
 * write is refused before it starts, as the kernel stops allocating in
 * such a group.
 */
Test(corrupt, group_count_below_bitmap_is_refused)
{
	mkimg("ext4", "set_bg 0 free_blocks_count 0");
	fails_unchanged("write --pattern 0xab --length 5000 img:/f 0",
			"Structure needs cleaning");
	fails_unchanged("falloc img:/f 0 9000", "Structure needs cleaning");
	mkimg("ext4", "set_bg 0 free_inodes_count 0");
	fails_unchanged("write --pattern 0xab --length 10 img:/g 0",
			"Structure needs cleaning");
}

/*
 * /f's inode (12) free in the bitmap, another marked instead so the
 * counts agree: a new file took inode 12 and overwrote /f (on e2fsprogs'
 * f_bitmaps, `cp` into /lost+found made lost+found, inode 11, the new
 * regular file).  A live inode is never handed out again.
 */
Test(corrupt, live_inode_free_in_bitmap_is_not_reused)
{
	mkimg("ext4", "freei <12>\nseti <20>");
	fails_unchanged("write --pattern 0xab --length 10 img:/g 0",
			"Structure needs cleaning");
	fails_unchanged("cp img:/f img:/g", "Structure needs cleaning");
}

/*
 * An indirect-mapped file mapping block 99 twice (e2fsprogs' f_dup3):
 * truncate freed the first eleven blocks, met 99 again already free and
 * failed, half done.  The blocks are checked before any is freed.
 */
Test(corrupt, truncate_of_doubly_mapped_block_changes_nothing)
{
	corpus_img("f_dup3");
	fails_unchanged("truncate img:/e2fsck 0", "Structure needs cleaning");
	fails_unchanged("punch img:/e2fsck 0 100k", "Structure needs cleaning");
}
