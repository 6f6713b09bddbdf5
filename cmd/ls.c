// SPDX-License-Identifier: GPL-2.0
/* ls.c - `ls`: list a directory inside an image. */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd.h"

struct ls_entry {
	struct fsa_dirent de;
	struct fsa_stat st;
	char target[256];
};

struct ls_list {
	struct ls_entry *v;
	size_t n, cap;
};

static void ls_help(FILE *out)
{
	fputs("\nLists the directory IMAGE:DIR (sorted by name, without . and "
	      "..); a file is\nlisted alone.  Control characters in names "
	      "print as '?'.\n\n"
	      "  -l       long form: mode, links, owner, group, size, mtime, "
	      "name -> target\n"
	      "  -F       mark directories '/', symlinks '@', executables "
	      "'*'\n"
	      "  --json   {dir, entries: [{name, ino, type, mode, nlink, uid, "
	      "gid, size,\n           mtime, target?}]}\n\n"
	      "Examples:\n  iomapctl ls -l disk.img:/etc\n"
	      "  iomapctl ls --json disk.img:/\n",
	      out);
}

static int ls_collect(const struct fsa_dirent *de, void *priv)
{
	struct ls_list *l = priv;

	if (!strcmp(de->name, ".") || !strcmp(de->name, ".."))
		return 0;
	if (l->n == l->cap) {
		size_t cap = l->cap * 2 + 16;
		void *p = realloc(l->v, cap * sizeof(*l->v));

		if (!p)
			return -ENOMEM;
		l->v = p;
		l->cap = cap;
	}
	memset(&l->v[l->n], 0, sizeof(l->v[l->n]));
	l->v[l->n++].de = *de;
	return 0;
}

static int ls_cmp(const void *a, const void *b)
{
	return strcmp(((const struct ls_entry *)a)->de.name,
		      ((const struct ls_entry *)b)->de.name);
}

static void mode_string(uint32_t mode, char *buf)
{
	static const char types[] = "?pc?d?b?-?l?s???";
	static const char rwx[] = "rwxrwxrwx";

	buf[0] = types[(mode >> 12) & 15];
	for (int i = 0; i < 9; i++)
		buf[i + 1] = (mode & (0400U >> i)) ? rwx[i] : '-';
	buf[10] = '\0';
}

/* A name made safe for a terminal: control bytes become '?'. */
static void put_name(FILE *out, const char *name)
{
	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		fputc(*p < 0x20 || *p == 0x7f ? '?' : *p, out);
}

/* ls -F: what kind of entry, as a suffix. */
static const char *classify(uint32_t mode)
{
	if (S_ISDIR(mode))
		return "/";
	if (S_ISLNK(mode))
		return "@";
	if (S_ISREG(mode) && (mode & 0111))
		return "*";
	return "";
}

static void ls_text(struct imc_ctx *ctx, const struct ls_list *l, bool lflag,
		    bool fflag)
{
	for (size_t i = 0; i < l->n; i++) {
		const struct ls_entry *e = &l->v[i];
		char mode[11], when[32];
		struct tm tm;
		time_t t = e->st.mtime.tv_sec;

		if (lflag) {
			mode_string(e->st.mode, mode);
			localtime_r(&t, &tm);
			strftime(when, sizeof(when), "%Y-%m-%d %H:%M", &tm);
			fprintf(ctx->out, "%s %3u %5u %5u %10lld %s ", mode,
				e->st.nlink, e->st.uid, e->st.gid,
				(long long)e->st.size, when);
		}
		put_name(ctx->out, e->de.name);
		if (fflag)
			fputs(classify(e->st.mode), ctx->out);
		if (lflag && e->target[0]) {
			fputs(" -> ", ctx->out);
			put_name(ctx->out, e->target);
		}
		fputc('\n', ctx->out);
	}
}

