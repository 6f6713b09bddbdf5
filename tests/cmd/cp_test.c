// SPDX-License-Identifier: GPL-2.0
/* cp_test.c - cp between host and images and between images: bytes, holes,
 * modes and times kept; the safety rules hold. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "cmd_helpers.h"

static char *dir;

static void setup(void)
{
	dir = t_tmpdir();
	cr_assert_eq(t_sh("cd '%s' && mkdir -p src/sub && xfs_io -f -c "
			  "'pwrite -q -S 0xcd 64k 64k' -c 'pwrite -q 2m 4k' -c "
			  "'truncate 3m' src/sparse && echo hello > src/sub/hello "
			  "&& chmod 0640 src/sub/hello && touch -d @1577923200 "
			  "src/sub/hello && ln -s sub/hello src/link", dir), 0);
	cr_assert_eq(tc_mkimage(dir), 0);
}

static void teardown(void)
{
	t_sh("umount '%s/small' 2>/dev/null", dir);
	t_tmpdir_remove(dir);
}

TestSuite(cp, .init = setup, .fini = teardown);

static void fsck_clean(const char *img)
{
	cr_expect_eq(t_sh("cd '%s' && e2fsck -fn %s >/dev/null 2>&1", dir, img),
		     0, "e2fsck finds damage in %s", img);
}

Test(cp, round_trip_keeps_bytes_holes_mode_times)
{
	char *out;

	TC_NEED_ADAPTER(dir);
	cr_assert_eq(tc_run(dir, NULL, NULL, "cp src/sparse img:/s"), 0);
	cr_assert_eq(tc_run(dir, &out, NULL, "-v cp --verify img:/s back"), 0);
	cr_expect(strncmp(out, "copied 69632 bytes in ", 22) == 0 &&
		  strstr(out, " MiB/s)\n"), "%s", out);
	free(out);
	cr_expect_eq(t_sh("cd '%s' && cmp src/sparse back", dir), 0);
	/* Only the data was allocated: 68 KiB, not 3 MiB. */
	cr_expect_eq(t_sh("cd '%s' && test $(du -k back | cut -f1) -le 80", dir),
		     0);
	cr_assert_eq(tc_run(dir, &out, NULL, "fiemap --json img:/s"), 0);
	cr_expect_eq(tc_json(out, "len(d['extents']) == 2"), 0, "%s", out);
	free(out);
	cr_assert_eq(tc_run(dir, NULL, NULL, "cp src/sub/hello img:/"), 0);
	cr_assert_eq(tc_run(dir, &out, NULL, "stat --json img:/hello"), 0);
	cr_expect_eq(tc_json(out, "d['mode'] == 0o640 and "
			     "int(d['mtime']) == 1577923200"), 0, "%s", out);
	free(out);
	cr_assert_eq(tc_run(dir, NULL, NULL, "cp img:/hello hello2"), 0);
	cr_expect_eq(t_sh("cd '%s' && test \"$(stat -c %%a:%%Y hello2)\" = "
			  "\"$(stat -c %%a:%%Y src/sub/hello)\"", dir), 0,
		     "mode and mtime kept on the way out");
	fsck_clean("img");
}

Test(cp, sparse_modes)
{
	TC_NEED_ADAPTER(dir);
	cr_assert_eq(tc_run(dir, NULL, NULL, "cp --sparse=never img:/sparse "
			    "full"), 0);
	cr_expect_eq(t_sh("cd '%s' && cmp full src/sparse && "
			  "test $(du -k full | cut -f1) -ge 3072", dir), 0);
	cr_assert_eq(tc_run(dir, NULL, NULL, "cp --sparse=always full img:/z"),
		     0);
	cr_assert_eq(tc_run(dir, NULL, NULL, "cp img:/z z"), 0);
	cr_expect_eq(t_sh("cd '%s' && cmp z src/sparse && "
			  "test $(du -k z | cut -f1) -le 80", dir), 0);
	cr_expect_eq(tc_run(dir, NULL, NULL, "cp --sparse=some full img:/y"), 2);
	cr_expect_eq(tc_run(dir, NULL, NULL, "cp --reflink=always full img:/y"),
		     1);
}

