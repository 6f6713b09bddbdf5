// SPDX-License-Identifier: GPL-2.0
/* mutate_test.c - cat, write, zero, truncate, falloc and punch on a real
 * ext4 image, on every I/O path; contents checked, e2fsck keeps it clean. */
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "cmd_helpers.h"

static char *dir;

static void setup(void)
{
	dir = t_tmpdir();
	cr_assert_eq(t_sh("cd '%s' && mkdir -p src && xfs_io -f -c "
			  "'pwrite -q -S 0xcd 64k 64k' -c 'truncate 1m' "
			  "src/sparse && echo hello > src/hello", dir), 0);
	cr_assert_eq(tc_mkimage(dir), 0);
}

static void teardown(void)
{
	t_tmpdir_remove(dir);
}

TestSuite(mutate, .init = setup, .fini = teardown);

/* Python over the bytes of `iomapctl cat FILE` (as `d`). */
static int check_bytes(const char *file, const char *expr)
{
	/* Through the environment: @expr may hold any quote. */
	cr_assert_eq(setenv("TC_BYTES_CHECK", expr, 1), 0);
	return t_sh("cd '%s' && %s cat '%s' | python3 -c 'import os, sys\n"
		    "d = sys.stdin.buffer.read()\n"
		    "sys.exit(0 if eval(os.environ[\"TC_BYTES_CHECK\"]) else 3)'",
		    dir, IOMAPCTL_BINARY, file);
}

static void fsck_clean(void)
{
	cr_expect_eq(t_sh("cd '%s' && e2fsck -fn img >/dev/null 2>&1", dir), 0,
		     "e2fsck finds damage");
}

Test(mutate, cat_on_every_path_matches_the_source)
{
	static const char *const paths[] = { "--io=buffered", "--io=direct",
					     "--io=dax", "--mapper=bh" };

	TC_NEED_ADAPTER(dir);
	for (int i = 0; i < 4; i++)
		cr_expect_eq(t_sh("cd '%s' && %s cat %s img:/sparse | cmp - "
				  "src/sparse", dir, IOMAPCTL_BINARY, paths[i]),
			     0, "%s", paths[i]);
	cr_expect_eq(t_sh("cd '%s' && test \"$(%s cat img:/hello 1 3)\" = ell",
			  dir, IOMAPCTL_BINARY), 0);
}

Test(mutate, write_stdin_and_pattern)
{
	char *out;

	TC_NEED_ADAPTER(dir);
	cr_assert_eq(t_sh_out(&out, "cd '%s' && echo new file | %s write "
			      "img:/new 0", dir, IOMAPCTL_BINARY), 0);
	cr_expect(strncmp(out, "wrote 9/9 bytes at offset 0\n", 28) == 0, "%s",
		  out);
	free(out);
	cr_expect_eq(check_bytes("img:/new", "d == b'new file\\n'"), 0);
	for (int p = 0; p < 2; p++) {
		cr_assert_eq(tc_run(dir, NULL, NULL, "%s write -q --pattern 0xab "
				    "--length 100k img:/sparse 10k",
				    p ? "--io=direct" : ""), 0);
		cr_expect_eq(check_bytes("img:/sparse", "len(d) == 1 << 20 and "
					 "d[:10240] == bytes(10240) and "
					 "d[10240:112640] == b'\\xab' * 102400 and "
					 "d[112640:131072] == b'\\xcd' * 18432"), 0);
	}
	fsck_clean();
}

