// SPDX-License-Identifier: GPL-2.0
/*
 * faults_test.c - the mutating commands (write, zero, truncate, falloc,
 * cp into an image) run in process with the fault-injecting
 * backend on its data path, failing its Nth request for every N up to the
 * command's total with EIO or ENOSPC, or cutting the Nth short: the
 * command ends with success or one clear error, the image passes its
 * fsck, /f changes only inside the command's range (to its old or its new
 * bytes) and /g not at all.  The same commands, punch and cp -r then have
 * the adapter's own (metadata) reads, writes and flushes of the image
 * fail, the Nth for every N (fsa_ops.set_faults).  Both formats: ext4,
 * which e2fsck -fy may have to repair after a metadata failure (libext2fs
 * has no journal), and native, whose journal must leave our fsck nothing
 * to repair whatever failed.  ASan finds leaks at exit.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "cmd_helpers.h"
#include "faultdev.h"
#include "iomapctl/imc.h"

#define F_SIZE 200000U /* /f: pattern bytes, a hole from 90000 to 130000 */
#define G_SIZE 30000U /* /g: untouched by every command */
#define MAXB (1U << 20)

/* One mutating command; "%s" is the image, its range of /f. */
struct fault_case {
	const char *argv[8];
	unsigned long long start, end; /* what /f may change: [start, end) */
	int newbyte; /* what the range holds after success (-1: its old bytes) */
	unsigned long long minsize, maxsize; /* /f's size after a failure */
	unsigned long long size; /* ... and after success */
};

static const struct fault_case cases[] = {
	{ { "write", "--pattern", "0x5a", "--length", "100000", "IMG:/f",
	    "5000" },
	  5000,
	  105000,
	  0x5a,
	  F_SIZE,
	  F_SIZE,
	  F_SIZE },
	{ { "write", "--pattern", "0x5b", "--length", "70001", "IMG:/f",
	    "180001" },
	  180001,
	  250002,
	  0x5b,
	  F_SIZE,
	  250002,
	  250002 },
	{ { "zero", "IMG:/f", "3000", "120000" },
	  3000,
	  123000,
	  0,
	  F_SIZE,
	  F_SIZE,
	  F_SIZE },
	{ { "zero", "IMG:/f", "190000", "40000" },
	  190000,
	  230000,
	  0,
	  F_SIZE,
	  230000,
	  230000 },
	{ { "truncate", "IMG:/f", "50001" },
	  50001,
	  F_SIZE,
	  0,
	  50001,
	  F_SIZE,
	  50001 },
	{ { "truncate", "IMG:/f", "300000" },
	  F_SIZE,
	  300000,
	  0,
	  F_SIZE,
	  300000,
	  300000 },
	{ { "falloc", "IMG:/f", "150000", "100000" },
	  150000,
	  250000,
	  -1,
	  F_SIZE,
	  250000,
	  250000 },
	/* cp: /f and /g unchanged; /new is the command's own file */
	{ { "cp", "SRC", "IMG:/new" }, 0, 0, -1, F_SIZE, F_SIZE, F_SIZE },
	/* Metadata faults only: these move no data, or no more than cp. */
	{ { "punch", "IMG:/f", "20000", "50000" },
	  20000,
	  70000,
	  0,
	  F_SIZE,
	  F_SIZE,
	  F_SIZE },
	{ { "cp", "-r", "TREE", "IMG:/tree" }, 0, 0, -1, F_SIZE, F_SIZE, F_SIZE },
};

static char *dir;
static uint8_t *fbytes, *gbytes, *buf;

static uint8_t pattern(uint64_t pos, int salt)
{
	return (uint8_t)(pos * 7 + pos / 251 + (uint64_t)salt);
}

