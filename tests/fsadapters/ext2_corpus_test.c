// SPDX-License-Identifier: GPL-2.0
/* ext2_corpus_test.c - the damaged images of e2fsprogs' test suite: every
 * one opens read-only and is walked, stat'ed, mapped and sought with an
 * answer or a clear error, never a crash or a hang, and never a write; and
 * `probe`, `ls -l` and `cp -r` of each end with an answer or a clear
 * error under a watchdog. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/fiemap.h>

#include <criterion/criterion.h>

#include "ext2_util.h"
#include "helpers.h"
#include "iomapctl/imc.h"

/* Next to the project root (IOMAPCTL_CORPUS_DIR comes from CMake). */
#define CORPUS IOMAPCTL_CORPUS_DIR "/e2fsprogs-test-images"
/*
 * A hang or a quadratic walk shows as the watchdog firing (SIGALRM ends
 * the test): each command gets this long.  Release builds take under 2 s
 * on the largest images; the sanitizers and a loaded machine are several
 * times slower.
 */
#define CLI_WATCHDOG_S 120
#define SHARDS 8 /* the four huge-directory images in separate shards */
#define MAX_ENTRIES 3000 /* per image */
#define MAX_DEPTH 32
#define MAX_DIRS 1024

struct walk {
	struct fsa_fs *fs;
	uint64_t dirs[MAX_DIRS]; /* directories entered: loop detection */
	int ndirs;
	int entries;
	int errors;
	int files;
};

static void check_regular(struct walk *w, uint64_t ino)
{
	struct iomap_inode *inode;
	struct fiemap_extent fe[64];
	struct iomap_fiemap_info fi = { .fi_extents_max = 64,
					.fi_extents_start = fe };
	const struct iomap_opset *ops = fsa_ext2_ops.iomap;
	struct iomap_iter it;
	loff_t r;
	int ret;

	if (fsa_ext2_ops.iget(w->fs, ino, &inode)) {
		w->errors++;
		return;
	}
	w->files++;
	ret = iomap_fiemap(inode, &fi, 0, FIEMAP_MAX_OFFSET, FIEMAP_FLAG_XATTR,
			   ops->report);
	cr_assert_leq(ret, 0);
	fi = (struct iomap_fiemap_info){ .fi_flags = FIEMAP_FLAG_XATTR,
					 .fi_extents_max = 64,
					 .fi_extents_start = fe };
	cr_assert_leq(iomap_fiemap(inode, &fi, 0, FIEMAP_MAX_OFFSET,
				   FIEMAP_FLAG_XATTR, ops->xattr),
		      0);
	r = iomap_seek_data(inode, 0, ops->report);
	cr_assert(r >= 0 || r < 0);
	r = iomap_seek_hole(inode, inode->size / 2, ops->report);
	cr_assert(r <= inode->size);
	fi = (struct iomap_fiemap_info){ .fi_extents_max = 64,
					 .fi_extents_start = fe };
	cr_assert_leq(iomap_bh_fiemap(inode, &fi, 0, 64ULL << inode->blkbits,
				      ops->get_block),
		      0);
	/* A read's mappings over the first MiB must keep the contract. */
	it = (struct iomap_iter){ .inode = inode, .len = 1 << 20 };
	while ((ret = iomap_iter(&it, ops->read)) > 0)
		it.status = iomap_iter_advance(&it, iomap_length(&it));
	cr_assert_leq(ret, 0);
	fsa_ext2_ops.iput(inode);
}

static int visit(const struct fsa_dirent *de, void *priv);

struct dirctx {
	struct walk *w;
	int depth;
	uint64_t subdirs[256];
	int nsub;
};

static void walk_dir(struct walk *w, uint64_t dir, int depth)
{
	struct dirctx ctx = { .w = w, .depth = depth };

	for (int i = 0; i < w->ndirs; i++)
		if (w->dirs[i] == dir)
			return; /* a loop, or a hard-linked directory */
	if (w->ndirs == MAX_DIRS || depth > MAX_DEPTH)
		return;
	w->dirs[w->ndirs++] = dir;
	if (fsa_ext2_ops.readdir(w->fs, dir, visit, &ctx) < 0)
		w->errors++;
	for (int i = 0; i < ctx.nsub; i++)
		walk_dir(w, ctx.subdirs[i], depth + 1);
}

