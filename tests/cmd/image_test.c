// SPDX-License-Identifier: GPL-2.0
/* image_test.c - the read-only commands on a real ext4 image made by mke2fs,
 * checked against the same files on the host (and the kernel when it can
 * loop-mount the image). */
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "cmd_helpers.h"

static char *dir;

static void setup(void)
{
	dir = t_tmpdir();
	cr_assert_eq(t_sh("cd '%s' && mkdir -p src/dir && "
			  "xfs_io -f -c 'pwrite -q 64k 64k' -c 'pwrite -q 1m 4k' "
			  "-c 'truncate 3m' src/sparse && echo hello > "
			  "src/dir/hello && ln -s dir/hello src/link && "
			  "printf x > 'src/dir/q\"uote'", dir), 0);
	cr_assert_eq(tc_mkimage(dir), 0);
}

static void teardown(void)
{
	t_tmpdir_remove(dir);
}

TestSuite(image, .init = setup, .fini = teardown);

Test(image, ls_plain_long_json)
{
	char *out;

	TC_NEED_ADAPTER(dir);
	cr_assert_eq(tc_run(dir, &out, NULL, "ls img:/"), 0);
	cr_expect_str_eq(out, "dir\nlink\nlost+found\nsparse\n");
	free(out);
	cr_assert_eq(tc_run(dir, &out, NULL, "ls -l img:/"), 0);
	cr_expect(strstr(out, "lrwxrwxrwx") && strstr(out, "link -> dir/hello"),
		  "%s", out);
	cr_expect(strstr(out, "3145728") != NULL, "%s", out);
	free(out);
	cr_assert_eq(tc_run(dir, &out, NULL, "ls --json img:/dir"), 0);
	cr_expect_eq(tc_json(out, "d['dir'] == '/dir' and [e['name'] for e in "
			     "d['entries']] == ['hello', 'q\"uote'] and "
			     "d['entries'][0]['size'] == 6"), 0, "%s", out);
	free(out);
	cr_assert_eq(tc_run(dir, &out, NULL, "ls img:/dir/hello"), 0);
	cr_expect_str_eq(out, "hello\n");
	free(out);
}

Test(image, stat_image_file)
{
	char *out;

	TC_NEED_ADAPTER(dir);
	cr_assert_eq(tc_run(dir, &out, NULL, "stat --json img:/sparse"), 0);
	cr_expect_eq(tc_json(out, "d['size'] == 3 << 20 and d['extents'] == 2 "
			     "and d['mapped_bytes'] == 69632 and "
			     "d['type'] == 'regular file'"), 0, "%s", out);
	free(out);
}

Test(image, seek_matches_host_copy)
{
	char *a, *b;

	TC_NEED_ADAPTER(dir);
	for (int bh = 0; bh < 2; bh++) {
		cr_assert_eq(tc_run(dir, &a, NULL, "seek -a -r img:/sparse 0 %s",
				    bh ? "--mapper=bh" : ""), 0);
		cr_assert_eq(tc_run(dir, &b, NULL, "seek -a -r src/sparse 0"), 0);
		cr_expect_str_eq(a, b, "image:\n%s\nhost:\n%s", a, b);
		free(a);
		free(b);
	}
	cr_assert_eq(tc_run(dir, &a, NULL, "seek -d img:/sparse 2m"), 0);
	cr_expect_str_eq(a, "Whence\tResult\nDATA\tEOF\n");
	free(a);
}

Test(image, fiemap_layout_matches_host_copy)
{
	char *a, *b;
	const char *logical = "[(e['logical'], e['length']) for e in "
			      "d['extents']] == [(65536, 65536), (1048576, 4096)]";

	TC_NEED_ADAPTER(dir);
	cr_assert_eq(tc_run(dir, &a, NULL, "fiemap --json img:/sparse"), 0);
	cr_expect_eq(tc_json(a, logical), 0, "%s", a);
	cr_expect_eq(tc_json(a, "d['extents'][-1]['flags'] == ['last'] and "
			     "d['block_size'] == 1024"), 0, "%s", a);
	free(a);
	if (!tc_has_fiemap(dir))
		return;
	cr_assert_eq(tc_run(dir, &b, NULL, "fiemap --json --sync src/sparse"), 0);
	cr_expect_eq(tc_json(b, logical), 0, "%s", b);
	free(b);
}

