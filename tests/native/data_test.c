// SPDX-License-Identifier: GPL-2.0
/* data_test.c - the data commands on native images through every data path
 * and mapper: each step is done to a host file too, the bytes must match,
 * and the image must check clean after. */
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

TestSuite(data, .init = setup, .fini = teardown);

/* One step: the iomapctl command (after the options) and the host one. */
static const char *const steps[][2] = {
	{ "cp src img:/f", "cp src h" },
	{ "write --pattern 0x41 --length 70000 img:/f 1500000",
	  "python3 -c \"f=open('h','r+b');f.seek(1500000);"
	  "f.write(b'A'*70000)\"" },
	{ "truncate img:/f 1234567", "truncate -s 1234567 h" },
	{ "punch img:/f 10000 300000", "fallocate -p -o 10000 -l 300000 h" },
	{ "zero img:/f 500001 77777", "fallocate -z -o 500001 -l 77777 h" },
	{ "falloc img:/f 1200000 200000", "fallocate -o 1200000 -l 200000 h" },
	{ "write --pattern 0x43 --length 3000 img:/f 1300001",
	  "python3 -c \"f=open('h','r+b');f.seek(1300001);"
	  "f.write(b'C'*3000)\"" },
	{ "falloc -k img:/f 2000000 100000",
	  "fallocate -n -o 2000000 -l 100000 h" },
	{ "truncate img:/f 2050000", "truncate -s 2050000 h" },
	{ "write --pattern 0x44 --length 9000 img:/f 2040000",
	  "python3 -c \"f=open('h','r+b');f.seek(2040000);"
	  "f.write(b'D'*9000)\"" },
	{ "punch img:/f 0 4096", "fallocate -p -o 0 -l 4096 h" },
};

/* Arrays, not pointers: each case runs in a fresh process image.  Block
 * sizes stop at 4 KiB: the engine's page cache takes none larger. */
struct data_case {
	char io[16];
	char mapper[16];
	unsigned int block_size;
};

ParameterizedTestParameters(data, steps_match_a_host_file)
{
	static struct data_case cases[] = {
		{ "buffered", "iomap", 1024 },	{ "buffered", "bh", 4096 },
		{ "buffered", "hybrid", 2048 }, { "direct", "iomap", 4096 },
		{ "direct", "bh", 1024 },	{ "direct", "hybrid", 1024 },
	};

	return cr_make_param_array(struct data_case, cases,
				   sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct data_case *tc, data, steps_match_a_host_file)
{
	char *img = tn_mkfs(dir, "img", 32 << 20, tc->block_size);

	cr_assert_eq(t_sh("cd '%s' && head -c 1000000 /dev/urandom > src", dir),
		     0);
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
		cr_assert_eq(t_sh("cd '%s' && %s -q --io=%s --mapper=%s %s && "
				  "%s && %s cat img:/f | cmp - h",
				  dir, IOMAPCTL_BINARY, tc->io, tc->mapper,
				  steps[i][0], steps[i][1], IOMAPCTL_BINARY),
			     0, "%s", steps[i][0]);
	tn_assert_clean(img);
	free(img);
}

Test(data, sequential_copy_is_one_extent)
{
	char *img = tn_mkfs(dir, "img", 256 << 20, 4096), *out;

	cr_assert_eq(
		t_sh("cd '%s' && head -c 40000000 /dev/urandom > src", dir), 0);
	cr_assert_eq(t_sh("cd '%s' && %s cp src img:/f && %s cat img:/f | "
			  "cmp - src",
			  dir, IOMAPCTL_BINARY, IOMAPCTL_BINARY),
		     0);
	cr_assert_eq(t_sh_out(&out,
			      "cd '%s' && %s fiemap img:/f | tail -n +2 "
			      "| wc -l",
			      dir, IOMAPCTL_BINARY),
		     0);
	cr_expect_eq(atoi(out), 1, "%s extents", out);
	free(out);
	tn_assert_clean(img);
	free(img);
}

Test(data, tree_copied_in_and_out_is_the_same)
{
	char *img = tn_mkfs(dir, "img", 64 << 20, 1024);

	cr_assert_eq(
		t_sh("cd '%s' && mkdir -p t/a/b t/c t/empty && "
		     "for i in $(seq 1 300); do echo file $i > t/a/f$i; "
		     "done && head -c 300000 /dev/urandom > t/c/big && "
		     "ln -s ../c/big t/a/b/link && "
		     "ln -s $(printf 'x%%.0s' $(seq 1 2000)) t/longlink && "
		     "truncate -s 5m t/sparse",
		     dir),
		0);
	cr_assert_eq(t_sh("cd '%s' && %s -q cp -r t img:/ && %s -q cp -r "
			  "img:/t out && diff -r --no-dereference t out",
			  dir, IOMAPCTL_BINARY, IOMAPCTL_BINARY),
		     0);
	tn_assert_clean(img);
	free(img);
}

/* compare and convert run every mapper over the same file: they agree. */
Test(data, compare_and_convert_agree)
{
	static const unsigned int sizes[] = { 1024, 4096 };

	for (int i = 0; i < 2; i++) {
		char name[16];
		char *img;

		snprintf(name, sizeof(name), "img%u", sizes[i]);
		img = tn_mkfs(dir, name, 32 << 20, sizes[i]);
		cr_assert_eq(t_sh("cd '%s' && head -c 300000 /dev/urandom > s "
				  "&& %s -q cp s %s:/f && %s -q punch %s:/f "
				  "5000 100000 && %s -q falloc %s:/f 400000 "
				  "50000",
				  dir, IOMAPCTL_BINARY, name, IOMAPCTL_BINARY,
				  name, IOMAPCTL_BINARY, name),
			     0);
		cr_expect_eq(t_sh("cd '%s' && %s -q compare %s:/f >/dev/null",
				  dir, IOMAPCTL_BINARY, name),
			     0);
		cr_expect_eq(t_sh("cd '%s' && %s convert %s:/f >/dev/null", dir,
				  IOMAPCTL_BINARY, name),
			     0);
		cr_expect_eq(t_sh("cd '%s' && %s --io=direct convert %s:/f "
				  ">/dev/null",
				  dir, IOMAPCTL_BINARY, name),
			     0);
		tn_assert_clean(img);
		free(img);
	}
}