static void setup(void)
{
	FILE *f, *g;

	dir = t_memdir();
	fbytes = calloc(1, F_SIZE);
	gbytes = malloc(G_SIZE);
	buf = malloc(MAXB);
	for (uint64_t i = 0; i < F_SIZE; i++)
		fbytes[i] = i >= 90000 && i < 130000 ? 0 : pattern(i, 1);
	for (uint64_t i = 0; i < G_SIZE; i++)
		gbytes[i] = pattern(i, 2);
	cr_assert_eq(t_sh("mkdir -p %s/r", dir), 0);
	f = fopen(strcat(strcpy((char *)buf, dir), "/r/f"), "w");
	g = fopen(strcat(strcpy((char *)buf, dir), "/r/g"), "w");
	cr_assert(f && g);
	cr_assert_eq(fwrite(fbytes, 1, F_SIZE, f), F_SIZE);
	cr_assert_eq(fwrite(gbytes, 1, G_SIZE, g), G_SIZE);
	fclose(f);
	fclose(g);
	/* The hole, as a hole; and the source of the cp case. */
	cr_assert_eq(t_sh("cd %s && fallocate -p -o 90000 -l 40000 r/f && "
			  "head -c 150000 /dev/urandom >src && "
			  "mkdir -p tree/d/e && seq 1 3000 >tree/a && "
			  "head -c 70000 /dev/urandom >tree/d/b && "
			  "ln -s ../a tree/d/l && : >tree/d/e/empty",
			  dir),
		     0);
}

static void teardown(void)
{
	free(fbytes);
	free(gbytes);
	free(buf);
	t_tmpdir_remove(dir);
}

TestSuite(faults, .init = setup, .fini = teardown, .timeout = 600);

/* @c's argv with the image and source filled in; returns argc. */
static int build_argv(const struct fault_case *c, char *img_spec[8],
		      char *argv[10])
{
	int argc = 0;

	argv[argc++] = "iomapctl";
	for (int i = 0; c->argv[i]; i++) {
		const char *a = c->argv[i];

		if (!strncmp(a, "IMG:", 4))
			cr_assert(asprintf(&img_spec[i], "%s/img:%s", dir,
					   a + 4) > 0);
		else if (!strcmp(a, "SRC") || !strcmp(a, "TREE"))
			cr_assert(asprintf(&img_spec[i], "%s/%s", dir,
					   a[0] == 'S' ? "src" : "tree") > 0);
		argv[argc++] = img_spec[i] ? img_spec[i] : (char *)a;
	}
	argv[argc] = NULL;
	return argc;
}

/*
 * Runs case @c on a fresh image with @fd on the data path of @io (or the
 * usual backend when NULL), and @meta (may be NULL) armed on the image's
 * metadata I/O; the exit status, what went to stderr in *@err.
 */
static int run_case(const struct fault_case *c, const char *io, bool small,
		    struct faultdev *fd, struct fsa_faults *meta, char **err)
{
	char *spec[8] = { 0 }, *argv[10];
	int argc = build_argv(c, spec, argv), ret, fds = tc_count_fds(0);
	struct imc_ctx ctx;
	size_t errlen;
	FILE *errf = open_memstream(err, &errlen), *null;

	cr_assert_eq(t_sh("cp --sparse=always %s/pristine %s/img", dir, dir),
		     0);
	null = fopen("/dev/null", "w");
	cr_assert(errf && null);
	imc_ctx_init(&ctx);
	ctx.out = null;
	ctx.err = errf;
	cr_assert_eq(imc_set_global(&ctx, "io", io), 0);
	if (small) {
		/* 4 KiB folios in a 32 KiB cache: many smaller requests. */
		ctx.io.cache_bytes = 32 << 10;
		ctx.io.max_folio_order = 0;
	}
	if (fd) {
		ctx.io.iodev = &faultdev_ops;
		ctx.io.iodev_arg = fd;
	}
	ctx.meta_faults = meta;
	ret = imc_run(&ctx, argc, argv, true);
	/* As main(): closing writes metadata too. */
	if (imc_ctx_fini(&ctx) && ret == IMC_EXIT_OK)
		ret = IMC_EXIT_FAIL;
	fclose(errf);
	fclose(null);
	for (int i = 0; i < 8; i++)
		free(spec[i]);
	/* A failure must not leave a descriptor open either. */
	cr_assert_eq(tc_count_fds(0), fds, "%s: %d descriptors left open",
		     c->argv[0], tc_count_fds(0) - fds);
	return ret;
}

