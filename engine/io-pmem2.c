// SPDX-License-Identifier: GPL-2.0
/*
 * io-pmem2.c - map the image with libpmem2 for the DAX path.  The library
 * is loaded when an image is first mapped, not linked: it pulls in twelve
 * more (ndctl, udev, kmod, OpenSSL's libcrypto...), which every other
 * command paid for at start, a tenth of a tree copy of 10,000 small files.
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <libpmem2.h>

#include "iomapctl/iodev.h"

#define IODEV_PMEM2_LIB "libpmem2.so.1"

/* The libpmem2 calls the DAX path makes, resolved from the library. */
struct iodev_pmem2_api {
	const char *(*errormsg)(void);
	int (*config_new)(struct pmem2_config **cfg);
	int (*config_delete)(struct pmem2_config **cfg);
	int (*config_set_required_store_granularity)(
		struct pmem2_config *cfg, enum pmem2_granularity g);
	int (*config_set_protection)(struct pmem2_config *cfg, unsigned prot);
	int (*source_from_fd)(struct pmem2_source **src, int fd);
	int (*source_delete)(struct pmem2_source **src);
	int (*map_new)(struct pmem2_map **map, const struct pmem2_config *cfg,
		       const struct pmem2_source *src);
	int (*map_delete)(struct pmem2_map **map);
	void *(*map_get_address)(struct pmem2_map *map);
	size_t (*map_get_size)(struct pmem2_map *map);
	pmem2_memcpy_fn (*get_memcpy_fn)(struct pmem2_map *map);
	pmem2_memset_fn (*get_memset_fn)(struct pmem2_map *map);
	enum pmem2_granularity (*map_get_store_granularity)(
		struct pmem2_map *map);
	pmem2_flush_fn (*get_flush_fn)(struct pmem2_map *map);
	pmem2_drain_fn (*get_drain_fn)(struct pmem2_map *map);
};