Test(cp, no_overwrite_without_force)
{
	char *err;

	TC_NEED_ADAPTER(dir);
	cr_assert_eq(t_sh("cd '%s' && echo keep > exists", dir), 0);
	cr_expect_eq(tc_run(dir, NULL, &err, "cp img:/sparse exists"), 1);
	cr_expect(strstr(err, "img:/sparse -> exists: File exists"), "%s", err);
	free(err);
	cr_expect_eq(t_sh("cd '%s' && test \"$(cat exists)\" = keep", dir), 0);
	cr_expect_eq(tc_run(dir, NULL, &err, "cp src/sparse img:/sub/hello"), 1);
	cr_expect(strstr(err, "File exists") || strstr(err, "Is a directory"),
		  "%s", err);
	free(err);
	cr_expect_eq(tc_run(dir, NULL, NULL, "cp src/sparse img:/sparse"), 1);
	cr_expect_eq(tc_run(dir, NULL, NULL, "cp -f src/sub/hello img:/sparse"),
		     0);
	cr_expect_eq(t_sh("cd '%s' && test \"$(%s cat img:/sparse)\" = hello",
			  dir, IOMAPCTL_BINARY), 0);
	cr_expect_eq(tc_run(dir, NULL, NULL, "cp -f img:/sparse exists"), 0);
	cr_expect_eq(t_sh("cd '%s' && test \"$(cat exists)\" = hello", dir), 0);
	cr_expect_eq(tc_run(dir, NULL, &err, "cp src img:/x"), 1);
	cr_expect(strstr(err, "src: is a directory (use -r)"), "%s", err);
	free(err);
	cr_expect_eq(tc_run(dir, NULL, NULL, "cp src/sparse src/sub/hello "
			    "exists"), 1, "several sources need a directory");
	fsck_clean("img");
}

Test(cp, trees_both_ways_and_between_images)
{
	char *out, *err;

	TC_NEED_ADAPTER(dir);
	cr_assert_eq(tc_run(dir, NULL, &err, "cp -r src img:/tree"), 0, "%s",
		     err);
	cr_expect_str_eq(err, "");
	free(err);
	cr_assert_eq(tc_run(dir, &out, NULL, "ls --json img:/tree"), 0);
	cr_expect_eq(tc_json(out, "[e['target'] for e in d['entries'] if "
				  "e['name'] == 'link'] == ['sub/hello']"),
		     0, "%s", out);
	free(out);
	cr_assert_eq(tc_run(dir, &out, NULL, "ls img:/tree/sub"), 0);
	cr_expect_str_eq(out, "hello\n");
	free(out);
	cr_assert_eq(tc_run(dir, NULL, NULL, "cp -r img:/ out"), 0);
	cr_expect_eq(t_sh("cd '%s' && cmp out/tree/sparse src/sparse && "
			  "cmp out/sub/hello src/sub/hello && "
			  "test \"$(readlink out/link)\" = sub/hello", dir), 0);
	cr_assert_eq(t_sh("cd '%s' && truncate -s 16M img2 && mke2fs -q -t ext4 "
			  "img2", dir), 0);
	cr_assert_eq(tc_run(dir, NULL, NULL, "--io=direct cp -r --verify "
			    "img:/tree img2:/"), 0);
	cr_expect_eq(t_sh("cd '%s' && %s cat img2:/tree/sparse | cmp - "
			  "src/sparse", dir, IOMAPCTL_BINARY), 0);
	cr_assert_eq(tc_run(dir, NULL, NULL, "cp img:/tree/sparse img:/again"),
		     0, "inside one image");
	cr_expect_eq(t_sh("cd '%s' && %s cat img:/again | cmp - src/sparse",
			  dir, IOMAPCTL_BINARY), 0);
	fsck_clean("img");
	fsck_clean("img2");
}

Test(cp, never_writes_through_a_symlink_out_of_the_destination)
{
	char *err;

	TC_NEED_ADAPTER(dir);
	cr_assert_eq(t_sh("cd '%s' && mkdir -p outside out && echo secret > "
			  "outside/hello && ln -s ../outside out/sub && "
			  "ln -s ../outside/hello out/hello", dir), 0);
	/* The image's /sub must not go into out/sub -> ../outside. */
	cr_expect_eq(tc_run(dir, NULL, &err, "cp -r img:/ out"), 1);
	cr_expect(strstr(err, "sub: Too many levels of symbolic links") ||
		  strstr(err, "sub: Not a directory"), "%s", err);
	free(err);
	cr_expect_eq(t_sh("cd '%s' && test \"$(cat outside/hello)\" = secret && "
			  "test ! -e outside/sparse", dir), 0,
		     "something was written outside the destination");
	/* -f replaces the link itself, not its target. */
	cr_expect_eq(tc_run(dir, NULL, NULL, "cp -f img:/sub/hello out/hello"), 0);
	cr_expect_eq(t_sh("cd '%s' && test \"$(cat outside/hello)\" = secret && "
			  "test ! -L out/hello && test \"$(cat out/hello)\" = "
			  "hello", dir), 0);
}

