// SPDX-License-Identifier: GPL-2.0
/* helpers.c - test helpers: temporary directories, commands, images. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "helpers.h"
#include "iomapctl/io.h"

char *t_tmpdir(void)
{
	const char *base = getenv("TMPDIR");
	char *dir;

	cr_assert(asprintf(&dir, "%s/iomapctl-test-XXXXXX",
			   base ? base : "/tmp") > 0);
	cr_assert_not_null(mkdtemp(dir), "mkdtemp %s", dir);
	return dir;
}

char *t_memdir(void)
{
	char *dir;

	/* Tens of thousands of small host files: on this VM's disk (mounted
	 * with discard) creating them costs more than the test itself. */
	if (access("/dev/shm", W_OK))
		return t_tmpdir();
	cr_assert(asprintf(&dir, "/dev/shm/iomapctl-test-XXXXXX") > 0);
	cr_assert_not_null(mkdtemp(dir), "mkdtemp %s", dir);
	return dir;
}

void t_tmpdir_remove(char *dir)
{
	if (!dir)
		return;
	t_sh("rm -rf '%s'", dir);
	free(dir);
}

static int t_vsh(char **out, const char *fmt, va_list ap)
{
	char *cmd;
	FILE *p;
	size_t len = 0, cap = 4096;
	char *buf;
	int status;

	cr_assert(vasprintf(&cmd, fmt, ap) > 0);
	p = popen(cmd, "r");
	cr_assert_not_null(p, "popen %s", cmd);
	buf = malloc(cap);
	cr_assert_not_null(buf);
	for (;;) {
		size_t n = fread(buf + len, 1, cap - len - 1, p);

		len += n;
		if (n == 0)
			break;
		if (len + 1 == cap) {
			cap *= 2;
			buf = realloc(buf, cap);
			cr_assert_not_null(buf);
		}
	}
	buf[len] = '\0';
	status = pclose(p);
	free(cmd);
	if (out)
		*out = buf;
	else
		free(buf);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int t_sh(const char *fmt, ...)
{
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = t_vsh(NULL, fmt, ap);
	va_end(ap);
	return ret;
}

int t_sh_out(char **out, const char *fmt, ...)
{
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = t_vsh(out, fmt, ap);
	va_end(ap);
	return ret;
}

int t_can_loop_mount(void)
{
	char *dir;
	int ok;

	if (geteuid() != 0)
		return 0;
	dir = t_tmpdir();
	ok = t_sh("cd '%s' && truncate -s 8M img && mke2fs -q -t ext4 img && "
		  "mkdir m && mount -o loop,ro img m 2>/dev/null && umount m",
		  dir) == 0;
	t_tmpdir_remove(dir);
	return ok;
}

int t_dax_maps(const char *img)
{
	struct iomap_io_params p = { .path = IOMAP_IO_DAX };
	struct iomap_dev *dev;
	int ret = iomap_dev_open(img, false, &p, &dev);

	if (ret == -EOPNOTSUPP)
		return 0;
	cr_assert_eq(ret, 0, "DAX open of %s: %d", img, ret);
	cr_assert_eq(iomap_dev_close(dev), 0);
	return 1;
}

#define M(x) (1 + IOMAP_MAPPER_##x)
const struct t_mapper_spec t_mappers[] = {
	{ "iomap", IOMAP_MAPPER_IOMAP, { 0 } },
	{ "bh", IOMAP_MAPPER_BH, { 0 } },
	{ "hybrid", IOMAP_MAPPER_HYBRID, { 0 } },
	{ "bh,xattr=iomap,report=iomap,direct=iomap",
	  IOMAP_MAPPER_BH,
	  { [IOMAP_OP_XATTR] = M(IOMAP),
	    [IOMAP_OP_REPORT] = M(IOMAP),
	    [IOMAP_OP_DIRECT] = M(IOMAP) } },
	{ "bh,write=iomap", IOMAP_MAPPER_BH, { [IOMAP_OP_WRITE] = M(IOMAP) } },
	{ "iomap,write=bh", IOMAP_MAPPER_IOMAP, { [IOMAP_OP_WRITE] = M(BH) } },
	{ "hybrid,read=bh", IOMAP_MAPPER_HYBRID, { [IOMAP_OP_READ] = M(BH) } },
	{ "bh,write=hybrid", IOMAP_MAPPER_BH, { [IOMAP_OP_WRITE] = M(HYBRID) } },
};
const int T_NR_MAPPERS = (int)(sizeof(t_mappers) / sizeof(t_mappers[0]));

enum iomap_mapper t_spec_mapper(int mi, enum iomap_op op)
{
	const struct t_mapper_spec *s = &t_mappers[mi];

	return s->op[op] ? (enum iomap_mapper)(s->op[op] - 1) : s->base;
}

void t_mapper_params(int mi, struct iomap_io_params *p)
{
	p->mapper = t_mappers[mi].base;
	memcpy(p->op_mapper, t_mappers[mi].op, sizeof(p->op_mapper));
}

enum iomap_op t_path_op(enum iomap_io_path path)
{
	static const enum iomap_op ops[] = { IOMAP_OP_READ, IOMAP_OP_DIRECT,
					     IOMAP_OP_DAX };

	return ops[path];
}

bool t_spec_redundant(int mi, enum iomap_io_path path)
{
	/* Writes on every path zero a gap past EOF by the write mapper. */
	enum iomap_op a = t_path_op(path), b = IOMAP_OP_WRITE;

	if (path == IOMAP_IO_DAX)
		b = IOMAP_OP_DAX;
	for (int n = 0; n < mi; n++)
		if (t_spec_mapper(n, a) == t_spec_mapper(mi, a) &&
		    t_spec_mapper(n, b) == t_spec_mapper(mi, b))
			return true;
	return false;
}

void t_wait_group_gone(pid_t pgid)
{
	for (int i = 0; i < 10000 && kill(-pgid, 0) == 0; i++)
		usleep(1000);
	cr_assert(kill(-pgid, 0) < 0 && errno == ESRCH,
		  "process group %d outlived SIGKILL", (int)pgid);
}
