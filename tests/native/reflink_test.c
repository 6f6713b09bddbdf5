// SPDX-License-Identifier: GPL-2.0
/*
 * reflink_test.c - shared extents on native images: reflink, then writes,
 * zeroing, punches and truncates to either copy through every data path
 * and mapper leave the other untouched (checked against host copies and
 * against the blocks on disk), SHARED is flagged exactly where two files
 * own a block, fsck's refcounts agree after many operations and after
 * SIGKILL in the middle of copy-on-write, and a wrong refcount is found.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include "native_util.h"

static char *dir;

static void setup(void)
{
	dir = t_memdir();
	cr_assert_eq(t_sh("cd '%s' && head -c 300000 /dev/urandom > src && "
			  "head -c 7000 /dev/urandom > p1",
			  dir),
		     0);
}

static void teardown(void)
{
	t_tmpdir_remove(dir);
}

TestSuite(reflink, .init = setup, .fini = teardown, .timeout = 300);

/* @name in the test directory (a static buffer: one at a time). */
static const char *dir_file(const char *name)
{
	static char path[512];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return path;
}

/* The bytes file @ino's extents hold on disk (size in *@size). */
static uint8_t *disk_bytes(struct fsa_native_fs *nfs, uint64_t ino,
			   uint64_t *size)
{
	struct iomap_inode *inode;
	struct fsa_native_file *f;
	uint64_t nblk, bs = nfs->block_size;
	uint8_t *buf, *blk = malloc(bs);

	cr_assert_eq(fsa_native_ops.iget(&nfs->base, ino, &inode), 0);
	f = NATIVE_I(inode);
	*size = f->in.size;
	nblk = (*size + bs - 1) / bs;
	buf = calloc(1, *size + 1);
	cr_assert(buf && blk);
	for (uint64_t lblk = 0; lblk < nblk;) {
		struct iomap m;
		uint64_t n;

		cr_assert_eq(fsa_native_map_block(f, lblk, nblk, &m), 0);
		n = m.length / bs;
		for (uint64_t i = 0; m.type == IOMAP_MAPPED && i < n &&
				     lblk + i < nblk;
		     i++) {
			uint64_t off = (lblk + i) * bs;
			uint64_t len = *size - off < bs ? *size - off : bs;

			cr_assert_eq(fsa_native_pread(nfs, blk, bs,
						      m.addr + i * bs),
				     0);
			memcpy(buf + off, blk, len);
		}
		lblk += n;
	}
	fsa_native_ops.iput(inode);
	free(blk);
	return buf;
}

/* Where image file @name first differs from host file @host (relative to
 * the test directory): -1 when it does not, its size when only that does. */
static long first_diff(struct fsa_native_fs *nfs, const char *name,
		       const char *host)
{
	char path[512];
	uint64_t ino, size;
	uint8_t *disk, *want;
	struct stat st;
	long at = -1;
	FILE *h;

	snprintf(path, sizeof(path), "%s/%s", dir, host);
	cr_assert_eq(fsa_native_lookup(&nfs->base, name, &ino), 0, "%s", name);
	disk = disk_bytes(nfs, ino, &size);
	cr_assert_eq(stat(path, &st), 0, "%s", path);
	if (size != (uint64_t)st.st_size) {
		free(disk);
		return (long)size;
	}
	want = malloc(size + 1);
	h = fopen(path, "rb");
	cr_assert(want && h);
	cr_assert_eq(fread(want, 1, size, h), size);
	fclose(h);
	for (uint64_t i = 0; at < 0 && i < size; i++)
		if (disk[i] != want[i])
			at = (long)i;
	free(disk);
	free(want);
	return at;
}

/* Image file @name holds exactly the bytes of host file @host. */
static void expect_same(struct fsa_native_fs *nfs, const char *name,
			const char *host, const char *when)
{
	long at = first_diff(nfs, name, host);

	cr_assert_eq(at, -1, "%s: %s differs from %s at byte %ld (or in size)",
		     when, name, host, at);
}

/* A mapped block of some file: its disk block and whether map said SHARED. */
struct owner {
	uint64_t pblk, ino, lblk;
	bool shared;
};

static int cmp_owner(const void *a, const void *b)
{
	const struct owner *x = a, *y = b;

	return x->pblk < y->pblk ? -1 : x->pblk > y->pblk;
}

