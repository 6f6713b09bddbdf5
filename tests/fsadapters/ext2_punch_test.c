// SPDX-License-Identifier: GPL-2.0
/*
 * ext2_punch_test.c - punch and truncate of indirect-mapped files (ext2,
 * ext3; 1 KiB and 4 KiB blocks) at every level boundary of the indirect
 * tree: direct blocks, single, double and triple indirect.  Each case
 * starts from the same sparse file, does the same punches (or truncate) on
 * the image and on a host file, then checks e2fsck -fn, the bytes against
 * the host file, the set of mapped blocks and i_blocks against a model,
 * and the kernel's view on a read-only loop mount.  Also the walk on
 * damaged trees: out-of-range block numbers and blocks referenced twice.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/falloc.h>

#include <criterion/criterion.h>
#include <ext2fs/ext2fs.h>

#include "ext2_util.h"
#include "helpers.h"

#define MAX_WIN 8
#define MAX_BLK 2048

/* Data runs of the file, in blocks: [start, start + len). */
struct win {
	uint64_t start, len;
};

struct pctx {
	char *dir;
	char img[512], host[512], mnt[512];
	const char *type;
	unsigned int bs;
	uint64_t apb;
	struct win w[MAX_WIN];
	int nw;
	/* the model: every data block the file had, and whether it still
	 * does; sorted */
	uint64_t blk[MAX_BLK];
	bool mapped[MAX_BLK];
	int nblk;
	int kernel; /* loop mounts work here */
};

/* A byte of the file's original contents, from its position. */
static char byte_at(uint64_t pos)
{
	return (char)(1 + (pos * 7 + pos / 4093) % 251);
}

static void fill_host(const struct pctx *c, const char *path)
{
	int fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0644);
	char *buf = malloc(c->bs);

	cr_assert(fd >= 0 && buf);
	for (int i = 0; i < c->nw; i++)
		for (uint64_t b = c->w[i].start;
		     b < c->w[i].start + c->w[i].len; b++) {
			for (unsigned int k = 0; k < c->bs; k++)
				buf[k] = byte_at(b * c->bs + k);
			cr_assert_eq(pwrite(fd, buf, c->bs, (off_t)(b * c->bs)),
				     (ssize_t)c->bs);
		}
	close(fd);
	free(buf);
}

/* The image holds /f, built by mke2fs -d from the same bytes as the host
 * file, so the indirect tree is libext2fs' own. */
static void pctx_init(struct pctx *c, const char *type, unsigned int bs,
		      const char *size, const struct win *w, int nw)
{
	char src[600];

	memset(c, 0, sizeof(*c));
	c->dir = t_tmpdir();
	c->type = type;
	c->bs = bs;
	c->apb = bs / 4;
	memcpy(c->w, w, (size_t)nw * sizeof(*w));
	c->nw = nw;
	snprintf(c->img, sizeof(c->img), "%s/img", c->dir);
	snprintf(c->host, sizeof(c->host), "%s/host", c->dir);
	snprintf(c->mnt, sizeof(c->mnt), "%s/mnt", c->dir);
	snprintf(src, sizeof(src), "%s/src/f", c->dir);
	cr_assert_eq(t_sh("mkdir %s/src %s", c->dir, c->mnt), 0);
	fill_host(c, src);
	cr_assert_eq(t_sh("cd %s && mke2fs -q -F -t %s -b %u -d src img0 %s",
			  c->dir, type, bs, size),
		     0);
}

static void pctx_fini(struct pctx *c)
{
	t_tmpdir_remove(c->dir);
}

/* A fresh copy of the image and the host file, and the model to match. */
static void pctx_reset(struct pctx *c)
{
	cr_assert_eq(t_sh("cp %s/img0 %s", c->dir, c->img), 0);
	fill_host(c, c->host);
	c->nblk = 0;
	for (int i = 0; i < c->nw; i++)
		for (uint64_t b = 0; b < c->w[i].len; b++) {
			cr_assert_lt(c->nblk, MAX_BLK);
			c->blk[c->nblk] = c->w[i].start + b;
			c->mapped[c->nblk++] = true;
		}
}

