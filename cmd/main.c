// SPDX-License-Identifier: GPL-2.0
/* main.c - the iomapctl entry point. */
#include <stdio.h>
#include <string.h>

#include "iomapctl/fsa.h"

static void usage(FILE *out)
{
	fputs("usage: iomapctl [--help] [--version] COMMAND [ARGS]\n"
	      "Inspect and move data in ext2/3/4 images through a userspace "
	      "iomap engine.\n",
	      out);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("iomapctl %s\n", IOMAPCTL_VERSION);
		return 0;
	}
	fprintf(stderr, "iomapctl: %s: not yet supported\n", argv[1]);
	return 1;
}
