// SPDX-License-Identifier: GPL-2.0
/* cmdtab.c - the one command table: the CLI, the shell, `help`, the
 * completions and the man-page test all read it.  Keep it sorted. */
#include <string.h>

#include "cmd.h"

const struct imc_cmd *const imc_cmdtab[] = {
	&imc_cmd_cat,
	&imc_cmd_compare,
	&imc_cmd_convert,
	&imc_cmd_cp,
	&imc_cmd_falloc,
	&imc_cmd_fiemap,
	&imc_cmd_fsck,
	&imc_cmd_help,
	&imc_cmd_ls,
	&imc_cmd_map,
	&imc_cmd_migrate,
	&imc_cmd_mkfs,
	&imc_cmd_mount,
	&imc_cmd_probe,
	&imc_cmd_punch,
	&imc_cmd_reflink,
	&imc_cmd_seek,
	&imc_cmd_shell,
	&imc_cmd_stat,
	&imc_cmd_truncate,
	&imc_cmd_write,
	&imc_cmd_zero,
	NULL,
};

const struct imc_cmd *imc_cmd_find(const char *name)
{
	for (size_t i = 0; imc_cmdtab[i]; i++) {
		const struct imc_cmd *c = imc_cmdtab[i];

		if (!strcmp(c->name, name) || (c->alias && !strcmp(c->alias, name)))
			return c;
	}
	return NULL;
}
