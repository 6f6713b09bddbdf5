// SPDX-License-Identifier: GPL-2.0
/* fiemap.c - `fiemap`: extents of a host or image file, in xfs_io's format. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <linux/fiemap.h>

#include "cmd.h"

/* xfs_io maps 32 extents per call and sizes its columns from the first 32;
 * each batch is printed before the next is mapped. */
#define FIEMAP_BATCH 32

enum { OPT_XATTR = 0x200, OPT_SYNC, OPT_FILEFRAG };

static const struct option fiemap_longopts[] = {
	{ "xattr", no_argument, NULL, OPT_XATTR },
	{ "sync", no_argument, NULL, OPT_SYNC },
	{ "length", no_argument, NULL, 'l' },
	{ "filefrag", no_argument, NULL, OPT_FILEFRAG },
	{ NULL, 0, NULL, 0 },
};

/* What is printed, as the extents stream by a batch at a time. */
struct fiemap_out {
	struct imc_ctx *ctx;
	const struct imc_file *f;
	const char *name;
	uint64_t start, end; /* the range asked, end exclusive */
	bool lflag;
	bool filefrag;
	int foff_w, boff_w, tot_w, flg_w;
	int row;
	uint64_t last; /* end of the last extent printed, bytes */
	bool stop; /* an extent reached the range's end */
	struct imc_json j;
	struct imc_filefrag ff;
	struct imc_wbuf w; /* the rows of the table and of --filefrag */
};

static void fiemap_help(FILE *out)
{
	fputs("\nPrints the extents of FILE (a host file through the kernel's "
	      "FIEMAP, or\nIMAGE:PATH through the engine), with holes, in "
	      "512-byte units like\n`xfs_io -c fiemap`.\n\n"
	      "  -v, --verbose  table with FLAGS (byte-identical to "
	      "`xfs_io -c 'fiemap -v'`)\n"
	      "  -l, --length   plain form: also print each row's length\n"
	      "  --xattr        map the extended-attribute block instead\n"
	      "  --sync         write dirty data back before mapping\n"
	      "  --filefrag     `filefrag -v` format instead, in filesystem "
	      "blocks\n"
	      "  --json         bytes: {file, size, block_size, extents: "
	      "[{logical, physical,\n                 length, flags}]}\n"
	      "  OFFSET LENGTH  limit the range (suffixes k m g t s)\n\n"
	      "Examples:\n  iomapctl fiemap -v disk.img:/var/log/big\n"
	      "  iomapctl fiemap --json --mapper=bh disk.img:/file\n",
	      out);
}

static int numlen(uint64_t v, unsigned int base)
{
	int len = 1;

	while (v >= base) {
		v /= base;
		len++;
	}
	return len;
}

static int imax(int a, int b)
{
	return a > b ? a : b;
}

/* xfs_io sizes its columns from the first batch of extents. */
static void calc_widths(struct fiemap_out *o, const struct fiemap_extent *ext,
			size_t n)
{
	char buf[64];

	o->foff_w = o->boff_w = 16;
	o->tot_w = o->flg_w = 5;
	for (size_t i = 0; i < n && i < FIEMAP_BATCH; i++) {
		const struct fiemap_extent *e = &ext[i];
		uint64_t l = e->fe_logical >> 9, b = e->fe_physical >> 9;
		uint64_t len = e->fe_length >> 9;

		o->foff_w = imax(o->foff_w, snprintf(buf, sizeof(buf),
				 "[%llu..%llu]", (unsigned long long)l,
				 (unsigned long long)(l + len - 1)));
		o->boff_w = imax(o->boff_w, snprintf(buf, sizeof(buf),
				 "%llu..%llu", (unsigned long long)b,
				 (unsigned long long)(b + len - 1)));
		o->tot_w = imax(o->tot_w, numlen(len, 10));
		o->flg_w = imax(o->flg_w, numlen(e->fe_flags, 16));
		if (e->fe_flags & FIEMAP_EXTENT_LAST)
			break;
	}
}

