// SPDX-License-Identifier: GPL-2.0
/* ext2_enospc_test.c - running out of space on a nearly full image: the
 * operation fails with ENOSPC, the bytes before the failure are right,
 * nothing past EOF is readable or allocated as written data, no block
 * leaks, and `e2fsck -fn` is clean afterwards. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "helpers.h"
#include "iomapctl/imc.h"
#include "iomapctl/io.h"

struct img {
	char *dir;
	char path[512]; /* IMAGE:/f */
	unsigned int bs;
};

/*
 * An 8 MiB image with an empty /f and about @room KiB free.  @room 0 on
 * 4 KiB blocks is exactly the NEARLYFULL (a filler of 2002944
 * bytes, 1998848 on ext3: about 1.6 MB free); otherwise the filler is
 * sized from the free count.
 */
static void nearly_full(struct img *m, const char *type, unsigned int bs,
			unsigned int room)
{
	m->dir = t_tmpdir();
	m->bs = bs;
	snprintf(m->path, sizeof(m->path), "%s/img:/f", m->dir);
	if (!room)
		room = 1600 * bs / 1024;
	if (bs == 4096 && room == 6400) {
		cr_assert_eq(
			t_sh("cd %s && mkdir r && : >r/f && head -c %d "
			     "/dev/zero | tr '\\0' '\\252' >r/filler && "
			     "mke2fs -q -F -t %s -b 4096 -d r img 8M",
			     m->dir, strcmp(type, "ext3") ? 2002944 : 1998848,
			     type),
			0);
		return;
	}
	cr_assert_eq(t_sh("cd %s && mkdir r && : >r/f && "
			  "mke2fs -q -F -t %s -b %u -d r img 8M && "
			  "free=$(dumpe2fs -h img 2>/dev/null | "
			  "sed -n 's/^Free blocks: *//p') && "
			  "n=$(( free * %u - %u * 1024 )) && [ $n -gt 0 ] && "
			  "head -c $n /dev/zero | "
			  "tr '\\0' '\\252' >r/filler && "
			  "mke2fs -q -F -t %s -b %u -d r img 8M",
			  m->dir, type, bs, bs, room, type, bs),
		     0);
}

static void done(struct img *m)
{
	t_tmpdir_remove(m->dir);
}

static void fsck(const struct img *m, const char *what)
{
	char *out;
	int st = t_sh_out(&out, "e2fsck -fn %s/img 2>&1", m->dir);

	cr_assert_eq(st, 0, "%s: e2fsck -fn:\n%s", what, out);
	free(out);
}

/* `iomapctl ARGS` with "%s" in @args standing for IMAGE:/f: exit status. */
static int run(const struct img *m, const char *args)
{
	char cmd[1024]; /* args (< 512) plus the path (< 512) */

	snprintf(cmd, sizeof(cmd), args, m->path);
	return t_sh("%s -q %s >/dev/null 2>&1", IOMAPCTL_BINARY, cmd);
}

static unsigned long long size_of(const struct img *m)
{
	char *out;
	unsigned long long size;

	cr_assert_eq(t_sh_out(&out,
			      "debugfs -R 'stat /f' %s/img 2>/dev/null | "
			      "sed -n 's/.*Size: \\([0-9]*\\).*/\\1/p'",
			      m->dir),
		     0);
	size = strtoull(out, NULL, 10);
	free(out);
	return size;
}

/* Every written extent ends at or before EOF rounded up to the block. */
static void nothing_written_past_eof(const struct img *m, const char *what)
{
	unsigned long long eof = (size_of(m) + m->bs - 1) / m->bs * m->bs;
	char *out, *line;

	cr_assert_eq(t_sh_out(&out, "%s fiemap -v %s", IOMAPCTL_BINARY,
			      m->path),
		     0);
	for (line = out; line; line = strchr(line, '\n'), line += !!line) {
		unsigned long long s, e;
		char what_s[64] = "", tot[64], flags[64] = "0x0";

		if (sscanf(line, " %*u: [%llu..%llu]: %63s %63s %63s", &s, &e,
			   what_s, tot, flags) < 5 || !strcmp(what_s, "hole") ||
		    (strtoul(flags, NULL, 16) & 0x800))
			continue;
		cr_assert_leq((e + 1) * 512, eof,
			      "%s: written blocks past EOF %llu:\n%s", what,
			      eof, out);
	}
	free(out);
}

/* Bytes [@from, @to) of /f are all @byte (one read of the file, kept in
 * @dir/out for the next checks when @fresh is false). */
