// SPDX-License-Identifier: GPL-2.0
/*
 * migrate.c - `migrate`: a whole filesystem moved into another image,
 * created when missing (sized from what the source uses) or empty, through
 * the adapters and the engine's data paths (migrate_tree.c); then, with
 * --verify, both trees reread and compared and the destination checked by
 * its own fsck.  The source is opened read-only and never written.
 */
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "iomapctl/native.h"
#include "migrate.h"

extern char **environ;

enum { OPT_VERIFY = 256, OPT_SIZE, OPT_TYPE };

static const struct option migrate_longopts[] = {
	{ "verify", no_argument, NULL, OPT_VERIFY },
	{ "size", required_argument, NULL, OPT_SIZE },
	{ "type", required_argument, NULL, OPT_TYPE },
	{ NULL, 0, NULL, 0 },
};

static void migrate_help(FILE *out)
{
	fputs("\nMoves every file, directory, symlink and hard link of "
	      "SRC_IMAGE into\nDST_IMAGE, with modes, owners, nanosecond "
	      "times, extended attributes and\nthe exact data/hole/unwritten "
	      "layout of each file (an unwritten extent\nstays unwritten, "
	      "preallocations past EOF too).  Data moves through the\n--io "
	      "path; SRC_IMAGE is opened read-only and never changes.\n\n"
	      "DST_IMAGE is created when it does not exist (or is an empty "
	      "file), sized\nfrom the space and inodes the source uses with "
	      "room to spare, with the\nsource's block size; otherwise it must "
	      "hold an empty filesystem (nothing\nbut lost+found).  Devices, "
	      "FIFOs and sockets are reported and skipped.\nA failure names the "
	      "file: what the source cannot give is skipped and the\nwalk goes "
	      "on, an error of the destination (ENOSPC, EIO) stops it; either "
	      "way\nthe destination is left consistent and the exit status is "
	      "1.\n\n"
	      "  --type TYPE  the filesystem to create: native (iomapfs; the "
	      "default from\n               ext2/3/4) or ext4 (the default "
	      "from native)\n"
	      "  --size SIZE  the size of a created image (default: from the "
	      "source)\n"
	      "  --verify     reread both trees and compare names, metadata, "
	      "bytes and\n               the data/hole map, then check the "
	      "destination (e2fsck -fn,\n               or our fsck for "
	      "native)\n\n"
	      "With --json: {\"source\", \"destination\", \"type\", \"created\", "
	      "\"files\",\n\"directories\", \"symlinks\", \"hard_links\", "
	      "\"xattrs\", \"bytes\", \"holes\",\n\"unwritten\", \"skipped\", "
	      "\"seconds\", \"verified\", \"fsck_clean\"} (the last two null\n"
	      "without --verify).\n\n"
	      "Examples:\n  iomapctl migrate old-ext2.img new-native.img\n"
	      "  iomapctl migrate --type ext4 old-ext2.img new-ext4.img\n"
	      "  iomapctl --io=direct migrate --verify disk.img copy.img\n",
	      out);
}

/* ---- external tools ---- */

/* Runs @argv with stdout (and stderr when @quiet) on /dev/null: its exit
 * status, or -errno when it could not run. */
static int run_tool(char *const argv[], bool quiet)
{
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int st, ret;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null",
					 O_WRONLY, 0);
	if (quiet)
		posix_spawn_file_actions_addopen(&fa, STDERR_FILENO,
						 "/dev/null", O_WRONLY, 0);
	ret = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (ret)
		return -ret;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -errno;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* What the new image must hold. */
struct migrate_plan {
	uint64_t size;
	uint64_t inodes;
	unsigned int block_size;
};

static int mkfs_ext4(struct imc_ctx *ctx, const char *image,
		     const struct migrate_plan *p)
{
	char bs[16], n[24], size[32];
	char *argv[] = { "mke2fs", "-q", "-F", "-t", "ext4", "-b", bs, "-N", n,
			 (char *)image, size, NULL };
	int ret;

	snprintf(bs, sizeof(bs), "%u", p->block_size);
	snprintf(n, sizeof(n), "%llu", (unsigned long long)p->inodes);
	snprintf(size, sizeof(size), "%lluk",
		 (unsigned long long)(p->size >> 10));
	ret = run_tool(argv, false);
	if (ret < 0)
		return imc_err(ctx, "mke2fs", ret);
	if (ret)
		return imc_errf(ctx, "%s: mke2fs failed (exit status %d)",
				image, ret);
	return IMC_EXIT_OK;
}

