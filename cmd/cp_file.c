// SPDX-License-Identifier: GPL-2.0
/* cp_file.c - copying one regular file between host and images, following
 * the source's data/hole map so holes stay holes and zeros are never read. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <linux/magic.h>

#include "cp.h"

#define CP_CHUNK (1U << 20)
#define CP_ALIGN 4096U
#define CP_HUGE (2U << 20) /* a transparent huge page */

int cp_check_name(const char *name)
{
	/* A damaged directory may hold anything: never build paths from it. */
	if (!name[0] || !strcmp(name, ".") || !strcmp(name, "..") ||
	    strchr(name, '/'))
		return -EINVAL;
	return 0;
}

static bool all_zero(const char *buf, size_t len)
{
	return len == 0 || (buf[0] == 0 && !memcmp(buf, buf + 1, len - 1));
}

/* The bytes of the CP_ALIGN block at @at, fewer at the end of @len. */
static size_t cp_block(size_t at, size_t len)
{
	return len - at < CP_ALIGN ? len - at : CP_ALIGN;
}

/*
 * Writes @len bytes of @buf at @pos, no more: imc_file_pwrite takes any
 * length on every path (an unaligned end goes through a bounce block on
 * the direct one), so nothing past the source's data is allocated.
 * --sparse=always skips the blocks that are all zeros.
 */
static int cp_put(struct cp *cp, struct imc_file *d, char *buf, size_t len,
		  uint64_t pos)
{
	for (size_t at = 0; at < len;) {
		size_t run = len - at;
		ssize_t w;

		if (cp->sparse == CP_SPARSE_ALWAYS) {
			if (all_zero(buf + at, cp_block(at, len))) {
				at += cp_block(at, len);
				continue;
			}
			for (run = cp_block(at, len);
			     at + run < len &&
			     !all_zero(buf + at + run,
				       cp_block(at + run, len));)
				run += cp_block(at + run, len);
		}
		/* A short write is retried: the next one says why. */
		w = imc_file_pwrite(d, buf + at, run, (loff_t)(pos + at));
		if (w < 0)
			return (int)w;
		if (w == 0)
			return -EIO;
		at += (size_t)w;
		if (pos + at > cp->dst_end)
			cp->dst_end = pos + at;
	}
	return 0;
}

/* The run's host I/O thread, started on first use; NULL when none could
 * start (its batches then run here, in cp_behind_queue). */
static struct cp_behind *cp_thread(struct cp *cp)
{
	if (!cp->behind && !cp->behind_failed) {
		cp->behind = cp_behind_start();
		cp->behind_failed = !cp->behind;
	}
	return cp->behind;
}

/* Writes into @d may go to the thread: not into an image (the engine stays
 * on this thread), nor with --sparse=always (cp_put looks at each block). */
static bool cp_writes_behind(const struct cp *cp, const struct imc_file *d)
{
	return d->host_fd >= 0 && cp->sparse != CP_SPARSE_ALWAYS;
}

/* Hands @seg[0..n) of @buf (which holds [@seg[0].start, ...)) to the
 * thread, to be read from or written to host file @fd. */
static void cp_behind_put(struct cp *cp, struct cp_hbatch *hb, int fd,
			  bool read, char *buf, const struct cp_seg *seg,
			  unsigned int n)
{
	*hb = (struct cp_hbatch){ .fd = fd, .read = read, .buf = buf,
				  .base = seg[0].start, .seg = seg, .n = n };
	cp_behind_queue(cp->behind, hb);
	if (!read && seg[n - 1].end > cp->dst_end)
		cp->dst_end = seg[n - 1].end;
}

/*
 * The run's buffers of @len bytes in @mem, made at their first use and
 * kept until cp_file_end(): on huge-page boundaries, so that they fault in
 * as a few huge pages rather than thousands of small ones (on this VM a
 * page touched the first time costs 18 us), and once, not per file.
 */
static char *cp_buffers(char **mem, size_t len)
{
	void *p;

	if (*mem)
		return *mem;
	if (posix_memalign(&p, CP_HUGE, len))
		return NULL;
	madvise(p, len, MADV_HUGEPAGE);
	*mem = p;
	return p;
}

/*
 * A long run streamed between an image and a host file: chunks of 1 MiB
 * requests, CP_STREAM_AHEAD chunks read ahead of the one being written;
 * out of an image as many again may wait for the host I/O thread to write
 * them, into one the host file is read ahead on that thread.
 */
#define CP_STREAM_CHUNK (4U << 20)
#define CP_STREAM_AHEAD 3
#define CP_STREAM_SLOTS (2 * CP_STREAM_AHEAD)

/*
 * Worth streaming: a run of two chunks or more, of a host file into an
 * image or of an image file into a host file.
 */
static bool cp_streams(const struct imc_file *s, const struct imc_file *d,
		       uint64_t pos, uint64_t end)
{
	if (end - pos < 2 * (uint64_t)CP_STREAM_CHUNK)
		return false;
	return s->host_fd >= 0 ? d->host_fd < 0 : s->io && d->host_fd >= 0;
}