static void model_drop(struct pctx *c, uint64_t first, uint64_t last)
{
	for (int i = 0; i < c->nblk; i++)
		if (c->blk[i] >= first && c->blk[i] <= last)
			c->mapped[i] = false;
}

/* Punch [@pos, @pos + @len) bytes on the image and the host file. */
static void do_punch(struct pctx *c, struct t_file *f, uint64_t pos,
		     uint64_t len)
{
	int fd = open(c->host, O_RDWR), ret;

	cr_assert(fd >= 0);
	cr_assert_eq(fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			       (off_t)pos, (off_t)len),
		     0);
	close(fd);
	ret = fsa_ext2_ops.punch(f->inode, (loff_t)pos, len);
	cr_assert_eq(ret, 0, "punch %llu+%llu: %s", (unsigned long long)pos,
		     (unsigned long long)len, strerror(-ret));
	if ((pos + len) / c->bs > (pos + c->bs - 1) / c->bs)
		model_drop(c, (pos + c->bs - 1) / c->bs,
			   (pos + len) / c->bs - 1);
}

static void punch_blocks(struct pctx *c, struct t_file *f, uint64_t first,
			 uint64_t last)
{
	do_punch(c, f, first * c->bs, (last - first + 1) * c->bs);
}

static void do_truncate(struct pctx *c, struct t_file *f, uint64_t size)
{
	int ret;

	cr_assert_eq(truncate(c->host, (off_t)size), 0);
	ret = fsa_ext2_ops.setsize(f->inode, (loff_t)size);
	cr_assert_eq(ret, 0, "setsize %llu: %s", (unsigned long long)size,
		     strerror(-ret));
	model_drop(c, (size + c->bs - 1) / c->bs, ~0ULL);
}

/* Blocks the indirect tree needs for the model's data blocks. */
static uint64_t model_meta(const struct pctx *c)
{
	uint64_t apb = c->apb, d0 = 12 + apb, t0 = d0 + apb * apb;
	uint64_t n = 0, last[3] = { ~0ULL, ~0ULL, ~0ULL };

	for (int i = 0; i < c->nblk; i++) {
		uint64_t b = c->blk[i], key[3];

		if (!c->mapped[i] || b < 12)
			continue;
		key[0] = (b - 12) / apb; /* its IND block */
		key[1] = b >= d0 ? (b - d0) / (apb * apb) : ~1ULL; /* DIND */
		key[2] = b >= t0 ? 0 : ~1ULL; /* TIND */
		for (int l = 0; l < 3; l++)
			if (key[l] != ~1ULL && key[l] != last[l]) {
				last[l] = key[l];
				n++;
			}
	}
	return n;
}

static int model_find(const struct pctx *c, uint64_t b)
{
	for (int i = 0; i < c->nblk; i++)
		if (c->blk[i] == b)
			return i;
	return -1;
}

/* Every @bs bytes of @got and @want at file offset @pos must agree. */
static void cmp_bytes(const struct pctx *c, const char *what, uint64_t pos,
		      const char *got, const char *want, size_t n)
{
	for (size_t i = 0; i < n; i++)
		cr_assert_eq(got[i], want[i],
			     "%s %s %u: byte %llu (block %llu): %d, host %d",
			     what, c->type, c->bs,
			     (unsigned long long)(pos + i),
			     (unsigned long long)((pos + i) / c->bs), got[i],
			     want[i]);
}

/* Host data in [@pos, @end) where we have a hole must be zeros. */
static void host_zero(const struct pctx *c, int hfd, uint64_t pos, uint64_t end)
{
	char *z = calloc(1, c->bs), *buf = malloc(c->bs);

	while (pos < end) {
		off_t d = lseek(hfd, (off_t)pos, SEEK_DATA);
		size_t n;

		if (d < 0 || (uint64_t)d >= end)
			break;
		pos = (uint64_t)d;
		n = end - pos < c->bs ? (size_t)(end - pos) : c->bs;
		cr_assert_eq(pread(hfd, buf, n, (off_t)pos), (ssize_t)n);
		cmp_bytes(c, "hole", pos, z, buf, n);
		pos += n;
	}
	free(z);
	free(buf);
}

/*
 * The file through the adapter's read mappings: the same bytes as the
 * host file everywhere, and mapped exactly where the model says.
 */
