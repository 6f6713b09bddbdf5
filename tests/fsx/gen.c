// SPDX-License-Identifier: GPL-2.0
/* gen.c - the random operations: offsets and lengths drawn towards the
 * edges where filesystems break (unaligned ends, block and folio boundaries,
 * EOF, far past EOF). */
#include "fsx.h"

/* splitmix64: one state word, so a seed names the whole sequence. */
uint64_t fsx_rand(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t below(uint64_t *rng, uint64_t n)
{
	return n ? fsx_rand(rng) % n : 0;
}

/* A small signed nudge: -3..3, mostly 0. */
static int64_t nudge(uint64_t *rng)
{
	static const int8_t d[] = { 0, 0, 0, -1, 1, -2, 2, -3, 3, 0 };

	return d[below(rng, sizeof(d))];
}

static uint64_t near(uint64_t *rng, uint64_t at)
{
	int64_t d = nudge(rng);

	return d < 0 && (uint64_t)-d > at ? 0 : at + (uint64_t)d;
}

/* An offset for a file of @size bytes. */
static uint64_t gen_off(const struct fsx_cfg *cfg, uint64_t *rng, uint64_t size)
{
	uint64_t span = (size > cfg->max_size ? size : cfg->max_size);
	uint64_t folio = below(rng, 2) ? 4096 : 65536;

	switch (below(rng, 10)) {
	case 0: /* around EOF */
		return near(rng, size) +
		       (below(rng, 2) ? below(rng, 2 * cfg->bs) : 0);
	case 1: /* a block boundary */
		return near(rng, below(rng, span / cfg->bs + 2) * cfg->bs);
	case 2: /* a folio boundary */
		return near(rng, below(rng, span / folio + 2) * folio);
	case 3: /* far past EOF */
		/* Not from a file already far out: sizes stay bounded. */
		if (cfg->far && size < 2 * cfg->max_size && !below(rng, 4))
			return size + cfg->far / 4 + below(rng, cfg->far);
		return below(rng, span);
	default:
		return below(rng, span);
	}
}

static uint64_t gen_len(const struct fsx_cfg *cfg, uint64_t *rng)
{
	uint64_t len;

	switch (below(rng, 8)) {
	case 0:
	case 1:
	case 2:
		len = 1 + below(rng, 2 * cfg->bs);
		break;
	case 3:
		len = cfg->bs * (1 + below(rng, 16));
		break;
	case 4:
	case 5:
		len = 1 + below(rng, 65536);
		break;
	default:
		len = 1 + below(rng, cfg->max_len);
	}
	if (!below(rng, 8))
		len = near(rng, len);
	if (len > cfg->max_len)
		len = cfg->max_len;
	return len ? len : 1;
}

/* Weights of each kind, in enum order: reads and writes most. */
static const unsigned int weights[FSX_NKINDS] = {
	[FSX_READ] = 20,  [FSX_WRITE] = 26, [FSX_ZERO] = 8, [FSX_TRUNCATE] = 6,
	[FSX_FALLOC] = 8, [FSX_PUNCH] = 8,  [FSX_SYNC] = 2, [FSX_REOPEN] = 2,
	[FSX_CLONE] = 3,
};

/*
 * Clones only when asked, on the native format (the only one sharing
 * blocks): otherwise the kinds draw as they always did for a seed.  Nor in
 * a nearly full image through buffer heads: get_block cannot tell zeroing
 * (truncate's partial block) from a read, so a shared block zeroed there is
 * copied only at writeback, where ENOSPC is an error the model cannot
 * follow.
 */
static enum fsx_kind gen_kind(const struct fsx_cfg *cfg, uint64_t *rng)
{
	bool clones = cfg->clone && fsx_native(cfg) &&
		      !(cfg->full && strstr(cfg->mapper, "bh"));
	int nkinds = clones ? FSX_NKINDS : FSX_CLONE;
	unsigned int total = 0, r;
	int k;

	for (k = 0; k < nkinds; k++)
		total += weights[k];
	r = (unsigned int)below(rng, total);
	for (k = 0; r >= weights[k]; k++)
		r -= weights[k];
	return (enum fsx_kind)k;
}

void fsx_gen(const struct fsx_cfg *cfg, uint64_t *rng, uint64_t size,
	     struct fsx_op *op)
{
	*op = (struct fsx_op){ .kind = (uint8_t)gen_kind(cfg, rng) };
	op->off = gen_off(cfg, rng, size);
	op->len = gen_len(cfg, rng);
	/* A quarter of the ops are aligned: the direct path's fast case. */
	if (!below(rng, 4)) {
		op->off -= op->off % cfg->bs;
		op->len += cfg->bs - 1;
		op->len -= op->len % cfg->bs;
	}
	op->keep = below(rng, 2);
	op->tag = (uint8_t)(1 + below(rng, 255));
	op->skew = below(rng, 4) ? 0 : (uint16_t)(1 + below(rng, 4095));
	if (op->kind == FSX_TRUNCATE) {
		/* New sizes: mostly inside the usual span, near edges. */
		op->off = 0;
		op->len = below(rng, 3) && size <= cfg->max_size ?
				  gen_off(cfg, rng, size) :
				  below(rng, cfg->max_size);
	}
	if (op->kind == FSX_READ && !below(rng, 3) && size)
		op->off = below(rng, size); /* reads mostly see data */
}