Test(mutate, zero_truncate_falloc_punch)
{
	char *out;

	TC_NEED_ADAPTER(dir);
	cr_assert_eq(tc_run(dir, NULL, NULL, "zero img:/sparse 100000 20000"), 0);
	cr_expect_eq(check_bytes("img:/sparse", "d[99999] == 0xcd and "
				 "d[100000:120000] == bytes(20000) and "
				 "d[120000] == 0xcd and len(d) == 1 << 20"), 0);
	cr_assert_eq(tc_run(dir, NULL, NULL, "zero -k img:/sparse 1m 1m"), 0);
	cr_assert_eq(tc_run(dir, NULL, NULL, "zero img:/sparse 1m 1m"), 0);
	cr_expect_eq(check_bytes("img:/sparse", "len(d) == 2 << 20"), 0);
	cr_assert_eq(tc_run(dir, NULL, NULL, "truncate img:/sparse 90000"), 0);
	cr_assert_eq(tc_run(dir, NULL, NULL, "truncate img:/sparse 200k"), 0);
	cr_expect_eq(check_bytes("img:/sparse", "len(d) == 204800 and "
				 "d[89999] == 0xcd and d[90000:] == "
				 "bytes(204800 - 90000)"), 0);
	cr_assert_eq(tc_run(dir, NULL, NULL, "falloc img:/sparse 300k 64k"), 0);
	cr_assert_eq(tc_run(dir, &out, NULL, "fiemap --json img:/sparse"), 0);
	cr_expect_eq(tc_json(out, "d['size'] == 364 * 1024 and "
			     "d['extents'][-1]['flags'] == ['last', 'unwritten']"
			     " and d['extents'][-1]['logical'] == 300 * 1024"),
		     0, "%s", out);
	free(out);
	cr_assert_eq(tc_run(dir, NULL, NULL, "falloc -k img:/sparse 1m 4k"), 0);
	cr_assert_eq(tc_run(dir, NULL, NULL, "punch img:/sparse 64k 4k"), 0);
	cr_expect_eq(check_bytes("img:/sparse", "len(d) == 364 * 1024 and "
				 "d[65536:69632] == bytes(4096) and "
				 "d[69632] == 0xcd"), 0);
	cr_assert_eq(tc_run(dir, &out, NULL, "seek -h img:/sparse 64k"), 0);
	cr_expect_str_eq(out, "Whence\tResult\nHOLE\t65536\n");
	free(out);
	fsck_clean();
}

/*
 * Every way of growing a file zeroes the old last block past the old EOF,
 * whatever the image holds there (a hostile one: 0xcd).
 */
Test(mutate, growing_zeroes_the_old_tail)
{
	static const char *const grow[] = { "truncate timg:/tail 8k",
					    "falloc timg:/tail 6000 2192",
					    "zero timg:/tail 6000 2192" };

	for (size_t i = 0; i < sizeof(grow) / sizeof(grow[0]); i++) {
		cr_assert_eq(tc_mkimage_stale_tail(dir, "timg"), 0);
		cr_assert_eq(tc_run(dir, NULL, NULL, "%s", grow[i]), 0, "%s",
			     grow[i]);
		cr_expect_eq(check_bytes("timg:/tail", "d == b'\\xcd' * 1000 "
						       "+ bytes(7192)"),
			     0, "%s", grow[i]);
		cr_expect_eq(t_sh("cd '%s' && e2fsck -fn timg >/dev/null 2>&1",
				  dir),
			     0, "%s: e2fsck finds damage", grow[i]);
	}
}

struct err_case {
	const char *args;
	int status;
	const char *msg;
};

Test(mutate, errors_leave_the_image_alone)
{
	static const struct err_case cases[] = {
		{ "write img:/x 0 --pattern 1", 2, "--pattern and --length" },
		{ "write img:/x 0 --pattern 256 --length 1", 2, "bad --pattern" },
		{ "write img:/nodir/x 0 --pattern 1 --length 1", 1,
		  "img:/nodir/x: No such file" },
		{ "write img:/ 0 --pattern 1 --length 1", 1, "Is a directory" },
		{ "zero img:/sparse 0 0", 2, "length must not be 0" },
		{ "zero img:/sparse 1k", 2, "usage: iomapctl zero" },
		{ "zero src/sparse 0 1", 2, "give IMAGE:PATH" },
		{ "punch img:/sparse 8t 8388607t", 1, "File too large" },
		{ "truncate img:/sparse 1x", 2, "bad offset '1x'" },
		{ "truncate img:/missing 0", 1, "img:/missing: No such file" },
		{ "falloc img:/sparse 0 99999999999999999999", 2, "too large" },
		{ "cat img:/sparse 1q", 2, "bad offset '1q'" },
	};
	char *before, *after;

	TC_NEED_ADAPTER(dir);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *out, *err;
		int st;

		cr_assert_eq(t_sh_out(&before, "cd '%s' && md5sum < img", dir),
			     0);
		st = tc_run(dir, &out, &err, "%s", cases[i].args);

		cr_expect_eq(st, cases[i].status, "'%s': exit %d: %s",
			     cases[i].args, st, err);
		cr_expect(strstr(err, cases[i].msg) != NULL,
			  "'%s': stderr lacks '%s': %s", cases[i].args,
			  cases[i].msg, err);
		free(out);
		free(err);
		/* A usage error never opens the image; a failure keeps it sane. */
		if (st == 2) {
			cr_assert_eq(t_sh_out(&after, "cd '%s' && md5sum < img",
					      dir), 0);
			cr_expect_str_eq(before, after, "'%s' changed the image",
					 cases[i].args);
			free(after);
		}
		free(before);
	}
	fsck_clean();
}