static void bytes_are(const struct img *m, unsigned long long from,
		      unsigned long long to, int byte, const char *what)
{
	char *out;
	unsigned long long all, other;

	if (to <= from)
		return;
	cr_assert_eq(t_sh("test -e %s/out || %s cat %s >%s/out", m->dir,
			  IOMAPCTL_BINARY, m->path, m->dir),
		     0);
	cr_assert_eq(t_sh_out(&out,
			      "cd %s && tail -c +%llu out | head -c %llu >o1 "
			      "&& wc -c <o1 && tr -d '\\%03o' <o1 | wc -c",
			      m->dir, from + 1, to - from, byte),
		     0);
	cr_assert_eq(sscanf(out, "%llu %llu", &all, &other), 2);
	free(out);
	cr_assert_eq(all, to - from, "%s: read %llu of [%llu, %llu)", what,
		     all, from, to);
	cr_assert_eq(other, 0, "%s: %llu bytes of [%llu, %llu) are not 0x%02x",
		     what, other, from, to, byte);
}

/*
 * A write far larger than the free space, through each data path and
 * mapper: it fails (or, until the write command reports short writes as
 * failures, stops short), what it wrote is right, and the image is clean.
 */
static void write_matrix(const char *type, unsigned int bs)
{
	static const char *const ios[] = { "buffered", "direct", "dax" };
	static const char *const mappers[] = { "iomap", "bh" };
	const unsigned long long pos = 64 << 10, len = 1 << 20;

	for (size_t i = 0; i < 3; i++) {
		for (size_t j = 0; j < 2; j++) {
			struct img m;
			char args[256], what[128];
			unsigned long long size;

			snprintf(what, sizeof(what), "%s %u %s/%s", type, bs,
				 ios[i], mappers[j]);
			nearly_full(&m, type, bs, 256);
			snprintf(args, sizeof(args),
				 "--io=%s --mapper=%s write --pattern 0x5a "
				 "--length %llu %%s %llu",
				 ios[i], mappers[j], len, pos);
			run(&m, args);
			fsck(&m, what);
			size = size_of(&m);
			cr_assert_lt(size, pos + len, "%s: size %llu", what,
				     size);
			bytes_are(&m, 0, pos < size ? pos : size, 0, what);
			bytes_are(&m, pos, size, 0x5a, what);
			nothing_written_past_eof(&m, what);
			done(&m);
		}
	}
}

Test(ext2_enospc, write_every_path_ext4_4k)
{
	write_matrix("ext4", 4096);
}

Test(ext2_enospc, write_every_path_ext4_1k)
{
	write_matrix("ext4", 1024);
}

/* The extent insert of a preallocation needs a tree block there is no
 * room for: the data blocks it took are given back (they leaked). */
Test(ext2_enospc, falloc_tree_split_does_not_leak)
{
	struct img m;

	nearly_full(&m, "ext4", 4096, 0);
	cr_assert_eq(run(&m, "write --pattern 0xb8 --length 876544 %s 466944"),
		     0);
	cr_assert_eq(run(&m, "punch %s 470261 6316"), 0);
	cr_assert_neq(run(&m, "falloc --keep-size %s 3687424 776896"), 0);
	fsck(&m, "write, punch, falloc -k");
	bytes_are(&m, 466944, 470261, 0xb8, "before the punch");
	bytes_are(&m, 470261, 476577, 0, "the punched range");
	bytes_are(&m, 476577, 466944 + 876544, 0xb8, "after the punch");
	done(&m);
}

/* falloc out of space part way: i_size covers what was allocated, as
 * ext4_alloc_file_blocks() advances it (e2fsck flagged the blocks past a
 * size of 0 on ext2/ext3; ext4 kept them unwritten on an empty file). */
static void falloc_enospc(const char *type, unsigned int bs)
{
	struct img m;
	unsigned long long size;

	nearly_full(&m, type, bs, 0);
	cr_assert_neq(run(&m, "falloc %s 0 4m"), 0);
	fsck(&m, type);
	size = size_of(&m);
	cr_assert_gt(size, 1 << 20, "%s %u: size %llu", type, bs, size);
	cr_assert_lt(size, 4 << 20);
	bytes_are(&m, 0, size, 0, type);
	done(&m);
}

Test(ext2_enospc, falloc_advances_size_ext3_4k)
{
	falloc_enospc("ext3", 4096);
}

Test(ext2_enospc, falloc_advances_size_ext4_4k)
{
	falloc_enospc("ext4", 4096);
}

Test(ext2_enospc, falloc_advances_size_ext4_1k)
{
	falloc_enospc("ext4", 1024);
}

