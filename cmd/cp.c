// SPDX-License-Identifier: GPL-2.0
/* cp.c - `cp`: files and trees between host and images and between images,
 * keeping holes, modes and times, never trusting names read from an image. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cp.h"

enum { OPT_SPARSE = 0x200, OPT_REFLINK, OPT_VERIFY };

static const struct option cp_longopts[] = {
	{ "recursive", no_argument, NULL, 'r' },
	{ "force", no_argument, NULL, 'f' },
	{ "sparse", required_argument, NULL, OPT_SPARSE },
	{ "reflink", required_argument, NULL, OPT_REFLINK },
	{ "verify", no_argument, NULL, OPT_VERIFY },
	{ NULL, 0, NULL, 0 },
};

static void cp_help(FILE *out)
{
	fputs("\nCopies files (and with -r trees) host -> image, image -> host "
	      "and image ->\nimage, through the --io path.  Holes are kept by "
	      "following the source's\nSEEK_DATA/SEEK_HOLE map: only data is "
	      "read.  Mode and times are kept.\nNames read from an image that "
	      "contain '/' or are '.', '..' or empty are\nrefused; nothing is "
	      "written through a symlink in the destination; an\nexisting file "
	      "is replaced only with -f; a failed copy removes its partial\n"
	      "file (in an image too) and "
	      "names it.\n\n"
	      "  -r, --recursive      copy directories\n"
	      "  -f, --force          replace existing files\n"
	      "  --sparse=auto        keep the source's holes (default)\n"
	      "  --sparse=always      also skip blocks of zeros in the data\n"
	      "  --sparse=never       write the holes as zeros\n"
	      "  --reflink=auto|never (ext2/3/4 cannot share extents: a copy)\n"
	      "  --verify             read both back and compare\n"
	      "  -v                   print 'copied N bytes in S s (R MiB/s)'\n\n"
	      "Examples:\n  iomapctl cp -v disk.img:/var/log/big ./big\n"
	      "  iomapctl cp -r ./tree disk.img:/srv\n"
	      "  iomapctl cp -r disk.img:/ ./extracted\n",
	      out);
}

static int cp_into(struct cp *cp, const char *src, const struct cp_dst *dst);

/* Host: create (or reuse) directory @name in @dirfd, opened without
 * following a symlink. */
