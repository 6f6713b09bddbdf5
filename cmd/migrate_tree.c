// SPDX-License-Identifier: GPL-2.0
/*
 * migrate_tree.c - the walk of `migrate`: every entry of the source tree
 * recreated in the destination through the adapters, each inode once
 * (later names become hard links), regular files' data moved through the
 * engine's paths following the source's extent map, so holes stay holes
 * and unwritten extents stay unwritten; then, for --verify, the same walk
 * over both trees comparing what it finds.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cp.h"
#include "migrate.h"

#define MIGRATE_EXTENTS 64

/* ---- inode maps ---- */

static size_t map_slot(const struct migrate_map *map, uint64_t key)
{
	size_t i = (size_t)(key * 0x9e3779b97f4a7c15ULL) & (map->cap - 1);

	while (map->key[i] && map->key[i] != key)
		i = (i + 1) & (map->cap - 1);
	return i;
}

static bool map_get(const struct migrate_map *map, uint64_t key,
		    uint64_t *val)
{
	size_t i;

	if (!map->cap)
		return false;
	i = map_slot(map, key);
	if (!map->key[i])
		return false;
	if (val)
		*val = map->val[i];
	return true;
}

static int map_put(struct migrate_map *map, uint64_t key, uint64_t val)
{
	if (2 * (map->n + 1) > map->cap) {
		struct migrate_map big = { .cap = map->cap ? 2 * map->cap : 64 };

		big.key = calloc(big.cap, sizeof(*big.key));
		big.val = calloc(big.cap, sizeof(*big.val));
		if (!big.key || !big.val) {
			migrate_map_free(&big);
			return -ENOMEM;
		}
		for (size_t i = 0; i < map->cap; i++)
			if (map->key[i]) {
				size_t j = map_slot(&big, map->key[i]);

				big.key[j] = map->key[i];
				big.val[j] = map->val[i];
				big.n++;
			}
		migrate_map_free(map);
		*map = big;
	}
	size_t i = map_slot(map, key);

	if (!map->key[i])
		map->n++;
	map->key[i] = key;
	map->val[i] = val;
	return 0;
}

void migrate_map_free(struct migrate_map *map)
{
	free(map->key);
	free(map->val);
	memset(map, 0, sizeof(*map));
}

/* ---- messages ---- */

/* "iomapctl: migrate: SRC:PATH: why"; a source entry is skipped. */
static void src_fail(struct migrate *m, const char *path, int err)
{
	char what[PATH_MAX + 64];

	snprintf(what, sizeof(what), "%s:%s", m->src.fs_image, path);
	m->failed = imc_err(m->ctx, what, err);
}

/*
 * The destination refused: a name it holds already or cannot hold (the
 * source's damage: two entries of one name) skips the entry; any other
 * error (no space, I/O) stops the walk, nothing more is written.
 */
static int dst_fail(struct migrate *m, const char *path, int err)
{
	char what[PATH_MAX + 64];
	bool entry = err == -EEXIST || err == -EINVAL || err == -ENAMETOOLONG;

	snprintf(what, sizeof(what), "%s:%s", m->dst.fs_image, path);
	m->failed = imc_err(m->ctx, what, err);
	m->stop = !entry;
	return entry ? 1 : err;
}

/* ---- directories ---- */

struct dirlist {
	struct fsa_dirent *v;
	size_t n, cap;
};

