/* SPDX-License-Identifier: GPL-2.0 */
/* cmd.h - the command definitions cmdtab.c collects into the table. */
#ifndef IOMAPCTL_CMD_CMD_H
#define IOMAPCTL_CMD_CMD_H

#include "iomapctl/imc.h"

extern const struct imc_cmd imc_cmd_cat;
extern const struct imc_cmd imc_cmd_compare;
extern const struct imc_cmd imc_cmd_cp;
extern const struct imc_cmd imc_cmd_falloc;
extern const struct imc_cmd imc_cmd_fiemap;
extern const struct imc_cmd imc_cmd_help;
extern const struct imc_cmd imc_cmd_ls;
extern const struct imc_cmd imc_cmd_map;
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

#endif /* IOMAPCTL_CMD_CMD_H */
