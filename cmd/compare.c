// SPDX-License-Identifier: GPL-2.0
/* compare.c - `compare`: one operation through each mapper (iomap, hybrid,
 * bh), on separate copies, with the costs side by side. */
#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/fiemap.h>

#include "cmd.h"

#define CMP_CHUNK (1U << 20)
#define CMP_BATCH 64
#define CMP_PATTERN 0x5a

enum cmp_op { OP_READ, OP_WRITE, OP_MAP, OP_FIEMAP, OP_SEEK, OP_ZERO,
	      OP_TRUNCATE, OP_COUNT };

static const char *const op_names[OP_COUNT] = {
	"read", "write", "map", "fiemap", "seek", "zero", "truncate",
};

static const struct option compare_longopts[] = {
	{ "op", required_argument, NULL, 'o' },
	{ NULL, 0, NULL, 0 },
};

/* One side of the comparison: its result digest and what it cost. */
struct cmp_run {
	uint64_t digest;
	struct iomap_stats st;
};

struct cmp_args {
	enum cmp_op op;
	const struct imc_spec *sp;
	const char *name;
	int nrange;
	char **range;
};

static void compare_help(FILE *out)
{
	fputs("\nRuns OP on IMAGE:PATH through each mapper: iomap (one "
	      "->iomap_begin per\nextent), hybrid (extents from ->iomap_begin, "
	      "per-block state in buffer heads\non the folios) and bh (one "
	      "get_block per block), each on its own copy of the\nimage for "
	      "the mutating ops, checks all give the same bytes or mapping, "
	      "and\nprints mapping calls, I/O requests, buffer heads, bytes "
	      "moved, write\namplification and wall time side by side with the "
	      "bh/iomap ratio.  Exit status\n1 when the results differ.\n\n"
	      "  --op read      read [OFFSET, +LENGTH) (default: to EOF)\n"
	      "  --op write     write LENGTH bytes (default 1m) at OFFSET, "
	      "compare the file\n  --op map       the read mappings\n"
	      "  --op fiemap    the extents\n  --op seek      all data/hole "
	      "segments from OFFSET\n  --op zero      zero-range, compare the "
	      "file (as `zero`)\n  --op truncate  truncate to OFFSET (default half the size), "
	      "compare the file\n"
	      "  --json         {file, op, same_result, iomap: STATS, hybrid: "
	      "STATS,\n                 bh: STATS}, STATS = {digest, map_calls, "
	      "io_requests,\n                 bytes_read, bytes_written, "
	      "buffer_heads,\n                 "
	      "write_amplification, seconds}; digest: 64-bit FNV-1a of\n"
	      "                 the result in hex: bytes a byte at a time "
	      "(mutating ops:\n                 the size as 8 bytes "
	      "little-endian, then the file's bytes),\n"
	      "                 mappings a 64-bit word at a time; equal "
	      "results, equal digests\n\n"
	      "Examples:\n  iomapctl compare --op read disk.img:/big\n"
	      "  iomapctl --io=direct compare --op write disk.img:/f 0 8m\n",
	      out);
}

/* The whole file's bytes and size. */
static int digest_file(struct imc_file *f, uint64_t *h)
{
	char *buf = NULL;
	loff_t pos = 0;
	ssize_t n;

	if (posix_memalign((void **)&buf, 4096, CMP_CHUNK))
		return -ENOMEM;
	imc_digest_u64(h, (uint64_t)f->inode->size);
	while ((n = imc_file_pread(f, buf, CMP_CHUNK, pos)) > 0) {
		imc_digest(h, buf, (size_t)n);
		pos += n;
	}
	free(buf);
	return n < 0 ? (int)n : 0;
}

static int op_map(struct imc_ctx *c, struct imc_file *f, uint64_t off,
		  uint64_t len, uint64_t *h)
{
	const struct iomap_opset *set = f->fs->ops->iomap;
	struct iomap_source src = {
		.mapper = iomap_io_mapper(&c->io, IOMAP_OP_READ),
		.ops = set->read,
		.get_block = set->get_block,
	};
	struct iomap_iter it = { .inode = f->inode, .pos = (loff_t)off,
				 .len = len };
	struct imc_runs m = { .h = h };
	int ret;

	if (src.mapper == IOMAP_MAPPER_BH ? !src.get_block : !src.ops)
		return -EOPNOTSUPP;
	while ((ret = iomap_iter_source(&it, &src)) > 0) {
		const struct iomap *im = &it.iomap;

		imc_runs_add(&m, (uint64_t)it.pos, iomap_length(&it), im->type,
			     im->addr == IOMAP_NULL_ADDR ?
				     IOMAP_NULL_ADDR :
				     iomap_addr(im, it.pos));
		it.status = iomap_iter_advance(&it, iomap_length(&it));
	}
	imc_runs_flush(&m);
	return ret;
}

