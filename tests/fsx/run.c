// SPDX-License-Identifier: GPL-2.0
/* run.c - one run: a copy of the pristine image and an empty host file,
 * each operation applied to both through its own table entry, the bytes
 * and sizes compared as it goes. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fsx.h"
#include "iomapctl/imc.h"
#include "iomapctl/native.h"

#define FSX_CHUNK (1U << 20)

struct fsx_run {
	const struct fsx_cfg *cfg;
	char img[PATH_MAX];
	char host[PATH_MAX];
	char spec[PATH_MAX + 8]; /* IMAGE:/f */
	int hfd;
	int gfd; /* the model of /g, the clone; -1 before the first */
	struct imc_ctx ctx;
	struct imc_file f;
	bool open;
	uint8_t *a, *b; /* 4 KiB aligned, FSX_CHUNK or max_len + 8 KiB */
	size_t bufsize;
	struct fsx_fail *fail;
	unsigned long opno;
	FILE *devnull;
};

const char *const fsx_kind_names[FSX_NKINDS] = {
	[FSX_READ] = "read",	 [FSX_WRITE] = "write",
	[FSX_ZERO] = "zero",	 [FSX_TRUNCATE] = "truncate",
	[FSX_FALLOC] = "falloc", [FSX_PUNCH] = "punch",
	[FSX_SYNC] = "sync",	 [FSX_REOPEN] = "reopen",
	[FSX_CLONE] = "clone",
};

int fsx_list_push(struct fsx_list *list, const struct fsx_op *op)
{
	if (list->n == list->cap) {
		unsigned long cap = list->cap ? 2 * list->cap : 1024;
		struct fsx_op *ops = realloc(list->ops, cap * sizeof(*ops));

		if (!ops)
			return -ENOMEM;
		list->ops = ops;
		list->cap = cap;
	}
	list->ops[list->n++] = *op;
	return 0;
}

static int run_open(struct fsx_run *r)
{
	int ret = imc_file_open_flags(&r->ctx, r->spec, IMC_OPEN_RDWR, &r->f);

	if (ret)
		return fsx_failf(r->fail, FSX_AT_OP, r->opno,
				 "opening %s failed", r->spec);
	ret = imc_file_io(&r->f);
	if (ret) {
		imc_file_close(&r->f);
		return fsx_failf(r->fail, FSX_AT_OP, r->opno,
				 "binding %s to --io=%s: %s", r->spec,
				 r->cfg->io, strerror(-ret));
	}
	r->open = true;
	return 0;
}

/* Writeback, metadata, and the image closed: the next open starts cold. */
static int run_close(struct fsx_run *r)
{
	int ret = 0, r2;

	if (!r->open)
		return 0;
	r->open = false;
	ret = imc_file_close(&r->f);
	r2 = imc_fs_sync(&r->ctx);
	imc_fs_close(&r->ctx);
	ret = ret ? ret : r2;
	if (ret)
		return fsx_failf(r->fail, FSX_AT_OP, r->opno,
				 "close and sync: %s", strerror(-ret));
	return 0;
}

static uint64_t host_size(struct fsx_run *r)
{
	off_t end = lseek(r->hfd, 0, SEEK_END);

	return end < 0 ? 0 : (uint64_t)end;
}

/* All of [@pos, @pos + @len) up to EOF; bytes read or -errno. */
static ssize_t img_read(struct fsx_run *r, uint8_t *buf, size_t len,
			uint64_t pos)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = imc_file_pread(&r->f, buf + done, len - done,
					   (loff_t)(pos + done));

		if (n < 0)
			return n;
		if (n == 0)
			break;
		done += (size_t)n;
	}
	return (ssize_t)done;
}

/* The model's bytes, zeros past its EOF (@buf is filled whole). */
static ssize_t host_read(struct fsx_run *r, uint8_t *buf, size_t len,
			 uint64_t pos)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = pread(r->hfd, buf + done, len - done,
				  (off_t)(pos + done));

		if (n < 0) {
			perror("fsx: host read");
			exit(2);
		}
		if (n == 0)
			break;
		done += (size_t)n;
	}
	memset(buf + done, 0, len - done);
	return (ssize_t)done;
}

