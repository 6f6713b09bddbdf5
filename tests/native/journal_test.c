// SPDX-License-Identifier: GPL-2.0
/* journal_test.c - recovery: a transaction committed to the journal but not
 * yet written in place is applied at open (laid over the image when read
 * only); a torn one is ignored and the image is the last commit. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "native_util.h"

static char *dir, *img, *crash;

#define NREC 300

/* Refcount records 0, 3, 6 ...: a transaction of several blocks. */
static void add_records(struct fsa_native_fs *nfs)
{
	tn_add_refcounts(nfs, NREC, 3);
}

static void setup(void)
{
	dir = t_tmpdir();
	img = tn_mkfs(dir, "img", 16 << 20, 1024);
	/* crash = the image before, with the journal of the change after. */
	crash = tn_crash_copy(dir, img, add_records);
}

static void teardown(void)
{
	free(img);
	free(crash);
	t_tmpdir_remove(dir);
}

TestSuite(journal, .init = setup, .fini = teardown);

static uint64_t records(const char *path)
{
	struct fsa_native_fs *nfs = tn_open(path, false);
	uint64_t n = tn_count_records(nfs, FSA_NATIVE_T_REFCOUNT);

	cr_assert_eq(n, nfs->sb.trees[FSA_NATIVE_T_REFCOUNT].records);
	cr_assert_eq(tn_check_flags(nfs, FSA_NATIVE_CHECK_TREES), 0);
	tn_close(nfs);
	return n;
}

Test(journal, committed_transaction_is_replayed)
{
	cr_assert_eq(records(img), NREC);
	/* Read-only: applied in memory, the image not written. */
	cr_assert_eq(t_sh("cp '%s' '%s.before'", crash, crash), 0);
	cr_expect_eq(records(crash), NREC);
	cr_expect_eq(t_sh("cmp -s '%s' '%s.before'", crash, crash), 0);
	/* Read-write: written in place; then the journal is history. */
	tn_close(tn_open(crash, true));
	cr_expect_neq(t_sh("cmp -s '%s' '%s.before'", crash, crash), 0);
	cr_expect_eq(t_sh("cmp -s '%s' '%s'", crash, img), 0,
		     "replayed image differs from the committed one");
	cr_expect_eq(records(crash), NREC);
}

/* The journal block holding the commit record. */
static uint64_t commit_block(const char *path)
{
	struct fsa_native_fs *nfs = tn_open(path, false);
	uint8_t *b = malloc(nfs->block_size);
	uint64_t found = 0;

	for (uint64_t j = 1; j <= nfs->sb.journal_blocks && !found; j++) {
		cr_assert_eq(fsa_native_pread(nfs, b, nfs->block_size,
					      j * nfs->block_size),
			     0);
		if (((struct fsa_native_hdr *)b)->magic ==
		    FSA_NATIVE_MAGIC_JCOMMIT)
			found = j;
	}
	free(b);
	tn_close(nfs);
	cr_assert_neq(found, 0, "no commit record");
	return found;
}

Test(journal, torn_commit_record_is_ignored)
{
	uint64_t j = commit_block(crash);

	cr_assert_eq(t_sh("dd if=/dev/zero of='%s' bs=1024 seek=%llu count=1 "
			  "conv=notrunc status=none",
			  crash, (unsigned long long)j),
		     0);
	cr_expect_eq(records(crash), 0);
	tn_close(tn_open(crash, true));
	cr_expect_eq(records(crash), 0);
}

Test(journal, damaged_journal_block_is_ignored)
{
	/* Block 3 of the journal: a metadata block image of the transaction. */
	cr_assert_eq(t_sh("printf Z | dd of='%s' bs=1 seek=%d conv=notrunc "
			  "status=none",
			  crash, 3 * 1024 + 200),
		     0);
	cr_expect_eq(records(crash), 0);
}
