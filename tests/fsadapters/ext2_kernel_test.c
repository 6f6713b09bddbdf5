// SPDX-License-Identifier: GPL-2.0
/* ext2_kernel_test.c - allocation against the kernel: the same writes and
 * preallocations done by iomapctl on an image and by the kernel's ext4 on a
 * loop mount of a copy must leave the same data, unwritten and hole ranges
 * (physical blocks may differ), and the same SEEK_DATA/SEEK_HOLE answers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "helpers.h"

/* One step, done by both: iomapctl arguments and the xfs_io command. */
struct step {
	const char *ours; /* after `iomapctl [--io=X]`, "%s" is IMAGE:/f */
	const char *io; /* --io= value, or NULL for buffered */
	const char *xfs_io; /* on the mounted copy */
};

/* Builds "start-end:kind;..." (512-byte units), neighbours of one kind
 * merged: D data, U unwritten, H hole; "LAST" at the end when the last
 * extent carries FIEMAP_EXTENT_LAST. */
struct ranges {
	char *res;
	size_t cap, n;
	char kind;
	unsigned long long s0, e0;
};

static void ranges_add(struct ranges *r, unsigned long long s,
		       unsigned long long e, char k)
{
	if (r->kind == k && s == r->e0 + 1) {
		r->e0 = e;
		return;
	}
	if (r->kind)
		r->n += (size_t)snprintf(r->res + r->n, r->cap - r->n,
					 "%llu-%llu:%c;", r->s0, r->e0,
					 r->kind);
	r->kind = k;
	r->s0 = s;
	r->e0 = e;
}

static char *ranges_end(struct ranges *r, bool last)
{
	ranges_add(r, 0, 0, 0);
	if (last)
		snprintf(r->res + r->n, r->cap - r->n, "LAST");
	return r->res;
}

static char *normalize(const char *out)
{
	struct ranges r = { .cap = strlen(out) + 64 };
	const char *line = out;
	bool last = false;

	r.res = calloc(1, r.cap);
	cr_assert(r.res);
	for (; line && *line; line = strchr(line, '\n'), line += !!line) {
		char what[64] = "", tot[64], flags[64] = "0x0";
		unsigned long long s, e, f;
		bool hole;

		if (sscanf(line, " %*u: [%llu..%llu]: %63s %63s %63s", &s, &e,
			   what, tot, flags) < 3)
			continue;
		f = strtoul(flags, NULL, 16);
		hole = !strcmp(what, "hole");
		last = !hole && (f & 0x1);
		ranges_add(&r, s, e, hole ? 'H' : (f & 0x800) ? 'U' : 'D');
	}
	return ranges_end(&r, last);
}

static char *fiemap_of(const char *target, const char *opts)
{
	char *out, *res;

	cr_assert_eq(t_sh_out(&out, "%s %s fiemap -v %s", IOMAPCTL_BINARY, opts,
			      target),
		     0, "fiemap %s %s", opts, target);
	res = normalize(out);
	free(out);
	return res;
}

/* `map --op @op` rows (OFFSET LENGTH TYPE ...) in the same form; LAST
 * when the last row is an extent (map prints no fiemap flags). */
static char *map_of(const char *target, const char *op)
{
	struct ranges r;
	char *out, *line, type[32] = "";

	cr_assert_eq(t_sh_out(&out, "%s map --op %s %s", IOMAPCTL_BINARY, op,
			      target),
		     0, "map %s", target);
	r = (struct ranges){ .cap = strlen(out) + 64 };
	r.res = calloc(1, r.cap);
	cr_assert(r.res);
	for (line = out; line && *line;
	     line = strchr(line, '\n'), line += !!line) {
		unsigned long long off, len;

		if (sscanf(line, " %llu %llu %31s", &off, &len, type) < 3)
			continue;
		ranges_add(&r, off >> 9, ((off + len) >> 9) - 1,
			   !strcmp(type, "HOLE")      ? 'H' :
			   !strcmp(type, "UNWRITTEN") ? 'U' :
							'D');
	}
	free(out);
	return ranges_end(&r, type[0] && strcmp(type, "HOLE"));
}

/* How many extents fiemap lists (physically contiguous ones of one kind
 * are one extent only when the filesystem merged them). */
static int extents_of(const char *target)
{
	char *out;
	int n;

	cr_assert_eq(t_sh_out(&out,
			      "%s fiemap -v %s | grep -c '^ *[0-9]*: .*0x'",
			      IOMAPCTL_BINARY, target),
		     0);
	n = atoi(out);
	free(out);
	return n;
}