/*
 * The stream reads out of the image in batches, in flight while it waits
 * for nothing else: on the direct path, from a block the device can take.
 * Otherwise each chunk is read here (through the page cache or the DAX
 * mapping) while the host I/O thread writes the one before.
 */
static bool cp_stream_batches(const struct imc_file *s, uint64_t pos)
{
	const struct iomap_dev *dev = s->ctx->dev;

	return dev && iomap_dev_is_direct(dev) &&
	       s->ctx->io.path == IOMAP_IO_DIRECT && !(pos % CP_ALIGN) &&
	       iomap_dev_dio_align(dev) <= CP_ALIGN;
}

struct cp_stream {
	char *mem; /* the slots' buffers, the run's */
	char *buf[CP_STREAM_SLOTS];
	struct iomap_read_req req[CP_STREAM_SLOTS];
	struct iomap_read_batch *batch[CP_STREAM_SLOTS];
	struct cp_seg seg[CP_STREAM_SLOTS];
	struct cp_hbatch hb[CP_STREAM_SLOTS];
	uint64_t next, end; /* the next chunk to start, and the run's end */
	int direct_fd; /* the destination opened O_DIRECT, or -1 */
	bool batches; /* cp_stream_batches() */
};

/*
 * The host destination opened again with O_DIRECT, or -1 when its
 * filesystem refuses or is in memory (or --sparse=always must look at
 * every block): the
 * stream's whole aligned chunks go there, so on a device the writes are
 * DMA the CPU does not wait on, beside the reads in flight, and the
 * host's page cache is not filled with the copy.
 */
static int cp_stream_direct_fd(const struct cp *cp, const struct imc_file *d)
{
	struct statfs sf;
	char path[64];

	/* In memory O_DIRECT is a copy like any other. */
	if (d->host_fd < 0 || cp->sparse == CP_SPARSE_ALWAYS ||
	    fstatfs(d->host_fd, &sf) ||
	    sf.f_type == TMPFS_MAGIC || sf.f_type == RAMFS_MAGIC)
		return -1;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", d->host_fd);
	return open(path, O_WRONLY | O_DIRECT | O_CLOEXEC);
}

/* Starts reading the next chunk into slot @k, if the run has one. */
static int cp_stream_start(struct cp *cp, struct cp_stream *st,
			   struct imc_file *s, int k)
{
	uint64_t left = (st->end - st->next + CP_ALIGN - 1) &
			~(uint64_t)(CP_ALIGN - 1);
	size_t len = left < CP_STREAM_CHUNK ? (size_t)left : CP_STREAM_CHUNK;

	if (st->next >= st->end)
		return 0;
	if (s->host_fd >= 0) {
		st->seg[k] = (struct cp_seg){ st->next, st->next + len };
		if (st->seg[k].end > st->end)
			st->seg[k].end = st->end;
		st->next += len;
		cp_behind_put(cp, &st->hb[k], s->host_fd, true, st->buf[k],
			      &st->seg[k], 1);
		return 0;
	}
	st->req[k] = (struct iomap_read_req){
		.file = s->io,
		.buf = st->buf[k],
		.len = len,
		.pos = (loff_t)st->next,
	};
	st->next += len;
	if (!st->batches) {
		st->req[k].res = imc_file_pread(s, st->buf[k], len,
						st->req[k].pos);
		return 0;
	}
	return iomap_read_batch_start(&st->req[k], 1, &st->batch[k]);
}

/* Waits for the @n bytes of slot @k. */
static int cp_stream_wait(struct cp *cp, struct cp_stream *st, int k,
			  size_t n)
{
	int err;

	if (st->hb[k].queued)
		return cp_behind_wait(cp->behind, &st->hb[k]);
	err = iomap_read_batch_wait(st->batch[k]);
	st->batch[k] = NULL;
	if (err)
		return err;
	if (st->req[k].res < (ssize_t)n)
		return st->req[k].res < 0 ? (int)st->req[k].res : -EIO;
	return 0;
}

/* Writes chunk [pos, pos + n) of slot @k, or hands it to the thread. */
static int cp_stream_put(struct cp *cp, struct imc_file *d,
			 struct cp_stream *st, int k, uint64_t pos, size_t n)
{
	/* Whole aligned chunks go O_DIRECT where the destination can. */
	int fd = st->direct_fd >= 0 && !(n % CP_ALIGN) ? st->direct_fd :
							 d->host_fd;

	if (!cp_writes_behind(cp, d))
		return cp_put(cp, d, st->buf[k], n, pos);
	st->seg[k] = (struct cp_seg){ pos, pos + n };
	cp_thread(cp);
	cp_behind_put(cp, &st->hb[k], fd, false, st->buf[k], &st->seg[k], 1);
	return 0;
}

/*
 * [pos, end) a chunk at a time, the next chunks' reads in flight while
 * this one is written: the device never waits for the host, nor the host
 * for the device.
 */