Test(cp, refuses_unsafe_names_from_a_damaged_image)
{
	char *err;

	TC_NEED_ADAPTER(dir);
	/* A name with '/' in a directory block (no checksums to fix up). */
	cr_assert_eq(t_sh("cd '%s' && mkdir -p bad && echo x > bad/zzqqzz && "
			  "echo y > bad/ok && mke2fs -q -F -t ext4 -O "
			  "^metadata_csum,^dir_index -d bad bad.img 8M && "
			  "python3 -c 'import sys\nd = open(\"bad.img\", \"rb\")"
			  ".read()\nassert d.count(b\"zzqqzz\") == 1\n"
			  "open(\"bad.img\", \"wb\").write(d.replace(b\"zzqqzz\","
			  " b\"zz/.qz\"))'", dir), 0);
	cr_expect_eq(tc_run(dir, NULL, &err, "cp -r bad.img:/ badout"), 1);
	cr_expect(strstr(err, "refusing unsafe name 'zz/.qz'"), "%s", err);
	free(err);
	cr_expect_eq(t_sh("cd '%s' && test \"$(cat badout/ok)\" = y && "
			  "test ! -e zz && test ! -e badout/zz", dir), 0);
}

Test(cp, failed_copy_removes_its_partial_file)
{
	char *err;

	TC_NEED_ADAPTER(dir);
	if (geteuid() != 0 || t_sh("cd '%s' && mkdir small && mount -t tmpfs "
				   "-o size=256k tmpfs small", dir))
		cr_skip_test("needs root to mount a small tmpfs");
	cr_expect_eq(tc_run(dir, NULL, &err, "cp --sparse=never img:/sparse "
			    "small/full"), 1);
	cr_expect(strstr(err, "img:/sparse -> full: No space left on device"),
		  "%s", err);
	free(err);
	cr_expect_eq(t_sh("cd '%s' && test -z \"$(ls -A small)\"", dir), 0,
		     "partial file left behind");
}

Test(cp, failed_copy_into_an_image_removes_its_partial_file)
{
	char *err, *out;

	TC_NEED_ADAPTER(dir);
	/* 2 MiB of data into a 1 MiB image: ENOSPC part way. */
	cr_assert_eq(t_sh("cd '%s' && head -c 2M /dev/urandom > big && "
			  "mke2fs -q -t ext4 -F tiny.img 1M", dir), 0);
	cr_expect_eq(tc_run(dir, NULL, &err, "cp big tiny.img:/big"), 1);
	cr_expect(strstr(err, "No space left on device"), "%s", err);
	free(err);
	cr_expect_eq(tc_run(dir, &out, NULL, "ls tiny.img:/"), 0);
	cr_expect_null(strstr(out, "big"), "partial file left: %s", out);
	free(out);
	fsck_clean("tiny.img");
}

/* A target longer than i_block (60 bytes) makes a slow symlink. */
#define LONG_TARGET \
	"a/very/long/target/that/does/not/fit/in/the/inode/block/map/at/all"