static void ls_json(struct imc_ctx *ctx, const char *dir,
		    const struct ls_list *l)
{
	struct imc_json j;

	imc_json_init(&j, ctx->out);
	imc_json_obj_begin(&j, NULL);
	imc_json_str(&j, "dir", dir);
	imc_json_arr_begin(&j, "entries");
	for (size_t i = 0; i < l->n; i++) {
		const struct ls_entry *e = &l->v[i];
		char mode[11];

		mode_string(e->st.mode, mode);
		imc_json_obj_begin(&j, NULL);
		imc_json_str(&j, "name", e->de.name);
		imc_json_u64(&j, "ino", e->de.ino);
		imc_json_str(&j, "type", mode);
		imc_json_u64(&j, "mode", e->st.mode & 07777);
		imc_json_u64(&j, "nlink", e->st.nlink);
		imc_json_u64(&j, "uid", e->st.uid);
		imc_json_u64(&j, "gid", e->st.gid);
		imc_json_i64(&j, "size", e->st.size);
		imc_json_i64(&j, "mtime", e->st.mtime.tv_sec);
		if (e->target[0])
			imc_json_str(&j, "target", e->target);
		imc_json_obj_end(&j);
	}
	imc_json_arr_end(&j);
	imc_json_obj_end(&j);
	imc_json_end(&j);
}

/* Fills stat (and symlink targets) of every entry. */
static int ls_stat_all(struct fsa_fs *fs, struct ls_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		struct ls_entry *e = &l->v[i];
		int ret = fs->ops->stat(fs, e->de.ino, &e->st);

		if (ret)
			return ret;
		if (S_ISLNK(e->st.mode) && fs->ops->readlink &&
		    fs->ops->readlink(fs, e->de.ino, e->target,
				      sizeof(e->target)) < 0)
			e->target[0] = '\0';
	}
	return 0;
}

static int ls_read(struct imc_ctx *ctx, const struct imc_spec *sp,
		   struct ls_list *l, const char **what)
{
	struct fsa_stat st;
	uint64_t ino;
	int ret;

	*what = sp->image;
	ret = imc_fs_open(ctx, sp->image, false);
	if (ret)
		return ret;
	*what = sp->path;
	ret = ctx->fs->ops->lookup(ctx->fs, sp->path, &ino);
	if (!ret)
		ret = ctx->fs->ops->stat(ctx->fs, ino, &st);
	if (ret)
		return ret;
	if (S_ISDIR(st.mode)) {
		ret = ctx->fs->ops->readdir(ctx->fs, ino, ls_collect, l);
	} else {
		struct fsa_dirent de = { .ino = ino };
		const char *base = strrchr(sp->path, '/');

		snprintf(de.name, sizeof(de.name), "%s", base ? base + 1 : "");
		ret = ls_collect(&de, l);
	}
	if (!ret)
		ret = ls_stat_all(ctx->fs, l);
	return ret;
}

static int cmd_ls(struct imc_ctx *ctx, int argc, char **argv)
{
	struct ls_list l = { 0 };
	struct imc_spec sp;
	const char *what;
	bool lflag = false, fflag = false;
	int c, ret;

	while ((c = imc_getopt(argc, argv, &imc_cmd_ls)) != -1) {
		if (c == 'l')
			lflag = true;
		else if (c == 'F')
			fflag = true;
	}
	/* In the shell a bare `ls` lists the current directory. */
	ret = imc_spec_parse(ctx, optind < argc ? argv[optind] : ".", &sp);
	if (ret)
		return ret;
	if (!sp.image) {
		fprintf(ctx->err, "iomapctl: ls: %s: give IMAGE:DIR (ls lists "
			"directories inside images)\n", sp.path);
		imc_spec_free(&sp);
		return IMC_EXIT_USAGE;
	}
	ret = ls_read(ctx, &sp, &l, &what);
	if (ret) {
		ret = imc_err(ctx, what, ret);
	} else {
		if (l.n) /* an empty directory has no array to sort */
			qsort(l.v, l.n, sizeof(*l.v), ls_cmp);
		if (ctx->json)
			ls_json(ctx, sp.path, &l);
		else
			ls_text(ctx, &l, lflag || ctx->verbose, fflag);
	}
	free(l.v);
	imc_spec_free(&sp);
	return ret;
}

const struct imc_cmd imc_cmd_ls = {
	.name = "ls",
	.args = "[-l] [-F] IMAGE:DIR",
	.oneline = "list a directory inside an image",
	.help = ls_help,
	.fn = cmd_ls,
	.argmin = 0,
	.argmax = 1,
	.flags = IMC_CMD_NEEDS_FS | IMC_CMD_SEES_CACHE,
	.shortopts = "lF",
	.complete = 'f',
};
