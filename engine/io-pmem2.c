// SPDX-License-Identifier: GPL-2.0
/* io-pmem2.c - map the image with libpmem2 for the DAX path. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include <libpmem2.h>

#include "iomapctl/iodev.h"

struct iodev_pmem2_priv {
	struct pmem2_config *cfg;
	struct pmem2_source *src;
	struct pmem2_map *map;
};

static void pmem2_fail(char *err, size_t errlen, const char *what)
{
	if (err && errlen)
		snprintf(err, errlen, "%s: %s", what, pmem2_errormsg());
}

static int iodev_pmem2_map(struct iodev_pmem2_priv *p, int fd, bool rdwr,
			   char *err, size_t errlen)
{
	if (pmem2_config_new(&p->cfg)) {
		pmem2_fail(err, errlen, "pmem2_config_new");
		return -ENOMEM;
	}
	if (pmem2_source_from_fd(&p->src, fd)) {
		pmem2_fail(err, errlen, "pmem2_source_from_fd");
		return -EOPNOTSUPP;
	}
	/* Page granularity lets a regular file on a page-cache fs map. */
	if (pmem2_config_set_required_store_granularity(
		    p->cfg, PMEM2_GRANULARITY_PAGE) ||
	    pmem2_config_set_protection(
		    p->cfg, rdwr ? PMEM2_PROT_READ | PMEM2_PROT_WRITE :
				   PMEM2_PROT_READ)) {
		pmem2_fail(err, errlen, "pmem2_config");
		return -EOPNOTSUPP;
	}
	if (pmem2_map_new(&p->map, p->cfg, p->src)) {
		pmem2_fail(err, errlen, "pmem2_map_new");
		return -EOPNOTSUPP;
	}
	return 0;
}

int iodev_pmem2_open(struct iodev_pmem2 *pm, int fd, bool rdwr, char *err,
		     size_t errlen)
{
	struct iodev_pmem2_priv *p = calloc(1, sizeof(*p));
	int ret;

	if (!p)
		return -ENOMEM;
	pm->priv = p;
	ret = iodev_pmem2_map(p, fd, rdwr, err, errlen);
	if (ret < 0) {
		iodev_pmem2_close(pm);
		return ret;
	}
	pm->base = pmem2_map_get_address(p->map);
	pm->size = pmem2_map_get_size(p->map);
	pm->memcpy_fn = pmem2_get_memcpy_fn(p->map);
	pm->memset_fn = pmem2_get_memset_fn(p->map);
	return 0;
}

void iodev_pmem2_close(struct iodev_pmem2 *pm)
{
	struct iodev_pmem2_priv *p = pm->priv;

	if (!p)
		return;
	if (p->map)
		pmem2_map_delete(&p->map);
	if (p->src)
		pmem2_source_delete(&p->src);
	if (p->cfg)
		pmem2_config_delete(&p->cfg);
	free(p);
	pm->priv = NULL;
	pm->base = NULL;
}
