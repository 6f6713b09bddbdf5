// SPDX-License-Identifier: GPL-2.0
/* convert_test.c - convert: every stage of the bh -> iomap conversion, in
 * XFS's order, answers as the all-bh baseline; the image never changes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "cmd_helpers.h"

static char *dir;

static void setup(void)
{
	dir = t_tmpdir();
	/* Extents, holes and a tail inside a block. */
	cr_assert_eq(t_sh("cd '%s' && mkdir -p src && xfs_io -f -c "
			  "'pwrite -q 0 40k' -c 'pwrite -q 64k 200k' -c "
			  "'pwrite -q 1m 12k' -c 'truncate 1500001' src/f",
			  dir),
		     0);
}

static void teardown(void)
{
	t_tmpdir_remove(dir);
}

TestSuite(convert, .init = setup, .fini = teardown);

/* The stage checks every convert --json must pass. */
static const char stages_ok[] =
	"ops == ['xattr', 'report', 'direct', 'write', 'read', 'dax'] and "
	"len(d['stages']) == 8 and d['same'] is True and "
	"d['mismatch'] is None and "
	"all(s['stage'] == i and s['converted'] == ops[:min(i, 6)] and "
	"s['same_bytes'] and s['same_fiemap'] and s['same_seek'] "
	"for i, s in enumerate(d['stages'])) and "
	"d['stages'][7]['hybrid'] == ['write', 'read'] and "
	"d['stages'][0]['mapper'] == 'bh' and "
	/* bh maps per block, iomap per extent; only bh and hybrid keep
	 * buffer heads */
	"d['stages'][0]['map_calls'] > 4 * d['stages'][6]['map_calls'] and "
	"d['stages'][0]['buffer_heads'] > 0 and "
	"d['stages'][6]['buffer_heads'] == 0 and "
	"d['stages'][7]['buffer_heads'] > 0";

static void convert_image(const char *mkfs)
{
	char *before, *after, *out, *check;

	cr_assert_eq(t_sh("cd '%s' && rm -f img && mke2fs -q -F %s -d src img "
			  "16M",
			  dir, mkfs),
		     0);
	TC_NEED_ADAPTER(dir);
	cr_assert_eq(t_sh_out(&before, "cd '%s' && md5sum < img", dir), 0);
	cr_assert_eq(tc_run(dir, &out, NULL, "convert --json img:/f"), 0,
		     "%s: %s", mkfs, out);
	cr_assert(asprintf(&check,
			   "[ops := ['xattr', 'report', 'direct', "
			   "'write', 'read', 'dax']] and %s",
			   stages_ok) > 0);
	cr_expect_eq(tc_json(out, check), 0, "%s: %s", mkfs, out);
	cr_assert_eq(t_sh_out(&after, "cd '%s' && md5sum < img", dir), 0);
	cr_expect_str_eq(before, after, "convert changed the image");
	free(check);
	free(out);
	free(before);
	free(after);
}

Test(convert, ext4_stages_in_order_each_as_the_baseline)
{
	convert_image("-t ext4");
}

Test(convert, ext2_1k_blocks_stages_each_as_the_baseline)
{
	convert_image("-t ext2 -b 1024");
}

Test(convert, text_table_and_usage)
{
	char *out, *err;

	cr_assert_eq(
		t_sh("cd '%s' && mke2fs -q -F -t ext4 -d src img 16M", dir), 0);
	cr_assert_eq(tc_run(dir, &out, NULL, "convert img:/f"), 0, "%s", out);
	cr_expect(strstr(out, "none (all bh)") != NULL, "%s", out);
	cr_expect(strstr(out, "xattr,report,direct,write,read,dax; write,read "
			      "hybrid") != NULL,
		  "%s", out);
	cr_expect(strstr(out, "DIFF") == NULL, "%s", out);
	free(out);
	cr_expect_eq(tc_run(dir, &out, &err, "convert src/f"), 2);
	cr_expect(strstr(err, "give IMAGE:PATH") != NULL, "%s", err);
	free(out);
	free(err);
	cr_expect_eq(tc_run(dir, &out, &err, "convert img:/missing"), 1);
	free(out);
	free(err);
}