/* @path of the image read back through a fresh context, no faults. */
static long long read_back(const char *path, uint8_t *out, size_t max)
{
	char *spec;
	struct imc_ctx ctx;
	struct imc_file f;
	long long n = 0;
	ssize_t r;

	cr_assert(asprintf(&spec, "%s/img:%s", dir, path) > 0);
	imc_ctx_init(&ctx);
	cr_assert_eq(imc_file_open(&ctx, spec, &f), 0, "%s", spec);
	cr_assert_leq((size_t)f.size, max);
	while (n < f.size &&
	       (r = imc_file_pread(&f, out + n, (size_t)(f.size - n), n)) > 0)
		n += r;
	cr_assert_eq(n, f.size, "reading %s back", spec);
	imc_file_close(&f);
	imc_ctx_fini(&ctx);
	free(spec);
	return n;
}

/*
 * An image format the commands run on: how the image every run starts
 * from is made (/f and /g in 8 MiB), and its fsck.
 */
struct fault_fmt {
	const char *name;
	const char *mkfs; /* shell, in the test's directory: r/ -> pristine */
	const char *check; /* shell: exit 0 when img is clean */
	const char *repair; /* shell: repairs img; NULL: never needed */
};

static const struct fault_fmt ext4 = {
	"ext4",
	"mke2fs -q -F -t ext4 -b 4096 -d r pristine 8M >/dev/null",
	"e2fsck -fn img 2>&1",
	"e2fsck -fy img 2>&1",
};

/* Journaled: a failure at any point must leave it clean as it is. */
static const struct fault_fmt native = {
	"native",
	IOMAPCTL_BINARY " mkfs --size 8M pristine >/dev/null && "
	IOMAPCTL_BINARY " cp r/f r/g pristine:/",
	IOMAPCTL_BINARY " fsck img 2>&1",
	NULL,
};

/*
 * The format's fsck must call the image clean; when @may_repair and the
 * format has a repair, an image it does not is repaired (which must leave
 * it clean): true then.
 */
static bool fsck(const struct fault_fmt *fmt, bool may_repair,
		 const char *what)
{
	char *out;
	int st = t_sh_out(&out, "cd %s && %s", dir, fmt->check);

	if (st && may_repair && fmt->repair) {
		free(out);
		st = t_sh_out(&out, "cd %s && %s", dir, fmt->repair);
		cr_assert(st == 0 || st == 1, "%s: %s exit %d:\n%s", what,
			  fmt->repair, st, out);
		free(out);
		st = t_sh_out(&out, "cd %s && %s", dir, fmt->check);
		cr_assert_eq(st, 0, "%s: not clean after %s:\n%s", what,
			     fmt->repair, out);
		free(out);
		return true;
	}
	cr_assert_eq(st, 0, "%s: %s:\n%s", what, fmt->check, out);
	free(out);
	return false;
}

/*
 * After a failure /f's size lies in [minsize, maxsize] and each byte of the
 * range holds its old value or the op's; after success, exactly the op's.
 * Returns true when e2fsck had to repair the image (only @may_repair).
 */
static bool check_image(const struct fault_fmt *fmt,
			const struct fault_case *c, bool ok, bool may_repair,
			const char *what)
{
	long long size;
	bool repaired = fsck(fmt, may_repair, what);

	cr_assert_eq(read_back("/g", buf, MAXB), G_SIZE, "%s: /g size", what);
	cr_assert_arr_eq(buf, gbytes, G_SIZE, "%s: /g changed", what);
	size = read_back("/f", buf, MAXB);
	cr_assert(ok ? (unsigned long long)size == c->size :
		       (unsigned long long)size >= c->minsize &&
				  (unsigned long long)size <= c->maxsize,
		  "%s: /f size %lld", what, size);
	for (long long i = 0; i < size; i++) {
		uint8_t old = i < F_SIZE ? fbytes[i] : 0;
		bool in = (unsigned long long)i >= c->start &&
			  (unsigned long long)i < c->end;
		int want = in && c->newbyte >= 0 ? c->newbyte : old;

		if (ok ? buf[i] != want :
			 buf[i] != old && !(in && buf[i] == c->newbyte))
			cr_assert_fail("%s: /f byte %lld is 0x%02x, was 0x%02x "
				       "(%s the range)",
				       what, i, buf[i], old,
				       in ? "inside" : "outside");
	}
	return repaired;
}

