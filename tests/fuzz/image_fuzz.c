// SPDX-License-Identifier: GPL-2.0
/*
 * image_fuzz.c - the libFuzzer target: the input is an image.  The
 * read-only commands (probe, ls, stat, map, fiemap, seek, cat) run on it
 * and on the files of its top two directory levels, then a tree copy out
 * of it; none may crash, and none may change a byte of the image.
 * Built with -fsanitize=fuzzer under IOMAPCTL_FUZZ, and without it as
 * iomapctl-fuzz-replay (replay.c) for the seed corpus and the inputs of
 * crashes found, which ctest runs on every build.
 */
#include <fcntl.h>
#include <limits.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "iomapctl/imc.h"

#define FUZZ_MAX_FILES 8 /* files the per-file commands run on */
#define FUZZ_MAX_DIRS 4 /* directories of the root walked for them */

struct fuzz_names {
	char path[FUZZ_MAX_FILES][NAME_MAX * 2 + 4];
	uint64_t dirs[FUZZ_MAX_DIRS];
	char dirpath[FUZZ_MAX_DIRS][NAME_MAX + 2];
	int nfiles, ndirs, at_dir;
	struct fsa_fs *fs;
};

static int collect(const struct fsa_dirent *de, void *priv)
{
	struct fuzz_names *n = priv;
	const char *parent = n->at_dir < 0 ? "" : n->dirpath[n->at_dir];
	struct fsa_stat st;

	if (!strcmp(de->name, ".") || !strcmp(de->name, "..") ||
	    strchr(de->name, '/') || n->fs->ops->stat(n->fs, de->ino, &st))
		return 0;
	if (S_ISDIR(st.mode) && n->at_dir < 0 && n->ndirs < FUZZ_MAX_DIRS) {
		n->dirs[n->ndirs] = de->ino;
		snprintf(n->dirpath[n->ndirs++], sizeof(n->dirpath[0]), "/%s",
			 de->name);
	} else if (S_ISREG(st.mode) && n->nfiles < FUZZ_MAX_FILES) {
		snprintf(n->path[n->nfiles++], sizeof(n->path[0]), "%s/%s",
			 parent, de->name);
	}
	return n->nfiles == FUZZ_MAX_FILES;
}

/* Regular files of / and of its first subdirectories, by path. */
static void find_files(struct imc_ctx *ctx, const char *img,
		       struct fuzz_names *n)
{
	uint64_t root;

	memset(n, 0, sizeof(*n));
	n->at_dir = -1;
	if (imc_fs_open(ctx, img, false))
		return;
	n->fs = ctx->fs;
	if (n->fs->ops->lookup(n->fs, "/", &root) ||
	    n->fs->ops->readdir(n->fs, root, collect, n) < 0)
		return;
	for (n->at_dir = 0; n->at_dir < n->ndirs; n->at_dir++)
		if (n->fs->ops->readdir(n->fs, n->dirs[n->at_dir], collect, n) <
		    0)
			break;
}

/* `iomapctl ARGS...` in process; the exit status does not matter. */
static void run(struct imc_ctx *ctx, const char *a0, const char *a1,
		const char *a2, const char *a3, const char *a4)
{
	char *argv[] = { "iomapctl", (char *)a0, (char *)a1, (char *)a2,
			 (char *)a3, (char *)a4, NULL };
	struct iomap_io_params io = ctx->io;
	bool json = ctx->json;
	int argc = 1;

	while (argv[argc])
		argc++;
	imc_run(ctx, argc, argv, true);
	/* Global options hold for one command. */
	ctx->io = io;
	ctx->json = json;
}

static int rm_entry(const char *path, const struct stat *st, int flag,
		    struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

static void run_commands(struct imc_ctx *ctx, const char *img,
			 const char *outdir)
{
	struct fuzz_names n;
	char spec[1024], dst[256];

	run(ctx, "probe", img, NULL, NULL, NULL);
	run(ctx, "probe", "--json", img, NULL, NULL);
	snprintf(spec, sizeof(spec), "%s:/", img);
	run(ctx, "ls", "-l", spec, NULL, NULL);
	run(ctx, "stat", spec, NULL, NULL, NULL);
	find_files(ctx, img, &n);
	for (int i = 0; i < n.nfiles; i++) {
		snprintf(spec, sizeof(spec), "%s:%s", img, n.path[i]);
		run(ctx, "stat", spec, NULL, NULL, NULL);
		run(ctx, "map", spec, NULL, NULL, NULL);
		run(ctx, "fiemap", "-v", spec, NULL, NULL);
		run(ctx, "--mapper=bh", "fiemap", spec, NULL, NULL);
		run(ctx, "seek", "-a", "-r", spec, "0");
		run(ctx, "--mapper=bh", "seek", "-a", spec, "0");
		/* A bound: a fuzzed size may claim terabytes of hole. */
		run(ctx, "cat", spec, "0", "4m", NULL);
		run(ctx, "--io=direct", "cat", spec, "1000", "70000");
	}
	for (int i = 0; i < n.ndirs; i++) {
		snprintf(spec, sizeof(spec), "%s:%s", img, n.dirpath[i]);
		run(ctx, "ls", "-lF", spec, NULL, NULL);
	}
	snprintf(spec, sizeof(spec), "%s:/", img);
	snprintf(dst, sizeof(dst), "%s/out", outdir);
	run(ctx, "cp", "-r", spec, dst, NULL);
	nftw(dst, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* Did anything write to @fd, which was @data? */
static int image_changed(int fd, const uint8_t *data, size_t size)
{
	uint8_t buf[65536];
	size_t pos = 0;
	ssize_t n;
	struct stat st;

	if (fstat(fd, &st) || (size_t)st.st_size != size)
		return 1;
	while ((n = pread(fd, buf, sizeof(buf), (off_t)pos)) > 0) {
		if (memcmp(buf, data + pos, (size_t)n))
			return 1;
		pos += (size_t)n;
	}
	return pos != size;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char dir[128], img[160];
	struct imc_ctx ctx;
	FILE *null;
	int fd;

	snprintf(dir, sizeof(dir), "/dev/shm/iomapctl-fuzz-%d", (int)getpid());
	snprintf(img, sizeof(img), "%s/img", dir);
	mkdir(dir, 0700);
	fd = open(img, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	null = fopen("/dev/null", "w");
	if (fd < 0 || !null || write(fd, data, size) != (ssize_t)size)
		abort();
	imc_ctx_init(&ctx);
	/* IOMAPCTL_FUZZ_VERBOSE shows what each command said (for triage). */
	ctx.out = ctx.err = getenv("IOMAPCTL_FUZZ_VERBOSE") ? stderr : null;
	ctx.progress = IMC_PROGRESS_NEVER;
	run_commands(&ctx, img, dir);
	imc_ctx_fini(&ctx);
	if (image_changed(fd, data, size)) {
		fprintf(stderr, "image_fuzz: a read-only command wrote to "
				"the image\n");
		abort();
	}
	close(fd);
	fclose(null);
	unlink(img);
	rmdir(dir);
	return 0;
}
