// SPDX-License-Identifier: GPL-2.0
/* mount_test.c - a native image served through FUSE: the kernel's file
 * operations (create, write, rename, link, unlink, mkdir, rmdir, symlink,
 * truncate, xattrs) reach the native adapter, and the image is clean and
 * holds the result after unmount. */
#include <stdio.h>
#include <stdlib.h>

#include <criterion/criterion.h>

#include "../cmd/cmd_helpers.h"
#include "native_util.h"

static char *dir;
static struct tc_mount m;

static void setup(void)
{
	dir = t_tmpdir();
	free(tn_mkfs(dir, "img", 64 << 20, 4096));
}

static void teardown(void)
{
	tc_mount_fini(&m, dir);
}

TestSuite(mount, .init = setup, .fini = teardown);

Test(mount, namespace_and_data_through_fuse)
{
	char path[600];

	tc_need_fuse();
	tc_mount(&m, dir, "", "");
	cr_assert_eq(
		t_sh("cd '%s/m' && head -c 200000 /dev/urandom > a && "
		     "cp a ../a.host && mkdir -p d/e && mv a d/e/b && "
		     "ln d/e/b c && ln -s d/e/b s && cmp s ../a.host && "
		     "echo tail >> c && truncate -s 100000 c && "
		     "head -c 100000 ../a.host | cmp - d/e/b && "
		     "python3 -c \"import os;os.setxattr('c','user.k',"
		     "b'v');assert os.getxattr('d/e/b','user.k')==b'v'\" "
		     "&& mkdir x && rmdir x && rm s && ! rmdir d 2>/dev/null",
		     dir),
		0);
	cr_assert_eq(tc_umount(&m), 0);
	snprintf(path, sizeof(path), "%s/img", dir);
	tn_assert_clean(path);
	cr_assert_eq(t_sh("cd '%s' && %s cat img:/c > c.out && head -c "
			  "100000 a.host | cmp - c.out && [ $(%s stat img:/c "
			  "| grep -c 'Links: 2') = 1 ]",
			  dir, IOMAPCTL_BINARY, IOMAPCTL_BINARY),
		     0);
}
