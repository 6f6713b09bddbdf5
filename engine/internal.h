/* SPDX-License-Identifier: GPL-2.0 */
/* internal.h - helpers shared by the engine's files, not part of its API. */
#ifndef IOMAPCTL_ENGINE_INTERNAL_H
#define IOMAPCTL_ENGINE_INTERNAL_H

#include <stdio.h>

#include "iomapctl/iomap.h"

/*
 * A broken invariant: report where on stderr and let the caller return
 * -EIO.  No once-only latch: that would be global mutable state.
 */
#define IOMAP_WARN_ON(cond)                                                   \
	({                                                                     \
		bool iomap__c = !!(cond);                                      \
		if (iomap__c)                                                  \
			iomap__warn(__FILE__, __LINE__, #cond);                \
		iomap__c;                                                      \
	})

void iomap__warn(const char *file, int line, const char *cond);

#endif /* IOMAPCTL_ENGINE_INTERNAL_H */
