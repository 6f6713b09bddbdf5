// SPDX-License-Identifier: GPL-2.0
/* convert.c - `convert`: a filesystem's conversion from buffer heads to
 * iomap, one operation at a time in XFS's order, checked stage by stage
 * against the all-buffer-head answers on private copies of the image. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/fiemap.h>

#include "cmd.h"

#define CV_CHUNK (1U << 20)
#define CV_BLOCK 4096 /* granularity of the final byte check */
#define CV_MAX_STEPS 32
#define CV_MAX_EXT 64

/* What a step's answer is: compared as bytes, fiemap or seek answers. */
enum cv_kind { CV_BYTES, CV_FIEMAP, CV_SEEK };

/* One step of the workload and the digest of its answer. */
struct cv_step {
	enum iomap_op op;
	const char *what;
	loff_t offset;
	enum cv_kind kind;
	uint64_t digest;
};

/* One stage: the steps' answers, the file's final bytes, the costs. */
struct cv_run {
	struct cv_step steps[CV_MAX_STEPS];
	unsigned int nsteps;
	uint64_t *blocks; /* digest per CV_BLOCK of the final file */
	size_t nblocks;
	struct iomap_stats st;
};

/* The workload's context: the stage's file and a buffer for its data. */
struct cv_work {
	struct imc_file *f;
	struct cv_run *r;
	uint8_t *buf;
	loff_t size0; /* the size the workload started from */
};

/* Which operations each stage moves to iomap, and which to the hybrid. */
struct cv_stage {
	unsigned int nconverted; /* the first n of enum iomap_op */
	bool hybrid; /* write and read through the hybrid */
};

static const struct cv_stage cv_stages[] = {
	{ 0, false }, { 1, false }, { 2, false }, { 3, false },
	{ 4, false }, { 5, false }, { 6, false }, { 6, true },
};
#define CV_NR_STAGES (sizeof(cv_stages) / sizeof(cv_stages[0]))

static const char *const kind_names[] = { "bytes", "fiemap", "seek" };

static void convert_help(FILE *out)
{
	fputs("\nRuns a fixed workload on a private copy of IMAGE:PATH (the "
	      "image is never\nchanged) once per stage of a conversion from "
	      "buffer heads to iomap: stage 0\nwith every operation on buffer "
	      "heads, then one more operation on iomap per\nstage in XFS's "
	      "order (xattr, report, direct, write, read, dax), then once "
	      "more\nwith the hybrid (IOMAP_F_BUFFER_HEAD) for the buffered "
	      "write and read.  The\nworkload: fiemap (and --xattr), seek, "
	      "buffered reads and writes at aligned and\nunaligned offsets and "
	      "past EOF, zero-range, truncate down and up, direct\nreads and "
	      "writes, DAX reads where the image can be mapped; then the "
	      "whole\nfile, its fiemap and seek answers.  Each stage prints its "
	      "--mapper spec,\nwhether the bytes, fiemap and seek answers equal "
	      "the all-bh baseline, and\nthe costs.  fiemap answers are "
	      "compared by logical layout and flags:\nallocation may place "
	      "blocks differently per mapper.  --io picks the path of\nthe "
	      "final read of the file.  Exit status 1 at the first difference, "
	      "naming\nthe stage, operation and offset.\n\n"
	      "  --json   {file, same, stages: [{stage, mapper, converted: "
	      "[OP], hybrid:\n           [OP], same_bytes, same_fiemap, "
	      "same_seek, map_calls, io_requests,\n           buffer_heads, "
	      "bytes_written, write_amplification, seconds}],\n"
	      "           mismatch: null or {stage, op, what, offset}}\n\n"
	      "Examples:\n  iomapctl convert disk.img:/big\n"
	      "  iomapctl --json convert disk.img:/f\n",
	      out);
}