static int op_read(struct imc_file *f, uint64_t off, uint64_t len,
		   uint64_t *h)
{
	char *buf = NULL;
	uint64_t pos = off, end = off + len;
	int ret = 0;

	if (posix_memalign((void **)&buf, 4096, CMP_CHUNK))
		return -ENOMEM;
	while (pos < end && !ret) {
		size_t n = end - pos < CMP_CHUNK ? end - pos : CMP_CHUNK;
		ssize_t r = imc_file_pread(f, buf, n, (loff_t)pos);

		if (r <= 0)
			ret = r < 0 ? (int)r : 0;
		if (r <= 0)
			break;
		imc_digest(h, buf, (size_t)r);
		pos += (uint64_t)r;
	}
	free(buf);
	return ret;
}

static int op_write(struct imc_file *f, uint64_t off, uint64_t len)
{
	char *buf = NULL;
	int ret = 0;

	if (posix_memalign((void **)&buf, 4096, CMP_CHUNK))
		return -ENOMEM;
	memset(buf, CMP_PATTERN, CMP_CHUNK);
	for (uint64_t pos = off; pos < off + len && !ret;) {
		size_t n = off + len - pos < CMP_CHUNK ? off + len - pos :
							   CMP_CHUNK;
		ssize_t w = imc_file_pwrite(f, buf, n, (loff_t)pos);

		ret = w < 0 ? (int)w : w == 0 ? -EIO : 0;
		pos += w > 0 ? (uint64_t)w : 0;
	}
	free(buf);
	return ret ? ret : iomap_file_sync(f->io);
}

/* The same sequences as `zero` and `truncate`, so both measure one thing. */
static int op_zero(struct imc_file *f, uint64_t off, uint64_t len)
{
	struct iomap_space_ops ops;
	int ret;

	if (!len)
		return 0;
	imc_file_space_ops(f, &ops);
	ret = iomap_file_falloc_zero(f->io, &ops, (loff_t)off, len, false);
	return ret ? ret : iomap_file_sync(f->io);
}

static int op_truncate(struct imc_file *f, uint64_t size)
{
	struct iomap_space_ops ops;

	imc_file_space_ops(f, &ops);
	return iomap_file_setsize(f->io, &ops, (loff_t)size);
}

static bool mutates(enum cmp_op op)
{
	return op == OP_WRITE || op == OP_ZERO || op == OP_TRUNCATE;
}

/* OFFSET and LENGTH with each op's defaults, now that the size is known. */
static int cmp_range(struct imc_ctx *ctx, const struct cmp_args *a,
		     loff_t size, uint64_t *off, uint64_t *len)
{
	int ret;

	*off = a->op == OP_TRUNCATE ? (uint64_t)size / 2 : 0;
	if (a->nrange > 0 && (ret = imc_arg_size(ctx, "offset", a->range[0], off)))
		return ret;
	if (a->nrange > 1) {
		if ((ret = imc_arg_range(ctx, a->range[0], a->range[1], off, len)))
			return ret;
	} else if (a->op == OP_WRITE) {
		*len = 1 << 20;
	} else {
		*len = *off < (uint64_t)size ? (uint64_t)size - *off : 0;
	}
	if (*off > (uint64_t)INT64_MAX || *len > (uint64_t)INT64_MAX - *off)
		return imc_err(ctx, "offset + length", -EFBIG);
	return IMC_EXIT_OK;
}

static int cmp_op(struct imc_ctx *c, enum cmp_op op, struct imc_file *f,
		  uint64_t off, uint64_t len, uint64_t *h)
{
	if (op == OP_MAP)
		return op_map(c, f, off, len, h);
	if (op == OP_FIEMAP)
		return len ? imc_digest_fiemap(c, f, off, len, true, h) : 0;
	if (op == OP_SEEK)
		return imc_digest_seek(c, f, off, h);
	if (op == OP_READ)
		return op_read(f, off, len, h);
	if (op == OP_WRITE)
		return op_write(f, off, len);
	if (op == OP_ZERO)
		return op_zero(f, off, len);
	return op_truncate(f, off);
}

