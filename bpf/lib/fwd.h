/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Forwarding to local endpoints. A packet for a local endpoint is routed as
 * the kernel would route it (MACs rewritten, TTL or hop limit decremented),
 * or, when it was switched to the endpoint's own MAC, delivered as it is; either
 * way it is handed straight to the endpoint's device.
 */
#ifndef FP_LIB_FWD_H
#define FP_LIB_FWD_H

#include "maps.h"
#include "parse.h"
#include "proto.h"
#include "csum.h"
#include "mac.h"

static __always_inline struct fp_delivery *fp_delivery_get(void)
{
	return bpf_map_lookup_elem(&fp_delivery, (const void *)&fp_key_zero);
}

/* A hook redirects its packet to an endpoint's device (ifindex, counters slot): the hook's
 * exit checks the endpoint's policy and counts the packet (fp_delivery_done,
 * lib/policy.h). Noted off the stack, which the handlers use up. */
static __always_inline void fp_note_delivery(__u32 ifindex, __u32 slot, __u32 len)
{
	struct fp_delivery *d = fp_delivery_get();

	if (!d)
		return;
	d->ifindex = ifindex;
	d->slot = slot;
	d->len = len;
}

static __always_inline void fp_count_from(__u32 slot, __u32 len)
{
	struct fp_ep_stats *st = bpf_map_lookup_elem(&fp_ep_stats, &slot);

	if (st) {
		st->from_packets++;
		st->from_bytes += len;
	}
}

/* Whether forwarding pkt would take its TTL (hop limit) to 0. */
static __always_inline int fp_ttl_expires(const struct fp_pkt *pkt)
{
	if (pkt->l3 == FP_L3_IPV4)
		return pkt->ip4->ttl <= 1;
	return pkt->ip6->hop_limit <= 1;
}

/* Returns 0 after decrementing, or -FP_PASS_TTL when the packet must not be
 * forwarded: the stack then answers with ICMP time exceeded, as a router does. */
static __always_inline int fp_decrement_ttl(struct fp_pkt *pkt)
{
	if (pkt->l3 == FP_L3_IPV4) {
		struct iphdr *ip = pkt->ip4;
		__be16 old, new;

		if (fp_ttl_expires(pkt))
			return -FP_PASS_TTL;
		old = *(__be16 *)&ip->ttl; /* TTL and protocol share one checksum word */
		ip->ttl--;
		new = *(__be16 *)&ip->ttl;
		ip->check = fp_csum_replace2(ip->check, old, new);
		return 0;
	}
	if (fp_ttl_expires(pkt))
		return -FP_PASS_TTL;
	pkt->ip6->hop_limit--;
	return 0;
}

/* The IP packet's own length (header included), as a device's MTU counts it. */
static __always_inline __u32 fp_l3_len(const struct fp_pkt *pkt)
{
	if (pkt->l3 == FP_L3_IPV4)
		return bpf_ntohs(pkt->ip4->tot_len);
	return bpf_ntohs(pkt->ip6->payload_len) + sizeof(struct ipv6hdr);
}

/*
 * Whether pkt is larger than the MTU of ifindex (an endpoint's device, an uplink). A router
 * does not send such a packet: it fragments it or tells the sender (and a tun's reader may
 * not even take it). No device flatpath sends to has an MTU below IPv6's minimum, 1280 (the
 * loader refuses them), so only larger packets pay for the helper, which reads the device's
 * MTU as it is now.
 */
static __always_inline int fp_too_big_for(struct __ctx_buff *ctx, const struct fp_pkt *pkt, __u32 ifindex)
{
	__u32 len = fp_l3_len(pkt);

	return len > FP_MIN_MTU && ctx_exceeds_mtu(ctx, ifindex, len);
}

/* Whether a router must not fragment pkt: IPv4 with DF, and all IPv6 (only its sender may). */
static __always_inline int fp_must_not_fragment(const struct fp_pkt *pkt)
{
	return pkt->l3 == FP_L3_IPV6 || (pkt->ip4->frag_off & bpf_htons(0x4000));
}

/* fp_forward_local with its destination's endpoint looked up already (ep: 0 for none). */
static __always_inline int fp_forward_to(struct __ctx_buff *ctx, struct fp_pkt *pkt, __u32 src_zone,
					 const struct fp_endpoint *ep)
{
	int ret;

	/* RFC 8200 4.3: every node on the path may have to process these (router alert, MLD). */
	if (pkt->l3 == FP_L3_IPV6 && pkt->ip6->nexthdr == FP_NEXTHDR_HOP)
		return -FP_PASS_IPV6_HOP_BY_HOP;
	if (!ep)
		return -FP_PASS_NO_ENDPOINT;
	if (!ctx_delivers_to(ep->kind))
		return -FP_PASS_KIND;
	if (src_zone && ep->zone && src_zone != ep->zone)
		return -FP_PASS_OTHER_ZONE;
	if (fp_too_big_for(ctx, pkt, ep->ifindex))
		return -FP_PASS_MTU;
	/* Addressed to the endpoint's own MAC, the frame was switched, not routed: two
	 * containers on one bridge (bridge mode). It goes as it is, like the bridge would
	 * send it. Anything addressed to a gateway is routed: MACs rewritten, TTL down; and
	 * so is everything to a tun, which has no MAC to be switched to. */
	if (ep->kind == FP_EP_TUN || !fp_mac_equal(pkt->eth->h_dest, ep->mac)) {
		ret = fp_decrement_ttl(pkt);
		if (ret < 0)
			return ret;
		fp_mac_copy(pkt->eth->h_dest, ep->mac);
		fp_mac_copy(pkt->eth->h_source, ep->host_mac);
	}
	/* Noted first: nothing of ep stays live across the helper call (the handlers' frames
	 * are at BPF's stack limit). A failed redirect's note is dropped by the exit. */
	fp_note_delivery(ep->ifindex, ep->slot, ctx_len(ctx));
	return ctx_redirect_endpoint(ctx, ep->ifindex, ep->kind);
}

/*
 * Deliver a parsed IP packet to the local endpoint that owns its destination.
 * src_zone: the sending endpoint's zone (0 from uplinks, for translated packets, and
 * for endpoints outside any zone). Returns the redirect verdict, or a reason to hand
 * the packet to the stack. Nothing in the packet is changed unless it is delivered.
 */
static __always_inline int fp_forward_local(struct __ctx_buff *ctx, struct fp_pkt *pkt, __u32 src_zone)
{
	return fp_forward_to(ctx, pkt, src_zone, fp_endpoint_of(&pkt->dst));
}

/* After NAT rewrote the packet: parse it again (pointers moved) and deliver it. */
static __always_inline int fp_forward_translated(struct __ctx_buff *ctx)
{
	struct fp_pkt pkt;
	int ret;

	ret = fp_parse(&pkt, ctx_data(ctx), ctx_data_end(ctx));
	if (ret < 0)
		return ret;
	return fp_forward_local(ctx, &pkt, 0);
}

#endif
