// SPDX-License-Identifier: GPL-2.0
/*
 * cp_writer.c - host files of a tree copy written by worker threads.  A
 * file whose bytes are already in memory (read by its group, or empty)
 * costs the host an open, a write, a futimens and a close, all kernel
 * time that one thread spends in sequence: creating 47,616 names alone
 * took as long as debugfs rdump's whole copy.  The workers do only host
 * system calls on memory the main thread no longer touches; the engine
 * and the image stay on the main thread, which writes files too while it
 * waits for a group's.  Failures come back to the main thread, which
 * reports them at the next drain.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cp.h"

#define CP_WRITERS 2
/* Jobs handed over at once: one wake-up for many files, not one each. */
#define CP_WRITER_BATCH 32
/* Jobs a thread takes at once: one lock for several files. */
#define CP_WRITER_CHUNK 8

struct cp_writer {
	pthread_t thread[CP_WRITERS];
	unsigned int nthreads;
	pthread_mutex_t lock;
	pthread_cond_t work; /* a job was queued, or stop */
	pthread_cond_t idle; /* a job finished */
	struct cp_job *head, *tail;
	struct cp_job *batch, *batch_tail; /* the main thread's, unlocked */
	unsigned int nbatch;
	struct cp_job *failed;
	unsigned int pending; /* queued or running */
	bool draining; /* the main thread waits on @idle */
	bool stop;
};

