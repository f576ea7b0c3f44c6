/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* The packet context for XDP programs: see ctx_skb.h for the contract. */
#ifndef FP_LIB_CTX_XDP_H
#define FP_LIB_CTX_XDP_H

#ifdef FP_LIB_CTX_SKB_H
#error "ctx_skb.h and ctx_xdp.h exclude each other: a program is tc or XDP"
#endif

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "flatpath_abi.h"
#include "maps.h"
#include "mac.h"
#include "csum.h"
#include <linux/if_ether.h>

#define __ctx_buff xdp_md
#define CTX_ACT_OK XDP_PASS
#define CTX_ACT_DROP XDP_DROP

static __always_inline void *ctx_data(const struct xdp_md *ctx)
{
	return (void *)(long)ctx->data;
}

static __always_inline void *ctx_data_end(const struct xdp_md *ctx)
{
	return (void *)(long)ctx->data_end;
}

static __always_inline __u32 ctx_len(const struct xdp_md *ctx)
{
	return (__u32)(ctx->data_end - ctx->data);
}

static __always_inline __u32 ctx_ifindex(const struct xdp_md *ctx)
{
	return ctx->ingress_ifindex;
}

/* XDP runs before there is an skb to carry a mark. */
static __always_inline __u32 ctx_mark(const struct xdp_md *ctx)
{
	(void)ctx;
	return 0;
}

/* An XDP frame is one linear buffer (we do not load frags-aware programs). */
static __always_inline void ctx_pull_headers(struct xdp_md *ctx)
{
	(void)ctx;
}

/*
 * Is this frame addressed to the uplink itself (and so ours to route)? XDP
 * has no pkt_type: compare with the uplink's MAC recorded by the loader.
 */
static __always_inline int ctx_frame_for_host(struct xdp_md *ctx, const struct ethhdr *eth)
{
	struct fp_iface_key key = { .ifindex = ctx->ingress_ifindex };
	struct fp_iface *iface = bpf_map_lookup_elem(&fp_ifaces, &key);

	return iface && fp_mac_equal(eth->h_dest, iface->mac);
}

/*
 * Generic XDP runs on skbs, and a veth hands it what the sender built: with TSO on
 * (the default) an aggregate far larger than the MTU, which a devmap redirect then
 * drops without a trace (xdp_ok_fwd_dev). No wire delivers such a frame, so a frame
 * larger than the uplink's MTU is left for tc, which forwards skbs of any size.
 */
static __always_inline int ctx_oversized(struct xdp_md *ctx)
{
	__u32 mtu = 0; /* 0: check the frame's own length against the ingress device */

	/* A standard Ethernet frame fits every MTU a redirect target has (>= 1500): only
	 * larger frames pay for the helper call. */
	if (ctx_len(ctx) <= 1514)
		return 0;
	return bpf_check_mtu(ctx, 0, &mtu, 0, 0) != BPF_MTU_CHK_RET_SUCCESS;
}

/* Whether an IP packet of l3_len bytes is larger than ifindex's MTU (an XDP frame is never
 * an aggregate). */
static __always_inline int ctx_exceeds_mtu(struct xdp_md *ctx, __u32 ifindex, __u32 l3_len)
{
	__u32 len = l3_len;

	return bpf_check_mtu(ctx, ifindex, &len, 0, 0) != BPF_MTU_CHK_RET_SUCCESS;
}

/*
 * XDP can only redirect in bulk through a devmap; veth and tap devices both take XDP
 * frames (ndo_xdp_xmit). A tun endpoint needs its Ethernet header removed first, which
 * XDP cannot do for another device: the frame goes on to tc, which delivers it.
 */
static __always_inline int ctx_delivers_to(__u8 kind)
{
	return kind == FP_EP_VETH || kind == FP_EP_TAP;
}

/* Hand the frame to an endpoint device (a kind ctx_delivers_to() accepts). */
static __always_inline int ctx_redirect_endpoint(struct xdp_md *ctx, __u32 ifindex, __u8 kind)
{
	long ret;

	(void)ctx;
	(void)kind;
	ret = bpf_redirect_map(&fp_tx_devs, ifindex, 0);
	/* The loader fills fp_tx_devs before fp_endpoints and empties it after, so a miss
	 * (XDP_ABORTED with flags 0) is a bug; the frame is already rewritten: drop it. */
	if (ret != XDP_REDIRECT)
		return -FP_DROP_REDIRECT;
	return (int)ret;
}

/*
 * XDP frames arrive with complete checksums (no CHECKSUM_PARTIAL), so the
 * same updates are done in place, with the semantics of the skb helpers:
 * size bits 0 mean `to` is a bpf_csum_diff() result; BPF_F_MARK_MANGLED_0
 * leaves a zero (absent) UDP checksum alone and never writes a zero.
 */
#define FP_XDP_MAX_OFF 256 /* headers we rewrite all sit in the first 256 bytes */

static __always_inline __u32 fp_csum_add32(__u32 a, __u32 b)
{
	a += b;
	return a + (a < b);
}

static __always_inline int fp_xdp_csum_update(struct xdp_md *ctx, __u32 off, __u32 from, __u32 to, __u64 flags)
{
	void *data = ctx_data(ctx), *data_end = ctx_data_end(ctx);
	__u32 size = flags & BPF_F_HDR_FIELD_MASK;
	__sum16 *csum;
	__u32 sum;

	if (off > FP_XDP_MAX_OFF)
		return -1;
	csum = data + off;
	if ((void *)(csum + 1) > data_end)
		return -1;
	if ((flags & BPF_F_MARK_MANGLED_0) && *csum == 0)
		return 0;
	sum = (__u16)~*csum;
	if (size == 2) {
		sum += (__u16)~from;
		sum += (__u16)to;
	} else if (size == 4) {
		sum = fp_csum_add32(sum, ~from);
		sum = fp_csum_add32(sum, to);
	} else {
		sum = fp_csum_add32(sum, to);
	}
	*csum = (__sum16)~fp_csum_fold(sum);
	if ((flags & BPF_F_MARK_MANGLED_0) && *csum == 0)
		*csum = (__sum16)0xffff;
	return 0;
}

static __always_inline int ctx_l3_csum_replace(struct xdp_md *ctx, __u32 off, __u32 from, __u32 to, __u64 flags)
{
	return fp_xdp_csum_update(ctx, off, from, to, flags);
}

static __always_inline int ctx_l4_csum_replace(struct xdp_md *ctx, __u32 off, __u32 from, __u32 to, __u64 flags)
{
	return fp_xdp_csum_update(ctx, off, from, to, flags);
}

/* len is 2, 4 or 16: the fields NAT rewrites. */
static __always_inline int ctx_store_bytes(struct xdp_md *ctx, __u32 off, const void *from, __u32 len)
{
	void *data = ctx_data(ctx), *data_end = ctx_data_end(ctx);
	void *to;

	if (off > FP_XDP_MAX_OFF)
		return -1;
	to = data + off;
	if (len == 16) {
		if (to + 16 > data_end)
			return -1;
		__builtin_memcpy(to, from, 16);
	} else if (len == 4) {
		if (to + 4 > data_end)
			return -1;
		__builtin_memcpy(to, from, 4);
	} else {
		if (to + 2 > data_end)
			return -1;
		__builtin_memcpy(to, from, 2);
	}
	return 0;
}

#endif