static int host_mkdir(const struct cp_dst *dst, int *fd)
{
	if (mkdirat(dst->dirfd, dst->name, 0700) < 0 && errno != EEXIST)
		return -errno;
	*fd = openat(dst->dirfd, dst->name,
		     O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	return *fd < 0 ? -errno : 0;
}

static int image_mkdir(struct cp *cp, const struct cp_dst *dst,
		       const struct fsa_stat *st)
{
	struct fsa_fs *fs = cp->dctx->fs;
	char parent[PATH_MAX];
	struct fsa_stat cur;
	uint64_t dir, ino;
	int ret;

	ret = fs->ops->lookup(fs, dst->path, &ino);
	if (!ret)
		ret = fs->ops->stat(fs, ino, &cur);
	if (!ret)
		return S_ISDIR(cur.mode) ? 0 : -EEXIST;
	if (ret != -ENOENT)
		return ret;
	if (imc_path_join(dst->path, "..", parent, sizeof(parent)))
		return -ENAMETOOLONG;
	ret = fs->ops->lookup(fs, parent, &dir);
	if (!ret)
		ret = fs->ops->mkdir ? fs->ops->mkdir(fs, dir, dst->name,
						      st->mode & 07777, &ino) :
				       -EOPNOTSUPP;
	return ret;
}

/* The names in a source directory (host or image), for a stable order. */
struct names {
	char **v;
	size_t n, cap;
};

static int names_add(struct names *l, const char *name)
{
	if (!strcmp(name, ".") || !strcmp(name, ".."))
		return 0;
	if (l->n == l->cap) {
		size_t cap = l->cap * 2 + 16;
		char **v = realloc(l->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n] = strdup(name);
	return l->v[l->n++] ? 0 : -ENOMEM;
}

static int names_dirent(const struct fsa_dirent *de, void *priv)
{
	return names_add(priv, de->name);
}

static void names_free(struct names *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
}

static int read_names(struct cp *cp, struct imc_file *s, struct names *l)
{
	DIR *d;
	struct dirent *de;
	int fd, ret = 0;

	if (s->host_fd < 0)
		return s->fs->ops->readdir(s->fs, s->ino, names_dirent, l);
	(void)cp;
	fd = dup(s->host_fd);
	d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d) {
		if (fd >= 0)
			close(fd);
		return -errno;
	}
	while (!ret && (de = readdir(d)))
		ret = names_add(l, de->d_name);
	closedir(d);
	return ret;
}

/* lstat of a source: a symlink is reported, not followed. */
static int src_lstat(struct cp *cp, const char *src, struct fsa_stat *st,
		     char *target, size_t size)
{
	struct imc_spec sp;
	struct stat hs;
	struct fsa_fs *fs;
	uint64_t ino;
	int ret;

	target[0] = '\0';
	ret = imc_spec_parse(cp->sctx, src, &sp);
	if (ret)
		return -EINVAL;
	if (!sp.image) {
		ret = lstat(sp.path, &hs) < 0 ? -errno : 0;
		memset(st, 0, sizeof(*st));
		st->mode = hs.st_mode;
		st->size = hs.st_size;
		st->atime = hs.st_atim;
		st->mtime = hs.st_mtim;
		if (!ret && S_ISLNK(hs.st_mode) &&
		    readlink(sp.path, target, size - 1) < 0)
			ret = -errno;
	} else if (!(ret = imc_fs_open(cp->sctx, sp.image, cp->sctx->fs &&
				       cp->sctx->fs->rdwr))) {
		fs = cp->sctx->fs;
		ret = fs->ops->lookup_link ?
			fs->ops->lookup_link(fs, sp.path, &ino) :
			fs->ops->lookup(fs, sp.path, &ino);
		if (!ret)
			ret = fs->ops->stat(fs, ino, st);
		if (!ret && S_ISLNK(st->mode))
			ret = fs->ops->readlink ?
				fs->ops->readlink(fs, ino, target, size) :
				-EOPNOTSUPP;
	}
	imc_spec_free(&sp);
	return ret;
}

static char *child(const char *parent, const char *name)
{
	char *s;
	size_t len = strlen(parent);
	bool slash = len && parent[len - 1] == '/';

	return asprintf(&s, "%s%s%s", parent, slash ? "" : "/", name) < 0 ?
		       NULL : s;
}

static void dir_attrs(struct cp *cp, const struct cp_dst *dst, int fd,
		      const struct fsa_stat *st)
{
	struct timespec ts[2] = { st->atime, st->mtime };
	struct fsa_fs *fs = cp->dctx->fs;
	struct fsa_stat cur;
	uint64_t ino;

	if (!dst->image) {
		if (fchmod(fd, st->mode & 07777) == 0)
			futimens(fd, ts);
		return;
	}
	if (fs->ops->setattr && !fs->ops->lookup(fs, dst->path, &ino) &&
	    !fs->ops->stat(fs, ino, &cur)) {
		cur.mode = (cur.mode & ~07777U) | (st->mode & 07777);
		cur.atime = st->atime;
		cur.mtime = st->mtime;
		fs->ops->setattr(fs, ino, &cur);
	}
}

/* One directory level: every entry is checked before it names anything. */
static int cp_entries(struct cp *cp, const char *src, const struct cp_dst *dst,
		      int fd)
{
	struct names l = { 0 };
	struct imc_file s;
	int ret;

	if (imc_file_open(cp->sctx, src, &s))
		return IMC_EXIT_FAIL;
	ret = read_names(cp, &s, &l);
	imc_file_close(&s);
	if (ret)
		return imc_err(cp->sctx, src, ret);
	for (size_t i = 0; i < l.n; i++) {
		struct cp_dst c = { .image = dst->image, .dirfd = fd };
		char *csrc = child(src, l.v[i]);

		if (!csrc || cp_check_name(l.v[i])) {
			cp->failed = imc_errf(cp->sctx, "%s: refusing unsafe "
					      "name '%s'", src, l.v[i]);
			free(csrc);
			continue;
		}
		if (dst->image && imc_path_join(dst->path, l.v[i], c.path,
						sizeof(c.path))) {
			free(csrc);
			continue;
		}
		c.name = l.v[i];
		if (cp_into(cp, csrc, &c))
			cp->failed = IMC_EXIT_FAIL;
		free(csrc);
	}
	names_free(&l);
	return IMC_EXIT_OK;
}

static int cp_dir(struct cp *cp, const char *src, const struct cp_dst *dst,
		  const struct fsa_stat *st)
{
	int fd = -1, ret;

	if (!cp->recursive) {
		imc_errf(cp->sctx, "%s: is a directory (use -r)", src);
		return IMC_EXIT_FAIL;
	}
	ret = dst->image ? imc_fs_open(cp->dctx, dst->image, true) : 0;
	if (!ret)
		ret = dst->image ? image_mkdir(cp, dst, st) : host_mkdir(dst, &fd);
	if (ret)
		return imc_err(cp->sctx, dst->image ? dst->path : dst->name, ret);
	ret = cp_entries(cp, src, dst, fd);
	/* Last, so copying the entries did not bump the times again. */
	dir_attrs(cp, dst, fd, st);
	if (fd >= 0)
		close(fd);
	return ret;
}

static int cp_symlink(struct cp *cp, const char *src, const struct cp_dst *dst,
		      const char *target)
{
	struct stat st;

	if (dst->image) {
		fprintf(cp->sctx->err, "iomapctl: cp: %s: skipping symlink "
			"(the adapter cannot create symlinks)\n", src);
		return IMC_EXIT_OK;
	}
	/* A link is created, never followed; -f replaces a non-directory. */
	if (fstatat(dst->dirfd, dst->name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		if (!cp->force || S_ISDIR(st.st_mode))
			return imc_err(cp->sctx, dst->name, S_ISDIR(st.st_mode) ?
				       -EISDIR : -EEXIST);
		unlinkat(dst->dirfd, dst->name, 0);
	}
	if (symlinkat(target, dst->dirfd, dst->name) < 0)
		return imc_err(cp->sctx, dst->name, -errno);
	return IMC_EXIT_OK;
}

static int cp_into(struct cp *cp, const char *src, const struct cp_dst *dst)
{
	char target[PATH_MAX];
	struct fsa_stat st;
	int ret = src_lstat(cp, src, &st, target, sizeof(target));

	if (ret)
		return imc_err(cp->sctx, src, ret);
	if (S_ISDIR(st.mode))
		return cp_dir(cp, src, dst, &st);
	if (S_ISLNK(st.mode))
		return cp_symlink(cp, src, dst, target);
	if (S_ISREG(st.mode))
		return cp_file(cp, src, dst);
	fprintf(cp->sctx->err, "iomapctl: cp: %s: skipping special file\n", src);
	return IMC_EXIT_OK;
}

/* True when image paths @a and @b are the same file. */
static bool same_file(const char *a, const char *b)
{
	struct stat sa, sb;

	return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
	       sa.st_ino == sb.st_ino;
}

/* Last component of a spec's path ("" for an image's root). */
static const char *base_of(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

/* Is the destination an existing directory (copy into it)? */
static int dst_is_dir(struct cp *cp, const struct imc_spec *d, bool *isdir)
{
	struct fsa_stat st;
	struct stat hs;
	uint64_t ino;
	int ret;

	*isdir = false;
	if (!d->image) {
		if (stat(d->path, &hs) == 0)
			*isdir = S_ISDIR(hs.st_mode);
		return 0;
	}
	ret = imc_fs_open(cp->dctx, d->image, true);
	if (ret)
		return ret;
	ret = cp->dctx->fs->ops->lookup(cp->dctx->fs, d->path, &ino);
	if (!ret)
		ret = cp->dctx->fs->ops->stat(cp->dctx->fs, ino, &st);
	if (!ret)
		*isdir = S_ISDIR(st.mode);
	return ret == -ENOENT ? 0 : ret;
}

/* Where @src goes: into @d when it is a directory, else @d itself. */
static int dst_for(const struct imc_spec *d, bool isdir, const char *sbase,
		   struct cp_dst *out, char *hostname, size_t size)
{
	const char *name = isdir && sbase[0] ? sbase : base_of(d->path);
	char *parent;

	memset(out, 0, sizeof(*out));
	out->image = d->image;
	out->dirfd = -1;
	/* Copied: @sbase belongs to a spec the caller frees. */
	snprintf(hostname, size, "%s", name);
	out->name = hostname;
	if (d->image) {
		return imc_path_join(d->path, isdir && sbase[0] ? sbase : ".",
				     out->path, sizeof(out->path));
	}
	/* The user's own path is trusted; below it nothing is followed. */
	parent = strdup(d->path);
	if (!parent)
		return -ENOMEM;
	if (!(isdir && sbase[0])) {
		char *s = strrchr(parent, '/');

		if (s)
			s[s == parent ? 1 : 0] = '\0';
		else
			strcpy(parent, ".");
	}
	out->dirfd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	free(parent);
	return out->dirfd < 0 ? -errno : 0;
}

static int cp_one(struct cp *cp, const char *src, const struct imc_spec *d,
		  bool isdir)
{
	struct imc_spec sp;
	struct cp_dst dst;
	char name[NAME_MAX + 1];
	char target[PATH_MAX];
	struct fsa_stat st;
	int ret = imc_spec_parse(cp->sctx, src, &sp);

	if (ret)
		return ret;
	/* Strip trailing slashes so "dir/" copies as "dir". */
	for (size_t n = strlen(sp.path); n > 1 && sp.path[n - 1] == '/'; n--)
		sp.path[n - 1] = '\0';
	ret = dst_for(d, isdir, sp.image && !strcmp(sp.path, "/") ? "" :
			  base_of(sp.path), &dst, name, sizeof(name));
	imc_spec_free(&sp);
	if (ret)
		return imc_err(cp->sctx, d->path, ret);
	/* Symlinks named on the command line are followed, as cp does. */
	ret = src_lstat(cp, src, &st, target, sizeof(target));
	if (!ret && S_ISLNK(st.mode))
		ret = cp_file(cp, src, &dst);
	else
		ret = cp_into(cp, src, &dst);
	if (dst.dirfd >= 0)
		close(dst.dirfd);
	return ret;
}

/* Bytes to copy when every source is a file; 0 (unknown) for trees. */
static uint64_t cp_total(struct cp *cp, int nsrc, char **srcs)
{
	char target[PATH_MAX];
	struct fsa_stat st;
	uint64_t total = 0;

	for (int i = 0; i < nsrc; i++) {
		if (src_lstat(cp, srcs[i], &st, target, sizeof(target)) ||
		    !S_ISREG(st.mode))
			return 0;
		total += (uint64_t)st.size;
	}
	return total;
}

static int cp_parse(struct imc_ctx *ctx, int argc, char **argv, struct cp *cp)
{
	int c;

	while ((c = imc_getopt(argc, argv, &imc_cmd_cp)) != -1) {
		const char *v = optarg;

		if (c == 'r')
			cp->recursive = true;
		else if (c == 'f')
			cp->force = true;
		else if (c == OPT_VERIFY)
			cp->verify = true;
		else if (c == OPT_SPARSE && !strcmp(v, "auto"))
			cp->sparse = CP_SPARSE_AUTO;
		else if (c == OPT_SPARSE && !strcmp(v, "always"))
			cp->sparse = CP_SPARSE_ALWAYS;
		else if (c == OPT_SPARSE && !strcmp(v, "never"))
			cp->sparse = CP_SPARSE_NEVER;
		else if (c == OPT_REFLINK && !strcmp(v, "always"))
			return imc_err(ctx, "--reflink=always", -EOPNOTSUPP);
		else if (c != OPT_REFLINK ||
			 (strcmp(v, "auto") && strcmp(v, "never"))) {
			fprintf(ctx->err, "iomapctl: cp: bad value '%s'\n", v);
			return imc_usage(ctx, &imc_cmd_cp);
		}
	}
	return IMC_EXIT_OK;
}

/* The destination image gets its own context unless a source is in it. */
static void cp_contexts(struct imc_ctx *ctx, struct cp *cp,
			const struct imc_spec *d, int nsrc, char **srcs)
{
	cp->sctx = cp->dctx = ctx;
	if (!d->image)
		return;
	for (int i = 0; i < nsrc; i++) {
		struct imc_spec sp;

		if (imc_spec_parse(ctx, srcs[i], &sp))
			continue;
		if (sp.image && same_file(sp.image, d->image)) {
			imc_spec_free(&sp);
			return;
		}
		imc_spec_free(&sp);
	}
	imc_ctx_init(&cp->dst_ctx);
	cp->dst_ctx.io = ctx->io;
	cp->dst_ctx.out = ctx->out;
	cp->dst_ctx.err = ctx->err;
	cp->dst_ctx.cmdname = ctx->cmdname;
	cp->dctx = &cp->dst_ctx;
}

static int cmd_cp(struct imc_ctx *ctx, int argc, char **argv)
{
	struct cp cp = { 0 };
	struct imc_spec d;
	int nsrc, ret;
	uint64_t t0 = iomap_stats_now_ns();
	bool isdir;

	ret = cp_parse(ctx, argc, argv, &cp);
	if (ret)
		return ret;
	nsrc = argc - optind - 1;
	ret = imc_spec_parse(ctx, argv[argc - 1], &d);
	if (ret)
		return ret;
	cp_contexts(ctx, &cp, &d, nsrc, argv + optind);
	/* A source in the destination image reads through its rw handle. */
	if (cp.dctx == ctx && d.image && (ret = imc_fs_open(ctx, d.image, true)))
		ret = imc_err(ctx, d.image, ret);
	else if ((ret = dst_is_dir(&cp, &d, &isdir)))
		ret = imc_err(ctx, d.image ? d.image : d.path, ret);
	else if (nsrc > 1 && !isdir)
		ret = imc_err(ctx, argv[argc - 1], -ENOTDIR);
	if (!ret) {
		imc_progress_begin(ctx, &cp.prog, cp_total(&cp, nsrc,
							   argv + optind));
		for (int i = 0; i < nsrc; i++)
			if (cp_one(&cp, argv[optind + i], &d, isdir))
				cp.failed = IMC_EXIT_FAIL;
		imc_progress_end(&cp.prog);
		ret = cp.failed;
	}
	if (d.image && cp.dctx->fs) {
		int r = imc_fs_sync(cp.dctx);

		if (r && !ret)
			ret = imc_err(ctx, d.image, r);
	}
	if (!ret && ctx->verbose) {
		double s = (double)(iomap_stats_now_ns() - t0) / 1e9;

		fprintf(ctx->out, "copied %llu bytes in %.3f s (%.1f MiB/s)\n",
			(unsigned long long)cp.bytes, s,
			s > 0 ? (double)cp.bytes / s / 1048576.0 : 0.0);
	}
	if (cp.dctx != ctx)
		imc_ctx_fini(&cp.dst_ctx);
	imc_spec_free(&d);
	return ret;
}

const struct imc_cmd imc_cmd_cp = {
	.name = "cp",
	.args = "[-r] [-f] [--sparse=auto|always|never] [--reflink=auto|never] "
		"[--verify] SRC... DST",
	.oneline = "copy files and trees between host and images, keeping holes",
	.help = cp_help,
	.fn = cmd_cp,
	.argmin = 2,
	.argmax = -1,
	.flags = IMC_CMD_RW,
	.shortopts = "rf",
	.longopts = cp_longopts,
	.complete = 'f',
};
