// SPDX-License-Identifier: GPL-2.0
/* dio_test.c - commands at any offset and length with --io=direct (bytes as
 * a host reference and the kernel see them), short writes on ENOSPC, and
 * write's data never taken from a shell script. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "cmd_helpers.h"

static char *dir;

static void setup(void)
{
	dir = t_tmpdir();
	/* Odd sizes: 3000 bytes, and a 200000-byte blob of random bytes. */
	cr_assert_eq(t_sh("cd '%s' && mkdir -p src m && head -c 3000 "
			  "/dev/urandom > src/f && head -c 200000 /dev/urandom "
			  "> blob && cp blob src/g",
			  dir),
		     0);
}

static void teardown(void)
{
	t_sh("umount '%s/m' 2>/dev/null", dir);
	t_tmpdir_remove(dir);
}

TestSuite(dio, .init = setup, .fini = teardown);

static void mkimage(unsigned int bs)
{
	cr_assert_eq(t_sh("cd '%s' && mke2fs -q -F -t ext4 -b %u -d src img "
			  "16M >/dev/null 2>&1",
			  dir, bs),
		     0);
	TC_NEED_ADAPTER(dir);
}

/* `iomapctl ARGS` in the test directory with --io=direct: exit status. */
#define DIO(...) tc_run(dir, NULL, NULL, "-q --io=direct " __VA_ARGS__)

/* The same bytes at [@off, +@len) of the host file @ref with dd. */
static void ref_write(const char *ref, const char *data, unsigned long off)
{
	cr_assert_eq(t_sh("cd '%s' && dd if=%s of=%s bs=64k seek=%lu "
			  "oflag=seek_bytes conv=notrunc status=none",
			  dir, data, ref, off),
		     0);
}

/*
 * Each image file reads as its host reference, on the direct and buffered
 * paths and in the kernel (cmp also compares the sizes).  @pairs: "PATH REF
 * PATH REF ...", checked in one shell to keep the test quick.
 */
static void same(const char *pairs)
{
	cr_expect_eq(t_sh("cd '%s' && set -- %s && while [ $# -gt 0 ]; do "
			  "%s --io=direct cat img:$1 | cmp - $2 && %s cat "
			  "img:$1 | cmp - $2 || exit 1; shift 2; done",
			  dir, pairs, IOMAPCTL_BINARY, IOMAPCTL_BINARY),
		     0, "%s", pairs);
	if (t_can_loop_mount())
		cr_expect_eq(t_sh("cd '%s' && mount -o loop,ro img m && set -- "
				  "%s && r=0 && while [ $# -gt 0 ]; do cmp m$1 "
				  "$2 || r=1; shift 2; done; umount m; exit $r",
				  dir, pairs),
			     0, "kernel view of %s", pairs);
}

static void fsck_clean(void)
{
	cr_expect_eq(t_sh("cd '%s' && e2fsck -fn img >/dev/null 2>&1", dir), 0,
		     "e2fsck finds damage");
}

static void cat_ranges(void)
{
	static const unsigned long r[][2] = {
		{ 0, 3000 }, { 1, 2998 },   { 1023, 2 },
		{ 2999, 1 }, { 100, 5000 }, { 4095, 4097 },
	};

	cr_expect_eq(t_sh("cd '%s' && %s --io=direct cat img:/f | cmp - src/f",
			  dir, IOMAPCTL_BINARY),
		     0);
	for (size_t i = 0; i < sizeof(r) / sizeof(r[0]); i++)
		cr_expect_eq(
			t_sh("cd '%s' && tail -c +%lu src/g | head -c %lu "
			     "> exp && %s --io=direct cat img:/g %lu %lu | "
			     "cmp - exp",
			     dir, r[i][0] + 1, r[i][1], IOMAPCTL_BINARY,
			     r[i][0], r[i][1]),
			0, "cat %lu %lu", r[i][0], r[i][1]);
}

