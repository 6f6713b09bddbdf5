// SPDX-License-Identifier: GPL-2.0
/* errors_test.c - exit statuses and messages of every kind of bad call. */
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "cmd_helpers.h"

static char *dir;

static void setup(void)
{
	dir = t_tmpdir();
	cr_assert_eq(t_sh("cd '%s' && printf abc > f", dir), 0);
}

static void teardown(void)
{
	t_tmpdir_remove(dir);
}

TestSuite(errors, .init = setup, .fini = teardown);

struct err_case {
	const char *args;
	int status;
	const char *msg; /* expected in stderr */
};

Test(errors, table)
{
	static const struct err_case cases[] = {
		{ "", 2, "usage: iomapctl" },
		{ "--bogus", 2, "unknown option '--bogus'" },
		{ "nosuchcmd", 2, "nosuchcmd: unknown command" },
		{ "fiemap", 2, "usage: iomapctl fiemap" },
		{ "fiemap --nope f", 2, "fiemap: unknown option '--nope'" },
		{ "fiemap f 1 2 3", 2, "usage: iomapctl fiemap" },
		{ "fiemap f 1x", 2, "bad offset '1x'" },
		{ "fiemap f 0 -1", 2, "unknown option '-1'" },
		{ "fiemap f 0 -- -1", 2, "bad length '-1'" },
		{ "fiemap f 0 0", 2, "length must not be 0" },
		{ "fiemap f 99999999999999999999", 2, "too large" },
		{ "cat f 8388608t", 2, "too large" },
		{ "seek f 0", 2, "one of -a, -d, -h" },
		{ "seek -a f", 2, "usage: iomapctl seek" },
		{ "--io=floppy stat f", 2, "bad value 'floppy' for --io" },
		{ "--mapper stat f", 2, "bad --mapper 'stat': 'stat' is not a mapper" },
		{ "--mapper bh,stat=iomap f", 2,
		  "'stat' is not an operation" },
		{ "--mapper bh,read=bh,read=iomap f", 2, "'read' is named twice" },
		{ "--mapper bh,dax f", 2, "'dax' is not OP=MAPPER" },
		{ "stat f --queue-depth 0", 2, "bad --queue-depth" },
		{ "stat f --json=1", 2, "--json takes no value" },
		{ "stat missing", 1, "iomapctl: stat: missing: No such file or "
				    "directory" },
		{ "fiemap missing.img:/x", 1, "iomapctl: fiemap: missing.img: "
					     "No such file or directory" },
		{ "fiemap f:x", 2, "iomapctl: fiemap: f:x: the path inside the "
				  "image must be absolute" },
		{ "probe missing", 1, "iomapctl: probe: missing: No such file" },
		{ "probe f", 1, "iomapctl: probe: f: not a filesystem image" },
		{ "help nosuch", 2, "help: nosuch: unknown command" },
		{ "help --completion fish", 2, "usage: iomapctl help" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *out, *err;
		int st = tc_run(dir, &out, &err, "%s", cases[i].args);


		cr_expect_eq(st, cases[i].status, "'%s': exit %d, stderr %s",
			     cases[i].args, st, err);
		cr_expect(strstr(err, cases[i].msg) != NULL,
			  "'%s': stderr lacks '%s': %s", cases[i].args,
			  cases[i].msg, err);
		cr_expect_str_eq(out, "", "'%s' printed on stdout: %s",
				 cases[i].args, out);
		free(out);
		free(err);
	}
}

Test(errors, help_and_version_succeed)
{
	char *out;

	cr_expect_eq(tc_run(dir, &out, NULL, "--version"), 0);
	cr_expect(strncmp(out, "iomapctl ", 9) == 0, "%s", out);
	free(out);
	cr_expect_eq(tc_run(dir, &out, NULL, "-h"), 0);
	cr_expect(strstr(out, "usage: iomapctl") != NULL);
	free(out);
	cr_expect_eq(tc_run(dir, &out, NULL, "seek -h"), 2,
		     "seek's -h is SEEK_HOLE, not help");
	free(out);
	cr_expect_eq(tc_run(dir, &out, NULL, "seek --help"), 0);
	cr_expect(strstr(out, "usage: iomapctl seek") != NULL);
	free(out);
}
