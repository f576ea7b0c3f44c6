/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Packet marks for policy routing: a container's packets from a port (replies
 * leaving a published port) or to an address and port get skb->mark set, so
 * that `ip rule fwmark` can route them out of another gateway. Looked up with
 * the container's own addresses and ports, before any translation.
 */
#ifndef FP_LIB_MARK_H
#define FP_LIB_MARK_H

#ifndef FP_LIB_CTX_SKB_H
#error "mark.h is tc only (XDP has no skb->mark): include lib/ctx_skb.h first"
#endif

#include "maps.h"
#include "l4.h"

/* The rule of one key shape: addr 0 for the any address. */
static __always_inline const struct fp_mark *fp_mark_lookup(const union fp_addr *addr, __u8 proto, __be16 port,
							    __u8 match)
{
	struct fp_mark_key key = { .port = port, .proto = proto, .match = match };

	if (addr)
		key.addr = *addr;
	return bpf_map_lookup_elem(&fp_marks, &key);
}

/* The rule for pkt (TCP or UDP), most specific first: the source rule (address, then
 * any), then the destination rule (the same). Each key shape is looked up only while rules
 * of it exist: a packet no rule matches costs one lookup, not four, where only the usual
 * shape ({a container's address, its published port}) is in use. */
static __always_inline const struct fp_mark *fp_mark_rule(const struct fp_pkt *pkt, const struct fp_config *cfg)
{
	const struct fp_mark *m = 0;
	__u8 proto = pkt->l4.proto;

	if (proto != IPPROTO_TCP && proto != IPPROTO_UDP)
		return 0;
	if (cfg->mark_rules - cfg->mark_destinations - cfg->mark_any_source)
		m = fp_mark_lookup(&pkt->src, proto, pkt->l4.sport, FP_MARK_SOURCE);
	if (!m && cfg->mark_any_source)
		m = fp_mark_lookup(0, proto, pkt->l4.sport, FP_MARK_SOURCE);
	if (!m && cfg->mark_destinations - cfg->mark_any_destination)
		m = fp_mark_lookup(&pkt->dst, proto, pkt->l4.dport, FP_MARK_DESTINATION);
	if (!m && cfg->mark_any_destination)
		m = fp_mark_lookup(0, proto, pkt->l4.dport, FP_MARK_DESTINATION);
	return m;
}

static __always_inline void fp_apply_marks(struct __sk_buff *ctx, const struct fp_pkt *pkt, const struct fp_config *cfg)
{
	const struct fp_mark *m = fp_mark_rule(pkt, cfg);

	if (m)
		ctx_set_mark(ctx, m->value, m->mask);
}

#endif
