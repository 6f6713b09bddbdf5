// SPDX-License-Identifier: GPL-2.0
/* ext2_lookup_test.c - path walk errors, symlinks resolved inside the
 * image, stat, readdir, readlink, probe and info. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <criterion/criterion.h>

#include "ext2_util.h"
#include "helpers.h"

static char *dir;
static char img[512];

static void setup(void)
{
	dir = t_tmpdir();
	snprintf(img, sizeof(img), "%s/img", dir);
	cr_assert_eq(
		t_sh("cd %s && mkdir -p src/dir/sub && echo hi > src/small && "
		     "echo inner > src/dir/inner && ln -s small src/lnk && "
		     "ln -s /dir/inner src/abs && ln -s ../small src/dir/up && "
		     "ln -s ../../../../../../small src/dir/esc && "
		     "ln -s /../../.. src/dir/rootesc && "
		     "ln -s loop2 src/loop1 && ln -s loop1 src/loop2 && "
		     "ln -s dir/./../dir/../dir/./../dir/./../dir/./../dir/./../dir/inner src/slow && "
		     "ln -s sub src/dir/sublnk && "
		     "for i in $(seq 0 40); do ln -s c$((i+1)) src/c$i; done && "
		     "echo end > src/c41 && "
		     "mke2fs -q -F -t ext4 -L mylabel -U 0b6ad4cc-2f4c-4a6b-9d7a-3c6f2d6f1e01 "
		     "-b 4096 -d src img 8M",
		     dir),
		0);
}

static void teardown(void)
{
	t_tmpdir_remove(dir);
}

TestSuite(ext2_lookup, .init = setup, .fini = teardown, .timeout = 60);

struct lookup_case {
	const char *path;
	int err; /* expected return */
	const char *same_as; /* must resolve to this path's inode */
};

static const struct lookup_case cases[] = {
	{ "/", 0, "/." },
	{ "/small", 0, "//small" },
	{ "/nope", -ENOENT, NULL },
	{ "/dir/nope/x", -ENOENT, NULL },
	{ "/small/x", -ENOTDIR, NULL },
	{ "/small/", -ENOTDIR, NULL },
	{ "/lnk", 0, "/small" },
	{ "/lnk/", -ENOTDIR, NULL },
	{ "/abs", 0, "/dir/inner" },
	{ "/dir/up", 0, "/small" },
	{ "/dir/esc", 0, "/small" },
	{ "/dir/rootesc", 0, "/" },
	{ "/dir/rootesc/dir/inner", 0, "/dir/inner" },
	{ "/../../../small", 0, "/small" },
	{ "/slow", 0, "/dir/inner" },
	{ "/dir/sublnk/", 0, "/dir/sub" },
	{ "/loop1", -ELOOP, NULL },
	{ "/loop1/x", -ELOOP, NULL },
	{ "/c1", 0, "/c41" }, /* 40 links: allowed */
	{ "/c0", -ELOOP, NULL }, /* 41 links: one too many */
	{ "", -ENOENT, NULL },
};

Test(ext2_lookup, kernel_errors)
{
	struct t_file f;
	char longname[300];

	t_open(&f, img, NULL, 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t ino = 0, want = 0;
		int ret = fsa_ext2_ops.lookup(f.fs, cases[i].path, &ino);

		cr_expect_eq(ret, cases[i].err, "lookup '%s': %d, want %d",
			     cases[i].path, ret, cases[i].err);
		if (cases[i].same_as && !ret) {
			cr_assert_eq(fsa_ext2_ops.lookup(f.fs, cases[i].same_as,
							 &want),
				     0);
			cr_expect_eq(ino, want,
				     "'%s' resolved to %llu, want %llu",
				     cases[i].path, (unsigned long long)ino,
				     (unsigned long long)want);
		}
	}
	memset(longname, 'a', sizeof(longname) - 1);
	longname[0] = '/';
	longname[sizeof(longname) - 1] = '\0';
	cr_expect_eq(fsa_ext2_ops.lookup(f.fs, longname, &(uint64_t){ 0 }),
		     -ENAMETOOLONG);
	t_close(&f);
}