/* The --mapper parameters of stage @s. */
static void cv_params(const struct cv_stage *s, struct iomap_io_params *io)
{
	io->mapper = IOMAP_MAPPER_BH;
	memset(io->op_mapper, 0, sizeof(io->op_mapper));
	for (unsigned int op = 0; op < s->nconverted; op++)
		io->op_mapper[op] = 1 + IOMAP_MAPPER_IOMAP;
	if (s->hybrid) {
		io->op_mapper[IOMAP_OP_WRITE] = 1 + IOMAP_MAPPER_HYBRID;
		io->op_mapper[IOMAP_OP_READ] = 1 + IOMAP_MAPPER_HYBRID;
	}
}

static uint64_t *cv_step(struct cv_work *w, enum iomap_op op, const char *what,
			 loff_t offset, enum cv_kind kind)
{
	struct cv_step *s = &w->r->steps[w->r->nsteps++];

	*s = (struct cv_step){ .op = op,
			       .what = what,
			       .offset = offset,
			       .kind = kind,
			       .digest = IMC_DIGEST_INIT };
	return &s->digest;
}

/* Rebinds the file to data path @path (writing the old binding back). */
static int cv_rebind(struct imc_file *f, enum iomap_io_path path)
{
	struct imc_ctx *c = f->ctx;
	int ret = 0, err;

	if (f->io)
		ret = iomap_file_close(f->io);
	f->io = NULL;
	if (c->dev) {
		err = iomap_dev_close(c->dev);
		ret = ret ? ret : err;
	}
	c->dev = NULL;
	c->io.path = path;
	return ret ? ret : imc_file_io(f);
}

/* A read step: the bytes of [pos, pos + len) (short at EOF). */
static int cv_read(struct cv_work *w, enum iomap_op op, loff_t pos, size_t len)
{
	uint64_t *h = cv_step(w, op, "read", pos, CV_BYTES);
	ssize_t n = imc_file_pread(w->f, w->buf, len, pos);

	if (n < 0)
		return (int)n;
	imc_digest(h, w->buf, (size_t)n);
	return 0;
}

/* A write step: @len bytes of a pattern of the offset at @pos. */
static int cv_write(struct cv_work *w, enum iomap_op op, loff_t pos, size_t len)
{
	uint64_t *h = cv_step(w, op, "write", pos, CV_BYTES);
	ssize_t n;

	for (size_t i = 0; i < len; i++)
		w->buf[i] = (uint8_t)((pos + (loff_t)i) * 7 + 1);
	n = imc_file_pwrite(w->f, w->buf, len, pos);
	if (n < 0)
		return (int)n;
	imc_digest_u64(h, (uint64_t)n);
	imc_digest_u64(h, (uint64_t)w->f->inode->size);
	return 0;
}

/* The fiemap --xattr answer, or the error a filesystem without one says. */
static int cv_xattr(struct cv_work *w)
{
	struct fiemap_extent ext[CV_MAX_EXT];
	uint64_t *h =
		cv_step(w, IOMAP_OP_XATTR, "fiemap --xattr", 0, CV_FIEMAP);
	unsigned int n = 0;
	int ret = imc_file_fiemap(w->f->ctx, w->f, FIEMAP_FLAG_XATTR, 0,
				  UINT64_MAX >> 1, ext, CV_MAX_EXT, &n);

	imc_digest_u64(h, (uint64_t)-ret);
	for (unsigned int i = 0; i < n; i++) {
		imc_digest_u64(h, ext[i].fe_logical);
		imc_digest_u64(h, ext[i].fe_length);
		imc_digest_u64(h, ext[i].fe_flags & ~FIEMAP_EXTENT_MERGED);
	}
	return 0;
}

/* fiemap and seek answers of the whole file (logical layout). */
static int cv_report(struct cv_work *w, const char *when)
{
	struct imc_ctx *c = w->f->ctx;
	int ret;

	ret = imc_digest_fiemap(c, w->f, 0, (uint64_t)INT64_MAX, false,
				cv_step(w, IOMAP_OP_REPORT, when, 0,
					CV_FIEMAP));
	if (!ret)
		ret = imc_digest_seek(c, w->f, 0,
				      cv_step(w, IOMAP_OP_REPORT, when, 0,
					      CV_SEEK));
	return ret;
}

