// SPDX-License-Identifier: GPL-2.0
/* dispatch.c - global options, command lookup, argument checks: the one
 * place that validates a command line, for both the CLI and the shell. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "iomapctl/imc.h"
#include "iomapctl/pagecache.h"

#ifndef IOMAPCTL_VERSION
#define IOMAPCTL_VERSION "0"
#endif

enum {
	G_IO = 0x100, G_MAPPER, G_JSON, G_PROGRESS, G_NO_PROGRESS, G_VERSION,
	G_QDEPTH,
};

const struct option imc_global_longopts[] = {
	{ "io", required_argument, NULL, G_IO },
	{ "mapper", required_argument, NULL, G_MAPPER },
	{ "json", no_argument, NULL, G_JSON },
	{ "quiet", no_argument, NULL, 'q' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "progress", no_argument, NULL, G_PROGRESS },
	{ "no-progress", no_argument, NULL, G_NO_PROGRESS },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, G_VERSION },
	{ "queue-depth", required_argument, NULL, G_QDEPTH },
	{ NULL, 0, NULL, 0 },
};

void imc_ctx_init(struct imc_ctx *ctx)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->out = stdout;
	ctx->err = stderr;
	ctx->cmdname = "iomapctl";
	strcpy(ctx->cwd, "/");
	/* Large folios for large I/O, as the kernel's iomap does: with 4 KiB
	 * ones every folio costs a lookup, an allocation and its own ioend. */
	ctx->io.max_folio_order = IOMAP_MAX_FOLIO_ORDER;
}

int imc_ctx_fini(struct imc_ctx *ctx)
{
	char *image = ctx->fs_image ? strdup(ctx->fs_image) : NULL;
	int ret = imc_fs_close(ctx);

	if (ret)
		fprintf(ctx->err, "iomapctl: %s: %s\n",
			image ? image : "closing the image", imc_strerror(ret));
	free(image);
	return ret ? IMC_EXIT_FAIL : IMC_EXIT_OK;
}

int imc_usage(struct imc_ctx *ctx, const struct imc_cmd *cmd)
{
	fprintf(ctx->err, "usage: iomapctl %s %s\n", cmd->name, cmd->args);
	return IMC_EXIT_USAGE;
}

int imc_getopt(int argc, char **argv, const struct imc_cmd *cmd)
{
	static const struct option none[] = { { NULL, 0, NULL, 0 } };
	/* Leading ':' so a missing argument is told apart from a bad option. */
	char spec[64] = ":";

	opterr = 0;
	strncat(spec, cmd->shortopts ? cmd->shortopts : "", sizeof(spec) - 2);
	return getopt_long(argc, argv, spec,
			   cmd->longopts ? cmd->longopts : none, NULL);
}

/* Does @cmd define the short option @c itself (seek's -h)? */
static bool cmd_claims(const struct imc_cmd *cmd, char c)
{
	return cmd && cmd->shortopts && strchr(cmd->shortopts, c);
}

struct run_state {
	bool help, version;
};

static int set_choice(struct imc_ctx *ctx, const char *opt, const char *val,
		      const char *const *names, int n, int *out)
{
	for (int i = 0; i < n; i++) {
		if (!strcmp(val, names[i])) {
			*out = i;
			return 0;
		}
	}
	fprintf(ctx->err, "iomapctl: bad value '%s' for --%s\n", val, opt);
	return IMC_EXIT_USAGE;
}

/* Applies global long option @o with @val (NULL when it takes none). */
static int apply_long(struct imc_ctx *ctx, const struct option *o,
		      const char *val, struct run_state *rs)
{
	static const char *const io_names[] = { "buffered", "direct", "dax" };
	uint64_t qd;
	int v;

	switch (o->val) {
	case G_IO:
		if (set_choice(ctx, "io", val, io_names, 3, &v))
			return IMC_EXIT_USAGE;
		ctx->io.path = (enum iomap_io_path)v;
		return 0;
	case G_MAPPER:
		return imc_parse_mapper(ctx, val, &ctx->io);
	case G_QDEPTH:
		if (imc_parse_size(val, &qd) || qd < 1 || qd > 4096) {
			fprintf(ctx->err,
				"iomapctl: bad --queue-depth '%s' (1 to 4096)\n",
				val);
			return IMC_EXIT_USAGE;
		}
		ctx->io.queue_depth = (unsigned int)qd;
		return 0;
	case G_JSON: ctx->json = true; return 0;
	case G_PROGRESS: ctx->progress = IMC_PROGRESS_ALWAYS; return 0;
	case G_NO_PROGRESS: ctx->progress = IMC_PROGRESS_NEVER; return 0;
	case G_VERSION: rs->version = true; return 0;
	case 'q': ctx->quiet = true; return 0;
	case 'v': ctx->verbose = true; return 0;
	case 'h': rs->help = true; return 0;
	}
	return 1;
}

