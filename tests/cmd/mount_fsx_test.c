// SPDX-License-Identifier: GPL-2.0
/*
 * mount_fsx_test.c - an fsx-style random differential through `iomapctl
 * mount`: writes, reads, truncates, fallocate (0, KEEP_SIZE, PUNCH_HOLE,
 * ZERO_RANGE) and SEEK_DATA/SEEK_HOLE at random offsets on a file in a
 * mounted ext4 image, buffered and O_DIRECT, each mirrored on a host file
 * with plain writes and truncates; every read and the final file must
 * match it, through the mount and through the kernel's ext4 afterwards.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/falloc.h>

#include <criterion/criterion.h>

#include "cmd_helpers.h"

#define FSX_MAX_SIZE (3U << 20) /* the file stays below this */
#define FSX_MAX_LEN (256U << 10) /* longest single operation */
#define FSX_OPS 1000

static char *dir;
static struct tc_mount mnt;

static void setup(void)
{
	tc_need_fuse();
	dir = t_tmpdir();
	cr_assert_eq(t_sh("cd '%s' && mke2fs -q -F -t ext4 -b 4096 img 64M",
			  dir),
		     0);
}

static void teardown(void)
{
	tc_mount_fini(&mnt, dir);
}

TestSuite(mount_fsx, .init = setup, .fini = teardown, .timeout = 600);

enum fsx_fd_mode {
	FSX_BUFFERED, /* one buffered descriptor throughout */
	FSX_DIRECT, /* one O_DIRECT descriptor throughout */
	FSX_MIXED, /* one of each, either kind per operation */
};

struct fsx {
	uint64_t rng;
	int host; /* the reference */
	int fd; /* the file in the mount (buffered in FSX_MIXED) */
	int dfd; /* FSX_MIXED: the O_DIRECT one */
	enum fsx_fd_mode mode;
	char path[600];
	off_t size;
	char *buf, *got; /* FSX_MAX_LEN each, page-aligned */
	unsigned int op; /* operations done, for messages */
};

static uint64_t fsx_rand(struct fsx *x)
{
	x->rng ^= x->rng << 13;
	x->rng ^= x->rng >> 7;
	x->rng ^= x->rng << 17;
	return x->rng;
}

/* An offset or length, 4 KiB-aligned half of the time (and always when
 * @aligned), so block edges and whole blocks both get exercised. */
static uint64_t fsx_pick(struct fsx *x, uint64_t max, bool aligned)
{
	uint64_t v = fsx_rand(x) % max;

	if (aligned || fsx_rand(x) & 1)
		v &= ~4095ULL;
	return v;
}

static int fsx_open(struct fsx *x, bool direct)
{
	int fd = open(x->path, O_RDWR | O_CREAT | (direct ? O_DIRECT : 0),
		      0644);

	cr_assert_geq(fd, 0, "open %s: %s", x->path, strerror(errno));
	return fd;
}

/*
 * The descriptor for the next operation.  FSX_MIXED keeps both kinds open
 * at once: the engine's buffered cache and its direct path must stay
 * coherent (as the kernel's are), and so must the kernel's page cache of
 * the buffered descriptor.  Every 16th operation reopens them, which
 * closes the inode in the daemon.
 */
static int fsx_fd(struct fsx *x, bool *direct)
{
	bool d = x->mode == FSX_DIRECT ||
		 (x->mode == FSX_MIXED && (fsx_rand(x) & 1));

	*direct = d;
	if (x->fd < 0)
		x->fd = fsx_open(x, x->mode == FSX_DIRECT);
	if (x->mode == FSX_MIXED && x->dfd < 0)
		x->dfd = fsx_open(x, true);
	return d && x->mode == FSX_MIXED ? x->dfd : x->fd;
}

static void fsx_done(struct fsx *x)
{
	if (x->mode == FSX_MIXED && x->op % 16 == 15) {
		cr_assert_eq(close(x->fd), 0, "op %u: close: %s", x->op,
			     strerror(errno));
		cr_assert_eq(close(x->dfd), 0);
		x->fd = x->dfd = -1;
	}
}

static void fsx_check(struct fsx *x, off_t off, size_t len, const char *what)
{
	bool direct;
	int fd = fsx_fd(x, &direct);
	ssize_t n = pread(fd, x->got, len, off);
	ssize_t want = pread(x->host, x->buf, len, off);

	cr_assert_eq(n, want, "op %u %s: read %zu at %lld (%s): got %zd, "
		     "want %zd (%s)",
		     x->op, what, len, (long long)off,
		     direct ? "direct" : "buffered", n, want,
		     n < 0 ? strerror(errno) : "");
	for (ssize_t i = 0; i < n; i++)
		cr_assert_eq(x->got[i], x->buf[i],
			     "op %u %s: byte %lld differs (%s): %#x, want %#x",
			     x->op, what, (long long)(off + i),
			     direct ? "direct" : "buffered",
			     (unsigned char)x->got[i],
			     (unsigned char)x->buf[i]);
	fsx_done(x);
}

