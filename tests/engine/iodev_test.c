// SPDX-License-Identifier: GPL-2.0
/* iodev_test.c - the request backends behind iodev_ops, one table of
 * cases run on each (io_uring skips where the kernel refuses it). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "helpers.h"
#include "iomapctl/iodev.h"

#define NREQ 16
#define CHUNK 8192

static void run_backend(const struct iodev_ops *ops)
{
	char *dir = t_tmpdir(), *path;
	struct iodev_req req[NREQ], *done;
	struct iovec iov[NREQ][2];
	static uint8_t out[NREQ][CHUNK], in[NREQ][CHUNK];
	void *priv;
	int fd, ret, seen = 0;

	cr_assert(asprintf(&path, "%s/dev", dir) > 0);
	fd = open(path, O_CREAT | O_RDWR, 0644);
	cr_assert(fd >= 0);
	ret = ops->open(&priv, fd, 4);
	if (ret == -ENOSYS || ret == -EPERM)
		cr_skip_test("%s unavailable here: %s", ops->name,
			     strerror(-ret));
	cr_assert_eq(ret, 0);
	/* Vectored writes, several in flight, reaped out of any order. */
	for (int i = 0; i < NREQ; i++) {
		memset(out[i], 'a' + i, CHUNK);
		iov[i][0] = (struct iovec){ out[i], CHUNK / 2 };
		iov[i][1] = (struct iovec){ out[i] + CHUNK / 2, CHUNK / 2 };
		req[i] = (struct iodev_req){ .addr = (uint64_t)i * CHUNK,
					     .iov = iov[i],
					     .niov = 2,
					     .write = true };
		cr_assert_eq(ops->submit(priv, &req[i]), 0);
		if (i % 4 == 3)
			while (seen <= i && ops->reap(priv, &done, true) == 1) {
				cr_assert_eq(done->res, CHUNK);
				seen++;
			}
	}
	cr_assert_eq(seen, NREQ);
	cr_assert_eq(ops->reap(priv, &done, false), 0, "nothing left");
	cr_assert_eq(ops->flush(priv), 0);
	for (int i = 0; i < NREQ; i++) {
		iov[i][0] = (struct iovec){ in[i], CHUNK };
		req[i] = (struct iodev_req){ .addr = (uint64_t)i * CHUNK,
					     .iov = iov[i],
					     .niov = 1 };
		cr_assert_eq(ops->submit(priv, &req[i]), 0);
		cr_assert_eq(ops->reap(priv, &done, true), 1);
		cr_assert_eq(done, &req[i]);
		cr_assert_eq(done->res, CHUNK);
		cr_assert_arr_eq(in[i], out[i], CHUNK);
	}
	/* Past the end of the file: a short (0-byte) read, not an error. */
	iov[0][0] = (struct iovec){ in[0], CHUNK };
	req[0] =
		(struct iodev_req){ .addr = 1 << 30, .iov = iov[0], .niov = 1 };
	cr_assert_eq(ops->submit(priv, &req[0]), 0);
	cr_assert_eq(ops->reap(priv, &done, true), 1);
	cr_assert_eq(done->res, 0);
	ops->close(priv);
	close(fd);
	free(path);
	t_tmpdir_remove(dir);
}

TestSuite(iodev);

Test(iodev, sync_backend)
{
	cr_assert_eq(iodev_sync_ops.caps & IODEV_CAP_ASYNC, 0);
	run_backend(&iodev_sync_ops);
}

Test(iodev, uring_backend)
{
	cr_assert(iodev_uring_ops.caps & IODEV_CAP_ASYNC);
	run_backend(&iodev_uring_ops);
}
