// SPDX-License-Identifier: GPL-2.0
/* mkfrag.c - make a deliberately fragmented file in an ext4 image, for the
 * mapping-cost benchmarks and the memory-bound tests: NBLOCKS blocks in
 * runs of RUN blocks, each run STRIDE physical blocks after the previous
 * one.  The extent tree is written whole, leaf blocks first, then the
 * index levels and the root in the inode: inserting the extents one at a
 * time with ext2fs_extent_set_bmap() rewrote a leaf per block and took 72 s
 * for a million extents. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <ext2fs/ext2fs.h>

/* One extent or index entry of the tree being built, and a tree node. */
struct node {
	blk64_t lblk; /* first logical block it maps */
	blk64_t pblk; /* an extent's first block, or the node's block */
	uint32_t len; /* an extent's length (0 for a node) */
};

static int fail(const char *what, errcode_t err)
{
	fprintf(stderr, "mkfrag: %s: %s\n", what, error_message(err));
	return 1;
}

static errcode_t new_file(ext2_filsys fs, const char *name, ext2_ino_t *ino,
			  struct ext2_inode *inode)
{
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
	memset(inode, 0, sizeof(*inode));
	inode->i_mode = LINUX_S_IFREG | 0644;
	inode->i_links_count = 1;
	inode->i_atime = inode->i_ctime = inode->i_mtime = (__u32)time(NULL);
	inode->i_flags = EXT4_EXTENTS_FL;
	/* Written before the tree: its checksums take the inode's generation. */
	return ext2fs_write_new_inode(fs, *ino, inode);
}

/*
 * Allocate the data blocks as ext2fs_new_block2() finds them from a goal
 * that skips STRIDE - RUN blocks after each run, merging contiguous ones
 * into extents (as ext2fs_extent_set_bmap() would).  Returns the count.
 */
static errcode_t alloc_data(ext2_filsys fs, blk64_t nblocks, blk64_t stride,
			    blk64_t run, struct node *ext, size_t *n)
{
	blk64_t goal = fs->super->s_first_data_block + 1;

	*n = 0;
	for (blk64_t lblk = 0; lblk < nblocks; lblk++) {
		struct node *last = *n ? &ext[*n - 1] : NULL;
		blk64_t pblk;
		errcode_t err;

		if (lblk && lblk % run == 0)
			goal += stride - run;
		err = ext2fs_new_block2(fs, goal, NULL, &pblk);
		if (err)
			return err;
		ext2fs_block_alloc_stats2(fs, pblk, +1);
		if (last && last->pblk + last->len == pblk &&
		    last->len < EXT_INIT_MAX_LEN)
			last->len++;
		else
			ext[(*n)++] = (struct node){ lblk, pblk, 1 };
		goal = pblk + 1;
	}
	return 0;
}

/* Fill @buf with a header and @n entries of @items (depth @depth). */
static void fill_node(void *buf, unsigned int max, unsigned int depth,
		      const struct node *items, size_t n)
{
	struct ext3_extent_header *eh = buf;

	eh->eh_magic = ext2fs_cpu_to_le16(EXT3_EXT_MAGIC);
	eh->eh_entries = ext2fs_cpu_to_le16((__u16)n);
	eh->eh_max = ext2fs_cpu_to_le16((__u16)max);
	eh->eh_depth = ext2fs_cpu_to_le16((__u16)depth);
	eh->eh_generation = 0;
	for (size_t i = 0; i < n; i++) {
		if (depth == 0) {
			struct ext3_extent *e = EXT_FIRST_EXTENT(eh) + i;

			e->ee_block = ext2fs_cpu_to_le32((__u32)items[i].lblk);
			e->ee_len = ext2fs_cpu_to_le16((__u16)items[i].len);
			e->ee_start = ext2fs_cpu_to_le32((__u32)items[i].pblk);
			e->ee_start_hi = ext2fs_cpu_to_le16(
				(__u16)(items[i].pblk >> 32));
		} else {
			struct ext3_extent_idx *ix = EXT_FIRST_INDEX(eh) + i;

			ix->ei_block = ext2fs_cpu_to_le32((__u32)items[i].lblk);
			ix->ei_leaf = ext2fs_cpu_to_le32((__u32)items[i].pblk);
			ix->ei_leaf_hi = ext2fs_cpu_to_le16(
				(__u16)(items[i].pblk >> 32));
			ix->ei_unused = 0;
		}
	}
}

