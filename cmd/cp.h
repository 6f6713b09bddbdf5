/* SPDX-License-Identifier: GPL-2.0 */
/* cp.h - what cp.c (trees, arguments) and cp_file.c (one file) share. */
#ifndef IOMAPCTL_CMD_CP_H
#define IOMAPCTL_CMD_CP_H

#include "cmd.h"

enum cp_sparse { CP_SPARSE_AUTO, CP_SPARSE_ALWAYS, CP_SPARSE_NEVER };
/* --reflink: never (the default: a copy), auto (share when the source and
 * the destination are one image that can), always (share or fail). */
enum cp_reflink { CP_REFLINK_NEVER, CP_REFLINK_AUTO, CP_REFLINK_ALWAYS };

/* How deep a tree walk goes before it says so and skips the rest. */
#define CP_MAX_DEPTH 1024

/**
 * struct cp_seen - a directory a tree walk entered (or created, when the
 * source and the destination are one namespace).
 * @dev, @ino:	the directory (@dev is 0 inside an image).
 * @path:	where the walk met it, for the message.
 * @created:	made by this copy: entering it would copy a tree into itself.
 */
struct cp_seen {
	uint64_t dev, ino;
	char *path;
	bool created;
};

/* An entry of a source directory; an image's comes with its inode number,
 * never looked up again. */
struct cp_ent {
	char *name;
	uint64_t ino;
};

/* A group holds at most this many files and bytes; larger files are read
 * on their own, a window at a time. */
#define CP_GROUP_FILES 32
#define CP_GROUP_SMALL (128U << 10)
#define CP_GROUP_BYTES (2U << 20)
/* The group copied, the one read ahead, and the one before, whose files
 * the writer threads may still be writing. */
#define CP_GROUPS 3

/**
 * struct cp_pre - a file of a group, open and read ahead of its copy.
 * @ino:	its inode number in the source image.
 * @st:		its stat, read once for the whole copy.
 * @s:		the open source, handed to cp_file (@taken) or closed.
 * @data:	its bytes [0, size) (holes read as zeros), in the group's
 *		buffer; @req says whether the read succeeded.
 */
struct cp_pre {
	uint64_t ino;
	struct fsa_stat st;
	struct imc_file s;
	char *data;
	bool taken;
};

/**
 * struct cp_group - the small regular files of a run of directory entries,
 * read with one batch (iomap_read_batch_start) so their requests are in
 * flight together, while the copy writes out the group before.
 * @n:		files in @f and @req.
 * @dir:	the run is one directory entry (nothing is read ahead past
 *		it: its tree takes the groups while it is copied).
 * @pending:	writer jobs (cp_writer.c) still reading @buf, under the
 *		writer's lock.
 */
struct cp_group {
	struct cp_pre f[CP_GROUP_FILES];
	struct iomap_read_req req[CP_GROUP_FILES];
	unsigned int n;
	bool dir;
	unsigned int pending;
	struct iomap_read_batch *batch;
	char *buf;
};

/* A data segment of a source, between SEEK_DATA and SEEK_HOLE. */
struct cp_seg {
	uint64_t start, end;
};

/*
 * Reads or writes all @len bytes of @buf at @pos of host file @fd,
 * retrying short transfers: 0 or -errno (-EIO for a file that ended).
 */
int cp_host_rw(int fd, bool read, char *buf, size_t len, off_t pos);

static inline int cp_pwrite_all(int fd, const char *buf, size_t len,
				off_t pos)
{
	return cp_host_rw(fd, false, (char *)buf, len, pos);
}

/**
 * struct cp_hbatch - segments of one buffer, for cp_behind to read from or
 * write to host file @fd at their offsets.
 * @buf:	the bytes from @base on: segment @seg[i] is at its start
 *		minus @base.
 * @queued:	handed to cp_behind and not yet waited for.
 * @done, @err:	set by its thread, under its lock.
 */
struct cp_hbatch {
	struct cp_hbatch *next;
	int fd;
	bool read;
	char *buf;
	uint64_t base;
	const struct cp_seg *seg;
	unsigned int n;
	bool queued, done;
	int err;
};

/* A thread doing batches in order (cp_behind.c); NULL when none can
 * start. */
struct cp_behind *cp_behind_start(void);
/* Hands @hb to thread @b; with no thread (NULL), does it now. */
void cp_behind_queue(struct cp_behind *b, struct cp_hbatch *hb);
/* Waits until @hb (queued or not) is done; returns its error. */
int cp_behind_wait(struct cp_behind *b, struct cp_hbatch *hb);
/* Does what is queued, then ends the thread. */
void cp_behind_stop(struct cp_behind *b);

#define CP_JOB_SEGS 8

/**
 * struct cp_job - a host file of a tree copy for the writer threads: its
 * bytes are in memory (@data, in @group's buffer) or it is empty.
 * @src:	the source, for the message if it fails.
 * @mode:	the create's permission bits; @chmod when the umask, set-id
 *		or sticky bits need an fchmod after it.
 * @seg:	the data to write; a hole ending the file is a truncate.
 * @err:	set by the writer.
 */
struct cp_job {
	struct cp_job *next;
	int dirfd;
	char *name;
	char *src;
	mode_t mode;
	bool chmod;
	struct timespec times[2];
	uint64_t size;
	const char *data;
	struct cp_group *group;
	unsigned int nseg;
	struct cp_seg seg[CP_JOB_SEGS];
	int err;
};

struct cp_writer;

