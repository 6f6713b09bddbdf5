// SPDX-License-Identifier: GPL-2.0
/* mkfrag.c - make a deliberately fragmented file in an ext4 image, for the
 * mapping-cost benchmarks: NBLOCKS blocks in runs of RUN blocks, each run
 * STRIDE physical blocks after the previous one. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <ext2fs/ext2fs.h>

static int fail(const char *what, errcode_t err)
{
	fprintf(stderr, "mkfrag: %s: %s\n", what, error_message(err));
	return 1;
}

static errcode_t new_file(ext2_filsys fs, const char *name, ext2_ino_t *ino)
{
	struct ext2_inode inode;
	errcode_t err;

	err = ext2fs_new_inode(fs, EXT2_ROOT_INO, LINUX_S_IFREG | 0644, NULL,
			       ino);
	if (err)
		return err;
	err = ext2fs_link(fs, EXT2_ROOT_INO, name, *ino, EXT2_FT_REG_FILE);
	if (err == EXT2_ET_DIR_NO_SPACE) {
		err = ext2fs_expand_dir(fs, EXT2_ROOT_INO);
		if (!err)
			err = ext2fs_link(fs, EXT2_ROOT_INO, name, *ino,
					  EXT2_FT_REG_FILE);
	}
	if (err)
		return err;
	ext2fs_inode_alloc_stats2(fs, *ino, +1, 0);
	memset(&inode, 0, sizeof(inode));
	inode.i_mode = LINUX_S_IFREG | 0644;
	inode.i_links_count = 1;
	inode.i_atime = inode.i_ctime = inode.i_mtime = (__u32)time(NULL);
	inode.i_flags = EXT4_EXTENTS_FL;
	ext2fs_iblk_set(fs, &inode, 0);
	err = ext2fs_write_new_inode(fs, *ino, &inode);
	if (err)
		return err;
	/* An empty extent header in i_block. */
	{
		ext2_extent_handle_t h;

		err = ext2fs_extent_open2(fs, *ino, NULL, &h);
		if (!err)
			ext2fs_extent_free(h);
	}
	return err;
}

int main(int argc, char **argv)
{
	ext2_filsys fs;
	ext2_extent_handle_t h;
	struct ext2_inode inode;
	ext2_ino_t ino;
	blk64_t goal, nblocks, stride, run;
	errcode_t err;

	if (argc != 6) {
		fprintf(stderr, "usage: mkfrag IMAGE NAME NBLOCKS STRIDE RUN\n");
		return 2;
	}
	nblocks = strtoull(argv[3], NULL, 0);
	stride = strtoull(argv[4], NULL, 0);
	run = strtoull(argv[5], NULL, 0);
	if (!run || stride < run)
		return fail("arguments", EINVAL);
	err = ext2fs_open(argv[1], EXT2_FLAG_RW | EXT2_FLAG_64BITS, 0, 0,
			  unix_io_manager, &fs);
	if (err)
		return fail(argv[1], err);
	err = ext2fs_read_bitmaps(fs);
	if (err)
		return fail("read bitmaps", err);
	err = new_file(fs, argv[2], &ino);
	if (err)
		return fail("create", err);
	err = ext2fs_extent_open2(fs, ino, NULL, &h);
	if (err)
		return fail("extent open", err);
	goal = fs->super->s_first_data_block + 1;
	for (blk64_t lblk = 0; lblk < nblocks; lblk++) {
		blk64_t pblk;

		if (lblk && lblk % run == 0)
			goal += stride - run;
		err = ext2fs_new_block2(fs, goal, NULL, &pblk);
		if (err)
			return fail("allocate", err);
		ext2fs_block_alloc_stats2(fs, pblk, +1);
		err = ext2fs_extent_set_bmap(h, lblk, pblk, 0);
		if (err)
			return fail("map", err);
		goal = pblk + 1;
	}
	ext2fs_extent_free(h);
	err = ext2fs_read_inode(fs, ino, &inode);
	if (err)
		return fail("read inode", err);
	err = ext2fs_iblk_add_blocks(fs, &inode, nblocks);
	if (!err)
		err = ext2fs_inode_size_set(fs, &inode,
					    nblocks * fs->blocksize);
	if (!err)
		err = ext2fs_write_inode(fs, ino, &inode);
	if (err)
		return fail("write inode", err);
	err = ext2fs_close_free(&fs);
	if (err)
		return fail("close", err);
	return 0;
}
