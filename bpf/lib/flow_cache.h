/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The established flow's fast path. A packet of a translated flow (a published port's, or
 * a masqueraded flow's reply) that arrives on an uplink for a local endpoint costs the
 * lookup of its destination (no endpoint) and of its conntrack entry (and of the new
 * flows' table for a flow not assured yet). The first such packet under the current
 * tables takes the full path's checks here once and leaves where they led in the entry
 * (fp_ct_route); later ones read it back and are rewritten, routed and redirected. Any
 * change to the tables moves fp_config.generation on, and each flow resolves again at its
 * next packet. Whatever is out of the ordinary (TCP SYN, FIN or RST, which change the
 * flow's state; a reply before the flow is assured; fragments; ICMP; an expiring TTL; a
 * packet too big for the endpoint's device; a frame switched to the endpoint's own MAC)
 * takes the full path, which knows what to do.
 */
#ifndef FP_LIB_FLOW_CACHE_H
#define FP_LIB_FLOW_CACHE_H

#include "dnat.h"
#include "masq.h"
#include "fwd.h"
#include "source.h"

/* Whether pkt may take the fast path at all. */
static __always_inline int fp_flow_plain(const struct fp_pkt *pkt)
{
	if (pkt->l4.frag != FP_FRAG_NONE || fp_ttl_expires(pkt))
		return 0;
	if (pkt->l3 == FP_L3_IPV6 && pkt->ip6->nexthdr == FP_NEXTHDR_HOP)
		return 0;
	if (pkt->l4.proto == IPPROTO_UDP)
		return 1;
	return pkt->l4.proto == IPPROTO_TCP && !(pkt->l4.tcp_flags & (FP_TCP_SYN | FP_TCP_FIN | FP_TCP_RST));
}

/*
 * What the full path would do with pkt, a packet of the flow whose entry (direction dir)
 * is ct and whose destination is no endpoint: 1 when it translates it and delivers it to
 * a local endpoint, with that endpoint left in ct->route for generation; 0 when it would
 * do anything else.
 */
static __always_inline int fp_flow_resolve(struct __ctx_buff *ctx, const struct fp_pkt *pkt, struct fp_ct_entry *ct,
					   __u8 dir, __u32 generation)
{
	struct fp_endpoint *ep;

	/* The full path's first check: a local container's address arriving from outside is
	 * a spoof (dropped). */
	if (fp_source_is_local_endpoint(pkt))
		return 0;
	ep = fp_endpoint_of(dir == FP_CT_ORIGINAL || (ct->flags & FP_CT_SNAT) ? &ct->daddr : &pkt->dst);
	if (!ep || !ctx_delivers_to(ep->kind))
		return 0;
	/* Two CPUs resolving one flow at once write the same values; the generation goes
	 * last, so that a reader never takes a half-written route for a whole one. */
	ct->route.in_ifindex = ctx_ifindex(ctx);
	ct->route.out_ifindex = ep->ifindex;
	ct->route.slot = ep->slot;
	fp_mac_copy(ct->route.dst_mac, ep->mac);
	fp_mac_copy(ct->route.src_mac, ep->host_mac);
	ct->route.ep_kind = ep->kind;
	asm volatile("" ::: "memory");
	ct->route.generation = generation;
	return 1;
}

/*
 * A packet from an uplink (transport header parsed), delivered by its established flow's
 * cached route: the redirect verdict, a drop reason, or 0 for the full path (the packet
 * untouched then). cfg counts DNAT entries or masquerade rules.
 */
static __always_inline int fp_flow_fast(struct __ctx_buff *ctx, struct fp_pkt *pkt, const struct fp_config *cfg)
{
	struct fp_ct_scratch *s;
	struct fp_ct_entry *ct;
	__u64 now;
	__u8 dir;
	int ret;

	if (!fp_flow_plain(pkt))
		return 0;
	s = fp_ct_scratch_get();
	if (!s)
		return 0;
	/* As the full path looks flows up: at a masquerade port, a masqueraded flow's reply;
	 * elsewhere, a published port's flow (only while ports are published). */
	dir = fp_to_masq_port(pkt, cfg) ? FP_CT_REPLY : FP_CT_ORIGINAL;
	if (dir == FP_CT_ORIGINAL && !cfg->dnat_entries)
		return 0;
	fp_ct_key_of(&s->key, pkt, dir);
	now = fp_ct_now();
	ct = bpf_map_lookup_elem(&fp_ct, &s->key);
	/* A flow not assured yet, in its original direction, before any reply: its packets
	 * change nothing but the deadline and the counters either (the one that assures it
	 * follows a reply, and the reply's direction notes itself in the original entry), so
	 * they too take the shortcut: a stream nobody answers (a UDP feed) is a busy flow. */
	if (!ct && dir == FP_CT_ORIGINAL) {
		ct = bpf_map_lookup_elem(&fp_ct_new, &s->key);
		if (ct && (ct->flags & FP_CT_SEEN_REPLY))
			return 0;
	}
	if (!ct || ct->expires_ns <= now || (ct->flags & FP_CT_DIRECT) ||
	    ct->kind != (dir == FP_CT_REPLY ? FP_CT_KIND_MASQ : FP_CT_KIND_DNAT))
		return 0;
	if (ct->route.generation != cfg->generation || !ct->route.out_ifindex ||
	    ct->route.in_ifindex != ctx_ifindex(ctx)) {
		if (!fp_flow_resolve(ctx, pkt, ct, dir, cfg->generation))
			return 0;
	}
	/* Checked per packet, not at resolving: the route may have been resolved by the other
	 * hook on this device (tc delivers to a tun, XDP does not), and a frame switched to the
	 * endpoint's own MAC goes as it is. Both are the full path's. */
	if (!ctx_delivers_to(ct->route.ep_kind) ||
	    (ct->route.ep_kind != FP_EP_TUN && fp_mac_equal(pkt->eth->h_dest, ct->route.dst_mac)))
		return 0;
	if (fp_too_big_for(ctx, pkt, ct->route.out_ifindex))
		return 0;
	fp_ct_touch(ctx, ct, pkt, dir, now);
	/* Routed as the full path routes it, before the translation: under tc its helpers
	 * invalidate the packet pointers. The TTL was checked above. */
	fp_decrement_ttl(pkt);
	fp_mac_copy(pkt->eth->h_dest, ct->route.dst_mac);
	fp_mac_copy(pkt->eth->h_source, ct->route.src_mac);
	fp_note_delivery(ct->route.out_ifindex, ct->route.slot, ctx_len(ctx));
	ret = fp_ct_apply(ctx, pkt, ct, dir);
	if (ret < 0)
		return ret;
	/* Never 0 (the redirect helpers answer TC_ACT_REDIRECT or TC_ACT_SHOT), but the
	 * verifier cannot know: a 0 would send a rewritten packet down the full path, with
	 * packet pointers the translation invalidated. */
	return ctx_redirect_endpoint(ctx, ct->route.out_ifindex, ct->route.ep_kind) ?: -FP_DROP_REDIRECT;
}

#endif
