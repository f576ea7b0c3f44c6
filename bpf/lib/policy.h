/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Per-endpoint policy: the host as each container's firewall (maps/abi/flatpath_abi.h,
 * struct fp_policy, says what a policy is). Three places see an endpoint's traffic, and
 * each checks it here:
 *  - what it sends: its own hook (from_container, from_tun), first, on the packet as the
 *    endpoint sent it (before anything translates it);
 *  - what the fast path delivers to it: the exit of the hook that delivers (fp_exit), on
 *    the packet as it arrives (translated: a published port's backend address and port);
 *  - what the host stack sends it: to_container, on its device's tc egress.
 * A flow's first packet is checked against the rules; the flow is then kept in
 * fp_policy_flows, keyed from the endpoint's side, and its packets pass both ways.
 * Not checked: a fragment after the first (it has no ports: the first one decided, and
 * the endpoint's stack cannot put a packet together without it), IPv6 neighbour discovery
 * and multicast listener messages (without them IPv6 stops working), and non-IP frames.
 * An ICMP error passes only when the flow it quotes is one the policy allowed.
 * Each check is a subprogram called from a hook's top level: the handlers use up BPF's
 * 512-byte stack between them.
 */
#ifndef FP_LIB_POLICY_H
#define FP_LIB_POLICY_H

#include "maps.h"
#include "l4.h"
#include "ct.h"
#include "fwd.h"
#include "icmp_error.h"
#include "trace.h"

#define FP_ICMPV6_MLD_QUERY 130
#define FP_ICMPV6_NEIGHBOUR_REDIRECT 137 /* router solicitation .. redirect: 133-137 */
#define FP_ICMPV6_MLD2_REPORT 143

/* Messages IPv6 itself needs on a link, whatever a policy says. */
static __always_inline int fp_policy_exempt_icmpv6(const struct fp_pkt *pkt)
{
	__u8 t = pkt->l4.icmp_type;

	return pkt->l4.proto == FP_NEXTHDR_ICMPV6 &&
	       ((t >= FP_ICMPV6_MLD_QUERY && t <= FP_ICMPV6_NEIGHBOUR_REDIRECT) || t == FP_ICMPV6_MLD2_REPORT);
}

static __always_inline int fp_policy_rule_matches(const struct fp_policy_rule *r, const struct fp_policy_flow_key *k,
						  __u16 port)
{
	if (r->proto && r->proto != k->proto && !(r->proto == IPPROTO_ICMP && k->proto == FP_NEXTHDR_ICMPV6))
		return 0;
	if (r->port_last && (port < r->port_first || port > r->port_last))
		return 0;
	if (r->family && r->family != (fp_addr_v4_mapped(&k->remote) ? 4 : 6))
		return 0;
	return (k->remote.w[0] & r->mask.w[0]) == r->addr.w[0] && (k->remote.w[1] & r->mask.w[1]) == r->addr.w[1] &&
	       (k->remote.w[2] & r->mask.w[2]) == r->addr.w[2] && (k->remote.w[3] & r->mask.w[3]) == r->addr.w[3];
}

/* A walk over a policy's rules (fp_policy_decide), in the caller's frame. */
struct fp_policy_walk {
	const struct fp_policy *pol;
	const struct fp_policy_flow_key *k;
	__u16 port;
	__u8 dir;
	__u8 verdict; /* 0 (no rule matched yet), or enum fp_policy_action */
};

static long fp_policy_walk_rule(__u32 i, void *data)
{
	struct fp_policy_walk *w = data;
	const struct fp_policy_rule *r;

	if (i >= FP_MAX_POLICY_RULES || i >= w->pol->count)
		return 1;
	/* Changes no value (checked above, and the count is a power of 2), but bounds the
	 * register the index arithmetic uses: clang computes it from an unchecked copy. */
	asm volatile("%0 &= %1" : "+r"(i) : "i"(FP_MAX_POLICY_RULES - 1));
	r = &w->pol->rules[i];
	if (r->dir != w->dir || !fp_policy_rule_matches(r, w->k, w->port))
		return 0;
	w->verdict = r->action;
	return r->action == FP_POLICY_DENY; /* a deny is final */
}

/*
 * What pol says about a flow that dir starts, k from the endpoint's side: a matching deny
 * rule wins, then a matching allow rule, then the default. The port a rule tests is the
 * destination's: the remote one going out, the endpoint's own coming in. Only a new
 * flow's packet walks the rules, with bpf_loop: the verifier checks one rule, not every
 * way a walk over 64 can go.
 */
static __always_inline __u8 fp_policy_decide(const struct fp_policy *pol, const struct fp_policy_flow_key *k, __u8 dir)
{
	struct fp_policy_walk w = { .pol = pol, .k = k, .dir = dir };

	if (k->proto == IPPROTO_TCP || k->proto == IPPROTO_UDP)
		w.port = bpf_ntohs(dir == FP_POLICY_OUT ? k->remote_port : k->local_port);
	bpf_loop(FP_MAX_POLICY_RULES, fp_policy_walk_rule, &w, 0);
	return w.verdict ? w.verdict : pol->defaults[dir & 1];
}

static __always_inline void fp_policy_flow_key(struct fp_policy_flow_key *k, __u32 ifindex, const union fp_addr *local,
					       const union fp_addr *remote, __be16 local_port, __be16 remote_port,
					       __u8 proto)
{
	__builtin_memset(k, 0, sizeof(*k));
	k->ifindex = ifindex;
	k->local = *local;
	k->remote = *remote;
	k->local_port = local_port;
	k->remote_port = remote_port;
	k->proto = proto;
}

/* An ICMP error is related traffic: it passes when the flow it quotes is one of the
 * endpoint's, which the policy allowed. Quoted is what went the other way. */
static __always_inline int fp_policy_icmp_error(struct __ctx_buff *ctx, const struct fp_pkt *pkt, __u32 ifindex,
						__u8 dir)
{
	struct fp_policy_flow_key k;
	struct fp_icmp_quote q;

	if (fp_parse_icmp_quote(pkt, &q, ctx_data(ctx), ctx_data_end(ctx)) < 0)
		return -FP_DROP_POLICY;
	if (dir == FP_POLICY_IN) /* about a packet the endpoint sent */
		fp_policy_flow_key(&k, ifindex, &q.src, &q.dst, q.sport, q.dport, q.proto);
	else
		fp_policy_flow_key(&k, ifindex, &q.dst, &q.src, q.dport, q.sport, q.proto);
	return bpf_map_lookup_elem(&fp_policy_flows, &k) ? 0 : -FP_DROP_POLICY;
}

static __always_inline __u64 fp_policy_timeout_ns(const struct fp_pkt *pkt)
{
	if (pkt->l4.proto != IPPROTO_TCP)
		return FP_CT_TIMEOUT_UDP_STREAM * FP_NS_PER_SEC;
	if (pkt->l4.tcp_flags & (FP_TCP_FIN | FP_TCP_RST))
		return FP_CT_TIMEOUT_TCP_CLOSE * FP_NS_PER_SEC;
	return FP_CT_TIMEOUT_TCP_ESTABLISHED * FP_NS_PER_SEC;
}

/*
 * A packet of an allowed flow: a FIN or a reset gives it the closing time; any other packet
 * pushes its deadline on once half its time is gone (a busy flow's packets do not all
 * write the entry every CPU reads), except a closed TCP flow's (its last ACKs).
 */
static __always_inline void fp_policy_flow_touch(struct fp_policy_flow *flow, const struct fp_pkt *pkt, __u64 now,
						 __u64 timeout)
{
	const __u64 closing = FP_CT_TIMEOUT_TCP_CLOSE * FP_NS_PER_SEC;
	__u64 left = flow->expires_ns - now;

	if (pkt->l4.proto == IPPROTO_TCP && timeout == closing) {
		if (left > closing)
			flow->expires_ns = now + closing;
	} else if (left < timeout / 2 && !(pkt->l4.proto == IPPROTO_TCP && left <= closing)) {
		flow->expires_ns = now + timeout;
	}
}

/* While tracing: a policy-allow event for a new flow the policy of ifindex allowed. The
 * tuple is built in c->after, which the packet's own event fills anew: flow_orig may hold
 * a flow event the hook noted (a published port's flow-new) that its exit sends later. */
static __always_inline void fp_trace_policy_allow(struct __ctx_buff *ctx, const struct fp_pkt *pkt)
{
	const struct fp_trace_filter *f = fp_trace_filter_get();
	struct fp_trace_cpu *c;
	struct fp_trace_event *e;

	if (!f || !(f->kinds & (1u << FP_TRACE_POLICY_ALLOW)))
		return;
	c = fp_trace_cpu_get();
	if (!c)
		return;
	__builtin_memset(&c->after, 0, sizeof(c->after));
	c->after.l3 = (__u8)pkt->l3;
	c->after.proto = pkt->l4.proto;
	c->after.saddr = pkt->src;
	c->after.daddr = pkt->dst;
	c->after.sport = pkt->l4.sport;
	c->after.dport = pkt->l4.dport;
	if (!fp_trace_match(f, ctx_ifindex(ctx), &c->after, &c->after))
		return;
	e = fp_trace_reserve(ctx, FP_TRACE_POLICY_ALLOW, c);
	if (!e)
		return;
	e->before = c->after;
	e->after = c->after;
	bpf_ringbuf_submit(e, 0);
}

/*
 * What pol, the policy of the endpoint on ifindex, says of ctx's packet, parsed into pkt
 * (fp_parse accepted it), which the endpoint sends (dir FP_POLICY_OUT) or receives
 * (FP_POLICY_IN). Returns 0 to let it pass, or -FP_DROP_POLICY.
 */
static __always_inline int fp_policy_judge(struct __ctx_buff *ctx, const struct fp_policy *pol, struct fp_pkt *pkt,
					   __u32 ifindex, __u8 dir)
{
	struct fp_policy_flow_key k;
	struct fp_policy_flow *flow;
	struct fp_policy_flow fresh = {};
	__u64 now, timeout;

	if (fp_parse_l4(pkt, ctx_data(ctx), ctx_data_end(ctx)) < 0)
		return -FP_DROP_POLICY; /* nothing a policy could allow */
	if (pkt->l4.frag == FP_FRAG_LATER || fp_policy_exempt_icmpv6(pkt))
		return 0;
	if (fp_is_icmp_error(pkt))
		return fp_policy_icmp_error(ctx, pkt, ifindex, dir);
	if (dir == FP_POLICY_OUT)
		fp_policy_flow_key(&k, ifindex, &pkt->src, &pkt->dst, pkt->l4.sport, pkt->l4.dport, pkt->l4.proto);
	else
		fp_policy_flow_key(&k, ifindex, &pkt->dst, &pkt->src, pkt->l4.dport, pkt->l4.sport, pkt->l4.proto);
	now = fp_ct_now();
	timeout = fp_policy_timeout_ns(pkt);
	flow = bpf_map_lookup_elem(&fp_policy_flows, &k);
	if (flow && flow->expires_ns > now) {
		/* Decided under another policy: decided again, as it started. */
		if (flow->generation != pol->generation) {
			if (fp_policy_decide(pol, &k, flow->origin) != FP_POLICY_ALLOW) {
				bpf_map_delete_elem(&fp_policy_flows, &k);
				return -FP_DROP_POLICY;
			}
			flow->generation = pol->generation;
		}
		fp_policy_flow_touch(flow, pkt, now, timeout);
		return 0;
	}
	if (fp_policy_decide(pol, &k, dir) != FP_POLICY_ALLOW)
		return -FP_DROP_POLICY;
	fresh.expires_ns = now + timeout;
	fresh.generation = pol->generation;
	fresh.origin = dir;
	/* A full table evicts the least recently used flow (LRU): never an error. */
	bpf_map_update_elem(&fp_policy_flows, &k, &fresh, BPF_ANY);
	fp_trace_policy_allow(ctx, pkt);
	return 0;
}

/*
 * The policy of the endpoint on ifindex for ctx's packet, which it receives. l3_proto: 0,
 * or the packet has no Ethernet header (a tun's tc egress) and this is its family as an
 * Ethernet type. Returns 0 to let it pass, or -FP_DROP_POLICY.
 */
static __noinline int fp_policy_check_in(struct __ctx_buff *ctx, __u32 ifindex, __u32 l3_proto)
{
	const struct fp_policy *pol = bpf_map_lookup_elem(&fp_policy, &ifindex);
	struct fp_pkt pkt;
	int ret;

	if (!pol)
		return 0;
	ret = l3_proto ? fp_parse_l3(&pkt, ctx_data(ctx), ctx_data_end(ctx), (__be16)l3_proto)
		       : fp_parse(&pkt, ctx_data(ctx), ctx_data_end(ctx));
	if (ret == -FP_PASS_NOT_IP || ret == -FP_PASS_VLAN)
		return 0; /* the stack's own (ARP) */
	if (ret < 0)
		return -FP_DROP_POLICY;
	return fp_policy_judge(ctx, pol, &pkt, ifindex, FP_POLICY_IN);
}

/* Whether any endpoint has a policy: all a hook pays while none has. */
static __always_inline int fp_policies_exist(void)
{
	const struct fp_config *cfg = bpf_map_lookup_elem(&fp_config, (const void *)&fp_key_zero);

	return cfg && cfg->policies;
}

#ifdef FP_LIB_CTX_SKB_H
/*
 * At a hook's start, for what an endpoint sends: its policy, when it has one, for a
 * packet from one of its own addresses (anything else is dropped by its hook as spoofed,
 * and must not take room in the flow table).
 */
static __noinline int fp_policy_from_endpoint(struct __sk_buff *ctx)
{
	struct fp_endpoint_key key;
	const struct fp_endpoint *ep;
	const struct fp_policy *pol;
	struct fp_pkt pkt;
	__u32 ifindex = ctx->ifindex;

	/* The device's policy first: the other endpoints' packets pay this lookup, no parse. */
	pol = bpf_map_lookup_elem(&fp_policy, &ifindex);
	if (!pol)
		return 0;
	/* Not IP, VLAN-tagged or malformed: its hook passes or drops it, no policy needed. */
	if (fp_parse(&pkt, ctx_data(ctx), ctx_data_end(ctx)) < 0)
		return 0;
	key.addr = pkt.src;
	ep = bpf_map_lookup_elem(&fp_endpoints, &key);
	if (!ep || ep->ifindex != ifindex)
		return 0;
	return fp_policy_judge(ctx, pol, &pkt, ifindex, FP_POLICY_OUT);
}

static __always_inline int fp_policy_sent(struct __sk_buff *ctx)
{
	return fp_policies_exist() ? fp_policy_from_endpoint(ctx) : 0;
}

/* On an endpoint device's tc egress, for what the host stack sends it. l3_proto as for
 * fp_policy_check_in. */
static __always_inline int fp_policy_received(struct __sk_buff *ctx, __u32 l3_proto)
{
	return fp_policies_exist() ? fp_policy_check_in(ctx, ctx->ifindex, l3_proto) : 0;
}
#endif

/*
 * At a hook's exit, ret its verdict: when it delivers to an endpoint, that endpoint's
 * policy for the packet as it arrives, and the endpoint's counters. Returns ret, or
 * -FP_DROP_POLICY.
 */
static __always_inline int fp_delivery_done(struct __ctx_buff *ctx, int ret)
{
	struct fp_delivery *d = fp_delivery_get();
	struct fp_ep_stats *st;
	__u32 ifindex, slot, len;

	if (!d || !d->ifindex)
		return ret;
	ifindex = d->ifindex;
	slot = d->slot;
	len = d->len;
	d->ifindex = 0;
	if (ret < 0)
		return ret;
	if (fp_policies_exist() && fp_policy_check_in(ctx, ifindex, 0) < 0)
		return -FP_DROP_POLICY;
	st = bpf_map_lookup_elem(&fp_ep_stats, &slot);
	if (st) {
		st->to_packets++;
		st->to_bytes += len;
	}
	return ret;
}

#endif