static int cp_stream(struct cp *cp, struct imc_file *s, struct imc_file *d,
		     uint64_t pos, uint64_t end)
{
	struct cp_stream st = { .next = pos, .end = end,
				.direct_fd = cp_stream_direct_fd(cp, d),
				.batches = s->host_fd < 0 &&
					   cp_stream_batches(s, pos),
				.mem = cp_buffers(&cp->stream_mem,
						  (size_t)CP_STREAM_SLOTS *
							  CP_STREAM_CHUNK) };
	int ret = st.mem ? 0 : -ENOMEM;

	if (s->host_fd >= 0)
		cp_thread(cp);
	for (int i = 0; i < CP_STREAM_SLOTS && st.mem; i++)
		st.buf[i] = st.mem + (size_t)i * CP_STREAM_CHUNK;
	for (int i = 0; i < CP_STREAM_AHEAD && !ret; i++)
		ret = cp_stream_start(cp, &st, s, i);
	for (unsigned int c = 0; !ret && pos < end; c++) {
		int k = (int)(c % CP_STREAM_SLOTS);
		int ahead = (int)((c + CP_STREAM_AHEAD) % CP_STREAM_SLOTS);
		size_t n = end - pos < CP_STREAM_CHUNK ? end - pos :
							  CP_STREAM_CHUNK;

		ret = cp_stream_wait(cp, &st, k, n);
		if (!ret)
			ret = cp_stream_put(cp, d, &st, k, pos, n);
		/* The chunk CP_STREAM_AHEAD on goes to a slot whose writes
		 * are done. */
		if (!ret)
			ret = cp_behind_wait(cp->behind, &st.hb[ahead]);
		if (!ret)
			ret = cp_stream_start(cp, &st, s, ahead);
		if (ret)
			break;
		pos += n;
		cp->bytes += n;
		cp->walked += n;
		imc_progress_update(&cp->prog, cp->walked);
	}
	/* Never free a buffer a read may still fill or a write still use. */
	for (int i = 0; i < CP_STREAM_SLOTS; i++) {
		int r = cp_behind_wait(cp->behind, &st.hb[i]);

		iomap_read_batch_wait(st.batch[i]);
		ret = ret ? ret : r;
	}
	if (st.direct_fd >= 0)
		close(st.direct_fd);
	return ret;
}

/* Copies [pos, end) of @s to @d; with @hole, writes zeros instead. */
static int cp_range(struct cp *cp, struct imc_file *s, struct imc_file *d,
		    char *buf, uint64_t pos, uint64_t end, bool hole)
{
	if (!hole && cp_streams(s, d, pos, end))
		return cp_stream(cp, s, d, pos, end);
	while (pos < end) {
		size_t n = end - pos < CP_CHUNK ? end - pos : CP_CHUNK;
		/* Whole aligned blocks, as direct I/O wants; short at EOF. */
		size_t want = (n + CP_ALIGN - 1) & ~(size_t)(CP_ALIGN - 1);
		ssize_t r = hole ? (ssize_t)n : imc_file_pread(s, buf, want,
							     (loff_t)pos);
		int ret;

		if (r <= 0)
			return r < 0 ? (int)r : -EIO;
		if ((size_t)r > n)
			r = (ssize_t)n;
		if (hole)
			memset(buf, 0, n);
		ret = cp_put(cp, d, buf, (size_t)r, pos);
		if (ret)
			return ret;
		pos += (uint64_t)r;
		if (!hole)
			cp->bytes += (uint64_t)r;
		cp->walked += (uint64_t)r;
		imc_progress_update(&cp->prog, cp->walked);
	}
	return 0;
}

#define CP_MAX_SEGS 256

/*
 * Small data segments are gathered into a window of at most CP_CHUNK, read
 * with one read batch (a request each, merged where they lie close on the
 * disk; no I/O for the holes between them), and written while the next
 * window's reads are in flight.  One read per 4 KiB extent, each waited
 * for, took 10 s for a file of 32,768 extents.
 */
struct cp_window {
	struct cp_seg seg[CP_MAX_SEGS];
	struct iomap_read_req req[CP_MAX_SEGS];
	int n;
	char *buf;
	struct iomap_read_batch *batch; /* reads in flight */
	bool read; /* started: buf holds the data once the batch is done */
	struct cp_hbatch hb; /* its writes, while the host I/O thread has them */
};

/*
 * A ring of windows.  @cur gathers; the @nwin / 2 gathered before it have
 * their reads in flight; older ones are read and, into a host file, queued
 * for the host I/O thread, started once a file fills a window.  With two
 * windows, one window's reads were in flight at a time and the writes
 * waited for them.
 */
#define CP_WINDOWS 8

struct cp_windows {
	struct cp_window *w;
	unsigned int nwin, cur;
	char *mem; /* the windows' buffers, CP_CHUNK each: the run's */
};

/* The window gathered @back windows before the current one. */
static struct cp_window *cp_window_back(struct cp_windows *ws,
					unsigned int back)
{
	return &ws->w[(ws->cur + ws->nwin - back) % ws->nwin];
}

/* Can @seg join the window?  Only whole aligned blocks may share it (the
 * last piece may end at EOF), so on the direct path no piece but the last
 * needs a bounce block. */