static void check_adapter(const struct pctx *c, struct t_file *f)
{
	struct iomap_iter it = { .inode = f->inode };
	int hfd = open(c->host, O_RDONLY), fd = open(c->img, O_RDONLY), ret;
	struct stat st;
	int nmapped = 0, want = 0;

	cr_assert(hfd >= 0 && fd >= 0 && fstat(hfd, &st) == 0);
	cr_assert_eq(f->inode->size, st.st_size);
	it.len = (uint64_t)st.st_size;
	while ((ret = iomap_iter(&it, fsa_ext2_ops.iomap->read)) > 0) {
		uint64_t n = iomap_length(&it), end = (uint64_t)it.pos + n;

		if (it.iomap.type != IOMAP_MAPPED) {
			host_zero(c, hfd, (uint64_t)it.pos, end);
			it.status = iomap_iter_advance(&it, n);
			continue;
		}
		for (uint64_t p = (uint64_t)it.pos; p < end;) {
			size_t k = end - p < c->bs ? (size_t)(end - p) : c->bs;
			char got[4096], host[4096];
			int i = model_find(c, p / c->bs);

			cr_assert(i >= 0 && c->mapped[i],
				  "%s %u: block %llu mapped, model says not",
				  c->type, c->bs,
				  (unsigned long long)(p / c->bs));
			nmapped += p % c->bs == 0;
			cr_assert_eq(
				pread(fd, got, k,
				      (off_t)iomap_addr(&it.iomap, (loff_t)p)),
				(ssize_t)k);
			cr_assert_eq(pread(hfd, host, k, (off_t)p), (ssize_t)k);
			cmp_bytes(c, "mapped", p, got, host, k);
			p += k;
		}
		it.status = iomap_iter_advance(&it, n);
	}
	cr_assert_eq(ret, 0);
	for (int i = 0; i < c->nblk; i++)
		want += c->mapped[i] &&
			c->blk[i] * c->bs < (uint64_t)st.st_size;
	cr_assert_eq(nmapped, want, "%s %u: %d blocks mapped, model %d",
		     c->type, c->bs, nmapped, want);
	close(hfd);
	close(fd);
}

static uint64_t model_sectors(const struct pctx *c)
{
	uint64_t n = model_meta(c);

	for (int i = 0; i < c->nblk; i++)
		n += c->mapped[i];
	return n * (c->bs / 512);
}

/* The kernel reads the host's bytes in every window and counts the same
 * blocks. */
static void check_kernel(const struct pctx *c)
{
	char path[600], *got = malloc(c->bs), *want = malloc(c->bs);
	struct stat st;
	int fd, hfd;

	if (!c->kernel)
		goto out;
	cr_assert_eq(t_sh("mount -o loop,ro %s %s", c->img, c->mnt), 0);
	snprintf(path, sizeof(path), "%s/f", c->mnt);
	fd = open(path, O_RDONLY);
	hfd = open(c->host, O_RDONLY);
	cr_assert(fd >= 0 && hfd >= 0 && fstat(fd, &st) == 0);
	cr_expect_eq((uint64_t)st.st_blocks, model_sectors(c),
		     "kernel st_blocks %llu, model %llu",
		     (unsigned long long)st.st_blocks,
		     (unsigned long long)model_sectors(c));
	for (int i = 0; i < c->nblk; i++) {
		ssize_t n = pread(hfd, want, c->bs, (off_t)(c->blk[i] * c->bs));

		cr_assert(n >= 0);
		cr_assert_eq(pread(fd, got, c->bs, (off_t)(c->blk[i] * c->bs)),
			     n);
		cmp_bytes(c, "kernel", c->blk[i] * c->bs, got, want, (size_t)n);
	}
	close(fd);
	close(hfd);
	cr_assert_eq(t_sh("umount %s", c->mnt), 0);
out:
	free(got);
	free(want);
}

static void fsck(const struct pctx *c, const char *what)
{
	char *out;
	int st = t_sh_out(&out, "e2fsck -fn %s 2>&1", c->img);

	cr_assert_eq(st, 0, "e2fsck -fn after %s (%s %u):\n%s", what, c->type,
		     c->bs, out);
	free(out);
}

/* Close, then everything from the image again: e2fsck, bytes, map,
 * i_blocks, the kernel. */
