// SPDX-License-Identifier: GPL-2.0
/* filefrag.c - `fiemap --filefrag`: extents in the format of `filefrag -v`
 * (e2fsprogs 1.47), in filesystem blocks, for scripts that parse it. */
#include <sys/vfs.h>
#include <linux/fiemap.h>

#include "iomapctl/imc.h"

void imc_print_filefrag(struct imc_ctx *ctx, const struct imc_file *f,
			const struct fiemap_extent *ext, size_t n);

static int digits(uint64_t v)
{
	int d = 1;

	while (v >= 10) {
		v /= 10;
		d++;
	}
	return d;
}

static void flag_words(const struct fiemap_extent *e, loff_t size, char *buf,
		       size_t len)
{
	static const struct {
		uint32_t flag;
		const char *word;
	} words[] = {
		{ FIEMAP_EXTENT_LAST, "last" },
		{ FIEMAP_EXTENT_UNKNOWN, "unknown_loc" },
		{ FIEMAP_EXTENT_DELALLOC, "delalloc" },
		{ FIEMAP_EXTENT_ENCODED, "encoded" },
		{ FIEMAP_EXTENT_DATA_ENCRYPTED, "encrypted" },
		{ FIEMAP_EXTENT_NOT_ALIGNED, "not_aligned" },
		{ FIEMAP_EXTENT_DATA_INLINE, "inline" },
		{ FIEMAP_EXTENT_DATA_TAIL, "tail_packed" },
		{ FIEMAP_EXTENT_UNWRITTEN, "unwritten" },
		{ FIEMAP_EXTENT_MERGED, "merged" },
		{ FIEMAP_EXTENT_SHARED, "shared" },
	};
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (e->fe_flags & words[i].flag)
			used += (size_t)snprintf(buf + used, len - used, "%s%s",
						 used ? "," : "", words[i].word);
	/* The pseudo-flag filefrag adds when the extent reaches i_size. */
	if (e->fe_logical + e->fe_length >= (uint64_t)size && used < len)
		snprintf(buf + used, len - used, "%seof", used ? "," : "");
}

/* Filesystem magic and size in blocks: the host's, or ext's for images. */
static void fs_info(const struct imc_file *f, unsigned long *magic,
		    uint64_t *blocks)
{
	struct statfs sfs;

	*magic = 0xef53;
	*blocks = 0;
	if (f->host_fd >= 0 && fstatfs(f->host_fd, &sfs) == 0) {
		*magic = (unsigned long)sfs.f_type;
		*blocks = sfs.f_blocks;
	}
}

void imc_print_filefrag(struct imc_ctx *ctx, const struct imc_file *f,
			const struct fiemap_extent *ext, size_t n)
{
	unsigned int bits = (unsigned int)__builtin_ctz(f->blksize);
	uint64_t nblocks = ((uint64_t)f->size + f->blksize - 1) >> bits;
	uint64_t pend = 0, lend = 0, fsblocks;
	int lw, pw, count = 0;
	unsigned long magic;
	char flags[160];

	fs_info(f, &magic, &fsblocks);
	lw = digits(nblocks) + 1 > 8 ? digits(nblocks) + 1 : 8;
	pw = digits(fsblocks) + 2 > 10 ? digits(fsblocks) + 2 : 10;
	fprintf(ctx->out, "Filesystem type is: %lx\nFile size of %s is %lld "
		"(%llu block%s of %u bytes)\n", magic, f->name,
		(long long)f->size, (unsigned long long)nblocks,
		nblocks == 1 ? "" : "s", f->blksize);
	if (n)
		fprintf(ctx->out, " ext: %*s %*s length: %*s flags:\n",
			lw * 2 + 3, "logical_offset:", pw * 2 + 3,
			"physical_offset:", pw + 1, "expected:");
	for (size_t i = 0; i < n; i++) {
		uint64_t l = ext[i].fe_logical >> bits;
		uint64_t p = ext[i].fe_physical >> bits;
		uint64_t len = ext[i].fe_length >> bits;
		/* Where this extent would be if the file were contiguous. */
		uint64_t expected = pend + (l - lend);
		bool shown = i == 0 ? l != 0 : p != expected && p != pend;

		if (i == 0 || shown)
			count++;
		fprintf(ctx->out, "%4zu: %*llu..%*llu: %*llu..%*llu: %6llu:", i,
			lw, (unsigned long long)l, lw,
			(unsigned long long)(l + len - 1), pw,
			(unsigned long long)p, pw,
			(unsigned long long)(p + len - 1),
			(unsigned long long)len);
		if (shown)
			fprintf(ctx->out, " %*llu:", pw, (unsigned long long)expected);
		else
			fprintf(ctx->out, " %*s", pw + 1, "");
		flag_words(&ext[i], f->size, flags, sizeof(flags));
		fprintf(ctx->out, "%s%s\n", flags[0] ? " " : "", flags);
		pend = p + len;
		lend = l + len;
	}
	fprintf(ctx->out, "%s: %d extent%s found\n", f->name, count,
		count == 1 ? "" : "s");
}