/* Every regular file's mapped blocks, as the read mapping reports them. */
static struct owner *owners(struct fsa_native_fs *nfs, size_t *n)
{
	struct fsa_native_key k = { { 0, 0 } };
	struct fsa_native_cursor c;
	struct owner *o = NULL;
	size_t cap = 0;
	int ret;

	*n = 0;
	for (ret = fsa_native_bt_seek(&c, nfs, FSA_NATIVE_T_INODES, &k);
	     ret == 1; ret = fsa_native_bt_next(&c)) {
		struct fsa_native_inode in;
		struct iomap_inode *inode;
		uint64_t ino;

		cr_assert_eq(fsa_native_bt_get(&c, &k, &in), 0);
		ino = k.w[0];
		if (!S_ISREG(in.mode))
			continue;
		cr_assert_eq(fsa_native_ops.iget(&nfs->base, ino, &inode), 0);
		for (uint64_t lblk = 0, end = UINT64_MAX >> 20; lblk < end;) {
			struct iomap m;
			uint64_t nb;

			cr_assert_eq(fsa_native_map_block(NATIVE_I(inode), lblk,
							  end, &m),
				     0);
			nb = m.length >> inode->blkbits;
			if (m.type == IOMAP_HOLE && lblk + nb >= end)
				break;
			for (uint64_t i = 0; m.type != IOMAP_HOLE && i < nb;
			     i++) {
				if (*n == cap) {
					cap = cap ? cap * 2 : 1024;
					o = realloc(o, cap * sizeof(*o));
					cr_assert(o);
				}
				o[(*n)++] = (struct owner){
					(m.addr >> inode->blkbits) + i, ino,
					lblk + i, m.flags & IOMAP_F_SHARED
				};
			}
			lblk += nb;
		}
		fsa_native_ops.iput(inode);
	}
	cr_assert_geq(ret, 0);
	return o;
}

/* SHARED exactly on the blocks more than one file maps. */
static void expect_shared_exact(struct fsa_native_fs *nfs, const char *when)
{
	size_t n;
	struct owner *o = owners(nfs, &n);

	qsort(o, n, sizeof(*o), cmp_owner);
	for (size_t i = 0; i < n; i++) {
		bool twice = (i > 0 && o[i - 1].pblk == o[i].pblk) ||
			     (i + 1 < n && o[i + 1].pblk == o[i].pblk);

		cr_assert_eq(o[i].shared, twice,
			     "%s: inode %llu block %llu (disk %llu): SHARED "
			     "%d, owners %s",
			     when, (unsigned long long)o[i].ino,
			     (unsigned long long)o[i].lblk,
			     (unsigned long long)o[i].pblk, o[i].shared,
			     twice ? ">= 2" : "1");
	}
	free(o);
}

/* fsck finds nothing, the files are their host copies, SHARED is exact. */
static void expect_state(const char *img, const char *const *files,
			 const char *when)
{
	struct fsa_native_fs *nfs = tn_open(img, false);

	cr_assert_eq(tn_check(nfs), 0, "%s: fsck found problems", when);
	for (size_t i = 0; files[i]; i++) {
		char name[16], path[512];

		snprintf(name, sizeof(name), "/%s", files[i]);
		snprintf(path, sizeof(path), "%s/h%s", dir, files[i]);
		if (access(path, F_OK) == 0)
			expect_same(nfs, name, path + strlen(dir) + 1, when);
	}
	expect_shared_exact(nfs, when);
	fsa_native_fs_free(nfs);
}

/* What a step does to the host copies hX of image file /X. */
struct host_op {
	char kind; /* c copy, w write @byte, f write p1, t truncate, a falloc */
	char file, from; /* X, and the source of a copy ('s': src) */
	long off, len;
	int byte;
};

static void host_path(char *buf, size_t size, char file)
{
	if (file == 's')
		snprintf(buf, size, "%s/src", dir);
	else
		snprintf(buf, size, "%s/h%c", dir, file);
}

