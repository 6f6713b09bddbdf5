// SPDX-License-Identifier: GPL-2.0
/* fsck.c - `fsck`: check (and repair) a native (iomapfs) image. */
#include <stdlib.h>
#include <string.h>

#include "iomapctl/native.h"
#include "cmd.h"

static const struct option fsck_longopts[] = {
	{ "repair", no_argument, NULL, 'r' },
	{ NULL, 0, NULL, 0 },
};

static void fsck_help(FILE *out)
{
	fputs("\nChecks every structure of a native (iomapfs) image: the "
	      "checksum and header\nof every metadata block, the order and "
	      "counts of every tree, that every block\nis free or used exactly "
	      "once (overlapping extents, extents past the end,\nleaked "
	      "blocks, the free-space count), extents, directory entries, "
	      "the\ndirectory tree and link counts.  Prints each problem; exits "
	      "0 when the image\nis clean.  Only reads metadata: a sparse image "
	      "stays sparse.\nWith --json prints {\"image\", \"clean\", "
	      "\"problems\": [...], \"repaired\": [...],\n\"remaining\"}.\n\n"
	      "  -r, --repair  fix what needs no guess about user data (counts, "
	      "link counts,\n                leaked blocks; a file without a "
	      "name becomes /#INO),\n                then check again\n\n"
	      "Examples:\n  iomapctl fsck disk.img\n"
	      "  iomapctl fsck --repair --json disk.img\n",
	      out);
}

/* What one run found, kept for the JSON document. */
struct fsck_log {
	struct imc_ctx *ctx;
	const char *image;
	char **msgs[2]; /* problems, repairs */
	size_t n[2];
};

static void fsck_note(struct fsck_log *log, int kind, const char *msg)
{
	char **p = realloc(log->msgs[kind], (log->n[kind] + 1) * sizeof(*p));

	if (!log->ctx->json)
		fprintf(log->ctx->out, "%s: %s%s\n", log->image,
			kind ? "repaired: " : "", msg);
	if (!p)
		return;
	log->msgs[kind] = p;
	p[log->n[kind]] = strdup(msg);
	if (p[log->n[kind]])
		log->n[kind]++;
}

static void fsck_problem(void *priv, const char *msg)
{
	fsck_note(priv, 0, msg);
}

static void fsck_repaired(void *priv, const char *msg)
{
	fsck_note(priv, 1, msg);
}

static void fsck_json(struct fsck_log *log, int remaining)
{
	static const char *const keys[2] = { "problems", "repaired" };
	struct imc_json j;

	imc_json_init(&j, log->ctx->out);
	imc_json_obj_begin(&j, NULL);
	imc_json_str(&j, "image", log->image);
	imc_json_bool(&j, "clean", remaining == 0);
	for (int k = 0; k < 2; k++) {
		imc_json_arr_begin(&j, keys[k]);
		for (size_t i = 0; i < log->n[k]; i++)
			imc_json_str(&j, NULL, log->msgs[k][i]);
		imc_json_arr_end(&j);
	}
	imc_json_u64(&j, "remaining", (uint64_t)remaining);
	imc_json_obj_end(&j);
	imc_json_end(&j);
}

static int cmd_fsck(struct imc_ctx *ctx, int argc, char **argv)
{
	static const struct fsa_native_check_ops ops = { fsck_problem,
							 fsck_repaired };
	struct fsck_log log = { .ctx = ctx };
	bool repair = false;
	int c, found, remaining;

	while ((c = imc_getopt(argc, argv, &imc_cmd_fsck)) != -1)
		repair |= c == 'r';
	log.image = argv[optind];
	found = fsa_native_fsck(log.image, repair, &ops, &log);
	remaining = found;
	/* A repair is only done when a second look finds nothing. */
	if (found > 0 && repair) {
		static const struct fsa_native_check_ops quiet = { fsck_problem,
								   NULL };
		struct fsck_log again = { .ctx = ctx, .image = log.image };

		remaining = fsa_native_fsck(log.image, false, &quiet, &again);
		for (size_t i = 0; i < again.n[0]; i++)
			free(again.msgs[0][i]);
		free(again.msgs[0]);
	}
	if (remaining >= 0 && ctx->json)
		fsck_json(&log, remaining);
	else if (remaining >= 0 && !ctx->quiet)
		fprintf(ctx->out, "%s: %s\n", log.image,
			remaining ? "problems remain" :
			found	  ? "repaired, now clean" :
				    "clean");
	for (int k = 0; k < 2; k++) {
		for (size_t i = 0; i < log.n[k]; i++)
			free(log.msgs[k][i]);
		free(log.msgs[k]);
	}
	if (remaining < 0)
		return imc_err(ctx, log.image, remaining);
	return remaining ? IMC_EXIT_FAIL : IMC_EXIT_OK;
}

const struct imc_cmd imc_cmd_fsck = {
	.name = "fsck",
	.args = "[--repair] [--json] IMAGE",
	.oneline = "check (and repair) a native (iomapfs) image",
	.help = fsck_help,
	.fn = cmd_fsck,
	.argmin = 1,
	.argmax = 1,
	.flags = IMC_CMD_ONESHOT,
	.shortopts = "r",
	.longopts = fsck_longopts,
	.complete = 'i',
};
