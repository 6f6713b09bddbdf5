// SPDX-License-Identifier: GPL-2.0
/* fsx.c - iomapctl-fsx: the command line of the differential tester.
 * Exit status 0 when everything matched, 1 on a mismatch (after printing
 * the seed, the op and a shrunk reproduction), 2 on a setup or usage
 * error, 77 when this machine cannot run the chosen --io. */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fsx.h"
#include "iomapctl/imc.h"

#define FSX_SKIP 77

static const struct option longopts[] = {
	{ "fs", required_argument, NULL, 't' },
	{ "block-size", required_argument, NULL, 'b' },
	{ "io", required_argument, NULL, 'i' },
	{ "mapper", required_argument, NULL, 'm' },
	{ "seed", required_argument, NULL, 's' },
	{ "ops", required_argument, NULL, 'n' },
	{ "full", no_argument, NULL, 'F' },
	{ "clone", no_argument, NULL, 'C' },
	{ "no-kernel", no_argument, NULL, 'K' },
	{ "image-size", required_argument, NULL, 'I' },
	{ "max-size", required_argument, NULL, 'M' },
	{ "max-len", required_argument, NULL, 'L' },
	{ "far", required_argument, NULL, 'f' },
	{ "shrink", required_argument, NULL, 'S' },
	{ "dir", required_argument, NULL, 'd' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static void usage(FILE *out)
{
	fputs("usage: iomapctl-fsx [OPTIONS]\n"
	      "Applies a seeded random sequence of reads, writes, zero-range, "
	      "truncate,\nfalloc, punch, sync and reopen (--clone: and reflink "
	      "clones of /f, written on)\nto /f in a fresh ext image (through "
	      "iomapctl) and to a host file (through the\nkernel); the bytes "
	      "must match after every read and at the "
	      "end, where e2fsck -fn must pass and a read-only loop mount\n"
	      "must show the same size, bytes and data/hole layout.\n\n"
	      "  --fs ext2|ext3|ext4|native  filesystem (ext4); native: our fsck,\n"
	      "                        no kernel oracle\n"
	      "  --block-size N        1024, 2048 or 4096 (4096); native: any power\n"
	      "                        of two from 1024 to 65536\n"
	      "  --io PATH             as iomapctl --io (buffered)\n"
	      "  --mapper SPEC         as iomapctl --mapper (iomap)\n"
	      "  --seed N              the sequence (default: from the clock)\n"
	      "  --ops N               operations (5000)\n"
	      "  --full                a nearly full image: ENOSPC paths\n"
	      "  --clone               native: also reflink /f to /g and back "
	      "(clone)\n"
	      "  --no-kernel           skip the loop-mount oracle\n"
	      "  --image-size SIZE     (32m)\n"
	      "  --max-size SIZE       file sizes mostly below this (1m)\n"
	      "  --max-len SIZE        longest single op (256k)\n"
	      "  --far SIZE            reach of the ops far past EOF (8m)\n"
	      "  --shrink N            replays to spend shrinking (400)\n"
	      "  --dir DIR             scratch space (/dev/shm, else $TMPDIR):\n"
	      "                        give a disk directory for real O_DIRECT\n"
	      "  -v, --verbose         twice: print every op\n",
	      out);
}

static int size_opt(const char *what, const char *s, uint64_t *out)
{
	if (imc_parse_size(s, out) == 0)
		return 0;
	fprintf(stderr, "fsx: bad %s '%s'\n", what, s);
	return 2;
}


/* ext images must mount on this kernel (blocks up to a page); native
 * images take every block size the format has. */
static bool fsx_block_size_ok(const struct fsx_cfg *cfg)
{
	if (fsx_native(cfg))
		return cfg->bs >= 1024 && cfg->bs <= 65536 &&
		       !(cfg->bs & (cfg->bs - 1));
	return (cfg->bs == 1024 || cfg->bs == 2048 || cfg->bs == 4096) &&
	       cfg->bs <= (unsigned long)sysconf(_SC_PAGESIZE);
}
static int parse(int argc, char **argv, struct fsx_cfg *cfg, const char **base)
{
	int c, ret = 0;
	uint64_t v;

	while (!ret &&
	       (c = getopt_long(argc, argv, "vh", longopts, NULL)) != -1) {
		switch (c) {
		case 't':
			cfg->fstype = optarg;
			break;
		case 'i':
			cfg->io = optarg;
			break;
		case 'm':
			cfg->mapper = optarg;
			break;
		case 'F':
			cfg->full = true;
			break;
		case 'C':
			cfg->clone = true;
			break;
		case 'K':
			cfg->kernel = false;
			break;
		case 'v':
			cfg->verbose++;
			break;
		case 'b':
			ret = size_opt("block size", optarg, &v);
			cfg->bs = (unsigned int)v;
			break;
		case 's':
			ret = size_opt("seed", optarg, &cfg->seed);
			break;
		case 'n':
			ret = size_opt("op count", optarg, &v);
			cfg->nops = (unsigned long)v;
			break;
		case 'I':
			ret = size_opt("size", optarg, &cfg->image_size);
			break;
		case 'M':
			ret = size_opt("size", optarg, &cfg->max_size);
			break;
		case 'L':
			ret = size_opt("length", optarg, &cfg->max_len);
			break;
		case 'f':
			ret = size_opt("size", optarg, &cfg->far);
			break;
		case 'S':
			ret = size_opt("count", optarg, &v);
			cfg->shrink_budget = (unsigned long)v;
			break;
		case 'd':
			*base = optarg;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return 2;
		}
	}
	/* mke2fs takes any -t (with its defaults): only the ext types here,
	 * and native, which the kernel cannot mount. */
	if (!ret && strcmp(cfg->fstype, "ext2") &&
	    strcmp(cfg->fstype, "ext3") && strcmp(cfg->fstype, "ext4") &&
	    strcmp(cfg->fstype, "native"))
		optind = -1;
	if (fsx_native(cfg))
		cfg->kernel = false;
	if (!ret && (optind != argc || !fsx_block_size_ok(cfg) ||
		     !cfg->max_len || !cfg->max_size)) {
		usage(stderr);
		ret = 2;
	}
	return ret;
}

/* --io and --mapper through the CLI's own parser; 77 when DAX cannot map
 * images here. */
static int check_paths(struct fsx_cfg *cfg)
{
	struct iomap_dev *dev;
	struct imc_ctx ctx;
	char img[PATH_MAX + 16];
	int ret = 0;

	imc_ctx_init(&ctx);
	if (imc_set_global(&ctx, "io", cfg->io) ||
	    imc_set_global(&ctx, "mapper", cfg->mapper))
		ret = 2;
	snprintf(img, sizeof(img), "%s/pristine", cfg->dir);
	if (!ret && ctx.io.path == IOMAP_IO_DAX) {
		ret = iomap_dev_open(img, false, &ctx.io, &dev);
		if (ret == -EOPNOTSUPP) {
			printf("fsx: skipped: DAX does not map %s here\n", img);
			ret = FSX_SKIP;
		} else if (ret) {
			fprintf(stderr, "fsx: DAX open: %s\n", strerror(-ret));
			ret = 2;
		} else {
			ret = iomap_dev_close(dev) ? 2 : 0;
		}
	}
	imc_ctx_fini(&ctx);
	return ret;
}

static void summary(const struct fsx_cfg *cfg, const struct fsx_fail *res,
		    unsigned long n, double secs)
{
	printf("fsx: %s %u-byte blocks%s, --io=%s --mapper=%s, seed %llu: "
	       "%lu ops passed in %.1f s (",
	       cfg->fstype, cfg->bs, cfg->full ? " nearly full" : "", cfg->io,
	       cfg->mapper, (unsigned long long)cfg->seed, n, secs);
	for (int k = 0; k < FSX_NKINDS; k++)
		printf("%s%s %lu", k ? ", " : "", fsx_kind_names[k],
		       res->nr_kind[k]);
	printf("; refused: %lu ENOSPC, %lu EOPNOTSUPP); %s clean; %s\n",
	       res->nr_enospc, res->nr_unsupported,
	       fsx_native(cfg) ? "fsck" : "e2fsck -fn",
	       !cfg->kernel ? "kernel check off" :
	       res->kernel_skipped ?
			      "kernel check skipped: loop mount refused" :
			      "kernel loop mount agrees");
}

static int fsx_main(struct fsx_cfg *cfg)
{
	struct fsx_list list = { 0 };
	struct fsx_fail res;
	struct timespec t0, t1;
	uint64_t rng = cfg->seed;
	unsigned int flags = FSX_RUN_FSCK;
	int ret;

	if (fsx_mkimage(cfg))
		return 2;
	ret = check_paths(cfg);
	if (ret)
		return ret;
	if (cfg->kernel)
		flags |= FSX_RUN_KERNEL;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ret = fsx_run(cfg, &list, &rng, flags, &res);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (ret == 0)
		summary(cfg, &res, list.n,
			(double)(t1.tv_sec - t0.tv_sec) +
				(double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	if (ret == 1) {
		fprintf(stderr, "fsx: FAILED: seed %llu, %s %lu of %lu: %s\n",
			(unsigned long long)cfg->seed,
			res.stage == FSX_AT_OP ? "op" : "check after op",
			res.op, list.n, res.msg);
		if (res.stage == FSX_AT_OP)
			fsx_print_op(cfg, &list.ops[res.op], stderr);
		fprintf(stderr,
			"fsx: rerun: iomapctl-fsx --fs %s --block-size "
			"%u --io %s --mapper %s --seed %llu --ops %lu%s%s\n",
			cfg->fstype, cfg->bs, cfg->io, cfg->mapper,
			(unsigned long long)cfg->seed, list.n,
			cfg->full ? " --full" : "",
			cfg->clone ? " --clone" : "");
		fsx_shrink_and_print(cfg, &list, &res);
	}
	free(list.ops);
	return ret < 0 ? 2 : ret;
}

/* The scratch directory, removed at exit: the host side's fatal errors
 * exit(2) from deep inside a run. */
static char scratch[sizeof(((struct fsx_cfg *)0)->dir)];

static void remove_scratch(void)
{
	if (scratch[0])
		fsx_sh("rm -rf '%s'", scratch);
}

int main(int argc, char **argv)
{
	struct fsx_cfg cfg = {
		.fstype = "ext4",
		.bs = 4096,
		.io = "buffered",
		.mapper = "iomap",
		.nops = 5000,
		.kernel = true,
		.image_size = 32 << 20,
		.max_size = 1 << 20,
		.max_len = 256 << 10,
		.far = 8 << 20,
		.shrink_budget = 400,
	};
	const char *base = getenv("TMPDIR");
	struct timespec now;
	int ret;

	clock_gettime(CLOCK_REALTIME, &now);
	cfg.seed = (uint64_t)now.tv_nsec ^ (uint64_t)now.tv_sec << 20;
	/* Memory by default: fsyncs on this VM's disk cost more than the
	 * run; tmpfs refuses O_DIRECT, so the direct path keeps its own
	 * alignment rules over a buffered descriptor there. */
	if (!access("/dev/shm", W_OK))
		base = "/dev/shm";
	ret = parse(argc, argv, &cfg, &base);
	if (ret)
		return ret;
	if (cfg.full) {
		cfg.max_size = 2 * FSX_FULL_ROOM * cfg.bs;
		cfg.max_len = FSX_FULL_ROOM * cfg.bs / 2;
		cfg.far = 0;
	}
	snprintf(cfg.dir, sizeof(cfg.dir), "%s/iomapctl-fsx-XXXXXX",
		 base ? base : "/tmp");
	if (!mkdtemp(cfg.dir)) {
		perror("fsx: mkdtemp");
		return 2;
	}
	memcpy(scratch, cfg.dir, sizeof(scratch));
	atexit(remove_scratch);
	ret = fsx_main(&cfg);
	return ret;
}
