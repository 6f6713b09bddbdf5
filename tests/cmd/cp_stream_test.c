// SPDX-License-Identifier: GPL-2.0
/* cp_stream_test.c - `--io=direct cp IMG:FILE host` of a long contiguous
 * file streams: chunks of 4 MiB read ahead of the one being written, so
 * the host sees one write per chunk, not one per 1 MiB read-then-write
 * (what the copy fell back to when its source was not yet bound to the
 * direct path at the first segment); on a disk those writes are O_DIRECT,
 * so the copy leaves nothing of itself in the host's page cache. */
#include <stdlib.h>

#include <criterion/criterion.h>

#include "cmd_helpers.h"
#include "helpers.h"

#define FILE_MIB 16
#define STREAM_CHUNK_MIB 4 /* CP_STREAM_CHUNK in cmd/cp_file.c */

static char *dir;

static void setup(void)
{
	dir = t_tmpdir();
}

static void teardown(void)
{
	t_tmpdir_remove(dir);
}

TestSuite(cp_stream, .init = setup, .fini = teardown);

Test(cp_stream, direct_copy_out_writes_a_chunk_at_a_time)
{
	char *out = NULL;
	long writes;

	if (t_sh("strace -o /dev/null true"))
		cr_skip_test("needs strace (and ptrace)");
	if (t_sh("dd if=/dev/zero of='%s/probe' bs=4096 count=1 oflag=direct "
		 "status=none",
		 dir))
		cr_skip_test("%s refuses O_DIRECT: the copy cannot stream", dir);
	cr_assert_eq(t_sh("cd '%s' && mkdir src && head -c %dM /dev/urandom "
			  ">src/f && mke2fs -q -F -t ext4 -d src img 64M",
			  dir, FILE_MIB),
		     0);
	/* LeakSanitizer cannot run under ptrace. */
	cr_assert_eq(t_sh_out(&out,
			      "cd '%s' && ASAN_OPTIONS=detect_leaks=0 strace "
			      "-f -qq -o st -e trace=pwrite64 %s --io=direct "
			      "cp img:/f out && cmp src/f out && "
			      "grep -v 'resumed>' st | grep -c 'pwrite64(' ",
			      dir, IOMAPCTL_BINARY),
		     0, "copy failed or differs:\n%s", out);
	writes = strtol(out, NULL, 10);
	free(out);
	cr_assert(writes >= 1 && writes <= FILE_MIB / STREAM_CHUNK_MIB,
		  "%ld writes for %d MiB: not streamed in %d MiB chunks", writes,
		  FILE_MIB, STREAM_CHUNK_MIB);
}

Test(cp_stream, direct_copy_out_to_disk_bypasses_the_page_cache)
{
	char *out = NULL;
	long cached;

	if (t_sh("stat -f -c %%T '%s' | grep -qv tmpfs", dir))
		cr_skip_test("%s is in memory: no O_DIRECT writes there", dir);
	if (t_sh("dd if=/dev/zero of='%s/probe' bs=4096 count=1 oflag=direct "
		 "status=none && command -v fincore >/dev/null",
		 dir))
		cr_skip_test("%s refuses O_DIRECT, or no fincore", dir);
	cr_assert_eq(t_sh("cd '%s' && mkdir src && head -c %dM /dev/urandom "
			  ">src/f && mke2fs -q -F -t ext4 -d src img 64M",
			  dir, FILE_MIB),
		     0);
	/* fincore before cmp, which reads the copy into the cache. */
	cr_assert_eq(t_sh_out(&out,
			      "cd '%s' && %s --io=direct cp img:/f out && "
			      "fincore -b -n -o RES out && cmp src/f out",
			      dir, IOMAPCTL_BINARY),
		     0, "copy failed or differs:\n%s", out);
	cached = strtol(out, NULL, 10);
	free(out);
	cr_assert_eq(cached, 0, "the copy left %ld bytes in the page cache",
		     cached);
}

/*
 * Into an image the host file is read ahead on cp's host I/O thread while
 * the engine writes the chunk before: on every path, the bytes (EOF in
 * mid-block), the hole between two long runs, and a clean image.
 */
Test(cp_stream, copy_in_reads_ahead_on_every_path)
{
	static const char *const paths[] = { "direct", "buffered", "dax" };

	cr_assert_eq(t_sh("cd '%s' && head -c 9437184 /dev/urandom > f && "
			  "xfs_io -c 'pwrite -q -S 0x3c 20m %d' f && "
			  "mke2fs -q -F -t ext4 img 64M",
			  dir, 9 * 1048576 + 1234),
		     0);
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		cr_assert_eq(t_sh("cd '%s' && %s --io=%s cp f img:/f%zu && "
				  "%s cat img:/f%zu | cmp - f && test \"$(%s "
				  "seek -a -r img:/f%zu 0)\" = \"$(xfs_io -r -c "
				  "'seek -a -r 0' f)\"",
				  dir, IOMAPCTL_BINARY, paths[i], i,
				  IOMAPCTL_BINARY, i, IOMAPCTL_BINARY, i),
			     0, "--io=%s: the copy differs or lost its hole",
			     paths[i]);
	}
	cr_assert_eq(t_sh("e2fsck -fn '%s/img' >/dev/null 2>&1", dir), 0,
		     "e2fsck -fn finds damage");
}