Test(cp, symlinks_both_ways_fast_and_slow)
{
	char *out, *err;

	TC_NEED_ADAPTER(dir);
	cr_assert_eq(t_sh("cd '%s' && mkdir links && ln -s sub/hello "
			  "links/fast && ln -s " LONG_TARGET " links/slow",
			  dir),
		     0);
	cr_assert_eq(tc_run(dir, NULL, &err, "cp -r links img:/"), 0, "%s",
		     err);
	free(err);
	cr_assert_eq(tc_run(dir, &out, NULL, "ls -l img:/links"), 0);
	cr_expect(strstr(out, "fast -> sub/hello\n") &&
			  strstr(out, "slow -> " LONG_TARGET "\n"),
		  "%s", out);
	free(out);
	cr_expect_eq(t_sh("cd '%s' && debugfs -R 'stat /links/slow' img "
			  "2>/dev/null | grep -q 'Fast link dest' ",
			  dir),
		     1, "the long target is a slow symlink");
	/* Existing names need -f, and a link is replaced, not followed. */
	cr_expect_eq(tc_run(dir, NULL, NULL, "cp -r links img:/"), 1);
	cr_expect_eq(tc_run(dir, NULL, NULL, "cp -r -f links img:/"), 0);
	cr_assert_eq(tc_run(dir, NULL, &err, "cp -r img:/links back"), 0, "%s",
		     err);
	free(err);
	cr_expect_eq(
		t_sh("cd '%s' && test \"$(readlink back/fast)\" = "
		     "sub/hello && test \"$(readlink back/slow)\" = " LONG_TARGET,
		     dir),
		0);
	fsck_clean("img");
}

Test(cp, into_a_missing_directory_with_a_trailing_slash)
{
	TC_NEED_ADAPTER(dir);
	cr_assert_eq(tc_run(dir, NULL, NULL, "cp -r img:/ newdir/"), 0);
	cr_expect_eq(t_sh("cd '%s' && cmp newdir/sub/hello src/sub/hello", dir),
		     0);
	cr_assert_eq(tc_run(dir, NULL, NULL, "cp -r img:/ newdir2"), 0);
	cr_expect_eq(
		t_sh("cd '%s' && cmp newdir2/sub/hello src/sub/hello", dir), 0);
	cr_expect_eq(tc_run(dir, NULL, NULL, "cp img:/sub/hello nodir/"), 1,
		     "a file into a missing directory");
}

Test(cp, directory_cycle_is_reported_once_and_skipped)
{
	char *err;

	TC_NEED_ADAPTER(dir);
	/* /a/b/up is a second name of /a: a cycle (debugfs links it). */
	cr_assert_eq(t_sh("cd '%s' && mkdir -p cyc/a/b && echo x > cyc/a/b/f "
			  "&& mke2fs -q -F -t ext4 -d cyc cyc.img 8M && "
			  "debugfs -w -R 'ln /a /a/b/up' cyc.img 2>/dev/null",
			  dir),
		     0);
	cr_assert_eq(tc_run(dir, NULL, &err, "cp -r cyc.img:/ cycout"), 1);
	cr_expect_str_eq(err, "iomapctl: cp: cyc.img:/a/b/up: directory cycle "
			      "(inode 12 is already being copied as /a)\n");
	free(err);
	cr_expect_eq(t_sh("cd '%s' && test \"$(cat cycout/a/b/f)\" = x && "
			  "test ! -e cycout/a/b/up",
			  dir),
		     0);
	/* A tree copied into itself inside one image stops too. */
	cr_assert_eq(tc_run(dir, NULL, &err, "cp -r img:/sub img:/sub/in"), 1);
	cr_expect(strstr(err, "img:/sub/in: cannot copy a directory into "
			      "itself"),
		  "%s", err);
	free(err);
	fsck_clean("img");
}

Test(cp, depth_is_bounded_with_a_message)
{
	char *err;

	TC_NEED_ADAPTER(dir);
	/* 1,030 levels: past CP_MAX_DEPTH (1024), within PATH_MAX (made by
	 * debugfs: mke2fs -d 1.47 crashes on so deep a tree). */
	cr_assert_eq(t_sh("cd '%s' && mke2fs -q -F -t ext4 deep.img 16M && "
			  "for i in $(seq 1030); do echo 'mkdir d'; "
			  "echo 'cd d'; done > deep.cmds && debugfs -w -f "
			  "deep.cmds deep.img >/dev/null 2>&1", dir), 0);
	cr_assert_eq(tc_run(dir, NULL, &err, "cp -r deep.img:/ deepout"), 1);
	cr_expect(strstr(err, "more than 1024 directory levels: not "
			 "descending"), "%s", err);
	free(err);
	/* The root and 1,023 levels below it are copied, nothing deeper. */
	cr_expect_eq(t_sh("cd '%s' && test -d deepout/$(printf 'd/%%.0s' "
			  "$(seq 1023)) && test ! -e deepout/$(printf "
			  "'d/%%.0s' $(seq 1024))", dir), 0);
}