/* SEEK_DATA and SEEK_HOLE from each of @offs, as iomapctl prints them. */
static char *seeks_of(const char *opts, const char *target,
		      const long long *offs, size_t n)
{
	size_t cap = 64 * n + 1, len = 0;
	char *res = calloc(1, cap), *out;

	cr_assert(res);
	for (size_t i = 0; i < n; i++) {
		t_sh_out(
			&out,
			"{ %s %s seek -d %s %lld; %s %s seek -h %s %lld; } 2>&1",
			IOMAPCTL_BINARY, opts, target, offs[i], IOMAPCTL_BINARY,
			opts, target, offs[i]);
		len += (size_t)snprintf(res + len, cap - len, "%lld: %.40s|",
					offs[i], out);
		free(out);
	}
	return res;
}

/*
 * Make @type/@bs image @size with an empty /f, copy it, run @steps with
 * iomapctl on one and the kernel on the other, and compare.  Returns
 * false (after a note) where no loop mount is possible.
 */
static void same_as_kernel(const char *type, unsigned int bs, const char *size,
			   const struct step *steps, size_t nsteps,
			   const long long *offs, size_t noffs, bool count)
{
	char *dir = t_tmpdir(), *ours, *theirs, *fsck;
	char img[512], ktarget[512];

	if (!t_can_loop_mount()) {
		t_tmpdir_remove(dir);
		cr_skip_test("no root or no loop mount: no kernel oracle");
	}
	snprintf(img, sizeof(img), "%s/img:/f", dir);
	snprintf(ktarget, sizeof(ktarget), "%s/m/f", dir);
	cr_assert_eq(t_sh("cd %s && mkdir r m && : >r/f && mke2fs -q -F -t %s "
			  "-b %u -d r img %s && cp img k.img",
			  dir, type, bs, size),
		     0);
	for (size_t i = 0; i < nsteps; i++) {
		char args[256];

		snprintf(args, sizeof(args), steps[i].ours, img);
		cr_assert_eq(t_sh("%s -q %s%s %s >/dev/null", IOMAPCTL_BINARY,
				  steps[i].io ? "--io=" : "",
				  steps[i].io ? steps[i].io : "", args),
			     0, "iomapctl %s", args);
	}
	cr_assert_eq(t_sh_out(&fsck, "e2fsck -fn %s/img 2>&1", dir), 0,
		     "e2fsck -fn after %s %u:\n%s", type, bs, fsck);
	free(fsck);
	cr_assert_eq(t_sh("mount -o loop %s/k.img %s/m", dir, dir), 0);
	for (size_t i = 0; i < nsteps; i++)
		cr_assert_eq(t_sh("xfs_io -c '%s' -c fsync %s", steps[i].xfs_io,
				  ktarget),
			     0, "xfs_io %s", steps[i].xfs_io);
	t_sh("umount %s/m && mount -o loop,ro %s/k.img %s/m", dir, dir, dir);
	ours = fiemap_of(img, "");
	theirs = fiemap_of(ktarget, "");
	cr_expect_str_eq(ours, theirs, "%s %u: ours %s, kernel %s", type, bs,
			 ours, theirs);
	free(ours);
	/* The buffer-head mapper lists the same, past EOF too. */
	ours = fiemap_of(img, "--mapper=bh");
	cr_expect_str_eq(ours, theirs, "%s %u: bh %s, kernel %s", type, bs,
			 ours, theirs);
	free(ours);
	/* `map` covers what FIEMAP does by default, read and report ops. */
	for (int i = 0; i < 2; i++) {
		ours = map_of(img, i ? "report" : "read");
		cr_expect_str_eq(ours, theirs, "%s %u: map %s, kernel %s", type,
				 bs, ours, theirs);
		free(ours);
	}
	free(theirs);
	if (count) {
		int n = extents_of(img), k = extents_of(ktarget);

		/* The kernel's allocator may split more, never merge more. */
		cr_expect_leq(n, k, "%s %u: %d extents, kernel %d", type, bs, n,
			      k);
	}
	if (noffs) {
		ours = seeks_of("", img, offs, noffs);
		theirs = seeks_of("", ktarget, offs, noffs);
		cr_expect_str_eq(ours, theirs, "%s %u seeks: ours\n%skernel\n%s",
				 type, bs, ours, theirs);
		free(ours);
		/* The bh mapper's seek stays inside i_size too. */
		ours = seeks_of("--mapper=bh", img, offs, noffs);
		cr_expect_str_eq(ours, theirs,
				 "%s %u bh seeks: ours\n%skernel\n%s", type, bs,
				 ours, theirs);
		free(ours);
		free(theirs);
	}
	t_sh("umount %s/m", dir);
	t_tmpdir_remove(dir);
}

