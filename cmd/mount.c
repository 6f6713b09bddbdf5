// SPDX-License-Identifier: GPL-2.0
/* mount.c - `mount`: serve an image's files through FUSE, the engine and
 * the adapter underneath, until it is unmounted. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mount.h"

static const struct option mount_longopts[] = {
	{ "foreground", no_argument, NULL, 'f' },
	{ "options", required_argument, NULL, 'o' },
	{ NULL, 0, NULL, 0 },
};

static void mount_help(FILE *out)
{
	fputs("\nServes the files of IMAGE (ext2, ext3 or ext4) at MOUNTPOINT "
	      "through FUSE,\nwith the engine underneath: reads and writes go "
	      "the --io path (O_DIRECT opens\ngo the direct path), through "
	      "the --mapper.  The command returns once the\nmount is ready "
	      "and a daemon serves it; `umount MOUNTPOINT` (or `fusermount3 "
	      "-u`)\nends it: the daemon then writes everything back, closes "
	      "the image and exits.\nWait for it before using the image "
	      "(-v prints its pid; with -f, wait for the\ncommand).\n\n"
	      "  -f, --foreground  serve in the foreground until unmounted\n"
	      "  -o OPTS           comma-separated mount options: ro, or "
	      "FUSE's own\n                    (allow_other, max_read=N, ...)\n\n"
	      "Supported: read, write, O_DIRECT, fallocate (0, KEEP_SIZE, "
	      "PUNCH_HOLE,\nZERO_RANGE), SEEK_DATA/SEEK_HOLE, fsync, truncate, "
	      "create, mkdir, unlink,\nrmdir, rename, symlink, link, chmod, "
	      "chown, utimes, xattrs, statfs.  FIEMAP:\nthe kernel answers "
	      "FS_IOC_FIEMAP itself on FUSE (EOPNOTSUPP), so the mount\n"
	      "answers the IMC_IOC_FIEMAP ioctl instead (iomapctl/imc.h).  "
	      "Requests run in\nseveral threads: O_DIRECT reads in parallel, "
	      "the rest one at a time in\nthe engine.\n\n"
	      "Examples:\n  iomapctl mount disk.img /mnt/disk\n"
	      "  fio --name=seq --filename=/mnt/disk/f --size=1g --rw=read "
	      "--bs=1m --direct=1\n  umount /mnt/disk\n"
	      "  iomapctl --io=direct mount -o ro disk.img /mnt/disk\n",
	      out);
}

/**
 * struct mount_args - the command line.
 * @image, @mnt: absolute paths (the daemon leaves the working directory).
 * @fuse_opts: the -o options FUSE gets, without ro/rw ("" if none).
 * @ro:	-o ro.
 * @foreground: -f.
 */
struct mount_args {
	char image[PATH_MAX];
	char mnt[PATH_MAX];
	char fuse_opts[1024];
	bool ro;
	bool foreground;
};

/* Splits -o: ro and rw are ours, the rest goes to FUSE as given. */
static int mount_opt_o(struct imc_ctx *ctx, const char *list,
		       struct mount_args *a)
{
	char *copy = strdup(list), *save = NULL;
	int ret = IMC_EXIT_OK;

	if (!copy)
		return imc_err(ctx, "-o", -ENOMEM);
	for (char *o = strtok_r(copy, ",", &save); o;
	     o = strtok_r(NULL, ",", &save)) {
		size_t len = strlen(a->fuse_opts);

		if (!strcmp(o, "ro") || !strcmp(o, "rw")) {
			a->ro = !strcmp(o, "ro");
			continue;
		}
		if (len + strlen(o) + 2 > sizeof(a->fuse_opts)) {
			ret = imc_errf(ctx, "-o: too many options");
			break;
		}
		snprintf(a->fuse_opts + len, sizeof(a->fuse_opts) - len,
			 "%s%s", len ? "," : "", o);
	}
	free(copy);
	return ret;
}

static int mount_parse(struct imc_ctx *ctx, int argc, char **argv,
		       struct mount_args *a)
{
	int c, ret;

	while ((c = imc_getopt(argc, argv, &imc_cmd_mount)) != -1) {
		if (c == 'f') {
			a->foreground = true;
		} else if (c == 'o') {
			ret = mount_opt_o(ctx, optarg, a);
			if (ret)
				return ret;
		}
	}
	if (!realpath(argv[optind], a->image))
		return imc_err(ctx, argv[optind], -errno);
	if (!realpath(argv[optind + 1], a->mnt))
		return imc_err(ctx, argv[optind + 1], -errno);
	return IMC_EXIT_OK;
}

