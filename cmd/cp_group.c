// SPDX-License-Identifier: GPL-2.0
/*
 * cp_group.c - a tree copied out of an image reads its small files a group
 * at a time: one batch of reads for up to CP_GROUP_FILES files, and the
 * next group's batch in flight while this one's files are written out.
 * Read one by one, each 4 KiB file waited for its own request: the wait,
 * not the copy, was the cost of a tree of small files.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "cp.h"

/* Entries a group looks through for files, so that a directory of large
 * or empty files is not stat'ed far ahead of its copy. */
#define CP_GROUP_SCAN (2 * CP_GROUP_FILES)
#define CP_GROUP_ALIGN 4096U

bool cp_group_wanted(const struct cp *cp, const struct cp_dst *dst)
{
	/* Out of an image only: a copy into the image it reads could change
	 * a file read ahead of its turn. */
	return cp->src_image && !dst->image;
}

static void cp_group_release(struct cp *cp, struct cp_group *g)
{
	if (!g)
		return;
	/* The writers read its buffer until then. */
	cp_writer_drain(cp, g);
	iomap_read_batch_wait(g->batch);
	g->batch = NULL;
	for (unsigned int k = 0; k < g->n; k++)
		if (!g->f[k].taken)
			imc_file_close(&g->f[k].s);
	g->n = 0;
	g->dir = false;
}

static struct cp_group *cp_group_get(struct cp *cp, unsigned int k)
{
	struct cp_group *g = cp->group[k];

	if (g)
		return g;
	g = calloc(1, sizeof(*g));
	if (!g)
		return NULL;
	if (posix_memalign((void **)&g->buf, CP_GROUP_ALIGN, CP_GROUP_BYTES)) {
		free(g);
		return NULL;
	}
	cp->group[k] = g;
	return g;
}

enum cp_fit { CP_FIT_ADDED, CP_FIT_SKIPPED, CP_FIT_DIR, CP_FIT_FULL };

/*
 * Opens @e into @g when it is a small regular file.  Whatever goes wrong
 * here is left for its copy to meet and report.
 */
static enum cp_fit cp_group_add(struct cp *cp, struct cp_group *g,
				const struct cp_ent *e, size_t *used)
{
	struct fsa_fs *fs = cp->sctx->fs;
	struct cp_pre *p = &g->f[g->n];
	const struct fsa_stat *st = &p->st;
	size_t len;

	if (cp_check_name(e->name) || fs->ops->stat(fs, e->ino, &p->st))
		return CP_FIT_SKIPPED;
	if (S_ISDIR(st->mode))
		return CP_FIT_DIR;
	if (!S_ISREG(st->mode) || st->size <= 0 || st->size > CP_GROUP_SMALL)
		return CP_FIT_SKIPPED;
	len = ((size_t)st->size + CP_GROUP_ALIGN - 1) & ~(size_t)(CP_GROUP_ALIGN - 1);
	if (*used + len > CP_GROUP_BYTES)
		return CP_FIT_FULL;
	if (imc_file_attach_stat(cp->sctx, e->name, e->ino, st, &p->s))
		return CP_FIT_SKIPPED;
	if (imc_file_io(&p->s)) {
		imc_file_close(&p->s);
		return CP_FIT_SKIPPED;
	}
	p->ino = e->ino;
	p->data = g->buf + *used;
	p->taken = false;
	g->req[g->n] = (struct iomap_read_req){ .file = p->s.io,
						.buf = p->data,
						.len = len,
						.res = -EAGAIN };
	g->n++;
	*used += len;
	return CP_FIT_ADDED;
}

/* Fills @g from entry @from and starts its reads; returns where it ends. */
static size_t cp_group_fill(struct cp *cp, struct cp_group *g,
			    const struct cp_ent *v, size_t n, size_t from)
{
	size_t used = 0, i;

	for (i = from; i < n && g->n < CP_GROUP_FILES &&
		       i - from < CP_GROUP_SCAN;
	     i++) {
		enum cp_fit fit = cp_group_add(cp, g, &v[i], &used);

		if (fit == CP_FIT_DIR && i == from) {
			/* Alone: its tree uses the groups while it is copied. */
			g->dir = true;
			i++;
		}
		if (fit == CP_FIT_DIR || fit == CP_FIT_FULL)
			break;
	}
	/* Unstarted, each file is read at its turn (res stays -EAGAIN). */
	if (g->n && iomap_read_batch_start(g->req, g->n, &g->batch))
		g->batch = NULL;
	return i;
}

/* Slot @k, its old group released (its files written), ready to fill. */
static struct cp_group *cp_group_slot(struct cp *cp, unsigned int k)
{
	cp_group_release(cp, cp->group[k]);
	return cp_group_get(cp, k);
}

size_t cp_group_next(struct cp *cp, const struct cp_ent *v, size_t n,
		     size_t i, size_t *ahead)
{
	struct cp_group *cur, *next;
	size_t end;

	if (i >= n) {
		for (unsigned int k = 0; k < CP_GROUPS; k++)
			cp_group_release(cp, cp->group[k]);
		/* Empty files too: the directory's times are set next. */
		cp_writer_drain(cp, NULL);
		*ahead = n;
		return n;
	}
	if (*ahead > i) {
		cp->cur = (cp->cur + 1) % CP_GROUPS;
		cur = cp->group[cp->cur];
		end = *ahead;
	} else {
		cur = cp_group_slot(cp, cp->cur);
		/* Out of memory: the rest is copied a file at a time. */
		if (!cur) {
			*ahead = i;
			return n;
		}
		end = cp_group_fill(cp, cur, v, n, i);
	}
	*ahead = end;
	/*
	 * The next slot holds the group before this one: the writers have
	 * had a whole group's time to finish it, so the walk seldom waits.
	 */
	if (!cur->dir && end < n) {
		next = cp_group_slot(cp, (cp->cur + 1) % CP_GROUPS);
		if (next)
			*ahead = cp_group_fill(cp, next, v, n, end);
	}
	iomap_read_batch_wait(cur->batch);
	cur->batch = NULL;
	return end;
}

const struct fsa_stat *cp_group_stat(const struct cp *cp, uint64_t ino)
{
	const struct cp_group *g = cp->group[cp->cur];

	for (unsigned int k = 0; g && k < g->n; k++)
		if (!g->f[k].taken && g->f[k].ino == ino)
			return &g->f[k].st;
	return NULL;
}

bool cp_group_take(struct cp *cp, uint64_t ino, struct imc_file *s)
{
	struct cp_group *g = cp->group[cp->cur];

	for (unsigned int k = 0; g && k < g->n; k++) {
		struct cp_pre *p = &g->f[k];

		if (p->taken || p->ino != ino)
			continue;
		p->taken = true;
		*s = p->s;
		/* A failed batch fails all its reads: each is read again at
		 * its copy, which then says which file failed. */
		cp->ready = g->req[k].res == s->size ? p : NULL;
		return true;
	}
	return false;
}

void cp_group_free(struct cp *cp)
{
	cp_writer_stop(cp);
	for (unsigned int k = 0; k < CP_GROUPS; k++) {
		cp_group_release(cp, cp->group[k]);
		if (cp->group[k])
			free(cp->group[k]->buf);
		free(cp->group[k]);
		cp->group[k] = NULL;
	}
}
