/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Incremental Internet checksum updates (RFC 1624), usable under XDP and tc. */
#ifndef FP_LIB_CSUM_H
#define FP_LIB_CSUM_H

#include <linux/types.h>

static __always_inline __u16 fp_csum_fold(__u32 sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)sum;
}

/* HC' = ~(~HC + ~m + m') for one 16-bit word m changed to m'. */
static __always_inline __sum16 fp_csum_replace2(__sum16 check, __be16 old, __be16 new)
{
	__u32 sum = (__u16)~check;

	sum += (__u16)~old;
	sum += new;
	return (__sum16)~fp_csum_fold(sum);
}

/* The same for one 32-bit word (two 16-bit ones). */
static __always_inline __sum16 fp_csum_replace4(__sum16 check, __be32 old, __be32 new)
{
	__u32 sum = (__u16)~check;

	sum += (__u16)~(old & 0xffff);
	sum += (__u16)~(old >> 16);
	sum += new & 0xffff;
	sum += new >> 16;
	return (__sum16)~fp_csum_fold(sum);
}

#endif
