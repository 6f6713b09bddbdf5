// SPDX-License-Identifier: GPL-2.0
/* digest.c - FNV-1a digests of results (bytes, mappings, fiemap and seek
 * answers), for the commands that check two runs agree (compare, convert). */
#include <endian.h>
#include <errno.h>
#include <linux/fiemap.h>

#include "cmd.h"

#define DIGEST_BATCH 64

/* FNV-1a, enough to tell two results apart. */
void imc_digest(uint64_t *h, const void *p, size_t len)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < len; i++)
		*h = (*h ^ b[i]) * 0x100000001b3ULL;
}

/* Little-endian, so a digest means the same on every host. */
void imc_digest_u64(uint64_t *h, uint64_t v)
{
	v = htole64(v);
	imc_digest(h, &v, sizeof(v));
}

/*
 * A run is digested a 64-bit word at a time, an FNV-1a step per word with
 * a shift folding the high bits down: byte-wise FNV of its 32 bytes took
 * 128 dependent multiply cycles, as long as mapping one extent, and
 * compare times the digest with the mapping.  Each step is a bijection of
 * the state, so runs that differ in one word never digest the same.
 */
static void digest_word(uint64_t *h, uint64_t v)
{
	*h = (*h ^ v) * 0x100000001b3ULL;
	*h ^= *h >> 32;
}

void imc_runs_flush(struct imc_runs *m)
{
	if (!m->have)
		return;
	digest_word(m->h, m->off);
	digest_word(m->h, m->len);
	digest_word(m->h, m->type);
	digest_word(m->h, m->addr);
	m->have = false;
}

void imc_runs_add(struct imc_runs *m, uint64_t off, uint64_t len,
		  unsigned int type, uint64_t addr)
{
	bool has_addr = addr != IOMAP_NULL_ADDR;

	if (m->have && type == m->type && off == m->off + m->len &&
	    (!has_addr || addr == m->addr + m->len)) {
		m->len += len;
		return;
	}
	imc_runs_flush(m);
	*m = (struct imc_runs){ .h = m->h,
				.have = true,
				.off = off,
				.len = len,
				.addr = addr,
				.type = type };
}

int imc_digest_fiemap(struct imc_ctx *c, struct imc_file *f, uint64_t off,
		      uint64_t len, bool phys, uint64_t *h)
{
	struct fiemap_extent ext[DIGEST_BATCH];
	struct imc_runs m = { .h = h };
	uint64_t pos = off, end = off + len;

	while (pos < end) {
		unsigned int n = 0;
		int ret = imc_file_fiemap(c, f, 0, pos, end - pos, ext,
					  DIGEST_BATCH, &n);

		if (ret)
			return ret;
		/*
		 * LAST and MERGED say how the answer was built, not what; and
		 * bh reports only the blocks asked for, iomap whole extents,
		 * so both are clipped to the range.
		 */
		for (unsigned int i = 0; i < n; i++) {
			uint64_t l = ext[i].fe_logical, p = ext[i].fe_physical;
			uint64_t e = l + ext[i].fe_length;

			if (l < off) {
				p += off - l;
				l = off;
			}
			if (e > end)
				e = end;
			if (l < e)
				imc_runs_add(&m, l, e - l,
					     ext[i].fe_flags &
						     ~(FIEMAP_EXTENT_LAST |
						       FIEMAP_EXTENT_MERGED),
					     phys ? p : IOMAP_NULL_ADDR);
		}
		if (n < DIGEST_BATCH ||
		    ext[n - 1].fe_logical + ext[n - 1].fe_length <= pos)
			break;
		pos = ext[n - 1].fe_logical + ext[n - 1].fe_length;
	}
	imc_runs_flush(&m);
	return 0;
}

int imc_digest_seek(struct imc_ctx *c, struct imc_file *f, uint64_t off,
		    uint64_t *h)
{
	loff_t pos = (loff_t)off;

	for (;;) {
		loff_t d = imc_file_seek(c, f, pos, SEEK_DATA), e;

		if (d == -ENXIO)
			return 0;
		if (d < 0)
			return (int)d;
		e = imc_file_seek(c, f, d, SEEK_HOLE);
		if (e < 0)
			return (int)e;
		if (e <= pos)
			return -EIO;
		imc_digest_u64(h, (uint64_t)d);
		imc_digest_u64(h, (uint64_t)e);
		pos = e;
	}
}