static void verify(struct pctx *c, struct t_file *f, const char *what)
{
	struct fsa_stat st;

	t_close(f);
	fsck(c, what);
	t_open(f, c->img, "/f", 0);
	check_adapter(c, f);
	cr_assert_eq(fsa_ext2_ops.stat(f->fs, f->ino, &st), 0);
	cr_assert_eq(st.blocks, model_sectors(c),
		     "%s (%s %u): i_blocks %llu, model %llu", what, c->type,
		     c->bs, (unsigned long long)st.blocks,
		     (unsigned long long)model_sectors(c));
	t_close(f);
	check_kernel(c);
}

/* Where the tree changes level or block: the first block of IND, DIND,
 * TIND, and the second IND under DIND and TIND, the second DIND. */
static int boundaries(uint64_t apb, uint64_t *b)
{
	uint64_t d0 = 12 + apb, t0 = d0 + apb * apb;

	b[0] = 12;
	b[1] = d0;
	b[2] = d0 + apb;
	b[3] = t0;
	b[4] = t0 + apb;
	b[5] = t0 + apb * apb;
	return 6;
}

/* One punch shape, relative to a boundary: [b + lo, b + hi] in blocks. */
struct shape {
	int lo, hi;
	const char *name;
};

static const struct shape shapes[] = {
	{ 0, 0, "starts at a boundary" },
	{ -1, -1, "ends at a boundary" },
	{ -2, 1, "crosses a boundary" },
	{ -3, -1, "all blocks before a boundary" },
	{ 0, 2, "all blocks after a boundary" },
};

static void boundary_case(const char *type, unsigned int bs, const char *size)
{
	struct win w[MAX_WIN];
	uint64_t b[6];
	struct pctx c;
	struct t_file f;
	int nb = boundaries(bs / 4, b);

	for (int i = 0; i < nb; i++)
		w[i] = (struct win){ b[i] - 3, 6 };
	pctx_init(&c, type, bs, size, w, nb);
	c.kernel = t_can_loop_mount();
	if (!c.kernel)
		cr_log_warn("no loop mount here: kernel checks skipped");

	/* The same shape at every boundary at once. */
	for (size_t s = 0; s < sizeof(shapes) / sizeof(shapes[0]); s++) {
		pctx_reset(&c);
		t_open(&f, c.img, "/f", 1);
		for (int i = 0; i < nb; i++)
			punch_blocks(&c, &f, b[i] + shapes[s].lo,
				     b[i] + shapes[s].hi);
		verify(&c, &f, shapes[s].name);
	}
	/* Across levels: one range from each boundary to the next ones. */
	for (int i = 0; i + 1 < nb; i++) {
		pctx_reset(&c);
		t_open(&f, c.img, "/f", 1);
		punch_blocks(&c, &f, b[i] - 1, b[i + 1 + (i < 4)] + 1);
		verify(&c, &f, "a range across levels");
	}
	/* Everything, and unaligned edges inside a block. */
	pctx_reset(&c);
	t_open(&f, c.img, "/f", 1);
	do_punch(&c, &f, b[2] * bs - 100, bs + 200);
	do_punch(&c, &f, b[4] * bs + 10, 20);
	verify(&c, &f, "unaligned punches");
	t_open(&f, c.img, "/f", 1);
	punch_blocks(&c, &f, 0, b[5] + 100);
	verify(&c, &f, "the whole file");

	/* Truncate to each boundary, and into the block before it; the
	 * kernel (a loop mount each) looks at the deepest one only. */
	for (int i = 0, kernel = c.kernel; i < nb; i++) {
		c.kernel = i == nb - 1 ? kernel : 0;
		pctx_reset(&c);
		t_open(&f, c.img, "/f", 1);
		do_truncate(&c, &f, (b[i] + 1) * bs);
		do_truncate(&c, &f, b[i] * bs);
		do_truncate(&c, &f, b[i] * bs - 1000);
		verify(&c, &f, "truncate to a boundary");
	}
	pctx_fini(&c);
}

TestSuite(ext2_punch, .timeout = 300);

