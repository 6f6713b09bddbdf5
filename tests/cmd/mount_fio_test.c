// SPDX-License-Identifier: GPL-2.0
/*
 * mount_fio_test.c - fio verify jobs through `iomapctl mount`, and the
 * same image then mounted read-only by the kernel: the same bytes and the
 * same extents (IMC_IOC_FIEMAP through the mount, FS_IOC_FIEMAP on the
 * kernel's ext4).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/fiemap.h>
#include <linux/fs.h>

#include <criterion/criterion.h>

#include "cmd_helpers.h"
#include "iomapctl/imc.h"

static char *dir;
static struct tc_mount mnt;

static void setup(void)
{
	tc_need_fuse();
	if (t_sh("command -v fio >/dev/null"))
		cr_skip_test("no fio (scripts/setup.sh installs it)");
	dir = t_tmpdir();
	cr_assert_eq(t_sh("cd '%s' && mke2fs -q -F -t ext4 -b 4096 img 128M",
			  dir),
		     0);
}

static void teardown(void)
{
	tc_mount_fini(&mnt, dir);
}

TestSuite(mount_fio, .init = setup, .fini = teardown, .timeout = 600);

/* fio job @name with @args in the mount; its verify must pass. */
static void fio(const char *name, const char *args)
{
	char *out = NULL;
	int st = t_sh_out(&out, "cd '%s/m' && fio --name=%s --filename=%s "
				"--verify=crc32c --do_verify=1 "
				"--verify_fatal=1 --minimal %s 2>&1",
			  dir, name, name, args);

	cr_assert_eq(st, 0, "fio %s %s:\n%s", name, args, out);
	free(out);
}

static void fio_jobs(void)
{
	fio("seq_direct", "--rw=write --bs=1m --size=16m --direct=1 "
			  "--ioengine=io_uring --iodepth=8");
	fio("rand_direct", "--rw=randwrite --bs=4k --size=4m --direct=1 "
			   "--ioengine=io_uring --iodepth=32");
	fio("rand_buffered", "--rw=randwrite --bs=12k --size=4m "
			     "--ioengine=psync");
	fio("randrw_direct", "--rw=randrw --bs=64k --size=8m --direct=1 "
			     "--ioengine=libaio --iodepth=16");
	/* Two writers of one file, each its own half. */
	fio("two_jobs", "--rw=write --bs=128k --size=4m --numjobs=2 "
			"--offset_increment=4m --ioengine=psync");
}

Test(mount_fio, verify)
{
	tc_mount(&mnt, dir, "", "");
	fio_jobs();
	cr_assert_eq(tc_umount(&mnt), 0, "the daemon did not exit cleanly");
	cr_assert_eq(t_sh("e2fsck -fn '%s/img' >/dev/null 2>&1", dir), 0);
}

Test(mount_fio, verify_io_direct)
{
	tc_mount(&mnt, dir, "--io=direct", "");
	fio_jobs();
	cr_assert_eq(tc_umount(&mnt), 0, "the daemon did not exit cleanly");
	cr_assert_eq(t_sh("e2fsck -fn '%s/img' >/dev/null 2>&1", dir), 0);
}

#define MAX_EXT 4096

/* A file's extents, contiguous ones merged, only UNWRITTEN kept of the
 * flags: the kernel splits at its extent-length limit, we may not. */
struct extents {
	unsigned int n;
	struct fiemap_extent e[MAX_EXT];
};

static void ext_add(struct extents *x, const struct fiemap_extent *fe)
{
	uint32_t flags = fe->fe_flags & FIEMAP_EXTENT_UNWRITTEN;
	struct fiemap_extent *last = x->n ? &x->e[x->n - 1] : NULL;

	if (last && last->fe_logical + last->fe_length == fe->fe_logical &&
	    last->fe_physical + last->fe_length == fe->fe_physical &&
	    last->fe_flags == flags) {
		last->fe_length += fe->fe_length;
		return;
	}
	cr_assert_lt(x->n, MAX_EXT);
	x->e[x->n] = *fe;
	x->e[x->n++].fe_flags = flags;
}

/* Through the mount: IMC_IOC_FIEMAP, IMC_IOC_FIEMAP_MAX at a time. */
static void extents_mount(const char *path, struct extents *x)
{
	struct imc_ioc_fiemap q;
	int fd = open(path, O_RDONLY);
	uint64_t start = 0;

	cr_assert_geq(fd, 0, "%s: %s", path, strerror(errno));
	x->n = 0;
	for (;;) {
		memset(&q, 0, sizeof(q));
		q.start = start;
		q.length = ~0ULL - start;
		q.flags = FIEMAP_FLAG_SYNC;
		cr_assert_eq(ioctl(fd, IMC_IOC_FIEMAP, &q), 0,
			     "IMC_IOC_FIEMAP %s: %s", path, strerror(errno));
		for (unsigned int i = 0; i < q.count; i++)
			ext_add(x, &q.ext[i]);
		if (!q.count || (q.ext[q.count - 1].fe_flags &
				 FIEMAP_EXTENT_LAST))
			break;
		start = q.ext[q.count - 1].fe_logical +
			q.ext[q.count - 1].fe_length;
	}
	close(fd);
}

