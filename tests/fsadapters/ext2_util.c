// SPDX-License-Identifier: GPL-2.0
/* ext2_util.c - building ext2/3/4 test images and comparing block maps. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/fiemap.h>

#include <criterion/criterion.h>

#include "ext2_util.h"
#include "helpers.h"

void t_bmap_init(struct t_bmap *m, uint64_t nblocks)
{
	m->n = nblocks;
	m->pblk = calloc(nblocks + 1, sizeof(*m->pblk));
	m->kind = calloc(nblocks + 1, 1);
	cr_assert(m->pblk && m->kind);
}

void t_bmap_free(struct t_bmap *m)
{
	free(m->pblk);
	free(m->kind);
}

static void t_bmap_set(struct t_bmap *m, uint64_t l, uint64_t p, uint64_t len,
		       uint8_t kind)
{
	for (uint64_t i = 0; i < len && l + i < m->n; i++) {
		m->kind[l + i] = kind;
		m->pblk[l + i] = kind == T_INLINE ? 0 : p + i;
	}
}

void t_bmap_from_fiemap(struct t_bmap *m, const void *extents, uint32_t n,
			unsigned int bs)
{
	const struct fiemap_extent *fe = extents;

	for (uint32_t i = 0; i < n; i++) {
		uint8_t kind = T_MAPPED;

		if (fe[i].fe_flags & FIEMAP_EXTENT_DATA_INLINE)
			kind = T_INLINE;
		else if (fe[i].fe_flags & FIEMAP_EXTENT_UNWRITTEN)
			kind = T_UNWRITTEN;
		t_bmap_set(m, fe[i].fe_logical / bs, fe[i].fe_physical / bs,
			   (fe[i].fe_length + bs - 1) / bs, kind);
	}
}

/* "(L1-L2[u]):P1-P2" items of debugfs stat's BLOCKS/EXTENTS section. */
static void t_bmap_parse_stat(struct t_bmap *m, char *out)
{
	char *s = strstr(out, "BLOCKS:\n");

	if (!s)
		s = strstr(out, "EXTENTS:\n");
	if (!s)
		return;
	for (s = strchr(s, '('); s; s = strchr(s + 1, '(')) {
		unsigned long long l1, l2, p1, p2;
		int uninit = 0;

		if (sscanf(s, "(%llu", &l1) != 1)
			continue; /* (IND), (ETB0) ... */
		l2 = l1;
		sscanf(s, "(%*u-%llu", &l2);
		uninit = strncmp(strchr(s, ')') - 3, "[u]", 3) == 0;
		s = strchr(s, ':');
		if (sscanf(s, ":%llu", &p1) != 1)
			continue;
		p2 = p1;
		sscanf(s, ":%*u-%llu", &p2);
		cr_assert_eq(p2 - p1, l2 - l1, "bad debugfs item %.30s", s);
		t_bmap_set(m, l1, p1, l2 - l1 + 1,
			   uninit ? T_UNWRITTEN : T_MAPPED);
	}
}

/* Leaf lines of debugfs `ex`: "lvl/max n/m L1 - L2 P1 - P2 len [Uninit]". */
static void t_bmap_parse_ex(struct t_bmap *m, char *out)
{
	for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n")) {
		unsigned long long l1, l2, p1, p2, len;
		int lvl, max;

		if (sscanf(line, "%d/%d %*d/%*d %llu - %llu %llu - %llu %llu",
			   &lvl, &max, &l1, &l2, &p1, &p2, &len) != 7 ||
		    lvl != max)
			continue;
		t_bmap_set(m, l1, p1, len,
			   strstr(line, "Uninit") ? T_UNWRITTEN : T_MAPPED);
	}
}

void t_bmap_from_debugfs(struct t_bmap *m, const char *img, const char *path,
			 int extents)
{
	char *out;

	cr_assert_eq(t_sh_out(&out, "debugfs -R '%s %s' '%s' 2>/dev/null",
			      extents ? "ex" : "stat", path, img),
		     0);
	if (extents)
		t_bmap_parse_ex(m, out);
	else
		t_bmap_parse_stat(m, out);
	free(out);
}

int64_t t_bmap_diff(const struct t_bmap *a, const struct t_bmap *b)
{
	for (uint64_t i = 0; i < a->n && i < b->n; i++)
		if (a->kind[i] != b->kind[i] || a->pblk[i] != b->pblk[i])
			return (int64_t)i;
	return a->n == b->n ? -1 : (int64_t)(a->n < b->n ? a->n : b->n);
}

void t_open(struct t_file *f, const char *img, const char *path, int rw)
{
	int ret;

	memset(f, 0, sizeof(*f));
	ret = fsa_ext2_ops.open(img, rw ? FSA_OPEN_RDWR : 0, &f->stats, &f->fs);
	cr_assert_eq(ret, 0, "open %s: %s", img, strerror(-ret));
	if (!path)
		return;
	ret = fsa_ext2_ops.lookup(f->fs, path, &f->ino);
	cr_assert_eq(ret, 0, "lookup %s: %s", path, strerror(-ret));
	ret = fsa_ext2_ops.iget(f->fs, f->ino, &f->inode);
	cr_assert_eq(ret, 0, "iget %s: %s", path, strerror(-ret));
}

void t_close(struct t_file *f)
{
	if (f->inode)
		fsa_ext2_ops.iput(f->inode);
	f->inode = NULL;
	if (f->fs)
		cr_assert_eq(fsa_ext2_ops.close(f->fs), 0);
	f->fs = NULL;
}

int t_fiemap_bmap(struct t_file *f, struct t_bmap *m, int bh)
{
	struct fiemap_extent *fe = calloc(65536, sizeof(*fe));
	struct iomap_fiemap_info fi = { .fi_extents_max = 65536,
					.fi_extents_start = fe };
	unsigned int bs = 1U << f->inode->blkbits;
	int ret;

	cr_assert_not_null(fe);
	t_bmap_init(m, ((uint64_t)f->inode->size + bs - 1) / bs);
	if (bh)
		ret = iomap_bh_fiemap(f->inode, &fi, 0, FIEMAP_MAX_OFFSET,
				      fsa_ext2_ops.iomap->get_block);
	else
		ret = iomap_fiemap(f->inode, &fi, 0, FIEMAP_MAX_OFFSET, 0,
				   fsa_ext2_ops.iomap->report);
	if (!ret)
		t_bmap_from_fiemap(m, fe, fi.fi_extents_mapped, bs);
	free(fe);
	return ret;
}