/* iomapfs: the engine's page cache takes blocks of at most 4 KiB. */
static int mkfs_native(struct imc_ctx *ctx, const char *image,
		       const struct migrate_plan *p)
{
	struct fsa_native_mkfs_opts o = {
		.size = p->size,
		.block_size = p->block_size < 4096 ? p->block_size : 4096,
	};
	int ret;

	if (getrandom(o.uuid, sizeof(o.uuid), 0) != (ssize_t)sizeof(o.uuid))
		return imc_err(ctx, "getrandom", -errno);
	ret = fsa_native_mkfs(image, &o);
	return ret ? imc_err(ctx, image, ret) : IMC_EXIT_OK;
}

static void fsck_problem(void *priv, const char *msg)
{
	(void)priv;
	(void)msg;
}

static int fsck_native(struct imc_ctx *ctx, const char *image, bool *clean)
{
	static const struct fsa_native_check_ops quiet = { .problem =
								   fsck_problem };
	int ret = fsa_native_fsck(image, false, &quiet, NULL);

	if (ret < 0)
		return imc_err(ctx, image, ret);
	*clean = ret == 0;
	return IMC_EXIT_OK;
}

static int fsck_ext(struct imc_ctx *ctx, const char *image, bool *clean)
{
	char *argv[] = { "e2fsck", "-fn", (char *)image, NULL };
	int ret = run_tool(argv, true);

	if (ret < 0)
		return imc_err(ctx, "e2fsck", ret);
	*clean = ret == 0;
	return IMC_EXIT_OK;
}

/* A destination format: how to make one and how to check it. */
struct migrate_format {
	const char *name;
	const char *types; /* fsa_info.type values it covers, ' '-separated */
	int (*mkfs)(struct imc_ctx *ctx, const char *image,
		    const struct migrate_plan *p);
	int (*fsck)(struct imc_ctx *ctx, const char *image, bool *clean);
};

static const struct migrate_format migrate_formats[] = {
	{ "ext4", " ext2 ext3 ext4 ", mkfs_ext4, fsck_ext },
	{ "native", " iomapfs ", mkfs_native, fsck_native },
};

static const struct migrate_format *format_named(const char *name)
{
	for (size_t i = 0; i < sizeof(migrate_formats) /
				       sizeof(migrate_formats[0]); i++)
		if (!strcmp(migrate_formats[i].name, name))
			return &migrate_formats[i];
	return NULL;
}

static const struct migrate_format *format_of(const char *type)
{
	char key[24];

	snprintf(key, sizeof(key), " %s ", type);
	for (size_t i = 0; i < sizeof(migrate_formats) /
				       sizeof(migrate_formats[0]); i++)
		if (strstr(migrate_formats[i].types, key))
			return &migrate_formats[i];
	return NULL;
}

/* ---- the destination ---- */

#define MIB (1ULL << 20)

/*
 * Room for what the source uses: its blocks and a quarter more, the
 * metadata of twice its inodes, and a floor; rounded to a MiB.
 */
static void plan_from(const struct fsa_info *src, struct migrate_plan *p)
{
	/* A damaged superblock may count more free than there are. */
	uint64_t used = src->free_blocks < src->block_count ?
				(src->block_count - src->free_blocks) *
					(uint64_t)src->block_size :
				src->block_count * (uint64_t)src->block_size;
	uint64_t inodes = src->free_inodes < src->inode_count ?
				  src->inode_count - src->free_inodes :
				  src->inode_count;

	p->block_size = src->block_size;
	p->inodes = 2 * inodes + 64;
	if (!p->size)
		p->size = used + used / 4 + p->inodes * 512 + 32 * MIB;
	p->size = (p->size + MIB - 1) & ~(MIB - 1);
}

static bool dst_missing(const char *image)
{
	struct stat st;

	return stat(image, &st) < 0 ? errno == ENOENT :
				      S_ISREG(st.st_mode) && st.st_size == 0;
}

/* Nothing in the root but an empty lost+found: 0, else -ENOTEMPTY. */
static int dir_nonempty(const struct fsa_dirent *de, void *priv)
{
	(void)priv;
	return strcmp(de->name, ".") && strcmp(de->name, "..") ? -ENOTEMPTY :
								 0;
}

static int root_entry_ok(const struct fsa_dirent *de, void *priv)
{
	struct fsa_fs *fs = priv;

	if (!strcmp(de->name, ".") || !strcmp(de->name, ".."))
		return 0;
	if (strcmp(de->name, "lost+found"))
		return -ENOTEMPTY;
	return fs->ops->readdir(fs, de->ino, dir_nonempty, NULL);
}

static int dst_empty(struct fsa_fs *fs)
{
	uint64_t root;
	int ret = fs->ops->lookup(fs, "/", &root);

	return ret ? ret : fs->ops->readdir(fs, root, root_entry_ok, fs);
}

