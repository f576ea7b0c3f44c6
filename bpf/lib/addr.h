/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Addresses (union fp_addr, IPv4 mapped) compared without a context: for every program. */
#ifndef FP_LIB_ADDR_H
#define FP_LIB_ADDR_H

#include "flatpath_abi.h"

static __always_inline int fp_addr_equal(const union fp_addr *a, const union fp_addr *b)
{
	return ((a->w[0] ^ b->w[0]) | (a->w[1] ^ b->w[1]) | (a->w[2] ^ b->w[2]) | (a->w[3] ^ b->w[3])) == 0;
}

static __always_inline int fp_addr_zero(const union fp_addr *a)
{
	return (a->w[0] | a->w[1] | a->w[2] | a->w[3]) == 0;
}

#endif
