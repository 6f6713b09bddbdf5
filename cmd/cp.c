// SPDX-License-Identifier: GPL-2.0
/* cp.c - `cp`: files and trees between host and images and between images,
 * keeping holes, modes and times, never trusting names read from an image. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
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
	      "file (in an image too) and names it.  Symlinks inside trees "
	      "are copied as\nsymlinks, both ways.  A directory met twice in "
	      "one walk (a cycle, a second\nname) is reported and skipped; "
	      "the rest is copied, exit status 1.\n\n"
	      "  -r, --recursive      copy directories\n"
	      "  -f, --force          replace existing files\n"
	      "  --sparse=auto        keep the source's holes (default)\n"
	      "  --sparse=always      also skip blocks of zeros in the data\n"
	      "  --sparse=never       write the holes as zeros\n"
	      "  --reflink=never      copy the data (default)\n"
	      "  --reflink=auto       inside one image that can share blocks "
	      "(native), share\n"
	      "                       the source's (copy-on-write); else copy\n"
	      "  --reflink=always     share or fail (EOPNOTSUPP): across "
	      "images, from or to\n"
	      "                       the host, on ext2/3/4\n"
	      "  --verify             read both back and compare\n"
	      "  -v                   print 'copied N bytes in S s (R MiB/s)'\n\n"
	      "Examples:\n  iomapctl cp -v disk.img:/var/log/big ./big\n"
	      "  iomapctl cp -r ./tree disk.img:/srv\n"
	      "  iomapctl cp -r disk.img:/ ./extracted\n",
	      out);
}

static int cp_into(struct cp *cp, const char *src, uint64_t ino,
		   const struct cp_dst *dst);

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

/* The image directory that holds @dst (looked up once per entry made). */
static int image_parent(struct fsa_fs *fs, const struct cp_dst *dst,
			uint64_t *dir)
{
	char parent[PATH_MAX];

	if (imc_path_join(dst->path, "..", parent, sizeof(parent)))
		return -ENAMETOOLONG;
	return fs->ops->lookup(fs, parent, dir);
}

static int image_mkdir(struct cp *cp, const struct cp_dst *dst,
		       const struct fsa_stat *st, uint64_t *ino)
{
	struct fsa_fs *fs = cp->dctx->fs;
	struct fsa_stat cur;
	uint64_t dir;
	int ret;

	ret = fs->ops->lookup(fs, dst->path, ino);
	if (!ret)
		ret = fs->ops->stat(fs, *ino, &cur);
	if (!ret)
		return S_ISDIR(cur.mode) ? 0 : -EEXIST;
	if (ret != -ENOENT)
		return ret;
	ret = image_parent(fs, dst, &dir);
	if (!ret)
		ret = fs->ops->mkdir ? fs->ops->mkdir(fs, dir, dst->name,
						      st->mode & 07777, ino) :
				       -EOPNOTSUPP;
	return ret;
}

/* The entries of a source directory (host or image), for a stable order. */
struct names {
	struct cp_ent *v;
	size_t n, cap;
};

static int names_add(struct names *l, const char *name, uint64_t ino)
{
	if (!strcmp(name, ".") || !strcmp(name, ".."))
		return 0;
	if (l->n == l->cap) {
		size_t cap = l->cap * 2 + 16;
		struct cp_ent *v = realloc(l->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n].ino = ino;
	l->v[l->n].name = strdup(name);
	return l->v[l->n++].name ? 0 : -ENOMEM;
}

static int names_dirent(const struct fsa_dirent *de, void *priv)
{
	return names_add(priv, de->name, de->ino);
}

static void names_free(struct names *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i].name);
	free(l->v);
}

static int read_host_names(int dirfd, struct names *l)
{
	struct dirent *de;
	int fd = dup(dirfd), ret = 0;
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;

	if (!d) {
		ret = -errno;
		if (fd >= 0)
			close(fd);
		return ret;
	}
	while (!ret && (de = readdir(d)))
		ret = names_add(l, de->d_name, 0);
	closedir(d);
	return ret;
}

/* Image directory @ino, or host directory @src (opened without following a
 * symlink: the walk met it as a directory). */
static int read_names(struct cp *cp, const char *src, uint64_t ino,
		      struct names *l)
{
	struct fsa_fs *fs = cp->sctx->fs;
	int fd, ret;

