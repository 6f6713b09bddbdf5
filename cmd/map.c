// SPDX-License-Identifier: GPL-2.0
/* map.c - `map`: the iomaps a filesystem returns for one operation. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"

struct map_op {
	const char *name;
	unsigned int flags; /* IOMAP_* operation flags */
	bool mutates; /* ->iomap_begin may allocate: run on a copy */
};

static const struct map_op map_ops[] = {
	{ "read", 0, false },
	{ "write", IOMAP_WRITE, true },
	{ "zero", IOMAP_ZERO, true },
	{ "report", IOMAP_REPORT, false },
	{ "dax", IOMAP_DAX, false },
};

static const struct option map_longopts[] = {
	{ "op", required_argument, NULL, 'o' },
	{ NULL, 0, NULL, 0 },
};

static void map_help(FILE *out)
{
	fputs("\nCalls the filesystem's ->iomap_begin/->iomap_end through "
	      "iomap_iter over\n[OFFSET, OFFSET+LENGTH) (default: the whole "
	      "file, and past its size up to the\nend of the last extent, "
	      "as fiemap lists a KEEP_SIZE preallocation) and prints\neach "
	      "mapping as returned: OFFSET LENGTH TYPE FLAGS ADDR (bytes; "
	      "ADDR '-'\nwhen there is none).\n\n"
	      "  --op read    the read mapping (default)\n"
	      "  --op write   what a write would allocate (with --io=direct or "
	      "dax: that\n               path's table); run on a temporary "
	      "copy of the image,\n               which is left unchanged\n"
	      "  --op zero    zero-range mapping (on a copy too)\n"
	      "  --op report  the mapping fiemap and seek see\n"
	      "  --op dax     the read mapping with IOMAP_DAX\n"
	      "  --json       {file, op, mappings: [{offset, length, type, "
	      "flags, addr}]}\n\n"
	      "Examples:\n  iomapctl map disk.img:/var/log/syslog\n"
	      "  iomapctl map --op write disk.img:/sparse 0 1m\n",
	      out);
}

static const struct iomap_ops *pick_ops(struct imc_ctx *ctx,
					const struct iomap_opset *set,
					const struct map_op *op,
					unsigned int *flags)
{
	*flags = op->flags;
	if (op->flags & IOMAP_REPORT)
		return set->report;
	if (!(op->flags & (IOMAP_WRITE | IOMAP_ZERO)))
		return set->read;
	if (op->flags & IOMAP_ZERO || ctx->io.path == IOMAP_IO_BUFFERED)
		return set->buffered_write;
	if (ctx->io.path == IOMAP_IO_DIRECT) {
		*flags |= IOMAP_DIRECT;
		return set->direct_write;
	}
	*flags |= IOMAP_DAX;
	return set->dax_write;
}

struct map_out {
	struct imc_ctx *ctx;
	struct imc_json j;
	struct imc_wbuf w; /* the rows of the table */
};

/* "%12lld %12llu %-9s %-12s ADDR\n", without printf per row. */
static void map_row_text(struct map_out *mo, const struct iomap *m,
			 const char *flags)
{
	const char *type = iomap_type_name(m->type);
	const char *fl = flags[0] ? flags : "-";
	size_t fl_len = strlen(fl);
	char *row = imc_wbuf_room(&mo->w, 96 + fl_len), num[24], *p = row;

	p = imc_fmt_col(p, num, imc_fmt_i64(num, m->offset), 12, false);
	*p++ = ' ';
	p = imc_fmt_u64_col(p, m->length, 12);
	*p++ = ' ';
	p = imc_fmt_col(p, type, type + strlen(type), 9, true);
	*p++ = ' ';
	p = imc_fmt_col(p, fl, fl + fl_len, 12, true);
	*p++ = ' ';
	if (m->addr == IOMAP_NULL_ADDR)
		*p++ = '-';
	else
		p = imc_fmt_u64(p, m->addr);
	*p++ = '\n';
	imc_wbuf_put(&mo->w, p);
}