/* The host side of a step, done here: no process per step. */
static void host_do(const struct host_op *op)
{
	char path[512], from[512];
	uint8_t *buf;
	FILE *f;

	host_path(path, sizeof(path), op->file);
	if (op->kind == 'c') {
		host_path(from, sizeof(from), op->from);
		cr_assert_eq(t_sh("cp '%s' '%s'", from, path), 0);
		return;
	}
	if (op->kind == 't' ||
	    (op->kind == 'a' && access(path, F_OK) == 0)) {
		struct stat st;

		cr_assert_eq(stat(path, &st), 0);
		if (op->kind == 't' || st.st_size < op->off + op->len)
			cr_assert_eq(truncate(path, op->kind == 't' ?
							    op->off :
							    op->off + op->len),
				     0);
		return;
	}
	buf = malloc((size_t)op->len);
	cr_assert(buf);
	memset(buf, op->byte, (size_t)op->len);
	if (op->kind == 'f') {
		snprintf(from, sizeof(from), "%s/p1", dir);
		f = fopen(from, "rb");
		cr_assert(f);
		cr_assert_eq(fread(buf, 1, (size_t)op->len, f),
			     (size_t)op->len);
		fclose(f);
	}
	f = fopen(path, "r+b");
	cr_assert(f);
	cr_assert_eq(fseek(f, op->off, SEEK_SET), 0);
	cr_assert_eq(fwrite(buf, 1, (size_t)op->len, f), (size_t)op->len);
	fclose(f);
	free(buf);
}

/*
 * Shell commands on the image and their host mirror (punch and zero read
 * as zeros: a write of zeros).  A NULL command ends a group: the image is
 * checked there.
 */
static const struct {
	const char *cmd;
	struct host_op host;
} cow_steps[] = {
	{ "reflink /a /b", { 'c', 'b', 'a', 0, 0, 0 } },
	{ "write --from p1 /b 5001", { 'f', 'b', 0, 5001, 7000, 0 } },
	{ "write --pattern 0x41 --length 70000 /a 100001",
	  { 'w', 'a', 0, 100001, 70000, 0x41 } },
	{ "zero /b 30001 20000", { 'w', 'b', 0, 30001, 20000, 0 } },
	{ NULL, { 0 } },
	{ "punch /a 0 12288", { 'w', 'a', 0, 0, 12288, 0 } },
	{ "truncate /b 150001", { 't', 'b', 0, 150001, 0, 0 } },
	{ "reflink /b /c", { 'c', 'c', 'b', 0, 0, 0 } },
	{ "write --pattern 0x42 --length 10000 /c 149000",
	  { 'w', 'c', 0, 149000, 10000, 0x42 } },
	{ NULL, { 0 } },
	{ "falloc /c 200000 50000", { 'a', 'c', 0, 200000, 50000, 0 } },
	{ "reflink /c /a", { 'c', 'a', 'c', 0, 0, 0 } },
	{ "write --pattern 0x43 --length 3000 /a 1",
	  { 'w', 'a', 0, 1, 3000, 0x43 } },
	{ "punch /b 4000 9000", { 'w', 'b', 0, 4000, 9000, 0 } },
	{ NULL, { 0 } },
};

struct cow_case {
	char io[16];
	char mapper[16];
	unsigned int block_size;
};

ParameterizedTestParameters(reflink, copy_on_write_through_every_path)
{
	static struct cow_case cases[] = {
		{ "buffered", "iomap", 1024 }, { "buffered", "bh", 4096 },
		{ "buffered", "hybrid", 2048 }, { "direct", "iomap", 4096 },
		{ "direct", "bh", 1024 },	{ "direct", "hybrid", 4096 },
		{ "dax", "iomap", 4096 },	{ "dax", "hybrid", 1024 },
	};

	return cr_make_param_array(struct cow_case, cases,
				   sizeof(cases) / sizeof(cases[0]));
}