Test(image, fiemap_matches_kernel_on_loop_mount)
{
	char *a, *b;

	TC_NEED_ADAPTER(dir);
	if (!t_can_loop_mount())
		cr_skip_test("needs root and loop devices");
	cr_assert_eq(tc_run(dir, &a, NULL, "fiemap -v img:/sparse"), 0);
	cr_assert_eq(t_sh_out(&b, "cd '%s' && mkdir -p m && mount -o loop,ro "
			      "img m && xfs_io -r -c 'fiemap -v' m/sparse | "
			      "sed 1s,m/sparse,img:/sparse,; umount m", dir), 0);
	cr_expect_str_eq(a, b, "ours:\n%s\nkernel:\n%s", a, b);
	free(a);
	free(b);
	cr_assert_eq(tc_run(dir, &a, NULL, "fiemap --filefrag img:/sparse"), 0);
	cr_assert_eq(t_sh_out(&b, "cd '%s' && mkdir -p m && mount -o loop,ro "
			      "img m && filefrag -v m/sparse | "
			      "sed s,m/sparse,img:/sparse,; umount m", dir), 0);
	cr_expect_str_eq(a, b, "ours:\n%s\nfilefrag:\n%s", a, b);
	free(a);
	free(b);
}

Test(image, map_rows_cover_the_file)
{
	char *out;

	TC_NEED_ADAPTER(dir);
	cr_assert_eq(tc_run(dir, &out, NULL, "map --json img:/sparse"), 0);
	cr_expect_eq(tc_json(out, "d['op'] == 'read' and "
			     "[(m['offset'], m['length'], m['type']) for m in "
			     "d['mappings']] == [(0, 65536, 'HOLE'), "
			     "(65536, 65536, 'MAPPED'), (131072, 917504, 'HOLE'), "
			     "(1048576, 4096, 'MAPPED'), (1052672, 2093056, "
			     "'HOLE')] and d['mappings'][0]['addr'] is None and "
			     "d['mappings'][1]['addr'] > 0"), 0, "%s", out);
	free(out);
	cr_assert_eq(tc_run(dir, &out, NULL, "map --op report img:/sparse 1m 4k"),
		     0);
	cr_expect(strstr(out, "OFFSET") != NULL, "%s", out);
	cr_expect(strstr(out, "1048576         4096 MAPPED") != NULL, "%s", out);
	free(out);
}

struct err_case {
	const char *args;
	int status;
	const char *msg;
};

Test(image, errors)
{
	static const struct err_case cases[] = {
		{ "ls img:/nope", 1, "iomapctl: ls: /nope: No such file" },
		{ "stat img:/dir/nope", 1, "img:/dir/nope: No such file" },
		{ "fiemap img:/sparse/x", 1, "Not a directory" },
		{ "ls nope.img:/", 1, "nope.img: No such file" },
		{ "ls src", 2, "give IMAGE:DIR" },
		{ "map src/sparse", 2, "give IMAGE:PATH" },
		{ "map --op fly img:/sparse", 2, "bad --op 'fly'" },
		{ "map img:/sparse 8e", 2, "bad offset '8e'" },
		{ "map img:/sparse 8t 8388607t", 1, "File too large" },
		{ "seek -a img:/sparse 1z", 2, "bad offset '1z'" },
	};

	TC_NEED_ADAPTER(dir);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *out, *err;
		int st = tc_run(dir, &out, &err, "%s", cases[i].args);

		cr_expect_eq(st, cases[i].status, "'%s': exit %d: %s",
			     cases[i].args, st, err);
		cr_expect(strstr(err, cases[i].msg) != NULL,
			  "'%s': stderr lacks '%s': %s", cases[i].args,
			  cases[i].msg, err);
		free(out);
		free(err);
	}
}

Test(image, bash_completes_paths_inside_the_image)
{
	char *out;

	TC_NEED_ADAPTER(dir);
	cr_assert_eq(t_sh_out(&out, "cd '%s' && PATH=$(dirname %s):$PATH "
			      "bash -c 'source %s/completions/iomapctl.bash\n"
			      "for l in \"iomapctl ls img:/d\" \"iomapctl cat "
			      "img:/dir/h\" \"iomapctl cat sr\"; do\n"
			      "COMP_LINE=$l; COMP_POINT=${#l}\n"
			      "read -ra COMP_WORDS <<< \"${l//:/ : }\"\n"
			      "COMP_CWORD=$((${#COMP_WORDS[@]} - 1))\n"
			      "_iomapctl; echo \"${COMPREPLY[*]}\"; done'",
			      dir, IOMAPCTL_BINARY, IOMAPCTL_SOURCE_DIR), 0);
	cr_expect_str_eq(out, "/dir/\n/dir/hello\nsrc\n");
	free(out);
}

Test(image, ls_classify)
{
	char *out;

	TC_NEED_ADAPTER(dir);
	cr_assert_eq(tc_run(dir, &out, NULL, "ls -F img:/"), 0);
	cr_expect_str_eq(out, "dir/\nlink@\nlost+found/\nsparse\n");
	free(out);
}
