/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Masquerade, the way out (tc only: it routes). A container's packet to no
 * local endpoint continues a flow conntrack knows (a published port reached
 * through the host, or a masqueraded flow), or starts one: DNAT first (hairpin),
 * then masquerade when its source subnet has a rule (fp_masq). A masqueraded
 * packet is routed as the host routes the container's own packet (its source
 * and mark: policy routing sees what it would see before iptables' SNAT), leaves
 * with the source address that route prefers and a port from the masquerade
 * range, and is transmitted by flatpath itself: handed to the stack with a host
 * address as its source on a container's veth, it would be dropped as a martian.
 */
#ifndef FP_LIB_MASQ_OUT_H
#define FP_LIB_MASQ_OUT_H

#ifndef FP_LIB_CTX_SKB_H
#error "masq_out.h is tc only (it routes with bpf_fib_lookup): include lib/ctx_skb.h first"
#endif

#include "masq.h"
#include "route.h"
#include "icmp_error.h"

/* Destinations a rule never masquerades to: multicast and broadcast (no flow leaves for
 * them), any masqueraded subnet (container networks reach each other with their own
 * addresses), and the rule's exceptions. */
static __always_inline int fp_masq_exempt(const union fp_addr *dst, __u32 rule_id)
{
	struct fp_masq_key net = { .prefixlen = 128, .addr = *dst };
	struct fp_masq_except_key except = { .prefixlen = 32 + 128, .rule_id = rule_id, .addr = *dst };

	if (fp_addr_v4_mapped(dst) ? dst->b[12] >= 224 : dst->b[0] == 0xff)
		return 1;
	return bpf_map_lookup_elem(&fp_masq, &net) || bpf_map_lookup_elem(&fp_masq_except, &except);
}

/*
 * A masqueraded packet larger than its route's MTU. One that must not be fragmented goes to
 * the stack as the container sent it: the stack answers as a router does ("fragmentation
 * needed", "packet too big") and sends nothing on. One a router would fragment after
 * translating is dropped: flatpath cannot fragment, and the stack would send it on
 * untranslated, with the container's own address.
 */
static __always_inline int fp_masq_too_big(const struct fp_pkt *pkt)
{
	return fp_must_not_fragment(pkt) ? -FP_PASS_MTU : -FP_DROP_FRAG_NEEDED;
}

/* The port search's state while a new flow looks for a free masquerade port (in
 * fp_masq_scratch, where bpf_loop's callback reads it). */
struct fp_masq_alloc {
	struct fp_ct_key rkey;    /* the reply key of the port being tried */
	struct fp_ct_entry reply; /* the flow's reply entry, written at the first free one */
	__u64 now;
	__u32 start;
	__u32 size;
	__u16 min;
	__u16 found;
};

/* A masqueraded packet's working space: its route out, kept from the lookup to the
 * transmit (an established flow's, lib/flow_cache_sent.h, too), and the port search's state. The 512-byte BPF stack, shared by the program
 * and bpf_loop's callback, does not hold them next to the packet and its conntrack entry.
 * Written and read by from_container within one packet, per CPU, so nothing else touches
 * it meanwhile: not pinned, not shared. */
struct fp_masq_scratch {
	struct bpf_fib_lookup route;
	struct fp_masq_alloc alloc;
	struct fp_ct_key okey;   /* the callback's: a closed flow's original key */
	struct fp_ct_entry flow; /* the packet's flow: its entry as found or made */
};

FP_SCRATCH_MAP(fp_masq_scratch, struct fp_masq_scratch)

/*
 * Tries port i of the walk: taken when a live flow's reply already arrives there (to
 * the same server address, port and protocol: ports are only shared per destination),
 * unless that flow is over (reset or closed both ways): then it gives the port up, both
 * its entries going, as Linux lets a new connection reuse a closed one's tuple. Without
 * that, a client that opens and resets connections to one server would hold every port
 * for the closing timeout. BPF_NOEXIST makes two CPUs that pick one port at once for two
 * flows see each other; an entry past its deadline that user space did not collect yet
 * is taken over.
 */
