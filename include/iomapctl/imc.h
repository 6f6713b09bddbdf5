/* SPDX-License-Identifier: GPL-2.0 */
/* imc.h - the iomapctl command line: context, command table, shared helpers. */
#ifndef IOMAPCTL_IMC_H
#define IOMAPCTL_IMC_H

#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/ioctl.h>
#include <sys/types.h>
#include <linux/fiemap.h>

#include "iomapctl/fsa.h"
#include "iomapctl/io.h"
#include "iomapctl/stats.h"

#define IMC_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Exit statuses returned by every command handler. */
#define IMC_EXIT_OK 0 /* success */
#define IMC_EXIT_FAIL 1 /* the operation failed */
#define IMC_EXIT_USAGE 2 /* bad command line */

/* --progress: the default shows a bar only on a TTY for long work. */
enum imc_progress_mode {
	IMC_PROGRESS_AUTO = 0,
	IMC_PROGRESS_ALWAYS,
	IMC_PROGRESS_NEVER,
};

/*
 * struct imc_kept - a file the shell keeps open between commands because
 * its cache holds data not yet written back, as the kernel keeps dirty
 * pages after the last close: the next command on @ino takes @inode and
 * @io over, so it reads that data and maps what writeback has not yet
 * allocated (DELALLOC).  `sync`, any command without IMC_CMD_SEES_CACHE
 * and closing the image write it back.
 */
struct imc_kept {
	uint64_t ino;
	struct iomap_inode *inode;
	struct iomap_file *io;
};
/* More dirty files than this are written back when they are closed. */
#define IMC_KEPT_MAX 16

/**
 * struct imc_ctx - everything a command runs with; there is no global state.
 * @io:		data-path parameters from --io, --mapper and --queue-depth.
 * @json:	--json: machine-readable output on @out.
 * @quiet:	-q: print nothing on success.
 * @verbose:	-v: more detail (fiemap's verbose table, cp's summary).
 * @progress:	--progress / --no-progress.
 * @out, @err:	where output and messages go.
 * @cmdname:	the running command, for error messages.
 * @shell_image: set inside the shell: file arguments are paths in it.
 * @cwd:	the shell's current directory inside @shell_image.
 * @fs:		the open image (kept open across shell commands).
 * @fs_image:	the path @fs was opened from.
 * @dev:	the data path on @fs_image, opened on first data access.
 * @dev_io:	the parameters @dev was opened with.
 * @kept:	inside the shell, the files with dirty caches (@nkept of them).
 * @stats:	what the engine counted for @fs.
 * @meta_faults: tests only: armed (fsa_ops.set_faults) on every image this
 *		context opens, and on the contexts a command makes from it.
 */
struct imc_ctx {
	struct iomap_io_params io;
	bool json;
	bool quiet;
	bool verbose;
	enum imc_progress_mode progress;
	FILE *out;
	FILE *err;
	const char *cmdname;
	const char *shell_image;
	char cwd[PATH_MAX];
	struct fsa_fs *fs;
	char *fs_image;
	struct iomap_dev *dev;
	struct iomap_io_params dev_io;
	struct imc_kept kept[IMC_KEPT_MAX];
	unsigned int nkept;
	struct iomap_stats stats;
	struct fsa_faults *meta_faults;
};

/* struct imc_cmd.flags */
#define IMC_CMD_NEEDS_FS (1U << 0) /* works on an image (shell needs one) */
#define IMC_CMD_RW (1U << 1) /* mutates: the image is opened read-write */
#define IMC_CMD_ONESHOT (1U << 2) /* not for the shell (e.g. shell itself) */
#define IMC_CMD_SEES_CACHE \
	(1U << 3) /* in the shell, runs on files whose data is not yet
		   * written back (struct imc_kept) without writing it first */

/**
 * struct imc_cmd - one command of the table in cmd/cmdtab.c.
 * @name:	what the user types.
 * @alias:	a short alternative, or NULL.
 * @args:	the usage line after the name.
 * @oneline:	one-line summary for `help`.
 * @help:	prints the long help (examples, each flag) to a stream.
 * @fn:		the handler; parses its own options with imc_getopt() and
 *		returns IMC_EXIT_*.
 * @argmin, @argmax: positional arguments allowed (@argmax -1 = any).
 * @flags:	IMC_CMD_*.
 * @shortopts:	getopt string of the command's own options ("" if none).
 * @longopts:	getopt_long table, or NULL.
 * @complete:	what positional arguments complete to: 'f' files, 'i'
 *		images, 'c' command names, 0 nothing.
 */
