/* SPDX-License-Identifier: GPL-2.0 */
/* cmd.h - the command definitions cmdtab.c collects into the table. */
#ifndef IOMAPCTL_CMD_CMD_H
#define IOMAPCTL_CMD_CMD_H

#include "iomapctl/imc.h"

extern const struct imc_cmd imc_cmd_cat;
extern const struct imc_cmd imc_cmd_compare;
extern const struct imc_cmd imc_cmd_convert;
extern const struct imc_cmd imc_cmd_cp;
extern const struct imc_cmd imc_cmd_falloc;
extern const struct imc_cmd imc_cmd_fiemap;
extern const struct imc_cmd imc_cmd_fsck;
extern const struct imc_cmd imc_cmd_help;
extern const struct imc_cmd imc_cmd_ls;
extern const struct imc_cmd imc_cmd_map;
extern const struct imc_cmd imc_cmd_mkfs;
extern const struct imc_cmd imc_cmd_mount;
extern const struct imc_cmd imc_cmd_probe;
extern const struct imc_cmd imc_cmd_punch;
extern const struct imc_cmd imc_cmd_seek;
extern const struct imc_cmd imc_cmd_shell;
extern const struct imc_cmd imc_cmd_stat;
extern const struct imc_cmd imc_cmd_truncate;
extern const struct imc_cmd imc_cmd_write;
extern const struct imc_cmd imc_cmd_zero;

/*
 * dio.c: iomap_file_read()/iomap_file_write() of @f for any offset, length
 * and memory address; on the direct path unaligned edges go through bounce
 * buffers.  Bytes done (short at EOF, or before an error the next call
 * reports) or -errno.
 */
ssize_t imc_dio_pread(struct imc_file *f, void *buf, size_t len, loff_t pos);
ssize_t imc_dio_pwrite(struct imc_file *f, const void *buf, size_t len,
		       loff_t pos);

/* digest.c: FNV-1a 64 digests of results, for compare and convert. */
#define IMC_DIGEST_INIT 0xcbf29ce484222325ULL
void imc_digest(uint64_t *h, const void *p, size_t len);
/* Little-endian, so a digest means the same on every host. */
void imc_digest_u64(uint64_t *h, uint64_t v);
/*
 * Runs of one type, contiguous in the file (and on disk when @addr is not
 * IOMAP_NULL_ADDR), digested as one: every mapper agrees on those though bh
 * sees them a block at a time.
 */
struct imc_runs {
	uint64_t *h;
	bool have;
	uint64_t off, len, addr;
	unsigned int type;
};
void imc_runs_add(struct imc_runs *m, uint64_t off, uint64_t len,
		  unsigned int type, uint64_t addr);
/* Digests the run being grown, if any. */
void imc_runs_flush(struct imc_runs *m);
/*
 * The fiemap extents of [@off, @off + @len) as runs (LAST and MERGED
 * dropped, clipped to the range), with their physical addresses when
 * @phys; the SEEK_DATA/SEEK_HOLE segments from @off.  0 or -errno.
 */
int imc_digest_fiemap(struct imc_ctx *c, struct imc_file *f, uint64_t off,
		      uint64_t len, bool phys, uint64_t *h);
int imc_digest_seek(struct imc_ctx *c, struct imc_file *f, uint64_t off,
		    uint64_t *h);

#endif /* IOMAPCTL_CMD_CMD_H */
