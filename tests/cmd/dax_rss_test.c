// SPDX-License-Identifier: GPL-2.0
/* dax_rss_test.c - `--io=dax cp` in and out of an image keeps its resident
 * memory flat: the pages of the image mapping it copied through are not
 * left mapped (they counted as resident, a whole file's worth), and the
 * bytes still land in the image (cmp, e2fsck -fn). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "cmd_helpers.h"
#include "helpers.h"

/* Both stream through all of cp's chunk slots (six of 4 MiB), so what
 * differs is what the copy would keep mapped. */
#define SMALL_MIB 24
#define LARGE_MIB 64
#define RSS_SAME (16LL << 20) /* the same peak RSS, give or take */

static char *dir;

static void setup(void)
{
	dir = t_memdir();
}

static void teardown(void)
{
	t_tmpdir_remove(dir);
}

TestSuite(dax_rss, .init = setup, .fini = teardown);

/* Peak RSS in bytes of `iomapctl --io=dax cp SRC DST` run in dir. */
static long long dax_cp_rss(const char *src, const char *dst)
{
	const char *asan = getenv("ASAN_OPTIONS");
	struct rusage ru;
	int status;
	pid_t pid = fork();

	cr_assert_geq(pid, 0);
	if (pid == 0) {
		char *opts;

		/* ASan's quarantine of freed memory would be what is measured. */
		if (asprintf(&opts, "%s%squarantine_size_mb=0",
			     asan ? asan : "", asan ? ":" : "") < 0 ||
		    setenv("ASAN_OPTIONS", opts, 1) || chdir(dir))
			_exit(126);
		execl(IOMAPCTL_BINARY, IOMAPCTL_BINARY, "--io=dax", "cp", src,
		      dst, (char *)NULL);
		_exit(127);
	}
	cr_assert_eq(wait4(pid, &status, 0, &ru), pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		  "--io=dax cp %s %s: status 0x%x", src, dst, status);
	return (long long)ru.ru_maxrss * 1024;
}

Test(dax_rss, copies_do_not_keep_the_mapping_resident)
{
	long long in_small, in_large, out_small, out_large;
	char *img, *out;

	cr_assert(asprintf(&img, "%s/img", dir) > 0);
	cr_assert_eq(t_sh("cd %s && head -c %dM /dev/urandom >small && "
			  "head -c %dM /dev/urandom >large && "
			  "mke2fs -q -F -t ext4 img 256M",
			  dir, SMALL_MIB, LARGE_MIB),
		     0);
	if (!t_dax_maps(img))
		cr_skip_test("libpmem2 cannot map an image in %s", dir);
	in_small = dax_cp_rss("small", "img:/small");
	in_large = dax_cp_rss("large", "img:/large");
	out_small = dax_cp_rss("img:/small", "small.out");
	out_large = dax_cp_rss("img:/large", "large.out");
	cr_log_info("peak RSS: in %lld / %lld MiB, out %lld / %lld MiB",
		    in_small >> 20, in_large >> 20, out_small >> 20,
		    out_large >> 20);
	cr_assert_lt(in_large - in_small, RSS_SAME,
		     "dax cp in: %lld MiB for %d MiB, %lld MiB for %d MiB",
		     in_large >> 20, LARGE_MIB, in_small >> 20, SMALL_MIB);
	cr_assert_lt(out_large - out_small, RSS_SAME,
		     "dax cp out: %lld MiB for %d MiB, %lld MiB for %d MiB",
		     out_large >> 20, LARGE_MIB, out_small >> 20, SMALL_MIB);
	cr_assert_eq(t_sh("cd %s && cmp small small.out && cmp large large.out",
			  dir),
		     0, "a copy through the DAX mapping differs");
	cr_assert_eq(t_sh_out(&out, "e2fsck -fn %s 2>&1", img), 0,
		     "e2fsck -fn:\n%s", out);
	free(out);
	free(img);
}