static void check_status(int ret, const char *err, const struct fault_case *c,
			 const char *what)
{
	char prefix[64], *closing;

	/* The command's error, or the image's when closing it failed. */
	snprintf(prefix, sizeof(prefix), "iomapctl: %s: ", c->argv[0]);
	cr_assert(asprintf(&closing, "iomapctl: %s/img: ", dir) > 0);
	cr_assert(ret == IMC_EXIT_OK || ret == IMC_EXIT_FAIL, "%s: exit %d",
		  what, ret);
	if (ret == IMC_EXIT_FAIL)
		cr_assert(strstr(err, prefix) == err ||
				  strstr(err, closing) == err,
			  "%s: no clear error: '%s'", what, err);
	free(closing);
}

/* The image every run starts from: /f and /g in 8 MiB of @fmt. */
static void make_pristine(const struct fault_fmt *fmt)
{
	cr_assert_eq(t_sh("cd %s && rm -f pristine && %s", dir, fmt->mkfs), 0,
		     "making the %s image", fmt->name);
}

/* Fault modes: fail with one of two errors, or one short transfer. */
static const struct {
	const char *name;
	int error; /* 0: short */
} modes[] = { { "EIO", -EIO }, { "ENOSPC", -ENOSPC }, { "short", 0 } };

static void run_all_faults(const struct fault_fmt *fmt, unsigned int ci,
			   const char *io, bool small)
{
	const struct fault_case *c = &cases[ci];
	struct faultdev fd = { 0 };
	unsigned int total, failures = 0;
	char *err, what[160];
	int ret;

	make_pristine(fmt);
	ret = run_case(c, io, small, &fd, NULL, &err);
	cr_assert_eq(ret, 0, "%s without faults: %s", c->argv[0], err);
	free(err);
	check_image(fmt, c, true, false, "without faults");
	total = fd.nr_submit;
	cr_assert_gt(total, 0, "%s made no requests", c->argv[0]);
	for (unsigned int m = 0; m < 3; m++) {
		for (unsigned int n = 1; n <= total; n++) {
			fd = (struct faultdev){ .fail_error = modes[m].error };
			if (modes[m].error)
				fd.fail_at = n;
			else
				fd.short_at = n;
			snprintf(what, sizeof(what),
				 "%s %s (--io=%s%s) with %s at request %u of %u",
				 fmt->name, c->argv[0], io,
				 small ? ", small cache" : "", modes[m].name, n,
				 total);
			ret = run_case(c, io, small, &fd, NULL, &err);
			check_status(ret, err, c, what);
			failures += ret != 0;
			free(err);
			check_image(fmt, c, ret == 0, false, what);
		}
	}
	cr_log_info("%s %s --io=%s%s: %u requests, each failed 3 ways: %u "
		    "reported",
		    fmt->name, c->argv[0], io, small ? " (small cache)" : "",
		    total, failures);
	/* An injected error that never reaches the user is a lost error. */
	cr_assert_gt(failures, 0, "%s --io=%s: no fault was reported",
		     c->argv[0], io);
}