/* FUSE's option list: ours, then the user's; commas in paths escaped. */
static int mount_fuse_args(const struct mount_args *a, char *buf,
			   size_t size)
{
	size_t n = 0;
	int w;

	w = snprintf(buf, size, "default_permissions,subtype=iomapctl,%s"
		     "fsname=", a->ro ? "ro," : "");
	n = (size_t)w;
	for (const char *p = a->image; *p && n + 3 < size; p++) {
		if (*p == ',' || *p == '\\')
			buf[n++] = '\\';
		buf[n++] = *p;
	}
	buf[n] = '\0';
	w = snprintf(buf + n, size - n, "%s%s", a->fuse_opts[0] ? "," : "",
		     a->fuse_opts);
	return n + (size_t)w < size ? 0 : -ENAMETOOLONG;
}

/* The image, its --io data path, and the direct path for O_DIRECT. */
static int mount_open_image(struct imc_ctx *ctx, struct mnt_state *ms,
			    const struct mount_args *a)
{
	struct iomap_io_params params = ctx->io;
	int ret = imc_fs_open(ctx, a->image, !a->ro);

	if (ret)
		return imc_err(ctx, a->image, ret);
	params.verbose = ctx->verbose;
	ret = iomap_dev_open(ctx->fs_image, !a->ro, &params, &ctx->dev);
	if (ret)
		return imc_err(ctx, a->image, ret);
	ms->ctx = ctx;
	ms->ro = a->ro;
	ms->dctx = *ctx;
	ms->dctx.dev = NULL;
	if (ctx->io.path == IOMAP_IO_DIRECT)
		return IMC_EXIT_OK;
	ms->dctx.io.path = IOMAP_IO_DIRECT;
	params.path = IOMAP_IO_DIRECT;
	ret = iomap_dev_open(ctx->fs_image, !a->ro, &params, &ms->dctx.dev);
	return ret ? imc_err(ctx, a->image, ret) : IMC_EXIT_OK;
}

/*
 * The descriptor parallel O_DIRECT reads use, with the direct path's
 * alignment; a host that refuses O_DIRECT (tmpfs) gets a plain one, for
 * which any alignment does.
 */
static int mount_open_dio(struct imc_ctx *ctx, struct mnt_state *ms,
			  const struct mount_args *a)
{
	const struct iomap_dev *dev = ms->dctx.dev ? ms->dctx.dev : ctx->dev;
	unsigned int align = iomap_dev_dio_align(dev);

	ms->dio_align = align > 512 ? align : 512;
	ms->dio_fd = open(a->image, O_RDONLY | O_DIRECT | O_CLOEXEC);
	if (ms->dio_fd < 0 && errno == EINVAL)
		ms->dio_fd = open(a->image, O_RDONLY | O_CLOEXEC);
	return ms->dio_fd < 0 ? imc_err(ctx, a->image, -errno) : IMC_EXIT_OK;
}

/* Everything written back and closed; the first error. */
static int mount_close_image(struct imc_ctx *ctx, struct mnt_state *ms)
{
	int ret = mnt_inode_put_all(ms), r;

	if (ms->dio_fd >= 0)
		close(ms->dio_fd);
	ms->dio_fd = -1;
	r = iomap_dev_close(ms->dctx.dev);
	ms->dctx.dev = NULL;
	ret = ret ? ret : r;
	r = imc_fs_sync(ctx);
	ret = ret ? ret : r;
	imc_fs_close(ctx);
	return ret;
}

/* The daemon is serving: tell the waiting parent, let go of the terminal. */
static void mount_ready(int *notify)
{
	char ok = IMC_EXIT_OK;
	int null;

	if (*notify < 0)
		return;
	if (write(*notify, &ok, 1) != 1) {
		/* The parent is gone: nobody waits, serve anyway. */
	}
	close(*notify);
	*notify = -1;
	null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null >= 0) {
		dup2(null, STDIN_FILENO);
		dup2(null, STDOUT_FILENO);
		/* Later errors still reach a log file, never a terminal. */
		if (isatty(STDERR_FILENO))
			dup2(null, STDERR_FILENO);
		close(null);
	}
	if (chdir("/")) {
		/* Paths are absolute already. */
	}
}

/* Enough threads for a queue depth of 32 in flight (O_DIRECT reads run
 * in parallel). */
#define MOUNT_THREADS 32

static int mount_run(struct fuse *fuse)
{
	struct fuse_loop_config *lc = fuse_loop_cfg_create();
	int ret;

	if (!lc)
		return IMC_EXIT_FAIL;
	fuse_loop_cfg_set_max_threads(lc, MOUNT_THREADS);
	fuse_loop_cfg_set_idle_threads(lc, MOUNT_THREADS);
	/* A signal that ended the loop comes back as its (positive) number:
	 * a clean exit. */
	ret = fuse_loop_mt(fuse, lc) < 0 ? IMC_EXIT_FAIL : IMC_EXIT_OK;
	fuse_loop_cfg_destroy(lc);
	return ret;
}

