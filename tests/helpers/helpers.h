/* SPDX-License-Identifier: GPL-2.0 */
/* helpers.h - test helpers: temporary directories, commands, images. */
#ifndef IOMAPCTL_TESTS_HELPERS_H
#define IOMAPCTL_TESTS_HELPERS_H

#include <stddef.h>

/* A fresh temporary directory, removed (recursively) by t_tmpdir_remove. */
char *t_tmpdir(void);
/* The same in memory (/dev/shm) where there is one, for many host files. */
char *t_memdir(void);
void t_tmpdir_remove(char *dir);

/* Run a shell command built from @fmt; returns its exit status (or -1). */
int t_sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Run a shell command and capture its stdout (NUL-terminated, malloc'd in
 * *@out); returns the exit status.
 */
int t_sh_out(char **out, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* True when we are root and a loop mount works here (for kernel oracles). */
int t_can_loop_mount(void);

/*
 * True when libpmem2 maps @img here (the DAX path opens); false only for
 * -EOPNOTSUPP, any other error fails the test.  DAX tests call it first and
 * cr_skip_test() with the reason when it is false.
 */
int t_dax_maps(const char *img);

#endif /* IOMAPCTL_TESTS_HELPERS_H */