Test(ext2_punch, boundaries_ext2_1k)
{
	boundary_case("ext2", 1024, "8M");
}
Test(ext2_punch, boundaries_ext2_4k)
{
	boundary_case("ext2", 4096, "8M");
}
Test(ext2_punch, boundaries_ext3_1k)
{
	boundary_case("ext3", 1024, "8M");
}
Test(ext2_punch, boundaries_ext3_4k)
{
	boundary_case("ext3", 4096, "16M");
}

/* How a damaged tree is made: edit /f's inode or one of its blocks. */
enum damage {
	D_IND_OUT_OF_RANGE, /* i_block[IND] past the end of the fs */
	D_IND_SELF, /* the IND block's first entry is the IND block */
	D_DIND_TWICE, /* two DIND entries name the same IND block */
	D_TIND_SELF, /* the TIND block's first entry is the TIND block */
	D_IND_FREE, /* the IND block is free in the bitmap */
	D_IBLOCKS_LOW, /* i_blocks is 0 */
};

static void damage(const char *img, enum damage d)
{
	ext2_filsys fs;
	ext2_ino_t ino;
	struct ext2_inode in;
	blk_t *addr, b;

	cr_assert_eq(ext2fs_open(img, EXT2_FLAG_RW, 0, 0, unix_io_manager, &fs),
		     0);
	cr_assert_eq(ext2fs_namei(fs, EXT2_ROOT_INO, EXT2_ROOT_INO, "f", &ino),
		     0);
	cr_assert_eq(ext2fs_read_inode(fs, ino, &in), 0);
	cr_assert_eq(ext2fs_get_mem(fs->blocksize, &addr), 0);
	switch (d) {
	case D_IND_OUT_OF_RANGE:
		in.i_block[EXT2_IND_BLOCK] =
			(blk_t)ext2fs_blocks_count(fs->super) + 5;
		cr_assert_eq(ext2fs_write_inode(fs, ino, &in), 0);
		break;
	case D_IND_SELF:
	case D_TIND_SELF:
		b = in.i_block[d == D_IND_SELF ? EXT2_IND_BLOCK :
						 EXT2_TIND_BLOCK];
		cr_assert_eq(ext2fs_read_ind_block(fs, b, addr), 0);
		addr[0] = b;
		cr_assert_eq(ext2fs_write_ind_block(fs, b, addr), 0);
		break;
	case D_IND_FREE:
		/* Counts kept with the bitmap: a count that disagrees is
		 * refused when the image is opened. */
		cr_assert_eq(ext2fs_read_bitmaps(fs), 0);
		ext2fs_block_alloc_stats2(fs, in.i_block[EXT2_IND_BLOCK], -1);
		break;
	case D_IBLOCKS_LOW:
		in.i_blocks = 0;
		cr_assert_eq(ext2fs_write_inode(fs, ino, &in), 0);
		break;
	case D_DIND_TWICE:
		b = in.i_block[EXT2_DIND_BLOCK];
		cr_assert_eq(ext2fs_read_ind_block(fs, b, addr), 0);
		cr_assert(addr[0] && addr[1]);
		addr[1] = addr[0];
		cr_assert_eq(ext2fs_write_ind_block(fs, b, addr), 0);
		break;
	}
	ext2fs_free_mem(&addr);
	cr_assert_eq(ext2fs_close_free(&fs), 0);
}

/*
 * A damaged tree: the walk ends, says EFSCORRUPTED (EUCLEAN), frees no block twice
 * and none outside the filesystem (ASan and the bitmap check would see).
 */
static void damaged_case(enum damage d, uint64_t first, uint64_t last)
{
	struct win w[6];
	uint64_t b[6];
	struct pctx c;
	struct t_file f;
	int nb = boundaries(256, b), ret;

	for (int i = 0; i < nb; i++)
		w[i] = (struct win){ b[i] - 3, 6 };
	pctx_init(&c, "ext2", 1024, "8M", w, nb);
	pctx_reset(&c);
	damage(c.img, d);
	t_open(&f, c.img, "/f", 1);
	ret = fsa_ext2_ops.punch(f.inode, (loff_t)(first * 1024),
				 (last - first + 1) * 1024);
	cr_assert_eq(ret, -EUCLEAN, "punch on damage %d: %d (%s)", d, ret,
		     strerror(-ret));
	t_close(&f);
	pctx_fini(&c);
}