/* Mount, serve until unmounted (or SIGTERM/SIGINT), unmount. */
static int mount_loop(struct imc_ctx *ctx, struct mnt_state *ms,
		      const struct mount_args *a, int *notify)
{
	char opts[PATH_MAX + 1200];
	char *fargv[] = { "iomapctl", "-o", opts, NULL };
	struct fuse_args args = FUSE_ARGS_INIT(3, fargv);
	struct fuse *fuse;
	int ret = IMC_EXIT_OK;

	if (mount_fuse_args(a, opts, sizeof(opts)))
		return imc_err(ctx, "-o", -ENAMETOOLONG);
	fuse = fuse_new(&args, &mnt_fuse_ops, sizeof(mnt_fuse_ops), ms);
	if (!fuse)
		return imc_errf(ctx, "bad mount options '%s'", opts);
	if (fuse_mount(fuse, a->mnt)) {
		ret = imc_errf(ctx, "%s: cannot mount (is /dev/fuse there?)",
			       a->mnt);
	} else {
		fuse_set_signal_handlers(fuse_get_session(fuse));
		mount_ready(notify);
		ret = mount_run(fuse);
		fuse_remove_signal_handlers(fuse_get_session(fuse));
		fuse_unmount(fuse);
	}
	fuse_destroy(fuse);
	fuse_opt_free_args(&args);
	return ret;
}

/* @notify: the parent's pipe (-1 in the foreground), closed when ready. */
static int mount_serve(struct imc_ctx *ctx, const struct mount_args *a,
		       int *notify)
{
	struct mnt_state *ms = calloc(1, sizeof(*ms));
	pthread_rwlockattr_t attr;
	int ret, r;

	if (!ms)
		return imc_err(ctx, "mount", -ENOMEM);
	pthread_mutex_init(&ms->lock, NULL);
	/* Writers first: a stream of O_DIRECT reads must not starve them. */
	pthread_rwlockattr_init(&attr);
	pthread_rwlockattr_setkind_np(
		&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(&ms->layout, &attr);
	pthread_rwlockattr_destroy(&attr);
	ms->dio_fd = -1;
	ret = mount_open_image(ctx, ms, a);
	if (!ret)
		ret = mount_open_dio(ctx, ms, a);
	if (!ret)
		ret = mount_loop(ctx, ms, a, notify);
	r = mount_close_image(ctx, ms);
	if (r && !ret)
		ret = imc_err(ctx, a->image, r);
	pthread_mutex_destroy(&ms->lock);
	pthread_rwlock_destroy(&ms->layout);
	free(ms);
	return ret;
}

/*
 * fuse2fs-like: the command returns once the daemon serves the mount (or
 * with the daemon's error), so `mount && fio ...` works.
 */
static int mount_daemon(struct imc_ctx *ctx, const struct mount_args *a)
{
	int pfd[2], status = 0;
	char st = IMC_EXIT_FAIL;
	ssize_t n;
	pid_t pid;

	if (pipe2(pfd, O_CLOEXEC))
		return imc_err(ctx, "pipe", -errno);
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return imc_err(ctx, "fork", -errno);
	if (pid == 0) {
		int notify = pfd[1];

		close(pfd[0]);
		setsid();
		st = (char)mount_serve(ctx, a, &notify);
		/* Failed before it served: the parent reads why. */
		if (notify >= 0 && write(notify, &st, 1) < 0)
			st = IMC_EXIT_FAIL;
		return st;
	}
	close(pfd[1]);
	do
		n = read(pfd[0], &st, 1);
	while (n < 0 && errno == EINTR);
	close(pfd[0]);
	if (n == 1 && st == IMC_EXIT_OK) {
		if (ctx->verbose)
			fprintf(ctx->err, "iomapctl: mount: %s on %s, daemon "
				"pid %d\n", a->image, a->mnt, (int)pid);
		return IMC_EXIT_OK;
	}
	waitpid(pid, &status, 0);
	return n == 1 && st ? st : IMC_EXIT_FAIL;
}

static int cmd_mount(struct imc_ctx *ctx, int argc, char **argv)
{
	struct mount_args *a = calloc(1, sizeof(*a));
	int ret;

	if (!a)
		return imc_err(ctx, "mount", -ENOMEM);
	ret = mount_parse(ctx, argc, argv, a);
	int none = -1;

	if (!ret)
		ret = a->foreground ? mount_serve(ctx, a, &none) :
				      mount_daemon(ctx, a);
	free(a);
	return ret;
}

const struct imc_cmd imc_cmd_mount = {
	.name = "mount",
	.args = "[-f] [-o OPTS] IMAGE MOUNTPOINT",
	.oneline = "serve an image's files through FUSE",
	.help = mount_help,
	.fn = cmd_mount,
	.argmin = 2,
	.argmax = 2,
	.flags = IMC_CMD_ONESHOT,
	.shortopts = "fo:",
	.longopts = mount_longopts,
	.complete = 'i',
};