static void ctx_inherit(struct imc_ctx *c, const struct imc_ctx *from)
{
	imc_ctx_init(c);
	c->io = from->io;
	c->out = from->out;
	c->err = from->err;
	c->cmdname = from->cmdname;
	c->verbose = from->verbose;
}

/* ---- the report ---- */

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct migrate_result {
	const char *src, *dst, *type;
	bool created, verified, verify_ok, fsck_ran, fsck_clean;
	double seconds;
};

static void report_json(struct imc_ctx *ctx, const struct migrate *m,
			const struct migrate_result *r)
{
	struct imc_json j;

	imc_json_init(&j, ctx->out);
	imc_json_obj_begin(&j, NULL);
	imc_json_str(&j, "source", r->src);
	imc_json_str(&j, "destination", r->dst);
	imc_json_str(&j, "type", r->type);
	imc_json_bool(&j, "created", r->created);
	imc_json_u64(&j, "files", m->n.files);
	imc_json_u64(&j, "directories", m->n.dirs);
	imc_json_u64(&j, "symlinks", m->n.symlinks);
	imc_json_u64(&j, "hard_links", m->n.hardlinks);
	imc_json_u64(&j, "xattrs", m->n.xattrs);
	imc_json_u64(&j, "bytes", m->n.bytes);
	imc_json_u64(&j, "holes", m->n.holes);
	imc_json_u64(&j, "unwritten", m->n.unwritten);
	imc_json_u64(&j, "skipped", m->n.skipped);
	imc_json_double(&j, "seconds", r->seconds);
	if (r->verified)
		imc_json_bool(&j, "verified", r->verify_ok);
	else
		imc_json_null(&j, "verified");
	if (r->fsck_ran)
		imc_json_bool(&j, "fsck_clean", r->fsck_clean);
	else
		imc_json_null(&j, "fsck_clean");
	imc_json_obj_end(&j);
	imc_json_end(&j);
}

static void report_text(struct imc_ctx *ctx, const struct migrate *m,
			const struct migrate_result *r)
{
	char human[32];

	if (ctx->quiet)
		return;
	fprintf(ctx->out,
		"migrated %s to %s (%s%s): %llu files, %llu directories, "
		"%llu symlinks, %llu hard links, %s in %.2f s; %llu holes and "
		"%llu unwritten extents kept\n",
		r->src, r->dst, r->type, r->created ? ", created" : "",
		(unsigned long long)m->n.files, (unsigned long long)m->n.dirs,
		(unsigned long long)m->n.symlinks,
		(unsigned long long)m->n.hardlinks,
		imc_human(m->n.bytes, human, sizeof(human)), r->seconds,
		(unsigned long long)m->n.holes,
		(unsigned long long)m->n.unwritten);
	if (r->verified)
		fprintf(ctx->out, "verify: %s\n",
			r->verify_ok ? "both trees are identical" :
				       "differences found (above)");
	if (r->fsck_ran)
		fprintf(ctx->out, "fsck of %s: %s\n", r->dst,
			r->fsck_clean ? "clean" : "ERRORS");
}

/* ---- the command ---- */

struct migrate_opts {
	bool verify;
	uint64_t size;
	const char *type;
};

static int migrate_parse(struct imc_ctx *ctx, int argc, char **argv,
			 struct migrate_opts *o)
{
	int c, ret;

	while ((c = imc_getopt(argc, argv, &imc_cmd_migrate)) != -1) {
		switch (c) {
		case OPT_VERIFY:
			o->verify = true;
			break;
		case OPT_SIZE:
			ret = imc_arg_size(ctx, "--size", optarg, &o->size);
			if (ret)
				return ret;
			break;
		case OPT_TYPE:
			if (!format_named(optarg)) {
				fprintf(ctx->err,
					"iomapctl: migrate: --type %s: not a "
					"format migrate can create (ext4, native)\n",
					optarg);
				return imc_usage(ctx, &imc_cmd_migrate);
			}
			o->type = optarg;
			break;
		default:
			return imc_usage(ctx, &imc_cmd_migrate);
		}
	}
	return IMC_EXIT_OK;
}

/* Opens the source, and the destination (made first when missing). */
static int migrate_open(struct migrate *m, const struct migrate_opts *o,
			const char *src, const char *dst,
			struct migrate_result *r)
{
	struct imc_ctx *ctx = m->ctx;
	const struct migrate_format *fmt;
	struct fsa_info si, di;
	int ret;