/* "[FROM..TO]" (with ':' after it when @colon) at @p. */
static char *fmt_range(char *p, uint64_t from, uint64_t to, bool colon)
{
	*p++ = '[';
	p = imc_fmt_u64(p, from);
	*p++ = '.';
	*p++ = '.';
	p = imc_fmt_u64(p, to);
	*p++ = ']';
	if (colon)
		*p++ = ':';
	return p;
}

/* The start of a row, "\tROW: [FROM..TO]: " or "ROW: [FROM..TO]: "
 * padded to the column, at @p. */
static char *row_start(struct fiemap_out *o, char *p, bool verbose,
		       uint64_t from, uint64_t to)
{
	char buf[64];

	if (!verbose) {
		*p++ = '\t';
		p = imc_fmt_i64(p, o->row);
		*p++ = ':';
		*p++ = ' ';
		p = fmt_range(p, from, to, true);
	} else {
		p = imc_fmt_col(p, buf, imc_fmt_i64(buf, o->row), 4, false);
		*p++ = ':';
		*p++ = ' ';
		p = imc_fmt_col(p, buf, fmt_range(buf, from, to, true),
				o->foff_w, true);
	}
	*p++ = ' ';
	return p;
}

/* The end of a plain row: " LEN blocks" with -l, and the newline. */
static char *row_end(struct fiemap_out *o, char *p, uint64_t len)
{
	if (o->lflag) {
		*p++ = ' ';
		p = imc_fmt_u64(p, len);
		p = imc_fmt_str(p, " blocks");
	}
	*p++ = '\n';
	return p;
}

/* A hole row from sector @from up to (not including) sector @to. */
static void print_hole(struct fiemap_out *o, bool verbose, uint64_t from,
		       uint64_t to)
{
	char *row = imc_wbuf_room(&o->w, 256);
	char *p = row_start(o, row, verbose, from, to - 1);

	if (!verbose) {
		p = row_end(o, imc_fmt_str(p, "hole"), to - from);
	} else {
		p = imc_fmt_col(p, "hole", "hole" + 4, o->boff_w, true);
		*p++ = ' ';
		p = imc_fmt_u64_col(p, to - from, o->tot_w);
		*p++ = '\n';
	}
	imc_wbuf_put(&o->w, p);
	o->row++;
}

static void print_extent(struct fiemap_out *o, bool verbose,
			 const struct fiemap_extent *e)
{
	uint64_t l = e->fe_logical >> 9, b = e->fe_physical >> 9;
	uint64_t len = e->fe_length >> 9;
	char *row = imc_wbuf_room(&o->w, 256), buf[64], *q = buf;
	char *p = row_start(o, row, verbose, l, l + len - 1);

	q = imc_fmt_u64(q, b);
	*q++ = '.';
	*q++ = '.';
	q = imc_fmt_u64(q, b + len - 1);
	if (!verbose) {
		p = row_end(o, imc_fmt_col(p, buf, q, 0, true), len);
	} else {
		p = imc_fmt_col(p, buf, q, o->boff_w, true);
		*p++ = ' ';
		p = imc_fmt_u64_col(p, len, o->tot_w);
		*p++ = ' ';
		q = imc_fmt_hex(imc_fmt_str(buf, "0x"), e->fe_flags);
		p = imc_fmt_col(p, buf, q, o->flg_w, false);
		*p++ = '\n';
	}
	imc_wbuf_put(&o->w, p);
	o->row++;
}

static void text_extents(struct fiemap_out *o, const struct fiemap_extent *ext,
			 size_t n)
{
	bool v = o->ctx->verbose;

	for (size_t i = 0; i < n && !o->stop; i++) {
		const struct fiemap_extent *e = &ext[i];

		if (v && o->row == 0)
			fprintf(o->ctx->out, "%4s: %-*s %-*s %*s %*s\n", "EXT",
				o->foff_w, "FILE-OFFSET", o->boff_w,
				"BLOCK-RANGE", o->tot_w, "TOTAL", o->flg_w,
				"FLAGS");
		if ((e->fe_logical >> 9) > (o->last >> 9))
			print_hole(o, v, o->last >> 9, e->fe_logical >> 9);
		print_extent(o, v, e);
		o->last = e->fe_logical + e->fe_length;
		o->stop = o->last >= o->end;
	}
}

