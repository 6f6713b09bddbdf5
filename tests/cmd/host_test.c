// SPDX-License-Identifier: GPL-2.0
/* host_test.c - the commands on host files, diffed against xfs_io. */
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "cmd_helpers.h"

static char *dir;

static void setup(void)
{
	dir = t_tmpdir();
	if (!tc_has_fiemap(dir))
		return;
	/* Data, unwritten, a lone block, unwritten past EOF, holes between. */
	cr_assert_eq(t_sh("cd '%s' && xfs_io -f -c 'pwrite -q 64k 64k' "
			  "-c 'falloc 256k 64k' -c 'pwrite -q 1m 4k' "
			  "-c 'falloc -k 2m 64k' -c 'truncate 3m' -c fsync t1",
			  dir), 0);
	/* 100 extents: more than one FIEMAP batch of 32. */
	cr_assert_eq(t_sh("cd '%s' && for i in $(seq 0 99); do xfs_io -f -c "
			  "\"pwrite -q $((i * 8))k 4k\" many; done && "
			  "xfs_io -c fsync many", dir), 0);
	cr_assert_eq(t_sh("cd '%s' && touch empty && printf hello > 'a:b'",
			  dir), 0);
}

static void teardown(void)
{
	t_tmpdir_remove(dir);
}

TestSuite(host, .init = setup, .fini = teardown);

/* iomapctl ARGS and xfs_io -c CMD FILE must print the same bytes. */
static void same_as_xfs_io(const char *ours, const char *xfs_cmd,
			   const char *file)
{
	char *a, *b;

	cr_assert_eq(tc_run(dir, &a, NULL, "%s", ours), 0, "%s", ours);
	cr_assert_eq(t_sh_out(&b, "cd '%s' && xfs_io -c '%s' %s", dir, xfs_cmd,
			      file), 0);
	cr_expect_str_eq(a, b, "iomapctl %s\n%s\nxfs_io %s\n%s", ours, a,
			 xfs_cmd, b);
	free(a);
	free(b);
}

#define NEED_FIEMAP()                                                          \
	do {                                                                   \
		if (!tc_has_fiemap(dir))                                       \
			cr_skip_test("no FIEMAP on the filesystem of %s", dir); \
	} while (0)

Test(host, fiemap_matches_xfs_io)
{
	NEED_FIEMAP();
	same_as_xfs_io("fiemap -v t1", "fiemap -v", "t1");
	same_as_xfs_io("fiemap t1", "fiemap", "t1");
	same_as_xfs_io("fiemap -l t1", "fiemap -l", "t1");
	same_as_xfs_io("fiemap -v t1 100k 1m", "fiemap -v 100k 1m", "t1");
	same_as_xfs_io("fiemap -v many", "fiemap -v", "many");
	same_as_xfs_io("fiemap many 40k", "fiemap 40k", "many");
	same_as_xfs_io("fiemap -v empty", "fiemap -v", "empty");
	same_as_xfs_io("--io=direct fiemap t1 --verbose --mapper=iomap", "fiemap -v", "t1");
}

Test(host, seek_matches_xfs_io)
{
	NEED_FIEMAP();
	same_as_xfs_io("seek -a -r t1 0", "seek -a -r 0", "t1");
	same_as_xfs_io("seek -d -r t1 0", "seek -d -r 0", "t1");
	same_as_xfs_io("seek -h -r -s t1 0", "seek -h -r -s 0", "t1");
	same_as_xfs_io("seek -a t1 70k", "seek -a 70k", "t1");
	same_as_xfs_io("seek -d t1 1028k", "seek -d 1028k", "t1");
	same_as_xfs_io("seek -a t1 5m", "seek -a 5m", "t1");
	same_as_xfs_io("seek -a -r many 0", "seek -a -r 0", "many");
}

Test(host, seek_eof_when_no_data)
{
	char *out;

	NEED_FIEMAP();
	cr_assert_eq(tc_run(dir, &out, NULL, "seek -d t1 1029k"), 0);
	cr_expect_str_eq(out, "Whence\tResult\nDATA\tEOF\n");
	free(out);
}

Test(host, fiemap_json)
{
	char *out;

	NEED_FIEMAP();
	cr_assert_eq(tc_run(dir, &out, NULL, "--json fiemap t1"), 0);
	cr_expect_eq(tc_json(out, "d['file'] == 't1' and d['size'] == 3 << 20 "
			     "and d['block_size'] > 0 and len(d['extents']) == 4 "
			     "and d['extents'][0] == {'logical': 65536, "
			     "'physical': d['extents'][0]['physical'], "
			     "'length': 65536, 'flags': []} and "
			     "d['extents'][1]['flags'] == ['unwritten'] and "
			     "d['extents'][3]['flags'] == ['last', 'unwritten']"),
		     0, "%s", out);
	free(out);
	cr_assert_eq(tc_run(dir, &out, NULL, "fiemap many --json"), 0);
	cr_expect_eq(tc_json(out, "len(d['extents']) == 100 and "
			     "d['extents'][99]['flags'] == ['last']"), 0);
	free(out);
}

Test(host, seek_json)
{
	char *out;

	NEED_FIEMAP();
	cr_assert_eq(tc_run(dir, &out, NULL, "seek --json -a -r t1 0"), 0);
	cr_expect_eq(tc_json(out, "d['file'] == 't1' and d['segments'] == ["
			     "{'type': 'HOLE', 'offset': 0}, "
			     "{'type': 'DATA', 'offset': 65536}, "
			     "{'type': 'HOLE', 'offset': 131072}, "
			     "{'type': 'DATA', 'offset': 1048576}, "
			     "{'type': 'HOLE', 'offset': 1052672}]"), 0, "%s",
		     out);
	free(out);
}