struct imc_cmd {
	const char *name;
	const char *alias;
	const char *args;
	const char *oneline;
	void (*help)(FILE *out);
	int (*fn)(struct imc_ctx *ctx, int argc, char **argv);
	int argmin;
	int argmax;
	unsigned int flags;
	const char *shortopts;
	const struct option *longopts;
	char complete;
};

/* The table, sorted by name, NULL-terminated (cmd/cmdtab.c). */
extern const struct imc_cmd *const imc_cmdtab[];
const struct imc_cmd *imc_cmd_find(const char *name);

/* Dispatch (cmd/dispatch.c). */
void imc_ctx_init(struct imc_ctx *ctx);
/*
 * Closes what @ctx holds open.  Closing an image writes its metadata a
 * last time: a failure there is printed (iomapctl: IMAGE: why) and
 * returned as IMC_EXIT_FAIL, else IMC_EXIT_OK.
 */
int imc_ctx_fini(struct imc_ctx *ctx);
/*
 * Run one command line: global options anywhere before "--", then the
 * command and its arguments.  Returns IMC_EXIT_*.  @toplevel allows
 * --version and the one-shot commands.
 */
int imc_run(struct imc_ctx *ctx, int argc, char **argv, bool toplevel);
/*
 * Applies global option --@name (=@val, NULL when it takes none) to @ctx
 * exactly as a command line would, so programs driving the library accept
 * every spelling the CLI does.  Returns IMC_EXIT_OK, or IMC_EXIT_USAGE
 * after printing why.
 */
int imc_set_global(struct imc_ctx *ctx, const char *name, const char *val);
/* Prints "usage: iomapctl NAME ARGS" to stderr; returns IMC_EXIT_USAGE. */
int imc_usage(struct imc_ctx *ctx, const struct imc_cmd *cmd);
/* getopt_long over @cmd's options; call with optind reset by imc_run. */
int imc_getopt(int argc, char **argv, const struct imc_cmd *cmd);
/* Lists the global options for `help` and completions. */
extern const struct option imc_global_longopts[];

