// SPDX-License-Identifier: GPL-2.0
/* help.c - `help`: the command list, one command's help, and the lists the
 * completions are generated from (--names, --options, --completion). */
#include <string.h>

#include "cmd.h"

/* completion.c */
int imc_completion_print(FILE *out, const char *shell);
void imc_print_options(FILE *out, const struct imc_cmd *cmd);

enum { OPT_NAMES = 0x200, OPT_OPTIONS, OPT_COMPLETION };

static const struct option help_longopts[] = {
	{ "names", no_argument, NULL, OPT_NAMES },
	{ "options", no_argument, NULL, OPT_OPTIONS },
	{ "completion", required_argument, NULL, OPT_COMPLETION },
	{ NULL, 0, NULL, 0 },
};

static void help_help(FILE *out)
{
	fputs("\nWith no argument lists the commands; with COMMAND prints its "
	      "help.\n\n"
	      "  --names             command names, one per line (for "
	      "completions)\n"
	      "  --options [CMD]     options of CMD (or the global ones), one "
	      "per line\n"
	      "  --completion SHELL  print the bash or zsh completion script\n\n"
	      "Examples:\n  iomapctl help fiemap\n  iomapctl help --names\n",
	      out);
}

static void list_commands(struct imc_ctx *ctx, FILE *out)
{
	fputs("iomapctl commands (FILE is a host path or IMAGE:/PATH):\n", out);
	for (size_t i = 0; imc_cmdtab[i]; i++) {
		const struct imc_cmd *c = imc_cmdtab[i];

		fprintf(out, "  %-8s %s\n           %s\n", c->name, c->args,
			c->oneline);
	}
	if (ctx->shell_image)
		fputs("\nIn the shell: cd [DIR], pwd, quit (or exit); FILE is a "
		      "path in the image.\n", out);
	fputs("\nGlobal options (before or after the command): --io=buffered|"
	      "direct|dax\n  --mapper=MAPPER[,OP=MAPPER]... (MAPPER iomap|bh|"
	      "hybrid, OP xattr|report|\n  direct|write|read|dax) --json -q -v "
	      "--progress --no-progress --queue-depth N\n  -h/--help "
	      "--version\n", out);
}

static int cmd_help(struct imc_ctx *ctx, int argc, char **argv)
{
	const struct imc_cmd *cmd = NULL;
	int c, mode = 0;
	const char *shell = NULL;

	while ((c = imc_getopt(argc, argv, &imc_cmd_help)) != -1) {
		mode = c;
		if (c == OPT_COMPLETION)
			shell = optarg;
	}
	if (optind < argc && !(cmd = imc_cmd_find(argv[optind]))) {
		fprintf(ctx->err, "iomapctl: help: %s: unknown command\n",
			argv[optind]);
		return IMC_EXIT_USAGE;
	}
	switch (mode) {
	case OPT_NAMES:
		for (size_t i = 0; imc_cmdtab[i]; i++)
			fprintf(ctx->out, "%s\n", imc_cmdtab[i]->name);
		return IMC_EXIT_OK;
	case OPT_OPTIONS:
		imc_print_options(ctx->out, cmd);
		return IMC_EXIT_OK;
	case OPT_COMPLETION:
		if (imc_completion_print(ctx->out, shell))
			return imc_usage(ctx, &imc_cmd_help);
		return IMC_EXIT_OK;
	}
	if (!cmd) {
		list_commands(ctx, ctx->out);
		return IMC_EXIT_OK;
	}
	fprintf(ctx->out, "usage: iomapctl %s %s\n%s\n", cmd->name, cmd->args,
		cmd->oneline);
	cmd->help(ctx->out);
	return IMC_EXIT_OK;
}

const struct imc_cmd imc_cmd_help = {
	.name = "help",
	.args = "[--names | --options | --completion bash|zsh] [COMMAND]",
	.oneline = "list the commands, or explain one",
	.help = help_help,
	.fn = cmd_help,
	.argmin = 0,
	.argmax = 1,
	.shortopts = "",
	.longopts = help_longopts,
	.complete = 'c',
};
