// SPDX-License-Identifier: GPL-2.0
/* util.c - helpers every command shares: messages, sizes, human units. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <string.h>

#include "iomapctl/imc.h"
#include "iomapctl/io.h"

const char *imc_strerror(int err)
{
	if (err < 0)
		err = -err;
	/* fsa_probe's "nobody claims it" deserves words a user understands. */
	if (err == ENODATA)
		return "not a filesystem image iomapctl can read";
	return strerror(err);
}

int imc_err(struct imc_ctx *ctx, const char *what, int err)
{
	fprintf(ctx->err, "iomapctl: %s: %s: %s\n", ctx->cmdname, what,
		imc_strerror(err));
	return IMC_EXIT_FAIL;
}

int imc_errf(struct imc_ctx *ctx, const char *fmt, ...)
{
	va_list ap;

	fprintf(ctx->err, "iomapctl: %s: ", ctx->cmdname);
	va_start(ap, fmt);
	vfprintf(ctx->err, fmt, ap);
	va_end(ap);
	fputc('\n', ctx->err);
	return IMC_EXIT_FAIL;
}

static int size_shift(char c, unsigned int *shift)
{
	switch (tolower((unsigned char)c)) {
	case 's': *shift = 9; return 0;
	case 'k': *shift = 10; return 0;
	case 'm': *shift = 20; return 0;
	case 'g': *shift = 30; return 0;
	case 't': *shift = 40; return 0;
	default: return -EINVAL;
	}
}

int imc_parse_size(const char *s, uint64_t *out)
{
	uint64_t val = 0;
	unsigned int shift = 0;
	const char *p = s;

	/* Digits only: strtoull would accept "-1", " 1" and "0x10". */
	if (!isdigit((unsigned char)*p))
		return -EINVAL;
	for (; isdigit((unsigned char)*p); p++) {
		unsigned int d = (unsigned int)(*p - '0');

		if (val > ((uint64_t)INT64_MAX - d) / 10)
			return -ERANGE;
		val = val * 10 + d;
	}
	if (*p && size_shift(*p, &shift) == 0)
		p++;
	/* "4kb", "1mb": the trailing b is tolerated after a multiplier. */
	if (shift && shift != 9 && (*p == 'b' || *p == 'B'))
		p++;
	if (*p)
		return -EINVAL;
	if (shift && val > ((uint64_t)INT64_MAX >> shift))
		return -ERANGE;
	*out = val << shift;
	return 0;
}

int imc_arg_size(struct imc_ctx *ctx, const char *what, const char *s,
		 uint64_t *out)
{
	int ret = imc_parse_size(s, out);

	if (ret == 0)
		return IMC_EXIT_OK;
	fprintf(ctx->err, "iomapctl: %s: bad %s '%s': %s\n", ctx->cmdname,
		what, s, ret == -ERANGE ? "too large" :
		"expected a number with an optional k, m, g, t or s suffix");
	return IMC_EXIT_USAGE;
}

const char *imc_human(uint64_t bytes, char *buf, size_t size)
{
	static const char *const units[] = { "KiB", "MiB", "GiB", "TiB",
					     "PiB", "EiB" };
	double v = (double)bytes;
	int u = -1;

	if (bytes < 1024) {
		snprintf(buf, size, "%llu B", (unsigned long long)bytes);
		return buf;
	}
	while (v >= 1024 && u < 5) {
		v /= 1024;
		u++;
	}
	snprintf(buf, size, "%.1f %s", v, units[u]);
	return buf;
}

/* The index of the @n bytes at @word among the @count names, or -1. */
static int word_index(const char *word, size_t n, const char *(*name)(int),
		      int count)
{
	for (int i = 0; i < count; i++)
		if (strlen(name(i)) == n && !strncmp(word, name(i), n))
			return i;
	return -1;
}

static const char *mapper_word(int i)
{
	return iomap_mapper_name((enum iomap_mapper)i);
}

static const char *op_word(int i)
{
	return iomap_op_name((enum iomap_op)i);
}

static int bad_mapper(struct imc_ctx *ctx, const char *spec, const char *word,
		      size_t n, const char *why)
{
	fprintf(ctx->err, "iomapctl: bad --mapper '%s': '%.*s' %s\n", spec,
		(int)n, word, why);
	return IMC_EXIT_USAGE;
}

int imc_parse_mapper(struct imc_ctx *ctx, const char *spec,
		     struct iomap_io_params *io)
{
	static const char mappers[] = "is not a mapper (iomap, bh, hybrid)";
	unsigned char ops[IOMAP_OP_COUNT] = { 0 };
	const char *w = spec;
	int base = -1;

	for (;;) {
		size_t n = strcspn(w, ","), k = strcspn(w, "=");
		int op, m;

		if (base < 0) {
			base = word_index(w, n, mapper_word,
					  IOMAP_MAPPER_COUNT);
			if (base < 0)
				return bad_mapper(ctx, spec, w, n, mappers);
		} else if (k >= n) {
			return bad_mapper(ctx, spec, w, n, "is not OP=MAPPER");
		} else {
			op = word_index(w, k, op_word, IOMAP_OP_COUNT);
			if (op < 0)
				return bad_mapper(ctx, spec, w, k,
						  "is not an operation (xattr, "
						  "report, direct, write, "
						  "read, dax)");
			if (ops[op])
				return bad_mapper(ctx, spec, w, k,
						  "is named twice");
			m = word_index(w + k + 1, n - k - 1, mapper_word,
				       IOMAP_MAPPER_COUNT);
			if (m < 0)
				return bad_mapper(ctx, spec, w + k + 1,
						  n - k - 1, mappers);
			ops[op] = (unsigned char)(m + 1);
		}
		if (!w[n])
			break;
		w += n + 1;
	}
	io->mapper = (enum iomap_mapper)base;
	memcpy(io->op_mapper, ops, sizeof(io->op_mapper));
	return 0;
}

const char *imc_mapper_spec(const struct iomap_io_params *io, char *buf,
			    size_t size)
{
	size_t used;

	snprintf(buf, size, "%s", iomap_mapper_name(io->mapper));
	for (int op = 0; op < IOMAP_OP_COUNT; op++) {
		enum iomap_mapper m = iomap_io_mapper(io, (enum iomap_op)op);

		used = strlen(buf);
		if (m != io->mapper)
			snprintf(buf + used, size - used, ",%s=%s",
				 iomap_op_name((enum iomap_op)op),
				 iomap_mapper_name(m));
	}
	return buf;
}