/* The image's bytes of [@pos, @pos + @n) into r->b, the model's into r->a;
 * all of them must be there. */
static int read_both(struct fsx_run *r, uint64_t pos, size_t n,
		     enum fsx_stage stage)
{
	ssize_t got = img_read(r, r->b, n, pos);

	if (got != (ssize_t)n)
		return fsx_failf(r->fail, stage, r->opno,
				 "reading back %llu+%zu: %zd",
				 (unsigned long long)pos, n, got);
	host_read(r, r->a, n, pos);
	return 0;
}

static int op_read(struct fsx_run *r, const struct fsx_op *op)
{
	uint8_t *got = r->b + op->skew;
	ssize_t want = host_read(r, r->a, op->len, op->off);
	ssize_t n = img_read(r, got, op->len, op->off);

	if (n < 0)
		return fsx_failf(r->fail, FSX_AT_OP, r->opno,
				 "read %llu+%llu failed: %s",
				 (unsigned long long)op->off,
				 (unsigned long long)op->len,
				 strerror((int)-n));
	if (n != want)
		return fsx_failf(r->fail, FSX_AT_OP, r->opno,
				 "read %llu+%llu returned %zd bytes, want %zd",
				 (unsigned long long)op->off,
				 (unsigned long long)op->len, n, want);
	for (ssize_t i = 0; i < n; i++)
		if (got[i] != r->a[i])
			return fsx_failf(r->fail, FSX_AT_OP, r->opno,
					 "read %llu+%llu: byte at %llu is "
					 "0x%02x, want 0x%02x",
					 (unsigned long long)op->off,
					 (unsigned long long)op->len,
					 (unsigned long long)op->off + i,
					 got[i], r->a[i]);
	return 0;
}

static void fill_pattern(uint8_t *buf, const struct fsx_op *op)
{
	for (uint64_t i = 0; i < op->len; i++)
		buf[i] = fsx_pattern(op->tag, op->off + i);
}

static int img_write(struct fsx_run *r, const struct fsx_op *op)
{
	uint8_t *buf = r->b + op->skew;
	uint64_t done = 0;

	fill_pattern(buf, op);
	while (done < op->len) {
		ssize_t w = imc_file_pwrite(&r->f, buf + done, op->len - done,
					    (loff_t)(op->off + done));

		if (w <= 0)
			return w ? (int)w : -EIO;
		done += (uint64_t)w;
	}
	return 0;
}

static int host_write(struct fsx_run *r, const struct fsx_op *op)
{
	uint64_t done = 0;

	fill_pattern(r->a, op);
	while (done < op->len) {
		ssize_t w = pwrite(r->hfd, r->a + done, op->len - done,
				   (off_t)(op->off + done));

		if (w <= 0)
			return w ? -errno : -EIO;
		done += (uint64_t)w;
	}
	return 0;
}

/* The engine sequences the `zero`, `falloc`, `punch` and `truncate`
 * commands call (cmd/zero.c and the others). */
static int img_space(struct fsx_run *r, const struct fsx_op *op)
{
	struct iomap_space_ops ops;
	loff_t off = (loff_t)op->off;

	imc_file_space_ops(&r->f, &ops);
	switch (op->kind) {
	case FSX_ZERO:
		return iomap_file_falloc_zero(r->f.io, &ops, off, op->len,
					      op->keep);
	case FSX_FALLOC:
		return iomap_file_falloc(r->f.io, &ops, off, op->len, op->keep);
	case FSX_PUNCH:
		return iomap_file_punch(r->f.io, &ops, off, op->len);
	default:
		return iomap_file_setsize(r->f.io, &ops, (loff_t)op->len);
	}
}

