// SPDX-License-Identifier: GPL-2.0
/* table_test.c - completions, man page and --help follow the command table. */
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "cmd_helpers.h"

static char *dir;

static void setup(void)
{
	dir = t_tmpdir();
}

static void teardown(void)
{
	t_tmpdir_remove(dir);
}

TestSuite(table, .init = setup, .fini = teardown);

static char *names(void)
{
	char *out;

	cr_assert_eq(tc_run(dir, &out, NULL, "help --names"), 0);
	cr_assert_neq(strlen(out), 0);
	return out;
}

Test(table, completions_are_generated_from_the_table)
{
	static const char *const shells[][2] = {
		{ "bash", "completions/iomapctl.bash" },
		{ "zsh", "completions/_iomapctl" },
	};

	for (int i = 0; i < 2; i++)
		cr_expect_eq(t_sh("%s help --completion %s | diff -u - '%s/%s'",
				  IOMAPCTL_BINARY, shells[i][0],
				  IOMAPCTL_SOURCE_DIR, shells[i][1]), 0,
			     "%s is stale: regenerate it with `iomapctl help "
			     "--completion %s > %s`", shells[i][1],
			     shells[i][0], shells[i][1]);
}

Test(table, bash_completion_completes_commands_and_options)
{
	char *out;

	cr_assert_eq(t_sh_out(&out, "bash -c 'source %s/completions/iomapctl.bash"
			      " && COMP_WORDS=(iomapctl fie) COMP_CWORD=1 && "
			      "_iomapctl && echo ${COMPREPLY[@]} && "
			      "COMP_WORDS=(iomapctl fiemap --x) COMP_CWORD=2 && "
			      "_iomapctl && echo ${COMPREPLY[@]} && "
			      "COMP_WORDS=(iomapctl --mapper b) COMP_CWORD=2 && "
			      "_iomapctl && echo ${COMPREPLY[@]}'",
			      IOMAPCTL_SOURCE_DIR), 0);
	cr_expect_str_eq(out, "fiemap\n--xattr\nbh\n");
	free(out);
}

Test(table, zsh_completion_parses)
{
	if (t_sh("command -v zsh >/dev/null") != 0)
		cr_skip_test("zsh not installed");
	cr_expect_eq(t_sh("zsh -n %s/completions/_iomapctl",
			  IOMAPCTL_SOURCE_DIR), 0);
}

Test(table, man_page_covers_every_command)
{
	char *list = names(), *save = NULL;

	for (char *n = strtok_r(list, "\n", &save); n;
	     n = strtok_r(NULL, "\n", &save))
		cr_expect_eq(t_sh("grep -q '^\\.SS \"\\?%s\\b' %s/docs/iomapctl.1",
				  n, IOMAPCTL_SOURCE_DIR), 0,
			     "docs/iomapctl.1 has no .SS section for %s", n);
	free(list);
	if (t_sh("command -v groff >/dev/null") == 0)
		cr_expect_eq(t_sh("groff -man -Tutf8 -ww -z %s/docs/iomapctl.1 "
				  "2>&1 | grep . && exit 1 || exit 0",
				  IOMAPCTL_SOURCE_DIR), 0, "groff warnings");
}

Test(table, every_command_has_help)
{
	char *list = names(), *save = NULL;

	for (char *n = strtok_r(list, "\n", &save); n;
	     n = strtok_r(NULL, "\n", &save)) {
		char *out;

		cr_expect_eq(tc_run(dir, &out, NULL, "%s --help", n), 0, "%s", n);
		cr_expect(strstr(out, "usage: iomapctl ") == out, "%s: %s", n,
			  out);
		free(out);
		cr_expect_eq(tc_run(dir, &out, NULL, "help %s", n), 0, "%s", n);
		free(out);
	}
	free(list);
}