/* Each group of steps in one shell (written back when the shell ends). */
ParameterizedTest(struct cow_case *tc, reflink,
		  copy_on_write_through_every_path)
{
	static const char *const files[] = { "a", "b", "c", NULL };
	static const struct host_op first = { 'c', 'a', 's', 0, 0, 0 };
	char *img = tn_mkfs(dir, "img", 8 << 20, tc->block_size);
	char script[1024] = "", when[160];

	if (!strcmp(tc->io, "dax") && !t_dax_maps(img))
		cr_skip_test("libpmem2 cannot map %s here", img);
	cr_assert_eq(t_sh("cd '%s' && %s -q --io=%s --mapper=%s cp src img:/a",
			  dir, IOMAPCTL_BINARY, tc->io, tc->mapper),
		     0);
	host_do(&first);
	for (size_t i = 0; i < sizeof(cow_steps) / sizeof(cow_steps[0]); i++) {
		if (cow_steps[i].cmd) {
			strcat(script, cow_steps[i].cmd);
			strcat(script, "\n");
			host_do(&cow_steps[i].host);
			continue;
		}
		snprintf(when, sizeof(when), "%s %s %u: after '%s'", tc->io,
			 tc->mapper, tc->block_size, cow_steps[i - 1].cmd);
		cr_assert_eq(t_sh("cd '%s' && printf '%s' | %s -q --io=%s "
				  "--mapper=%s shell img",
				  dir, script, IOMAPCTL_BINARY, tc->io,
				  tc->mapper),
			     0, "%s", when);
		expect_state(img, files, when);
		script[0] = '\0';
	}
	free(img);
}

/* The CLI, one process per command: nothing cached from one to the next. */
Test(reflink, one_process_per_command)
{
	static const char *const files[] = { "a", "b", NULL };
	static const struct host_op ops[] = {
		{ 'c', 'a', 's', 0, 0, 0 },
		{ 'c', 'b', 'a', 0, 0, 0 },
		{ 'w', 'a', 0, 777, 5000, 0x55 },
		{ 'w', 'b', 0, 2000, 3, 0x66 },
	};
	char *img = tn_mkfs(dir, "img", 8 << 20, 1024);

	cr_assert_eq(t_sh("cd '%s' && %s -q cp src img:/a && "
			  "%s reflink img:/a img:/b && "
			  "%s -q --mapper=hybrid write --pattern 0x55 "
			  "--length 5000 img:/a 777 && "
			  "%s -q --io=direct write --pattern 0x66 --length 3 "
			  "img:/b 2000",
			  dir, IOMAPCTL_BINARY, IOMAPCTL_BINARY,
			  IOMAPCTL_BINARY, IOMAPCTL_BINARY),
		     0);
	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
		host_do(&ops[i]);
	expect_state(img, files, "CLI");
	free(img);
}

/* fiemap through the engine says FIEMAP_EXTENT_SHARED where map says it. */
Test(reflink, fiemap_reports_shared_extents)
{
	char *img = tn_mkfs(dir, "img", 8 << 20, 4096);
	char *out;

	cr_assert_eq(t_sh("cd '%s' && %s -q cp src img:/a && %s reflink "
			  "img:/a img:/b && %s -q write --pattern 1 --length "
			  "4096 img:/b 8192",
			  dir, IOMAPCTL_BINARY, IOMAPCTL_BINARY,
			  IOMAPCTL_BINARY),
		     0);
	for (int bh = 0; bh < 2; bh++) {
		cr_assert_eq(t_sh_out(&out,
				      "cd '%s' && %s --mapper=%s fiemap -v "
				      "img:/b | awk 'NR > 2 { print $5 }'",
				      dir, IOMAPCTL_BINARY,
				      bh ? "bh" : "iomap"),
			     0);
		/* Shared, the copied block, shared to the end. */
		/* bh merges blocks: MERGED (0x1000) on each. */
		cr_expect_str_eq(out, bh ? "0x3000\n0x1000\n0x3001\n" :
					   "0x2000\n0x0\n0x2001\n",
				 "%s", out);
		free(out);
	}
	free(img);
}

/* cp --reflink inside one image shares; where it cannot, always fails
 * and auto copies. */
