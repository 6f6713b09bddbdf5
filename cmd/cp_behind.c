// SPDX-License-Identifier: GPL-2.0
/*
 * cp_behind.c - a large file's host I/O on a thread: its writes behind
 * the copy's reads out of an image, its reads ahead of the copy's writes
 * into one.  A sparse file costs a pwrite per extent (3 us for 4 KiB into
 * tmpfs here) and a read request per few extents, a long run a 4 MiB
 * pread or pwrite per chunk, all kernel time that one thread spent in
 * sequence; with the host's part here, the engine's runs on the other
 * core.  Batches run in the order they were queued, and a batch's memory
 * is the caller's again only after cp_behind_wait() on it.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include "cp.h"

struct cp_behind {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t work; /* a batch was queued, or stop */
	pthread_cond_t done; /* a batch was done */
	struct cp_hbatch *head, *tail;
	bool stop;
};

int cp_host_rw(int fd, bool read, char *buf, size_t len, off_t pos)
{
	size_t done = 0;

	while (done < len) {
		off_t at = pos + (off_t)done;
		ssize_t n = read ? pread(fd, buf + done, len - done, at) :
				   pwrite(fd, buf + done, len - done, at);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		done += (size_t)n;
	}
	return 0;
}

static int cp_hbatch_run(const struct cp_hbatch *hb)
{
	for (unsigned int i = 0; i < hb->n; i++) {
		const struct cp_seg *g = &hb->seg[i];
		int ret = cp_host_rw(hb->fd, hb->read,
				     hb->buf + (g->start - hb->base),
				     g->end - g->start, (off_t)g->start);

		if (ret)
			return ret;
	}
	return 0;
}

static void *cp_behind_main(void *arg)
{
	struct cp_behind *b = arg;

	pthread_setname_np(pthread_self(), "iomapctl-hostio");
	pthread_mutex_lock(&b->lock);
	for (;;) {
		struct cp_hbatch *hb = b->head;

		if (!hb) {
			if (b->stop)
				break;
			pthread_cond_wait(&b->work, &b->lock);
			continue;
		}
		b->head = hb->next;
		if (!b->head)
			b->tail = NULL;
		pthread_mutex_unlock(&b->lock);
		hb->err = cp_hbatch_run(hb);
		pthread_mutex_lock(&b->lock);
		hb->done = true;
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

void cp_behind_queue(struct cp_behind *b, struct cp_hbatch *hb)
{
	hb->next = NULL;
	hb->queued = true;
	hb->done = !b;
	if (!b) {
		hb->err = cp_hbatch_run(hb);
		return;
	}
	hb->err = 0;
	pthread_mutex_lock(&b->lock);
	if (b->tail)
		b->tail->next = hb;
	else
		b->head = hb;
	b->tail = hb;
	pthread_cond_signal(&b->work);
	pthread_mutex_unlock(&b->lock);
}

int cp_behind_wait(struct cp_behind *b, struct cp_hbatch *hb)
{
	if (!hb->queued)
		return 0;
	/* Without a thread the batch ran in cp_behind_queue(). */
	if (b) {
		pthread_mutex_lock(&b->lock);
		while (!hb->done)
			pthread_cond_wait(&b->done, &b->lock);
		pthread_mutex_unlock(&b->lock);
	}
	hb->queued = false;
	return hb->err;
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