	if (cp->src_image)
		return fs->ops->readdir(fs, ino, names_dirent, l);
	fd = open(src, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ret = read_host_names(fd, l);
	close(fd);
	return ret;
}

static void host_stat(const struct stat *hs, struct fsa_stat *st)
{
	memset(st, 0, sizeof(*st));
	st->ino = hs->st_ino;
	st->mode = hs->st_mode;
	st->size = hs->st_size;
	st->atime = hs->st_atim;
	st->mtime = hs->st_mtim;
}

/* An image entry, by the inode number its directory gave. */
static int image_lstat_ino(struct cp *cp, uint64_t ino, struct fsa_stat *st,
			   char *target, size_t size)
{
	struct fsa_fs *fs = cp->sctx->fs;
	const struct fsa_stat *pre = cp_group_stat(cp, ino);
	int ret = 0;

	if (pre)
		*st = *pre;
	else
		ret = fs->ops->stat(fs, ino, st);
	if (!ret && S_ISLNK(st->mode))
		ret = fs->ops->readlink ?
			      fs->ops->readlink(fs, ino, target, size) :
			      -EOPNOTSUPP;
	return ret;
}

/* lstat of a source: a symlink is reported, not followed.  @ino, when not
 * 0, is the image entry's inode: no path is looked up. */
static int src_lstat(struct cp *cp, const char *src, uint64_t ino,
		     struct fsa_stat *st, uint64_t *dev, char *target,
		     size_t size)
{
	struct imc_spec sp;
	struct stat hs;
	struct fsa_fs *fs;
	int ret;

	target[0] = '\0';
	*dev = 0;
	if (ino)
		return image_lstat_ino(cp, ino, st, target, size);
	ret = imc_spec_parse(cp->sctx, src, &sp);
	if (ret)
		return -EINVAL;
	if (!sp.image) {
		ret = lstat(sp.path, &hs) < 0 ? -errno : 0;
		host_stat(&hs, st);
		*dev = hs.st_dev;
		if (!ret && S_ISLNK(hs.st_mode)) {
			ssize_t n = readlink(sp.path, target, size - 1);

			if (n < 0)
				ret = -errno;
			else
				target[n] = '\0';
		}
	} else if (!(ret = imc_fs_open(cp->sctx, sp.image, cp->sctx->fs &&
				       cp->sctx->fs->rdwr))) {
		fs = cp->sctx->fs;
		ret = fs->ops->lookup_link ?
			fs->ops->lookup_link(fs, sp.path, &ino) :
			fs->ops->lookup(fs, sp.path, &ino);
		if (!ret)
			ret = image_lstat_ino(cp, ino, st, target, size);
	}
	imc_spec_free(&sp);
	return ret;
}

int cp_open_src(struct cp *cp, const char *src, struct imc_file *s)
{
	cp->ready = NULL;
	if (cp->src_ino && cp_group_take(cp, cp->src_ino, s)) {
		s->name = src;
		return IMC_EXIT_OK;
	}
	return cp->src_ino ? imc_file_open_ino(cp->sctx, src, cp->src_ino, s) :
			     imc_file_open(cp->sctx, src, s);
}

/* The set of directories entered, by (dev, ino). */
static size_t seen_slot(const struct cp *cp, uint64_t dev, uint64_t ino)
{
	uint64_t h =
		(ino ^ (dev * 0x9e3779b97f4a7c15ULL)) * 0xff51afd7ed558ccdULL;
	size_t i = (size_t)(h >> 17) & (cp->seen_cap - 1);

	while (cp->seen[i].path &&
	       (cp->seen[i].dev != dev || cp->seen[i].ino != ino))
		i = (i + 1) & (cp->seen_cap - 1);
	return i;
}

static const struct cp_seen *seen_find(const struct cp *cp, uint64_t dev,
				       uint64_t ino)
{
	const struct cp_seen *s;

	if (!cp->seen_cap)
		return NULL;
	s = &cp->seen[seen_slot(cp, dev, ino)];
	return s->path ? s : NULL;
}

static int seen_grow(struct cp *cp)
{
	size_t cap = cp->seen_cap ? cp->seen_cap * 2 : 64;
	struct cp_seen *old = cp->seen, *v = calloc(cap, sizeof(*v));
	size_t oldcap = cp->seen_cap;

	if (!v)
		return -ENOMEM;
	cp->seen = v;
	cp->seen_cap = cap;
	for (size_t i = 0; i < oldcap; i++)
		if (old[i].path)
			cp->seen[seen_slot(cp, old[i].dev, old[i].ino)] =
				old[i];
	free(old);
	return 0;
}

static int seen_add(struct cp *cp, uint64_t dev, uint64_t ino, const char *path,
		    bool created)
{
	struct cp_seen *s;

	if (2 * (cp->nseen + 1) > cp->seen_cap && seen_grow(cp))
		return -ENOMEM;
	s = &cp->seen[seen_slot(cp, dev, ino)];
	if (s->path)
		return 0;
	s->path = strdup(path);
	if (!s->path)
		return -ENOMEM;
	s->dev = dev;
	s->ino = ino;
	s->created = created;
	cp->nseen++;
	return 0;
}

static void seen_clear(struct cp *cp)
{
	for (size_t i = 0; i < cp->seen_cap; i++)
		free(cp->seen[i].path);
	free(cp->seen);
	cp->seen = NULL;
	cp->nseen = cp->seen_cap = 0;
}

/* @src without its "IMAGE:" prefix: the path inside the image. */
static const char *src_path(const struct cp *cp, const char *src)
{
	size_t n = cp->src_image ? strlen(cp->src_image) : 0;

	return n && !strncmp(src, cp->src_image, n) && src[n] == ':' ?
		       src + n + 1 :
		       src;
}

/*
 * A directory met twice in one walk (a cycle, a second name, or one this
 * copy made) is reported and skipped: copying it again would never end.
 */
static int cp_enter(struct cp *cp, const char *src, uint64_t dev, uint64_t ino)
{
	const struct cp_seen *s = seen_find(cp, dev, ino);

	if (s && s->created)
		return imc_errf(cp->sctx,
				"%s: cannot copy a directory into "
				"itself (%s is part of the copy)",
				src, s->path);
	if (s)
		return imc_errf(cp->sctx,
				"%s: directory cycle (inode %llu is "
				"already being copied as %s)",
				src, (unsigned long long)ino, s->path);
	if (cp->depth >= CP_MAX_DEPTH)
		return imc_errf(cp->sctx,
				"%s: more than %d directory levels: "
				"not descending",
				src, CP_MAX_DEPTH);
	if (seen_add(cp, dev, ino, src_path(cp, src), false))
		return imc_err(cp->sctx, src, -ENOMEM);
	return IMC_EXIT_OK;
}

/* Remembers the directory just made when the source could reach it. */
static void cp_made(struct cp *cp, const struct cp_dst *dst, int fd,
		    uint64_t ino)
{
	struct stat hs;

	if (dst->image && cp->src_image && cp->sctx == cp->dctx)
		seen_add(cp, 0, ino, dst->path, true);
	else if (!dst->image && !cp->src_image && fstat(fd, &hs) == 0)
		seen_add(cp, hs.st_dev, hs.st_ino, dst->name, true);
}

static char *child(const char *parent, const char *name)
{
	char *s;
	size_t len = strlen(parent);
	bool slash = len && parent[len - 1] == '/';

	if (len + strlen(name) + 2 > PATH_MAX) {
		errno = ENAMETOOLONG;
		return NULL;
	}
	return asprintf(&s, "%s%s%s", parent, slash ? "" : "/", name) < 0 ?
		       NULL : s;
}

static void dir_attrs(struct cp *cp, const struct cp_dst *dst, int fd,
		      uint64_t ino, const struct fsa_stat *st)
{
	struct timespec ts[2] = { st->atime, st->mtime };
	struct fsa_fs *fs = cp->dctx->fs;
	struct fsa_stat cur;

	if (!dst->image) {
		if (fchmod(fd, st->mode & 07777) == 0)
			futimens(fd, ts);
		return;
	}
	if (fs->ops->setattr && !fs->ops->stat(fs, ino, &cur)) {
		cur.mode = (cur.mode & ~07777U) | (st->mode & 07777);
		cur.atime = st->atime;
		cur.mtime = st->mtime;
		fs->ops->setattr(fs, ino, &cur);
	}
}

/* One entry of a directory: checked before it names anything. */
static int cp_entry(struct cp *cp, const char *src, const struct cp_dst *dst,
		    const struct cp_ent *e, struct cp_dst *c)
{
	char *csrc;
	int ret;

	if (cp_check_name(e->name))
		return imc_errf(cp->sctx, "%s: refusing unsafe name '%s'", src,
				e->name);
	csrc = child(src, e->name);
	if (!csrc)
		return imc_errf(cp->sctx, "%s/%s: %s", src, e->name,
				strerror(errno));
	if (dst->image &&
	    imc_path_join(dst->path, e->name, c->path, sizeof(c->path))) {
		ret = imc_errf(cp->sctx, "%s: %s", csrc,
			       strerror(ENAMETOOLONG));
		free(csrc);
		return ret;
	}
	c->name = e->name;
	ret = cp_into(cp, csrc, cp->src_image ? e->ino : 0, c);
	free(csrc);
	return ret;
}

/* One directory level, read once; entries are reached by number. */
static int cp_entries(struct cp *cp, const char *src, uint64_t ino,
		      const struct cp_dst *dst, int fd)
{
	struct names l = { 0 };
	struct cp_dst *c = malloc(sizeof(*c));
	int ret = c ? read_names(cp, src, ino, &l) : -ENOMEM;
	bool grouped = cp_group_wanted(cp, dst);

	if (ret) {
		names_free(&l);
		free(c);
		return imc_err(cp->sctx, src, ret);
	}
	cp->depth++;
	for (size_t i = 0, end = 0, ahead = 0; i < l.n; i++) {
		if (grouped && i == end)
			end = cp_group_next(cp, l.v, l.n, i, &ahead);
		/* Field by field: zeroing c->path (4 KiB) per entry cost. */
		c->image = dst->image;
		c->dirfd = fd;
		c->path[0] = '\0';
		if (cp_entry(cp, src, dst, &l.v[i], c))
			cp->failed = IMC_EXIT_FAIL;
	}
	if (grouped) {
		size_t ahead = l.n;

		cp_group_next(cp, l.v, l.n, l.n, &ahead);
	}
	cp->depth--;
	names_free(&l);
	free(c);
	return IMC_EXIT_OK;
}

static int cp_dir(struct cp *cp, const char *src, uint64_t dev,
		  const struct fsa_stat *st, const struct cp_dst *dst)
{
	uint64_t ino = 0;
	int fd = -1, ret;

	if (!cp->recursive) {
		imc_errf(cp->sctx, "%s: is a directory (use -r)", src);
		return IMC_EXIT_FAIL;
	}
	if (cp_enter(cp, src, dev, st->ino))
		return IMC_EXIT_FAIL;
	ret = dst->image ? imc_fs_open(cp->dctx, dst->image, true) : 0;
	if (!ret)
		ret = dst->image ? image_mkdir(cp, dst, st, &ino) :
				   host_mkdir(dst, &fd);
	if (ret)
		return imc_err(cp->sctx, dst->image ? dst->path : dst->name, ret);
	cp_made(cp, dst, fd, ino);
	ret = cp_entries(cp, src, st->ino, dst, fd);
	/* Last, so copying the entries did not bump the times again. */
	dir_attrs(cp, dst, fd, ino, st);
	if (fd >= 0)
		close(fd);
	return ret;
}

/* Image: a link is created, never followed; -f replaces a non-directory. */
static int image_symlink(struct cp *cp, const struct cp_dst *dst,
			 const char *target)
{
	struct fsa_fs *fs;
	struct fsa_stat st;
	uint64_t dir, ino;
	int ret = imc_fs_open(cp->dctx, dst->image, true);

	if (ret)
		return ret;
	fs = cp->dctx->fs;
	if (!fs->ops->symlink)
		return -EOPNOTSUPP;
	ret = image_parent(fs, dst, &dir);
	if (ret)
		return ret;
	ret = fs->ops->lookup_link ? fs->ops->lookup_link(fs, dst->path, &ino) :
				     fs->ops->lookup(fs, dst->path, &ino);
	if (!ret)
		ret = fs->ops->stat(fs, ino, &st);
	if (!ret) {
		if (!cp->force || S_ISDIR(st.mode))
			return S_ISDIR(st.mode) ? -EISDIR : -EEXIST;
		ret = fs->ops->unlink ? fs->ops->unlink(fs, dir, dst->name) :
					-EOPNOTSUPP;
		if (ret)
			return ret;
	} else if (ret != -ENOENT) {
		return ret;
	}
	return fs->ops->symlink(fs, dir, dst->name, target, &ino);
}

static int host_symlink(struct cp *cp, const struct cp_dst *dst,
			const char *target)
{
	struct stat st;

	/* A link is created, never followed; -f replaces a non-directory. */
	if (fstatat(dst->dirfd, dst->name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		if (!cp->force || S_ISDIR(st.st_mode))
			return S_ISDIR(st.st_mode) ? -EISDIR : -EEXIST;
		unlinkat(dst->dirfd, dst->name, 0);
	}
	return symlinkat(target, dst->dirfd, dst->name) < 0 ? -errno : 0;
}

static int cp_symlink(struct cp *cp, const char *src, const struct cp_dst *dst,
		      const char *target)
{
	int ret = dst->image ? image_symlink(cp, dst, target) :
			       host_symlink(cp, dst, target);

	return ret ? cp_fail(cp, src, dst, ret) : IMC_EXIT_OK;
}

static int cp_node(struct cp *cp, const char *src, uint64_t ino,
		   const struct cp_dst *dst, char *target)
{
	struct fsa_stat st;
	uint64_t dev;
	int ret = src_lstat(cp, src, ino, &st, &dev, target, PATH_MAX);

	if (ret)
		return imc_err(cp->sctx, src, ret);
	if (S_ISDIR(st.mode))
		return cp_dir(cp, src, dev, &st, dst);
	if (S_ISLNK(st.mode))
		return cp_symlink(cp, src, dst, target);
	if (S_ISREG(st.mode)) {
		ret = cp_reflink(cp, src, &st, dst);
		if (ret >= 0)
			return ret;
		cp->src_ino = cp->src_image ? st.ino : 0;
		cp->src_st = &st;
		ret = cp_file(cp, src, dst);
		cp->src_ino = 0;
		cp->src_st = NULL;
		return ret;
	}
	fprintf(cp->sctx->err, "iomapctl: cp: %s: skipping special file\n", src);
	return IMC_EXIT_OK;
}

/* Copies @src (image entry @ino, or 0 to look it up) to @dst. */
static int cp_into(struct cp *cp, const char *src, uint64_t ino,
		   const struct cp_dst *dst)
{
	char *target = malloc(PATH_MAX);
	int ret;

	if (!target)
		return imc_err(cp->sctx, src, -ENOMEM);
	ret = cp_node(cp, src, ino, dst, target);
	free(target);
	return ret;
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

/*
 * The context @sp is read in: the destination's when it is the same image
 * (one handle sees every change), else one of its own, so walking it never
 * closes the destination.
 */
static struct imc_ctx *src_ctx_for(struct cp *cp, const struct imc_spec *sp,
				   const struct imc_spec *d)
{
	if (!sp->image || !d->image || cp->dctx != cp->ctx ||
	    same_file(sp->image, d->image))
		return cp->ctx;
	if (!cp->src_ctx_used) {
		imc_ctx_init(&cp->src_ctx);
		cp->src_ctx.io = cp->ctx->io;
		cp->src_ctx.out = cp->ctx->out;
		cp->src_ctx.err = cp->ctx->err;
		cp->src_ctx.cmdname = cp->ctx->cmdname;
		cp->src_ctx_used = true;
	}
	return &cp->src_ctx;
}

static int cp_one(struct cp *cp, const char *src, const struct imc_spec *d,
		  bool isdir, bool dst_slash)
{
	struct imc_spec sp;
	struct cp_dst dst = { .dirfd = -1 };
	char name[NAME_MAX + 1];
	char *target = malloc(PATH_MAX);
	struct fsa_stat st;
	uint64_t dev;
	int ret = imc_spec_parse(cp->ctx, src, &sp);

	if (ret || !target) {
		free(target);
		return ret ? ret : imc_err(cp->ctx, src, -ENOMEM);
	}
	cp->sctx = src_ctx_for(cp, &sp, d);
	cp->src_image = sp.image;
	/* Strip trailing slashes so "dir/" copies as "dir". */
	for (size_t n = strlen(sp.path); n > 1 && sp.path[n - 1] == '/'; n--)
		sp.path[n - 1] = '\0';
	ret = src_lstat(cp, src, 0, &st, &dev, target, PATH_MAX);
	if (ret)
		ret = imc_err(cp->sctx, src, ret);
	else if (!isdir && dst_slash && !S_ISDIR(st.mode))
		ret = imc_errf(cp->sctx, "%s/: %s", d->path, strerror(ENOTDIR));
	else if ((ret = dst_for(d, isdir,
				sp.image && !strcmp(sp.path, "/") ?
					"" :
					base_of(sp.path),
				&dst, name, sizeof(name))))
		ret = imc_err(cp->sctx, d->path, ret);
	/* Symlinks named on the command line are followed, as cp does. */
	else if (S_ISLNK(st.mode))
		ret = cp_file(cp, src, &dst);
	else
		ret = cp_into(cp, src, sp.image ? st.ino : 0, &dst);
	if (dst.dirfd >= 0)
		close(dst.dirfd);
	seen_clear(cp);
	cp->src_image = NULL;
	imc_spec_free(&sp);
	free(target);
	return ret;
}

/* Bytes to copy when every source is a file; 0 (unknown) for trees. */
static uint64_t cp_total(struct cp *cp, const struct imc_spec *d, int nsrc,
			 char **srcs)
{
	char target[PATH_MAX];
	struct fsa_stat st;
	uint64_t total = 0, dev;

	for (int i = 0; i < nsrc; i++) {
		struct imc_spec sp;
		int ret = imc_spec_parse(cp->ctx, srcs[i], &sp);

		if (!ret) {
			cp->sctx = src_ctx_for(cp, &sp, d);
			imc_spec_free(&sp);
		}
		if (ret ||
		    src_lstat(cp, srcs[i], 0, &st, &dev, target,
			      sizeof(target)) ||
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
			cp->reflink = CP_REFLINK_ALWAYS;
		else if (c == OPT_REFLINK && !strcmp(v, "auto"))
			cp->reflink = CP_REFLINK_AUTO;
		else if (c != OPT_REFLINK || strcmp(v, "never")) {
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
	cp->dst_ctx.meta_faults = ctx->meta_faults;
	cp->dctx = &cp->dst_ctx;
}

static int cmd_cp(struct imc_ctx *ctx, int argc, char **argv)
{
	struct cp cp = { 0 };
	struct imc_spec d;
	int nsrc, ret;
	uint64_t t0 = iomap_stats_now_ns();
	bool isdir, slash = false;

	ret = cp_parse(ctx, argc, argv, &cp);
	if (ret)
		return ret;
	/*
	 * Each file's copy buffer (1 MiB) stays in the heap, neither a fresh
	 * mmap nor trimmed off the heap's top after each file: unmapping it
	 * flushed the TLB once per file, most of the time of a tree of
	 * small files.
	 */
	mallopt(M_MMAP_THRESHOLD, 4 << 20);
	mallopt(M_TRIM_THRESHOLD, 64 << 20);
	nsrc = argc - optind - 1;
	ret = imc_spec_parse(ctx, argv[argc - 1], &d);
	if (ret)
		return ret;
	cp.ctx = ctx;
	/* "newdir/" names newdir, which -r makes when it is missing. */
	for (size_t n = strlen(d.path); n > 1 && d.path[n - 1] == '/'; n--) {
		d.path[n - 1] = '\0';
		slash = true;
	}
	cp_contexts(ctx, &cp, &d, nsrc, argv + optind);
	/* A source in the destination image reads through its rw handle. */
	if (cp.dctx == ctx && d.image && (ret = imc_fs_open(ctx, d.image, true)))
		ret = imc_err(ctx, d.image, ret);
	else if ((ret = dst_is_dir(&cp, &d, &isdir)))
		ret = imc_err(ctx, d.image ? d.image : d.path, ret);
	else if (nsrc > 1 && !isdir)
		ret = imc_err(ctx, argv[argc - 1], -ENOTDIR);
	if (!ret) {
		imc_progress_begin(ctx, &cp.prog,
				   cp_total(&cp, &d, nsrc, argv + optind));
		for (int i = 0; i < nsrc; i++)
			if (cp_one(&cp, argv[optind + i], &d, isdir, slash))
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
	cp_group_free(&cp);
	cp_file_end(&cp);
	if (cp.dctx != ctx && imc_ctx_fini(&cp.dst_ctx))
		ret = IMC_EXIT_FAIL;
	if (cp.src_ctx_used)
		imc_ctx_fini(&cp.src_ctx);
	imc_spec_free(&d);
	return ret;
}

const struct imc_cmd imc_cmd_cp = {
	.name = "cp",
	.args = "[-r] [-f] [--sparse=auto|always|never] "
		"[--reflink=auto|always|never] "
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
