// SPDX-License-Identifier: GPL-2.0
/* compare_test.c - compare: iomap and buffer heads agree on every op, cost
 * more for bh, and the image itself is never changed. */
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "cmd_helpers.h"

static char *dir;

static void setup(void)
{
	dir = t_tmpdir();
	cr_assert_eq(t_sh("cd '%s' && mkdir -p src && xfs_io -f -c "
			  "'pwrite -q 64k 256k' -c 'pwrite -q 1m 4k' -c "
			  "'truncate 2m' src/f", dir), 0);
	cr_assert_eq(tc_mkimage(dir), 0);
}

static void teardown(void)
{
	t_tmpdir_remove(dir);
}

TestSuite(compare, .init = setup, .fini = teardown);

Test(compare, every_op_same_result_image_untouched)
{
	static const char *const ops[] = { "read", "map", "fiemap", "seek",
					   "write", "zero", "truncate" };
	char *before, *after, *out;

	TC_NEED_ADAPTER(dir);
	cr_assert_eq(t_sh_out(&before, "cd '%s' && md5sum < img", dir), 0);
	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		cr_assert_eq(tc_run(dir, &out, NULL, "compare --json --op %s "
				    "img:/f 4k 300k", ops[i]), 0, "%s", ops[i]);
		cr_expect(strstr(out, "\"op\":\"") != NULL);
		cr_expect_eq(
			tc_json(out,
				"d['same_result'] is True and "
				"d['file'] == 'img:/f' and "
				"set(d['iomap']) == set(d['bh']) == "
				"set(d['hybrid']) == "
				"{'digest', 'map_calls', 'io_requests', 'bytes_read', "
				"'bytes_written', 'buffer_heads', "
				"'write_amplification', 'seconds'} and "
				"d['iomap']['buffer_heads'] == 0"),
			0, "%s: %s", ops[i], out);
		free(out);
	}
	cr_assert_eq(t_sh_out(&after, "cd '%s' && md5sum < img", dir), 0);
	cr_expect_str_eq(before, after, "compare changed the image");
	free(before);
	free(after);
}

/* Python: the digest compare reports for a file of bytes @data. */
#define FNV_OF(data)                                                        \
	"'%016x' % __import__('functools').reduce(lambda h, b: ((h ^ b) * " \
	"0x100000001b3) & (2 ** 64 - 1), (len(" data ")).to_bytes(8, "      \
	"'little') + " data ", 0xcbf29ce484222325)"

/*
 * Growing a file must zero the old last block past the old EOF, whatever
 * the image holds there: byte for byte the same as `truncate` does.
 */
Test(compare, truncate_grow_zeroes_the_old_tail)
{
	char *out;

	cr_assert_eq(tc_mkimage_stale_tail(dir, "timg"), 0);
	cr_assert_eq(tc_run(dir, &out, NULL,
			    "compare --json --op truncate "
			    "timg:/tail 8k"),
		     0);
	cr_expect_eq(tc_json(out,
			     "d['iomap']['digest'] == d['bh']['digest'] "
			     "== " FNV_OF("(b'\\xcd' * 1000 + bytes(7192))")),
		     0, "%s", out);
	free(out);
	cr_assert_eq(tc_run(dir, &out, NULL,
			    "compare --json --op zero "
			    "timg:/tail 6000 100"),
		     0);
	cr_expect_eq(tc_json(out, "d['iomap']['digest'] == " FNV_OF(
					  "(b'\\xcd' * 1000 + bytes(5100))")),
		     0, "%s", out);
	free(out);
}

Test(compare, bh_maps_block_at_a_time)
{
	char *out;

	TC_NEED_ADAPTER(dir);
	cr_assert_eq(tc_run(dir, &out, NULL, "compare --json img:/f"), 0);
	cr_expect_eq(tc_json(out, "d['op'] == 'read' and "
			     "d['bh']['map_calls'] >= 10 * d['iomap']['map_calls']"
			     " and d['bh']['bytes_read'] == "
			     "d['iomap']['bytes_read']"), 0, "%s", out);
	free(out);
	cr_assert_eq(tc_run(dir, &out, NULL, "compare --op write img:/f 0 64k"),
		     0);
	cr_expect(strstr(out, "map calls") && strstr(out, "bh/iomap") &&
		  strstr(out, "result: same\n"), "%s", out);
	free(out);
}

Test(compare, errors)
{
	char *err;

	TC_NEED_ADAPTER(dir);
	cr_expect_eq(tc_run(dir, NULL, &err, "compare --op fly img:/f"), 2);
	cr_expect(strstr(err, "bad --op 'fly'"), "%s", err);
	free(err);
	cr_expect_eq(tc_run(dir, NULL, &err, "compare src/f"), 2);
	cr_expect(strstr(err, "give IMAGE:PATH"), "%s", err);
	free(err);
	cr_expect_eq(tc_run(dir, NULL, &err, "compare img:/nope"), 1);
	cr_expect(strstr(err, "img:/nope: No such file"), "%s", err);
	free(err);
	cr_expect_eq(tc_run(dir, NULL, NULL, "compare img:/f 8t 8388607t"), 1);
}