static bool cp_window_fits(const struct cp_window *w, struct cp_seg seg,
			   uint64_t size)
{
	if (seg.start % CP_ALIGN || (seg.end % CP_ALIGN && seg.end != size))
		return false;
	if (w->n == CP_MAX_SEGS)
		return false;
	return seg.end - (w->n ? w->seg[0].start : seg.start) <= CP_CHUNK;
}

/* Reads the window's whole span (holes as zeros), waiting for it. */
static int cp_window_read_span(struct imc_file *s, struct cp_window *w)
{
	uint64_t base = w->seg[0].start, span = w->seg[w->n - 1].end - base;
	ssize_t r = imc_file_pread(s, w->buf,
				   (span + CP_ALIGN - 1) &
					   ~(uint64_t)(CP_ALIGN - 1),
				   (loff_t)base);

	return r < (ssize_t)span ? (r < 0 ? (int)r : -EIO) : 0;
}

/* Starts the window's reads: a batch in an image, at once on the host. */
static int cp_window_start(struct imc_file *s, struct cp_window *w)
{
	uint64_t base;

	if (!w->n || w->read)
		return 0;
	w->read = true;
	if (!s->io || iomap_dev_dio_align(s->ctx->dev) > CP_ALIGN)
		return cp_window_read_span(s, w);
	base = w->seg[0].start;
	for (int i = 0; i < w->n; i++) {
		const struct cp_seg *g = &w->seg[i];

		w->req[i] = (struct iomap_read_req){
			.file = s->io,
			.buf = w->buf + (g->start - base),
			.len = (g->end - g->start + CP_ALIGN - 1) &
			       ~(uint64_t)(CP_ALIGN - 1),
			.pos = (loff_t)g->start,
			.res = -EAGAIN,
		};
	}
	if (iomap_read_batch_start(w->req, (unsigned int)w->n, &w->batch)) {
		w->batch = NULL;
		return cp_window_read_span(s, w);
	}
	return 0;
}

/* Waits for the window's reads. */
static int cp_window_wait(struct imc_file *s, struct cp_window *w)
{
	int ret = cp_window_start(s, w);

	if (!w->batch)
		return ret;
	ret = iomap_read_batch_wait(w->batch);
	w->batch = NULL;
	for (int i = 0; i < w->n && !ret; i++)
		if (w->req[i].res < (ssize_t)(w->seg[i].end - w->seg[i].start))
			ret = -EIO;
	/* A failed batch fails all its reads: read again to say why. */
	return ret ? cp_window_read_span(s, w) : 0;
}

/*
 * Waits for the window's reads and writes its segments out, or hands them
 * to the host I/O thread; either way in file order, as writing below EOF
 * into a hole would make an image allocate more.
 */
static int cp_window_retire(struct cp *cp, struct imc_file *s,
			    struct imc_file *d, struct cp_window *w)
{
	uint64_t base = w->n ? w->seg[0].start : 0;
	bool behind = cp_writes_behind(cp, d);
	int ret;

	if (!w->n || w->hb.queued)
		return 0;
	ret = cp_window_wait(s, w);
	if (!ret && behind)
		cp_behind_put(cp, &w->hb, d->host_fd, false, w->buf, w->seg,
			      (unsigned int)w->n);
	for (int i = 0; i < w->n && !ret; i++) {
		const struct cp_seg *g = &w->seg[i];

		if (!behind)
			ret = cp_put(cp, d, w->buf + (g->start - base),
				     g->end - g->start, g->start);
		cp->bytes += g->end - g->start;
		cp->walked += g->end - g->start;
	}
	imc_progress_update(&cp->prog, cp->walked);
	if (!w->hb.queued) {
		w->n = 0;
		w->read = false;
	}
	return ret;
}

/* Makes a retired window free to gather into: its writes are done. */
static int cp_window_reclaim(struct cp *cp, struct cp_window *w)
{
	int ret;

	if (!w->hb.queued)
		return 0;
	ret = cp_behind_wait(cp->behind, &w->hb);
	w->n = 0;
	w->read = false;
	return ret;
}

/* Writes every window out, in the order they were gathered. */
static int cp_windows_drain(struct cp *cp, struct imc_file *s,
			    struct imc_file *d, struct cp_windows *ws)
{
	int ret = cp_window_start(s, &ws->w[ws->cur]);

	for (unsigned int back = ws->nwin; back-- > 0;) {
		int r = cp_window_retire(cp, s, d, cp_window_back(ws, back));

		ret = ret ? ret : r;
	}
	for (unsigned int back = ws->nwin; back-- > 0;) {
		int r = cp_window_reclaim(cp, cp_window_back(ws, back));

		ret = ret ? ret : r;
	}
	return ret;
}

/* Adds [start, end) of the source to the copy, through the windows. */
static int cp_segment(struct cp *cp, struct imc_file *s, struct imc_file *d,
		      struct cp_windows *ws, struct cp_seg seg)
{
	uint64_t size = (uint64_t)s->size;
	struct cp_window *w = &ws->w[ws->cur];
	int ret;

