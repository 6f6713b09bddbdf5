/* SPDX-License-Identifier: GPL-2.0 */
/* native_util.h - helpers of the native format tests: make, open and check
 * iomapfs images through the adapter's internals. */
#ifndef IOMAPCTL_TESTS_NATIVE_UTIL_H
#define IOMAPCTL_TESTS_NATIVE_UTIL_H

#include <stdbool.h>
#include <stdint.h>

#include "helpers.h"
#include "native.h"

/* @dir/@name, a fresh iomapfs of @size bytes and @bs-byte blocks (malloc'd
 * path).  The UUID is fixed, so images of one test compare. */
char *tn_mkfs(const char *dir, const char *name, uint64_t size,
	      unsigned int bs);
struct fsa_native_fs *tn_open(const char *path, bool rdwr);
/* Commits (read-write) and frees; asserts the commit worked. */
void tn_close(struct fsa_native_fs *nfs);
/* Runs the fsck checks, printing each problem; returns how many. */
int tn_check(struct fsa_native_fs *nfs);
/* The same with FSA_NATIVE_CHECK_* @flags. */
int tn_check_flags(struct fsa_native_fs *nfs, unsigned int flags);
/* Opens @path read-only, asserts it checks clean, closes it. */
void tn_assert_clean(const char *path);
/* Records of @tree, counted by a walk in key order (asserted to end well). */
uint64_t tn_count_records(struct fsa_native_fs *nfs, unsigned int tree);
/* Refcount records at blocks 0, @stride, 2 * @stride ... (@n of them). */
void tn_add_refcounts(struct fsa_native_fs *nfs, uint64_t n, uint64_t stride);
/*
 * @dir/crash (malloc'd path): image @img as it is, with the journal of what
 * @change(nfs) then does to @img, committed: what a crash between the
 * commit record and the in-place writes leaves.
 */
char *tn_crash_copy(const char *dir, const char *img,
		    void (*change)(struct fsa_native_fs *nfs));
/* Runs shell script @s in its own process group and SIGKILLs the group
 * after @us microseconds: true when the kill landed before it ended. */
bool tn_run_and_kill(const char *s, long us);
/* The last step number a killed script logged in @dir/done.log (0: none). */
int tn_done_steps(const char *dir);
/*
 * @script (which logs each finished step to done.log) on a fresh copy
 * @dir/img of @dir/pristine: once to the end, then @kills times SIGKILLed
 * at a random moment (from @seed) shorter than that run; @check(kill
 * number, -1 for the full run) after each.  Most kills must land.
 */
void tn_kill_series(const char *dir, const char *script, int kills,
		    unsigned int seed, void (*check)(int kill_no));

#endif /* IOMAPCTL_TESTS_NATIVE_UTIL_H */
