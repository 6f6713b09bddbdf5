/* SPDX-License-Identifier: GPL-2.0 */
/* migrate.h - what migrate.c (the command, the formats) and migrate_tree.c
 * (the walk that copies and verifies a tree) share. */
#ifndef IOMAPCTL_CMD_MIGRATE_H
#define IOMAPCTL_CMD_MIGRATE_H

#include "cmd.h"

/*
 * An open-addressed map of inode numbers (@cap a power of two, key 0
 * free): source directories entered (a cycle or a second name ends the
 * descent) and source inodes with several names (value: the destination's
 * inode, so later names become links).
 */
struct migrate_map {
	uint64_t *key, *val;
	size_t n, cap;
};

/* What moved: the --json summary and the closing line. */
struct migrate_counts {
	uint64_t files, dirs, symlinks, hardlinks, xattrs;
	uint64_t bytes; /* data bytes copied */
	uint64_t holes; /* holes inside or ending files, kept */
	uint64_t unwritten; /* unwritten extents kept */
	uint64_t skipped; /* entries the destination cannot hold */
};

/**
 * struct migrate - one run.
 * @ctx:	the command's context (messages, --io, --mapper).
 * @src, @dst:	the source image (read-only) and the destination.
 * @buf:	one aligned chunk for data and comparisons, @buf2 its twin.
 * @failed:	IMC_EXIT_FAIL once anything was not moved; the walk goes on
 *		past what the source cannot give, and stops at the first
 *		error of the destination (@stop).
 * @walked:	data bytes done, for the progress bar.
 */
struct migrate {
	struct imc_ctx *ctx;
	struct imc_ctx src, dst;
	char *buf, *buf2;
	struct migrate_map dirs, links;
	struct migrate_counts n;
	struct imc_progress prog;
	uint64_t walked;
	unsigned int depth;
	int failed;
	bool stop;
	/* --verify: the differences found */
	uint64_t diffs;
};

/* The size of one data chunk moved or compared at a time. */
#define MIGRATE_CHUNK (1U << 20)

/* Copies the tree under the source's root into the destination's root. */
int migrate_tree(struct migrate *m);
/* Rereads both trees and reports every difference; 0 when none. */
int migrate_verify(struct migrate *m);
void migrate_map_free(struct migrate_map *map);

#endif /* IOMAPCTL_CMD_MIGRATE_H */
