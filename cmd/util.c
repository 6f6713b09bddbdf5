// SPDX-License-Identifier: GPL-2.0
/* util.c - helpers every command shares: messages, sizes, human units. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <string.h>

#include "iomapctl/imc.h"

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
