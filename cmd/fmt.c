// SPDX-License-Identifier: GPL-2.0
/* fmt.c - numbers and padded columns written into a row buffer, for the
 * commands that print a row per extent (fiemap, map): a file of a million
 * extents would otherwise spend most of its time parsing printf formats. */
#include <string.h>

#include "cmd.h"

char *imc_fmt_u64(char *p, uint64_t v)
{
	static const char pairs[] = "00010203040506070809"
				    "10111213141516171819"
				    "20212223242526272829"
				    "30313233343536373839"
				    "40414243444546474849"
				    "50515253545556575859"
				    "60616263646566676869"
				    "70717273747576777879"
				    "80818283848586878889"
				    "90919293949596979899";
	char tmp[20], *t = tmp + sizeof(tmp);
	size_t n;

	/* Two digits per division: half the (multiply-shift) divisions. */
	while (v >= 100) {
		t -= 2;
		memcpy(t, pairs + (v % 100) * 2, 2);
		v /= 100;
	}
	if (v >= 10) {
		t -= 2;
		memcpy(t, pairs + v * 2, 2);
	} else {
		*--t = (char)('0' + v);
	}
	n = (size_t)(tmp + sizeof(tmp) - t);
	memcpy(p, t, n);
	return p + n;
}

char *imc_fmt_i64(char *p, int64_t v)
{
	if (v >= 0)
		return imc_fmt_u64(p, (uint64_t)v);
	*p++ = '-';
	return imc_fmt_u64(p, -(uint64_t)v);
}

char *imc_fmt_hex(char *p, uint64_t v)
{
	static const char digits[] = "0123456789abcdef";
	char tmp[16];
	size_t n = 0;

	do {
		tmp[n++] = digits[v & 15];
		v >>= 4;
	} while (v);
	while (n)
		*p++ = tmp[--n];
	return p;
}

char *imc_fmt_str(char *p, const char *s)
{
	size_t n = strlen(s);

	memcpy(p, s, n);
	return p + n;
}

char *imc_fmt_col(char *p, const char *s, const char *end, int width, bool left)
{
	int n = (int)(end - s), pad = width > n ? width - n : 0;

	if (!left) {
		memset(p, ' ', (size_t)pad);
		p += pad;
	}
	memmove(p, s, (size_t)n);
	p += n;
	if (left) {
		memset(p, ' ', (size_t)pad);
		p += pad;
	}
	return p;
}

char *imc_fmt_u64_col(char *p, uint64_t v, int width)
{
	char tmp[24];

	return imc_fmt_col(p, tmp, imc_fmt_u64(tmp, v), width, false);
}

char *imc_wbuf_room(struct imc_wbuf *w, size_t n)
{
	if (w->len + n > sizeof(w->buf))
		imc_wbuf_flush(w);
	return w->buf + w->len;
}

void imc_wbuf_put(struct imc_wbuf *w, const char *end)
{
	w->len = (size_t)(end - w->buf);
}

void imc_wbuf_flush(struct imc_wbuf *w)
{
	if (w->len)
		fwrite(w->buf, 1, w->len, w->out);
	w->len = 0;
}