	if (cp_window_fits(w, seg, size)) {
		w->seg[w->n++] = seg;
		return 0;
	}
	/* This window's reads go out, the oldest read one is written, and
	 * the next window is gathered once its writes are done. */
	if (cp_writes_behind(cp, d))
		cp_thread(cp);
	ret = cp_window_start(s, w);
	if (!ret)
		ret = cp_window_retire(cp, s, d,
				       cp_window_back(ws, ws->nwin / 2));
	ws->cur = (ws->cur + 1) % ws->nwin;
	w = &ws->w[ws->cur];
	if (!ret)
		ret = cp_window_reclaim(cp, w);
	if (ret)
		return ret;
	if (cp_window_fits(w, seg, size)) {
		w->seg[w->n++] = seg;
		return 0;
	}
	ret = cp_windows_drain(cp, s, d, ws);
	return ret ? ret : cp_range(cp, s, d, w->buf, seg.start, seg.end,
				    false);
}

/* Adds [start, end) of a file its group already read (cp_group.c). */
static int cp_segment_ready(struct cp *cp, struct imc_file *d,
			    const struct cp_pre *ready, struct cp_seg seg)
{
	int ret = cp_put(cp, d, ready->data + seg.start, seg.end - seg.start,
			 seg.start);

	cp->bytes += seg.end - seg.start;
	cp->walked += seg.end - seg.start;
	imc_progress_update(&cp->prog, cp->walked);
	return ret;
}

static void cp_windows_free(struct cp *cp, struct cp_windows *ws)
{
	if (!ws)
		return;
	/* Never free a buffer a read may still fill or a write still use. */
	for (unsigned int i = 0; ws->w && i < ws->nwin; i++) {
		iomap_read_batch_wait(ws->w[i].batch);
		cp_behind_wait(cp->behind, &ws->w[i].hb);
	}
	free(ws->w);
	free(ws);
}

/* Windows for a file of @size: a ring of them only where it fills one. */
static struct cp_windows *cp_windows_alloc(struct cp *cp, uint64_t size)
{
	struct cp_windows *ws = calloc(1, sizeof(*ws));

	if (!ws)
		return NULL;
	ws->nwin = size > 2 * CP_CHUNK ? CP_WINDOWS : 2;
	ws->w = calloc(ws->nwin, sizeof(*ws->w));
	ws->mem = ws->w ? cp_buffers(&cp->window_mem,
				     (size_t)CP_WINDOWS * CP_CHUNK) :
			  NULL;
	if (!ws->mem) {
		cp_windows_free(cp, ws);
		return NULL;
	}
	for (unsigned int i = 0; i < ws->nwin; i++)
		ws->w[i].buf = ws->mem + (size_t)i * CP_CHUNK;
	return ws;
}

/* Walks SEEK_DATA/SEEK_HOLE of the source; only data segments are read. */
static int cp_data(struct cp *cp, struct imc_file *s, struct imc_file *d)
{
	uint64_t pos = 0, size = (uint64_t)s->size;
	const struct cp_pre *ready = cp->ready;
	/* An empty file needs no buffers: trees hold many of them, and a
	 * file read by its group needs them only to write zeros. */
	bool buffers = size && (!ready || cp->sparse == CP_SPARSE_NEVER);
	struct cp_windows *ws = buffers ? cp_windows_alloc(cp, size) : NULL;
	int ret = 0;

	if (!size)
		return 0;
	if (buffers && !ws)
		return -ENOMEM;
	/*
	 * Bind the source to its data path before the walk: the seeks do not,
	 * and a first segment read before it was neither streamed nor read
	 * in a batch (a 1 GiB copy-out went 1 MiB read, then 1 MiB write).
	 */
	if (buffers && s->host_fd < 0 && (ret = imc_file_io(s))) {
		cp_windows_free(cp, ws);
		return ret;
	}
	while (pos < size && !ret) {
		loff_t data = imc_file_seek(cp->sctx, s, (loff_t)pos, SEEK_DATA);
		loff_t hole;

		if (data == -ENXIO)
			data = (loff_t)size;
		else if (data < 0) {
			ret = (int)data;
			break;
		}
		if (cp->sparse == CP_SPARSE_NEVER && (uint64_t)data > pos) {
			ret = cp_windows_drain(cp, s, d, ws);
			if (!ret)
				ret = cp_range(cp, s, d, ws->w[0].buf, pos,
					       (uint64_t)data, true);
		} else {
			cp->walked += (uint64_t)data - pos;
		}
		if (ret || (uint64_t)data >= size)
			break;
		hole = imc_file_seek(cp->sctx, s, data, SEEK_HOLE);
		if (hole < 0) {
			ret = (int)hole;
			break;
		}
		if (ready)
			ret = cp_segment_ready(cp, d, ready,
					       (struct cp_seg){ (uint64_t)data,
								(uint64_t)hole });
		else
			ret = cp_segment(cp, s, d, ws,
					 (struct cp_seg){ (uint64_t)data,
							  (uint64_t)hole });
		pos = (uint64_t)hole;
	}
	if (!ret && ws)
		ret = cp_windows_drain(cp, s, d, ws);
	cp_windows_free(cp, ws);
	return ret;
}