/* tmpfs has no ZERO_RANGE: the same bytes and size by punch and grow. */
static int host_zero_emulated(struct fsx_run *r, const struct fsx_op *op)
{
	uint64_t end = op->off + op->len;

	if (fallocate(r->hfd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
		      (off_t)op->off, (off_t)op->len))
		return -errno;
	if (!op->keep && end > host_size(r) && ftruncate(r->hfd, (off_t)end))
		return -errno;
	return 0;
}

static int host_space(struct fsx_run *r, const struct fsx_op *op)
{
	int mode = op->keep ? FALLOC_FL_KEEP_SIZE : 0;

	if (op->kind == FSX_TRUNCATE)
		return ftruncate(r->hfd, (off_t)op->len) ? -errno : 0;
	if (op->kind == FSX_ZERO)
		mode |= FALLOC_FL_ZERO_RANGE;
	else if (op->kind == FSX_PUNCH)
		mode = FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE;
	if (!fallocate(r->hfd, mode, (off_t)op->off, (off_t)op->len))
		return 0;
	if (errno == EOPNOTSUPP && op->kind == FSX_ZERO)
		return host_zero_emulated(r, op);
	return -errno;
}

static int img_sync(struct fsx_run *r, const struct fsx_op *op)
{
	int ret = iomap_file_sync(r->f.io);

	(void)op;
	if (!ret && r->ctx.fs->ops->sync)
		ret = r->ctx.fs->ops->sync(r->ctx.fs);
	return ret;
}

static int host_nop(struct fsx_run *r, const struct fsx_op *op)
{
	(void)r;
	(void)op;
	return 0;
}

/* The range a failed op may have touched, and what it would have put
 * there at @pos (@old: the byte before). */
static void op_range(const struct fsx_op *op, uint64_t old_size,
		     uint64_t *start, uint64_t *end)
{
	if (op->kind == FSX_TRUNCATE) {
		*start = op->len < old_size ? op->len : old_size;
		*end = op->len < old_size ? old_size : op->len;
	} else {
		*start = op->off;
		*end = op->off + op->len;
	}
}

static uint8_t op_byte(const struct fsx_op *op, uint64_t pos, uint8_t old)
{
	if (op->kind == FSX_WRITE)
		return fsx_pattern(op->tag, pos);
	return op->kind == FSX_FALLOC ? old : 0;
}

/*
 * The image refused @op with ENOSPC (or EOPNOTSUPP: falloc of blocks past
 * EOF where only extents can hold them): its size must lie between the old one
 * and the op's reach, nothing outside the op's range may have changed, and
 * each byte inside holds its old value or the op's.  Then the model takes
 * the image's bytes of the range, as the op's outcome.
 */
static int check_refused(struct fsx_run *r, const struct fsx_op *op, int err)
{
	uint64_t old = host_size(r), now = (uint64_t)r->f.inode->size;
	uint64_t rs, re, lo, hi, end;

	op_range(op, old, &rs, &re);
	if (err == -EOPNOTSUPP)
		re = rs; /* refused up front: nothing may change */
	lo = rs < old ? rs : old;
	hi = re > old ? re : old;
	if (now < lo || now > hi)
		return fsx_failf(r->fail, FSX_AT_OP, r->opno,
				 "refused %s: size %llu, want %llu to %llu",
				 fsx_kind_names[op->kind],
				 (unsigned long long)now,
				 (unsigned long long)lo,
				 (unsigned long long)hi);
	for (uint64_t pos = 0; pos < now; pos += FSX_CHUNK) {
		size_t n = now - pos < FSX_CHUNK ? now - pos : FSX_CHUNK;

		if (read_both(r, pos, n, FSX_AT_OP))
			return 1;
		for (size_t i = 0; i < n; i++) {
			uint64_t p = pos + i;
			bool in = p >= rs && p < re;

			if (r->b[i] == r->a[i] ||
			    (in && r->b[i] == op_byte(op, p, r->a[i])))
				continue;
			return fsx_failf(r->fail, FSX_AT_OP, r->opno,
					 "refused %s: byte at %llu (%s its "
					 "range) is 0x%02x, was 0x%02x",
					 fsx_kind_names[op->kind],
					 (unsigned long long)p,
					 in ? "inside" : "outside", r->b[i],
					 r->a[i]);
		}
	}
	/* Resync the model: the image's size and bytes of the range. */
	if (ftruncate(r->hfd, (off_t)now))
		return fsx_failf(r->fail, FSX_AT_OP, r->opno, "host truncate");
	end = re < now ? re : now;
	for (uint64_t pos = rs; pos < end; pos += FSX_CHUNK) {
		size_t n = end - pos < FSX_CHUNK ? end - pos : FSX_CHUNK;

		if (img_read(r, r->b, n, pos) != (ssize_t)n ||
		    pwrite(r->hfd, r->b, n, (off_t)pos) != (ssize_t)n)
			return fsx_failf(r->fail, FSX_AT_OP, r->opno,
					 "resync of %llu+%zu failed",
					 (unsigned long long)pos, n);
	}
	if (err == -ENOSPC)
		r->fail->nr_enospc++;
	else
		r->fail->nr_unsupported++;
	return 0;
}