static int visit(const struct fsa_dirent *de, void *priv)
{
	struct dirctx *ctx = priv;
	struct walk *w = ctx->w;
	struct fsa_stat st;
	char buf[4096];

	if (++w->entries > MAX_ENTRIES)
		return 1;
	if (!strcmp(de->name, ".") || !strcmp(de->name, ".."))
		return 0;
	if (fsa_ext2_ops.stat(w->fs, de->ino, &st)) {
		w->errors++;
		return 0;
	}
	if (S_ISDIR(st.mode) && ctx->nsub < 256)
		ctx->subdirs[ctx->nsub++] = de->ino;
	else if (S_ISREG(st.mode))
		check_regular(w, de->ino);
	else if (S_ISLNK(st.mode) &&
		 fsa_ext2_ops.readlink(w->fs, de->ino, buf, sizeof(buf)))
		w->errors++;
	return 0;
}

struct tally {
	int images, opened, files, errors;
};

/*
 * What must not change: size, mtime and ctime (any write moves them, even
 * root's) and a checksum of every byte (cheap, in process: the images
 * reach 140 MiB).
 */
struct fingerprint {
	off_t size;
	struct timespec mtime, ctime;
	uint64_t sum;
};

static struct fingerprint fingerprint(const char *img)
{
	struct fingerprint fp = { 0 };
	struct stat st;
	int fd = open(img, O_RDONLY);
	const uint64_t *w;

	cr_assert(fd >= 0 && fstat(fd, &st) == 0);
	fp.size = st.st_size;
	fp.mtime = st.st_mtim;
	fp.ctime = st.st_ctim;
	w = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	cr_assert(w != MAP_FAILED);
	for (size_t i = 0; i < (size_t)st.st_size / 8; i++)
		fp.sum = (fp.sum << 7 | fp.sum >> 57) ^ (w[i] + i);
	munmap((void *)w, (size_t)st.st_size);
	close(fd);
	return fp;
}

/* Runs `iomapctl ARGS...` in this process: stdout dropped, stderr kept. */
static int run_cli(char *const *args, int n, char **err)
{
	char *argv[8] = { "iomapctl" };
	struct imc_ctx ctx;
	size_t len = 0;
	FILE *e = open_memstream(err, &len);
	int ret;

	cr_assert(e && n < 7);
	for (int i = 0; i < n; i++)
		argv[i + 1] = args[i];
	imc_ctx_init(&ctx);
	ctx.out = fopen("/dev/null", "w");
	ctx.err = e;
	cr_assert_not_null(ctx.out);
	alarm(CLI_WATCHDOG_S);
	ret = imc_run(&ctx, n + 1, argv, true);
	alarm(0);
	imc_ctx_fini(&ctx);
	fclose(ctx.out);
	fclose(e);
	return ret;
}

/* Every line of @err is `iomapctl: <what>: <why>`. */
static bool clear_errors(const char *err)
{
	for (const char *l = err; *l; l = strchr(l, '\n') + 1) {
		if (strncmp(l, "iomapctl: ", 10) || !strchr(l, '\n'))
			return false;
	}
	return true;
}

/*
 * The commands a user runs first on an image: each must end (status 0, or
 * 1 with every line of stderr an `iomapctl: ...` message), never crash,
 * hang or write to the image (check_image compares it after).
 */