/* Syscalls of `cp -r IMG:/DIR out` that are per-file host or device work. */
#define CP_TRACED                                                            \
	"openat,close,pwrite64,write,utimensat,fchmod,ftruncate,newfstatat," \
	"renameat,renameat2,getpid,io_uring_enter"

static long cp_tree_syscalls(const char *sub)
{
	char *out = NULL;
	long n = -1;

	/* LeakSanitizer cannot run under ptrace.  A call that another
	 * thread's interrupts is two lines ("<unfinished ...>" and "<...
	 * resumed>"), more of them the busier the machine: one counts. */
	if (t_sh_out(&out,
		     "cd '%s' && ASAN_OPTIONS=detect_leaks=0 strace -f -qq -o "
		     "st.%s -e trace=" CP_TRACED " %s cp -r many.img:/%s o%s "
		     "&& diff -r m/%s o%s && grep -v 'resumed>' st.%s | "
		     "grep -c .",
		     dir, sub, IOMAPCTL_BINARY, sub, sub, sub, sub, sub) == 0)
		n = strtol(out, NULL, 10);
	free(out);
	return n;
}

Test(cp, small_files_cost_few_syscalls_each)
{
	long a, b;

	TC_NEED_ADAPTER(dir);
	if (t_sh("strace -o /dev/null true"))
		cr_skip_test("needs strace (and ptrace)");
	cr_assert_eq(t_sh("cd '%s' && mkdir -p m/a m/b && for i in $(seq 8); "
			  "do echo $i > m/a/f$i; done && for i in $(seq 40); "
			  "do echo $i > m/b/f$i; done && chmod 4755 m/b/f1 && "
			  "chmod 0400 m/b/f2 && mke2fs -q -F -t ext4 -O "
			  "^has_journal -d m many.img 8M",
			  dir),
		     0);
	a = cp_tree_syscalls("a");
	b = cp_tree_syscalls("b");
	cr_assert(a > 0 && b > 0, "copies differ or strace failed");
	/* open, write, futimens, close and a device read (io_uring_enter
	 * to submit, another to wait on a disk): no temporary, rename,
	 * getpid, stat, ftruncate or fchmod per new file (that made 11). */
	cr_expect_leq(b - a, 32 * 7, "%ld syscalls for 32 more files", b - a);
	cr_expect_eq(t_sh("cd '%s' && test \"$(stat -c %%a ob/f1 ob/f2)\" = "
			  "\"$(printf '4755\\n400')\"",
			  dir),
		     0, "modes kept whatever the umask");
}

/*
 * A tree of small files is read a group at a time (cmd/cp_group.c): every
 * kind of entry between and around groups comes out as it went in, holes
 * included, and a file whose read fails is named alone.
 */
Test(cp, small_files_in_groups_keep_bytes_holes_and_order)
{
	TC_NEED_ADAPTER(dir);
	cr_assert_eq(t_sh("cd '%s' && mkdir -p g/d/e && for i in $(seq 70); "
			  "do head -c $((i * 977)) /dev/urandom > g/d/f$i; "
			  "done && for s in 4095 4096 4097 131072 131073 "
			  "2000000; do head -c $s /dev/urandom > g/d/s$s; done "
			  "&& : > g/d/empty && ln g/d/f3 g/d/hard && ln -s f4 "
			  "g/d/sym && echo x > g/d/e/inner && xfs_io -f -c "
			  "'pwrite -q 8k 4k' -c 'pwrite -q 60k 100' g/d/holey "
			  "&& truncate -s 100k g/d/holey && for i in $(seq 40); "
			  "do echo $i > g/d/e/n$i; done && mke2fs -q -F -t ext4 "
			  "-d g gimg 16M",
			  dir),
		     0);
	cr_assert_eq(tc_run(dir, NULL, NULL, "cp -r gimg:/d go"), 0);
	cr_expect_eq(t_sh("cd '%s' && diff -r --no-dereference g/d go", dir), 0);
	cr_expect_eq(t_sh("cd '%s' && test \"$(xfs_io -r -c 'seek -a -r 0' "
			  "go/holey)\" = \"$(xfs_io -r -c 'seek -a -r 0' "
			  "g/d/holey)\"",
			  dir),
		     0, "holes of a small file kept");
	cr_expect_eq(t_sh("cd '%s' && test \"$(stat -c %%Y go/f70)\" = "
			  "\"$(stat -c %%Y g/d/f70)\"",
			  dir),
		     0, "times kept");
}

