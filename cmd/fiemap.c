// SPDX-License-Identifier: GPL-2.0
/* fiemap.c - `fiemap`: extents of a host or image file, in xfs_io's format. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <linux/fiemap.h>

#include "cmd.h"

/* filefrag.c */
void imc_print_filefrag(struct imc_ctx *ctx, const struct imc_file *f,
			const struct fiemap_extent *ext, size_t n);

/* xfs_io maps 32 extents per call and sizes its columns from the first 32. */
#define FIEMAP_BATCH 32

enum { OPT_XATTR = 0x200, OPT_SYNC, OPT_FILEFRAG };

static const struct option fiemap_longopts[] = {
	{ "xattr", no_argument, NULL, OPT_XATTR },
	{ "sync", no_argument, NULL, OPT_SYNC },
	{ "length", no_argument, NULL, 'l' },
	{ "filefrag", no_argument, NULL, OPT_FILEFRAG },
	{ NULL, 0, NULL, 0 },
};

struct fiemap_out {
	const char *name;
	struct fiemap_extent *ext;
	size_t n, cap;
	uint64_t start, end; /* the range asked, end exclusive */
	bool lflag;
	bool filefrag;
	int foff_w, boff_w, tot_w, flg_w;
	int row;
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

static int collect(struct imc_ctx *ctx, struct imc_file *f, uint32_t flags,
		   struct fiemap_out *o)
{
	uint64_t pos = o->start;

