/* SPDX-License-Identifier: GPL-2.0 */
/* cmd.h - the command definitions cmdtab.c collects into the table. */
#ifndef IOMAPCTL_CMD_CMD_H
#define IOMAPCTL_CMD_CMD_H

#include "iomapctl/imc.h"

struct fiemap_extent;

extern const struct imc_cmd imc_cmd_cat;
extern const struct imc_cmd imc_cmd_compare;
extern const struct imc_cmd imc_cmd_convert;
extern const struct imc_cmd imc_cmd_cp;
extern const struct imc_cmd imc_cmd_falloc;
extern const struct imc_cmd imc_cmd_fiemap;
extern const struct imc_cmd imc_cmd_fsck;
extern const struct imc_cmd imc_cmd_help;
extern const struct imc_cmd imc_cmd_ls;
extern const struct imc_cmd imc_cmd_map;
extern const struct imc_cmd imc_cmd_migrate;
extern const struct imc_cmd imc_cmd_mkfs;
extern const struct imc_cmd imc_cmd_mount;
extern const struct imc_cmd imc_cmd_probe;
extern const struct imc_cmd imc_cmd_punch;
extern const struct imc_cmd imc_cmd_reflink;
extern const struct imc_cmd imc_cmd_seek;
extern const struct imc_cmd imc_cmd_shell;
extern const struct imc_cmd imc_cmd_stat;
extern const struct imc_cmd imc_cmd_truncate;
extern const struct imc_cmd imc_cmd_write;
extern const struct imc_cmd imc_cmd_zero;

/*
 * dio.c: iomap_file_read()/iomap_file_write() of @f for any offset, length
 * and memory address; on the direct path unaligned edges go through bounce
 * buffers.  Bytes done (short at EOF, or before an error the next call
 * reports) or -errno.
 */
ssize_t imc_dio_pread(struct imc_file *f, void *buf, size_t len, loff_t pos);
ssize_t imc_dio_pwrite(struct imc_file *f, const void *buf, size_t len,
		       loff_t pos);

/* digest.c: FNV-1a 64 digests of results, for compare and convert. */
#define IMC_DIGEST_INIT 0xcbf29ce484222325ULL
void imc_digest(uint64_t *h, const void *p, size_t len);
/* Little-endian, so a digest means the same on every host. */
void imc_digest_u64(uint64_t *h, uint64_t v);
/*
 * Runs of one type, contiguous in the file (and on disk when @addr is not
 * IOMAP_NULL_ADDR), digested as one: every mapper agrees on those though bh
 * sees them a block at a time.
 */
struct imc_runs {
	uint64_t *h;
	bool have;
	uint64_t off, len, addr;
	unsigned int type;
};
void imc_runs_add(struct imc_runs *m, uint64_t off, uint64_t len,
		  unsigned int type, uint64_t addr);
/* Digests the run being grown, if any. */
void imc_runs_flush(struct imc_runs *m);
/*
 * The fiemap extents of [@off, @off + @len) as runs (LAST and MERGED
 * dropped, clipped to the range), with their physical addresses when
 * @phys; the SEEK_DATA/SEEK_HOLE segments from @off.  0 or -errno.
 */
int imc_digest_fiemap(struct imc_ctx *c, struct imc_file *f, uint64_t off,
		      uint64_t len, bool phys, uint64_t *h);
int imc_digest_seek(struct imc_ctx *c, struct imc_file *f, uint64_t off,
		    uint64_t *h);

/*
 * fmt.c: write a field at @p and return the end (no NUL).  The caller's
 * row buffer has room: a u64 takes at most 20 bytes, a column
 * max(width, length).  imc_fmt_col() pads [@s, @end) to @width, on the
 * right when @left (printf's "%-*s"), else on the left ("%*s").
 */
char *imc_fmt_u64(char *p, uint64_t v);
char *imc_fmt_i64(char *p, int64_t v);
char *imc_fmt_hex(char *p, uint64_t v); /* lower case, no "0x" */
char *imc_fmt_str(char *p, const char *s);
char *imc_fmt_col(char *p, const char *s, const char *end, int width,
		  bool left);
char *imc_fmt_u64_col(char *p, uint64_t v, int width); /* "%*llu" */
/*
 * One output buffer for rows built with the imc_fmt_* calls: a row goes in
 * at imc_wbuf_room(w, max row size) and is kept with imc_wbuf_put(w, end);
 * full buffers go to @out in one fwrite.  Flush before anything else
 * writes to @out.
 */
#define IMC_WBUF_SIZE 65536
struct imc_wbuf {
	FILE *out;
	size_t len;
	char buf[IMC_WBUF_SIZE];
};
char *imc_wbuf_room(struct imc_wbuf *w, size_t n);
void imc_wbuf_put(struct imc_wbuf *w, const char *end);
void imc_wbuf_flush(struct imc_wbuf *w);

/*
 * filefrag.c: `filefrag -v`'s output, streamed: begin prints the header,
 * each call of extents the rows of the next extents in file order, end the
 * count of fragments.
 */
struct imc_filefrag {
	struct imc_ctx *ctx;
	struct imc_wbuf *w; /* where the rows go */
	const struct imc_file *f;
	unsigned int bits; /* log2 of the block size */
	int lw, pw; /* logical and physical column widths */
	uint64_t pend, lend; /* where the last extent ended: block, lblk */
	size_t i; /* rows printed */
	int count; /* fragments: extents not continuing the one before */
};
void imc_filefrag_begin(struct imc_filefrag *ff, struct imc_ctx *ctx,
			const struct imc_file *f, struct imc_wbuf *w);
void imc_filefrag_extents(struct imc_filefrag *ff,
			  const struct fiemap_extent *ext, size_t n);
void imc_filefrag_end(struct imc_filefrag *ff);

#endif /* IOMAPCTL_CMD_CMD_H */
