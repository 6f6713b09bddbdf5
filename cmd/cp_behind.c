// SPDX-License-Identifier: GPL-2.0
/*
 * cp_behind.c - a large file's host writes, done behind its reads by a
 * thread.  A sparse file costs a pwrite per extent (3 us for 4 KiB into
 * tmpfs here) and a read request per few extents, a long run a 4 MiB
 * pwrite per chunk read, all kernel time that one thread spent in
 * sequence; with the writes here, the walk and the reads run on the other
 * core.  Batches are written in the order they were queued, and a batch's
 * memory is the caller's again only after cp_behind_wait() on it.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include "cp.h"

struct cp_behind {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t work; /* a batch was queued, or stop */
	pthread_cond_t done; /* a batch was written */
	struct cp_wbatch *head, *tail;
	bool stop;
};

static int cp_wbatch_write(const struct cp_wbatch *wb)
{
	for (unsigned int i = 0; i < wb->n; i++) {
		const struct cp_seg *g = &wb->seg[i];
		int ret = cp_pwrite_all(wb->fd, wb->buf + (g->start - wb->base),
					g->end - g->start, (off_t)g->start);

		if (ret)
			return ret;
	}
	return 0;
}

static void *cp_behind_main(void *arg)
{
	struct cp_behind *b = arg;

	pthread_setname_np(pthread_self(), "iomapctl-write");
	pthread_mutex_lock(&b->lock);
	for (;;) {
		struct cp_wbatch *wb = b->head;

		if (!wb) {
			if (b->stop)
				break;
			pthread_cond_wait(&b->work, &b->lock);
			continue;
		}
		b->head = wb->next;
		if (!b->head)
			b->tail = NULL;
		pthread_mutex_unlock(&b->lock);
		wb->err = cp_wbatch_write(wb);
		pthread_mutex_lock(&b->lock);
		wb->done = true;
		pthread_cond_broadcast(&b->done);
	}
	pthread_mutex_unlock(&b->lock);
	return NULL;
}

struct cp_behind *cp_behind_start(void)
{
	struct cp_behind *b = calloc(1, sizeof(*b));

	if (!b)
		return NULL;
	pthread_mutex_init(&b->lock, NULL);
	pthread_cond_init(&b->work, NULL);
	pthread_cond_init(&b->done, NULL);
	if (pthread_create(&b->thread, NULL, cp_behind_main, b)) {
		pthread_cond_destroy(&b->done);
		pthread_cond_destroy(&b->work);
		pthread_mutex_destroy(&b->lock);
		free(b);
		return NULL;
	}
	return b;
}

void cp_behind_queue(struct cp_behind *b, struct cp_wbatch *wb)
{
	wb->next = NULL;
	wb->err = 0;
	wb->done = false;
	wb->queued = true;
	pthread_mutex_lock(&b->lock);
	if (b->tail)
		b->tail->next = wb;
	else
		b->head = wb;
	b->tail = wb;
	pthread_cond_signal(&b->work);
	pthread_mutex_unlock(&b->lock);
}

int cp_behind_wait(struct cp_behind *b, struct cp_wbatch *wb)
{
	if (!wb->queued)
		return 0;
	pthread_mutex_lock(&b->lock);
	while (!wb->done)
		pthread_cond_wait(&b->done, &b->lock);
	pthread_mutex_unlock(&b->lock);
	wb->queued = false;
	return wb->err;
}

void cp_behind_stop(struct cp_behind *b)
{
	if (!b)
		return;
	pthread_mutex_lock(&b->lock);
	b->stop = true;
	pthread_cond_signal(&b->work);
	pthread_mutex_unlock(&b->lock);
	/* The thread writes what is queued before it ends. */
	pthread_join(b->thread, NULL);
	pthread_cond_destroy(&b->done);
	pthread_cond_destroy(&b->work);
	pthread_mutex_destroy(&b->lock);
	free(b);
}