/* Each kind: what it does to the image and to the model. */
struct fsx_kind_ops {
	int (*img)(struct fsx_run *r, const struct fsx_op *op);
	int (*host)(struct fsx_run *r, const struct fsx_op *op);
};

static const struct fsx_kind_ops kind_ops[FSX_NKINDS] = {
	[FSX_WRITE] = { img_write, host_write },
	[FSX_ZERO] = { img_space, host_space },
	[FSX_TRUNCATE] = { img_space, host_space },
	[FSX_FALLOC] = { img_space, host_space },
	[FSX_PUNCH] = { img_space, host_space },
	[FSX_SYNC] = { img_sync, host_nop },
};

static int check_size(struct fsx_run *r, const char *when)
{
	uint64_t want = host_size(r), have = (uint64_t)r->f.inode->size;

	if (have != want)
		return fsx_failf(r->fail, FSX_AT_OP, r->opno,
				 "%s: size is %llu, want %llu", when,
				 (unsigned long long)have,
				 (unsigned long long)want);
	return 0;
}

/* Host file @from's bytes and size become @to's. */
static void host_copy(struct fsx_run *r, int from, int to)
{
	off_t size = lseek(from, 0, SEEK_END);

	for (off_t pos = 0; size >= 0 && pos < size;) {
		size_t n = size - pos < FSX_CHUNK ? (size_t)(size - pos) :
						    FSX_CHUNK;

		if (pread(from, r->a, n, pos) != (ssize_t)n ||
		    pwrite(to, r->a, n, pos) != (ssize_t)n)
			size = -1;
		pos += (off_t)n;
	}
	if (size < 0 || ftruncate(to, size)) {
		perror("fsx: host copy");
		exit(2);
	}
}

/* Image file /g against its model, read through the data path. */
static int check_clone(struct fsx_run *r, enum fsx_stage stage)
{
	char spec[PATH_MAX + 8];
	struct imc_file g;
	off_t size = lseek(r->gfd, 0, SEEK_END);
	int ret;

	snprintf(spec, sizeof(spec), "%s:/g", r->img);
	if (imc_file_open(&r->ctx, spec, &g))
		return fsx_failf(r->fail, stage, r->opno, "opening /g failed");
	ret = g.size == size ? 0 :
			       fsx_failf(r->fail, stage, r->opno,
					 "/g: size %lld, want %lld",
					 (long long)g.size, (long long)size);
	for (off_t pos = 0; !ret && pos < size; pos += FSX_CHUNK) {
		size_t n = size - pos < FSX_CHUNK ? (size_t)(size - pos) :
						    FSX_CHUNK;
		ssize_t got = imc_file_pread(&g, r->b, n, pos);

		if (got != (ssize_t)n || pread(r->gfd, r->a, n, pos) != got ||
		    memcmp(r->a, r->b, n))
			ret = fsx_failf(r->fail, stage, r->opno,
					"/g differs from its model in "
					"%lld+%zu (it shares blocks with /f)",
					(long long)pos, n);
	}
	imc_file_close(&g);
	return ret;
}