/* Messages (cmd/util.c). */
/* "iomapctl: CMD: WHAT: strerror(-err)"; returns IMC_EXIT_FAIL. */
int imc_err(struct imc_ctx *ctx, const char *what, int err);
/* "iomapctl: CMD: message"; returns IMC_EXIT_FAIL. */
int imc_errf(struct imc_ctx *ctx, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* strerror, with our own words for the errnos we give a meaning. */
const char *imc_strerror(int err);

/*
 * imc_parse_size() - "4k", "1m", "8s", "4096" to bytes in *@out.
 * Suffixes k m g t (1024^n), s (512-byte sectors), case-insensitive, an
 * optional trailing b ("4kb").  Returns 0, or -EINVAL for garbage or a
 * sign, -ERANGE for a value past INT64_MAX.
 */
int imc_parse_size(const char *s, uint64_t *out);
/* imc_parse_size + a usage-style message naming @what; IMC_EXIT_*. */
int imc_arg_size(struct imc_ctx *ctx, const char *what, const char *s,
		 uint64_t *out);
/*
 * imc_parse_mapper() - a --mapper spec, MAPPER[,OP=MAPPER]..., into @io's
 * mapper (the first word: every operation not named) and per-operation
 * mappers.  MAPPER is iomap, bh or hybrid; OP is xattr, report, direct,
 * write, read or dax, each named once.  Returns 0, or IMC_EXIT_USAGE after
 * printing the bad word on @ctx->err; @io is unchanged then.
 */
int imc_parse_mapper(struct imc_ctx *ctx, const char *spec,
		     struct iomap_io_params *io);
/* The spec of @io's mappers, as imc_parse_mapper() reads it, in @buf. */
const char *imc_mapper_spec(const struct iomap_io_params *io, char *buf,
			    size_t size);

/* Human size with binary units ("1.5 MiB"). */
const char *imc_human(uint64_t bytes, char *buf, size_t size);

/* A file argument: a host path or IMAGE:PATH (cmd/path.c). */
struct imc_spec {
	char *image; /* image path, NULL for a host file */
	char *path; /* host path, or normalised absolute in-image path */
};
/* Parses @arg; returns 0, or IMC_EXIT_USAGE after printing why. */
int imc_spec_parse(struct imc_ctx *ctx, const char *arg, struct imc_spec *sp);
void imc_spec_free(struct imc_spec *sp);
/* Normalises @path (relative to @cwd) into @out; -ENAMETOOLONG if long. */
int imc_path_join(const char *cwd, const char *path, char *out, size_t size);

/* Open images (cmd/fs.c). */
/* Opens (or reuses) @image in ctx->fs; returns 0 or a negative errno. */
int imc_fs_open(struct imc_ctx *ctx, const char *image, bool rdwr);
/* Closes the image and its data path; 0 or the first -errno met. */
int imc_fs_close(struct imc_ctx *ctx);
/* Writes everything back: data path first, then metadata; 0 or -errno. */
int imc_fs_sync(struct imc_ctx *ctx);
/*
 * Before command @cmd runs: writes everything back when the shell holds
 * dirty files @cmd does not work with, or when its --io or --mapper
 * differ from the open data path's (which is then reopened).  Returns
 * IMC_EXIT_*, having printed why it failed.
 */
int imc_fs_settle(struct imc_ctx *ctx, const struct imc_cmd *cmd);
/*
 * Copies @image (sparse, or by reflink) to a new temporary file whose
 * malloc'd name goes in *@tmp, so an operation can mutate the copy.
 * Returns 0 or a negative errno.
 */
int imc_image_tmpcopy(const char *image, char **tmp);

/**
 * struct imc_file - an open file argument, on the host or in an image.
 * @name:	the argument as the user typed it (for output).
 * @host_fd:	host file descriptor, or -1 for an image file.
 * @inode:	the image inode (when @host_fd is -1).
 * @ino:	its inode number.
 * @size, @blksize, @mode: from stat.
 * @io:		the image file bound to the data path (imc_file_pread/pwrite).
 * @ctx:	where the file was opened.
 */
struct imc_file {
	const char *name;
	int host_fd;
	struct fsa_fs *fs;
	struct iomap_inode *inode;
	struct iomap_file *io;
	struct imc_ctx *ctx;
	uint64_t ino;
	loff_t size;
	unsigned int blksize;
	uint32_t mode;
};
#define IMC_OPEN_RDWR (1U << 0) /* the image (or host file) read-write */
#define IMC_OPEN_CREATE (1U << 1) /* create a missing regular file */
/* Opens @arg read-only; prints the error; returns IMC_EXIT_*. */
int imc_file_open(struct imc_ctx *ctx, const char *arg, struct imc_file *f);
/* The same with IMC_OPEN_* @flags. */
int imc_file_open_flags(struct imc_ctx *ctx, const char *arg,
			unsigned int flags, struct imc_file *f);
/* Inode @ino of the image already open in @ctx, named @name in messages
 * (tree walks reach entries by inode number, not by path). */
int imc_file_open_ino(struct imc_ctx *ctx, const char *name, uint64_t ino,
		      struct imc_file *f);
/* The same, silent: 0 or a negative errno. */
int imc_file_attach_ino(struct imc_ctx *ctx, const char *name, uint64_t ino,
			struct imc_file *f);
/* The same for an inode whose stat @st the caller has just read. */
int imc_file_attach_stat(struct imc_ctx *ctx, const char *name, uint64_t ino,
			 const struct fsa_stat *st, struct imc_file *f);
/* Releases @f; for a written image file the first writeback error. */
int imc_file_close(struct imc_file *f);
/*
 * After a mutating command: closes @f (writeback) and syncs the image,
 * printing the first error if @ret is still IMC_EXIT_OK; returns IMC_EXIT_*.
 */
int imc_file_finish(struct imc_file *f, int ret);
/*
 * OFFSET (and LENGTH unless @len_s is NULL) with the usual messages: a zero
 * length is a usage error, a range past INT64_MAX fails with EFBIG.
 */
int imc_arg_range(struct imc_ctx *ctx, const char *off_s, const char *len_s,
		  uint64_t *off, uint64_t *len);
/*
 * Opens IMAGE:PATH read-write for zero/truncate/falloc/punch: a regular
 * file, bound to the data path.  IMC_EXIT_*.
 */
int imc_mutate_open(struct imc_ctx *ctx, const char *arg, struct imc_file *f);
/* The adapter's size and space operations of image file @f, for the
 * engine's sequences (iomap_file_setsize() and the fallocate modes). */
void imc_file_space_ops(const struct imc_file *f, struct iomap_space_ops *ops);

/* A range operation on an open image file: 0 or a negative errno. */
typedef int (*imc_range_fn)(struct imc_file *f, uint64_t off, uint64_t len,
			    bool keep_size);
/*
 * The whole of `zero`, `falloc` and `punch`: parse [-k] IMAGE:PATH OFFSET
 * LENGTH, open the file for writing, run @op, report, sync.  Returns the
 * exit code.
 */
int imc_range_cmd(struct imc_ctx *ctx, int argc, char **argv,
		  const struct imc_cmd *cmd, imc_range_fn op);
/* Attributes of @f, host or image, as an fsa_stat; 0 or -errno. */
int imc_file_stat(struct imc_file *f, struct fsa_stat *st);
/* Binds an image file to the data path (f->io); 0 or -errno. */
int imc_file_io(struct imc_file *f);
/* Bytes read (0 at EOF) or -errno, host or image (through ctx->io). */
ssize_t imc_file_pread(struct imc_file *f, void *buf, size_t len, loff_t pos);
/* Bytes written or -errno. */
ssize_t imc_file_pwrite(struct imc_file *f, const void *buf, size_t len,
			loff_t pos);
/* SEEK_DATA / SEEK_HOLE through the kernel or the chosen mapper. */
loff_t imc_file_seek(struct imc_ctx *ctx, struct imc_file *f, loff_t off,
		     int whence);
struct fiemap_extent;
/*
 * One FIEMAP batch: up to @max extents of [@start, @start + @len) into
 * @ext; *@n gets how many.  Returns 0 or a negative errno.
 */
int imc_file_fiemap(struct imc_ctx *ctx, struct imc_file *f, uint32_t flags,
		    uint64_t start, uint64_t len, struct fiemap_extent *ext,
		    unsigned int max, unsigned int *n);

/*
 * FIEMAP of a file in an `iomapctl mount`.  The kernel answers
 * FS_IOC_FIEMAP itself (EOPNOTSUPP on FUSE) and passes a FUSE daemon only
 * ioctls whose argument size the command number gives, so the mount
 * answers this one: up to IMC_IOC_FIEMAP_MAX extents inline per call.
 * @start, @length, @flags (FIEMAP_FLAG_*) in; @count extents out in @ext.
 */
#define IMC_IOC_FIEMAP_MAX 64
struct imc_ioc_fiemap {
	uint64_t start;
	uint64_t length;
	uint32_t flags;
	uint32_t count;
	struct fiemap_extent ext[IMC_IOC_FIEMAP_MAX];
};
#define IMC_IOC_FIEMAP _IOWR('f', 0x9a, struct imc_ioc_fiemap)

/* A small JSON writer (cmd/json.c): compact, one document per line. */
#define IMC_JSON_MAX_DEPTH 16
struct imc_json {
	FILE *out;
	int depth;
	bool first[IMC_JSON_MAX_DEPTH];
};
void imc_json_init(struct imc_json *j, FILE *out);
/* @key is NULL inside arrays and at the top level. */
void imc_json_obj_begin(struct imc_json *j, const char *key);
void imc_json_obj_end(struct imc_json *j);
void imc_json_arr_begin(struct imc_json *j, const char *key);
void imc_json_arr_end(struct imc_json *j);
void imc_json_str(struct imc_json *j, const char *key, const char *val);
void imc_json_u64(struct imc_json *j, const char *key, uint64_t val);
void imc_json_i64(struct imc_json *j, const char *key, int64_t val);
void imc_json_double(struct imc_json *j, const char *key, double val);
void imc_json_bool(struct imc_json *j, const char *key, bool val);
void imc_json_null(struct imc_json *j, const char *key);
/* Ends the document with a newline. */
void imc_json_end(struct imc_json *j);

/* Progress bar on stderr (cmd/progress.c). */
struct imc_progress {
	bool on;
	uint64_t total; /* 0: unknown, show bytes and rate only */
	uint64_t done;
	uint64_t start_ns;
	uint64_t last_ns;
	FILE *err;
};
void imc_progress_begin(struct imc_ctx *ctx, struct imc_progress *p,
			uint64_t total);
void imc_progress_update(struct imc_progress *p, uint64_t done);
void imc_progress_end(struct imc_progress *p);
/* The bar text for @done of @total after @ns nanoseconds (for tests too). */
void imc_progress_format(char *buf, size_t size, uint64_t done,
			 uint64_t total, uint64_t ns);

/* The shell (cmd/shell.c): split a line into words, quotes and escapes. */
int imc_split_line(const char *line, char ***argvp, int *argcp);
void imc_free_argv(char **argv);

#endif /* IOMAPCTL_IMC_H */