/* On the kernel's mount: FS_IOC_FIEMAP. */
static void extents_kernel(const char *path, struct extents *x)
{
	struct fiemap *fm = calloc(1, sizeof(*fm) + MAX_EXT * sizeof(*fm->fm_extents));
	int fd = open(path, O_RDONLY);

	cr_assert_geq(fd, 0, "%s: %s", path, strerror(errno));
	fm->fm_length = FIEMAP_MAX_OFFSET;
	fm->fm_extent_count = MAX_EXT;
	cr_assert_eq(ioctl(fd, FS_IOC_FIEMAP, fm), 0, "FIEMAP %s: %s", path,
		     strerror(errno));
	x->n = 0;
	for (unsigned int i = 0; i < fm->fm_mapped_extents; i++)
		ext_add(x, &fm->fm_extents[i]);
	free(fm);
	close(fd);
}

static const char *const files[] = {
	"seq_direct", "rand_direct", "rand_buffered", "randrw_direct",
	"two_jobs", "sparse",
};
#define NFILES (sizeof(files) / sizeof(files[0]))

/* A file of holes, written, unwritten (KEEP_SIZE past EOF) and punched
 * blocks, through the mount. */
static void make_sparse(void)
{
	cr_assert_eq(t_sh("cd '%s/m' && xfs_io -f -c 'pwrite 1m 300k' "
			  "-c 'pwrite -b 4k 5m 4k' -c 'falloc 8m 1m' "
			  "-c 'fpunch 1100k 40k' -c 'fzero 1200k 64k' "
			  "-c 'falloc -k 9m 512k' sparse >/dev/null",
			  dir),
		     0);
}

/* fio's files and a sparse one, read back by the kernel after unmount:
 * the same bytes (md5) and the same extents. */
Test(mount_fio, kernel_reads_the_same_bytes_and_extents)
{
	static struct extents ours[NFILES], theirs;
	char *sums = NULL, *ksums = NULL, path[1024];

	if (!t_can_loop_mount())
		cr_skip_test("not root or no loop mount: no kernel oracle");
	tc_mount(&mnt, dir, "", "");
	fio_jobs();
	make_sparse();
	for (unsigned int i = 0; i < NFILES; i++) {
		snprintf(path, sizeof(path), "%s/m/%s", dir, files[i]);
		extents_mount(path, &ours[i]);
		cr_expect_gt(ours[i].n, 0, "%s has no extents", files[i]);
	}
	cr_assert_eq(t_sh_out(&sums, "cd '%s/m' && md5sum [!l]*", dir), 0);
	cr_assert_eq(tc_umount(&mnt), 0, "the daemon did not exit cleanly");
	cr_assert_eq(t_sh("e2fsck -fn '%s/img' >/dev/null 2>&1", dir), 0);
	cr_assert_eq(t_sh("cd '%s' && mkdir k && mount -o loop,ro img k", dir),
		     0);
	cr_assert_eq(t_sh_out(&ksums, "cd '%s/k' && md5sum [!l]*", dir), 0);
	cr_expect_str_eq(ksums, sums, "the kernel reads other bytes");
	for (unsigned int i = 0; i < NFILES; i++) {
		snprintf(path, sizeof(path), "%s/k/%s", dir, files[i]);
		extents_kernel(path, &theirs);
		cr_expect_eq(theirs.n, ours[i].n, "%s: %u extents, kernel %u",
			     files[i], ours[i].n, theirs.n);
		for (unsigned int j = 0; j < theirs.n && j < ours[i].n; j++)
			cr_expect(!memcmp(&theirs.e[j], &ours[i].e[j],
					  sizeof(theirs.e[j])),
				  "%s extent %u: ours %llu+%llu@%llu %#x, "
				  "kernel %llu+%llu@%llu %#x",
				  files[i], j,
				  (unsigned long long)ours[i].e[j].fe_logical,
				  (unsigned long long)ours[i].e[j].fe_length,
				  (unsigned long long)ours[i].e[j].fe_physical,
				  ours[i].e[j].fe_flags,
				  (unsigned long long)theirs.e[j].fe_logical,
				  (unsigned long long)theirs.e[j].fe_length,
				  (unsigned long long)theirs.e[j].fe_physical,
				  theirs.e[j].fe_flags);
	}
	t_sh("umount '%s/k'", dir);
	free(sums);
	free(ksums);
}