/**
 * struct cp - one cp run.
 * @ctx:	the command's context (arguments are parsed in it).
 * @sctx:	context the current source is opened in.
 * @dctx:	context the destination image is opened in (== @sctx when
 *		both are the same image, so one handle sees every change).
 * @failed:	IMC_EXIT_FAIL once any file failed; cp goes on with the rest.
 * @src_image:	the image of the source being walked (NULL: the host).
 * @seen:	open-addressed set of @nseen directories of this source's walk
 *		(@seen_cap a power of two), so a cycle ends the descent.
 * @depth:	directories between the source and the current entry.
 * @src_ino:	the entry cp_file copies, by the number its directory gave
 *		(0: look its path up); a name is never looked up again.
 * @src_st:	its attributes, when the tree walk has them (NULL: stat it).
 * @dst_end:	where cp_file's writes to the current file end.
 * @umask:	the process umask, once @umask_known (read once per run).
 * @group:	a ring of the group being copied (@cur), the one read ahead
 *		and the one before (cp_group.c).
 * @ready:	the current file's bytes, read by its group (NULL: read
 *		them now).
 * @writer:	the writer threads of this run, once started (cp_writer.c);
 *		@writer_failed when they could not be.
 * @behind:	the thread doing a large file's host I/O beside the
 *		engine's, once one needed it (cp_behind.c); @behind_failed
 *		when it could not start.
 * @window_mem, @stream_mem: cp_file's buffers, made at their first use.
 */
struct cp {
	struct imc_ctx *ctx;
	struct imc_ctx *sctx;
	struct imc_ctx *dctx;
	struct imc_ctx dst_ctx;
	struct imc_ctx src_ctx; /* a source image other than the destination */
	bool src_ctx_used;
	bool recursive, force, verify;
	enum cp_sparse sparse;
	enum cp_reflink reflink;
	uint64_t bytes; /* data bytes copied */
	uint64_t walked; /* bytes of the sources walked, holes included */
	struct imc_progress prog;
	int failed;
	const char *src_image;
	struct cp_seen *seen;
	size_t nseen, seen_cap;
	unsigned int depth;
	uint64_t src_ino;
	const struct fsa_stat *src_st;
	uint64_t dst_end;
	mode_t umask;
	bool umask_known;
	struct cp_group *group[CP_GROUPS];
	unsigned int cur;
	const struct cp_pre *ready;
	struct cp_writer *writer;
	bool writer_failed;
	struct cp_behind *behind;
	bool behind_failed;
	char *window_mem, *stream_mem;
};

/**
 * struct cp_dst - where one copy goes.
 * @image:	NULL for the host, else the destination image path.
 * @dirfd:	host: the open destination directory (names resolve in it,
 *		never through a symlink).
 * @path:	image: absolute in-image path of the new entry.
 * @name:	the new entry's name.
 */
struct cp_dst {
	const char *image;
	int dirfd;
	char path[PATH_MAX];
	const char *name;
};

/* Copies regular file @src to @dst; prints its own error; IMC_EXIT_*. */
int cp_file(struct cp *cp, const char *src, const struct cp_dst *dst);
/* Ends what cp_file keeps for the run: its thread and buffers. */
void cp_file_end(struct cp *cp);
/* Reports @err for copying @src to @dst (`SRC -> DST: why`): exit status. */
int cp_fail(struct cp *cp, const char *src, const struct cp_dst *dst,
	    int err);
/* Opens cp_file's source: by @cp->src_ino when set; IMC_EXIT_*. */
int cp_open_src(struct cp *cp, const char *src, struct imc_file *s);
/*
 * The tree walk's read-ahead of small files (cp_group.c).  At entry @i of
 * @v[0..n) where the current group ends, cp_group_next() makes the group
 * covering @i current (waiting for its reads) and starts reading the one
 * after it, in the slot of the group before (released first: its files
 * written, its untaken sources closed); it returns where the new current
 * group ends.  At @n it releases every group.
 * @ahead is where the group read ahead ends (@i when none is).
 */
bool cp_group_wanted(const struct cp *cp, const struct cp_dst *dst);
size_t cp_group_next(struct cp *cp, const struct cp_ent *v, size_t n,
		     size_t i, size_t *ahead);
/* The stat of @ino when the current group read it, else NULL. */
const struct fsa_stat *cp_group_stat(const struct cp *cp, uint64_t ino);
/* Hands @ino's open source to cp_file, and its bytes in @cp->ready. */
bool cp_group_take(struct cp *cp, uint64_t ino, struct imc_file *s);
/* Releases both groups (waiting for reads in flight) and their memory. */
void cp_group_free(struct cp *cp);
/*
 * The writer threads (cp_writer.c).  cp_writer_take() queues @j (false:
 * no thread, the caller writes the file itself); cp_writer_drain() waits
 * for @g's jobs (NULL: all of them) and reports the failed ones;
 * cp_writer_stop() drains and ends the threads.
 */
bool cp_writer_take(struct cp *cp, struct cp_job *j);
void cp_job_free(struct cp_job *j);
void cp_writer_drain(struct cp *cp, const struct cp_group *g);
void cp_writer_stop(struct cp *cp);
/*
 * cp_reflink.c: regular file @src (attributes @st, inode st->ino of the
 * source image) shared into @dst as --reflink asks: the exit status, or
 * -1 when it is to be copied instead.
 */
int cp_reflink(struct cp *cp, const char *src, const struct fsa_stat *st,
	       const struct cp_dst *dst);
/* A name read from a directory that is safe to create: 0 or -EINVAL. */
int cp_check_name(const char *name);

#endif /* IOMAPCTL_CMD_CP_H */
