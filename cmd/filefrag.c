// SPDX-License-Identifier: GPL-2.0
/* filefrag.c - `fiemap --filefrag`: extents in the format of `filefrag -v`
 * (e2fsprogs 1.47), in filesystem blocks, for scripts that parse it. */
#include <string.h>
#include <sys/vfs.h>
#include <linux/fiemap.h>

#include "cmd.h"

static int digits(uint64_t v)
{
	int d = 1;

	while (v >= 10) {
		v /= 10;
		d++;
	}
	return d;
}

/* The flag words of @e, comma-separated, at @p; returns the end. */
static char *flag_words(char *p, const struct fiemap_extent *e, loff_t size)
{
	static const struct {
		uint32_t flag;
		const char *word;
	} words[] = {
		{ FIEMAP_EXTENT_LAST, "last" },
		{ FIEMAP_EXTENT_UNKNOWN, "unknown_loc" },
		{ FIEMAP_EXTENT_DELALLOC, "delalloc" },
		{ FIEMAP_EXTENT_ENCODED, "encoded" },
		{ FIEMAP_EXTENT_DATA_ENCRYPTED, "encrypted" },
		{ FIEMAP_EXTENT_NOT_ALIGNED, "not_aligned" },
		{ FIEMAP_EXTENT_DATA_INLINE, "inline" },
		{ FIEMAP_EXTENT_DATA_TAIL, "tail_packed" },
		{ FIEMAP_EXTENT_UNWRITTEN, "unwritten" },
		{ FIEMAP_EXTENT_MERGED, "merged" },
		{ FIEMAP_EXTENT_SHARED, "shared" },
	};
	char *start = p;

	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		if (!(e->fe_flags & words[i].flag))
			continue;
		*p = p == start ? ' ' : ',';
		p = imc_fmt_str(p + 1, words[i].word);
	}
	/* The pseudo-flag filefrag adds when the extent reaches i_size. */
	if (e->fe_logical + e->fe_length >= (uint64_t)size) {
		*p = p == start ? ' ' : ',';
		p = imc_fmt_str(p + 1, "eof");
	}
	return p;
}

/* Filesystem magic and size in blocks: the host's, or ext's for images. */
static void fs_info(const struct imc_file *f, unsigned long *magic,
		    uint64_t *blocks)
{
	struct statfs sfs;

	*magic = 0xef53;
	*blocks = 0;
	if (f->host_fd >= 0 && fstatfs(f->host_fd, &sfs) == 0) {
		*magic = (unsigned long)sfs.f_type;
		*blocks = sfs.f_blocks;
	}
}

void imc_filefrag_begin(struct imc_filefrag *ff, struct imc_ctx *ctx,
			const struct imc_file *f, struct imc_wbuf *w)
{
	unsigned int bits = (unsigned int)__builtin_ctz(f->blksize);
	uint64_t nblocks = ((uint64_t)f->size + f->blksize - 1) >> bits;
	unsigned long magic;
	uint64_t fsblocks;

	*ff = (struct imc_filefrag){ .ctx = ctx, .w = w, .f = f, .bits = bits };
	fs_info(f, &magic, &fsblocks);
	ff->lw = digits(nblocks) + 1 > 8 ? digits(nblocks) + 1 : 8;
	ff->pw = digits(fsblocks) + 2 > 10 ? digits(fsblocks) + 2 : 10;
	fprintf(ctx->out, "Filesystem type is: %lx\nFile size of %s is %lld "
		"(%llu block%s of %u bytes)\n", magic, f->name,
		(long long)f->size, (unsigned long long)nblocks,
		nblocks == 1 ? "" : "s", f->blksize);
}

/* One row: "%4zu: %*llu..%*llu: %*llu..%*llu: %6llu:" then expected. */
static void filefrag_row(struct imc_filefrag *ff, const struct fiemap_extent *e)
{
	uint64_t l = e->fe_logical >> ff->bits, p = e->fe_physical >> ff->bits;
	uint64_t len = e->fe_length >> ff->bits;
	/* Where this extent would be if the file were contiguous. */
	uint64_t expected = ff->pend + (l - ff->lend);
	bool shown = ff->i == 0 ? l != 0 : p != expected && p != ff->pend;
	char *q = imc_wbuf_room(ff->w, 512);

	if (ff->i == 0 || shown)
		ff->count++;
	q = imc_fmt_u64_col(q, ff->i, 4);
	*q++ = ':';
	*q++ = ' ';
	q = imc_fmt_u64_col(q, l, ff->lw);
	q = imc_fmt_str(q, "..");
	q = imc_fmt_u64_col(q, l + len - 1, ff->lw);
	*q++ = ':';
	*q++ = ' ';
	q = imc_fmt_u64_col(q, p, ff->pw);
	q = imc_fmt_str(q, "..");
	q = imc_fmt_u64_col(q, p + len - 1, ff->pw);
	*q++ = ':';
	*q++ = ' ';
	q = imc_fmt_u64_col(q, len, 6);
	*q++ = ':';
	*q++ = ' ';
	if (shown) {
		q = imc_fmt_u64_col(q, expected, ff->pw);
		*q++ = ':';
	} else {
		memset(q, ' ', (size_t)ff->pw + 1);
		q += ff->pw + 1;
	}
	q = flag_words(q, e, ff->f->size);
	*q++ = '\n';
	imc_wbuf_put(ff->w, q);
	ff->pend = p + len;
	ff->lend = l + len;
	ff->i++;
}

void imc_filefrag_extents(struct imc_filefrag *ff,
			  const struct fiemap_extent *ext, size_t n)
{
	if (n && ff->i == 0)
		fprintf(ff->ctx->out, " ext: %*s %*s length: %*s flags:\n",
			ff->lw * 2 + 3, "logical_offset:", ff->pw * 2 + 3,
			"physical_offset:", ff->pw + 1, "expected:");
	for (size_t i = 0; i < n; i++)
		filefrag_row(ff, &ext[i]);
}

void imc_filefrag_end(struct imc_filefrag *ff)
{
	imc_wbuf_flush(ff->w);
	fprintf(ff->ctx->out, "%s: %d extent%s found\n", ff->f->name, ff->count,
		ff->count == 1 ? "" : "s");
}