Test(reflink, cp_reflink_shares_inside_one_image)
{
	static const char *const files[] = { "b", NULL };
	static const struct host_op ops[] = {
		{ 'c', 'b', 's', 0, 0, 0 },
		{ 'w', 'b', 0, 10, 20, 0x5a },
	};
	char *img = tn_mkfs(dir, "img", 8 << 20, 2048);
	struct fsa_native_fs *nfs;
	struct fsa_native_key k = { { 0, 0 } };
	struct fsa_native_cursor c;
	char *out;

	cr_assert_eq(t_sh("cd '%s' && mkdir -p t && cp src t/a && %s -q cp -r "
			  "t img:/t && %s -q cp -r --reflink=always img:/t "
			  "img:/u && %s -q cp --reflink=auto img:/t/a img:/b "
			  "&& %s -q write --pattern 0x5a --length 20 img:/b 10",
			  dir, IOMAPCTL_BINARY, IOMAPCTL_BINARY,
			  IOMAPCTL_BINARY, IOMAPCTL_BINARY),
		     0);
	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
		host_do(&ops[i]);
	nfs = tn_open(img, false);
	expect_same(nfs, "/t/a", "src", "cp --reflink");
	expect_same(nfs, "/u/a", "src", "cp --reflink");
	expect_same(nfs, "/b", "hb", "cp --reflink");
	/* Three owners of most of src's blocks: the tree's two and /b. */
	cr_assert_eq(fsa_native_bt_seek(&c, nfs, FSA_NATIVE_T_REFCOUNT, &k),
		     1);
	fsa_native_fs_free(nfs);
	expect_state(img, files, "cp --reflink");
	cr_expect_eq(t_sh_out(&out, "cd '%s' && %s cp --reflink=always src "
			      "img:/h 2>&1",
			      dir, IOMAPCTL_BINARY),
		     1);
	cr_expect(strstr(out, "src -> img:/h: Operation not supported"), "%s",
		  out);
	free(out);
	cr_expect_neq(t_sh("cd '%s' && %s stat img:/h >/dev/null 2>&1", dir,
			   IOMAPCTL_BINARY),
		      0, "a refused cp --reflink=always made its destination");
	free(img);
}

/* Many operations on four files sharing blocks: refcounts stay exact. */
Test(reflink, refcounts_exact_after_many_operations)
{
	char *img = tn_mkfs(dir, "img", 16 << 20, 1024);
	char path[512];
	unsigned int seed = 11;
	FILE *s;

	snprintf(path, sizeof(path), "%s/ops", dir);
	s = fopen(path, "w");
	cr_assert(s);
	fprintf(s, "write --pattern 0x11 --length 200000 /f0 0\n");
	for (int i = 0; i < 300; i++) {
		int a = rand_r(&seed) % 4, b = rand_r(&seed) % 4;
		long off = rand_r(&seed) % 250000, len = 1 + rand_r(&seed) % 40000;

		switch (rand_r(&seed) % 6) {
		case 0:
			if (a != b)
				fprintf(s, "reflink /f%d /f%d\n", a, b);
			break;
		case 1:
			fprintf(s, "write --pattern %d --length %ld /f%d %ld\n",
				i & 0xff, len, a, off);
			break;
		case 2:
			fprintf(s, "punch /f%d %ld %ld\n", a, off, len);
			break;
		case 3:
			fprintf(s, "zero /f%d %ld %ld\n", a, off, len);
			break;
		case 4:
			fprintf(s, "truncate /f%d %ld\n", a, off);
			break;
		default:
			fprintf(s, "falloc /f%d %ld %ld\n", a, off, len);
			break;
		}
	}
	fclose(s);
	/* -k: a reflink from a file not made yet fails and the rest goes on. */
	cr_assert_eq(t_sh("cd '%s' && %s -q shell -k img < ops > /dev/null "
			  "2>&1; %s fsck img",
			  dir, IOMAPCTL_BINARY, IOMAPCTL_BINARY),
		     0);
	{
		static const char *const none[] = { NULL };

		expect_state(img, none, "after 300 operations");
	}
	free(img);
}

/* A refcount record that says too much or is missing is found, and
 * --repair puts it right. */
