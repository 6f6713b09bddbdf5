// SPDX-License-Identifier: GPL-2.0
/* check.c - the oracles after a run: e2fsck -fn, and the kernel's view of
 * /f through a read-only loop mount (size, bytes, data/hole layout). */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fsx.h"
#include "iomapctl/native.h"

int fsx_failf(struct fsx_fail *fail, enum fsx_stage stage, unsigned long op,
	      const char *fmt, ...)
{
	va_list ap;

	fail->stage = stage;
	fail->op = op;
	va_start(ap, fmt);
	vsnprintf(fail->msg, sizeof(fail->msg), fmt, ap);
	va_end(ap);
	return 1;
}

int fsx_sh(const char *fmt, ...)
{
	char *cmd;
	va_list ap;
	int st;

	va_start(ap, fmt);
	st = vasprintf(&cmd, fmt, ap);
	va_end(ap);
	if (st < 0)
		return -1;
	st = system(cmd);
	free(cmd);
	return st >= 0 && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

struct native_report {
	char first[512];
	unsigned int n;
};

static void native_problem(void *priv, const char *msg)
{
	struct native_report *r = priv;

	if (!r->n++)
		snprintf(r->first, sizeof(r->first), "%s", msg);
}

/* Our own fsck of a native image: the first problem names the rest. */
static int native_fsck(const char *img, unsigned long op,
		       struct fsx_fail *fail)
{
	static const struct fsa_native_check_ops ops = { .problem =
								 native_problem };
	struct native_report r = { .n = 0 };
	int ret = fsa_native_fsck(img, false, &ops, &r);

	if (ret < 0)
		return fsx_failf(fail, FSX_AT_FSCK, op, "fsck: %s",
				 strerror(-ret));
	if (ret)
		return fsx_failf(fail, FSX_AT_FSCK, op, "fsck: %d problems: %s",
				 ret, r.first);
	return 0;
}

int fsx_fsck(const struct fsx_cfg *cfg, const char *img, unsigned long op,
	     struct fsx_fail *fail)
{
	char cmd[PATH_MAX + 32], out[768];
	size_t n = 0;
	FILE *p;
	int st;

	if (fsx_native(cfg))
		return native_fsck(img, op, fail);
	snprintf(cmd, sizeof(cmd), "e2fsck -fn '%s' 2>&1", img);
	p = popen(cmd, "r");
	if (!p)
		return fsx_failf(fail, FSX_AT_FSCK, op, "popen e2fsck");
	/* Keep the start of the report: it names the first problem. */
	n = fread(out, 1, sizeof(out) - 1, p);
	while (fread(cmd, 1, sizeof(cmd), p) > 0)
		;
	out[n] = '\0';
	st = pclose(p);
	if (st < 0 || !WIFEXITED(st) || WEXITSTATUS(st))
		return fsx_failf(fail, FSX_AT_FSCK, op, "e2fsck -fn: %s", out);
	return 0;
}

/* The kernel's SEEK_DATA/SEEK_HOLE segments of @fd. */
static int kernel_layout(int fd, uint64_t size, struct fsx_layout *l)
{
	off_t pos = 0, data, hole;

	while ((uint64_t)pos < size) {
		data = lseek(fd, pos, SEEK_DATA);
		if (data < 0)
			return errno == ENXIO ? 0 : -errno;
		hole = lseek(fd, data, SEEK_HOLE);
		if (hole < 0)
			return -errno;
		if (fsx_layout_add(l, (uint64_t)data, (uint64_t)hole))
			return -ENOMEM;
		pos = hole;
	}
	return 0;
}

static int compare_layout(const struct fsx_layout *k,
			  const struct fsx_layout *ours, unsigned long op,
			  struct fsx_fail *fail)
{
	for (unsigned long i = 0; i < k->n || i < ours->n; i++) {
		uint64_t ks = i < k->n ? k->seg[i][0] : 0;
		uint64_t ke = i < k->n ? k->seg[i][1] : 0;
		uint64_t os = i < ours->n ? ours->seg[i][0] : 0;
		uint64_t oe = i < ours->n ? ours->seg[i][1] : 0;

		if (i >= k->n || i >= ours->n || ks != os || ke != oe)
			return fsx_failf(fail, FSX_AT_KERNEL, op,
					 "data segment %lu: kernel [%llu, "
					 "%llu), ours [%llu, %llu) (of %lu "
					 "and %lu)",
					 i, (unsigned long long)ks,
					 (unsigned long long)ke,
					 (unsigned long long)os,
					 (unsigned long long)oe, k->n, ours->n);
	}
	return 0;
}

static int compare_bytes(int kfd, int hfd, uint64_t size, unsigned long op,
			 struct fsx_fail *fail)
{
	static uint8_t a[1 << 16], b[1 << 16];

	for (uint64_t pos = 0; pos < size;) {
		ssize_t n = pread(kfd, a, sizeof(a), (off_t)pos);

		if (n <= 0 || pread(hfd, b, (size_t)n, (off_t)pos) != n)
			return fsx_failf(fail, FSX_AT_KERNEL, op,
					 "kernel read at %llu: %zd",
					 (unsigned long long)pos, n);
		for (ssize_t i = 0; i < n; i++)
			if (a[i] != b[i])
				return fsx_failf(fail, FSX_AT_KERNEL, op,
						 "kernel reads 0x%02x at %llu, "
						 "want 0x%02x",
						 a[i],
						 (unsigned long long)pos + i,
						 b[i]);
		pos += (uint64_t)n;
	}
	return 0;
}

static int kernel_compare(const char *mnt, const char *host,
			  const struct fsx_layout *ours, unsigned long op,
			  struct fsx_fail *fail)
{
	struct fsx_layout k = { 0 };
	char path[PATH_MAX + 8];
	struct stat ks, hs;
	int kfd, hfd, ret;

	snprintf(path, sizeof(path), "%s/f", mnt);
	kfd = open(path, O_RDONLY | O_CLOEXEC);
	hfd = open(host, O_RDONLY | O_CLOEXEC);
	if (kfd < 0 || hfd < 0 || fstat(kfd, &ks) || fstat(hfd, &hs))
		ret = fsx_failf(fail, FSX_AT_KERNEL, op, "open %s: %s", path,
				strerror(errno));
	else if (ks.st_size != hs.st_size)
		ret = fsx_failf(fail, FSX_AT_KERNEL, op,
				"kernel size %lld, want %lld",
				(long long)ks.st_size, (long long)hs.st_size);
	/* Layout first: reading caches folios, which turn unwritten
	 * extents into data for SEEK_DATA. */
	else if ((ret = kernel_layout(kfd, (uint64_t)ks.st_size, &k)) < 0)
		ret = fsx_failf(fail, FSX_AT_KERNEL, op, "kernel seek: %s",
				strerror(-ret));
	if (!ret)
		ret = compare_layout(&k, ours, op, fail);
	if (!ret)
		ret = compare_bytes(kfd, hfd, (uint64_t)ks.st_size, op, fail);
	free(k.seg);
	if (kfd >= 0)
		close(kfd);
	if (hfd >= 0)
		close(hfd);
	return ret;
}

int fsx_kernel_check(const struct fsx_cfg *cfg, const char *img,
		     const char *host, const struct fsx_layout *ours,
		     unsigned long op, struct fsx_fail *fail)
{
	char mnt[PATH_MAX];
	int ret;

	snprintf(mnt, sizeof(mnt), "%s/mnt", cfg->dir);
	if (geteuid() != 0 || (mkdir(mnt, 0755) && errno != EEXIST))
		return 77;
	if (fsx_sh("mount -o loop,ro '%s' '%s' 2>/dev/null", img, mnt))
		return 77;
	ret = kernel_compare(mnt, host, ours, op, fail);
	if (fsx_sh("umount '%s'", mnt))
		fprintf(stderr, "fsx: umount %s failed\n", mnt);
	return ret;
}