/* The model of /f (@f) or /g takes the image's bytes and size. */
static int resync_model(struct fsx_run *r, bool f)
{
	char spec[PATH_MAX + 8];
	struct imc_file g;
	struct imc_file *src = f ? &r->f : &g;
	int fd = f ? r->hfd : r->gfd, ret = 0;

	snprintf(spec, sizeof(spec), "%s:/g", r->img);
	if (!f && imc_file_open(&r->ctx, spec, &g))
		return fsx_failf(r->fail, FSX_AT_OP, r->opno, "opening /g");
	if (ftruncate(fd, src->inode->size))
		ret = -errno;
	for (loff_t pos = 0; !ret && pos < src->inode->size;) {
		ssize_t n = imc_file_pread(src, r->b, FSX_CHUNK, pos);

		if (n <= 0 || pwrite(fd, r->b, (size_t)n, pos) != n)
			ret = -EIO;
		pos += n > 0 ? n : 0;
	}
	if (!f)
		imc_file_close(&g);
	return ret ? fsx_failf(r->fail, FSX_AT_OP, r->opno,
			       "resync of %s failed", f ? "/f" : "/g") :
		     0;
}

/* /@from's contents become /@to's by reflink, in a closed image: no
 * page cache or buffer head of the file sees its blocks change. */
static int img_clone(struct fsx_run *r, const char *from, const char *to)
{
	char spec[PATH_MAX + 8];
	struct imc_file d;
	struct fsa_fs *fs;
	uint64_t src;
	int ret;

	snprintf(spec, sizeof(spec), "%s:%s", r->img, to);
	if (imc_file_open_flags(&r->ctx, spec, IMC_OPEN_RDWR | IMC_OPEN_CREATE,
				&d))
		return -EIO;
	imc_file_close(&d);
	fs = r->ctx.fs;
	ret = fs->ops->lookup(fs, from, &src);
	if (!ret)
		ret = fs->ops->reflink ? fs->ops->reflink(fs, src, d.ino) :
					 -EOPNOTSUPP;
	return ret ? ret : imc_fs_sync(&r->ctx);
}

static int run_clone(struct fsx_run *r, const struct fsx_op *op)
{
	bool back = op->keep;
	int ret = run_close(r);

	if (ret || (back && r->gfd < 0))
		return ret ? ret : run_open(r);
	/* The clone kept its bytes while /f changed: check before reuse. */
	if (r->gfd >= 0 && (ret = check_clone(r, FSX_AT_OP)))
		return ret;
	ret = img_clone(r, back ? "/g" : "/f", back ? "/f" : "/g");
	if (ret && ret != -ENOSPC)
		return fsx_failf(r->fail, FSX_AT_OP, r->opno, "clone: %s",
				 strerror(-ret));
	if (r->gfd < 0) {
		char path[PATH_MAX + 8];

		snprintf(path, sizeof(path), "%s.g", r->host);
		r->gfd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC,
			      0644);
		if (r->gfd < 0) {
			perror("fsx: host clone");
			exit(2);
		}
	}
	if (!ret) {
		host_copy(r, back ? r->gfd : r->hfd, back ? r->hfd : r->gfd);
		ret = run_open(r);
		return ret ? ret : check_size(r, "clone");
	}
	/* Out of space part way: the destination is what the image says. */
	imc_fs_sync(&r->ctx);
	r->fail->nr_enospc++;
	ret = run_open(r);
	return ret ? ret : resync_model(r, back);
}

