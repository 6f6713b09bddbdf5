// SPDX-License-Identifier: GPL-2.0
/* main.c - the iomapctl entry point: one command line through the table. */
#include "iomapctl/imc.h"

int main(int argc, char **argv)
{
	struct imc_ctx ctx;
	int ret;

	imc_ctx_init(&ctx);
	ret = imc_run(&ctx, argc, argv, true);
	/* Closing writes the image's metadata a last time: it may fail. */
	if (imc_ctx_fini(&ctx) && ret == IMC_EXIT_OK)
		ret = IMC_EXIT_FAIL;
	if (fflush(stdout) != 0 && ret == IMC_EXIT_OK)
		ret = IMC_EXIT_FAIL;
	return ret;
}