/* What /f's tree still maps in [@first, @last] of its direct blocks and
 * first IND block. */
static int still_mapped(const char *img, uint64_t first, uint64_t last)
{
	ext2_filsys fs;
	ext2_ino_t ino;
	struct ext2_inode in;
	blk_t *addr;
	int n = 0;

	cr_assert_eq(ext2fs_open(img, 0, 0, 0, unix_io_manager, &fs), 0);
	cr_assert_eq(ext2fs_namei(fs, EXT2_ROOT_INO, EXT2_ROOT_INO, "f", &ino),
		     0);
	cr_assert_eq(ext2fs_read_inode(fs, ino, &in), 0);
	for (uint64_t b = first; b <= last && b < EXT2_NDIR_BLOCKS; b++)
		n += in.i_block[b] != 0;
	if (in.i_block[EXT2_IND_BLOCK]) {
		cr_assert_eq(ext2fs_get_mem(fs->blocksize, &addr), 0);
		cr_assert_eq(ext2fs_read_ind_block(
				     fs, in.i_block[EXT2_IND_BLOCK], addr),
			     0);
		for (uint64_t b = first < 12 ? 12 : first;
		     b <= last && b < 12 + fs->blocksize / 4; b++)
			n += addr[b - 12] != 0;
		ext2fs_free_mem(&addr);
	}
	ext2fs_free(fs);
	return n;
}

/*
 * Damage in the tree (the IND block free in the bitmap) is found by the
 * checking pass before anything is freed: all @mapped slots stay.  Damage
 * met only after the walk (i_blocks too low to go down) still leaves no
 * slot on disk naming a block it freed.
 */
static void damaged_consistent_case(enum damage d, int want, int mapped)
{
	struct win w[] = { { 9, 6 } };
	struct pctx c;
	struct t_file f;
	int ret;

	pctx_init(&c, "ext2", 1024, "8M", w, 1);
	pctx_reset(&c);
	damage(c.img, d);
	t_open(&f, c.img, "/f", 1);
	ret = fsa_ext2_ops.punch(f.inode, 0, 100 * 1024);
	cr_assert_eq(ret, want, "punch on damage %d: %d (%s)", d, ret,
		     strerror(-ret));
	t_close(&f);
	cr_assert_eq(still_mapped(c.img, 0, 99), mapped,
		     "slots on disk: %d mapped, want %d",
		     still_mapped(c.img, 0, 99), mapped);
	pctx_fini(&c);
}

Test(ext2_punch, damaged_ind_free_changes_nothing)
{
	damaged_consistent_case(D_IND_FREE, -EUCLEAN, 6);
}
Test(ext2_punch, damaged_iblocks_writes_inode)
{
	damaged_consistent_case(D_IBLOCKS_LOW, -EOVERFLOW, 0);
}
Test(ext2_punch, damaged_out_of_range)
{
	damaged_case(D_IND_OUT_OF_RANGE, 0, 200000);
}
Test(ext2_punch, damaged_ind_loop)
{
	damaged_case(D_IND_SELF, 12, 300);
}
Test(ext2_punch, damaged_dind_twice)
{
	damaged_case(D_DIND_TWICE, 0, 200000);
}
Test(ext2_punch, damaged_tind_loop)
{
	damaged_case(D_TIND_SELF, 65804, 200000);
}

/* The two reports on ext3 with 4 KiB blocks: one block punched
 * under DIND freed ten, and a 1 MiB punch across two INDs freed none. */
Test(ext2_punch, reported_ext3_4k)
{
	static const struct win w[] = { { 2816, 256 }, { 4096, 16 } };
	struct pctx c;
	struct t_file f;

	pctx_init(&c, "ext3", 4096, "64M", w, 2);
	c.kernel = t_can_loop_mount();
	if (!c.kernel)
		cr_log_warn("no loop mount here: kernel checks skipped");
	pctx_reset(&c);
	t_open(&f, c.img, "/f", 1);
	do_punch(&c, &f, 16 * 1048576 + 8192, 4096);
	do_punch(&c, &f, 11 * 1048576 + 262144, 1048576);
	verify(&c, &f, "the reported punches");
	pctx_fini(&c);
}