/* A write into a hole below EOF allocates what it writes, not the hole up
 * to the next extent. */
static const struct step sparse[] = {
	{ "write --pattern 0x11 --length 4096 %s 2097152", NULL,
	  "pwrite -S 0x11 2097152 4096" },
	{ "write --pattern 0x22 --length 65536 %s 65536", NULL,
	  "pwrite -S 0x22 65536 65536" },
	{ "write --pattern 0x33 --length 100 %s 300000", NULL,
	  "pwrite -S 0x33 300000 100" },
};

Test(ext2_kernel, sparse_write_ext4_1k)
{
	same_as_kernel("ext4", 1024, "16M", sparse, 3, NULL, 0, false);
}

Test(ext2_kernel, sparse_write_ext4_4k)
{
	same_as_kernel("ext4", 4096, "16M", sparse, 3, NULL, 0, false);
}

Test(ext2_kernel, sparse_write_ext2_1k)
{
	same_as_kernel("ext2", 1024, "16M", sparse, 3, NULL, 0, false);
}

/* Direct writes allocate what they write too. */
static const struct step sparse_direct[] = {
	{ "write --pattern 0x11 --length 8192 %s 2097152", "direct",
	  "pwrite -S 0x11 2097152 8192" },
	{ "write --pattern 0x22 --length 65536 %s 65536", "direct",
	  "pwrite -S 0x22 65536 65536" },
};

Test(ext2_kernel, sparse_write_direct_ext4_4k)
{
	same_as_kernel("ext4", 4096, "16M", sparse_direct, 2, NULL, 0, false);
}

/* KEEP_SIZE preallocation past EOF is listed by fiemap (UNWRITTEN), and
 * seek stays inside i_size. */
static const struct step keep_size[] = {
	{ "write --pattern 0x44 --length 10000 %s 0", NULL,
	  "pwrite -S 0x44 0 10000" },
	{ "falloc --keep-size %s 40960 65536", NULL, "falloc -k 40960 65536" },
	{ "falloc --keep-size %s 4096 8192", NULL, "falloc -k 4096 8192" },
};
static const long long keep_offs[] = { 0, 9999, 10000 };

Test(ext2_kernel, keep_size_past_eof_ext4_1k)
{
	same_as_kernel("ext4", 1024, "16M", keep_size, 3, keep_offs, 3, false);
}

Test(ext2_kernel, keep_size_past_eof_ext4_4k)
{
	same_as_kernel("ext4", 4096, "16M", keep_size, 3, keep_offs, 3, false);
}

/* A small DAX write into a hole before a KEEP_SIZE preallocation: only the
 * written blocks are allocated (it used to zero-fill the whole hole, past
 * EOF as written blocks, which e2fsck flags). */
static const struct step dax_hole[] = {
	{ "falloc -k %s 3143683 498408", NULL, "falloc -k 3143683 498408" },
	{ "write --pattern 0x8f --length 7168 %s 941568", "dax",
	  "pwrite -S 0x8f 941568 7168" },
};

Test(ext2_kernel, dax_write_into_hole_ext4_1k)
{
	same_as_kernel("ext4", 1024, "64M", dax_hole, 2, NULL, 0, false);
}

Test(ext2_kernel, dax_write_into_hole_ext4_4k)
{
	same_as_kernel("ext4", 4096, "64M", dax_hole, 2, NULL, 0, false);
}

/* Allocations that continue the extent before them grow it (ext4 merges
 * them): preallocating or DAX-writing a file piece by piece does not add
 * an extent per piece. */
static const struct step pieces[] = {
	{ "falloc %s 0 8192", NULL, "falloc 0 8192" },
	{ "falloc %s 8192 8192", NULL, "falloc 8192 8192" },
	{ "falloc %s 16384 8192", NULL, "falloc 16384 8192" },
	{ "write --pattern 0x55 --length 4096 %s 24576", "dax",
	  "pwrite -S 0x55 24576 4096" },
	{ "write --pattern 0x55 --length 4096 %s 28672", "dax",
	  "pwrite -S 0x55 28672 4096" },
};

Test(ext2_kernel, pieces_merge_ext4_4k)
{
	same_as_kernel("ext4", 4096, "16M", pieces, 5, NULL, 0, true);
}