static void map_row_json(struct map_out *mo, const struct iomap *m, char *flags)
{
	char *save = NULL;

	imc_json_obj_begin(&mo->j, NULL);
	imc_json_i64(&mo->j, "offset", m->offset);
	imc_json_u64(&mo->j, "length", m->length);
	imc_json_str(&mo->j, "type", iomap_type_name(m->type));
	imc_json_arr_begin(&mo->j, "flags");
	for (char *f = strtok_r(flags, ",", &save); f;
	     f = strtok_r(NULL, ",", &save))
		imc_json_str(&mo->j, NULL, f);
	imc_json_arr_end(&mo->j);
	if (m->addr == IOMAP_NULL_ADDR)
		imc_json_null(&mo->j, "addr");
	else
		imc_json_u64(&mo->j, "addr", m->addr);
	imc_json_obj_end(&mo->j);
}

static void map_row(struct map_out *mo, const struct iomap *m)
{
	char flags[128];

	iomap_flags_names(m->flags, flags, sizeof(flags));
	if (mo->ctx->json)
		map_row_json(mo, m, flags);
	else
		map_row_text(mo, m, flags);
}

/* The caller-owned iomap_iter loop; nothing is written, so 0 bytes done. */
static int map_walk(struct map_out *mo, struct imc_file *f,
		    const struct iomap_ops *ops, unsigned int flags,
		    uint64_t off, uint64_t len)
{
	struct iomap_iter iter = {
		.inode = f->inode,
		.pos = (loff_t)off,
		.len = len,
		.flags = flags,
	};
	int ret;

	while ((ret = iomap_iter(&iter, ops)) > 0) {
		map_row(mo, &iter.iomap);
		iter.status = iomap_iter_advance(&iter, iomap_length(&iter));
	}
	return ret;
}

/*
 * Where the default range ends: i_size, or the end of the last extent
 * past it (a KEEP_SIZE preallocation), which the kernel's FIEMAP lists
 * too.  The report table maps past EOF, one call per extent or hole.
 */
static int map_default_end(struct imc_file *f, uint64_t *end)
{
	const struct iomap_ops *ops = f->fs->ops->iomap->report;
	struct iomap_iter iter = {
		.inode = f->inode,
		.pos = f->size,
		.len = (uint64_t)(INT64_MAX - f->size),
		.flags = IOMAP_REPORT,
	};
	int ret;

	*end = f->size > 0 ? (uint64_t)f->size : 0;
	if (!ops || !ops->iomap_begin || f->size < 0)
		return 0;
	while ((ret = iomap_iter(&iter, ops)) > 0) {
		if (iter.iomap.type != IOMAP_HOLE)
			*end = (uint64_t)iter.iomap.offset + iter.iomap.length;
		iter.status = iomap_iter_advance(&iter, iomap_length(&iter));
	}
	/* -ENOENT: nothing to map (as fiemap takes it). */
	return ret == -ENOENT ? 0 : ret;
}

static int map_range(struct imc_ctx *ctx, int argc, char **argv, uint64_t end,
		     uint64_t *off, uint64_t *len)
{
	int ret;

	*off = 0;
	*len = end;
	if (argc > 0 && (ret = imc_arg_size(ctx, "offset", argv[0], off)))
		return ret;
	if (argc > 1) {
		if ((ret = imc_arg_size(ctx, "length", argv[1], len)))
			return ret;
	} else {
		*len = *off < end ? end - *off : 0;
	}
	if (*len > (uint64_t)INT64_MAX - *off)
		return imc_err(ctx, "offset + length", -EFBIG);
	return IMC_EXIT_OK;
}

