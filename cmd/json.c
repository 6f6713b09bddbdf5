// SPDX-License-Identifier: GPL-2.0
/* json.c - a tiny streaming JSON writer with correct string escaping. */
#include <math.h>

#include "cmd.h"

void imc_json_init(struct imc_json *j, FILE *out)
{
	j->out = out;
	j->depth = 0;
	j->first[0] = true;
}

static void put_string(FILE *out, const char *s)
{
	fputc('"', out);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '"': fputs("\\\"", out); break;
		case '\\': fputs("\\\\", out); break;
		case '\n': fputs("\\n", out); break;
		case '\r': fputs("\\r", out); break;
		case '\t': fputs("\\t", out); break;
		case '\b': fputs("\\b", out); break;
		case '\f': fputs("\\f", out); break;
		default:
			/* Control bytes must be escaped; 0x7f is legal but ugly. */
			if (*p < 0x20 || *p == 0x7f)
				fprintf(out, "\\u%04x", *p);
			else
				fputc(*p, out);
		}
	}
	fputc('"', out);
}

/* Comma and key before a value. */
static void prefix(struct imc_json *j, const char *key)
{
	if (!j->first[j->depth])
		fputc(',', j->out);
	j->first[j->depth] = false;
	if (key) {
		put_string(j->out, key);
		fputc(':', j->out);
	}
}

static void open_(struct imc_json *j, const char *key, char c)
{
	prefix(j, key);
	fputc(c, j->out);
	if (j->depth + 1 < IMC_JSON_MAX_DEPTH)
		j->depth++;
	j->first[j->depth] = true;
}

static void close_(struct imc_json *j, char c)
{
	fputc(c, j->out);
	if (j->depth > 0)
		j->depth--;
}

void imc_json_obj_begin(struct imc_json *j, const char *key)
{
	open_(j, key, '{');
}

void imc_json_obj_end(struct imc_json *j)
{
	close_(j, '}');
}

void imc_json_arr_begin(struct imc_json *j, const char *key)
{
	open_(j, key, '[');
}

void imc_json_arr_end(struct imc_json *j)
{
	close_(j, ']');
}

void imc_json_str(struct imc_json *j, const char *key, const char *val)
{
	prefix(j, key);
	put_string(j->out, val);
}

/* Numbers are most of a fiemap or map of many extents: no printf. */
void imc_json_u64(struct imc_json *j, const char *key, uint64_t val)
{
	char num[24];

	prefix(j, key);
	fwrite(num, 1, (size_t)(imc_fmt_u64(num, val) - num), j->out);
}

void imc_json_i64(struct imc_json *j, const char *key, int64_t val)
{
	char num[24];

	prefix(j, key);
	fwrite(num, 1, (size_t)(imc_fmt_i64(num, val) - num), j->out);
}

void imc_json_double(struct imc_json *j, const char *key, double val)
{
	prefix(j, key);
	/* JSON has no NaN or infinity. */
	if (isfinite(val))
		fprintf(j->out, "%.17g", val);
	else
		fputs("null", j->out);
}

void imc_json_bool(struct imc_json *j, const char *key, bool val)
{
	prefix(j, key);
	fputs(val ? "true" : "false", j->out);
}

void imc_json_null(struct imc_json *j, const char *key)
{
	prefix(j, key);
	fputs("null", j->out);
}

void imc_json_end(struct imc_json *j)
{
	fputc('\n', j->out);
	fflush(j->out);
}