	if (!strcmp(src, dst))
		return imc_errf(ctx, "%s: source and destination are the same "
				     "image",
				src);
	ret = imc_fs_open(&m->src, src, false);
	if (!ret)
		ret = m->src.fs->ops->info(m->src.fs, &si);
	if (ret)
		return imc_err(ctx, src, ret);
	r->created = dst_missing(dst);
	if (r->created) {
		struct migrate_plan p = { .size = o->size };

		/* By default into the other format: ext to native, back. */
		fmt = format_named(o->type ? o->type :
				   !strcmp(si.type, "iomapfs") ? "ext4" :
								 "native");
		plan_from(&si, &p);
		ret = fmt->mkfs(ctx, dst, &p);
		if (ret)
			return ret;
	} else if (o->type || o->size) {
		return imc_errf(ctx, "%s: exists: --type and --size apply to "
				     "an image migrate creates",
				dst);
	}
	ret = imc_fs_open(&m->dst, dst, true);
	if (!ret)
		ret = m->dst.fs->ops->info(m->dst.fs, &di);
	if (ret)
		return imc_err(ctx, dst, ret);
	if (!r->created && (ret = dst_empty(m->dst.fs)))
		return imc_errf(ctx, "%s: %s", dst,
				ret == -ENOTEMPTY ?
					"not empty: migrate fills an empty "
					"filesystem (or creates the image)" :
					imc_strerror(ret));
	if (!(m->dst.fs->ops->caps & FSA_CAP_WRITE))
		return imc_err(ctx, dst, -EROFS);
	fmt = format_of(di.type);
	r->type = fmt ? fmt->name : "unknown";
	return IMC_EXIT_OK;
}

/* --verify: both trees compared, then the destination's own check. */
static int migrate_check(struct migrate *m, const char *dst,
			 struct migrate_result *r)
{
	const struct migrate_format *fmt = format_named(r->type);
	int ret = migrate_verify(m);

	r->verified = true;
	r->verify_ok = ret == IMC_EXIT_OK;
	/* Closing writes what is left: the check sees the image whole. */
	ret = imc_fs_close(&m->dst);
	if (ret)
		return imc_err(m->ctx, dst, ret);
	if (fmt && fmt->fsck(m->ctx, dst, &r->fsck_clean) == IMC_EXIT_OK)
		r->fsck_ran = true;
	if (r->fsck_ran && !r->fsck_clean)
		imc_errf(m->ctx, "%s: the destination fails its fsck", dst);
	return r->verify_ok && r->fsck_ran && r->fsck_clean ? IMC_EXIT_OK :
							      IMC_EXIT_FAIL;
}

static int cmd_migrate(struct imc_ctx *ctx, int argc, char **argv)
{
	struct migrate_opts o = { 0 };
	struct migrate m = { .ctx = ctx };
	struct migrate_result r = { 0 };
	double t0 = now_s();
	int ret = migrate_parse(ctx, argc, argv, &o), sret = 0;

	if (ret)
		return ret;
	r.src = argv[optind];
	r.dst = argv[optind + 1];
	ctx_inherit(&m.src, ctx);
	ctx_inherit(&m.dst, ctx);
	if (posix_memalign((void **)&m.buf, 4096, MIGRATE_CHUNK) ||
	    posix_memalign((void **)&m.buf2, 4096, MIGRATE_CHUNK))
		ret = imc_err(ctx, "migrate", -ENOMEM);
	if (!ret)
		ret = migrate_open(&m, &o, r.src, r.dst, &r);
	if (!ret) {
		struct fsa_info si;

		m.src.fs->ops->info(m.src.fs, &si);
		imc_progress_begin(ctx, &m.prog,
				   (si.block_count - si.free_blocks) *
					   si.block_size);
		ret = migrate_tree(&m);
		imc_progress_end(&m.prog);
		/* Whatever happened, what was written reaches the image. */
		sret = imc_fs_sync(&m.dst);
		if (sret)
			ret = imc_err(ctx, r.dst, sret);
		if (o.verify && !m.stop && !sret &&
		    migrate_check(&m, r.dst, &r))
			ret = IMC_EXIT_FAIL;
		r.seconds = now_s() - t0;
		if (ctx->json)
			report_json(ctx, &m, &r);
		else
			report_text(ctx, &m, &r);
	}
	sret = imc_ctx_fini(&m.dst);
	if (sret && !ret)
		ret = imc_err(ctx, r.dst, sret);
	imc_ctx_fini(&m.src);
	migrate_map_free(&m.dirs);
	migrate_map_free(&m.links);
	free(m.buf);
	free(m.buf2);
	return ret;
}

const struct imc_cmd imc_cmd_migrate = {
	.name = "migrate",
	.args = "[--verify] [--type ext4|native] [--size SIZE] SRC_IMAGE "
		"DST_IMAGE",
	.oneline = "move a whole filesystem into another image",
	.help = migrate_help,
	.fn = cmd_migrate,
	.argmin = 2,
	.argmax = 2,
	.flags = IMC_CMD_ONESHOT,
	.shortopts = "",
	.longopts = migrate_longopts,
	.complete = 'i',
};
