/* SPDX-License-Identifier: GPL-2.0 */
/* cmd.h - the command definitions cmdtab.c collects into the table. */
#ifndef IOMAPCTL_CMD_CMD_H
#define IOMAPCTL_CMD_CMD_H

#include "iomapctl/imc.h"

extern const struct imc_cmd imc_cmd_cat;
extern const struct imc_cmd imc_cmd_cp;
extern const struct imc_cmd imc_cmd_falloc;
extern const struct imc_cmd imc_cmd_fiemap;
extern const struct imc_cmd imc_cmd_help;
extern const struct imc_cmd imc_cmd_ls;
extern const struct imc_cmd imc_cmd_map;
extern const struct imc_cmd imc_cmd_probe;
extern const struct imc_cmd imc_cmd_punch;
extern const struct imc_cmd imc_cmd_seek;
extern const struct imc_cmd imc_cmd_shell;
extern const struct imc_cmd imc_cmd_stat;
extern const struct imc_cmd imc_cmd_truncate;
extern const struct imc_cmd imc_cmd_write;
extern const struct imc_cmd imc_cmd_zero;

#endif /* IOMAPCTL_CMD_CMD_H */
