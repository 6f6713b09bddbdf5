// SPDX-License-Identifier: GPL-2.0
/* crc32c.c - CRC-32C (Castagnoli), with the SSE4.2 instruction when the CPU
 * has it and a 16-entry table otherwise. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "native.h"

/* Reflected polynomial 0x82F63B78, four bits at a time. */
static const uint32_t crc32c_nibble[16] = {
	0x00000000, 0x105ec76f, 0x20bd8ede, 0x30e349b1, 0x417b1dbc, 0x5125dad3,
	0x61c69362, 0x7198540d, 0x82f63b78, 0x92a8fc17, 0xa24bb5a6, 0xb21572c9,
	0xc38d26c4, 0xd3d3e1ab, 0xe330a81a, 0xf36e6f75,
};

static uint32_t crc32c_sw(uint32_t crc, const uint8_t *p, size_t len)
{
	while (len--) {
		crc ^= *p++;
		crc = (crc >> 4) ^ crc32c_nibble[crc & 15];
		crc = (crc >> 4) ^ crc32c_nibble[crc & 15];
	}
	return crc;
}

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) static uint32_t
crc32c_hw(uint32_t crc, const uint8_t *p, size_t len)
{
	uint64_t c = crc;

	for (; len >= 8; len -= 8, p += 8) {
		uint64_t v;

		memcpy(&v, p, 8);
		c = __builtin_ia32_crc32di(c, v);
	}
	crc = (uint32_t)c;
	for (; len; len--)
		crc = __builtin_ia32_crc32qi(crc, *p++);
	return crc;
}

static bool crc32c_have_hw(void)
{
	return __builtin_cpu_supports("sse4.2");
}
#else
static uint32_t crc32c_hw(uint32_t crc, const uint8_t *p, size_t len)
{
	return crc32c_sw(crc, p, len);
}

static bool crc32c_have_hw(void)
{
	return false;
}
#endif

uint32_t fsa_native_crc32c(uint32_t seed, const void *buf, size_t len)
{
	uint32_t crc = ~seed;

	if (crc32c_have_hw())
		crc = crc32c_hw(crc, buf, len);
	else
		crc = crc32c_sw(crc, buf, len);
	return ~crc;
}