static void check_cli(const char *tmp, const char *img, const char *base)
{
	char spec[1100], out[1100];
	char *cmds[][3] = { { "probe", (char *)img },
			    { "ls", "-l", spec },
			    { "cp", "-r", spec } };
	int nargs[] = { 2, 3, 3 };

	snprintf(spec, sizeof(spec), "%s:/", img);
	snprintf(out, sizeof(out), "%s/out", tmp);
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		char *args[4] = { cmds[i][0], cmds[i][1], cmds[i][2], out };
		char *err = NULL;
		int ret = run_cli(args, nargs[i] + (i == 2), &err);

		cr_expect(ret <= 1 && clear_errors(err),
			  "%s: %s ended with %d: %s", base, cmds[i][0], ret,
			  err);
		free(err);
	}
	cr_assert_eq(t_sh("rm -rf '%s'", out), 0);
}

static void check_image(const char *tmp, const char *src, struct tally *t)
{
	const char *base = strrchr(src, '/') + 1;
	struct fingerprint before, after;
	char img[1024];
	struct walk *w = calloc(1, sizeof(*w));
	uint64_t ino;
	int ret;

	snprintf(img, sizeof(img), "%s/%.*s", tmp, (int)strcspn(base, "."),
		 base);
	cr_assert_eq(
		t_sh("case '%s' in *.gz) zcat '%s' ;; *.bz2) bzcat '%s' ;; "
		     "*) cat '%s' ;; esac > '%s'",
		     src, src, src, src, img),
		0);
	before = fingerprint(img);
	cr_assert_not_null(w);
	ret = fsa_ext2_ops.open(img, 0, NULL, &w->fs);
	t->images++;
	if (ret == 0) {
		t->opened++;
		/* lookup of a few paths, and the whole tree */
		fsa_ext2_ops.lookup(w->fs, "/lost+found/../a/b/c", &ino);
		if (fsa_ext2_ops.lookup(w->fs, "/", &ino) == 0)
			walk_dir(w, ino, 0);
		cr_assert_eq(fsa_ext2_ops.close(w->fs), 0);
	} else {
		cr_assert_lt(ret, 0);
	}
	t->files += w->files;
	t->errors += w->errors;
	check_cli(tmp, img, base);
	after = fingerprint(img);
	cr_assert(before.size == after.size && before.sum == after.sum &&
			  before.mtime.tv_sec == after.mtime.tv_sec &&
			  before.mtime.tv_nsec == after.mtime.tv_nsec &&
			  before.ctime.tv_sec == after.ctime.tv_sec &&
			  before.ctime.tv_nsec == after.ctime.tv_nsec,
		  "%s was modified", base);
	free(w);
	remove(img);
}

static void run_shard(int shard)
{
	char *tmp = t_memdir();
	glob_t g;
	struct tally t = { 0 };

	if (glob(CORPUS "/*.img*", 0, NULL, &g) || g.gl_pathc == 0) {
		t_tmpdir_remove(tmp);
		cr_skip_test("no corpus at " CORPUS);
	}
	for (size_t i = (size_t)shard; i < g.gl_pathc; i += SHARDS) {
		uint64_t t0 = iomap_stats_now_ns();

		check_image(tmp, g.gl_pathv[i], &t);
		/* CORPUS_TIMES=1 shows where the time goes */
		if (getenv("CORPUS_TIMES"))
			cr_log_info("%s %.0f ms", g.gl_pathv[i],
				    (iomap_stats_now_ns() - t0) / 1e6);
	}
	globfree(&g);
	cr_log_info("shard %d: %d images, %d opened, %d files mapped, "
		    "%d clean errors",
		    shard, t.images, t.opened, t.files, t.errors);
	t_tmpdir_remove(tmp);
}

TestSuite(ext2_corpus, .timeout = 600);

Test(ext2_corpus, shard0)
{
	run_shard(0);
}
Test(ext2_corpus, shard1)
{
	run_shard(1);
}
Test(ext2_corpus, shard2)
{
	run_shard(2);
}
Test(ext2_corpus, shard3)
{
	run_shard(3);
}
Test(ext2_corpus, shard4)
{
	run_shard(4);
}
Test(ext2_corpus, shard5)
{
	run_shard(5);
}
Test(ext2_corpus, shard6)
{
	run_shard(6);
}
Test(ext2_corpus, shard7)
{
	run_shard(7);
}