/* The hole from the last extent to EOF (or the range's end). */
static void text_end(struct fiemap_out *o)
{
	uint64_t end = o->end < (uint64_t)o->f->size ? o->end :
						       (uint64_t)o->f->size;

	if (o->row && o->last < end)
		print_hole(o, o->ctx->verbose, o->last >> 9, end >> 9);
	imc_wbuf_flush(&o->w);
}

static const char *const fiemap_flag_names[] = {
	"last", "unknown", "delalloc", "encoded", NULL, NULL, NULL,
	"data_encrypted", "not_aligned", "data_inline", "data_tail",
	"unwritten", "merged", "shared",
};

static void json_begin(struct fiemap_out *o)
{
	imc_json_init(&o->j, o->ctx->out);
	imc_json_obj_begin(&o->j, NULL);
	imc_json_str(&o->j, "file", o->name);
	imc_json_i64(&o->j, "size", o->f->size);
	imc_json_u64(&o->j, "block_size", o->f->blksize);
	imc_json_arr_begin(&o->j, "extents");
}

static void json_extents(struct fiemap_out *o, const struct fiemap_extent *ext,
			 size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const struct fiemap_extent *e = &ext[i];

		imc_json_obj_begin(&o->j, NULL);
		imc_json_u64(&o->j, "logical", e->fe_logical);
		imc_json_u64(&o->j, "physical", e->fe_physical);
		imc_json_u64(&o->j, "length", e->fe_length);
		imc_json_arr_begin(&o->j, "flags");
		for (unsigned int b = 0; b < 14; b++)
			if ((e->fe_flags & (1U << b)) && fiemap_flag_names[b])
				imc_json_str(&o->j, NULL, fiemap_flag_names[b]);
		imc_json_arr_end(&o->j);
		imc_json_obj_end(&o->j);
	}
}

static void json_end(struct fiemap_out *o)
{
	imc_json_arr_end(&o->j);
	imc_json_obj_end(&o->j);
	imc_json_end(&o->j);
}

/* How the extents are printed: --json, --filefrag, the table. */
struct fiemap_fmt {
	void (*begin)(struct fiemap_out *o);
	void (*extents)(struct fiemap_out *o, const struct fiemap_extent *ext,
			size_t n);
	void (*end)(struct fiemap_out *o);
};

static void filefrag_begin(struct fiemap_out *o)
{
	imc_filefrag_begin(&o->ff, o->ctx, o->f, &o->w);
}

static void filefrag_extents(struct fiemap_out *o,
			     const struct fiemap_extent *ext, size_t n)
{
	imc_filefrag_extents(&o->ff, ext, n);
}

static void filefrag_end(struct fiemap_out *o)
{
	imc_filefrag_end(&o->ff);
}

static void text_begin(struct fiemap_out *o)
{
	fprintf(o->ctx->out, "%s:\n", o->name);
	o->last = o->start;
}

static void quiet_extents(struct fiemap_out *o, const struct fiemap_extent *ext,
			  size_t n)
{
	(void)o;
	(void)ext;
	(void)n;
}

static void quiet_mark(struct fiemap_out *o)
{
	(void)o;
}

static const struct fiemap_fmt fiemap_json = { json_begin, json_extents,
					       json_end };
static const struct fiemap_fmt fiemap_filefrag = { filefrag_begin,
						   filefrag_extents,
						   filefrag_end };
static const struct fiemap_fmt fiemap_text = { text_begin, text_extents,
					       text_end };
static const struct fiemap_fmt fiemap_quiet = { quiet_mark, quiet_extents,
						quiet_mark };

