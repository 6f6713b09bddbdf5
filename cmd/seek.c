// SPDX-License-Identifier: GPL-2.0
/* seek.c - `seek`: SEEK_DATA / SEEK_HOLE, printed like `xfs_io -c seek`. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"

#define SEEK_F_DATA (1U << 0)
#define SEEK_F_HOLE (1U << 1)
#define SEEK_F_REPEAT (1U << 2)

static const char *const seek_names[2] = { "DATA", "HOLE" };
static const int seek_whence[2] = { SEEK_DATA, SEEK_HOLE };

static void seek_help(FILE *out)
{
	fputs("\nPrints the next data and/or hole at or after OFFSET. There is "
	      "an implied hole\nat the end of the file; with no data after "
	      "OFFSET, EOF is printed.\n\n"
	      "  -d       next data\n  -h       next hole\n"
	      "  -a       next data and next hole\n"
	      "  -r       repeat to the end of the file (with -a: every "
	      "segment)\n  -s       also print the start offset\n"
	      "  --json   {file, segments: [{type: DATA|HOLE, offset}]}\n\n"
	      "Examples:\n  iomapctl seek -a -r disk.img:/sparse 0\n"
	      "  iomapctl seek -d ./host-file 1m\n",
	      out);
}

struct seek_out {
	struct imc_ctx *ctx;
	struct imc_json j;
	bool startflag;
};

/* One result row; @off < 0 is an errno (-ENXIO prints EOF). */
static int seek_row(struct seek_out *so, int cur, loff_t start, loff_t off)
{
	FILE *out = so->ctx->out;

	if (off < 0 && off != -ENXIO)
		return imc_err(so->ctx, "seek", (int)off);
	if (so->ctx->json) {
		if (off >= 0) {
			imc_json_obj_begin(&so->j, NULL);
			imc_json_str(&so->j, "type", seek_names[cur]);
			imc_json_i64(&so->j, "offset", off);
			imc_json_obj_end(&so->j);
		}
		return 0;
	}
	if (so->startflag)
		fprintf(out, "%s\t%lld\t", seek_names[cur], (long long)start);
	else
		fprintf(out, "%s\t", seek_names[cur]);
	if (off < 0)
		fputs("EOF\n", out);
	else
		fprintf(out, "%lld\n", (long long)off);
	return 0;
}

/* Where the walk starts: a hole at @start, or the next data. */
static loff_t seek_first(struct imc_ctx *ctx, struct imc_file *f,
			 unsigned int flags, loff_t start, int *cur)
{
	loff_t off;

	if (flags & SEEK_F_HOLE) {
		*cur = 1;
		off = imc_file_seek(ctx, f, start, SEEK_HOLE);
		if (off == start || !(flags & SEEK_F_DATA))
			return off;
	}
	*cur = 0;
	return imc_file_seek(ctx, f, start, SEEK_DATA);
}

/* xfs_io's walk: alternate DATA and HOLE, printing the kinds asked for. */
static int seek_walk(struct seek_out *so, struct imc_file *f,
		     unsigned int flags, loff_t start)
{
	int cur, ret;
	loff_t off = seek_first(so->ctx, f, flags, start, &cur);

	for (int i = 0; flags & (SEEK_F_DATA | SEEK_F_HOLE); i++) {
		/* Each answer must move forward, or the walk never ends. */
		if (off >= 0 && (i == 0 ? off < start : off <= start))
			return imc_errf(so->ctx, "invalid seek result %lld "
					"from %lld", (long long)off,
					(long long)start);
		if (off < 0) {
			/* EOF is shown only when it is the only answer. */
			if (off != -ENXIO || i == 0)
				return seek_row(so, cur, start, off);
			return 0;
		}
		if (flags & (1U << cur)) {
			ret = seek_row(so, cur, start, off);
			if (ret)
				return ret;
		}
		if (!(flags & SEEK_F_REPEAT))
			flags &= ~(1U << cur);
		cur ^= 1;
		start = off;
		off = imc_file_seek(so->ctx, f, start, seek_whence[cur]);
	}
	return 0;
}

static int cmd_seek(struct imc_ctx *ctx, int argc, char **argv)
{
	struct seek_out so = { .ctx = ctx };
	unsigned int flags = 0;
	struct imc_file f;
	uint64_t start;
	int c, ret;

	while ((c = imc_getopt(argc, argv, &imc_cmd_seek)) != -1) {
		if (c == 'a')
			flags |= SEEK_F_DATA | SEEK_F_HOLE;
		else if (c == 'd')
			flags |= SEEK_F_DATA;
		else if (c == 'h')
			flags |= SEEK_F_HOLE;
		else if (c == 'r')
			flags |= SEEK_F_REPEAT;
		else if (c == 's')
			so.startflag = true;
	}
	if (!(flags & (SEEK_F_DATA | SEEK_F_HOLE))) {
		fprintf(ctx->err, "iomapctl: seek: one of -a, -d, -h is needed\n");
		return imc_usage(ctx, &imc_cmd_seek);
	}
	ret = imc_arg_size(ctx, "offset", argv[optind + 1], &start);
	if (ret)
		return ret;
	ret = imc_file_open(ctx, argv[optind], &f);
	if (ret)
		return ret;
	if (ctx->json) {
		imc_json_init(&so.j, ctx->out);
		imc_json_obj_begin(&so.j, NULL);
		imc_json_str(&so.j, "file", argv[optind]);
		imc_json_arr_begin(&so.j, "segments");
	} else if (so.startflag) {
		fputs("Whence\tStart\tResult\n", ctx->out);
	} else {
		fputs("Whence\tResult\n", ctx->out);
	}
	ret = seek_walk(&so, &f, flags, (loff_t)start);
	if (ctx->json) {
		imc_json_arr_end(&so.j);
		imc_json_obj_end(&so.j);
		imc_json_end(&so.j);
	}
	imc_file_close(&f);
	return ret;
}

const struct imc_cmd imc_cmd_seek = {
	.name = "seek",
	.args = "-a|-d|-h [-r] [-s] FILE OFFSET",
	.oneline = "find the next data or hole (SEEK_DATA / SEEK_HOLE)",
	.help = seek_help,
	.fn = cmd_seek,
	.argmin = 2,
	.argmax = 2,
	.flags = IMC_CMD_SEES_CACHE,
	.shortopts = "adhrs",
	.complete = 'f',
};
