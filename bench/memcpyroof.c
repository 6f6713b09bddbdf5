// SPDX-License-Identifier: GPL-2.0
/* memcpyroof.c - the roofline of a DAX copy-in: a plain memcpy of SRC's
 * bytes into a new file DST mapped shared, 1 MiB at a time, as a program
 * with no filesystem in between would copy into a DAX file (or a file in
 * /dev/shm): the same bytes, the same fresh destination pages to fault
 * in.  Prints the seconds it took. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "iomapctl/stats.h"

#define CHUNK (1UL << 20)

int main(int argc, char **argv)
{
	struct stat st;
	uint8_t *src, *dst;
	uint64_t t0;
	int sfd, dfd;

	if (argc != 3) {
		fprintf(stderr, "usage: memcpyroof SRC DST\n");
		return 2;
	}
	sfd = open(argv[1], O_RDONLY);
	dfd = open(argv[2], O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (sfd < 0 || dfd < 0 || fstat(sfd, &st) || !st.st_size ||
	    ftruncate(dfd, st.st_size)) {
		perror("memcpyroof");
		return 1;
	}
	/* The source is read from the host's page cache, as cp reads it. */
	src = mmap(NULL, (size_t)st.st_size, PROT_READ,
		   MAP_SHARED | MAP_POPULATE, sfd, 0);
	dst = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE,
		   MAP_SHARED, dfd, 0);
	if (src == MAP_FAILED || dst == MAP_FAILED) {
		perror("memcpyroof: mmap");
		return 1;
	}
	t0 = iomap_stats_now_ns();
	for (size_t off = 0; off < (size_t)st.st_size; off += CHUNK) {
		size_t n = (size_t)st.st_size - off < CHUNK ?
				   (size_t)st.st_size - off :
				   CHUNK;

		memcpy(dst + off, src + off, n);
	}
	printf("%.4f\n", (double)(iomap_stats_now_ns() - t0) / 1e9);
	return 0;
}