static void writes(void)
{
	cr_assert_eq(t_sh("cd '%s' && cp src/g ref_g && cp src/f ref_f && "
			  "head -c 3001 /dev/zero | tr '\\0' '\\253' > pat && "
			  "head -c 777 /dev/urandom > odd",
			  dir),
		     0);
	/* Stdin from a pipe, past EOF of a 3000-byte file. */
	cr_expect_eq(t_sh("cd '%s' && cat blob | %s -q --io=direct write "
			  "img:/f 4096",
			  dir, IOMAPCTL_BINARY),
		     0);
	ref_write("ref_f", "blob", 4096);
	/* A pattern at an odd offset inside the file, and one crossing EOF. */
	cr_expect_eq(DIO("write --pattern 0xab --length 3001 img:/g 1234"), 0);
	ref_write("ref_g", "pat", 1234);
	cr_expect_eq(DIO("write --pattern 0xab --length 3001 img:/g 199999"),
		     0);
	ref_write("ref_g", "pat", 199999);
	/* Inside one block, and into a new file at an odd offset. */
	cr_expect_eq(t_sh("cd '%s' && %s -q --io=direct write img:/g 5 < odd",
			  dir, IOMAPCTL_BINARY),
		     0);
	ref_write("ref_g", "odd", 5);
	cr_expect_eq(t_sh("cd '%s' && %s -q --io=direct write --from odd "
			  "img:/n 70001 && : > ref_n",
			  dir, IOMAPCTL_BINARY),
		     0);
	ref_write("ref_n", "odd", 70001);
}

static void copies(void)
{
	cr_expect_eq(DIO("cp src/f img:/cf"), 0);
	cr_expect_eq(DIO("cp img:/g out_g"), 0);
	cr_expect_eq(DIO("cp img:/cf img:/cf2"), 0);
	cr_expect_eq(DIO("cp img:/cf2 out_cf2"), 0);
	cr_expect_eq(t_sh("cd '%s' && cmp out_g ref_g && cmp out_cf2 src/f",
			  dir),
		     0);
}

static void odd_offsets_and_lengths(unsigned int bs)
{
	mkimage(bs);
	cat_ranges();
	writes();
	copies();
	same("/f ref_f /g ref_g /n ref_n /cf2 src/f");
	fsck_clean();
}

Test(dio, any_offset_and_length_1k)
{
	odd_offsets_and_lengths(1024);
}

Test(dio, any_offset_and_length_4k)
{
	odd_offsets_and_lengths(4096);
}

/*
 * A copy writes only the source's data: with 1 KiB blocks a data block
 * followed by a hole inside one 4 KiB page stays that way (no zeros padded
 * to 4 KiB), on every path, image to image and back in from the host.
 */
Test(dio, cp_1k_holes_stay_holes)
{
	static const char *const io[] = { "buffered", "direct" };

	mkimage(1024);
	cr_assert_eq(tc_run(dir, NULL, NULL,
			    "-q write --pattern 0x41 --length "
			    "1k img:/s 0"),
		     0);
	cr_assert_eq(tc_run(dir, NULL, NULL,
			    "-q write --pattern 0x42 --length "
			    "1000 img:/s 2k"),
		     0);
	cr_assert_eq(tc_run(dir, NULL, NULL, "truncate img:/s 9000"), 0);
	cr_assert_eq(t_sh("cd '%s' && %s cat img:/s > ref_s", dir,
			  IOMAPCTL_BINARY),
		     0);
	for (int i = 0; i < 2; i++) {
		char *out;

		cr_expect_eq(tc_run(dir, NULL, NULL,
				    "--io=%s cp img:/s img:/t%d", io[i], i),
			     0);
		cr_assert_eq(tc_run(dir, &out, NULL, "stat --json img:/t%d", i),
			     0);
		cr_expect_eq(tc_json(out, "d['size'] == 9000 and "
					  "d['mapped_bytes'] == 2048"),
			     0, "%s: %s", io[i], out);
		free(out);
		cr_expect_eq(t_sh("cd '%s' && %s cat img:/t%d | cmp - ref_s",
				  dir, IOMAPCTL_BINARY, i),
			     0, "%s", io[i]);
	}
	fsck_clean();
}

/* The stdin pipe through a shell pipeline hands out uneven pieces. */
Test(dio, pipe_pieces_do_not_matter)
{
	mkimage(4096);
	cr_expect_eq(t_sh("cd '%s' && (head -c 1 blob; head -c 70000 blob | "
			  "tail -c 69999; tail -c 130000 blob) | %s -q "
			  "--io=direct write img:/p 3",
			  dir, IOMAPCTL_BINARY),
		     0);
	cr_assert_eq(t_sh("cd '%s' && : > ref_p", dir), 0);
	ref_write("ref_p", "blob", 3);
	same("/p ref_p");
	fsck_clean();
}