/* Zero-range and truncate down then up: the `zero` and `truncate` ones. */
static int cv_space(struct cv_work *w, loff_t zpos, uint64_t zlen, loff_t down,
		    loff_t up)
{
	struct iomap_space_ops ops;
	uint64_t *h;
	int ret;

	imc_file_space_ops(w->f, &ops);
	h = cv_step(w, IOMAP_OP_WRITE, "zero", zpos, CV_BYTES);
	ret = iomap_file_falloc_zero(w->f->io, &ops, zpos, zlen, false);
	imc_digest_u64(h, (uint64_t)w->f->inode->size);
	if (!ret) {
		h = cv_step(w, IOMAP_OP_WRITE, "truncate", down, CV_BYTES);
		ret = iomap_file_setsize(w->f->io, &ops, down);
		imc_digest_u64(h, (uint64_t)w->f->inode->size);
	}
	if (!ret) {
		h = cv_step(w, IOMAP_OP_WRITE, "truncate", up, CV_BYTES);
		ret = iomap_file_setsize(w->f->io, &ops, up);
		imc_digest_u64(h, (uint64_t)w->f->inode->size);
	}
	return ret ? ret : iomap_file_sync(w->f->io);
}

static size_t cv_min(loff_t a, size_t b)
{
	return a < (loff_t)b ? (size_t)(a > 0 ? a : 0) : b;
}

/* Buffered reads and writes, aligned, unaligned and past EOF. */
static int cv_buffered(struct cv_work *w)
{
	loff_t s = w->size0, bs = (loff_t)w->f->blksize;
	int ret = cv_rebind(w->f, IOMAP_IO_BUFFERED);

	if (!ret)
		ret = cv_read(w, IOMAP_OP_READ, 0, cv_min(s, 256 << 10));
	if (!ret)
		ret = cv_read(w, IOMAP_OP_READ, s / 3 + 1, 7777);
	if (!ret)
		ret = cv_read(w, IOMAP_OP_READ, s > 5000 ? s - 5000 : 0, 5000);
	if (!ret)
		ret = cv_write(w, IOMAP_OP_WRITE, bs, 16 << 10);
	if (!ret)
		ret = cv_write(w, IOMAP_OP_WRITE, 5 * bs + bs / 2 + 3, 3000);
	if (!ret)
		ret = cv_write(w, IOMAP_OP_WRITE, s + 9000, 2000);
	if (!ret)
		ret = cv_space(w, 3 * bs + 100, (uint64_t)(2 * bs),
			       s + 9000 - 123, s + 30000);
	if (!ret)
		ret = cv_read(w, IOMAP_OP_READ, 0, 64 << 10);
	return ret;
}

/* Direct reads and writes (unaligned ones through bounce buffers). */
static int cv_direct(struct cv_work *w)
{
	int ret = cv_rebind(w->f, IOMAP_IO_DIRECT);

	if (!ret)
		ret = cv_read(w, IOMAP_OP_DIRECT, 0, 64 << 10);
	if (!ret)
		ret = cv_read(w, IOMAP_OP_DIRECT, 777, 3000);
	if (!ret)
		ret = cv_write(w, IOMAP_OP_DIRECT, 64 << 10, 8192);
	if (!ret)
		ret = cv_write(w, IOMAP_OP_DIRECT, 70001, 1500);
	return ret;
}

/* DAX reads where libpmem2 maps the image; the same answer otherwise. */
static int cv_dax(struct cv_work *w)
{
	int ret = cv_rebind(w->f, IOMAP_IO_DAX);

	if (ret) {
		imc_digest_u64(cv_step(w, IOMAP_OP_DAX, "unavailable", 0,
				       CV_BYTES),
			       1);
		return 0;
	}
	ret = cv_read(w, IOMAP_OP_DAX, 3, 10000);
	if (!ret)
		ret = cv_read(w, IOMAP_OP_DAX, 0, 4096);
	return ret;
}