/* @arg is what to open, @name what the user called it. */
static int map_run(struct imc_ctx *ctx, const char *arg, const char *name,
		   const struct map_op *op, int argc, char **argv)
{
	struct map_out mo = { .ctx = ctx };
	const struct iomap_ops *ops;
	struct imc_file f;
	unsigned int flags;
	uint64_t off, len, end;
	int ret;

	ret = imc_file_open(ctx, arg, &f);
	if (ret)
		return ret;
	f.name = name;
	ret = map_default_end(&f, &end);
	if (ret < 0) {
		ret = imc_err(ctx, name, ret);
		goto out;
	}
	ret = map_range(ctx, argc, argv, end, &off, &len);
	if (ret)
		goto out;
	ops = pick_ops(ctx, f.fs->ops->iomap, op, &flags);
	if (!ops || !ops->iomap_begin) {
		ret = imc_err(ctx, op->name, -EOPNOTSUPP);
		goto out;
	}
	if (ctx->json) {
		imc_json_init(&mo.j, ctx->out);
		imc_json_obj_begin(&mo.j, NULL);
		imc_json_str(&mo.j, "file", name);
		imc_json_str(&mo.j, "op", op->name);
		imc_json_arr_begin(&mo.j, "mappings");
	} else if (!ctx->quiet) {
		fprintf(ctx->out, "%12s %12s %-9s %-12s %s\n", "OFFSET",
			"LENGTH", "TYPE", "FLAGS", "ADDR");
	}
	mo.w.out = ctx->out;
	ret = len ? map_walk(&mo, &f, ops, flags, off, len) : 0;
	imc_wbuf_flush(&mo.w);
	if (ctx->json) {
		imc_json_arr_end(&mo.j);
		imc_json_obj_end(&mo.j);
		imc_json_end(&mo.j);
	}
	ret = ret < 0 ? imc_err(ctx, name, ret) : IMC_EXIT_OK;
out:
	imc_file_close(&f);
	return ret;
}

/* Mutating ops open a copy of the image read-write; the original stays. */
static int map_on_copy(struct imc_ctx *ctx, const struct imc_spec *sp,
		       const char *name, const struct map_op *op, int argc,
		       char **argv)
{
	char *tmp, *arg;
	/* The copy holds what the shell has not written back yet. */
	int ret = imc_fs_close(ctx);

	if (!ret)
		ret = imc_image_tmpcopy(sp->image, &tmp);
	if (ret)
		return imc_err(ctx, sp->image, ret);
	if (asprintf(&arg, "%s:%s", tmp, sp->path) < 0) {
		unlink(tmp);
		free(tmp);
		return imc_err(ctx, "copy", -ENOMEM);
	}
	ret = imc_fs_open(ctx, tmp, true);
	if (ret)
		ret = imc_err(ctx, sp->image, ret);
	else
		ret = map_run(ctx, arg, name, op, argc, argv);
	imc_fs_close(ctx);
	unlink(tmp);
	free(tmp);
	free(arg);
	return ret;
}

static int cmd_map(struct imc_ctx *ctx, int argc, char **argv)
{
	const struct map_op *op = &map_ops[0];
	struct imc_spec sp;
	int c, ret;

	while ((c = imc_getopt(argc, argv, &imc_cmd_map)) != -1) {
		size_t i;

		for (i = 0; i < sizeof(map_ops) / sizeof(map_ops[0]); i++)
			if (!strcmp(optarg, map_ops[i].name))
				break;
		if (i == sizeof(map_ops) / sizeof(map_ops[0])) {
			fprintf(ctx->err, "iomapctl: map: bad --op '%s'\n",
				optarg);
			return imc_usage(ctx, &imc_cmd_map);
		}
		op = &map_ops[i];
	}
	ret = imc_spec_parse(ctx, argv[optind], &sp);
	if (ret)
		return ret;
	if (!sp.image) {
		fprintf(ctx->err, "iomapctl: map: %s: give IMAGE:PATH (the "
			"kernel does not show its iomaps)\n", argv[optind]);
		ret = IMC_EXIT_USAGE;
	} else if (op->mutates) {
		ret = map_on_copy(ctx, &sp, argv[optind], op, argc - optind - 1,
				  argv + optind + 1);
	} else {
		ret = map_run(ctx, argv[optind], argv[optind], op,
			      argc - optind - 1, argv + optind + 1);
	}
	imc_spec_free(&sp);
	return ret;
}

const struct imc_cmd imc_cmd_map = {
	.name = "map",
	.args = "[--op read|write|zero|report|dax] IMAGE:PATH [OFFSET [LENGTH]]",
	.oneline = "print the iomaps the filesystem returns for an operation",
	.help = map_help,
	.fn = cmd_map,
	.argmin = 1,
	.argmax = 3,
	.flags = IMC_CMD_NEEDS_FS | IMC_CMD_SEES_CACHE,
	.longopts = map_longopts,
	.shortopts = "",
	.complete = 'f',
};