/* 1 MiB chunks and an unaligned tail: all of it, or nothing reported. */
Test(dio, long_pattern_with_unaligned_tail)
{
	char *out;

	mkimage(4096);
	cr_expect_eq(tc_run(dir, &out, NULL,
			    "--io=direct write --pattern 0xab "
			    "--length 3000000 img:/l 0"),
		     0);
	cr_expect(strncmp(out, "wrote 3000000/3000000 bytes at offset 0\n",
			  40) == 0,
		  "%s", out);
	free(out);
	cr_assert_eq(t_sh("cd '%s' && head -c 3000000 /dev/zero | tr '\\0' "
			  "'\\253' > ref_l",
			  dir),
		     0);
	same("/l ref_l");
	fsck_clean();
}

/* An 8 MiB image with about 1.6 MiB free (the NEARLYFULL). */
static void mk_nearly_full(void)
{
	cr_assert_eq(t_sh("cd '%s' && mkdir nf && : > nf/f && head -c 2002944 "
			  "/dev/zero | tr '\\0' '\\252' > nf/filler && mke2fs "
			  "-q -F -t ext4 -b 4096 -d nf img 8M >/dev/null 2>&1",
			  dir),
		     0);
	TC_NEED_ADAPTER(dir);
}

Test(dio, enospc_short_write_is_a_failure)
{
	static const char *const io[] = { "--io=buffered", "--io=direct" };
	unsigned long done, size;
	char *out, *err;

	mk_nearly_full();
	cr_assert_eq(t_sh("cp '%s/img' '%s/img0'", dir, dir), 0);
	for (int i = 0; i < 2; i++) {
		cr_assert_eq(t_sh("cp '%s/img0' '%s/img'", dir, dir), 0);
		cr_expect_eq(tc_run(dir, &out, &err,
				    "%s write --pattern 0x5a "
				    "--length 2m img:/f 0",
				    io[i]),
			     1, "%s", io[i]);
		cr_expect(strstr(err, "No space left on device"), "%s", err);
		cr_assert_eq(sscanf(out, "wrote %lu/2097152 bytes at offset 0",
				    &done),
			     1, "%s", out);
		free(out);
		free(err);
		/* Exactly what was reported, no later chunk shifted down. */
		cr_assert_eq(t_sh_out(&out, "cd '%s' && %s cat img:/f | wc -c",
				      dir, IOMAPCTL_BINARY),
			     0);
		size = strtoul(out, NULL, 10);
		free(out);
		cr_expect(done > 0 && done < 2097152 && size == done,
			  "%s: wrote %lu, size %lu", io[i], done, size);
		cr_expect_eq(t_sh("cd '%s' && %s cat img:/f | tr -d Z | wc -c "
				  "| grep -qx 0",
				  dir, IOMAPCTL_BINARY),
			     0);
		fsck_clean();
	}
}

Test(dio, shell_script_is_never_file_data)
{
	char *out, *err;

	mkimage(4096);
	cr_expect_eq(t_sh_out(&out,
			      "cd '%s' && (echo 'write /w 0'; for i in "
			      "$(seq 100); do echo pwd; done) | %s shell img "
			      "2>err",
			      dir, IOMAPCTL_BINARY),
		     1);
	cr_expect_eq(strlen(out), 0, "%s", out);
	free(out);
	cr_expect_eq(t_sh("grep -q -- '--from' '%s/err'", dir), 0);
	cr_expect_neq(tc_run(dir, NULL, NULL, "stat img:/w"), 0,
		      "write created /w from the script");
	cr_expect_eq(t_sh("cd '%s' && (echo 'write /w 0 --from /dev/stdin'; "
			  "echo pwd) | %s shell img 2>/dev/null",
			  dir, IOMAPCTL_BINARY),
		     1, "--from /dev/stdin read the script");
	/* A here-document is data; the script goes on after it. */
	cr_expect_eq(t_sh_out(&out,
			      "cd '%s' && printf 'write -q /w 2 <<END\\n"
			      "pwd\\n  two\\nEND\\npwd\\n' | %s shell img",
			      dir, IOMAPCTL_BINARY),
		     0);
	cr_expect_str_eq(out, "/\n");
	free(out);
	cr_expect_eq(t_sh("cd '%s' && printf '\\0\\0pwd\\n  two\\n' > exp && "
			  "%s cat img:/w | cmp - exp",
			  dir, IOMAPCTL_BINARY),
		     0);
	cr_expect_eq(tc_run(dir, NULL, &err, "shell -c 'write /x 0 <<E' img"),
		     1);
	cr_expect(strstr(err, "no line 'E' ends it"), "%s", err);
	free(err);
	fsck_clean();
}