/*
 * A direct write that runs out of space; growing the file afterwards must
 * show zeros past the old EOF, not the write's bytes.  (Since unaligned
 * edges are bounced, the write stops at a block boundary here; the
 * stale_tail cases below make a mid-block EOF with debugfs.)
 */
Test(ext2_enospc, failed_direct_write_tail_not_exposed)
{
	struct img m;
	unsigned long long size;

	nearly_full(&m, "ext4", 4096, 0);
	cr_assert_neq(
		run(&m, "--io=direct write --pattern 0x24 --length 1633280 %s 240640"),
		0);
	size = size_of(&m);
	cr_assert_eq(run(&m, "falloc %s 1290240 4096"), 0);
	fsck(&m, "falloc after a failed direct write");
	bytes_are(&m, 240640, size, 0x24, "the write");
	bytes_are(&m, size, (size + 4095) / 4096 * 4096, 0, "past old EOF");
	done(&m);
}

/*
 * Stale bytes past EOF in the last block (what a failed write leaves; made
 * here with debugfs): every way of growing the file must zero them.
 */
static void stale_tail(unsigned int bs, const char *grow)
{
	struct img m;

	m.dir = t_tmpdir();
	m.bs = bs;
	snprintf(m.path, sizeof(m.path), "%s/img:/f", m.dir);
	cr_assert_eq(t_sh("cd %s && mkdir r && : >r/f && "
			  "mke2fs -q -F -t ext4 -b %u -d r img 8M",
			  m.dir, bs),
		     0);
	cr_assert_eq(run(&m, "write --pattern 0x24 --length 8192 %s 0"), 0);
	cr_assert_eq(t_sh("debugfs -w -R 'sif /f size 7192' %s/img "
			  ">/dev/null 2>&1",
			  m.dir),
		     0);
	cr_assert_eq(run(&m, grow), 0, "%s", grow);
	fsck(&m, grow);
	bytes_are(&m, 0, 7192, 0x24, grow);
	bytes_are(&m, 7192, 8192, 0, grow);
	done(&m);
}

Test(ext2_enospc, falloc_zeroes_old_eof_tail_1k)
{
	stale_tail(1024, "falloc %s 12288 4096");
}

Test(ext2_enospc, falloc_zeroes_old_eof_tail_4k)
{
	stale_tail(4096, "falloc %s 12288 4096");
}

Test(ext2_enospc, truncate_up_zeroes_old_eof_tail)
{
	stale_tail(4096, "truncate %s 20000");
}

Test(ext2_enospc, zero_zeroes_old_eof_tail)
{
	stale_tail(1024, "zero %s 12288 4096");
}

/* The buffer-head mapper allocates block by block: a write that fails
 * part way left written blocks past the final size. */
static void bh_past_eof(const char *type)
{
	struct img m;

	nearly_full(&m, type, 4096, 0);
	run(&m, "--mapper=bh write --pattern 0x28 --length 2030080 %s "
		"7339520");
	fsck(&m, type);
	nothing_written_past_eof(&m, type);
	bytes_are(&m, 7339520, size_of(&m), 0x28, type);
	done(&m);
}

Test(ext2_enospc, bh_write_frees_past_eof_ext4)
{
	bh_past_eof("ext4");
}

Test(ext2_enospc, bh_write_frees_past_eof_ext3)
{
	bh_past_eof("ext3");
}

/*
 * Sectors [s, e] of every extent (written or unwritten) of /f that lies
 * past EOF, as "s-e;" (the KEEP_SIZE preallocations and anything else).
 */
static char *extents_past_eof(const struct img *m)
{
	unsigned long long eof = (size_of(m) + m->bs - 1) / m->bs * m->bs;
	char *out, *line, *res;
	size_t n = 0, cap;

	cr_assert_eq(
		t_sh_out(&out, "%s fiemap -v %s", IOMAPCTL_BINARY, m->path), 0);
	cap = strlen(out) + 1;
	res = calloc(1, cap);
	cr_assert(res);
	for (line = out; line; line = strchr(line, '\n'), line += !!line) {
		unsigned long long s, e;
		char what[64] = "";

		if (sscanf(line, " %*u: [%llu..%llu]: %63s", &s, &e, what) <
			    3 ||
		    !strcmp(what, "hole") || (e + 1) * 512 <= eof)
			continue;
		n += (size_t)snprintf(res + n, cap - n, "%llu-%llu;",
				      s * 512 < eof ? eof / 512 : s, e);
	}
	free(out);
	return res;
}

