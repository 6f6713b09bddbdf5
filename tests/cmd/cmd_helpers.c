// SPDX-License-Identifier: GPL-2.0
/* cmd_helpers.c - running the iomapctl binary from the tests. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <criterion/criterion.h>

#include "cmd_helpers.h"

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t len = 0;

	cr_assert_not_null(f, "open %s", path);
	/* An empty file leaves getdelim's buffer unterminated. */
	if (getdelim(&buf, &len, '\0', f) < 0) {
		free(buf);
		buf = strdup("");
	}
	fclose(f);
	return buf;
}

int tc_run(const char *dir, char **out, char **err, const char *fmt, ...)
{
	char *args, *errpath;
	va_list ap;
	int ret;

	va_start(ap, fmt);
	cr_assert(vasprintf(&args, fmt, ap) >= 0);
	va_end(ap);
	cr_assert(asprintf(&errpath, "%s/.stderr", dir) > 0);
	ret = t_sh_out(out, "cd '%s' && %s %s 2>'%s' </dev/null", dir,
		       IOMAPCTL_BINARY, args, errpath);
	if (err)
		*err = slurp(errpath);
	free(errpath);
	free(args);
	return ret;
}

int tc_json(const char *doc, const char *check)
{
	FILE *p;
	int status;

	/* Through the environment: @check may hold any quote. */
	cr_assert_eq(setenv("TC_JSON_CHECK", check, 1), 0);
	p = popen("python3 -c 'import json, os, sys\n"
		  "d = json.load(sys.stdin)\n"
		  "sys.exit(0 if eval(os.environ[\"TC_JSON_CHECK\"]) else 3)'",
		  "w");
	cr_assert_not_null(p);
	fputs(doc, p);
	status = pclose(p);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int tc_has_fiemap(const char *dir)
{
	return t_sh("cd '%s' && echo x > .fm && xfs_io -c 'fiemap' .fm "
		    ">/dev/null 2>&1 && xfs_io -c 'fiemap' .fm | grep -q '0:'",
		    dir) == 0;
}

int tc_mkimage(const char *dir)
{
	return t_sh("cd '%s' && mke2fs -q -F -t ext4 -d src img 16M "
		    ">/dev/null 2>&1", dir);
}

int tc_mkimage_stale_tail(const char *dir, const char *img)
{
	return t_sh(
		"cd '%s' && rm -rf tsrc && mkdir tsrc && xfs_io -f -c "
		"'pwrite -q -S 0xcd 0 4k' tsrc/tail && mke2fs -q -F -t ext4 "
		"-b 4096 -d tsrc '%s' 4M >/dev/null 2>&1 && debugfs -w -R "
		"'sif /tail size 1000' '%s' >/dev/null 2>&1",
		dir, img, img);
}