/*
 * Map [start, end) a batch at a time and print each batch as it comes:
 * memory stays the same whatever the number of extents.
 */
static int walk(struct imc_ctx *ctx, struct imc_file *f, uint32_t flags,
		struct fiemap_out *o, const struct fiemap_fmt *fmt)
{
	struct fiemap_extent ext[FIEMAP_BATCH];
	uint64_t pos = o->start;
	bool first = true;

	fmt->begin(o);
	while (pos < o->end) {
		const struct fiemap_extent *last;
		unsigned int n = 0;
		int ret = imc_file_fiemap(ctx, f, flags, pos, o->end - pos, ext,
					  FIEMAP_BATCH, &n);

		if (ret)
			return ret;
		if (n == 0)
			break;
		if (first)
			calc_widths(o, ext, n);
		first = false;
		fmt->extents(o, ext, n);
		last = &ext[n - 1];
		if (last->fe_flags & FIEMAP_EXTENT_LAST)
			break;
		/* A batch that does not move forward would loop forever. */
		if (last->fe_logical + last->fe_length <= pos)
			return -EIO;
		pos = last->fe_logical + last->fe_length;
	}
	fmt->end(o);
	return 0;
}

static int parse_range(struct imc_ctx *ctx, int argc, char **argv,
		       struct fiemap_out *o)
{
	uint64_t len = UINT64_MAX;
	int ret;

	o->start = 0;
	if (argc > 0 && (ret = imc_arg_size(ctx, "offset", argv[0], &o->start)))
		return ret;
	if (argc > 1 && (ret = imc_arg_size(ctx, "length", argv[1], &len)))
		return ret;
	if (len == 0) {
		fprintf(ctx->err, "iomapctl: fiemap: length must not be 0\n");
		return IMC_EXIT_USAGE;
	}
	o->end = len > UINT64_MAX - o->start ? UINT64_MAX : o->start + len;
	return IMC_EXIT_OK;
}

static int cmd_fiemap(struct imc_ctx *ctx, int argc, char **argv)
{
	struct fiemap_out o = { .ctx = ctx };
	const struct fiemap_fmt *fmt = &fiemap_text;
	struct imc_file f;
	uint32_t flags = 0;
	int c, ret;

	while ((c = imc_getopt(argc, argv, &imc_cmd_fiemap)) != -1) {
		if (c == OPT_XATTR)
			flags |= FIEMAP_FLAG_XATTR;
		else if (c == OPT_SYNC)
			flags |= FIEMAP_FLAG_SYNC;
		else if (c == 'l')
			o.lflag = true;
		else if (c == OPT_FILEFRAG)
			o.filefrag = true;
	}
	ret = parse_range(ctx, argc - optind - 1, argv + optind + 1, &o);
	if (ret)
		return ret;
	o.name = argv[optind];
	ret = imc_file_open(ctx, o.name, &f);
	if (ret)
		return ret;
	o.f = &f;
	if (ctx->json)
		fmt = &fiemap_json;
	else if (ctx->quiet)
		fmt = &fiemap_quiet;
	else if (o.filefrag)
		fmt = &fiemap_filefrag;
	o.w.out = ctx->out;
	ret = walk(ctx, &f, flags, &o, fmt);
	if (ret) {
		imc_wbuf_flush(&o.w);
		fflush(ctx->out);
		ret = imc_err(ctx, o.name, ret);
	}
	imc_file_close(&f);
	return ret;
}

const struct imc_cmd imc_cmd_fiemap = {
	.name = "fiemap",
	.args = "[-v] [-l] [--filefrag] [--xattr] [--sync] FILE [OFFSET [LENGTH]]",
	.oneline = "print the extents (and holes) of a file",
	.help = fiemap_help,
	.fn = cmd_fiemap,
	.argmin = 1,
	.argmax = 3,
	.flags = IMC_CMD_SEES_CACHE,
	.shortopts = "l",
	.longopts = fiemap_longopts,
	.complete = 'f',
};