#define IODEV_PMEM2_SYM(field)                                       \
	{ "pmem2_" #field, offsetof(struct iodev_pmem2_api, field) }

static const struct {
	const char *name;
	size_t off;
} iodev_pmem2_syms[] = {
	IODEV_PMEM2_SYM(errormsg),
	IODEV_PMEM2_SYM(config_new),
	IODEV_PMEM2_SYM(config_delete),
	IODEV_PMEM2_SYM(config_set_required_store_granularity),
	IODEV_PMEM2_SYM(config_set_protection),
	IODEV_PMEM2_SYM(source_from_fd),
	IODEV_PMEM2_SYM(source_delete),
	IODEV_PMEM2_SYM(map_new),
	IODEV_PMEM2_SYM(map_delete),
	IODEV_PMEM2_SYM(map_get_address),
	IODEV_PMEM2_SYM(map_get_size),
	IODEV_PMEM2_SYM(get_memcpy_fn),
	IODEV_PMEM2_SYM(get_memset_fn),
	IODEV_PMEM2_SYM(map_get_store_granularity),
	IODEV_PMEM2_SYM(get_flush_fn),
	IODEV_PMEM2_SYM(get_drain_fn),
};

struct iodev_pmem2_priv {
	void *lib; /* dlopen() handle: each mapping holds a reference */
	struct iodev_pmem2_api api;
	struct pmem2_config *cfg;
	struct pmem2_source *src;
	struct pmem2_map *map;
	bool flush_pages; /* page granularity: persisting is msync */
	pmem2_flush_fn flush;
	pmem2_drain_fn drain;
};

/* Loads the library and every call of the table, or says what is missing. */
static int iodev_pmem2_load(struct iodev_pmem2_priv *p, char *err,
			    size_t errlen)
{
	p->lib = dlopen(IODEV_PMEM2_LIB, RTLD_NOW | RTLD_LOCAL);
	if (!p->lib) {
		if (err && errlen)
			snprintf(err, errlen, "%s", dlerror());
		return -EOPNOTSUPP;
	}
	for (size_t i = 0;
	     i < sizeof(iodev_pmem2_syms) / sizeof(iodev_pmem2_syms[0]); i++) {
		void *fn = dlsym(p->lib, iodev_pmem2_syms[i].name);

		if (!fn) {
			if (err && errlen)
				snprintf(err, errlen, "%s: no %s",
					 IODEV_PMEM2_LIB,
					 iodev_pmem2_syms[i].name);
			return -EOPNOTSUPP;
		}
		memcpy((char *)&p->api + iodev_pmem2_syms[i].off, &fn,
		       sizeof(fn));
	}
	return 0;
}

static void pmem2_fail(const struct iodev_pmem2_priv *p, char *err,
		       size_t errlen, const char *what)
{
	if (err && errlen)
		snprintf(err, errlen, "%s: %s", what, p->api.errormsg());
}

static int iodev_pmem2_map(struct iodev_pmem2_priv *p, int fd, bool rdwr,
			   char *err, size_t errlen)
{
	int ret = iodev_pmem2_load(p, err, errlen);

	if (ret < 0)
		return ret;
	if (p->api.config_new(&p->cfg)) {
		pmem2_fail(p, err, errlen, "pmem2_config_new");
		return -ENOMEM;
	}
	if (p->api.source_from_fd(&p->src, fd)) {
		pmem2_fail(p, err, errlen, "pmem2_source_from_fd");
		return -EOPNOTSUPP;
	}
	/* Page granularity lets a regular file on a page-cache fs map. */
	if (p->api.config_set_required_store_granularity(
		    p->cfg, PMEM2_GRANULARITY_PAGE) ||
	    p->api.config_set_protection(
		    p->cfg, rdwr ? PMEM2_PROT_READ | PMEM2_PROT_WRITE :
				   PMEM2_PROT_READ)) {
		pmem2_fail(p, err, errlen, "pmem2_config");
		return -EOPNOTSUPP;
	}
	if (p->api.map_new(&p->map, p->cfg, p->src)) {
		pmem2_fail(p, err, errlen, "pmem2_map_new");
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
	pm->base = p->api.map_get_address(p->map);
	pm->size = p->api.map_get_size(p->map);
	pm->memcpy_fn = p->api.get_memcpy_fn(p->map);
	pm->memset_fn = p->api.get_memset_fn(p->map);
	p->flush = p->api.get_flush_fn(p->map);
	p->drain = p->api.get_drain_fn(p->map);
	/*
	 * One persist for a whole copy, not one per store: on a page-cache
	 * mapping the stores flush nothing (a flush is an msync), on real
	 * persistent memory they flush their own cache lines and the one
	 * drain comes at iodev_pmem2_persist().
	 */
	p->flush_pages = p->api.map_get_store_granularity(p->map) ==
			 PMEM2_GRANULARITY_PAGE;
	pm->store_flags =
		PMEM2_F_MEM_NONTEMPORAL |
		(p->flush_pages ? PMEM2_F_MEM_NOFLUSH : PMEM2_F_MEM_NODRAIN);
	return 0;
}

void iodev_pmem2_persist(struct iodev_pmem2 *pm, uint64_t addr, uint64_t len)
{
	struct iodev_pmem2_priv *p = pm->priv;

	if (!p || !len)
		return;
	if (p->flush_pages)
		p->flush(pm->base + addr, len);
	p->drain();
}

void iodev_pmem2_close(struct iodev_pmem2 *pm)
{
	struct iodev_pmem2_priv *p = pm->priv;

	if (!p)
		return;
	if (p->map)
		p->api.map_delete(&p->map);
	if (p->src)
		p->api.source_delete(&p->src);
	if (p->cfg)
		p->api.config_delete(&p->cfg);
	if (p->lib)
		dlclose(p->lib);
	free(p);
	pm->priv = NULL;
	pm->base = NULL;
}