int imc_set_global(struct imc_ctx *ctx, const char *name, const char *val)
{
	struct run_state rs = { 0 };
	const struct option *o;

	for (o = imc_global_longopts; o->name; o++)
		if (!strcmp(o->name, name) && !o->has_arg == !val)
			return apply_long(ctx, o, val, &rs) ? IMC_EXIT_USAGE :
							      IMC_EXIT_OK;
	fprintf(ctx->err, "iomapctl: unknown option '--%s'\n", name);
	return IMC_EXIT_USAGE;
}

/*
 * If @argv[*i] is a global option, apply it, step over its value and
 * return 0; 1 if it is not one; IMC_EXIT_USAGE for a bad value.
 */
static int global_opt(struct imc_ctx *ctx, const struct imc_cmd *cmd,
		      int argc, char **argv, int *i, struct run_state *rs)
{
	const char *a = argv[*i], *val = NULL;
	const struct option *o;
	size_t n;

	if (a[0] == '-' && a[1] && !a[2] && a[1] != '-') {
		if (cmd_claims(cmd, a[1]))
			return 1;
		switch (a[1]) {
		case 'q': ctx->quiet = true; return 0;
		case 'v': ctx->verbose = true; return 0;
		case 'h': rs->help = true; return 0;
		default: return 1;
		}
	}
	if (strncmp(a, "--", 2) || !a[2])
		return 1;
	n = strcspn(a + 2, "=");
	for (o = imc_global_longopts; o->name; o++)
		if (strlen(o->name) == n && !strncmp(o->name, a + 2, n))
			break;
	if (!o->name)
		return 1;
	if (o->has_arg && a[2 + n] == '=') {
		val = a + 3 + n;
	} else if (o->has_arg && *i + 1 < argc) {
		val = argv[++*i];
	} else if (o->has_arg || a[2 + n] == '=') {
		fprintf(ctx->err, "iomapctl: --%s %s\n", o->name,
			o->has_arg ? "needs a value" : "takes no value");
		return IMC_EXIT_USAGE;
	}
	return apply_long(ctx, o, val, rs);
}

static void top_usage(FILE *out)
{
	fputs("usage: iomapctl [GLOBAL OPTIONS] COMMAND [ARGS]\n"
	      "Inspect and move data in ext2/3/4 images (IMAGE:PATH) and host "
	      "files\nthrough a userspace iomap engine.\n\n"
	      "Global options: --io=buffered|direct|dax  "
	      "--mapper=MAPPER[,OP=MAPPER]...\n  --json  -q/--quiet  -v/--verbose  --progress/--no-progress  "
	      "--queue-depth N\n  -h/--help  --version\n\n"
	      "Run 'iomapctl help' for the commands, 'iomapctl COMMAND --help' "
	      "for one.\n",
	      out);
}

/* Index of the command word in @argv, applying global options before it. */
static int find_command(struct imc_ctx *ctx, int argc, char **argv,
			struct run_state *rs, int *status)
{
	for (int i = 1; i < argc; i++) {
		int ret = global_opt(ctx, NULL, argc, argv, &i, rs);

		if (ret == 0)
			continue;
		if (ret != 1) {
			*status = ret;
			return -1;
		}
		if (argv[i][0] == '-' && strcmp(argv[i], "-")) {
			fprintf(ctx->err, "iomapctl: unknown option '%s'\n",
				argv[i]);
			top_usage(ctx->err);
			*status = IMC_EXIT_USAGE;
			return -1;
		}
		return i;
	}
	return argc;
}

