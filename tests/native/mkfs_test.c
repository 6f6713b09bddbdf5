// SPDX-License-Identifier: GPL-2.0
/* mkfs_test.c - `mkfs` makes images that probe, ls and stat read, in every
 * block size, sparse however large, and refuses what it cannot make. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <criterion/criterion.h>

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

TestSuite(mkfs, .init = setup, .fini = teardown);

/* `iomapctl ARGS` in @dir; stdout (and stderr) in *@out. */
static int run(char **out, const char *args)
{
	return t_sh_out(out, "cd '%s' && %s %s 2>&1", dir, IOMAPCTL_BINARY,
			args);
}

Test(mkfs, every_block_size_probes_lists_and_stats)
{
	static const unsigned int sizes[] = { 1024,  2048,  4096, 8192,
					      16384, 32768, 65536 };

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		char args[256], want[256], *out;

		snprintf(args, sizeof(args),
			 "mkfs -q --size 64m -b %u -L lbl%u "
			 "-U 0123abcd-0000-4000-8000-00000000000%zu img%u",
			 sizes[i], sizes[i], i, sizes[i]);
		cr_assert_eq(run(&out, args), 0, "%s: %s", args, out);
		free(out);
		snprintf(args, sizeof(args), "--json probe img%u", sizes[i]);
		cr_assert_eq(run(&out, args), 0, "%s", out);
		snprintf(want, sizeof(want),
			 "{\"image\":\"img%u\",\"type\":\"iomapfs\","
			 "\"block_size\":%u,\"block_count\":%u,",
			 sizes[i], sizes[i], (64U << 20) / sizes[i]);
		cr_expect(strstr(out, want) == out, "%s", out);
		snprintf(want, sizeof(want),
			 "\"label\":\"lbl%u\",\"uuid\":"
			 "\"0123abcd-0000-4000-8000-00000000000%zu\","
			 "\"source\":\"adapter\"}",
			 sizes[i], i);
		cr_expect(strstr(out, want), "%s", out);
		free(out);
		snprintf(args, sizeof(args), "--json ls img%u:/", sizes[i]);
		cr_assert_eq(run(&out, args), 0, "%s", out);
		cr_expect_str_eq(out, "{\"dir\":\"/\",\"entries\":[]}\n");
		free(out);
		snprintf(args, sizeof(args), "stat img%u:/", sizes[i]);
		cr_assert_eq(run(&out, args), 0, "%s", out);
		cr_expect(strstr(out, "directory") && strstr(out, "Links: 2"),
			  "%s", out);
		free(out);
		snprintf(args, sizeof(args), "%s/img%u", dir, sizes[i]);
		tn_assert_clean(args);
	}
}

Test(mkfs, a_huge_image_stays_sparse)
{
	struct stat st;
	char path[512], *out;

	/* 15 TiB: the most an ext4 host holds in one file of 4 KiB blocks. */
	cr_assert_eq(run(&out, "mkfs -q --size 15t -b 1k big"), 0, "%s", out);
	free(out);
	snprintf(path, sizeof(path), "%s/big", dir);
	cr_assert_eq(stat(path, &st), 0);
	cr_expect_eq(st.st_size, 15LL << 40);
	cr_expect_lt(st.st_blocks * 512, 1 << 20, "%lld bytes allocated",
		     (long long)st.st_blocks * 512);
	cr_assert_eq(run(&out, "--json probe big"), 0, "%s", out);
	cr_expect(strstr(out, "\"block_count\":16106127360"), "%s", out);
	free(out);
	tn_assert_clean(path);
}

Test(mkfs, refuses_what_it_cannot_make)
{
	static const char *const bad[][2] = {
		{ "mkfs new", "does not exist: give --size" },
		{ "mkfs -b 3k --size 1m x", "not a power of two" },
		{ "mkfs -b 128k --size 1m x", "not a power of two" },
		{ "mkfs --size 64k x", "too small" },
		{ "mkfs -U nope --size 1m x", "bad UUID" },
		{ "mkfs -L 0123456789012345678901234567890123456789012345678901"
		  "234567890123 --size 1m x",
		  "label longer" },
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *out;

		cr_expect_neq(run(&out, bad[i][0]), 0, "%s", bad[i][0]);
		cr_expect(strstr(out, bad[i][1]), "%s: %s", bad[i][0], out);
		free(out);
	}
	cr_expect_neq(t_sh("cd '%s' && %s probe new 2>/dev/null", dir,
			   IOMAPCTL_BINARY),
		      0);
}

Test(mkfs, reformats_an_ext4_image)
{
	char *out;

	cr_assert_eq(t_sh("cd '%s' && mke2fs -q -t ext4 -b 1024 img 8m", dir),
		     0);
	cr_assert_eq(run(&out, "mkfs -q -b 1k img"), 0, "%s", out);
	free(out);
	cr_assert_eq(run(&out, "probe img"), 0, "%s", out);
	cr_expect_str_eq(out, "iomapfs\n");
	free(out);
}
