/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* The packet context for XDP programs: see ctx_skb.h for the contract. */
#ifndef FP_LIB_CTX_H
#define FP_LIB_CTX_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "flatpath_abi.h"
#include "maps.h"
#include "mac.h"
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
 * XDP can only redirect in bulk through a devmap; veth and tap devices both
 * take XDP frames (ndo_xdp_xmit). A tun endpoint needs its Ethernet header
 * removed first, which XDP cannot do for another device: the stack does it.
 */
static __always_inline int ctx_redirect_endpoint(struct xdp_md *ctx, const struct fp_endpoint *ep)
{
	long ret;

	(void)ctx;
	if (ep->kind != FP_EP_VETH && ep->kind != FP_EP_TAP)
		return -FP_PASS_KIND;
	ret = bpf_redirect_map(&fp_tx_devs, ep->ifindex, 0);
	/* The loader fills fp_tx_devs before fp_endpoints and empties it after, so a miss
	 * (XDP_ABORTED with flags 0) is a bug; the frame is already rewritten: drop it. */
	if (ret != XDP_REDIRECT)
		return -FP_DROP_REDIRECT;
	return (int)ret;
}

#endif