static int run_op(struct fsx_run *r, const struct fsx_op *op)
{
	const struct fsx_kind_ops *k = &kind_ops[op->kind];
	int ret;

	r->fail->nr_kind[op->kind]++;
	if (op->kind == FSX_READ)
		return op_read(r, op);
	if (op->kind == FSX_REOPEN) {
		ret = run_close(r);
		return ret ? ret : run_open(r);
	}
	if (op->kind == FSX_CLONE)
		return run_clone(r, op);
	ret = k->img(r, op);
	if (ret == -ENOSPC || (ret == -EOPNOTSUPP && (op->kind == FSX_FALLOC ||
						      op->kind == FSX_ZERO)))
		return check_refused(r, op, ret);
	if (ret)
		return fsx_failf(r->fail, FSX_AT_OP, r->opno, "%s: %s",
				 fsx_kind_names[op->kind], strerror(-ret));
	ret = k->host(r, op);
	if (ret) {
		fprintf(stderr, "fsx: host %s: %s\n", fsx_kind_names[op->kind],
			strerror(-ret));
		exit(2);
	}
	return check_size(r, fsx_kind_names[op->kind]);
}

/* The whole file against the model, in chunks. */
static int compare_all(struct fsx_run *r, enum fsx_stage stage)
{
	uint64_t size = host_size(r);

	if (r->f.inode->size != (loff_t)size)
		return fsx_failf(r->fail, stage, r->opno,
				 "size is %llu, want %llu",
				 (unsigned long long)r->f.inode->size,
				 (unsigned long long)size);
	for (uint64_t pos = 0; pos < size; pos += FSX_CHUNK) {
		size_t n = size - pos < FSX_CHUNK ? size - pos : FSX_CHUNK;

		if (read_both(r, pos, n, stage))
			return 1;
		for (size_t i = 0; i < n; i++)
			if (r->a[i] != r->b[i])
				return fsx_failf(r->fail, stage, r->opno,
						 "byte at %llu is 0x%02x, "
						 "want 0x%02x",
						 (unsigned long long)(pos + i),
						 r->b[i], r->a[i]);
	}
	return 0;
}

int fsx_layout_add(struct fsx_layout *l, uint64_t start, uint64_t end)
{
	if (l->n == l->cap) {
		unsigned long cap = l->cap ? 2 * l->cap : 64;
		uint64_t(*seg)[2] = realloc(l->seg, cap * sizeof(*seg));

		if (!seg)
			return -ENOMEM;
		l->seg = seg;
		l->cap = cap;
	}
	l->seg[l->n][0] = start;
	l->seg[l->n][1] = end;
	l->n++;
	return 0;
}

/* Our SEEK_DATA/SEEK_HOLE answers, through the chosen mapper. */
static int our_layout(struct fsx_run *r, struct fsx_layout *l)
{
	loff_t size = r->f.inode->size, pos = 0, data, hole;

	while (pos < size) {
		data = imc_file_seek(&r->ctx, &r->f, pos, SEEK_DATA);
		if (data == -ENXIO)
			break;
		hole = data < 0 ?
			       data :
			       imc_file_seek(&r->ctx, &r->f, data, SEEK_HOLE);
		if (hole < 0)
			return fsx_failf(r->fail, FSX_AT_END, r->opno,
					 "seek from %lld: %s", (long long)pos,
					 strerror((int)-hole));
		if (hole <= data ||
		    fsx_layout_add(l, (uint64_t)data, (uint64_t)hole))
			return fsx_failf(r->fail, FSX_AT_END, r->opno,
					 "seek from %lld: data %lld, hole %lld",
					 (long long)pos, (long long)data,
					 (long long)hole);
		pos = hole;
	}
	return 0;
}

/*
 * The end: all bytes, then a cold reopen for our layout, then the image
 * closed for e2fsck and the kernel.
 */
