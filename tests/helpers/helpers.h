/* SPDX-License-Identifier: GPL-2.0 */
/* helpers.h - test helpers: temporary directories, commands, images. */
#ifndef IOMAPCTL_TESTS_HELPERS_H
#define IOMAPCTL_TESTS_HELPERS_H

#include <stddef.h>
#include <sys/types.h>

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

/*
 * Waits (up to 10 s) until no process of group @pgid is left: a killed
 * iomapctl may still be tearing down its io_uring, whose writes would land
 * in the next run's image.
 */
void t_wait_group_gone(pid_t pgid);

/* True when we are root and a loop mount works here (for kernel oracles). */
int t_can_loop_mount(void);

/*
 * True when libpmem2 maps @img here (the DAX path opens); false only for
 * -EOPNOTSUPP, any other error fails the test.  DAX tests call it first and
 * cr_skip_test() with the reason when it is false.
 */
int t_dax_maps(const char *img);

#include "iomapctl/io.h"

/*
 * The mapper specs every data-path test runs: iomap, bh, hybrid, then
 * mixed per-operation ones (--mapper=BASE,OP=MAPPER...).
 */
struct t_mapper_spec {
	const char *name;
	enum iomap_mapper base;
	unsigned char op[IOMAP_OP_COUNT]; /* 1 + mapper, 0 = @base */
};

extern const struct t_mapper_spec t_mappers[];
extern const int T_NR_MAPPERS;
/* The mapper spec @mi gives operation @op. */
enum iomap_mapper t_spec_mapper(int mi, enum iomap_op op);
/* Sets @p's mapper and per-operation mappers to spec @mi. */
void t_mapper_params(int mi, struct iomap_io_params *p);
/* The operation a read through data path @path is. */
enum iomap_op t_path_op(enum iomap_io_path path);
/* True when an earlier spec maps every operation @path uses the same way. */
bool t_spec_redundant(int mi, enum iomap_io_path path);

#endif /* IOMAPCTL_TESTS_HELPERS_H */