/* The final file: a digest per CV_BLOCK through path @path. */
static int cv_final(struct cv_work *w, enum iomap_io_path path)
{
	loff_t size, pos = 0;
	int ret = cv_rebind(w->f, path);

	if (ret)
		return ret;
	size = w->f->inode->size;
	imc_digest_u64(cv_step(w, IOMAP_OP_READ, "size", size, CV_BYTES),
		       (uint64_t)size);
	w->r->nblocks = (size_t)((size + CV_BLOCK - 1) / CV_BLOCK);
	w->r->blocks = calloc(w->r->nblocks + 1, sizeof(uint64_t));
	if (!w->r->blocks)
		return -ENOMEM;
	while (pos < size) {
		ssize_t n = imc_file_pread(w->f, w->buf, CV_CHUNK, pos);

		if (n <= 0)
			return n < 0 ? (int)n : -EIO;
		for (ssize_t o = 0; o < n; o += CV_BLOCK) {
			uint64_t *h = &w->r->blocks[(pos + o) / CV_BLOCK];

			*h = IMC_DIGEST_INIT;
			imc_digest(h, w->buf + o,
				   (size_t)(n - o < CV_BLOCK ? n - o :
							       CV_BLOCK));
		}
		pos += n;
	}
	return cv_report(w, "final");
}

static int cv_workload(struct cv_work *w, enum iomap_io_path final)
{
	int ret = cv_xattr(w);

	if (!ret)
		ret = cv_report(w, "fiemap");
	if (!ret)
		ret = cv_buffered(w);
	if (!ret)
		ret = cv_direct(w);
	if (!ret)
		ret = cv_dax(w);
	if (!ret)
		ret = cv_final(w, final);
	return ret;
}

/* Runs stage @s on a fresh copy of the image; the answers go in @r. */
static int cv_run_stage(struct imc_ctx *ctx, const struct imc_spec *sp,
			const char *name, const struct cv_stage *s,
			struct cv_run *r)
{
	struct cv_work w = { .r = r };
	char *tmp = NULL, *spec = NULL;
	struct imc_file f;
	struct imc_ctx c;
	uint64_t t0;
	int ret;

	ret = imc_image_tmpcopy(sp->image, &tmp);
	if (ret)
		return imc_err(ctx, sp->image, ret);
	imc_ctx_init(&c);
	c.io = ctx->io;
	cv_params(s, &c.io);
	c.err = ctx->err;
	c.out = ctx->out;
	c.cmdname = ctx->cmdname;
	if (asprintf(&spec, "%s:%s", tmp, sp->path) < 0 ||
	    posix_memalign((void **)&w.buf, 4096, CV_CHUNK)) {
		ret = imc_err(ctx, name, -ENOMEM);
		goto out;
	}
	ret = imc_file_open_flags(&c, spec, IMC_OPEN_RDWR, &f);
	if (ret)
		goto out;
	f.name = name;
	w.f = &f;
	w.size0 = f.size;
	memset(&c.stats, 0, sizeof(c.stats));
	t0 = iomap_stats_now_ns();
	ret = cv_workload(&w, ctx->io.path);
	r->st = c.stats;
	r->st.wall_ns = iomap_stats_now_ns() - t0;
	if (ret)
		ret = imc_err(ctx, name, ret);
	imc_file_close(&f);
out:
	imc_ctx_fini(&c);
	unlink(tmp);
	free(tmp);
	free(spec);
	free(w.buf);
	return ret;
}

/* A difference from the baseline: the step (or final byte block). */
struct cv_diff {
	bool any;
	bool kind[3]; /* per enum cv_kind */
	const char *op;
	const char *what;
	loff_t offset;
};

static void cv_note(struct cv_diff *d, enum cv_kind kind, const char *op,
		    const char *what, loff_t offset)
{
	d->kind[kind] = true;
	if (d->any)
		return;
	*d = (struct cv_diff){
		.any = true, .op = op, .what = what, .offset = offset
	};
	d->kind[kind] = true;
}

