/* SPDX-License-Identifier: GPL-2.0 */
/* fsx.h - the differential tester: one seeded sequence of file operations
 * applied to a file in an ext image (through iomapctl's library) and to a
 * host file (through the kernel), compared after every read and at the end. */
#ifndef IOMAPCTL_TESTS_FSX_H
#define IOMAPCTL_TESTS_FSX_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

enum fsx_kind {
	FSX_READ,
	FSX_WRITE,
	FSX_ZERO,
	FSX_TRUNCATE,
	FSX_FALLOC,
	FSX_PUNCH,
	FSX_SYNC,
	FSX_REOPEN,
	/* native: reflink /f to /g (a snapshot), or with @keep /g back to
	 * /f, then keep writing /f: its writes copy on write */
	FSX_CLONE,
	FSX_NKINDS,
};

/*
 * One operation, fully resolved, so a recorded list replays without the
 * generator: @len is the new size for FSX_TRUNCATE.  @tag seeds the bytes of
 * a write (fsx_pattern), @skew misaligns the memory buffer.
 */
struct fsx_op {
	uint8_t kind;
	bool keep;
	uint8_t tag;
	uint16_t skew;
	uint64_t off;
	uint64_t len;
};

/* What the command line chose; fixed for every replay of a run. */
struct fsx_cfg {
	const char *fstype; /* ext2, ext3, ext4, native */
	unsigned int bs; /* block size */
	const char *io; /* --io value, through imc_set_global */
	const char *mapper; /* --mapper value, the same way */
	uint64_t seed;
	unsigned long nops;
	bool full; /* nearly full image: ENOSPC paths */
	bool clone; /* native: FSX_CLONE ops too */
	bool kernel; /* compare with a read-only loop mount at the end */
	int verbose;
	uint64_t image_size;
	uint64_t max_size; /* file sizes stay mostly below this */
	uint64_t max_len; /* longest read, write or range */
	uint64_t far; /* how far past EOF the far ops reach */
	uint64_t filler; /* bytes of /filler in a full image */
	unsigned long shrink_budget; /* replays the shrinker may spend */
	char dir[512]; /* scratch: pristine image, runs */
};

/* Where a run failed: @op is the operation's index, or the count of
 * operations for a final check (@stage says which). */
enum fsx_stage {
	FSX_OK = 0,
	FSX_AT_OP,
	FSX_AT_END,
	FSX_AT_FSCK,
	FSX_AT_KERNEL
};
struct fsx_fail {
	enum fsx_stage stage;
	unsigned long op;
	char msg[1024];
	/* what the run did, for the summary */
	unsigned long nr_kind[FSX_NKINDS];
	unsigned long nr_enospc; /* ops the image refused with ENOSPC */
	unsigned long nr_unsupported; /* ... with EOPNOTSUPP */
	bool kernel_skipped;
};

/* A growable recorded sequence. */
struct fsx_list {
	struct fsx_op *ops;
	unsigned long n, cap;
};

/* run.c */
/* The byte a write with @tag puts at file offset @pos. */
static inline uint8_t fsx_pattern(uint8_t tag, uint64_t pos)
{
	return (uint8_t)(pos % 251 + tag);
}
extern const char *const fsx_kind_names[FSX_NKINDS];
/* Free blocks --full leaves on the image. */
#define FSX_FULL_ROOM 96
/* Builds the pristine image in @cfg->dir (filler sized for --full). */
int fsx_mkimage(struct fsx_cfg *cfg);
/*
 * Runs on a fresh copy of the pristine image: the ops of @list, and when
 * @rng is set, new ones from it appended to @list until @cfg->nops, then
 * the final checks FSX_RUN_* @flags ask for.  Returns 0 when everything matched, 1 with @fail
 * filled, or -1 when the run itself could not be set up (message printed).
 */
#define FSX_RUN_KERNEL (1U << 0) /* the kernel oracle at the end */
#define FSX_RUN_FSCK (1U << 1) /* e2fsck -fn at the end */
#define FSX_RUN_REOPEN_EACH (1U << 2) /* as separate commands would */
#define FSX_RUN_QUIET (1U << 3) /* no messages from the library */
int fsx_run(const struct fsx_cfg *cfg, struct fsx_list *list, uint64_t *rng,
	    unsigned int flags, struct fsx_fail *fail);
int fsx_list_push(struct fsx_list *list, const struct fsx_op *op);

/* gen.c */
uint64_t fsx_rand(uint64_t *state);
/* The next op for a file of @size bytes. */
void fsx_gen(const struct fsx_cfg *cfg, uint64_t *rng, uint64_t size,
	     struct fsx_op *op);

/* A file's data segments [start, end) as SEEK_DATA/SEEK_HOLE give them. */
struct fsx_layout {
	uint64_t (*seg)[2];
	unsigned long n, cap;
};
int fsx_layout_add(struct fsx_layout *l, uint64_t start, uint64_t end);

/* check.c: the final oracles on the closed image @img (host model @host). */
int fsx_fsck(const struct fsx_cfg *cfg, const char *img, unsigned long op,
	     struct fsx_fail *fail);
/* system() of a formatted command: its exit status, or -1. */
int fsx_sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/*
 * The kernel's view of /f through a read-only loop mount of @img against
 * the model's bytes and size and our engine's layout @ours: 0, 1 on a
 * mismatch (in @fail), or 77 when the kernel refused the mount.
 */
int fsx_kernel_check(const struct fsx_cfg *cfg, const char *img,
		     const char *host, const struct fsx_layout *ours,
		     unsigned long op, struct fsx_fail *fail);
/* "%s" formatted into @fail (stage, op) and returns 1. */
int fsx_failf(struct fsx_fail *fail, enum fsx_stage stage, unsigned long op,
	      const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* repro.c */
/* Shrinks @list (failing as @fail) and prints it as iomapctl commands. */
void fsx_shrink_and_print(const struct fsx_cfg *cfg, struct fsx_list *list,
			  struct fsx_fail *fail);
/* Prints @op as one line of an iomapctl script on @out. */
void fsx_print_op(const struct fsx_cfg *cfg, const struct fsx_op *op,
		  FILE *out);

/* The native format (iomapfs): made and checked by iomapctl itself. */
static inline bool fsx_native(const struct fsx_cfg *cfg)
{
	return !strcmp(cfg->fstype, "native");
}

#endif /* IOMAPCTL_TESTS_FSX_H */
