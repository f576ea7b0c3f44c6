/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Packets from L3 devices: a tun (a sandbox's userspace stack, a VPN client) or a
 * WireGuard device, which have no MAC header. skb->data starts at the IP header and
 * skb->protocol is what the device said the packet is (the IP version, for a tun
 * without packet information). tc only: XDP on such a device sees no Ethernet header
 * and cannot add one for another device (the loader attaches no XDP there).
 */
#ifndef FP_LIB_L3_DEV_H
#define FP_LIB_L3_DEV_H

#ifndef FP_LIB_CTX_SKB_H
#error "l3_dev.h is tc only (bpf_skb_change_head): include lib/ctx_skb.h first"
#endif

#include <linux/if_ether.h>
#include <bpf/bpf_endian.h>
#include "flatpath_abi.h"

/*
 * Gives an IP packet from an L3 device the Ethernet header that everything in bpf/lib
 * is written for, so that one datapath serves both kinds of device, and that a redirect
 * to an L2 device (a veth, a tap) finds the header it needs: without one the kernel drops
 * the packet (-ERANGE). Both MACs are zero: no source MAC is what a tun endpoint is
 * registered with (anti-spoofing checks its addresses and device), and a destination that
 * is no endpoint's MAC makes every delivery routed (MACs rewritten, TTL down); zero is
 * unicast, which bpf_redirect_neigh requires. The header costs nothing where it is not
 * used: a redirect to an L3 device strips it again (__bpf_redirect_no_mac), and a packet
 * left to the stack still arrives as an IP packet, because tc at ingress pulls skb->mac_len
 * bytes after the program, and bpf_skb_change_head set that to the pushed 14 (the header
 * becomes the packet's MAC header, which nothing on an L3 device's path reads).
 * Returns 0, or a reason for the packet to stay as it came (not IP) or be dropped. A
 * subprogram: the hook's own frame stays empty (fp_tc_exit says why).
 */
static __noinline int fp_push_l2(struct __sk_buff *ctx)
{
	__be16 proto = (__be16)ctx->protocol;

	/* A tun with packet information can carry any protocol: the stack's. */
	if (proto != bpf_htons(ETH_P_IP) && proto != bpf_htons(ETH_P_IPV6))
		return -FP_PASS_NOT_IP;
	/* The new bytes are zeroed by the helper: only the type is left to write. It fails
	 * only without memory for a larger head. */
	if (bpf_skb_change_head(ctx, ETH_HLEN, 0) ||
	    bpf_skb_store_bytes(ctx, __builtin_offsetof(struct ethhdr, h_proto), &proto, sizeof(proto), 0))
		return -FP_DROP_INTERNAL;
	return 0;
}

#endif
