// SPDX-License-Identifier: GPL-2.0
/* migrate_test.c - `migrate`: a whole tree moved between images with its
 * metadata and layout, checked by the kernel (both images mounted
 * read-only side by side), e2fsck and our own --verify; a source that
 * never changes; failures that name the file and leave a clean image. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "cmd_helpers.h"

/*
 * @dir/src.img (@type, @bs-byte blocks) holding a tree with every kind of
 * entry migrate moves: nested directories, a file with three names,
 * symlinks (fast and slow), a sparse file, unwritten extents inside and
 * past EOF (ext4), extended attributes, owners, modes and old times.
 */
static void make_source(const char *dir, const char *type, unsigned int bs)
{
	cr_assert_eq(
		t_sh("cd %s && rm -rf src && mkdir -p src/a/b/c src/e src/s && "
		     "echo hello >src/a/f1 && ln src/a/f1 src/e/hl && "
		     "ln src/a/f1 src/a/b/hl2 && "
		     "head -c 300000 /dev/urandom >src/a/b/big && "
		     "ln -s ../a/f1 src/e/sym && ln -s /$(head -c 120 "
		     "/dev/zero | tr '\\0' x) src/e/slow && "
		     "truncate -s 10M src/sparse && printf data | dd "
		     "of=src/sparse bs=1 seek=5000000 conv=notrunc "
		     "2>/dev/null && : >src/empty && "
		     "chown 1234:567 src/a/b/big && chmod 4750 src/a/b/big && "
		     "chmod 1777 src/s && "
		     "touch -d '2001-02-03 04:05:06' src/a/b/big src/a/b && "
		     "python3 -c \"import os; "
		     "os.setxattr('src/a/f1', 'user.color', b'blue'); "
		     "os.setxattr('src/a', 'user.big', b'x' * 300)\" && "
		     "mke2fs -q -F -t %s -b %u -I 256 -d src src.img 48M",
		     dir, type, bs),
		0);
	if (strcmp(type, "ext4"))
		return;
	/* Unwritten: inside the size, and a preallocation past EOF. */
	cr_assert_eq(t_sh("cd %s && debugfs -w -R 'fallocate /sparse 10 20' "
			  "src.img >/dev/null 2>&1 && debugfs -w -R "
			  "'fallocate /a/b/big 100 120' src.img >/dev/null "
			  "2>&1 && e2fsck -fn src.img >/dev/null 2>&1",
			  dir),
		     0);
}

/* Names, types, modes, owners, sizes, link counts and mtimes, and the
 * hard-link groups, of a mounted tree, as one sorted listing. */
#define LISTING                                                                \
	"(cd %s && find . -path ./lost+found -prune -o -printf "               \
	"'%%p %%M %%U %%G %%s %%n %%T@ %%l\\n' | sort && "                     \
	"find . -type f -links +1 -printf '%%i %%p\\n' | sort -n | "           \
	"awk '{ if ($1 != i) { i = $1; printf \"\\n\" } printf \"%%s \", "    \
	"$2 }')"

/* The data/hole/unwritten map of every regular file under a mount, from
 * the kernel's FIEMAP, adjacent extents of one kind merged. */
static const char layout_py[] =
	"import os, sys, subprocess\n"
	"root = sys.argv[1]\n"
	"for d, _, fs in sorted(os.walk(root)):\n"
	"  for f in sorted(fs):\n"
	"    p = os.path.join(d, f)\n"
	"    if os.path.islink(p) or 'lost+found' in p: continue\n"
	"    out = subprocess.run(['filefrag', '-v', '-b1', p], "
	"capture_output=True, text=True).stdout\n"
	"    runs = []\n"
	"    for line in out.splitlines():\n"
	"      w = line.replace(':', ' ').replace('..', ' ').split()\n"
	"      if len(w) < 6 or not w[0].isdigit(): continue\n"
	"      s, e = int(w[1]), int(w[2]) + 1\n"
	"      k = 'u' if 'unwritten' in line else 'd'\n"
	"      if runs and runs[-1][1] == s and runs[-1][2] == k:\n"
	"        runs[-1][1] = e\n"
	"      else: runs.append([s, e, k])\n"
	"    print(os.path.relpath(p, root), runs)\n";