static int dirlist_add(const struct fsa_dirent *de, void *priv)
{
	struct dirlist *l = priv;

	if (!strcmp(de->name, ".") || !strcmp(de->name, ".."))
		return 0;
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 64;
		struct fsa_dirent *v = realloc(l->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = *de;
	return 0;
}

/* The entries of directory @ino, without "." and "..", read at once: the
 * walk changes the destination between them, never the source. */
static int dir_read(struct imc_ctx *c, uint64_t ino, struct dirlist *l)
{
	memset(l, 0, sizeof(*l));
	return c->fs->ops->readdir(c->fs, ino, dirlist_add, l);
}

static int path_child(char *out, size_t size, const char *dir,
		      const char *name)
{
	int n = snprintf(out, size, "%s/%s", strcmp(dir, "/") ? dir : "",
			 name);

	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

/* ---- extended attributes ---- */

struct xattr_copy {
	struct migrate *m;
	uint64_t dino;
	const char *path;
};

/* The namespaces an attribute means the same in on every filesystem;
 * others (ext4's encryption context "c", its inline data) belong to the
 * source's format. */
static bool xattr_portable(const char *name)
{
	static const char *const prefixes[] = { "user.", "trusted.",
						"security.",
						"system.posix_acl_access",
						"system.posix_acl_default" };

	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
		if (!strncmp(name, prefixes[i], strlen(prefixes[i])))
			return true;
	return false;
}

static int xattr_put(const char *name, const void *value, size_t len,
		     void *priv)
{
	struct xattr_copy *x = priv;
	struct fsa_fs *fs = x->m->dst.fs;

	if (!xattr_portable(name)) {
		x->m->n.skipped++;
		x->m->failed = imc_errf(x->m->ctx,
					"%s:%s: extended attribute \"%s\" "
					"not copied (not a portable namespace)",
					x->m->src.fs_image, x->path, name);
		return 0;
	}
	if (!fs->ops->setxattr)
		return -EOPNOTSUPP;
	x->m->n.xattrs++;
	return fs->ops->setxattr(fs, x->dino, name, value, len);
}

static int xattrs_copy(struct migrate *m, const char *path, uint64_t sino,
		       uint64_t dino)
{
	struct xattr_copy x = { m, dino, path };
	struct fsa_fs *fs = m->src.fs;

	return fs->ops->listxattr ? fs->ops->listxattr(fs, sino, xattr_put, &x) :
				    0;
}

/* ---- regular files ---- */

/*
 * [@pos, @end) of @s into @d, a chunk at a time; a failure names the side
 * it came from (*@dst_side).
 */
static int data_copy(struct migrate *m, struct imc_file *s, struct imc_file *d,
		     uint64_t pos, uint64_t end, bool *dst_side)
{
	while (pos < end) {
		size_t n = end - pos < MIGRATE_CHUNK ? (size_t)(end - pos) :
						       MIGRATE_CHUNK;
		ssize_t r = imc_file_pread(s, m->buf, n, (loff_t)pos), w;

		if (r <= 0)
			return r < 0 ? (int)r : -EIO;
		*dst_side = true;
		for (size_t at = 0; at < (size_t)r; at += (size_t)w) {
			w = imc_file_pwrite(d, m->buf + at, (size_t)r - at,
					    (loff_t)(pos + at));
			if (w <= 0)
				return w < 0 ? (int)w : -EIO;
		}
		*dst_side = false;
		pos += (uint64_t)r;
		m->n.bytes += (uint64_t)r;
		m->walked += (uint64_t)r;
		imc_progress_update(&m->prog, m->walked);
	}
	return 0;
}

/*
 * The source's extents, in order: data is copied, unwritten extents
 * (preallocations past EOF too) are preallocated unwritten, holes are
 * left alone and the size set last, so a trailing hole stays one.
 */
static int file_body(struct migrate *m, struct imc_file *s, struct imc_file *d,
		     bool *dst_side)
{
	struct fiemap_extent ext[MIGRATE_EXTENTS];
	struct iomap_space_ops ops;
	uint64_t size = (uint64_t)s->size, pos = 0, covered = 0;
	bool last = false;
	int ret = 0;

	imc_file_space_ops(d, &ops);
	while (!last && !ret) {
		unsigned int n = 0;

		*dst_side = false;
		ret = imc_file_fiemap(&m->src, s, 0, pos, UINT64_MAX - pos, ext,
				      MIGRATE_EXTENTS, &n);
		if (ret || !n)
			break;
		for (unsigned int i = 0; i < n && !ret; i++) {
			const struct fiemap_extent *e = &ext[i];
			uint64_t a = e->fe_logical, b = a + e->fe_length;

			last = e->fe_flags & FIEMAP_EXTENT_LAST;
			if (a > covered && a < size)
				m->n.holes++;
			if (e->fe_flags & FIEMAP_EXTENT_UNWRITTEN) {
				*dst_side = true;
				ret = iomap_file_falloc(d->io, &ops, (loff_t)a,
							b - a, true);
				m->n.unwritten++;
			} else if (a < size) {
				ret = data_copy(m, s, d, a, b < size ? b : size,
						dst_side);
			}
			covered = b > covered ? b : covered;
			pos = b;
		}
	}
	if (!ret && covered < size)
		m->n.holes++;
	*dst_side = true;
	if (!ret && d->inode->size < (loff_t)size)
		ret = iomap_file_setsize(d->io, &ops, (loff_t)size);
	return ret;
}

/* The data of regular file @sino into the new @dino. */
static int file_copy(struct migrate *m, const char *path, uint64_t sino,
		     uint64_t dino)
{
	struct imc_file s, d;
	bool dst_side = false;
	int ret, r;

	ret = imc_file_attach_ino(&m->src, path, sino, &s);
	if (!ret)
		ret = imc_file_io(&s);
	if (ret) {
		if (s.inode)
			imc_file_close(&s);
		src_fail(m, path, ret);
		return 0;
	}
	ret = imc_file_attach_ino(&m->dst, path, dino, &d);
	if (!ret)
		ret = imc_file_io(&d);
	if (!ret)
		ret = file_body(m, &s, &d, &dst_side);
	else
		dst_side = true;
	/* Writeback is the destination's too. */
	r = d.inode ? imc_file_close(&d) : 0;
	if (!ret && r) {
		ret = r;
		dst_side = true;
	}
	imc_file_close(&s);
	if (ret && dst_side)
		return dst_fail(m, path, ret);
	if (ret)
		src_fail(m, path, ret);
	return 0;
}

/* ---- one entry ---- */

/* Owner, mode and times last: writing the data and the entries below
 * moved the times. */
static int attrs_finish(struct migrate *m, const char *path, uint64_t sino,
			uint64_t dino, const struct fsa_stat *st)
{
	int ret = xattrs_copy(m, path, sino, dino);

	if (!ret && m->dst.fs->ops->setattr)
		ret = m->dst.fs->ops->setattr(m->dst.fs, dino, st);
	return ret ? dst_fail(m, path, ret) : 0;
}

static int walk_dir(struct migrate *m, const char *path, uint64_t sdir,
		    uint64_t ddir, bool root);

static int entry_symlink(struct migrate *m, const char *path,
			 const struct fsa_dirent *de, uint64_t ddir,
			 uint64_t *dino)
{
	char target[PATH_MAX];
	struct fsa_fs *sfs = m->src.fs, *dfs = m->dst.fs;
	int ret = sfs->ops->readlink ?
			  sfs->ops->readlink(sfs, de->ino, target,
					     sizeof(target)) :
			  -EOPNOTSUPP;

	if (ret < 0) {
		src_fail(m, path, ret);
		return 1;
	}
	if (!dfs->ops->symlink)
		return dst_fail(m, path, -EOPNOTSUPP);
	ret = dfs->ops->symlink(dfs, ddir, de->name, target, dino);
	if (ret)
		return dst_fail(m, path, ret);
	m->n.symlinks++;
	return 0;
}

/* A regular file: a new inode with its data, or a link to one copied
 * under another name already. */
static int entry_file(struct migrate *m, const char *path,
		      const struct fsa_dirent *de, const struct fsa_stat *st,
		      uint64_t ddir, uint64_t *dino)
{
	struct fsa_fs *dfs = m->dst.fs;
	int ret;

	if (st->nlink > 1 && map_get(&m->links, de->ino, dino)) {
		ret = dfs->ops->link ? dfs->ops->link(dfs, *dino, ddir,
						      de->name) :
				       -EOPNOTSUPP;
		if (ret)
			return dst_fail(m, path, ret);
		m->n.hardlinks++;
		return 1; /* its attributes are set once */
	}
	if (!dfs->ops->create)
		return dst_fail(m, path, -EOPNOTSUPP);
	ret = dfs->ops->create(dfs, ddir, de->name, st->mode & 07777, dino);
	if (ret)
		return dst_fail(m, path, ret);
	if (st->nlink > 1 && (ret = map_put(&m->links, de->ino, *dino)))
		return dst_fail(m, path, ret);
	m->n.files++;
	return file_copy(m, path, de->ino, *dino);
}

static int entry_dir(struct migrate *m, const char *path,
		     const struct fsa_dirent *de, const struct fsa_stat *st,
		     uint64_t ddir, uint64_t *dino, bool root)
{
	struct fsa_fs *dfs = m->dst.fs;
	struct fsa_stat dst_st;
	int ret;

	if (map_get(&m->dirs, de->ino, NULL)) {
		m->failed = imc_errf(m->ctx,
				     "%s:%s: directory cycle (inode %llu is "
				     "already being copied)",
				     m->src.fs_image, path,
				     (unsigned long long)de->ino);
		return 1;
	}
	if (m->depth >= CP_MAX_DEPTH) {
		m->failed = imc_errf(m->ctx, "%s:%s: deeper than %d directories",
				     m->src.fs_image, path, CP_MAX_DEPTH);
		return 1;
	}
	ret = map_put(&m->dirs, de->ino, 1);
	/* The destination's own lost+found takes the source's. */
	if (!ret && root && dfs->ops->lookup(dfs, path, dino) == 0 &&
	    dfs->ops->stat(dfs, *dino, &dst_st) == 0 && S_ISDIR(dst_st.mode))
		ret = 0;
	else if (!ret)
		ret = dfs->ops->mkdir ? dfs->ops->mkdir(dfs, ddir, de->name,
							st->mode & 07777, dino) :
					-EOPNOTSUPP;
	if (ret)
		return dst_fail(m, path, ret);
	m->n.dirs++;
	m->depth++;
	ret = walk_dir(m, path, de->ino, *dino, false);
	m->depth--;
	return ret;
}

/* One entry of a source directory into destination directory @ddir. */
static int walk_entry(struct migrate *m, const char *dir, uint64_t ddir,
		      const struct fsa_dirent *de, bool root)
{
	char path[PATH_MAX];
	struct fsa_stat st;
	uint64_t dino = 0;
	int ret = path_child(path, sizeof(path), dir, de->name);

	if (!ret)
		ret = cp_check_name(de->name);
	if (!ret)
		ret = m->src.fs->ops->stat(m->src.fs, de->ino, &st);
	if (ret) {
		src_fail(m, ret == -ENAMETOOLONG ? dir : path, ret);
		return 0;
	}
	if (S_ISREG(st.mode))
		ret = entry_file(m, path, de, &st, ddir, &dino);
	else if (S_ISDIR(st.mode))
		ret = entry_dir(m, path, de, &st, ddir, &dino, root);
	else if (S_ISLNK(st.mode))
		ret = entry_symlink(m, path, de, ddir, &dino);
	else {
		m->n.skipped++;
		m->failed = imc_errf(m->ctx,
				     "%s:%s: device, FIFO or socket: not "
				     "copied (the adapters cannot create one)",
				     m->src.fs_image, path);
		return 0;
	}
	if (!ret && !m->stop)
		ret = attrs_finish(m, path, de->ino, dino, &st);
	return ret < 0 ? ret : 0;
}

static int walk_dir(struct migrate *m, const char *path, uint64_t sdir,
		    uint64_t ddir, bool root)
{
	struct dirlist l;
	int ret = dir_read(&m->src, sdir, &l);

	if (ret) {
		src_fail(m, path, ret);
		ret = 0;
	}
	for (size_t i = 0; i < l.n && !ret && !m->stop; i++)
		ret = walk_entry(m, path, ddir, &l.v[i], root);
	free(l.v);
	return ret;
}

static int root_inos(struct migrate *m, uint64_t *sroot, uint64_t *droot)
{
	int ret = m->src.fs->ops->lookup(m->src.fs, "/", sroot);

	if (ret)
		return ret;
	return m->dst.fs->ops->lookup(m->dst.fs, "/", droot);
}

int migrate_tree(struct migrate *m)
{
	struct fsa_stat st;
	uint64_t sroot, droot;
	int ret = root_inos(m, &sroot, &droot);

	if (!ret)
		ret = map_put(&m->dirs, sroot, 1);
	if (!ret)
		ret = m->src.fs->ops->stat(m->src.fs, sroot, &st);
	if (ret)
		return imc_err(m->ctx, m->src.fs_image, ret);
	ret = walk_dir(m, "/", sroot, droot, true);
	if (!ret && !m->stop)
		attrs_finish(m, "/", sroot, droot, &st);
	return m->failed;
}

/* ---- verify ---- */

static void diff(struct migrate *m, const char *path, const char *what)
{
	m->diffs++;
	imc_errf(m->ctx, "verify: %s: %s differs", path, what);
}

struct xattr_check {
	struct migrate *m;
	uint64_t dino;
	const char *path;
	size_t n;
};

static int xattr_same(const char *name, const void *value, size_t len,
		      void *priv)
{
	struct xattr_check *x = priv;
	struct fsa_fs *fs = x->m->dst.fs;
	char buf[65536];
	int got = fs->ops->getxattr ? fs->ops->getxattr(fs, x->dino, name, buf,
							sizeof(buf)) :
				      -EOPNOTSUPP;

	if (!xattr_portable(name))
		return 0;
	x->n++;
	if (got < 0 || (size_t)got != len || memcmp(buf, value, len))
		diff(x->m, x->path, name);
	return 0;
}

static int xattr_count(const char *name, const void *value, size_t len,
		       void *priv)
{
	(void)name;
	(void)value;
	(void)len;
	((struct xattr_check *)priv)->n++;
	return 0;
}

static void xattrs_check(struct migrate *m, const char *path, uint64_t sino,
			 uint64_t dino)
{
	struct xattr_check a = { m, dino, path, 0 }, b = { m, dino, path, 0 };

	if (!m->src.fs->ops->listxattr || !m->dst.fs->ops->listxattr)
		return;
	m->src.fs->ops->listxattr(m->src.fs, sino, xattr_same, &a);
	m->dst.fs->ops->listxattr(m->dst.fs, dino, xattr_count, &b);
	if (a.n != b.n)
		diff(m, path, "the set of extended attributes");
}

/* The data/hole/unwritten map of [0, @size) as the next run at *@pos:
 * its type (0 hole, 1 data, 2 unwritten) and end. */
static int run_at(struct imc_ctx *c, struct imc_file *f, uint64_t pos,
		  unsigned int *type, uint64_t *end)
{
	struct fiemap_extent e;
	unsigned int n = 0;
	int ret = imc_file_fiemap(c, f, 0, pos, UINT64_MAX - pos, &e, 1, &n);

	if (ret)
		return ret;
	if (!n || e.fe_logical > pos) {
		*type = 0;
		*end = n ? e.fe_logical : UINT64_MAX;
		return 0;
	}
	*type = (e.fe_flags & FIEMAP_EXTENT_UNWRITTEN) ? 2 : 1;
	*end = e.fe_logical + e.fe_length;
	return 0;
}

/* Same bytes and the same data/hole/unwritten layout up to EOF. */
static void file_check(struct migrate *m, const char *path, uint64_t sino,
		       uint64_t dino, uint64_t size)
{
	struct imc_file s, d;
	bool layout_same = true;
	int ret = imc_file_attach_ino(&m->src, path, sino, &s);

	if (ret) {
		src_fail(m, path, ret);
		return;
	}
	ret = imc_file_attach_ino(&m->dst, path, dino, &d);
	if (ret) {
		imc_file_close(&s);
		diff(m, path, "the file (cannot open the copy)");
		return;
	}
	ret = imc_file_io(&s);
	if (!ret)
		ret = imc_file_io(&d);
	for (uint64_t pos = 0; !ret && pos < size;) {
		size_t n = size - pos < MIGRATE_CHUNK ? (size_t)(size - pos) :
							MIGRATE_CHUNK;
		ssize_t a = imc_file_pread(&s, m->buf, n, (loff_t)pos);
		ssize_t b = imc_file_pread(&d, m->buf2, n, (loff_t)pos);

		if (a != (ssize_t)n || b != (ssize_t)n ||
		    memcmp(m->buf, m->buf2, n)) {
			diff(m, path, "the content");
			break;
		}
		pos += n;
	}
	for (uint64_t pos = 0; !ret && pos < size && layout_same;) {
		unsigned int ta, tb;
		uint64_t ea, eb;

		ret = run_at(&m->src, &s, pos, &ta, &ea);
		if (!ret)
			ret = run_at(&m->dst, &d, pos, &tb, &eb);
		/* Runs may split differently; their types may not. */
		layout_same = ret || ta == tb;
		pos = ea < eb ? ea : eb;
	}
	if (!layout_same)
		diff(m, path, "the data/hole/unwritten layout");
	if (ret)
		src_fail(m, path, ret);
	imc_file_close(&d);
	imc_file_close(&s);
}

static bool time_same(struct timespec a, struct timespec b)
{
	return a.tv_sec == b.tv_sec && a.tv_nsec == b.tv_nsec;
}

static void stat_check(struct migrate *m, const char *path,
		       const struct fsa_stat *a, const struct fsa_stat *b)
{
	if (a->mode != b->mode)
		diff(m, path, "the mode");
	if (a->uid != b->uid || a->gid != b->gid)
		diff(m, path, "the owner");
	if (!S_ISDIR(a->mode) && (a->size != b->size || a->nlink != b->nlink))
		diff(m, path, S_ISLNK(a->mode) ? "the target" :
						 "the size or link count");
	if (!time_same(a->mtime, b->mtime) || !time_same(a->atime, b->atime))
		diff(m, path, "the times");
}

static void verify_dir(struct migrate *m, const char *path, uint64_t sdir,
		       uint64_t ddir);

static int dirent_cmp(const void *a, const void *b)
{
	return strcmp(((const struct fsa_dirent *)a)->name,
		      ((const struct fsa_dirent *)b)->name);
}

/* Checks one entry against the copy's sorted entries @copy; false when
 * the copy was not to hold it. */
static bool verify_entry(struct migrate *m, const char *dir,
			 const struct fsa_dirent *de,
			 const struct dirlist *copy)
{
	const struct fsa_dirent *twin;
	struct fsa_fs *sfs = m->src.fs, *dfs = m->dst.fs;
	struct fsa_stat a, b;
	char path[PATH_MAX];
	uint64_t dino;

	/* What the copy skipped, it said so. */
	if (path_child(path, sizeof(path), dir, de->name) ||
	    cp_check_name(de->name) || sfs->ops->stat(sfs, de->ino, &a) ||
	    (!S_ISREG(a.mode) && !S_ISDIR(a.mode) && !S_ISLNK(a.mode)))
		return false;
	/* By name in the listing: a lookup per entry rereads the directory. */
	twin = bsearch(de, copy->v, copy->n, sizeof(*copy->v), dirent_cmp);
	if (twin)
		dino = twin->ino;
	if (!twin || dfs->ops->stat(dfs, dino, &b)) {
		diff(m, path, "the entry (missing in the copy)");
		return true;
	}
	stat_check(m, path, &a, &b);
	xattrs_check(m, path, de->ino, dino);
	if (S_ISREG(a.mode) && !map_get(&m->links, de->ino, NULL)) {
		if (a.nlink == 1 || map_put(&m->links, de->ino, dino) == 0)
			file_check(m, path, de->ino, dino, (uint64_t)a.size);
	} else if (S_ISDIR(a.mode) && !map_get(&m->dirs, de->ino, NULL) &&
		   map_put(&m->dirs, de->ino, 1) == 0) {
		verify_dir(m, path, de->ino, dino);
	}
	return true;
}

static void verify_dir(struct migrate *m, const char *path, uint64_t sdir,
		       uint64_t ddir)
{
	struct dirlist a, b;
	int ra = dir_read(&m->src, sdir, &a), rb = dir_read(&m->dst, ddir, &b);
	size_t held = 0;

	if (rb)
		diff(m, path, "the directory (unreadable in the copy)");
	if (!rb && b.n)
		qsort(b.v, b.n, sizeof(*b.v), dirent_cmp);
	for (size_t i = 0; !ra && !rb && i < a.n; i++)
		held += verify_entry(m, path, &a.v[i], &b);
	/* The destination's own lost+found may be extra. */
	if (!ra && !rb &&
	    (b.n < held || b.n - held > (strcmp(path, "/") ? 0U : 1U)))
		diff(m, path, "the number of entries");
	free(a.v);
	free(b.v);
}

int migrate_verify(struct migrate *m)
{
	uint64_t sroot, droot;
	int ret = root_inos(m, &sroot, &droot);

	if (ret)
		return imc_err(m->ctx, "verify", ret);
	migrate_map_free(&m->dirs);
	migrate_map_free(&m->links);
	if (map_put(&m->dirs, sroot, 1))
		return imc_err(m->ctx, "verify", -ENOMEM);
	verify_dir(m, "/", sroot, droot);
	return m->diffs ? IMC_EXIT_FAIL : IMC_EXIT_OK;
}