Test(host, cat_ranges)
{
	char *out;

	cr_assert_eq(tc_run(dir, &out, NULL, "cat a:b"), 0);
	cr_expect_str_eq(out, "hello");
	free(out);
	cr_assert_eq(tc_run(dir, &out, NULL, "cat a:b 1 3"), 0);
	cr_expect_str_eq(out, "ell");
	free(out);
	cr_assert_eq(tc_run(dir, &out, NULL, "cat a:b 3 1m"), 0);
	cr_expect_str_eq(out, "lo");
	free(out);
	cr_assert_eq(tc_run(dir, &out, NULL, "cat a:b 10"), 0);
	cr_expect_str_eq(out, "");
	free(out);
	cr_assert_eq(t_sh("cd '%s' && %s cat t1 | cmp - t1", dir,
			  IOMAPCTL_BINARY), 0);
}

Test(host, stat_text_and_json)
{
	char *out;

	NEED_FIEMAP();
	cr_assert_eq(tc_run(dir, &out, NULL, "stat t1"), 0);
	cr_expect(strstr(out, "Size: 3145728") != NULL, "%s", out);
	cr_expect(strstr(out, "regular file") != NULL);
	cr_expect(strstr(out, "Extents: 4\tMapped: 200704\tUnwritten: 131072"),
		  "%s", out);
	free(out);
	cr_assert_eq(tc_run(dir, &out, NULL, "stat --json t1"), 0);
	cr_expect_eq(tc_json(out, "d['size'] == 3145728 and d['extents'] == 4 "
			     "and d['type'] == 'regular file' and "
			     "d['unwritten_bytes'] == 131072 and d['mtime'] > 0"),
		     0, "%s", out);
	free(out);
	cr_assert_eq(tc_run(dir, &out, NULL, "stat --json ."), 0);
	cr_expect_eq(tc_json(out, "d['type'] == 'directory' and "
			     "'extents' not in d"), 0, "%s", out);
	free(out);
}

Test(host, probe_ext4_image)
{
	char *out;

	cr_assert_eq(t_sh("cd '%s' && mke2fs -q -F -t ext4 -L lbl -b 1024 "
			  "img 8M >/dev/null 2>&1", dir), 0);
	cr_assert_eq(tc_run(dir, &out, NULL, "probe img"), 0);
	cr_expect_str_eq(out, "ext4\n");
	free(out);
	cr_assert_eq(tc_run(dir, &out, NULL, "probe --json img"), 0);
	cr_expect_eq(tc_json(out, "d['type'] == 'ext4' and d['label'] == 'lbl' "
			     "and d['block_size'] == 1024 and "
			     "d['block_count'] == 8192 and len(d['uuid']) == 36"),
		     0, "%s", out);
	free(out);
	cr_expect_eq(tc_run(dir, NULL, NULL, "probe t1"), 1);
}

/* No adapter claims a journal device: libblkid names it, nothing made up
 * (its BLOCK_SIZE is an I/O size, the sector size on xfs). */
Test(host, probe_blkid_only_image)
{
	char *out;

	cr_assert_eq(t_sh("cd '%s' && mke2fs -q -F -O journal_dev -b 1024 "
			  "jdev 4M >/dev/null 2>&1",
			  dir),
		     0);
	cr_assert_eq(tc_run(dir, &out, NULL, "probe --json jdev"), 0);
	cr_expect_eq(tc_json(out,
			     "d['type'] == 'jbd' and d['source'] == "
			     "'blkid' and len(d['uuid']) == 36 and set(d) == "
			     "{'image', 'type', 'label', 'uuid', 'source'}"),
		     0, "%s", out);
	free(out);
	cr_assert_eq(tc_run(dir, &out, NULL, "-v probe jdev"), 0);
	cr_expect(!strncmp(out, "jbd\nlabel: \nuuid: ", 17) &&
			  !strstr(out, "block"),
		  "%s", out);
	free(out);
}

Test(host, progress_bar_only_when_asked_or_on_a_tty)
{
	char *err;

	NEED_FIEMAP();
	cr_assert_eq(tc_run(dir, NULL, &err, "cat t1 --progress >/dev/null"), 0);
	cr_expect(strstr(err, "100% 3.0 MiB / 3.0 MiB") && strstr(err, "ETA"),
		  "%s", err);
	free(err);
	/* stderr is not a TTY here: no bar by default, none with -q. */
	cr_assert_eq(tc_run(dir, NULL, &err, "cat t1 >/dev/null"), 0);
	cr_expect_str_eq(err, "");
	free(err);
	cr_assert_eq(tc_run(dir, NULL, &err, "-q --progress cat t1 >/dev/null"),
		     0);
	cr_expect_str_eq(err, "");
	free(err);
}

/* fiemap --filefrag must print what `filefrag -v` prints, byte for byte. */
Test(host, filefrag_format_matches_filefrag)
{
	static const char *const files[] = { "t1", "many", "empty" };

	NEED_FIEMAP();
	for (size_t i = 0; i < 3; i++) {
		char *a, *b;

		cr_assert_eq(tc_run(dir, &a, NULL, "fiemap --filefrag %s",
				    files[i]), 0);
		cr_assert_eq(t_sh_out(&b, "cd '%s' && filefrag -v %s", dir,
				      files[i]), 0);
		cr_expect_str_eq(a, b, "ours:\n%s\nfilefrag:\n%s", a, b);
		free(a);
		free(b);
	}
}