/* The kernel's view of @dir/src.img and @dir/@dst, mounted read-only:
 * same bytes, same listing, same layout. */
static void kernel_compare(const char *dir, const char *dst)
{
	char *a = NULL, *b = NULL, ms[600], md[600];

	if (!t_can_loop_mount())
		cr_skip_test("the kernel comparison needs root and a loop "
			     "mount");
	cr_assert_eq(t_sh("cd %s && mkdir -p ms md && mount -o loop,ro src.img "
			  "ms && mount -o loop,ro %s md",
			  dir, dst),
		     0);
	cr_expect_eq(t_sh("cd %s && diff -r --no-dereference -x lost+found ms "
			  "md",
			  dir),
		     0, "the kernel reads different trees");
	snprintf(ms, sizeof(ms), "%s/ms", dir);
	snprintf(md, sizeof(md), "%s/md", dir);
	cr_assert_eq(t_sh_out(&a, LISTING, ms), 0);
	cr_assert_eq(t_sh_out(&b, LISTING, md), 0);
	t_sh("cd %s && cat > layout.py <<'EOF'\n%sEOF", dir, layout_py);
	cr_expect_str_eq(b, a, "metadata differs");
	free(a);
	free(b);
	cr_assert_eq(t_sh_out(&a, "cd %s && python3 layout.py ms", dir), 0);
	cr_assert_eq(t_sh_out(&b, "cd %s && python3 layout.py md", dir), 0);
	cr_expect_str_eq(b, a, "data/hole/unwritten layout differs");
	free(a);
	free(b);
	t_sh("cd %s && umount ms; umount md", dir);
}

static void migrate_ok(const char *type, unsigned int bs)
{
	char *d = t_tmpdir(), *out = NULL, *err = NULL, *sum0 = NULL,
	     *sum1 = NULL;
	int st;

	make_source(d, type, bs);
	cr_assert_eq(t_sh_out(&sum0, "md5sum <%s/src.img", d), 0);
	st = tc_run(d, &out, &err,
		    "--json migrate --type ext4 --verify src.img dst.img");
	cr_assert_eq(st, 0, "migrate: %s", err);
	cr_assert_eq(tc_json(out, "d['files'] == 4 and d['hard_links'] == 2 "
				  "and d['symlinks'] == 2 and "
				  "d['directories'] == 6 and d['created'] and "
				  "d['verified'] and d['fsck_clean'] and "
				  "d['xattrs'] == 2 and d['type'] == 'ext4'"),
		     0, "%s", out);
	if (!strcmp(type, "ext4"))
		cr_assert_eq(tc_json(out, "d['unwritten'] == 2"), 0, "%s",
			     out);
	cr_assert_eq(t_sh_out(&sum1, "md5sum <%s/src.img", d), 0);
	cr_assert_str_eq(sum0, sum1, "the source image changed");
	cr_assert_eq(t_sh("e2fsck -fn %s/dst.img >/dev/null 2>&1", d), 0);
	cr_assert_eq(t_sh("cd %s && dumpe2fs -h dst.img 2>/dev/null | grep -q "
			  "'Block size: *%u'",
			  d, bs),
		     0, "the source's block size");
	cr_assert_eq(t_sh("cd %s && debugfs -R 'ea_get /a/f1 user.color' "
			  "dst.img 2>/dev/null | grep -q blue",
			  d),
		     0, "the extended attribute");
	kernel_compare(d, "dst.img");
	free(out);
	free(err);
	free(sum0);
	free(sum1);
	t_tmpdir_remove(d);
}

Test(migrate, ext4_to_ext4)
{
	migrate_ok("ext4", 4096);
}

Test(migrate, ext2_1k_to_ext4)
{
	migrate_ok("ext2", 1024);
}