/* What open_host_dst() says of a name that exists (no -f here). */
static int cp_job_exists(const struct cp_job *j)
{
	struct stat st;

	if (fstatat(j->dirfd, j->name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return -EEXIST;
	return S_ISDIR(st.st_mode) ? -EISDIR : -EEXIST;
}

static int cp_job_write(const struct cp_job *j, int fd)
{
	uint64_t end = 0;

	for (unsigned int i = 0; i < j->nseg; i++) {
		const struct cp_seg *g = &j->seg[i];
		int r = cp_pwrite_all(fd, j->data + g->start,
				      g->end - g->start, (off_t)g->start);

		if (r < 0)
			return r;
		end = g->end;
	}
	/* A hole at the end has no write to give the size. */
	if (end != j->size && ftruncate(fd, (off_t)j->size) < 0)
		return -errno;
	if (j->chmod && fchmod(fd, j->mode) < 0)
		return -errno;
	return futimens(fd, j->times) < 0 ? -errno : 0;
}

/*
 * An empty file whose mode the umask leaves whole is made by name: two
 * system calls instead of open, futimens and close (most of a tree of
 * empty files).  Neither follows a symlink.
 */
static void cp_job_make_empty(struct cp_job *j)
{
	if (mknodat(j->dirfd, j->name, S_IFREG | (j->mode & 0777), 0) < 0) {
		j->err = errno == EEXIST ? cp_job_exists(j) : -errno;
		return;
	}
	if (utimensat(j->dirfd, j->name, j->times, AT_SYMLINK_NOFOLLOW) < 0) {
		j->err = -errno;
		unlinkat(j->dirfd, j->name, 0);
	}
}

static void cp_job_run(struct cp_job *j)
{
	int fd;

	if (!j->size && !j->chmod) {
		cp_job_make_empty(j);
		return;
	}
	fd = openat(j->dirfd, j->name,
		    O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		    j->mode & 0777);
	if (fd < 0) {
		j->err = errno == EEXIST ? cp_job_exists(j) : -errno;
		return;
	}
	j->err = cp_job_write(j, fd);
	if (close(fd) < 0 && !j->err)
		j->err = -errno;
	/* A failed copy leaves nothing behind. */
	if (j->err)
		unlinkat(j->dirfd, j->name, 0);
}

void cp_job_free(struct cp_job *j)
{
	free(j->name);
	free(j->src);
	free(j);
}

/* Takes up to CP_WRITER_CHUNK jobs off the queue: one lock for several. */
static struct cp_job *cp_writer_pop(struct cp_writer *w)
{
	struct cp_job *first = w->head, *last = first;

	for (unsigned int n = 1; n < CP_WRITER_CHUNK && last->next; n++)
		last = last->next;
	w->head = last->next;
	if (!w->head)
		w->tail = NULL;
	last->next = NULL;
	return first;
}

/* Accounts finished jobs @done, under the lock; failed ones are kept. */
static void cp_writer_done(struct cp_writer *w, struct cp_job *done)
{
	while (done) {
		struct cp_job *j = done;

		done = j->next;
		if (j->group)
			j->group->pending--;
		w->pending--;
		if (j->err) {
			j->next = w->failed;
			w->failed = j;
		} else {
			cp_job_free(j);
		}
	}
	if (w->draining)
		pthread_cond_broadcast(&w->idle);
}

/* Runs a chunk of the queue; called and returns with the lock held. */
static void cp_writer_work(struct cp_writer *w)
{
	struct cp_job *chunk = cp_writer_pop(w);

	pthread_mutex_unlock(&w->lock);
	for (struct cp_job *j = chunk; j; j = j->next)
		cp_job_run(j);
	pthread_mutex_lock(&w->lock);
	cp_writer_done(w, chunk);
}

static void *cp_writer_main(void *arg)
{
	struct cp_writer *w = arg;

	/* So top and perf tell the writers from the walk. */
	pthread_setname_np(pthread_self(), "iomapctl-write");

	pthread_mutex_lock(&w->lock);
	for (;;) {
		if (w->head)
			cp_writer_work(w);
		else if (w->stop)
			break;
		else
			pthread_cond_wait(&w->work, &w->lock);
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

static struct cp_writer *cp_writer_get(struct cp *cp)
{
	struct cp_writer *w = cp->writer;

	if (w || cp->writer_failed)
		return w;
	w = calloc(1, sizeof(*w));
	if (w) {
		pthread_mutex_init(&w->lock, NULL);
		pthread_cond_init(&w->work, NULL);
		pthread_cond_init(&w->idle, NULL);
		while (w->nthreads < CP_WRITERS &&
		       !pthread_create(&w->thread[w->nthreads], NULL,
				       cp_writer_main, w))
			w->nthreads++;
	}
	/* No thread: every file is written by the main thread, as before. */
	if (!w || !w->nthreads) {
		if (w) {
			pthread_cond_destroy(&w->idle);
			pthread_cond_destroy(&w->work);
			pthread_mutex_destroy(&w->lock);
		}
		free(w);
		cp->writer_failed = true;
		return NULL;
	}
	cp->writer = w;
	return w;
}

/* Hands the jobs taken since the last hand-over to the threads. */
static void cp_writer_flush(struct cp_writer *w)
{
	if (!w->batch)
		return;
	pthread_mutex_lock(&w->lock);
	for (struct cp_job *j = w->batch; j; j = j->next)
		if (j->group)
			j->group->pending++;
	if (w->tail)
		w->tail->next = w->batch;
	else
		w->head = w->batch;
	w->tail = w->batch_tail;
	w->pending += w->nbatch;
	pthread_cond_broadcast(&w->work);
	pthread_mutex_unlock(&w->lock);
	w->batch = w->batch_tail = NULL;
	w->nbatch = 0;
}

bool cp_writer_take(struct cp *cp, struct cp_job *j)
{
	struct cp_writer *w = cp_writer_get(cp);

	if (!w)
		return false;
	j->next = NULL;
	if (w->batch_tail)
		w->batch_tail->next = j;
	else
		w->batch = j;
	w->batch_tail = j;
	if (++w->nbatch == CP_WRITER_BATCH)
		cp_writer_flush(w);
	return true;
}

void cp_writer_drain(struct cp *cp, const struct cp_group *g)
{
	struct cp_writer *w = cp->writer;
	struct cp_job *failed;

	if (!w)
		return;
	cp_writer_flush(w);
	pthread_mutex_lock(&w->lock);
	w->draining = true;
	/* Waiting, the main thread writes files too: on two cores a
	 * sleeping walk left one idle while the writers caught up. */
	while (g ? g->pending : w->pending) {
		if (w->head)
			cp_writer_work(w);
		else
			pthread_cond_wait(&w->idle, &w->lock);
	}
	w->draining = false;
	failed = w->failed;
	w->failed = NULL;
	pthread_mutex_unlock(&w->lock);
	while (failed) {
		struct cp_job *j = failed;
		struct cp_dst dst = { .dirfd = j->dirfd, .name = j->name };

		failed = j->next;
		cp_fail(cp, j->src, &dst, j->err);
		cp->failed = IMC_EXIT_FAIL;
		cp_job_free(j);
	}
}

void cp_writer_stop(struct cp *cp)
{
	struct cp_writer *w = cp->writer;

	if (!w)
		return;
	cp_writer_drain(cp, NULL);
	pthread_mutex_lock(&w->lock);
	w->stop = true;
	pthread_cond_broadcast(&w->work);
	pthread_mutex_unlock(&w->lock);
	for (unsigned int i = 0; i < w->nthreads; i++)
		pthread_join(w->thread[i], NULL);
	pthread_cond_destroy(&w->idle);
	pthread_cond_destroy(&w->work);
	pthread_mutex_destroy(&w->lock);
	free(w);
	cp->writer = NULL;
}