static void cv_compare(const struct cv_run *base, const struct cv_run *r,
		       struct cv_diff *d)
{
	memset(d, 0, sizeof(*d));
	for (unsigned int i = 0; i < base->nsteps && i < r->nsteps; i++) {
		const struct cv_step *a = &base->steps[i], *b = &r->steps[i];

		if (a->digest != b->digest)
			cv_note(d, a->kind, iomap_op_name(a->op), a->what,
				a->offset);
	}
	if (base->nsteps != r->nsteps)
		cv_note(d, CV_BYTES, "read", "steps", 0);
	for (size_t i = 0; i < base->nblocks; i++)
		if (i >= r->nblocks || base->blocks[i] != r->blocks[i]) {
			cv_note(d, CV_BYTES, "read", "bytes",
				(loff_t)i * CV_BLOCK);
			break;
		}
}

static void cv_stage_json(struct imc_json *j, size_t i, const char *spec,
			  const struct cv_run *r, const struct cv_diff *d)
{
	const struct cv_stage *s = &cv_stages[i];

	imc_json_obj_begin(j, NULL);
	imc_json_u64(j, "stage", i);
	imc_json_str(j, "mapper", spec);
	imc_json_arr_begin(j, "converted");
	for (unsigned int op = 0; op < s->nconverted; op++)
		imc_json_str(j, NULL, iomap_op_name((enum iomap_op)op));
	imc_json_arr_end(j);
	imc_json_arr_begin(j, "hybrid");
	if (s->hybrid) {
		imc_json_str(j, NULL, iomap_op_name(IOMAP_OP_WRITE));
		imc_json_str(j, NULL, iomap_op_name(IOMAP_OP_READ));
	}
	imc_json_arr_end(j);
	imc_json_bool(j, "same_bytes", !d->kind[CV_BYTES]);
	imc_json_bool(j, "same_fiemap", !d->kind[CV_FIEMAP]);
	imc_json_bool(j, "same_seek", !d->kind[CV_SEEK]);
	imc_json_u64(j, "map_calls", r->st.map_calls);
	imc_json_u64(j, "io_requests", r->st.io_requests);
	imc_json_u64(j, "buffer_heads", r->st.bh_allocated);
	imc_json_u64(j, "bytes_written", r->st.bytes_written);
	imc_json_double(j, "write_amplification",
			iomap_stats_write_amplification(&r->st));
	imc_json_double(j, "seconds", (double)r->st.wall_ns / 1e9);
	imc_json_obj_end(j);
}

/* "xattr,report" for the operations stage @s moves to iomap. */
static const char *cv_label(const struct cv_stage *s, char *buf, size_t size)
{
	size_t used = 0;

	snprintf(buf, size, "%s", s->nconverted ? "" : "none (all bh)");
	for (unsigned int op = 0; op < s->nconverted; op++) {
		used = strlen(buf);
		snprintf(buf + used, size - used, "%s%s", op ? "," : "",
			 iomap_op_name((enum iomap_op)op));
	}
	if (s->hybrid) {
		used = strlen(buf);
		snprintf(buf + used, size - used, "; write,read hybrid");
	}
	return buf;
}

static void cv_stage_text(FILE *out, size_t i, const struct cv_run *r,
			  const struct cv_diff *d)
{
	char label[96];

	fprintf(out,
		"%-5zu %-35s %-5s %-6s %-5s %9llu %8llu %8llu %11llu "
		"%5.2f %8.4f\n",
		i, cv_label(&cv_stages[i], label, sizeof(label)),
		d->kind[CV_BYTES] ? "DIFF" : "same",
		d->kind[CV_FIEMAP] ? "DIFF" : "same",
		d->kind[CV_SEEK] ? "DIFF" : "same",
		(unsigned long long)r->st.map_calls,
		(unsigned long long)r->st.io_requests,
		(unsigned long long)r->st.bh_allocated,
		(unsigned long long)r->st.bytes_written,
		iomap_stats_write_amplification(&r->st),
		(double)r->st.wall_ns / 1e9);
}