static long fp_masq_try_port(__u64 i, void *data)
{
	struct fp_masq_scratch *s = fp_masq_scratch_get();
	struct fp_ct_entry *held, *orig;
	struct fp_masq_alloc *a;
	void *table;
	int assured;

	(void)data;
	if (!s)
		return 1;
	a = &s->alloc;

	a->rkey.dport = bpf_htons((__u16)(a->min + (a->start + (__u32)i) % a->size));
	held = fp_ct_find(&a->rkey, a->now, &assured);
	if (held) {
		table = assured ? (void *)&fp_ct : (void *)&fp_ct_new;
		fp_ct_key_back_to(&s->okey, held, a->rkey.proto, FP_CT_ORIGINAL);
		orig = bpf_map_lookup_elem(table, &s->okey);
		if (held->kind == FP_CT_KIND_DNAT || !fp_ct_flow_closed(held->flags | (orig ? orig->flags : 0)))
			return 0;
		bpf_map_delete_elem(table, &s->okey);
		bpf_map_delete_elem(table, &a->rkey);
	}
	if (!bpf_map_update_elem(&fp_ct_new, &a->rkey, &a->reply, BPF_NOEXIST)) {
		a->found = 1;
		return 1;
	}
	held = bpf_map_lookup_elem(&fp_ct_new, &a->rkey);
	if (held && held->expires_ns <= a->now && !bpf_map_update_elem(&fp_ct_new, &a->rkey, &a->reply, BPF_EXIST)) {
		a->found = 1;
		return 1;
	}
	return 0;
}

/*
 * Writes a new flow whose source is translated to a port of the masquerade range: e, its
 * original entry (addresses, flags, kind), gets the first port at e->saddr that no live
 * flow from e->daddr:e->dport arrives at, its reply entry is written there and e under
 * pkt's own tuple, touched by pkt. Returns 1, or a reason.
 */
static __always_inline int fp_snat_flow_create(struct __sk_buff *ctx, const struct fp_pkt *pkt, struct fp_ct_entry *e,
					       struct fp_masq_alloc *a, const struct fp_config *cfg)
{
	struct fp_ct_key key;

	__builtin_memset(a, 0, sizeof(*a));
	a->now = fp_ct_now();
	fp_ct_touch(ctx, e, pkt, FP_CT_ORIGINAL, a->now);

	a->reply.saddr = pkt->dst;
	a->reply.sport = pkt->l4.dport;
	a->reply.daddr = pkt->src;
	a->reply.dport = pkt->l4.sport;
	a->reply.flags = e->flags;
	a->reply.kind = e->kind;
	a->reply.expires_ns = e->expires_ns;
	fp_ct_key_set(&a->rkey, &e->daddr, &e->saddr, e->dport, 0, pkt->l4.proto, FP_CT_REPLY);
	a->min = cfg->masq_port_min;
	a->size = cfg->masq_port_max >= cfg->masq_port_min ? cfg->masq_port_max - cfg->masq_port_min + 1 : 0;
	a->start = bpf_get_prandom_u32();
	if (a->size)
		bpf_loop(FP_MASQ_PORT_TRIES, fp_masq_try_port, 0, 0);
	if (!a->found)
		return -FP_DROP_MASQ_PORTS;
	e->sport = a->rkey.dport;
	fp_ct_key_of(&key, pkt, FP_CT_ORIGINAL);
	fp_ct_note_endpoint(&pkt->src); /* its destination is never a local endpoint's */
	if (bpf_map_update_elem(&fp_ct_new, &key, e, BPF_ANY)) {
		bpf_map_delete_elem(&fp_ct_new, &a->rkey);
		return -FP_DROP_CT_FULL;
	}
	fp_trace_flow(FP_TRACE_FLOW_NEW, pkt, e, FP_CT_ORIGINAL);
	return 1;
}

/*
 * A new flow from a masqueraded subnet: 1 with *e filled and the flow written (its port
 * allocated) and s->route, *route the route out; 0 when pkt is not masqueraded; or a reason.
 */
static __always_inline int fp_masq_new(struct __sk_buff *ctx, const struct fp_pkt *pkt, const struct fp_config *cfg,
				       struct fp_ct_entry *e, struct fp_masq_scratch *s, long *route)
{
	struct fp_masq_key src = { .prefixlen = 128, .addr = pkt->src };
	struct bpf_fib_lookup *p = &s->route;
	struct fp_masq_rule *rule;
	struct fp_iface_key out;
	struct fp_iface *iface;
	__u32 out_ifindex;