	while (pos < o->end) {
		struct fiemap_extent *last;
		unsigned int n = 0;
		int ret;

		if (o->n + FIEMAP_BATCH > o->cap) {
			size_t cap = o->cap * 2 + FIEMAP_BATCH;
			void *p = realloc(o->ext, cap * sizeof(*o->ext));

			if (!p)
				return -ENOMEM;
			o->ext = p;
			o->cap = cap;
		}
		ret = imc_file_fiemap(ctx, f, flags, pos, o->end - pos,
				      o->ext + o->n, FIEMAP_BATCH, &n);
		if (ret)
			return ret;
		if (n == 0)
			break;
		o->n += n;
		last = &o->ext[o->n - 1];
		if (last->fe_flags & FIEMAP_EXTENT_LAST)
			break;
		/* A batch that does not move forward would loop forever. */
		if (last->fe_logical + last->fe_length <= pos)
			return -EIO;
		pos = last->fe_logical + last->fe_length;
	}
	return 0;
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

static void calc_widths(struct fiemap_out *o)
{
	char buf[64];

	o->foff_w = o->boff_w = 16;
	o->tot_w = o->flg_w = 5;
	for (size_t i = 0; i < o->n && i < FIEMAP_BATCH; i++) {
		const struct fiemap_extent *e = &o->ext[i];
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

/* A hole row from sector @from up to (not including) sector @to. */
static void print_hole(FILE *out, struct fiemap_out *o, bool verbose,
		       uint64_t from, uint64_t to)
{
	char lbuf[64];

	if (!verbose) {
		fprintf(out, "\t%d: [%llu..%llu]: hole", o->row,
			(unsigned long long)from, (unsigned long long)(to - 1));
		if (o->lflag)
			fprintf(out, " %llu blocks\n",
				(unsigned long long)(to - from));
		else
			fputc('\n', out);
	} else {
		snprintf(lbuf, sizeof(lbuf), "[%llu..%llu]:",
			 (unsigned long long)from, (unsigned long long)(to - 1));
		fprintf(out, "%4d: %-*s %-*s %*llu\n", o->row, o->foff_w, lbuf,
			o->boff_w, "hole", o->tot_w,
			(unsigned long long)(to - from));
	}
	o->row++;
}

static void print_extent(FILE *out, struct fiemap_out *o, bool verbose,
			 const struct fiemap_extent *e)
{
	unsigned long long l = e->fe_logical >> 9, b = e->fe_physical >> 9;
	unsigned long long len = e->fe_length >> 9;
	char lbuf[64], bbuf[64], fbuf[16];

	if (!verbose) {
		fprintf(out, "\t%d: [%llu..%llu]: %llu..%llu", o->row, l,
			l + len - 1, b, b + len - 1);
		if (o->lflag)
			fprintf(out, " %llu blocks\n", len);
		else
			fputc('\n', out);
	} else {
		snprintf(lbuf, sizeof(lbuf), "[%llu..%llu]:", l, l + len - 1);
		snprintf(bbuf, sizeof(bbuf), "%llu..%llu", b, b + len - 1);
		snprintf(fbuf, sizeof(fbuf), "0x%x", e->fe_flags);
		fprintf(out, "%4d: %-*s %-*s %*llu %*s\n", o->row, o->foff_w,
			lbuf, o->boff_w, bbuf, o->tot_w, len, o->flg_w, fbuf);
	}
	o->row++;
}

static void print_text(struct imc_ctx *ctx, struct fiemap_out *o,
		       loff_t size)
{
	uint64_t last = o->start, end;
	bool v = ctx->verbose;

	fprintf(ctx->out, "%s:\n", o->name);
	if (v)
		calc_widths(o);
	for (size_t i = 0; i < o->n; i++) {
		const struct fiemap_extent *e = &o->ext[i];

		if (v && o->row == 0)
			fprintf(ctx->out, "%4s: %-*s %-*s %*s %*s\n", "EXT",
				o->foff_w, "FILE-OFFSET", o->boff_w,
				"BLOCK-RANGE", o->tot_w, "TOTAL", o->flg_w,
				"FLAGS");
		if ((e->fe_logical >> 9) > (last >> 9))
			print_hole(ctx->out, o, v, last >> 9,
				   e->fe_logical >> 9);
		print_extent(ctx->out, o, v, e);
		last = e->fe_logical + e->fe_length;
		if (last >= o->end)
			break;
	}
	/* The hole from the last extent to EOF (or the range's end). */
	end = o->end < (uint64_t)size ? o->end : (uint64_t)size;
	if (o->row && last < end)
		print_hole(ctx->out, o, v, last >> 9, end >> 9);
}

static const char *const fiemap_flag_names[] = {
	"last", "unknown", "delalloc", "encoded", NULL, NULL, NULL,
	"data_encrypted", "not_aligned", "data_inline", "data_tail",
	"unwritten", "merged", "shared",
};

static void print_json(struct imc_ctx *ctx, struct fiemap_out *o,
		       const struct imc_file *f)
{
	struct imc_json j;

	imc_json_init(&j, ctx->out);
	imc_json_obj_begin(&j, NULL);
	imc_json_str(&j, "file", o->name);
	imc_json_i64(&j, "size", f->size);
	imc_json_u64(&j, "block_size", f->blksize);
	imc_json_arr_begin(&j, "extents");
	for (size_t i = 0; i < o->n; i++) {
		const struct fiemap_extent *e = &o->ext[i];

		imc_json_obj_begin(&j, NULL);
		imc_json_u64(&j, "logical", e->fe_logical);
		imc_json_u64(&j, "physical", e->fe_physical);
		imc_json_u64(&j, "length", e->fe_length);
		imc_json_arr_begin(&j, "flags");
		for (unsigned int b = 0; b < 14; b++)
			if ((e->fe_flags & (1U << b)) && fiemap_flag_names[b])
				imc_json_str(&j, NULL, fiemap_flag_names[b]);
		imc_json_arr_end(&j);
		imc_json_obj_end(&j);
	}
	imc_json_arr_end(&j);
	imc_json_obj_end(&j);
	imc_json_end(&j);
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
	struct fiemap_out o = { 0 };
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
	ret = collect(ctx, &f, flags, &o);
	if (ret)
		ret = imc_err(ctx, o.name, ret);
	else if (ctx->json)
		print_json(ctx, &o, &f);
	else if (o.filefrag && !ctx->quiet)
		imc_print_filefrag(ctx, &f, o.ext, o.n);
	else if (!ctx->quiet)
		print_text(ctx, &o, f.size);
	imc_file_close(&f);
	free(o.ext);
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
	.shortopts = "l",
	.longopts = fiemap_longopts,
	.complete = 'f',
};