Test(reflink, wrong_refcounts_are_found_and_repaired)
{
	char *img = tn_mkfs(dir, "img", 8 << 20, 1024);
	struct fsa_native_fs *nfs;
	struct fsa_native_key k = { { 0, 0 } };
	struct fsa_native_refcount rc;
	struct fsa_native_cursor c;
	char *out;

	cr_assert_eq(t_sh("cd '%s' && %s -q cp src img:/a && %s reflink "
			  "img:/a img:/b",
			  dir, IOMAPCTL_BINARY, IOMAPCTL_BINARY),
		     0);
	for (int pass = 0; pass < 2; pass++) {
		nfs = tn_open(img, true);
		cr_assert_eq(fsa_native_bt_seek(&c, nfs, FSA_NATIVE_T_REFCOUNT,
						&k),
			     1);
		cr_assert_eq(fsa_native_bt_get(&c, &k, &rc), 0);
		cr_assert_eq(rc.refs, 2);
		rc.refs = 3;
		if (pass == 0)
			cr_assert_eq(fsa_native_bt_update(nfs,
							  FSA_NATIVE_T_REFCOUNT,
							  &k, &rc),
				     0);
		else
			cr_assert_eq(fsa_native_bt_delete(nfs,
							  FSA_NATIVE_T_REFCOUNT,
							  &k),
				     0);
		tn_close(nfs);
		cr_assert_eq(t_sh_out(&out, "cd '%s' && %s fsck img", dir,
				      IOMAPCTL_BINARY),
			     1, "%s", out);
		cr_expect(strstr(out, pass ? "(under-counted)" :
					     "refcount 3, but 2 extent records "
					     "refer to them (over-counted)"),
			  "%s", out);
		free(out);
		cr_assert_eq(t_sh("cd '%s' && %s -q fsck --repair img", dir,
				  IOMAPCTL_BINARY),
			     0);
		tn_assert_clean(img);
		k = (struct fsa_native_key){ { 0, 0 } };
	}
	free(img);
}

/* Refused: other images, ext4, a missing source, a directory, itself. */
Test(reflink, bad_input_changes_nothing)
{
	char *img = tn_mkfs(dir, "img", 8 << 20, 1024);
	char *img2 = tn_mkfs(dir, "img2", 8 << 20, 1024);
	static const struct {
		const char *args, *msg;
	} bad[] = {
		{ "img:/a img2:/b", "different images" },
		{ "img:/nope img:/b", "No such file" },
		{ "img:/a img:/", "Is a directory" },
		{ "img:/a img:/a", "same file" },
		{ "src img:/b", "give IMAGE:PATH" },
		{ "e4:/a e4:/b", "cannot share blocks" },
	};
	char *out;

	cr_assert_eq(t_sh("cd '%s' && %s -q cp src img:/a && "
			  "mke2fs -q -t ext4 -F e4 8M && %s -q cp src e4:/a && "
			  "cp img before",
			  dir, IOMAPCTL_BINARY, IOMAPCTL_BINARY),
		     0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_expect_neq(t_sh_out(&out, "cd '%s' && %s reflink %s 2>&1",
				       dir, IOMAPCTL_BINARY, bad[i].args),
			      0, "%s", bad[i].args);
		cr_expect(strstr(out, bad[i].msg), "%s: %s", bad[i].args, out);
		free(out);
		cr_expect_eq(t_sh("cd '%s' && cmp -s img before", dir), 0,
			     "%s changed the image", bad[i].args);
	}
	free(img);
	free(img2);
}

/* ---- SIGKILL in the middle of copy-on-write ---- */

#define COW_STEPS 5
#define COW_KILLS 4

/* Step k writes /b (shared with /a, and with /c from step 3 on). */
static const struct {
	const char *cmd;
	struct host_op host;
} kill_steps[COW_STEPS] = {
	{ "--io=buffered write --pattern 0x61 --length 120000 img:/b 1001",
	  { 'w', 'b', 0, 1001, 120000, 0x61 } },
	{ "--io=direct write --pattern 0x62 --length 100000 img:/b 60000",
	  { 'w', 'b', 0, 60000, 100000, 0x62 } },
	{ "reflink img:/b img:/c", { 0 } },
	{ "--io=buffered --mapper=bh write --pattern 0x63 --length 90000 "
	  "img:/b 150000",
	  { 'w', 'b', 0, 150000, 90000, 0x63 } },
	{ "--io=direct --mapper=hybrid write --pattern 0x64 --length 200000 "
	  "img:/b 4096",
	  { 'w', 'b', 0, 4096, 200000, 0x64 } },
};

/*
 * fsck clean as the crash left it (staging extents are legitimate), /a
 * untouched, /b the state after the last finished step or the next, /c
 * the copy of step 3 once that finished; a read-write open then frees the
 * staging a crash left, and the image is clean again.
 */