/* Stages run and printed in order; the first difference fails it. */
static int cv_stages_run(struct imc_ctx *ctx, const struct imc_spec *sp,
			 const char *name, struct cv_run *runs)
{
	struct cv_diff d = { 0 }, first = { 0 };
	struct imc_json j;
	size_t bad = 0;
	int ret = 0;

	if (ctx->json) {
		imc_json_init(&j, ctx->out);
		imc_json_obj_begin(&j, NULL);
		imc_json_str(&j, "file", name);
		imc_json_arr_begin(&j, "stages");
	} else {
		fprintf(ctx->out,
			"convert %s\n%-5s %-35s %-5s %-6s %-5s %9s "
			"%8s %8s %11s %5s %8s\n",
			name, "stage", "on iomap", "bytes", "fiemap", "seek",
			"map_calls", "requests", "b_heads", "written", "WA",
			"seconds");
	}
	for (size_t i = 0; i < CV_NR_STAGES && !ret; i++) {
		char spec[160];
		struct iomap_io_params io = ctx->io;

		ret = cv_run_stage(ctx, sp, name, &cv_stages[i], &runs[i]);
		if (ret)
			break;
		cv_params(&cv_stages[i], &io);
		imc_mapper_spec(&io, spec, sizeof(spec));
		cv_compare(&runs[0], &runs[i], &d);
		if (d.any && !first.any) {
			first = d;
			bad = i;
		}
		if (ctx->json)
			cv_stage_json(&j, i, spec, &runs[i], &d);
		else
			cv_stage_text(ctx->out, i, &runs[i], &d);
	}
	if (ctx->json && !ret) {
		imc_json_arr_end(&j);
		imc_json_bool(&j, "same", !first.any);
		if (first.any) {
			imc_json_obj_begin(&j, "mismatch");
			imc_json_u64(&j, "stage", bad);
			imc_json_str(&j, "op", first.op);
			imc_json_str(&j, "what", first.what);
			imc_json_i64(&j, "offset", first.offset);
			imc_json_obj_end(&j);
		} else {
			imc_json_null(&j, "mismatch");
		}
		imc_json_obj_end(&j);
		imc_json_end(&j);
	}
	if (!ret && first.any)
		ret = imc_errf(ctx,
			       "%s: stage %zu: %s (%s) at offset %lld "
			       "differs from the all-bh baseline (%s)",
			       name, bad, first.op, first.what,
			       (long long)first.offset,
			       kind_names[first.kind[CV_BYTES]	? CV_BYTES :
					  first.kind[CV_FIEMAP] ? CV_FIEMAP :
								  CV_SEEK]);
	return ret;
}

static int cmd_convert(struct imc_ctx *ctx, int argc, char **argv)
{
	struct cv_run runs[CV_NR_STAGES];
	struct imc_spec sp;
	int ret;

	while (imc_getopt(argc, argv, &imc_cmd_convert) != -1)
		return imc_usage(ctx, &imc_cmd_convert);
	ret = imc_spec_parse(ctx, argv[optind], &sp);
	if (ret)
		return ret;
	if (!sp.image) {
		fprintf(ctx->err,
			"iomapctl: convert: %s: give IMAGE:PATH (the "
			"workload runs on a copy of the image)\n",
			argv[optind]);
		imc_spec_free(&sp);
		return IMC_EXIT_USAGE;
	}
	memset(runs, 0, sizeof(runs));
	ret = cv_stages_run(ctx, &sp, argv[optind], runs);
	for (size_t i = 0; i < CV_NR_STAGES; i++)
		free(runs[i].blocks);
	imc_spec_free(&sp);
	return ret;
}

const struct imc_cmd imc_cmd_convert = {
	.name = "convert",
	.args = "IMAGE:PATH",
	.oneline = "convert from buffer heads to iomap one operation at a "
		   "time, checking each stage",
	.help = convert_help,
	.fn = cmd_convert,
	.argmin = 1,
	.argmax = 1,
	.flags = IMC_CMD_NEEDS_FS,
	.shortopts = "",
	.complete = 'f',
};
