// SPDX-License-Identifier: GPL-2.0
/* util_test.c - unit tests of the CLI helpers: sizes, paths, JSON, progress. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "iomapctl/imc.h"

TestSuite(util);

struct size_case {
	const char *in;
	int ret;
	uint64_t val;
};

Test(util, parse_size_table)
{
	static const struct size_case cases[] = {
		{ "0", 0, 0 },
		{ "4096", 0, 4096 },
		{ "4k", 0, 4096 },
		{ "4K", 0, 4096 },
		{ "4kb", 0, 4096 },
		{ "1m", 0, 1 << 20 },
		{ "2g", 0, 2ULL << 30 },
		{ "3t", 0, 3ULL << 40 },
		{ "8s", 0, 4096 },
		{ "9223372036854775807", 0, INT64_MAX },
		{ "9223372036854775808", -ERANGE, 0 },
		{ "99999999999999999999999", -ERANGE, 0 },
		{ "8388608t", -ERANGE, 0 },
		{ "8388607t", 0, 8388607ULL << 40 },
		{ "-1", -EINVAL, 0 },
		{ "+1", -EINVAL, 0 },
		{ " 1", -EINVAL, 0 },
		{ "", -EINVAL, 0 },
		{ "k", -EINVAL, 0 },
		{ "1q", -EINVAL, 0 },
		{ "1kk", -EINVAL, 0 },
		{ "1sb", -EINVAL, 0 },
		{ "0x10", -EINVAL, 0 },
		{ "1.5m", -EINVAL, 0 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t v = 12345;
		int ret = imc_parse_size(cases[i].in, &v);

		cr_expect_eq(ret, cases[i].ret, "'%s': ret %d", cases[i].in, ret);
		if (ret == 0)
			cr_expect_eq(v, cases[i].val, "'%s' = %llu", cases[i].in,
				     (unsigned long long)v);
	}
}

Test(util, path_join_table)
{
	static const char *const cases[][3] = {
		{ "/", "etc/hosts", "/etc/hosts" },
		{ "/a/b", "../c", "/a/c" },
		{ "/a/b", "/x//y/./z/", "/x/y/z" },
		{ "/a", "../../..", "/" },
		{ "/a", ".", "/a" },
		{ "/", "", "/" },
	};
	char out[PATH_MAX];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cr_assert_eq(imc_path_join(cases[i][0], cases[i][1], out,
					   sizeof(out)), 0);
		cr_expect_str_eq(out, cases[i][2], "%s + %s", cases[i][0],
				 cases[i][1]);
	}
	cr_expect_eq(imc_path_join("/", "abcdef", out, 4), -ENAMETOOLONG);
}

Test(util, json_escapes_and_nests)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct imc_json j;

	imc_json_init(&j, f);
	imc_json_obj_begin(&j, NULL);
	imc_json_str(&j, "s", "a\"b\\c\n\t\x01\x7f/é");
	imc_json_arr_begin(&j, "a");
	imc_json_u64(&j, NULL, 1);
	imc_json_i64(&j, NULL, -2);
	imc_json_null(&j, NULL);
	imc_json_bool(&j, NULL, true);
	imc_json_obj_begin(&j, NULL);
	imc_json_obj_end(&j);
	imc_json_arr_end(&j);
	imc_json_double(&j, "x", 0.5);
	imc_json_double(&j, "nan", 0.0 / 0.0);
	imc_json_obj_end(&j);
	imc_json_end(&j);
	fclose(f);
	cr_expect_str_eq(buf, "{\"s\":\"a\\\"b\\\\c\\n\\t\\u0001\\u007f/é\","
			 "\"a\":[1,-2,null,true,{}],\"x\":0.5,\"nan\":null}\n");
	free(buf);
}

Test(util, progress_line)
{
	char line[160];

	imc_progress_format(line, sizeof(line), 50 << 20, 100 << 20,
			    1000000000ULL);
	cr_expect_str_eq(line, "[##########..........]  50% 50.0 MiB / "
			 "100.0 MiB  50.0 MiB/s  ETA 0:01");
	imc_progress_format(line, sizeof(line), 3 << 20, 0, 2000000000ULL);
	cr_expect_str_eq(line, "3.0 MiB  1.5 MiB/s");
}

Test(util, command_table_sorted_and_complete)
{
	for (size_t i = 0; imc_cmdtab[i]; i++) {
		const struct imc_cmd *c = imc_cmdtab[i];

		cr_expect(c->name && c->args && c->oneline && c->help && c->fn,
			  "%s incomplete", c->name);
		if (imc_cmdtab[i + 1])
			cr_expect_lt(strcmp(c->name, imc_cmdtab[i + 1]->name), 0,
				     "table not sorted at %s", c->name);
		cr_expect_eq(imc_cmd_find(c->name), c);
	}
}