	rule = bpf_map_lookup_elem(&fp_masq, &src);
	if (!rule)
		return 0;
	out_ifindex = rule->out_ifindex;
	if (fp_masq_exempt(&pkt->dst, rule->id))
		return 0;
	__builtin_memset(p, 0, sizeof(*p));
	*route = fp_fib_lookup(ctx, pkt, p, FP_FIB_LOOKUP_SRC);
	if (out_ifindex && p->ifindex != out_ifindex)
		return 0;
	if (*route == BPF_FIB_LKUP_RET_FRAG_NEEDED)
		return fp_masq_too_big(pkt);
	/* To the host itself, unreachable: the stack answers the container. */
	if (!fp_fib_forwards(*route))
		return 0;
	out.ifindex = p->ifindex;
	iface = bpf_map_lookup_elem(&fp_ifaces, &out);
	/* Its replies would arrive where no flatpath program waits for them. */
	if (!iface || iface->role != FP_ROLE_UPLINK)
		return -FP_PASS_MASQ_NO_UPLINK;

	__builtin_memset(e, 0, sizeof(*e));
	fp_route_source(&e->saddr, p);
	e->daddr = pkt->dst;
	e->dport = pkt->l4.dport;
	e->flags = FP_CT_SNAT;
	e->kind = FP_CT_KIND_MASQ;
	return fp_snat_flow_create(ctx, pkt, e, &s->alloc, cfg);
}

/*
 * from_container, for a packet to no local endpoint (cfg: fp_config_get()'s): a flow
 * conntrack knows goes on as it began, a new one is a published port's (hairpin) or
 * masqueraded; anything else goes to the stack.
 */
static __always_inline int fp_translate_from_container(struct __sk_buff *ctx, struct fp_pkt *pkt,
						       const struct fp_config *cfg)
{
	struct fp_masq_scratch *s;
	struct fp_ct_entry *e;
	long route = -1;
	int ret;

	if (!cfg || !cfg->masq_rules)
		return fp_dnat_and_forward(ctx, pkt, cfg);
	if (!pkt->l4.off) {
		ret = fp_parse_l4(pkt, ctx_data(ctx), ctx_data_end(ctx));
		if (ret < 0)
			return ret;
	}
	if (pkt->l4.frag != FP_FRAG_NONE || fp_ttl_expires(pkt))
		return fp_dnat_and_forward(ctx, pkt, cfg); /* it says which */
	if (fp_is_icmp_error(pkt)) {
		ret = fp_icmp_error_reply(ctx, pkt);
		if (ret < 0)
			return ret;
		if (ret)
			return fp_reply_out(ctx);
		return fp_dnat_and_forward(ctx, pkt, cfg);
	}
	if (!fp_masq_applies(pkt))
		return -FP_PASS_NO_ENDPOINT;
	s = fp_masq_scratch_get();
	if (!s)
		return -FP_DROP_INTERNAL;
	e = &s->flow;
	ret = fp_ct_original_find(ctx, pkt, e, 0);
	if (ret > 0 && (e->flags & FP_CT_DIRECT))
		return -FP_PASS_NO_ENDPOINT; /* an answer to a datagram that reached it directly */
	if (!ret && cfg->dnat_entries && fp_nat_applies(pkt))
		ret = fp_dnat_new(ctx, pkt, cfg, e);
	if (!ret && fp_masq_starts_flow(pkt))
		ret = fp_masq_new(ctx, pkt, cfg, e, s, &route);
	if (ret <= 0)
		return ret ?: -FP_PASS_NO_ENDPOINT;
	if (e->kind != FP_CT_KIND_MASQ)
		return fp_ct_apply(ctx, pkt, e, FP_CT_ORIGINAL) ?: fp_forward_translated(ctx);
	if (route < 0) {
		/* A known flow: routed as the container's packet, like its first one. */
		__builtin_memset(&s->route, 0, sizeof(s->route));
		route = fp_fib_lookup(ctx, pkt, &s->route, 0);
		if (route == BPF_FIB_LKUP_RET_FRAG_NEEDED)
			return fp_masq_too_big(pkt);
		if (!fp_fib_forwards(route))
			return -FP_PASS_NO_ROUTE;
	}
	ret = fp_ct_apply(ctx, pkt, e, FP_CT_ORIGINAL);
	if (ret)
		return ret;
	/* Rewritten: parse again, then transmit by the route. */
	ret = fp_parse(pkt, ctx_data(ctx), ctx_data_end(ctx));
	if (ret < 0)
		return ret;
	return fp_fib_redirect(pkt, &s->route, route);
}

#endif
