// SPDX-License-Identifier: GPL-2.0
/* repro.c - after a failure: drop operations while the run still fails
 * (delta debugging over the recorded list), then print what is left as
 * the iomapctl commands that replay it. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fsx.h"

static const char *const pre = "iomapctl --io=%s --mapper=%s";

void fsx_print_op(const struct fsx_cfg *cfg, const struct fsx_op *op, FILE *out)
{
	unsigned long long off = op->off, len = op->len;
	const char *k = op->keep ? " -k" : "";

	switch (op->kind) {
	case FSX_READ:
		fprintf(out, "  ");
		fprintf(out, pre, cfg->io, cfg->mapper);
		fprintf(out,
			" cat img:/f %llu %llu | od -A d -t x1 | "
			"tail -n 3\n",
			off, len);
		return;
	case FSX_WRITE:
		fprintf(out,
			"  python3 -c 'import sys; sys.stdout.buffer."
			"write(bytes((p %% 251 + %u) & 255 for p in "
			"range(%llu, %llu)))' | ",
			op->tag, off, off + len);
		fprintf(out, pre, cfg->io, cfg->mapper);
		fprintf(out, " write img:/f %llu\n", off);
		return;
	case FSX_TRUNCATE:
		fprintf(out, "  ");
		fprintf(out, pre, cfg->io, cfg->mapper);
		fprintf(out, " truncate img:/f %llu\n", len);
		return;
	case FSX_CLONE:
		fprintf(out, "  iomapctl reflink img:/%s img:/%s\n",
			op->keep ? "g" : "f", op->keep ? "f" : "g");
		return;
	case FSX_SYNC:
	case FSX_REOPEN:
		fprintf(out, "  # %s (every command syncs and closes)\n",
			fsx_kind_names[op->kind]);
		return;
	default:
		fprintf(out, "  ");
		fprintf(out, pre, cfg->io, cfg->mapper);
		fprintf(out, " %s%s img:/f %llu %llu\n",
			fsx_kind_names[op->kind],
			op->kind == FSX_PUNCH ? "" : k, off, len);
	}
}

/* A long run's replays are long too: shrinking stops after this. */
#define FSX_SHRINK_SECONDS 600

struct shrink {
	const struct fsx_cfg *cfg;
	unsigned int flags;
	unsigned long replays;
	time_t deadline;
	struct fsx_fail last;
};

/* Does @list still fail?  Then it is cut after the failing op. */
static bool still_fails(struct shrink *s, struct fsx_list *list)
{
	struct fsx_fail f;

	s->replays++;
	if (fsx_run(s->cfg, list, NULL, s->flags | FSX_RUN_QUIET, &f) != 1)
		return false;
	if (f.stage == FSX_AT_OP && f.op + 1 < list->n)
		list->n = f.op + 1;
	s->last = f;
	return true;
}

/* @list without [@at, @at + @n) into @out. */
static void without(const struct fsx_list *list, unsigned long at,
		    unsigned long n, struct fsx_list *out)
{
	memcpy(out->ops, list->ops, at * sizeof(*out->ops));
	memcpy(out->ops + at, list->ops + at + n,
	       (list->n - at - n) * sizeof(*out->ops));
	out->n = list->n - n;
}

static void shrink(struct shrink *s, struct fsx_list *list)
{
	struct fsx_list cand = { .cap = list->n };

	cand.ops = malloc(list->n * sizeof(*cand.ops));
	if (!cand.ops)
		return;
	for (unsigned long chunk = list->n / 2; chunk >= 1; chunk /= 2) {
		for (unsigned long at = 0; at + chunk <= list->n;) {
			if (s->replays >= s->cfg->shrink_budget ||
			    time(NULL) > s->deadline)
				goto out;
			without(list, at, chunk, &cand);
			if (still_fails(s, &cand)) {
				memcpy(list->ops, cand.ops,
				       cand.n * sizeof(*cand.ops));
				list->n = cand.n;
			} else {
				at += chunk;
			}
		}
	}
out:
	free(cand.ops);
}

static void print_setup(const struct fsx_cfg *cfg, FILE *out)
{
	fprintf(out, "  mkdir r && : >r/f\n");
	if (cfg->filler)
		fprintf(out,
			"  head -c %llu /dev/zero | tr '\\0' '\\252' "
			">r/filler\n",
			(unsigned long long)cfg->filler);
	if (fsx_native(cfg)) {
		fprintf(out, "  iomapctl mkfs --block-size %u --size %lluk img "
			     "&& iomapctl cp r/f img:/f\n",
			cfg->bs, (unsigned long long)(cfg->image_size >> 10));
		if (cfg->filler)
			fprintf(out, "  iomapctl cp r/filler img:/filler\n");
		return;
	}
	fprintf(out, "  mke2fs -q -F -t %s -b %u -d r img %lluk\n", cfg->fstype,
		cfg->bs, (unsigned long long)(cfg->image_size >> 10));
}

void fsx_shrink_and_print(const struct fsx_cfg *cfg, struct fsx_list *list,
			  struct fsx_fail *fail)
{
	struct shrink s = { .cfg = cfg,
			    .flags = FSX_RUN_FSCK,
			    .deadline = time(NULL) + FSX_SHRINK_SECONDS };
	struct fsx_fail *last = fail;
	bool separate;

	if (fail->stage == FSX_AT_KERNEL)
		s.flags |= FSX_RUN_KERNEL;
	if (fail->stage == FSX_AT_OP && fail->op + 1 < list->n)
		list->n = fail->op + 1;
	shrink(&s, list);
	if (s.replays && s.last.stage)
		last = &s.last;
	/* Separate commands reopen the image between ops: same failure? */
	s.flags |= FSX_RUN_REOPEN_EACH;
	separate = still_fails(&s, list);
	fprintf(stderr, "fsx: shrunk to %lu ops in %lu replays: %s\n", list->n,
		s.replays, last->msg);
	fprintf(stderr, "fsx: as iomapctl commands (%s):\n",
		separate ? "these fail as separate commands too" :
			   "this fails only with the image kept open across "
			   "them, as in one fsx run");
	print_setup(cfg, stderr);
	for (unsigned long i = 0; i < list->n; i++)
		fsx_print_op(cfg, &list->ops[i], stderr);
	fprintf(stderr, "  %s img\n",
		fsx_native(cfg) ? "iomapctl fsck" : "e2fsck -fn");
}
