/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Rewriting a TCP/UDP packet's (or an ICMP echo's) addresses and ports with incremental checksum
 * updates: the IPv4 header checksum, and the L4 checksum including its
 * pseudo-header. A zero UDP checksum on IPv4 (none computed) stays zero.
 * Every function here may move packet data under tc: re-parse afterwards.
 */
#ifndef FP_LIB_NAT_H
#define FP_LIB_NAT_H

#include "addr.h"
#include "csum.h"
#include "l4.h"

enum fp_nat_side {
	FP_NAT_SOURCE = 0,
	FP_NAT_DEST = 1,
};

/* Rewrites one side's address to *addr and port to port (network order). An ICMP echo's
 * "port" is its identifier (lib/l4.h), at the same place in both directions. */
static __always_inline int fp_nat_rewrite(struct __ctx_buff *ctx, const struct fp_pkt *pkt, int side,
					  const union fp_addr *addr, __be16 port)
{
	const union fp_addr *old = side == FP_NAT_DEST ? &pkt->dst : &pkt->src;
	__be16 old_port = side == FP_NAT_DEST ? pkt->l4.dport : pkt->l4.sport;
	__u64 l4_flags = pkt->l4.proto == IPPROTO_UDP ? BPF_F_MARK_MANGLED_0 : 0;
	__u32 csum_off = pkt->l4.csum_off;
	int icmp = pkt->l4.proto == IPPROTO_ICMP || pkt->l4.proto == FP_NEXTHDR_ICMPV6;

	if (!fp_addr_equal(old, addr)) {
		if (pkt->l3 == FP_L3_IPV4) {
			struct iphdr *ip = (void *)((__u8 *)ctx_data(ctx) + (pkt->l3_off & 0xff));

			/* Written in place, the header's checksum with it (two helper calls fewer
			 * under tc: an IP header is never a partial checksum, and skb->csum is not
			 * moved by a header whose checksum moves with it). Found again from the
			 * context: an earlier rewrite's helpers invalidated the packet pointers. */
			if ((void *)(ip + 1) > ctx_data_end(ctx))
				return -FP_DROP_NAT;
			ip->check = fp_csum_replace4(ip->check, old->w[3], addr->w[3]);
			if (side == FP_NAT_DEST)
				ip->daddr = addr->w[3];
			else
				ip->saddr = addr->w[3];
			/* ICMPv4's checksum covers no pseudo-header: the addresses are not in it. */
			if (!icmp &&
			    ctx_l4_csum_replace(ctx, csum_off, old->w[3], addr->w[3], BPF_F_PSEUDO_HDR | 4 | l4_flags))
				return -FP_DROP_NAT;
		} else {
			__u32 off = pkt->l3_off + (side == FP_NAT_DEST ? 24 : 8);
			__s64 diff = bpf_csum_diff((__be32 *)old->w, 16, (__be32 *)addr->w, 16, 0);

			if (diff < 0 || ctx_store_bytes(ctx, off, addr->w, 16) ||
			    ctx_l4_csum_replace(ctx, csum_off, 0, (__u32)diff, BPF_F_PSEUDO_HDR | l4_flags))
				return -FP_DROP_NAT;
		}
	}
	if (port != old_port) {
		__u32 off = pkt->l4.off + fp_port_offset(pkt->l4.proto, side == FP_NAT_DEST);

		if (ctx_store_bytes(ctx, off, &port, 2) ||
		    ctx_l4_csum_replace(ctx, csum_off, old_port, port, 2 | l4_flags))
			return -FP_DROP_NAT;
	}
	return 0;
}

#endif
