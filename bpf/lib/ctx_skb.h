/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The packet context for tc programs. A tc .bpf.c includes this file, an XDP
 * one includes ctx_xdp.h; everything in bpf/lib is written against
 * `struct __ctx_buff` and the ctx_* functions and so runs under both.
 */
#ifndef FP_LIB_CTX_SKB_H
#define FP_LIB_CTX_SKB_H

#ifdef FP_LIB_CTX_XDP_H
#error "ctx_skb.h and ctx_xdp.h exclude each other: a program is tc or XDP"
#endif

#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <bpf/bpf_helpers.h>
#include "flatpath_abi.h"

#define __ctx_buff __sk_buff
#define CTX_ACT_OK TC_ACT_OK
#define CTX_ACT_DROP TC_ACT_SHOT

/* Headers we may read or write: Ethernet + the largest IPv4 header. */
#define FP_HEADROOM_PULL (14 + 60)

/*
 * The verifier only accepts ctx field loads of the form *(ctx + constant). Under register
 * pressure clang keeps &ctx->data_end as a pointer of its own and loads through that
 * later ("dereference of modified ctx ptr"): the loads are written in asm so that they
 * always take the accepted form.
 */
#define FP_CTX_LOAD_U32(ctx, field)                                                                \
	({                                                                                         \
		__u64 v_;                                                                          \
		asm volatile("%0 = *(u32 *)(%1 + %2)"                                              \
			     : "=r"(v_)                                                            \
			     : "r"(ctx), "i"(__builtin_offsetof(struct __sk_buff, field)));        \
		v_;                                                                                \
	})

static __always_inline void *ctx_data(const struct __sk_buff *ctx)
{
	return (void *)(long)FP_CTX_LOAD_U32(ctx, data);
}

static __always_inline void *ctx_data_end(const struct __sk_buff *ctx)
{
	return (void *)(long)FP_CTX_LOAD_U32(ctx, data_end);
}

static __always_inline __u32 ctx_len(const struct __sk_buff *ctx)
{
	return ctx->len;
}

static __always_inline __u32 ctx_ifindex(const struct __sk_buff *ctx)
{
	return ctx->ifindex;
}

static __always_inline __u32 ctx_mark(const struct __sk_buff *ctx)
{
	return ctx->mark;
}

/*
 * Make the headers directly accessible. An skb's headers may sit partly in
 * paged data (after GRO, or when built by a driver that way); direct packet
 * access only sees the linear part, so pull what we need first. Invalidates
 * every packet pointer: call before parsing.
 */
static __always_inline void ctx_pull_headers(struct __sk_buff *ctx)
{
	__u32 want = ctx->len < FP_HEADROOM_PULL ? ctx->len : FP_HEADROOM_PULL;

	if (ctx_data(ctx) + want > ctx_data_end(ctx))
		bpf_skb_pull_data(ctx, want);
}

/* Is this frame addressed to the receiving device itself (and so ours to route)? */
static __always_inline int ctx_frame_for_host(struct __sk_buff *ctx, const struct ethhdr *eth)
{
	(void)eth;
	return ctx->pkt_type == PACKET_HOST;
}

/* tc forwards skbs of any size, GSO aggregates included (see ctx_xdp.h). */
static __always_inline int ctx_oversized(struct __sk_buff *ctx)
{
	(void)ctx;
	return 0;
}

/*
 * Whether an IP packet of l3_len bytes is larger than ifindex's MTU. A GSO aggregate
 * leaves as segments: those are what is checked (its IP length is the aggregate's).
 */
static __always_inline int ctx_exceeds_mtu(struct __sk_buff *ctx, __u32 ifindex, __u32 l3_len)
{
	__u32 len = l3_len;

	if (ctx->gso_size) {
		len = 0;
		return bpf_check_mtu(ctx, ifindex, &len, 0, BPF_MTU_CHK_SEGS) != BPF_MTU_CHK_RET_SUCCESS;
	}
	return bpf_check_mtu(ctx, ifindex, &len, 0, 0) != BPF_MTU_CHK_RET_SUCCESS;
}

/* Every kind of local endpoint is reached from tc. */
static __always_inline int ctx_delivers_to(__u8 kind)
{
	return kind == FP_EP_VETH || kind == FP_EP_TAP || kind == FP_EP_TUN;
}

/*
 * Hand the packet to an endpoint device (a kind ctx_delivers_to() accepts). A veth's
 * packets go straight into the peer (the container side) with bpf_redirect_peer: no
 * second pass through the host's backlog queue. A tap is an ordinary device: transmit.
 * So is a tun, and the redirect strips the Ethernet header for it (an L3 device).
 * Returns the redirect verdict.
 */
static __always_inline int ctx_redirect_endpoint(struct __sk_buff *ctx, __u32 ifindex, __u8 kind)
{
	(void)ctx;
	if (kind == FP_EP_VETH)
		return (int)bpf_redirect_peer(ifindex, 0);
	return (int)bpf_redirect(ifindex, 0);
}

/*
 * Checksum and byte updates go through the kernel helpers on an skb: they know
 * whether the checksum is complete or a CHECKSUM_PARTIAL pseudo-header sum and
 * keep skb->csum right. They invalidate packet pointers: re-parse afterwards.
 * `to` is a bpf_csum_diff() result when the size bits of flags are 0.
 */
static __always_inline int ctx_l3_csum_replace(struct __sk_buff *ctx, __u32 off, __u32 from, __u32 to, __u64 flags)
{
	return (int)bpf_l3_csum_replace(ctx, off, from, to, flags);
}

static __always_inline int ctx_l4_csum_replace(struct __sk_buff *ctx, __u32 off, __u32 from, __u32 to, __u64 flags)
{
	return (int)bpf_l4_csum_replace(ctx, off, from, to, flags);
}

static __always_inline int ctx_store_bytes(struct __sk_buff *ctx, __u32 off, const void *from, __u32 len)
{
	return (int)bpf_skb_store_bytes(ctx, off, from, len, 0);
}

static __always_inline void ctx_set_mark(struct __sk_buff *ctx, __u32 value, __u32 mask)
{
	ctx->mark = (ctx->mark & ~mask) | (value & mask);
}

#endif