static void fsx_write(struct fsx *x)
{
	bool direct;
	int fd = fsx_fd(x, &direct);
	off_t off = (off_t)fsx_pick(x, FSX_MAX_SIZE - FSX_MAX_LEN, direct);
	size_t len = fsx_pick(x, FSX_MAX_LEN, direct) + (direct ? 4096 : 1);

	for (size_t i = 0; i < len; i++)
		x->buf[i] = (char)(fsx_rand(x) | 1);
	cr_assert_eq(pwrite(fd, x->buf, len, off), (ssize_t)len,
		     "op %u: write %zu at %lld (%s): %s", x->op, len,
		     (long long)off, direct ? "direct" : "buffered",
		     strerror(errno));
	cr_assert_eq(pwrite(x->host, x->buf, len, off), (ssize_t)len);
	if (off + (off_t)len > x->size)
		x->size = off + (off_t)len;
	fsx_done(x);
}

static void fsx_truncate(struct fsx *x)
{
	bool direct;
	int fd = fsx_fd(x, &direct);
	off_t size = (off_t)fsx_pick(x, FSX_MAX_SIZE, false);

	cr_assert_eq(ftruncate(fd, size), 0, "op %u: truncate %lld: %s",
		     x->op, (long long)size, strerror(errno));
	cr_assert_eq(ftruncate(x->host, size), 0);
	x->size = size;
	fsx_done(x);
}

/* Zeros over [@off, @end) of the host file, within its size. */
static void fsx_host_zero(struct fsx *x, off_t off, off_t end)
{
	static const char zeros[65536];

	if (end > x->size)
		end = x->size;
	while (off < end) {
		size_t n = (size_t)(end - off) < sizeof(zeros) ?
				   (size_t)(end - off) :
				   sizeof(zeros);

		cr_assert_eq(pwrite(x->host, zeros, n, off), (ssize_t)n);
		off += (off_t)n;
	}
}

/* fallocate: the host gets what each mode means for the bytes. */
static void fsx_falloc(struct fsx *x)
{
	static const int modes[] = {
		0,
		FALLOC_FL_KEEP_SIZE,
		FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
		FALLOC_FL_ZERO_RANGE,
		FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE,
	};
	int mode = modes[fsx_rand(x) % (sizeof(modes) / sizeof(modes[0]))];
	bool direct;
	int fd = fsx_fd(x, &direct);
	off_t off = (off_t)fsx_pick(x, FSX_MAX_SIZE - FSX_MAX_LEN, false);
	off_t len = (off_t)fsx_pick(x, FSX_MAX_LEN, false) + 1;

	cr_assert_eq(fallocate(fd, mode, off, len), 0,
		     "op %u: fallocate %#x %lld+%lld: %s", x->op, mode,
		     (long long)off, (long long)len, strerror(errno));
	if (mode & (FALLOC_FL_PUNCH_HOLE | FALLOC_FL_ZERO_RANGE))
		fsx_host_zero(x, off, off + len);
	if (!(mode & FALLOC_FL_KEEP_SIZE) && off + len > x->size) {
		cr_assert_eq(ftruncate(x->host, off + len), 0);
		x->size = off + len;
	}
	fsx_done(x);
}

/* SEEK_DATA/SEEK_HOLE: whatever the mount calls a hole reads as zeros. */
static void fsx_seek(struct fsx *x)
{
	bool direct;
	int fd = fsx_fd(x, &direct);
	off_t off = x->size ? (off_t)fsx_pick(x, (uint64_t)x->size, false) : 0;
	off_t data = lseek(fd, off, SEEK_DATA);
	off_t hole = lseek(fd, off, SEEK_HOLE);
	off_t end = data < 0 ? x->size : data;

	cr_assert(data >= 0 || errno == ENXIO, "op %u: SEEK_DATA %lld: %s",
		  x->op, (long long)off, strerror(errno));
	cr_assert(hole >= off && hole <= x->size,
		  "op %u: SEEK_HOLE %lld gave %lld (size %lld)", x->op,
		  (long long)off, (long long)hole, (long long)x->size);
	cr_assert(data < 0 || (data >= off && data < x->size),
		  "op %u: SEEK_DATA %lld gave %lld (size %lld)", x->op,
		  (long long)off, (long long)data, (long long)x->size);
	fsx_done(x);
	for (off_t p = off; p < end; p += FSX_MAX_LEN) {
		size_t n = (size_t)(end - p) < FSX_MAX_LEN ?
				   (size_t)(end - p) :
				   FSX_MAX_LEN;

		cr_assert_eq(pread(x->host, x->buf, n, p), (ssize_t)n);
		for (size_t i = 0; i < n; i++)
			cr_assert_eq(x->buf[i], 0,
				     "op %u: %lld is in a hole (SEEK_DATA "
				     "from %lld gave %lld) but holds data",
				     x->op, (long long)(p + i),
				     (long long)off, (long long)data);
	}
}