Test(cp, a_failed_read_in_a_group_names_only_its_file)
{
	char *err = NULL;

	TC_NEED_ADAPTER(dir);
	/* f5's block moved near the end of an image cut short: its read
	 * fails with EIO, the reads of its group beside it do not. */
	cr_assert_eq(t_sh("cd '%s' && mkdir -p b && for i in $(seq 20); do "
			  "echo file$i > b/f$i; done && mke2fs -q -F -t ext2 "
			  "-b 1024 -d b bimg 8M && debugfs -w -R 'sif /f5 "
			  "block[0] 7900' bimg >/dev/null 2>&1 && truncate -s "
			  "7M bimg",
			  dir),
		     0);
	cr_assert_eq(tc_run(dir, NULL, &err, "cp -r bimg:/ bo"), 1);
	cr_expect(strstr(err, "/f5") != NULL, "%s", err);
	cr_expect_eq(t_sh("printf '%%s' '%s' | grep -c . | grep -qx 1", err),
		     0, "one error line: %s", err);
	free(err);
	cr_expect_eq(t_sh("cd '%s' && for i in $(seq 20); do [ $i = 5 ] || "
			  "cmp -s b/f$i bo/f$i || exit 1; done && ! test -e "
			  "bo/f5",
			  dir),
		     0, "every other file copied, f5 not left behind");
}

/* The waits on the image per file of a tree copy: a group's files share
 * one.  One a file is what reading them one at a time cost. */
Test(cp, small_files_share_their_waits)
{
	char *out = NULL;
	long n;

	TC_NEED_ADAPTER(dir);
	if (t_sh("strace -o /dev/null true"))
		cr_skip_test("needs strace (and ptrace)");
	cr_assert_eq(t_sh("cd '%s' && mkdir -p w && for i in $(seq 200); do "
			  "echo $i > w/f$i; done && mke2fs -q -F -t ext4 -d w "
			  "wimg 16M",
			  dir),
		     0);
	if (t_sh("cd '%s' && %s -v cat wimg:/f1 2>&1 >/dev/null | grep -q "
		 "'io_uring unavailable'",
		 dir, IOMAPCTL_BINARY) == 0)
		cr_skip_test("no io_uring here");
	cr_assert_eq(t_sh_out(&out,
			      "cd '%s' && ASAN_OPTIONS=detect_leaks=0 strace "
			      "-f -qq -o st.w -e trace=io_uring_enter %s cp -r "
			      "wimg:/ wo && diff -r w wo/ | grep -v "
			      "lost+found | grep -c . ; grep -c . st.w",
			      dir, IOMAPCTL_BINARY),
		     0);
	n = strtol(strchr(out, '\n') + 1, NULL, 10);
	cr_expect(strncmp(out, "0\n", 2) == 0, "copies differ: %s", out);
	cr_expect_gt(n, 0, "the image was read through io_uring");
	cr_expect_leq(n, 200 / 4, "%ld io_uring_enter for 200 files", n);
	free(out);
}

/*
 * Files of a tree whose bytes are in memory are created by writer threads
 * (cmd/cp_writer.c): a name they cannot create is reported like any other
 * failure and the rest is copied, and the directories' times are set
 * after the last of their files.
 */
Test(cp, writer_threads_report_failures_and_keep_directory_times)
{
	char *err = NULL;

	TC_NEED_ADAPTER(dir);
	cr_assert_eq(t_sh("cd '%s' && mkdir -p t/d && for i in $(seq 100); "
			  "do echo $i > t/d/f$i; done && : > t/d/empty && "
			  "chmod 2711 t/d/f7 && touch -d @1500000000 t/d && "
			  "mke2fs -q -F -t ext4 -d t timg 16M && mkdir -p "
			  "to/d && echo mine > to/d/f42 && mkdir to/d/f43",
			  dir),
		     0);
	cr_assert_eq(tc_run(dir, NULL, &err, "cp -r timg:/d to/"), 1);
	cr_expect(strstr(err, "f42: File exists") != NULL, "%s", err);
	cr_expect(strstr(err, "f43: Is a directory") != NULL, "%s", err);
	cr_expect_eq(t_sh("printf '%%s' '%s' | grep -c . | grep -qx 2", err),
		     0, "two errors: %s", err);
	free(err);
	cr_expect_eq(t_sh("cd '%s' && test \"$(cat to/d/f42)\" = mine && "
			  "for i in $(seq 100); do [ $i = 42 ] || [ $i = 43 ] "
			  "|| cmp -s t/d/f$i to/d/f$i || exit 1; done && test "
			  "-f to/d/empty && ! test -s to/d/empty",
			  dir),
		     0, "every other file copied, f42 left alone");
	cr_expect_eq(t_sh("cd '%s' && test \"$(stat -c %%a to/d/f7)\" = 2711 "
			  "&& test \"$(stat -c %%Y to/d)\" = 1500000000",
			  dir),
		     0, "modes and the directory's times kept");
}