/* Reads both files back and compares them. */
static int cp_verify(struct imc_file *s, struct imc_file *d)
{
	char *a = NULL, *b = NULL;
	int ret = posix_memalign((void **)&a, CP_ALIGN, CP_CHUNK) ||
		  posix_memalign((void **)&b, CP_ALIGN, CP_CHUNK) ? -ENOMEM : 0;

	if (!ret && s->size != d->size)
		ret = -EIO;
	for (loff_t pos = 0; !ret && pos < s->size;) {
		ssize_t n = imc_file_pread(s, a, CP_CHUNK, pos);
		ssize_t m = n > 0 ? imc_file_pread(d, b, CP_CHUNK, pos) : n;

		if (n <= 0 || m < 0)
			ret = n < 0 ? (int)n : m < 0 ? (int)m : -EIO;
		else if (m != n || memcmp(a, b, (size_t)n))
			ret = -EIO;
		pos += n > 0 ? n : 0;
	}
	free(a);
	free(b);
	return ret;
}

/* Host: a temporary name in the destination directory, O_EXCL, no follow. */
static int open_host_tmp(const struct cp_dst *dst, char *tmp, size_t size,
			 int *fd)
{
	for (int i = 0; i < 100; i++) {
		snprintf(tmp, size, ".%.200s.iomapctl-%d-%d", dst->name,
			 (int)getpid(), i);
		*fd = openat(dst->dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL |
			     O_NOFOLLOW | O_CLOEXEC, 0600);
		if (*fd >= 0)
			return 0;
		if (errno != EEXIST)
			return -errno;
	}
	return -EEXIST;
}