static void check_cow_kill(int kill_no)
{
	int done = tn_done_steps(dir);
	struct fsa_native_fs *nfs;
	struct fsa_native_extent e;
	struct fsa_fs *fs;
	uint64_t first, ino;
	char snap[32], next[32];
	char *out;

	cr_assert_eq(t_sh_out(&out, "cd %s && %s fsck img 2>&1", dir,
			      IOMAPCTL_BINARY),
		     0, "kill %d after step %d: fsck:\n%s", kill_no, done, out);
	free(out);
	nfs = tn_open(dir_file("img"), false);
	expect_same(nfs, "/a", "src", "after a kill");
	snprintf(snap, sizeof(snap), "snap%d", done);
	snprintf(next, sizeof(next), "snap%d", done + 1);
	cr_assert(first_diff(nfs, "/b", snap) == -1 ||
			  (done < COW_STEPS && first_diff(nfs, "/b", next) == -1),
		  "kill %d: /b is neither the state after step %d nor %d",
		  kill_no, done, done + 1);
	if (kill_no < 0)
		cr_assert_eq(done, COW_STEPS);
	if (done >= 3 || fsa_native_lookup(&nfs->base, "/c", &ino) == 0)
		expect_same(nfs, "/c", "snap3", "after a kill");
	fsa_native_fs_free(nfs);
	cr_assert_eq(fsa_native_ops.open(dir_file("img"), FSA_OPEN_RDWR, NULL,
					 &fs),
		     0);
	cr_assert_eq(fsa_native_ops.close(fs), 0);
	nfs = tn_open(dir_file("img"), false);
	cr_assert_eq(tn_check(nfs), 0);
	cr_assert_eq(fsa_native_ext_find(nfs, FSA_NATIVE_STAGING_INO, 0,
					 UINT64_MAX, &first, &e),
		     0, "staging left after a read-write open");
	fsa_native_fs_free(nfs);
}

Test(reflink, sigkill_during_copy_on_write)
{
	char *s = NULL, *pristine = tn_mkfs(dir, "pristine", 8 << 20, 1024);
	size_t slen = 0;
	FILE *f = open_memstream(&s, &slen);

	cr_assert_eq(t_sh("cd %s && %s -q cp src pristine:/a && %s reflink "
			  "pristine:/a pristine:/b && cp src hb && cp hb snap0",
			  dir, IOMAPCTL_BINARY, IOMAPCTL_BINARY),
		     0);
	fprintf(f, "cd %s", dir);
	for (int k = 1; k <= COW_STEPS; k++) {
		if (kill_steps[k - 1].host.kind)
			host_do(&kill_steps[k - 1].host);
		cr_assert_eq(t_sh("cd %s && cp hb snap%d", dir, k), 0);
		fprintf(f, " && %s -q %s && echo %d >>done.log",
			IOMAPCTL_BINARY, kill_steps[k - 1].cmd, k);
	}
	fclose(f);
	tn_kill_series(dir, s, COW_KILLS, 7, check_cow_kill);
	free(s);
	free(pristine);
}

/*
 * Inline files (a few hundred bytes in a record) have no blocks: reflink
 * copies the record, and a destination that was inline loses its own.
 */
Test(reflink, inline_source_and_destination)
{
	char *img = tn_mkfs(dir, "img", 8 << 20, 1024);

	cr_assert_eq(t_sh("cd '%s' && printf 'small and inline' > s && "
			  "%s -q cp s img:/s && %s -q cp p1 img:/big && "
			  "%s reflink img:/s img:/t && "
			  "%s map img:/t | grep -q INLINE && "
			  "%s cat img:/t | cmp - s && "
			  "%s reflink img:/big img:/s && "
			  "%s cat img:/s | cmp - p1 && "
			  "! %s map img:/s | grep -q INLINE && "
			  "%s reflink img:/t img:/big && "
			  "%s cat img:/big | cmp - s && %s fsck img",
			  dir, IOMAPCTL_BINARY, IOMAPCTL_BINARY,
			  IOMAPCTL_BINARY, IOMAPCTL_BINARY, IOMAPCTL_BINARY,
			  IOMAPCTL_BINARY, IOMAPCTL_BINARY, IOMAPCTL_BINARY,
			  IOMAPCTL_BINARY, IOMAPCTL_BINARY, IOMAPCTL_BINARY),
		     0);
	free(img);
}