Test(ext2_lookup, nofollow_stat_readlink)
{
	struct t_file f;
	struct fsa_stat st;
	uint64_t ino;
	char buf[256];

	t_open(&f, img, NULL, 0);
	cr_assert_eq(fsa_ext2_ops.lookup_link(f.fs, "/dir/up", &ino), 0);
	cr_assert_eq(fsa_ext2_ops.stat(f.fs, ino, &st), 0);
	cr_expect(S_ISLNK(st.mode));
	cr_assert_eq(fsa_ext2_ops.readlink(f.fs, ino, buf, sizeof(buf)), 0);
	cr_expect_str_eq(buf, "../small");
	cr_assert_eq(fsa_ext2_ops.lookup_link(f.fs, "/slow", &ino), 0);
	cr_assert_eq(fsa_ext2_ops.readlink(f.fs, ino, buf, sizeof(buf)), 0);
	cr_expect_str_eq(
		buf,
		"dir/./../dir/../dir/./../dir/./../dir/./../dir/./../dir/inner");
	cr_expect_eq(fsa_ext2_ops.readlink(f.fs, ino, buf, 8), -ENAMETOOLONG);
	cr_assert_eq(fsa_ext2_ops.lookup(f.fs, "/small", &ino), 0);
	cr_expect_eq(fsa_ext2_ops.readlink(f.fs, ino, buf, sizeof(buf)),
		     -EINVAL);
	cr_assert_eq(fsa_ext2_ops.stat(f.fs, ino, &st), 0);
	cr_expect(S_ISREG(st.mode));
	cr_expect_eq(st.size, 3);
	cr_expect_eq(st.nlink, 1);
	cr_expect_gt(st.mtime.tv_sec, 1600000000);
	cr_expect_neq(st.blocks, 0);
	cr_expect_eq(fsa_ext2_ops.stat(f.fs, 0, &st), -ENOENT);
	t_close(&f);
}

struct seen {
	int n;
	char names[64][32];
	uint8_t types[64];
};

static int collect(const struct fsa_dirent *de, void *priv)
{
	struct seen *s = priv;

	cr_assert_lt(s->n, 64);
	snprintf(s->names[s->n], 32, "%.31s", de->name);
	s->types[s->n++] = de->type;
	return 0;
}

static int type_of(const struct seen *s, const char *name)
{
	for (int i = 0; i < s->n; i++)
		if (!strcmp(s->names[i], name))
			return s->types[i];
	return -1;
}

Test(ext2_lookup, readdir_types)
{
	struct t_file f;
	struct seen s = { 0 };
	uint64_t ino;

	t_open(&f, img, NULL, 0);
	cr_assert_eq(fsa_ext2_ops.lookup(f.fs, "/dir", &ino), 0);
	cr_assert_eq(fsa_ext2_ops.readdir(f.fs, ino, collect, &s), 0);
	cr_expect_eq(type_of(&s, "."), DT_DIR);
	cr_expect_eq(type_of(&s, ".."), DT_DIR);
	cr_expect_eq(type_of(&s, "inner"), DT_REG);
	cr_expect_eq(type_of(&s, "sub"), DT_DIR);
	cr_expect_eq(type_of(&s, "up"), DT_LNK);
	cr_expect_eq(s.n, 8);
	cr_assert_eq(fsa_ext2_ops.lookup(f.fs, "/small", &ino), 0);
	cr_expect_eq(fsa_ext2_ops.readdir(f.fs, ino, collect, &s), -ENOTDIR);
	t_close(&f);
}

Test(ext2_lookup, probe_info)
{
	struct fsa_info info;
	char other[600];
	int err;

	cr_assert_eq(fsa_probe(img, &info, &err), &fsa_ext2_ops);
	cr_expect_str_eq(info.type, "ext4");
	cr_expect_str_eq(info.label, "mylabel");
	cr_expect_str_eq(info.uuid, "0b6ad4cc-2f4c-4a6b-9d7a-3c6f2d6f1e01");
	cr_expect_eq(info.block_size, 4096);
	cr_expect_eq(info.block_count, 2048);
	cr_expect_gt(info.free_blocks, 0);
	snprintf(other, sizeof(other), "%s/other", dir);
	cr_assert_eq(t_sh("cd %s && truncate -s 8M other", dir), 0);
	cr_expect_eq(fsa_ext2_ops.probe(other, &info), -ENODATA);
	cr_expect_null(fsa_probe(other, &info, &err));
	cr_expect_eq(err, -ENODATA);
	snprintf(other, sizeof(other), "%s/missing", dir);
	cr_expect_eq(fsa_ext2_ops.probe(other, &info), -ENOENT);
	cr_assert_eq(
		t_sh("cd %s && mke2fs -q -F -t ext2 e2 8M && mke2fs -q -F -t ext3 e3 8M",
		     dir),
		0);
	snprintf(other, sizeof(other), "%s/e2", dir);
	cr_assert_eq(fsa_ext2_ops.probe(other, &info), 0);
	cr_expect_str_eq(info.type, "ext2");
	snprintf(other, sizeof(other), "%s/e3", dir);
	cr_assert_eq(fsa_ext2_ops.probe(other, &info), 0);
	cr_expect_str_eq(info.type, "ext3");
}