/* The existing destination entry may be replaced only with -f, never a dir. */
static int host_target_ok(struct cp *cp, const struct cp_dst *dst)
{
	struct stat st;

	if (fstatat(dst->dirfd, dst->name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (S_ISDIR(st.st_mode))
		return -EISDIR;
	return cp->force ? 0 : -EEXIST;
}

/* The process umask, read once per run: umask(2) can only set it. */
static mode_t cp_umask(struct cp *cp)
{
	if (!cp->umask_known) {
		cp->umask = umask(0);
		umask(cp->umask);
		cp->umask_known = true;
	}
	return cp->umask;
}

/*
 * Host: a missing name is created as itself, with its final mode, so a
 * tree of small files costs open, write, futimens and close each; a
 * failed copy unlinks it.  Only an existing name (-f) goes through a
 * temporary and a rename, so it is never seen half written.  @tmp stays
 * empty for a direct create.
 */
static int open_host_dst(struct cp *cp, const struct cp_dst *dst,
			 const struct fsa_stat *st, struct imc_file *d,
			 char *tmp, size_t size)
{
	int ret;

	d->host_fd =
		openat(dst->dirfd, dst->name,
		       O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		       st->mode & 0777);
	if (d->host_fd >= 0)
		return 0;
	if (errno != EEXIST)
		return -errno;
	ret = host_target_ok(cp, dst);
	if (!ret)
		ret = open_host_tmp(dst, tmp, size, &d->host_fd);
	return ret;
}

/* fchmod only where the create's mode did not come out whole: a umask
 * bit, set-id and sticky bits, or a temporary made 0600. */
static int set_host_attrs(struct cp *cp, int fd, const struct fsa_stat *st,
			  bool created)
{
	struct timespec ts[2] = { st->atime, st->mtime };
	mode_t mode = st->mode & 07777;

	if ((!created || (mode & (07000 | cp_umask(cp)))) &&
	    fchmod(fd, mode) < 0)
		return -errno;
	if (futimens(fd, ts) < 0)
		return -errno;
	return 0;
}

static int set_image_attrs(struct imc_file *d, const struct fsa_stat *src)
{
	struct fsa_stat st;
	int ret;

	if (!d->fs->ops->setattr)
		return 0;
	ret = d->fs->ops->stat(d->fs, d->ino, &st);
	if (ret)
		return ret;
	st.mode = (st.mode & ~07777U) | (src->mode & 07777);
	st.atime = src->atime;
	st.mtime = src->mtime;
	return d->fs->ops->setattr(d->fs, d->ino, &st);
}

/* truncate(2) of an image destination: the one sequence (file-ops.c) that
 * keeps the page cache right around the filesystem's ->setsize. */
static int cp_setsize(struct imc_file *d, loff_t size)
{
	struct iomap_space_ops ops;
	int ret = imc_file_io(d);

	if (ret)
		return ret;
	imc_file_space_ops(d, &ops);
	return iomap_file_setsize(d->io, &ops, size);
}

/*
 * Image destination: refuse symlinks and directories, -f truncates.
 * Returns 0, a negative errno, or 1 when the error was already printed.
 */
static int open_image_dst(struct cp *cp, const struct cp_dst *dst,
			  struct imc_file *d, char *spec, size_t size)
{
	struct fsa_fs *fs;
	struct fsa_stat st;
	uint64_t ino;
	int ret;

	snprintf(spec, size, "%s:%s", dst->image, dst->path);
	ret = imc_fs_open(cp->dctx, dst->image, true);
	if (ret)
		return ret;
	fs = cp->dctx->fs;
	ret = fs->ops->lookup_link ? fs->ops->lookup_link(fs, dst->path, &ino) :
				     fs->ops->lookup(fs, dst->path, &ino);
	if (!ret) {
		ret = fs->ops->stat(fs, ino, &st);
		if (!ret && S_ISLNK(st.mode))
			return -ELOOP;
		if (!ret && S_ISDIR(st.mode))
			return -EISDIR;
		if (!ret && !cp->force)
			return -EEXIST;
	} else if (ret != -ENOENT) {
		return ret;
	}
	/* imc_file_open_flags prints its own error: 1 says "reported". */
	if (imc_file_open_flags(cp->dctx, spec, IMC_OPEN_RDWR | IMC_OPEN_CREATE,
				d))
		return 1;
	if (d->size && d->fs->ops->setsize)
		return cp_setsize(d, 0);
	return 0;
}

/* The destination as an open file; a host file replaced goes to a
 * temporary name. */
static int cp_open_dst(struct cp *cp, const struct cp_dst *dst,
		       const struct fsa_stat *st, struct imc_file *d, char *tmp,
		       size_t size)
{
	memset(d, 0, sizeof(*d));
	d->host_fd = -1;
	d->ctx = cp->dctx;
	if (dst->image)
		return open_image_dst(cp, dst, d, tmp, size);
	d->name = dst->name;
	return open_host_dst(cp, dst, st, d, tmp, size);
}

/*
 * Size, mode and times; then the host temporary takes the real name.  In an
 * image the data is written back first: the size covers a hole at the end,
 * and writeback must not touch the inode after its times are set.
 */
static int cp_commit(struct cp *cp, struct imc_file *d,
		     const struct cp_dst *dst, const char *tmp,
		     const struct fsa_stat *st)
{
	int ret = 0;

	if (dst->image) {
		if (d->fs->ops->setsize)
			ret = cp_setsize(d, st->size);
		else if (d->io)
			ret = iomap_file_sync(d->io);
		return ret;
	}
	/* A new file written up to its size needs no ftruncate. */
	if ((tmp[0] || cp->dst_end != (uint64_t)st->size) &&
	    ftruncate(d->host_fd, st->size) < 0)
		return -errno;
	ret = set_host_attrs(cp, d->host_fd, st, !tmp[0]);
	/* renameat replaces a symlink itself, never what it points to. */
	if (!ret && tmp[0] &&
	    renameat(dst->dirfd, tmp, dst->dirfd, dst->name) < 0)
		ret = -errno;
	return ret;
}

static int cp_verify_dst(struct cp *cp, struct imc_file *s,
			 const struct cp_dst *dst, const char *spec)
{
	struct imc_file v = { .host_fd = -1 };
	int ret;

	if (dst->image) {
		if (imc_file_open(cp->dctx, spec, &v))
			return -EIO;
	} else {
		v.host_fd = openat(dst->dirfd, dst->name,
				   O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		if (v.host_fd < 0)
			return -errno;
		v.size = lseek(v.host_fd, 0, SEEK_END);
	}
	ret = cp_verify(s, &v);
	imc_file_close(&v);
	return ret;
}

/* Unlinks the partial file of a failed copy into an image. */
static void cp_remove_partial(struct fsa_fs *fs, const struct cp_dst *dst)
{
	char parent[PATH_MAX];
	char *slash;
	uint64_t dir;

	snprintf(parent, sizeof(parent), "%s", dst->path);
	slash = strrchr(parent, '/');
	if (!fs->ops->unlink || !slash || !slash[1])
		return;
	*slash = '\0';
	if (fs->ops->lookup(fs, parent[0] ? parent : "/", &dir) == 0)
		fs->ops->unlink(fs, dir, slash + 1);
}

/* The data segments of @s (at most CP_JOB_SEGS) into @j; -E2BIG for more. */
static int cp_job_segments(struct cp *cp, struct imc_file *s, struct cp_job *j)
{
	uint64_t pos = 0, size = (uint64_t)s->size;

	if (cp->sparse == CP_SPARSE_NEVER) {
		/* The group read holes as zeros: one write of it all. */
		j->seg[j->nseg++] = (struct cp_seg){ 0, size };
		return 0;
	}
	while (pos < size) {
		loff_t data = imc_file_seek(cp->sctx, s, (loff_t)pos, SEEK_DATA);
		loff_t hole;

		if (data == -ENXIO)
			break;
		if (data < 0)
			return (int)data;
		hole = imc_file_seek(cp->sctx, s, data, SEEK_HOLE);
		if (hole < 0)
			return (int)hole;
		if (j->nseg == CP_JOB_SEGS)
			return -E2BIG;
		j->seg[j->nseg++] = (struct cp_seg){ (uint64_t)data,
						     (uint64_t)hole };
		pos = (uint64_t)hole;
	}
	return 0;
}

/*
 * A new host file of a tree whose bytes are in memory (read by its group,
 * or none) is written by the writer threads; anything else, or a file
 * they cannot take, is copied here.  True when queued.
 */
static bool cp_file_queued(struct cp *cp, const char *src,
			   const struct cp_dst *dst, struct imc_file *s,
			   const struct fsa_stat *st)
{
	mode_t mode = st->mode & 07777;
	uint64_t bytes = 0;
	struct cp_job *j;

	if (!cp->depth || !cp_group_wanted(cp, dst) || cp->force ||
	    cp->verify || cp->sparse == CP_SPARSE_ALWAYS ||
	    (st->size && !cp->ready))
		return false;
	j = calloc(1, sizeof(*j));
	if (!j)
		return false;
	j->name = strdup(dst->name);
	j->src = strdup(src);
	if (!j->name || !j->src || (st->size && cp_job_segments(cp, s, j))) {
		cp_job_free(j);
		return false;
	}
	j->dirfd = dst->dirfd;
	j->mode = mode;
	j->chmod = mode & (07000 | cp_umask(cp));
	j->times[0] = st->atime;
	j->times[1] = st->mtime;
	j->size = (uint64_t)st->size;
	if (st->size) {
		j->data = cp->ready->data;
		j->group = cp->group[cp->cur];
	}
	for (unsigned int i = 0; i < j->nseg; i++)
		bytes += j->seg[i].end - j->seg[i].start;
	/* Once taken, @j is the writers' (and may be freed already). */
	if (!cp_writer_take(cp, j)) {
		cp_job_free(j);
		return false;
	}
	cp->bytes += bytes;
	cp->walked += (uint64_t)st->size;
	imc_progress_update(&cp->prog, cp->walked);
	return true;
}

int cp_file(struct cp *cp, const char *src, const struct cp_dst *dst)
{
	char tmp[PATH_MAX + 16] = "";
	struct imc_file s, d;
	struct fsa_stat st;
	int ret;

	/* An empty file of a tree needs nothing of its source but this. */
	if (cp->src_st && S_ISREG(cp->src_st->mode) && !cp->src_st->size &&
	    cp_file_queued(cp, src, dst, NULL, cp->src_st))
		return IMC_EXIT_OK;

	if (cp_open_src(cp, src, &s))
		return IMC_EXIT_FAIL;
	/* An image entry of a tree was stat'ed by inode just before. */
	if (cp->src_ino && cp->src_st) {
		st = *cp->src_st;
		ret = 0;
	} else {
		ret = imc_file_stat(&s, &st);
	}
	if (!ret && !S_ISREG(st.mode))
		ret = S_ISDIR(st.mode) ? -EISDIR : -EINVAL;
	if (!ret && cp_file_queued(cp, src, dst, &s, &st)) {
		imc_file_close(&s);
		return IMC_EXIT_OK;
	}
	if (!ret) {
		ret = cp_open_dst(cp, dst, &st, &d, tmp, sizeof(tmp));
		if (ret > 0) {
			imc_file_close(&s);
			return IMC_EXIT_FAIL;
		}
	}
	if (!ret) {
		cp->dst_end = 0;
		ret = cp_data(cp, &s, &d);
		cp->ready = NULL;
		if (!ret)
			ret = cp_commit(cp, &d, dst, tmp, &st);
		/*
		 * A failed copy leaves nothing behind, on the host or in an
		 * image (where an adapter that cannot unlink leaves it empty).
		 */
		if (dst->image) {
			struct fsa_fs *fs = d.fs;
			int r;

			if (ret && d.io)
				iomap_file_invalidate(d.io, 0);
			if (ret && d.fs->ops->setsize)
				cp_setsize(&d, 0);
			/* The image is synced once, at the end of cp: a
			 * source in the same image still reads through it. */
			r = imc_file_close(&d);
			if (ret)
				cp_remove_partial(fs, dst);
			ret = ret ? ret : r;
			if (!ret)
				ret = set_image_attrs(&d, &st);
		} else {
			close(d.host_fd);
			if (ret)
				unlinkat(dst->dirfd, tmp[0] ? tmp : dst->name,
					 0);
		}
	}
	if (!ret && cp->verify)
		ret = cp_verify_dst(cp, &s, dst, tmp);
	imc_file_close(&s);
	return ret ? cp_fail(cp, src, dst, ret) : IMC_EXIT_OK;
}

int cp_fail(struct cp *cp, const char *src, const struct cp_dst *dst,
	    int err)
{
	char what[2 * PATH_MAX];

	snprintf(what, sizeof(what), "%s -> %s%s%s", src,
		 dst->image ? dst->image : "", dst->image ? ":" : "",
		 dst->image ? dst->path : dst->name);
	return imc_err(cp->sctx, what, err);
}

void cp_file_end(struct cp *cp)
{
	cp_behind_stop(cp->behind);
	cp->behind = NULL;
	free(cp->window_mem);
	free(cp->stream_mem);
	cp->window_mem = cp->stream_mem = NULL;
}
