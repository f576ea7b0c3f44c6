/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The established flow's fast path for what an endpoint sends (tc only): a published
 * port's replies (the flow's reply direction) and a masqueraded flow's packets (its
 * original direction), to no local endpoint. The first such packet under the current
 * tables takes the full path's checks here once and leaves what flatpath's own tables
 * decided in the entry (fp_ct_route): that the sender is the endpoint its address is
 * registered to (device, MAC, counters slot), and the mark its packets get (lib/mark.h).
 * Later packets read it back, so that a flow's packet costs its conntrack lookup, the
 * route, the rewrite and the redirect. Where a packet leaves the host is the host's to
 * say: its route and next hop are looked up per packet (bpf_fib_lookup, with the mark),
 * as the full path does, so a route, rule or neighbour change applies from the next
 * packet, with nothing cached to invalidate. Any change to flatpath's tables moves
 * fp_config.generation on, and each flow resolves again at its next packet. What is out
 * of the ordinary (see fp_flow_plain; a hairpin, whose client is a local endpoint; a flow
 * not assured yet; a route the host would not forward by) takes the full path, which
 * knows what to do.
 */
#ifndef FP_LIB_FLOW_CACHE_SENT_H
#define FP_LIB_FLOW_CACHE_SENT_H

#ifndef FP_LIB_CTX_SKB_H
#error "flow_cache_sent.h is tc only (marks, routes): include lib/ctx_skb.h first"
#endif

#include "flow_cache.h"
#include "mark.h"
#include "route.h"
#include "cluster.h"
#include "masq_out.h"

/*
 * What the full path would do with pkt, a packet to no local endpoint of the flow whose
 * entry (kind DNAT, reply direction, or kind MASQ, original direction) is ct: 1 when it
 * passes the sender's checks and is translated and routed out by the flow, with that left
 * in ct->route for generation; 0 when the full path would do anything else.
 */
static __always_inline int fp_sent_flow_resolve(struct __sk_buff *ctx, const struct fp_pkt *pkt,
						struct fp_ct_entry *ct, const struct fp_config *cfg)
{
	const struct fp_endpoint *ep = fp_endpoint_of(&pkt->src);
	const struct fp_mark *m = 0;

	/* fp_check_source's checks: an IP source registered to this very device, its MAC. */
	if (!ep || ep->ifindex != ctx_ifindex(ctx) || !fp_mac_equal(pkt->eth->h_source, ep->mac))
		return 0;
	/* The full path translates a reply only from a published backend's port (fp_dnat_reply),
	 * and forwards a masqueraded flow to what is now another host's container untranslated. */
	if (ct->kind == FP_CT_KIND_DNAT ? !fp_is_backend(&pkt->src, pkt->l4.proto, pkt->l4.sport)
					: !!fp_cluster_lookup(cfg, &pkt->dst))
		return 0;
	ct->route.in_ifindex = ep->ifindex;
	ct->route.from_slot = ep->slot;
	fp_mac_copy(ct->route.from_mac, ep->mac);
	if (cfg->mark_rules)
		m = fp_mark_rule(pkt, cfg);
	ct->route.mark_value = m ? m->value : 0;
	ct->route.mark_mask = m ? m->mask : 0;
	/* The generation goes last, as in fp_flow_resolve. */
	asm volatile("" ::: "memory");
	ct->route.generation = cfg->generation;
	return 1;
}

/* The conntrack entry that pkt, sent by an endpoint, would be translated by on the fast
 * path, with its direction in *dir; 0 for none. */
static __always_inline struct fp_ct_entry *fp_sent_flow_find(const struct fp_pkt *pkt, const struct fp_config *cfg,
							     __u8 *dir)
{
	struct fp_ct_scratch *s = fp_ct_scratch_get();
	struct fp_ct_entry *ct = 0;

	if (!s)
		return 0;
	/* A published port's reply, from a backend: only while ports are published. */
	if (cfg->dnat_entries) {
		fp_ct_key_of(&s->key, pkt, FP_CT_REPLY);
		ct = bpf_map_lookup_elem(&fp_ct, &s->key);
		*dir = FP_CT_REPLY;
		if (ct && ct->kind != FP_CT_KIND_DNAT)
			return 0;
	}
	if (!ct && cfg->masq_rules) {
		fp_ct_key_of(&s->key, pkt, FP_CT_ORIGINAL);
		ct = bpf_map_lookup_elem(&fp_ct, &s->key);
		*dir = FP_CT_ORIGINAL;
		if (ct && ct->kind != FP_CT_KIND_MASQ)
			return 0;
	}
	/* DIRECT: an answer to a client that reached the backend straight, no translation.
	 * SNAT on a reply: a hairpin to itself, whose reply is rewritten both ways. */
	if (ct && (ct->flags & FP_CT_DIRECT || (*dir == FP_CT_REPLY && (ct->flags & FP_CT_SNAT))))
		return 0;
	return ct;
}

/*
 * A packet an endpoint sent (IP, its L3 header checked and fine) to no local endpoint,
 * sent on by its established flow: the redirect verdict, a drop reason, or 0 for the full
 * path (the packet untouched then, but for a mark the full path sets again). Inlined,
 * with its route lookup's space in the masquerade's scratch (the full path, which would
 * use it too, runs only when this one sent nothing): as a subprogram, its translation
 * would leave the verifier unsure of the handler's packet pointers on every return.
 */
static __always_inline int fp_sent_flow_fast(struct __sk_buff *ctx, struct fp_pkt *pkt, const struct fp_config *cfg)
{
	struct fp_masq_scratch *s = fp_masq_scratch_get();
	struct bpf_fib_lookup *p;
	struct fp_ct_entry *ct;
	long route;
	__u64 now;
	__u8 dir = FP_CT_REPLY;
	int ret;

	if (!s || fp_parse_l4(pkt, ctx_data(ctx), ctx_data_end(ctx)) < 0 || !fp_flow_plain(pkt))
		return 0;
	ct = fp_sent_flow_find(pkt, cfg, &dir);
	now = fp_ct_now();
	if (!ct || ct->expires_ns <= now)
		return 0;
	if (ct->route.generation != cfg->generation || ct->route.in_ifindex != ctx_ifindex(ctx)) {
		if (!fp_sent_flow_resolve(ctx, pkt, ct, cfg))
			return 0;
	}
	if (!fp_mac_equal(pkt->eth->h_source, ct->route.from_mac))
		return 0;
	if (ct->route.mark_mask)
		ctx_set_mark(ctx, ct->route.mark_value, ct->route.mark_mask);
	/* Routed as the full path routes it: a reply with the published address it leaves
	 * with as its source, a masqueraded packet as the container sent it. */
	p = &s->route;
	__builtin_memset(p, 0, sizeof(*p));
	route = fp_fib_lookup_between(ctx, pkt, dir == FP_CT_REPLY ? &ct->saddr : &pkt->src, &pkt->dst, p, 0);
	if (!fp_fib_forwards(route))
		return 0;
	fp_count_from(ct->route.from_slot, ctx_len(ctx));
	fp_ct_touch(ctx, ct, pkt, dir, now);
	/* Routed before the translation: under tc its helpers invalidate the packet pointers.
	 * The TTL was checked by fp_flow_plain. */
	fp_decrement_ttl(pkt);
	fp_fib_set_macs(pkt, p, route);
	ret = fp_ct_apply(ctx, pkt, ct, dir);
	if (ret < 0)
		return ret;
	return fp_fib_transmit(p, route) ?: -FP_DROP_REDIRECT;
}

#endif