/* Opens (a copy of) the image with @c's mapper and times the op alone. */
static int cmp_measure(struct imc_ctx *ctx, struct imc_ctx *c,
		       const struct cmp_args *a, const char *spec,
		       struct cmp_run *r)
{
	struct imc_file f;
	uint64_t off, len, t0;
	int ret;

	r->digest = IMC_DIGEST_INIT;
	ret = imc_file_open_flags(c, spec, mutates(a->op) ? IMC_OPEN_RDWR : 0, &f);
	if (ret)
		return ret;
	f.name = a->name;
	ret = cmp_range(ctx, a, f.size, &off, &len);
	if (!ret && (a->op == OP_READ || mutates(a->op)) &&
	    (ret = imc_file_io(&f)))
		ret = imc_err(ctx, a->name, ret);
	if (!ret) {
		memset(&c->stats, 0, sizeof(c->stats));
		t0 = iomap_stats_now_ns();
		ret = cmp_op(c, a->op, &f, off, len, &r->digest);
		r->st = c->stats;
		r->st.wall_ns = iomap_stats_now_ns() - t0;
		if (!ret && mutates(a->op))
			ret = digest_file(&f, &r->digest);
		if (ret)
			ret = imc_err(ctx, a->name, ret);
	}
	imc_file_close(&f);
	return ret;
}

static int cmp_side(struct imc_ctx *ctx, const struct cmp_args *a,
		    enum iomap_mapper mapper, struct cmp_run *r)
{
	char *tmp = NULL, *spec = NULL;
	struct imc_ctx c;
	int ret;

	if (mutates(a->op) && (ret = imc_image_tmpcopy(a->sp->image, &tmp)))
		return imc_err(ctx, a->sp->image, ret);
	if (asprintf(&spec, "%s:%s", tmp ? tmp : a->sp->image, a->sp->path) < 0)
		spec = NULL;
	imc_ctx_init(&c);
	c.io = ctx->io;
	c.io.mapper = mapper;
	memset(c.io.op_mapper, 0, sizeof(c.io.op_mapper));
	c.out = ctx->out;
	c.err = ctx->err;
	c.cmdname = ctx->cmdname;
	ret = spec ? cmp_measure(ctx, &c, a, spec, r) : imc_err(ctx, "spec", -ENOMEM);
	imc_ctx_fini(&c);
	if (tmp)
		unlink(tmp);
	free(tmp);
	free(spec);
	return ret;
}

static double secs(const struct iomap_stats *st)
{
	return (double)st->wall_ns / 1e9;
}

static void stats_json(struct imc_json *j, const char *key,
		       const struct cmp_run *r)
{
	const struct iomap_stats *st = &r->st;
	char hex[17];

	snprintf(hex, sizeof(hex), "%016llx", (unsigned long long)r->digest);
	imc_json_obj_begin(j, key);
	imc_json_str(j, "digest", hex);
	imc_json_u64(j, "map_calls", st->map_calls);
	imc_json_u64(j, "io_requests", st->io_requests);
	imc_json_u64(j, "bytes_read", st->bytes_read);
	imc_json_u64(j, "bytes_written", st->bytes_written);
	imc_json_u64(j, "buffer_heads", st->bh_allocated);
	imc_json_double(j, "write_amplification",
			iomap_stats_write_amplification(st));
	imc_json_double(j, "seconds", secs(st));
	imc_json_obj_end(j);
}

/* The mappers compared, in column order; the ratio is last over first. */
static const enum iomap_mapper cmp_mappers[] = { IOMAP_MAPPER_IOMAP,
						 IOMAP_MAPPER_HYBRID,
						 IOMAP_MAPPER_BH };
#define CMP_NR (sizeof(cmp_mappers) / sizeof(cmp_mappers[0]))

static void row(FILE *out, const char *label, const double v[CMP_NR],
		bool integer)
{
	char ratio[32] = "-";

	if (v[0] > 0)
		snprintf(ratio, sizeof(ratio), "%.2f", v[CMP_NR - 1] / v[0]);
	else if (v[CMP_NR - 1] == 0)
		snprintf(ratio, sizeof(ratio), "1.00");
	fprintf(out, "%-20s", label);
	for (size_t i = 0; i < CMP_NR; i++)
		fprintf(out, integer ? " %14.0f" : " %14.6f", v[i]);
	fprintf(out, " %10s\n", ratio);
}

