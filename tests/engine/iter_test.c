// SPDX-License-Identifier: GPL-2.0
/* iter_test.c - the iomap_iter contract, driven by the table filesystem. */
#include <errno.h>
#include <criterion/criterion.h>

#include "memfs.h"

TestSuite(iter);

Test(iter, placeholder_compiles)
{
	struct memfs fs;

	memfs_init(&fs, 12, 8192, NULL, 0);
	cr_assert_eq(fs.inode.size, 8192);
}