/* Validates the command's own options and its argument count. */
static int check_args(struct imc_ctx *ctx, const struct imc_cmd *cmd,
		      int argc, char **argv)
{
	int c, npos;

	optind = 0;
	while ((c = imc_getopt(argc, argv, cmd)) != -1) {
		if (c == '?' || c == ':') {
			const char *bad = argv[optind - 1];

			if (c == ':')
				fprintf(ctx->err,
					"iomapctl: %s: option '%s' needs a value\n",
					cmd->name, bad);
			else
				fprintf(ctx->err,
					"iomapctl: %s: unknown option '%s'\n",
					cmd->name, bad);
			return imc_usage(ctx, cmd);
		}
	}
	npos = argc - optind;
	if (npos < cmd->argmin || (cmd->argmax >= 0 && npos > cmd->argmax))
		return imc_usage(ctx, cmd);
	return IMC_EXIT_OK;
}

/* Builds the command's argv: globals removed, the rest in order. */
static int build_argv(struct imc_ctx *ctx, const struct imc_cmd *cmd,
		      int argc, char **argv, int at, struct run_state *rs,
		      char ***nargvp, int *nargcp)
{
	char **nargv = calloc((size_t)argc + 1, sizeof(*nargv));
	int nargc = 0;
	bool dashdash = false;

	if (!nargv)
		return imc_err(ctx, "argv", -ENOMEM);
	nargv[nargc++] = argv[at];
	for (int i = at + 1; i < argc; i++) {
		int ret = 1;

		if (!dashdash && !strcmp(argv[i], "--"))
			dashdash = true;
		else if (!dashdash)
			ret = global_opt(ctx, cmd, argc, argv, &i, rs);
		if (ret == 1)
			nargv[nargc++] = argv[i];
		else if (ret != 0) {
			free(nargv);
			return ret;
		}
	}
	*nargvp = nargv;
	*nargcp = nargc;
	return IMC_EXIT_OK;
}

static void print_help(struct imc_ctx *ctx, const struct imc_cmd *cmd)
{
	fprintf(ctx->out, "usage: iomapctl %s %s\n%s\n", cmd->name, cmd->args,
		cmd->oneline);
	if (cmd->alias)
		fprintf(ctx->out, "alias: %s\n", cmd->alias);
	cmd->help(ctx->out);
}

static int run_cmd(struct imc_ctx *ctx, const struct imc_cmd *cmd, int argc,
		   char **argv, int at, bool toplevel)
{
	struct run_state rs = { 0 };
	char **nargv = NULL;
	int nargc = 0, ret;

	ret = build_argv(ctx, cmd, argc, argv, at, &rs, &nargv, &nargc);
	if (ret)
		return ret;
	ctx->cmdname = cmd->name;
	if (rs.help) {
		print_help(ctx, cmd);
		ret = IMC_EXIT_OK;
	} else if ((cmd->flags & IMC_CMD_ONESHOT) && !toplevel) {
		ret = imc_errf(ctx, "not available inside the shell");
	} else {
		ret = check_args(ctx, cmd, nargc, nargv);
		if (ret == IMC_EXIT_OK)
			ret = imc_fs_settle(ctx, cmd);
		if (ret == IMC_EXIT_OK) {
			optind = 0;
			ret = cmd->fn(ctx, nargc, nargv);
		}
	}
	fflush(ctx->out);
	ctx->cmdname = "iomapctl";
	free(nargv);
	return ret;
}

int imc_run(struct imc_ctx *ctx, int argc, char **argv, bool toplevel)
{
	struct run_state rs = { 0 };
	const struct imc_cmd *cmd;
	int status = IMC_EXIT_OK;
	int at = find_command(ctx, argc, argv, &rs, &status);

	if (at < 0)
		return status;
	if (at == argc) {
		if (rs.version && toplevel) {
			fprintf(ctx->out, "iomapctl %s\n", IOMAPCTL_VERSION);
			return IMC_EXIT_OK;
		}
		top_usage(rs.help ? ctx->out : ctx->err);
		return rs.help ? IMC_EXIT_OK : IMC_EXIT_USAGE;
	}
	cmd = imc_cmd_find(argv[at]);
	if (!cmd) {
		fprintf(ctx->err, "iomapctl: %s: unknown command "
			"(try 'iomapctl help')\n", argv[at]);
		return IMC_EXIT_USAGE;
	}
	if (rs.help) {
		print_help(ctx, cmd);
		return IMC_EXIT_OK;
	}
	return run_cmd(ctx, cmd, argc, argv, at, toplevel);
}