/*
 * Write one level of the tree: the @n entries of @items in blocks of as
 * many as fit, each block becoming an entry of the level above (written
 * over @items).  Returns the number of blocks written in *@n.
 */
static errcode_t write_level(ext2_filsys fs, ext2_ino_t ino, unsigned int depth,
			     struct node *items, size_t *n, void *buf,
			     blk64_t *tree_blocks)
{
	/* As the kernel sizes a node; the checksum tail follows the last. */
	unsigned int per = (fs->blocksize - sizeof(struct ext3_extent_header)) /
			   sizeof(struct ext3_extent);
	size_t out = 0;

	for (size_t i = 0; i < *n; i += per) {
		size_t k = *n - i < per ? *n - i : per;
		blk64_t blk;
		errcode_t err = ext2fs_new_block2(fs, 0, NULL, &blk);

		if (err)
			return err;
		ext2fs_block_alloc_stats2(fs, blk, +1);
		memset(buf, 0, fs->blocksize);
		fill_node(buf, per, depth, items + i, k);
		err = ext2fs_extent_block_csum_set(fs, ino, buf);
		if (!err)
			err = io_channel_write_blk64(fs->io, blk, 1, buf);
		if (err)
			return err;
		items[out++] = (struct node){ items[i].lblk, blk, 0 };
		(*tree_blocks)++;
	}
	*n = out;
	return 0;
}

/* The whole tree over the @n extents in @ext; the root goes in @inode. */
static errcode_t write_tree(ext2_filsys fs, ext2_ino_t ino,
			    struct ext2_inode *inode, struct node *ext,
			    size_t n, blk64_t *tree_blocks)
{
	unsigned int root_max =
		(sizeof(inode->i_block) - sizeof(struct ext3_extent_header)) /
		sizeof(struct ext3_extent);
	unsigned int depth = 0;
	errcode_t err = 0;
	void *buf;

	err = ext2fs_get_mem(fs->blocksize, &buf);
	if (err)
		return err;
	while (!err && n > root_max)
		err = write_level(fs, ino, depth++, ext, &n, buf, tree_blocks);
	ext2fs_free_mem(&buf);
	if (!err) {
		memset(inode->i_block, 0, sizeof(inode->i_block));
		fill_node(inode->i_block, root_max, depth, ext, n);
	}
	return err;
}

int main(int argc, char **argv)
{
	ext2_filsys fs;
	struct ext2_inode inode;
	struct node *ext;
	ext2_ino_t ino;
	blk64_t nblocks, stride, run, tree_blocks = 0;
	size_t n;
	errcode_t err;

	if (argc != 6) {
		fprintf(stderr, "usage: mkfrag IMAGE NAME NBLOCKS STRIDE RUN\n");
		return 2;
	}
	nblocks = strtoull(argv[3], NULL, 0);
	stride = strtoull(argv[4], NULL, 0);
	run = strtoull(argv[5], NULL, 0);
	if (!run || stride < run || nblocks > UINT32_MAX)
		return fail("arguments", EINVAL);
	ext = calloc(nblocks ? nblocks : 1, sizeof(*ext));
	if (!ext)
		return fail("extents", ENOMEM);
	err = ext2fs_open(argv[1], EXT2_FLAG_RW | EXT2_FLAG_64BITS, 0, 0,
			  unix_io_manager, &fs);
	if (err)
		return fail(argv[1], err);
	err = ext2fs_read_bitmaps(fs);
	if (err)
		return fail("read bitmaps", err);
	err = new_file(fs, argv[2], &ino, &inode);
	if (err)
		return fail("create", err);
	err = alloc_data(fs, nblocks, stride, run, ext, &n);
	if (err)
		return fail("allocate", err);
	err = write_tree(fs, ino, &inode, ext, n, &tree_blocks);
	if (err)
		return fail("extent tree", err);
	free(ext);
	err = ext2fs_iblk_add_blocks(fs, &inode, nblocks + tree_blocks);
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