/* A direct write that runs out of space gives back what it allocated past
 * the final EOF (the kernel truncates it), never a KEEP_SIZE
 * preallocation that was there before. */
static void direct_enospc_past_eof(unsigned int bs)
{
	struct img m;
	char *past;

	nearly_full(&m, "ext4", bs, bs == 4096 ? 0 : 1200);
	cr_assert_eq(run(&m, "falloc --keep-size %s 6291456 65536"), 0);
	run(&m, "--io=direct write --pattern 0x26 --length 4000000 %s 40960");
	fsck(&m, "failed direct write");
	cr_assert_lt(size_of(&m), 40960 + 4000000ULL, "the write failed");
	past = extents_past_eof(&m);
	cr_expect_str_eq(past, "12288-12415;",
			 "%u: extents past EOF %s, only the preallocation "
			 "expected",
			 bs, past);
	free(past);
	done(&m);
}

Test(ext2_enospc, failed_direct_write_frees_past_eof_4k)
{
	direct_enospc_past_eof(4096);
}

Test(ext2_enospc, failed_direct_write_frees_past_eof_1k)
{
	direct_enospc_past_eof(1024);
}

/* One session, as the shell and fsx keep it: the image and /f open across
 * the steps, through imc under --io=@io --mapper=@mapper. */
struct session {
	struct imc_ctx ctx;
	struct imc_file f;
	struct iomap_space_ops ops;
};

static void session_open(struct session *s, const struct img *m,
			 const char *io, const char *mapper)
{
	imc_ctx_init(&s->ctx);
	cr_assert_eq(imc_set_global(&s->ctx, "io", io), 0);
	cr_assert_eq(imc_set_global(&s->ctx, "mapper", mapper), 0);
	cr_assert_eq(imc_file_open_flags(&s->ctx, m->path, IMC_OPEN_RDWR,
					 &s->f),
		     0);
	cr_assert_eq(imc_file_io(&s->f), 0);
	imc_file_space_ops(&s->f, &s->ops);
}

static void session_close(struct session *s)
{
	cr_assert_eq(imc_file_close(&s->f), 0);
	cr_assert_eq(imc_fs_sync(&s->ctx), 0);
	imc_fs_close(&s->ctx);
	imc_ctx_fini(&s->ctx);
}

/* Nothing but zeros in [@from, @to) of the open file. */
static void session_zeros(struct session *s, loff_t from, loff_t to,
			  const char *what)
{
	static char buf[1 << 16];

	for (loff_t pos = from; pos < to;) {
		size_t n = (size_t)(to - pos) < sizeof(buf) ?
				   (size_t)(to - pos) :
				   sizeof(buf);
		ssize_t r = imc_file_pread(&s->f, buf, n, pos);

		cr_assert_gt(r, 0, "%s: read at %lld: %zd", what,
			     (long long)pos, r);
		for (ssize_t i = 0; i < r; i++)
			cr_assert_eq(buf[i], 0, "%s: byte at %lld is 0x%02x",
				     what, (long long)pos + i,
				     (unsigned char)buf[i]);
		pos += r;
	}
}

/*
 * Buffer heads allocate a direct write's blocks in get_block, one at a
 * time, without ->iomap_end: when the write then runs out of space, its
 * blocks past EOF, holding its data, must go at once.  Kept until the
 * inode was released, a falloc in the same session took them back as
 * written blocks and the size moved over the refused write's bytes
 * (found by iomapctl-fsx --full --io direct --mapper bh, seed 3).
 */
Test(ext2_enospc, failed_bh_direct_write_data_not_exposed_by_falloc)
{
	static const char *const mappers[] = { "bh", "iomap", "hybrid" };

	for (size_t i = 0; i < 3; i++) {
		struct session s;
		struct img m;
		size_t len = 4 << 20;
		char *buf;
		loff_t size;

		nearly_full(&m, "ext4", 4096, 0);
		cr_assert_eq(posix_memalign((void **)&buf, 4096, len), 0);
		memset(buf, 0xdd, len);
		session_open(&s, &m, "direct", mappers[i]);
		cr_assert_lt(imc_file_pwrite(&s.f, buf, len, 0), (ssize_t)len,
			     "%s: the write must run out of space", mappers[i]);
		size = s.f.inode->size;
		/* Up to what the write covered: allocation stops at ENOSPC,
		 * the size follows what it allocated. */
		iomap_file_falloc(s.f.io, &s.ops, size, len - (size_t)size,
				  false);
		session_zeros(&s, size, s.f.inode->size, mappers[i]);
		session_close(&s);
		fsck(&m, mappers[i]);
		free(buf);
		done(&m);
	}
}
