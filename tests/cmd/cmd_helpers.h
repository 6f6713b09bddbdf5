/* SPDX-License-Identifier: GPL-2.0 */
/* cmd_helpers.h - helpers for the end-to-end tests of the iomapctl binary. */
#ifndef IOMAPCTL_TESTS_CMD_HELPERS_H
#define IOMAPCTL_TESTS_CMD_HELPERS_H

#include <sys/types.h>

#include "helpers.h"

/*
 * Run `iomapctl ARGS` (ARGS built from @fmt, shell syntax) in @dir; stdout
 * into *@out, stderr into *@err (either may be NULL).  Returns the exit
 * status.
 */
int tc_run(const char *dir, char **out, char **err, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Exit status of python3 checking JSON @doc with the expression @check
 * (the document is `d`): 0 when it parses and @check is true. */
int tc_json(const char *doc, const char *check);

/* Descriptors process @pid holds (/proc/PID/fd); 0 is this process. */
int tc_count_fds(pid_t pid);

/* True when the filesystem holding @dir answers FIEMAP (tmpfs does not). */
int tc_has_fiemap(const char *dir);

/* Makes @dir/img (16 MiB ext4) from the tree @dir/src; 0 on success. */
int tc_mkimage(const char *dir);

/*
 * Makes @dir/@img (4 MiB ext4, 4 KiB blocks) holding /tail: 1000 bytes of
 * 0xcd whose block holds 0xcd to its end, as a hostile image may; 0 on
 * success.
 */
int tc_mkimage_stale_tail(const char *dir, const char *img);

/*
 * Image commands need the adapter to claim @dir/img.  ext2 is always built
 * in, so an image it does not claim is a bug: fail, never skip.
 */
#define TC_NEED_ADAPTER(dir)                                                   \
	cr_assert_eq(t_sh("cd '%s' && %s probe --json img | grep -q "           \
			  "'\"source\":\"adapter\"'", (dir), IOMAPCTL_BINARY),  \
		     0, "the ext2 adapter does not claim %s/img", (dir))

/* A running `iomapctl mount` of @dir/img at @dir/m. */
struct tc_mount {
	char dir[512];
	char mnt[600];
	pid_t pid; /* the daemon; 0 when not mounted */
};

/* Skips the test, saying why, where FUSE cannot mount (no /dev/fuse). */
void tc_need_fuse(void);
/*
 * `iomapctl GOPTS -v mount OPTS img m` in @dir, asserting it mounted.
 * The test becomes a subreaper, so the daemon (orphaned when the command
 * returns) is its child and tc_umount() collects its exit status.
 */
void tc_mount(struct tc_mount *m, const char *dir, const char *gopts,
	      const char *opts);
/* What the daemon printed on stderr (malloc'd). */
char *tc_mount_log(const struct tc_mount *m);
/*
 * Unmounts (lazily if still busy after a few tries) and waits up to 60 s
 * for the daemon to write everything back and exit: its exit status, or
 * -1 when it was killed or had to be (logging its stderr when not 0).
 * Does nothing (returns 0) when not
 * mounted, so a fixture's .fini can always call it.
 */
int tc_umount(struct tc_mount *m);

/* A mount test's .fini: unmounts @m and a kernel mount at @dir/k (a test
 * that failed half way leaves them), then removes @dir (may be NULL). */
void tc_mount_fini(struct tc_mount *m, char *dir);

#endif /* IOMAPCTL_TESTS_CMD_HELPERS_H */