#define FAULT_TEST(name, ci)                                                   \
	Test(faults, name##_buffered)                                          \
	{                                                                      \
		run_all_faults(&ext4, ci, "buffered", false);                  \
	}                                                                      \
	Test(faults, name##_buffered_small_cache)                              \
	{                                                                      \
		run_all_faults(&ext4, ci, "buffered", true);                   \
	}                                                                      \
	Test(faults, name##_direct)                                            \
	{                                                                      \
		run_all_faults(&ext4, ci, "direct", false);                    \
	}                                                                      \
	Test(faults, native_##name##_buffered_small_cache)                     \
	{                                                                      \
		run_all_faults(&native, ci, "buffered", true);                 \
	}                                                                      \
	Test(faults, native_##name##_direct)                                   \
	{                                                                      \
		run_all_faults(&native, ci, "direct", false);                  \
	}

/*
 * punch is not here: it moves no data (the edge blocks are zeroed and the
 * blocks freed through libext2fs), and the backend sits on the data path.
 */
FAULT_TEST(write_inside, 0)
FAULT_TEST(write_past_eof, 1)
FAULT_TEST(zero_inside, 2)
FAULT_TEST(zero_past_eof, 3)
FAULT_TEST(truncate_down, 4)
FAULT_TEST(truncate_up, 5)
FAULT_TEST(falloc, 6)
FAULT_TEST(cp_into_image, 7)

/*
 * The adapter's own reads and writes of the image (inode tables, bitmaps,
 * extent, directory and partial data blocks, group descriptors, the
 * superblock: everything libext2fs moves) fail with EIO one at a time, the
 * Nth of the command's for every N, from the moment the command has the
 * image open.  A reported failure may leave the image for e2fsck -fy to
 * repair (libext2fs has no journal to undo half an update), but never a
 * byte changed outside the command's range; a success must leave it clean.
 */
static void run_meta_faults(const struct fault_fmt *fmt, unsigned int ci)
{
	const struct fault_case *c = &cases[ci];
	struct fsa_faults meta = { 0 };
	unsigned int total, failures = 0, repaired = 0;
	char *err, what[160];
	int ret;

	make_pristine(fmt);
	ret = run_case(c, "buffered", false, NULL, &meta, &err);
	cr_assert_eq(ret, 0, "%s without faults: %s", c->argv[0], err);
	free(err);
	check_image(fmt, c, true, false, "without faults");
	total = meta.nr_io;
	cr_assert_gt(total, 0, "%s did no metadata I/O", c->argv[0]);
	for (unsigned int n = 1; n <= total; n++) {
		meta = (struct fsa_faults){ .fail_at = n, .error = -EIO };
		snprintf(what, sizeof(what),
			 "%s %s with EIO at metadata I/O %u of %u", fmt->name,
			 c->argv[0], n, total);
		ret = run_case(c, "buffered", false, NULL, &meta, &err);
		cr_assert_eq(meta.nr_failed, 1, "%s: the fault never came",
			     what);
		check_status(ret, err, c, what);
		failures += ret != 0;
		free(err);
		repaired += check_image(fmt, c, ret == 0, ret != 0, what);
	}
	cr_log_info("%s %s: %u metadata I/Os failed one at a time: %u "
		    "reported, %u left for repair",
		    fmt->name, c->argv[0], total, failures, repaired);
	cr_assert_gt(failures, 0, "%s: no metadata fault was reported",
		     c->argv[0]);
}

#define META_FAULT_TEST(name, ci)                                              \
	Test(faults, name##_metadata)                                          \
	{                                                                      \
		run_meta_faults(&ext4, ci);                                    \
	}                                                                      \
	Test(faults, native_##name##_metadata)                                 \
	{                                                                      \
		run_meta_faults(&native, ci);                                  \
	}

META_FAULT_TEST(write_inside, 0)
META_FAULT_TEST(write_past_eof, 1)
META_FAULT_TEST(zero_inside, 2)
META_FAULT_TEST(zero_past_eof, 3)
META_FAULT_TEST(truncate_down, 4)
META_FAULT_TEST(truncate_up, 5)
META_FAULT_TEST(falloc, 6)
META_FAULT_TEST(cp_into_image, 7)
META_FAULT_TEST(punch, 8)
META_FAULT_TEST(cp_tree_into_image, 9)
