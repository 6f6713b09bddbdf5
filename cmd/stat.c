// SPDX-License-Identifier: GPL-2.0
/* stat.c - `stat`: an inode's attributes and a summary of its mapping. */
#include <errno.h>
#include <string.h>
#include <time.h>
#include <linux/fiemap.h>

#include "cmd.h"

#define STAT_BATCH 64

struct stat_summary {
	uint64_t extents;
	uint64_t mapped; /* bytes in extents */
	uint64_t unwritten; /* bytes in unwritten extents */
};

static void stat_help(FILE *out)
{
	fputs("\nShows the inode of FILE (a host file or IMAGE:PATH): size, "
	      "blocks, mode, owner,\ntimes, and for regular files a mapping "
	      "summary (extents, mapped and unwritten\nbytes).\n\n"
	      "  --json   {file, ino, type, mode, nlink, uid, gid, size, "
	      "blocks, block_size,\n           atime, mtime, ctime, "
	      "extents, mapped_bytes, unwritten_bytes}\n"
	      "           (times in seconds since the epoch, with fractions)\n\n"
	      "Examples:\n  iomapctl stat disk.img:/etc/passwd\n"
	      "  iomapctl stat --json ./host-file\n",
	      out);
}

static const char *type_name(uint32_t mode)
{
	switch (mode & S_IFMT) {
	case S_IFREG: return "regular file";
	case S_IFDIR: return "directory";
	case S_IFLNK: return "symbolic link";
	case S_IFCHR: return "character device";
	case S_IFBLK: return "block device";
	case S_IFIFO: return "fifo";
	case S_IFSOCK: return "socket";
	default: return "unknown";
	}
}

/* Walks FIEMAP in batches to count extents; the file may have any number. */
static int summarise(struct imc_ctx *ctx, struct imc_file *f,
		     struct stat_summary *s)
{
	struct fiemap_extent ext[STAT_BATCH];
	uint64_t pos = 0;

	memset(s, 0, sizeof(*s));
	while (pos < (uint64_t)f->size) {
		unsigned int n = 0;
		int ret = imc_file_fiemap(ctx, f, 0, pos, UINT64_MAX - pos, ext,
					  STAT_BATCH, &n);

		if (ret)
			return ret;
		for (unsigned int i = 0; i < n; i++) {
			s->extents++;
			s->mapped += ext[i].fe_length;
			if (ext[i].fe_flags & FIEMAP_EXTENT_UNWRITTEN)
				s->unwritten += ext[i].fe_length;
		}
		if (n == 0 || (ext[n - 1].fe_flags & FIEMAP_EXTENT_LAST) ||
		    ext[n - 1].fe_logical + ext[n - 1].fe_length <= pos)
			break;
		pos = ext[n - 1].fe_logical + ext[n - 1].fe_length;
	}
	return 0;
}

static void print_time(FILE *out, const char *label, struct timespec ts)
{
	char buf[64];
	struct tm tm;
	time_t t = ts.tv_sec;

	localtime_r(&t, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S", &tm);
	fprintf(out, "%s: %s.%09ld\n", label, buf, ts.tv_nsec);
}

static double ts_secs(struct timespec ts)
{
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void stat_json(struct imc_ctx *ctx, const struct imc_file *f,
		      const struct fsa_stat *st, const struct stat_summary *s)
{
	struct imc_json j;

	imc_json_init(&j, ctx->out);
	imc_json_obj_begin(&j, NULL);
	imc_json_str(&j, "file", f->name);
	imc_json_u64(&j, "ino", st->ino);
	imc_json_str(&j, "type", type_name(st->mode));
	imc_json_u64(&j, "mode", st->mode & 07777);
	imc_json_u64(&j, "nlink", st->nlink);
	imc_json_u64(&j, "uid", st->uid);
	imc_json_u64(&j, "gid", st->gid);
	imc_json_i64(&j, "size", st->size);
	imc_json_u64(&j, "blocks", st->blocks);
	imc_json_u64(&j, "block_size", f->blksize);
	imc_json_double(&j, "atime", ts_secs(st->atime));
	imc_json_double(&j, "mtime", ts_secs(st->mtime));
	imc_json_double(&j, "ctime", ts_secs(st->ctime));
	if (s) {
		imc_json_u64(&j, "extents", s->extents);
		imc_json_u64(&j, "mapped_bytes", s->mapped);
		imc_json_u64(&j, "unwritten_bytes", s->unwritten);
	}
	imc_json_obj_end(&j);
	imc_json_end(&j);
}

static void stat_text(struct imc_ctx *ctx, const struct imc_file *f,
		      const struct fsa_stat *st, const struct stat_summary *s)
{
	FILE *out = ctx->out;

	fprintf(out, "  File: %s\n  Size: %lld\tBlocks: %llu\tIO Block: %u\t%s\n",
		f->name, (long long)st->size, (unsigned long long)st->blocks,
		f->blksize, type_name(st->mode));
	fprintf(out, " Inode: %llu\tLinks: %u\n", (unsigned long long)st->ino,
		st->nlink);
	fprintf(out, "Access: (%04o)\tUid: %u\tGid: %u\n", st->mode & 07777,
		st->uid, st->gid);
	print_time(out, "Access", st->atime);
	print_time(out, "Modify", st->mtime);
	print_time(out, "Change", st->ctime);
	if (s)
		fprintf(out, "Extents: %llu\tMapped: %llu\tUnwritten: %llu\n",
			(unsigned long long)s->extents,
			(unsigned long long)s->mapped,
			(unsigned long long)s->unwritten);
}

static int cmd_stat(struct imc_ctx *ctx, int argc, char **argv)
{
	struct stat_summary sum, *s = NULL;
	struct fsa_stat st;
	struct imc_file f;
	int ret;

	while (imc_getopt(argc, argv, &imc_cmd_stat) != -1)
		;
	ret = imc_file_open(ctx, argv[optind], &f);
	if (ret)
		return ret;
	ret = imc_file_stat(&f, &st);
	if (ret) {
		imc_file_close(&f);
		return imc_err(ctx, f.name, ret);
	}
	/* A mapping summary only where mappings mean data. */
	if (S_ISREG(st.mode) && summarise(ctx, &f, &sum) == 0)
		s = &sum;
	if (ctx->json)
		stat_json(ctx, &f, &st, s);
	else if (!ctx->quiet)
		stat_text(ctx, &f, &st, s);
	imc_file_close(&f);
	return IMC_EXIT_OK;
}

const struct imc_cmd imc_cmd_stat = {
	.name = "stat",
	.args = "FILE",
	.oneline = "show an inode: size, blocks, mode, times, mapping summary",
	.help = stat_help,
	.fn = cmd_stat,
	.argmin = 1,
	.argmax = 1,
	.flags = IMC_CMD_SEES_CACHE,
	.shortopts = "",
	.complete = 'f',
};
