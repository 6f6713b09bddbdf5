// SPDX-License-Identifier: GPL-2.0
/* ext2_dirindex_test.c - many names in one directory: every create, mkdir,
 * symlink, link and rename into a large directory stays correct (names
 * unique, all found by debugfs and the kernel's e2fsck) and costs a
 * constant number of metadata reads however large the directory is. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "../../fsadapters/ext2/ext2.h"
#include "ext2_util.h"
#include "helpers.h"

struct big {
	char *dir;
	char img[512];
	struct t_file f;
	uint64_t d; /* the directory being filled */
};

static void big_init(struct big *b, const char *type, unsigned int bs)
{
	b->dir = t_tmpdir();
	snprintf(b->img, sizeof(b->img), "%s/img", b->dir);
	cr_assert_eq(t_sh("cd %s && mkdir -p src/d && mke2fs -q -F -t %s "
			  "-b %u -N 30000 -d src img 64M",
			  b->dir, type, bs),
		     0);
	t_open(&b->f, b->img, NULL, 1);
	cr_assert_eq(fsa_ext2_ops.lookup(b->f.fs, "/d", &b->d), 0);
}

static void big_fsck(struct big *b)
{
	char *out;
	int st;

	t_close(&b->f);
	st = t_sh_out(&out, "e2fsck -fn %s 2>&1", b->img);
	cr_assert_eq(st, 0, "e2fsck -fn:\n%s", out);
	free(out);
}

/* Block reads (cached or not) the I/O layer was asked for. */
static uint64_t meta_reads(struct big *b)
{
	struct fsa_ext2_bcache_stats st;

	fsa_ext2_bcache_stats(EXT2_FS(b->f.fs), &st);
	return st.reads + st.hits;
}

static void create_range(struct big *b, int from, int to)
{
	for (int i = from; i < to; i++) {
		char name[64];
		uint64_t ino;
		int ret;

		snprintf(name, sizeof(name), "file-with-a-long-name-%06d", i);
		ret = fsa_ext2_ops.create(b->f.fs, b->d, name, 0644, &ino);
		cr_assert_eq(ret, 0, "create %s: %s", name, strerror(-ret));
	}
}

static void fill(const char *type, unsigned int bs)
{
	struct big b;
	uint64_t ino, r0, r1, r2, r3;
	char *out;

	big_init(&b, type, bs);
	create_range(&b, 0, 2000);
	r0 = meta_reads(&b);
	create_range(&b, 2000, 3000);
	r1 = meta_reads(&b);
	create_range(&b, 3000, 12000);
	r2 = meta_reads(&b);
	create_range(&b, 12000, 13000);
	r3 = meta_reads(&b);
	/* A scan per name read all of the directory's blocks per create. */
	cr_log_info("%s: block reads per 1000 creates: %llu at 2,000 entries, "
		    "%llu at 12,000",
		    type, (unsigned long long)(r1 - r0),
		    (unsigned long long)(r3 - r2));
	cr_expect_leq(r3 - r2, 2 * (r1 - r0) + 200,
		      "reads grew with the directory: %llu, then %llu",
		      (unsigned long long)(r1 - r0),
		      (unsigned long long)(r3 - r2));
	/* Names the set knows are refused; others of every kind go in. */
	cr_assert_eq(fsa_ext2_ops.create(b.f.fs, b.d,
					 "file-with-a-long-name-000042", 0644,
					 &ino),
		     -EEXIST);
	cr_assert_eq(fsa_ext2_ops.mkdir(b.f.fs, b.d, "sub", 0755, &ino), 0);
	cr_assert_eq(fsa_ext2_ops.mkdir(b.f.fs, b.d, "sub", 0755, &ino),
		     -EEXIST);
	cr_assert_eq(fsa_ext2_ops.symlink(b.f.fs, b.d, "ln", "target", &ino),
		     0);
	cr_assert_eq(fsa_ext2_ops.symlink(b.f.fs, b.d, "ln", "x", &ino),
		     -EEXIST);
	/* Directories too: their ".." counted in the parent (e2fsck). */
	for (int i = 0; i < 300; i++) {
		char name[32];

		snprintf(name, sizeof(name), "dir-%d", i);
		cr_assert_eq(fsa_ext2_ops.mkdir(b.f.fs, b.d, name, 0755, &ino),
			     0, "mkdir %s", name);
	}
	cr_assert_eq(fsa_ext2_ops.mkdir(b.f.fs, b.d, "dir-7", 0755, &ino),
		     -EEXIST);
	/* A removed name may come back; a moved one is found again. */
	cr_assert_eq(fsa_ext2_ops.unlink(b.f.fs, b.d,
					 "file-with-a-long-name-000007"),
		     0);
	cr_assert_eq(fsa_ext2_ops.create(b.f.fs, b.d,
					 "file-with-a-long-name-000007", 0600,
					 &ino),
		     0);
	cr_assert_eq(fsa_ext2_ops.rename(b.f.fs, b.d,
					 "file-with-a-long-name-000008", b.d,
					 "moved", 0),
		     0);
	cr_assert_eq(fsa_ext2_ops.create(b.f.fs, b.d, "moved", 0600, &ino),
		     -EEXIST);
	cr_assert_eq(fsa_ext2_ops.lookup(b.f.fs, "/d/moved", &ino), 0);
	big_fsck(&b);
	cr_assert_eq(t_sh_out(&out,
			      "debugfs -R 'ls /d' %s 2>/dev/null | tr ' ' "
			      "'\\n' | grep -c '^file-with-a-long-name-'",
			      b.img),
		     0);
	cr_assert_eq(atoi(out), 12999, "debugfs lists %s", out);
	free(out);
	t_tmpdir_remove(b.dir);
}

Test(ext2_dirindex, ext4_4k_13000_names)
{
	fill("ext4", 4096);
}

Test(ext2_dirindex, ext2_1k_13000_names)
{
	fill("ext2", 1024);
}