/* One row: @expr gives the value from each run's statistics, @st. */
#define CMP_ROW(out, label, runs, expr, integer)                     \
	do {                                                         \
		double v_[CMP_NR];                                   \
		for (size_t i_ = 0; i_ < CMP_NR; i_++) {             \
			const struct iomap_stats *st = &runs[i_].st; \
			v_[i_] = (double)(expr);                     \
		}                                                    \
		row(out, label, v_, integer);                        \
	} while (0)

static bool cmp_same(const struct cmp_run *runs)
{
	for (size_t i = 1; i < CMP_NR; i++)
		if (runs[i].digest != runs[0].digest)
			return false;
	return true;
}

static void cmp_print(struct imc_ctx *ctx, const struct cmp_args *a,
		      const struct cmp_run *runs)
{
	bool same = cmp_same(runs);
	struct imc_json j;

	if (ctx->json) {
		imc_json_init(&j, ctx->out);
		imc_json_obj_begin(&j, NULL);
		imc_json_str(&j, "file", a->name);
		imc_json_str(&j, "op", op_names[a->op]);
		imc_json_bool(&j, "same_result", same);
		for (size_t i = 0; i < CMP_NR; i++)
			stats_json(&j, iomap_mapper_name(cmp_mappers[i]),
				   &runs[i]);
		imc_json_obj_end(&j);
		imc_json_end(&j);
		return;
	}
	fprintf(ctx->out, "compare %s %s\n%-20s", op_names[a->op], a->name, "");
	for (size_t i = 0; i < CMP_NR; i++)
		fprintf(ctx->out, " %14s", iomap_mapper_name(cmp_mappers[i]));
	fprintf(ctx->out, " %10s\n", "bh/iomap");
	CMP_ROW(ctx->out, "map calls", runs, st->map_calls, true);
	CMP_ROW(ctx->out, "io requests", runs, st->io_requests, true);
	CMP_ROW(ctx->out, "buffer heads", runs, st->bh_allocated, true);
	CMP_ROW(ctx->out, "bytes read", runs, st->bytes_read, true);
	CMP_ROW(ctx->out, "bytes written", runs, st->bytes_written, true);
	CMP_ROW(ctx->out, "write amplification", runs,
		iomap_stats_write_amplification(st), false);
	CMP_ROW(ctx->out, "seconds", runs, secs(st), false);
	fprintf(ctx->out, "result: %s\n", same ? "same" : "DIFFERENT");
}

static int cmd_compare(struct imc_ctx *ctx, int argc, char **argv)
{
	struct cmp_args a = { .op = OP_READ };
	struct cmp_run runs[CMP_NR];
	struct imc_spec sp;
	int c, ret;

	while ((c = imc_getopt(argc, argv, &imc_cmd_compare)) != -1) {
		int i;

		for (i = 0; i < OP_COUNT && strcmp(optarg, op_names[i]); i++)
			;
		if (i == OP_COUNT) {
			fprintf(ctx->err, "iomapctl: compare: bad --op '%s'\n",
				optarg);
			return imc_usage(ctx, &imc_cmd_compare);
		}
		a.op = (enum cmp_op)i;
	}
	ret = imc_spec_parse(ctx, argv[optind], &sp);
	if (ret)
		return ret;
	if (!sp.image) {
		fprintf(ctx->err, "iomapctl: compare: %s: give IMAGE:PATH (the "
			"buffer-head emulation runs on images)\n", argv[optind]);
		imc_spec_free(&sp);
		return IMC_EXIT_USAGE;
	}
	a.sp = &sp;
	a.name = argv[optind];
	a.nrange = argc - optind - 1;
	a.range = argv + optind + 1;
	ret = 0;
	for (size_t i = 0; i < CMP_NR && !ret; i++)
		ret = cmp_side(ctx, &a, cmp_mappers[i], &runs[i]);
	if (!ret) {
		cmp_print(ctx, &a, runs);
		if (!cmp_same(runs))
			ret = imc_errf(ctx, "%s: the mappers' results differ",
				       a.name);
	}
	imc_spec_free(&sp);
	return ret;
}

const struct imc_cmd imc_cmd_compare = {
	.name = "compare",
	.args = "[--op read|write|map|fiemap|seek|zero|truncate] IMAGE:PATH "
		"[OFFSET [LENGTH]]",
	.oneline = "run an op through iomap, hybrid and buffer heads, compare "
		   "results and costs",
	.help = compare_help,
	.fn = cmd_compare,
	.argmin = 1,
	.argmax = 3,
	.flags = IMC_CMD_NEEDS_FS,
	.shortopts = "",
	.longopts = compare_longopts,
	.complete = 'f',
};