static void fsx_read(struct fsx *x)
{
	bool direct = x->mode == FSX_DIRECT;
	off_t off = (off_t)fsx_pick(x, FSX_MAX_SIZE - FSX_MAX_LEN, direct);
	size_t len = fsx_pick(x, FSX_MAX_LEN, direct) + (direct ? 4096 : 1);

	fsx_check(x, off, len, "read");
}

static void fsx_whole(struct fsx *x, const char *what)
{
	struct stat st;

	for (off_t off = 0; off < x->size; off += FSX_MAX_LEN)
		fsx_check(x, off, FSX_MAX_LEN, what);
	cr_assert_eq(stat(x->path, &st), 0);
	cr_assert_eq(st.st_size, x->size, "%s: size %lld, want %lld", what,
		     (long long)st.st_size, (long long)x->size);
}

static void fsx_run(const char *gopts, enum fsx_fd_mode mode, uint64_t seed)
{
	static void (*const ops[])(struct fsx *) = {
		fsx_write, fsx_write, fsx_write, fsx_read, fsx_read,
		fsx_truncate, fsx_falloc, fsx_falloc, fsx_seek,
	};
	struct fsx x = { .rng = seed, .fd = -1, .dfd = -1, .mode = mode };
	char host[600];

	snprintf(x.path, sizeof(x.path), "%s/m/f", dir);
	snprintf(host, sizeof(host), "%s/host", dir);
	x.host = open(host, O_RDWR | O_CREAT | O_TRUNC, 0644);
	cr_assert_geq(x.host, 0);
	cr_assert_eq(posix_memalign((void **)&x.buf, 4096, FSX_MAX_LEN), 0);
	cr_assert_eq(posix_memalign((void **)&x.got, 4096, FSX_MAX_LEN), 0);
	tc_mount(&mnt, dir, gopts, "");
	for (x.op = 0; x.op < FSX_OPS; x.op++) {
		ops[fsx_rand(&x) % (sizeof(ops) / sizeof(ops[0]))](&x);
		if (x.op % 400 == 399)
			fsx_whole(&x, "whole file");
	}
	fsx_whole(&x, "final");
	if (x.fd >= 0) {
		cr_assert_eq(fsync(x.fd), 0);
		close(x.fd);
	}
	if (x.dfd >= 0)
		close(x.dfd);
	close(x.host);
	free(x.buf);
	free(x.got);
	cr_assert_eq(tc_umount(&mnt), 0, "the daemon did not exit cleanly");
	cr_assert_eq(t_sh("e2fsck -fn '%s/img' >/dev/null 2>&1", dir), 0,
		     "e2fsck -fn finds damage after the run");
	/* The kernel's ext4 reads what the mount wrote. */
	if (t_can_loop_mount())
		cr_assert_eq(t_sh("cd '%s' && mkdir k && mount -o loop,ro img k "
				  "&& cmp k/f host; r=$?; umount k; exit $r",
				  dir),
			     0, "the kernel reads other bytes than the mount");
	else
		cr_assert_eq(t_sh("cd '%s' && debugfs -R 'dump /f f.out' img "
				  ">/dev/null 2>&1 && cmp f.out host",
				  dir),
			     0, "debugfs reads other bytes than the mount");
}

Test(mount_fsx, buffered)
{
	fsx_run("", FSX_BUFFERED, 0x9e3779b97f4a7c15ULL);
}

Test(mount_fsx, direct)
{
	fsx_run("", FSX_DIRECT, 0x243f6a8885a308d3ULL);
}

Test(mount_fsx, mixed)
{
	fsx_run("", FSX_MIXED, 0x13198a2e03707344ULL);
}

/* The mount's own path direct: O_DIRECT and buffered opens share it. */
Test(mount_fsx, mixed_io_direct)
{
	fsx_run("--io=direct", FSX_MIXED, 0xa4093822299f31d0ULL);
}

Test(mount_fsx, mixed_mapper_bh)
{
	fsx_run("--mapper=bh", FSX_MIXED, 0x082efa98ec4e6c89ULL);
}
