// SPDX-License-Identifier: GPL-2.0
/* progress.c - a one-line progress bar on stderr: bytes, rate, ETA. */
#include <string.h>
#include <unistd.h>

#include "iomapctl/imc.h"

/* Work shorter than this never shows a bar in the automatic mode. */
#define PROGRESS_MIN_BYTES (64ULL << 20)
/* Redraw at most this often. */
#define PROGRESS_INTERVAL_NS 200000000ULL

void imc_progress_begin(struct imc_ctx *ctx, struct imc_progress *p,
			uint64_t total)
{
	memset(p, 0, sizeof(*p));
	p->total = total;
	p->err = ctx->err;
	if (ctx->json || ctx->quiet || ctx->progress == IMC_PROGRESS_NEVER)
		p->on = false;
	else if (ctx->progress == IMC_PROGRESS_ALWAYS)
		p->on = true;
	else
		p->on = isatty(fileno(ctx->err)) &&
			(total >= PROGRESS_MIN_BYTES || total == 0);
	p->start_ns = p->last_ns = iomap_stats_now_ns();
}

void imc_progress_format(char *buf, size_t size, uint64_t done,
			 uint64_t total, uint64_t ns)
{
	char hd[32], ht[32], hr[32];
	double secs = (double)ns / 1e9;
	double rate = secs > 0 ? (double)done / secs : 0;
	unsigned int pct = total ? (unsigned int)(done * 100 / total) : 100;
	char bar[21];
	long eta = rate > 0 && total > done ? (long)((total - done) / rate) : 0;

	/* Unknown total (a tree being walked): bytes and rate only. */
	if (total == 0) {
		snprintf(buf, size, "%s  %s/s", imc_human(done, hd, sizeof(hd)),
			 imc_human((uint64_t)rate, hr, sizeof(hr)));
		return;
	}
	if (pct > 100)
		pct = 100;
	for (unsigned int i = 0; i < 20; i++)
		bar[i] = i < pct / 5 ? '#' : '.';
	bar[20] = '\0';
	snprintf(buf, size, "[%s] %3u%% %s / %s  %s/s  ETA %ld:%02ld", bar, pct,
		 imc_human(done, hd, sizeof(hd)), imc_human(total, ht, sizeof(ht)),
		 imc_human((uint64_t)rate, hr, sizeof(hr)), eta / 60, eta % 60);
}

void imc_progress_update(struct imc_progress *p, uint64_t done)
{
	uint64_t now;
	char line[160];

	if (!p->on)
		return;
	now = iomap_stats_now_ns();
	p->done = done;
	if (now - p->last_ns < PROGRESS_INTERVAL_NS && done < p->total)
		return;
	p->last_ns = now;
	imc_progress_format(line, sizeof(line), done, p->total,
			    now - p->start_ns);
	fprintf(p->err, "\r%s\033[K", line);
	fflush(p->err);
}

void imc_progress_end(struct imc_progress *p)
{
	if (!p->on)
		return;
	imc_progress_update(p, p->total ? p->total : p->done);
	fputc('\n', p->err);
}