Test(migrate, ext3_to_ext4_direct)
{
	char *d = t_tmpdir(), *err = NULL;

	make_source(d, "ext3", 4096);
	cr_assert_eq(tc_run(d, NULL, &err,
			    "--io=direct migrate --type ext4 --verify src.img "
			    "dst.img"),
		     0, "%s", err);
	kernel_compare(d, "dst.img");
	free(err);
	t_tmpdir_remove(d);
}

/*
 * Into the native format (the default from ext4) and back out to ext4:
 * our --verify and fsck on the native image, then the kernel compares the
 * round trip's ext4 with the source.
 */
static void native_round_trip(const char *io)
{
	char *d = t_tmpdir(), *out = NULL, *err = NULL;

	make_source(d, "ext4", 4096);
	cr_assert_eq(tc_run(d, &out, &err, "%s --json migrate --verify src.img "
					   "n.img",
			    io),
		     0, "%s", err);
	cr_assert_eq(tc_json(out, "d['type'] == 'native' and d['files'] == 4 "
				  "and d['hard_links'] == 2 and "
				  "d['unwritten'] == 2 and d['verified'] and "
				  "d['fsck_clean']"),
		     0, "%s", out);
	free(out);
	free(err);
	cr_assert_eq(tc_run(d, NULL, NULL, "fsck n.img"), 0);
	cr_assert_eq(tc_run(d, &out, &err, "%s --json migrate --verify n.img "
					   "dst.img",
			    io),
		     0, "%s", err);
	cr_assert_eq(tc_json(out, "d['type'] == 'ext4' and d['verified'] and "
				  "d['fsck_clean']"),
		     0, "%s", out);
	free(out);
	free(err);
	kernel_compare(d, "dst.img");
	t_tmpdir_remove(d);
}

Test(migrate, ext4_to_native_and_back)
{
	native_round_trip("");
}

Test(migrate, ext4_to_native_and_back_direct)
{
	native_round_trip("--io=direct");
}

/* A destination that already holds files is refused, untouched. */
Test(migrate, refuses_a_destination_that_is_not_empty)
{
	char *d = t_tmpdir(), *err = NULL, *s0 = NULL, *s1 = NULL;

	make_source(d, "ext4", 4096);
	cr_assert_eq(t_sh("cd %s && mkdir -p o && echo x >o/x && mke2fs -q -F "
			  "-t ext4 -d o dst.img 16M",
			  d),
		     0);
	cr_assert_eq(t_sh_out(&s0, "md5sum <%s/dst.img", d), 0);
	cr_assert_eq(tc_run(d, NULL, &err, "migrate src.img dst.img"), 1);
	cr_assert(strstr(err, "not empty"), "%s", err);
	cr_assert_eq(t_sh_out(&s1, "md5sum <%s/dst.img", d), 0);
	cr_assert_str_eq(s0, s1, "the destination changed");
	free(err);
	free(s0);
	free(s1);
	t_tmpdir_remove(d);
}

/* An existing empty filesystem is filled (its lost+found kept). */
Test(migrate, fills_an_empty_filesystem)
{
	char *d = t_tmpdir(), *err = NULL;

	make_source(d, "ext4", 4096);
	cr_assert_eq(t_sh("cd %s && mke2fs -q -F -t ext4 dst.img 64M", d), 0);
	cr_assert_eq(tc_run(d, NULL, &err, "migrate --verify src.img dst.img"),
		     0, "%s", err);
	free(err);
	t_tmpdir_remove(d);
}

/*
 * Out of space part way: the file is named, the walk stops, exit status
 * 1, and the destination is consistent (e2fsck -fn clean).
 */
Test(migrate, enospc_names_the_file_and_leaves_a_clean_image)
{
	char *d = t_tmpdir(), *err = NULL;

	cr_assert_eq(t_sh("cd %s && mkdir -p src/d && for i in 1 2 3 4 5 6; "
			  "do head -c 3M /dev/urandom >src/d/f$i; done && "
			  "mke2fs -q -F -t ext4 -d src src.img 48M",
			  d),
		     0);
	cr_assert_eq(tc_run(d, NULL, &err,
			    "migrate --type ext4 --size 12m src.img dst.img"),
		     1);
	cr_assert(strstr(err, "dst.img:/d/f") &&
			  strstr(err, "No space left on device"),
		  "%s", err);
	cr_assert_eq(t_sh("e2fsck -fn %s/dst.img >/dev/null 2>&1", d), 0,
		     "the destination is not clean");
	free(err);
	t_tmpdir_remove(d);
}