/* Long runs copied out stream (cmd/cp_file.c): on the direct path chunks
 * are read ahead while the one before is written, on the others read while
 * the host I/O thread writes it; EOF mid-block, holes kept. */
Test(cp, copy_out_streams_long_runs)
{
	static const char *const paths[] = { "direct", "buffered", "dax" };

	TC_NEED_ADAPTER(dir);
	cr_assert_eq(t_sh("cd '%s' && head -c 9437184 /dev/urandom > lr && "
			  "xfs_io -c 'pwrite -q -S 0x3c 12m %d' lr && "
			  "truncate -s 64M limg && mke2fs -q -F -t ext4 limg "
			  "&& %s cp lr limg:/lr",
			  dir, 9 * 1048576 + 1234, IOMAPCTL_BINARY),
		     0);
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		cr_assert_eq(tc_run(dir, NULL, NULL, "--io=%s cp limg:/lr lo%zu",
				    paths[i], i),
			     0);
		cr_expect_eq(t_sh("cd '%s' && cmp lr lo%zu && test \"$(xfs_io "
				  "-r -c 'seek -a -r 0' lo%zu)\" = \"$(xfs_io -r "
				  "-c 'seek -a -r 0' lr)\"",
				  dir, i, i),
			     0, "bytes and holes of the --io=%s copy",
			     paths[i]);
	}
}

/*
 * A file of many small extents copied out goes through the ring of read
 * windows, and into a host file through the writer thread (cmd/cp_behind.c):
 * bytes, holes and allocation kept on both paths, and a write that fails
 * in the thread fails the copy and leaves nothing.
 */
Test(cp, fragmented_copy_out_through_the_window_ring)
{
	char *err;

	TC_NEED_ADAPTER(dir);
	/* 1,024 extents of 4 KiB, EOF in the middle of the last. */
	cr_assert_eq(t_sh("cd '%s' && for i in $(seq 0 2 2047); do echo "
			  "\"pwrite -q -S $((i %% 251)) $((i * 4096)) 4096\"; "
			  "done | xfs_io -f fr >/dev/null && truncate -s 8383000 "
			  "fr && truncate -s 64M fimg && mke2fs -q -F -t ext4 "
			  "fimg && %s cp fr fimg:/fr",
			  dir, IOMAPCTL_BINARY),
		     0);
	for (int i = 0; i < 2; i++) {
		const char *io = i ? "buffered" : "direct";

		cr_assert_eq(tc_run(dir, NULL, NULL, "--io=%s cp fimg:/fr fo%d",
				    io, i),
			     0);
		cr_expect_eq(t_sh("cd '%s' && cmp fr fo%d && test \"$(xfs_io "
				  "-r -c 'seek -a -r 0' fo%d)\" = \"$(xfs_io -r "
				  "-c 'seek -a -r 0' fr)\" && test $(du -k fo%d "
				  "| cut -f1) = $(du -k fr | cut -f1)",
				  dir, i, i, i),
			     0, "bytes, holes or allocation of the %s copy", io);
	}
	if (geteuid() != 0 || t_sh("cd '%s' && mkdir small && mount -t tmpfs "
				   "-o size=1m tmpfs small", dir))
		cr_skip_test("needs root to mount a small tmpfs");
	cr_expect_eq(tc_run(dir, NULL, &err, "cp fimg:/fr small/fo"), 1);
	cr_expect(strstr(err, "fimg:/fr -> fo: No space left on device"), "%s",
		  err);
	free(err);
	cr_expect_eq(t_sh("cd '%s' && test -z \"$(ls -A small)\"", dir), 0,
		     "partial file left behind");
}