static int run_final(struct fsx_run *r, unsigned int flags)
{
	struct fsx_layout ours = { 0 };
	int ret;

	ret = compare_all(r, FSX_AT_END);
	if (!ret)
		ret = run_close(r);
	if (!ret)
		ret = run_open(r);
	/* Cold, as the kernel's: cached folios would make unwritten data. */
	if (!ret)
		ret = our_layout(r, &ours);
	if (!ret)
		ret = compare_all(r, FSX_AT_END);
	if (!ret && r->gfd >= 0)
		ret = check_clone(r, FSX_AT_END);
	if (!ret)
		ret = run_close(r);
	if (!ret && (flags & FSX_RUN_FSCK))
		ret = fsx_fsck(r->cfg, r->img, r->opno, r->fail);
	if (!ret && (flags & FSX_RUN_KERNEL)) {
		ret = fsx_kernel_check(r->cfg, r->img, r->host, &ours, r->opno,
				       r->fail);
		if (ret == 77) {
			r->fail->kernel_skipped = true;
			ret = 0;
		}
	}
	free(ours.seg);
	return ret;
}

static int run_setup(struct fsx_run *r, const struct fsx_cfg *cfg, bool quiet)
{
	size_t len = cfg->max_len > FSX_CHUNK ? cfg->max_len : FSX_CHUNK;

	r->cfg = cfg;
	r->hfd = -1;
	r->gfd = -1;
	r->bufsize = len + 8192;
	snprintf(r->img, sizeof(r->img), "%s/img", cfg->dir);
	snprintf(r->host, sizeof(r->host), "%s/host", cfg->dir);
	snprintf(r->spec, sizeof(r->spec), "%s:/f", r->img);
	if (posix_memalign((void **)&r->a, 4096, r->bufsize) ||
	    posix_memalign((void **)&r->b, 4096, r->bufsize))
		return -ENOMEM;
	imc_ctx_init(&r->ctx);
	if (quiet) {
		r->devnull = fopen("/dev/null", "w");
		if (r->devnull)
			r->ctx.err = r->devnull;
	}
	if (imc_set_global(&r->ctx, "io", cfg->io) ||
	    imc_set_global(&r->ctx, "mapper", cfg->mapper))
		return -EINVAL;
	if (fsx_sh("cp --sparse=always '%s/pristine' '%s'", cfg->dir, r->img))
		return -EIO;
	r->hfd = open(r->host, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	return r->hfd < 0 ? -errno : 0;
}

static void run_teardown(struct fsx_run *r)
{
	if (r->open)
		imc_file_close(&r->f);
	imc_ctx_fini(&r->ctx);
	if (r->hfd >= 0)
		close(r->hfd);
	if (r->gfd >= 0)
		close(r->gfd);
	if (r->devnull)
		fclose(r->devnull);
	free(r->a);
	free(r->b);
}

int fsx_run(const struct fsx_cfg *cfg, struct fsx_list *list, uint64_t *rng,
	    unsigned int flags, struct fsx_fail *fail)
{
	struct fsx_run r = { .fail = fail };
	int ret;

	memset(fail, 0, sizeof(*fail));
	ret = run_setup(&r, cfg, flags & FSX_RUN_QUIET);
	if (ret) {
		fprintf(stderr, "fsx: setting up a run in %s: %s\n", cfg->dir,
			strerror(-ret));
		run_teardown(&r);
		return -1;
	}
	ret = run_open(&r);
	for (r.opno = 0; !ret && !fail->stage; r.opno++) {
		struct fsx_op op;

		if (r.opno == list->n) {
			if (!rng || r.opno >= cfg->nops)
				break;
			fsx_gen(cfg, rng, host_size(&r), &op);
			if (fsx_list_push(list, &op)) {
				run_teardown(&r);
				return -1;
			}
		}
		op = list->ops[r.opno];
		if (cfg->verbose > 1 && !(flags & FSX_RUN_QUIET))
			fsx_print_op(cfg, &op, stderr);
		ret = run_op(&r, &op);
		if (!ret && (flags & FSX_RUN_REOPEN_EACH) &&
		    op.kind != FSX_REOPEN) {
			ret = run_close(&r);
			if (!ret)
				ret = run_open(&r);
		}
		if (ret)
			break;
	}
	if (!ret)
		ret = run_final(&r, flags);
	run_teardown(&r);
	return ret ? 1 : 0;
}

/* Free blocks of @img, from its adapter (dumpe2fs reads only ext); 0
 * when unknown. */
static uint64_t free_blocks(const char *img)
{
	char cmd[PATH_MAX + 64];
	unsigned long long n = 0;
	struct fsa_info info;
	int err;
	FILE *p;

	if (fsa_probe(img, &info, &err) && !strcmp(info.type, "iomapfs"))
		return info.free_blocks;

	snprintf(cmd, sizeof(cmd), "dumpe2fs -h '%s' 2>/dev/null", img);
	p = popen(cmd, "r");
	if (!p)
		return 0;
	while (fgets(cmd, sizeof(cmd), p))
		if (sscanf(cmd, "Free blocks: %llu", &n) == 1)
			break;
	pclose(p);
	return n;
}

/* `iomapctl mkfs` and `cp` of the tree's files, in this process. */
static int mkfs_native_tree(const struct fsx_cfg *cfg, bool quiet)
{
	char img[PATH_MAX + 16], dst[PATH_MAX + 32], src[PATH_MAX + 16];
	struct fsa_native_mkfs_opts o = { .size = cfg->image_size,
					  .block_size = cfg->bs };
	static const char *const files[] = { "f", "filler" };
	int ret;

	snprintf(img, sizeof(img), "%s/pristine", cfg->dir);
	unlink(img);
	ret = fsa_native_mkfs(img, &o);
	for (size_t i = 0; !ret && i < 2; i++) {
		char *argv[] = { "iomapctl", "-q", "cp", src, dst };
		struct imc_ctx ctx;

		if (i && !cfg->filler)
			break;
		snprintf(src, sizeof(src), "%s/r/%s", cfg->dir, files[i]);
		snprintf(dst, sizeof(dst), "%s:/%s", img, files[i]);
		imc_ctx_init(&ctx);
		if (quiet)
			ctx.err = fopen("/dev/null", "w");
		ret = imc_run(&ctx, 5, argv, true);
		if (quiet && ctx.err)
			fclose(ctx.err);
		ctx.err = stderr;
		imc_ctx_fini(&ctx);
	}
	return ret;
}

/* mke2fs -d of the tree @cfg->dir/r; @quiet hides why it failed (the
 * filler's retries expect to). */
static int mkfs_tree(const struct fsx_cfg *cfg, bool quiet)
{
	if (fsx_native(cfg))
		return mkfs_native_tree(cfg, quiet);
	return fsx_sh("cd '%s' && rm -f pristine && mke2fs -q -F -t %s -b %u "
		      "-d r pristine %lluk >/dev/null%s",
		      cfg->dir, cfg->fstype, cfg->bs,
		      (unsigned long long)(cfg->image_size >> 10),
		      quiet ? " 2>&1" : "");
}

int fsx_mkimage(struct fsx_cfg *cfg)
{
	uint64_t room = FSX_FULL_ROOM * cfg->bs, avail;
	char path[PATH_MAX + 16];

	cfg->filler = 0;
	if (fsx_sh("cd '%s' && rm -rf r && mkdir r && : >r/f", cfg->dir) ||
	    mkfs_tree(cfg, false))
		return -1;
	if (!cfg->full)
		return 0;
	snprintf(path, sizeof(path), "%s/pristine", cfg->dir);
	avail = free_blocks(path) * cfg->bs;
	/* The filler's own metadata blocks come off the room: retry smaller
	 * until mke2fs takes it. */
	for (int tries = 0; avail > room && tries < 8; tries++) {
		cfg->filler = avail - room - (uint64_t)tries * room / 2;
		if (!fsx_sh("cd '%s' && head -c %llu /dev/zero | tr '\\0' "
			    "'\\252' >r/filler",
			    cfg->dir, (unsigned long long)cfg->filler) &&
		    !mkfs_tree(cfg, true))
			return 0;
	}
	fprintf(stderr, "fsx: could not fill the image to %llu bytes free\n",
		(unsigned long long)room);
	return -1;
}