/* Special files and attributes of the source's format: said, skipped,
 * status 1, everything else moved. */
Test(migrate, reports_what_it_cannot_move)
{
	char *d = t_tmpdir(), *err = NULL, *out = NULL;

	cr_assert_eq(t_sh("cd %s && mkdir -p src && echo a >src/a && "
			  "mkfifo src/fifo && "
			  "mke2fs -q -F -t ext4 -d src src.img 16M",
			  d),
		     0);
	cr_assert_eq(tc_run(d, &out, &err, "--json migrate --verify src.img "
					   "dst.img"),
		     1);
	cr_assert(strstr(err, "src.img:/fifo: device, FIFO or socket"), "%s",
		  err);
	cr_assert_eq(tc_json(out, "d['skipped'] == 1 and d['files'] == 1 and "
				  "d['verified'] and d['fsck_clean']"),
		     0, "%s", out);
	free(err);
	free(out);
	t_tmpdir_remove(d);
}

Test(migrate, usage_errors)
{
	char *d = t_tmpdir(), *err = NULL;

	cr_assert_eq(tc_run(d, NULL, &err, "migrate a.img"), 2);
	free(err);
	cr_assert_eq(tc_run(d, NULL, &err, "migrate --type xfs a.img b.img"),
		     2);
	cr_assert(strstr(err, "--type xfs"), "%s", err);
	free(err);
	cr_assert_eq(tc_run(d, NULL, &err, "migrate missing.img b.img"), 1);
	cr_assert(strstr(err, "missing.img"), "%s", err);
	cr_assert_eq(t_sh("test ! -e %s/b.img", d), 0,
		     "nothing is created for a missing source");
	free(err);
	t_tmpdir_remove(d);
}

#define CORPUS IOMAPCTL_SOURCE_DIR "/../shared/corpus/e2fsprogs-test-images"

/*
 * Damaged sources, every 6th image of e2fsprogs' suite (the whole corpus
 * takes minutes under ASan; the read-only commands run over all of it in
 * ext2_corpus): an error or a copy, never a crash or hang; the source is
 * never written; whatever was created passes e2fsck -fn.  (Filling a
 * directory of 47,616 names, f_h_normal, is ext2_dirindex's and B7's.)
 */
Test(migrate, damaged_sources)
{
	char *d = t_tmpdir(), *bad = NULL;

	if (t_sh("test -d '" CORPUS "'"))
		cr_skip_test("no corpus at " CORPUS);
	cr_assert_eq(
		t_sh_out(&bad,
			 "cd %s && n=0 && for f in $(ls '" CORPUS "'/*.img.gz | "
			 "awk 'NR %% 6 == 1'"
			 "); do n=$((n + 1)); zcat $f >s.img 2>/dev/null || "
			 "continue; a=$(md5sum <s.img); rm -f d.img; "
			 "timeout 60 %s -q migrate --type ext4 s.img d.img >/dev/null "
			 "2>err; st=$?; [ $st -le 1 ] && ! grep -q "
			 "-e Sanitizer -e 'runtime error' err || echo \"$f: "
			 "status $st $(head -c 300 err)\"; [ \"$a\" = "
			 "\"$(md5sum <s.img)\" ] || echo \"$f: source "
			 "written\"; [ ! -s d.img ] || e2fsck -fn d.img "
			 ">/dev/null 2>&1 || echo \"$f: destination not "
			 "clean\"; done; [ $n -ge 30 ] || echo only $n images",
			 d, IOMAPCTL_BINARY),
		0);
	cr_expect_str_eq(bad, "", "%s", bad);
	free(bad);
	t_tmpdir_remove(d);
}
