/* SPDX-License-Identifier: GPL-2.0 */
/* faultdev.h - a request backend for tests, over the pread/pwrite one,
 * that transfers short, fails the Nth request or the Nth reap on purpose. */
#ifndef IOMAPCTL_TESTS_FAULTDEV_H
#define IOMAPCTL_TESTS_FAULTDEV_H

#include <stdbool.h>
#include <stddef.h>

#include "iomapctl/iodev.h"

/*
 * The configuration and record of one backend: pass it as
 * iomap_io_params.iodev_arg with .iodev = &faultdev_ops.  Knobs may change
 * between operations.
 */
struct faultdev {
	/* knobs */
	bool short_io; /* transfer half of each request (512-byte units) */
	unsigned int short_at; /* only the short_at-th request (1-based) */
	unsigned int fail_at; /* the fail_at-th request (1-based) fails */
	int fail_error; /* with this (default -EIO) */
	bool fail_writes_only; /* count only writes for fail_at */
	/* the reap_fail_at-th reap (1-based) fails, completing nothing */
	unsigned int reap_fail_at;

	/* record */
	unsigned int nr_submit, nr_counted, nr_short, nr_failed;
	unsigned int nr_reap, nr_reap_failed;
	unsigned int nr_inflight; /* submitted, not reaped yet */
	unsigned int peak_inflight; /* the most nr_inflight has been */

	/* state: the sync backend that does the requests */
	void *sync;
};

extern const struct iodev_ops faultdev_ops;

#endif /* IOMAPCTL_TESTS_FAULTDEV_H */
