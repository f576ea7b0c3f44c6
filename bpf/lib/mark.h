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

static __always_inline const struct fp_mark *fp_mark_find(const union fp_addr *addr, __u8 proto, __be16 port,
							  __u8 match)
{
	struct fp_mark_key key = { .addr = *addr, .port = port, .proto = proto, .match = match };
	const struct fp_mark *m = bpf_map_lookup_elem(&fp_marks, &key);

	if (m)
		return m;
	__builtin_memset(&key.addr, 0, sizeof(key.addr));
	return bpf_map_lookup_elem(&fp_marks, &key);
}

/* The rule for pkt (TCP or UDP), most specific first: the source rule (address, then
 * any), then the destination rule. */
static __always_inline const struct fp_mark *fp_mark_rule(const struct fp_pkt *pkt)
{
	const struct fp_mark *m;

	if (pkt->l4.proto != IPPROTO_TCP && pkt->l4.proto != IPPROTO_UDP)
		return 0;
	m = fp_mark_find(&pkt->src, pkt->l4.proto, pkt->l4.sport, FP_MARK_SOURCE);
	if (!m)
		m = fp_mark_find(&pkt->dst, pkt->l4.proto, pkt->l4.dport, FP_MARK_DESTINATION);
	return m;
}

static __always_inline void fp_apply_marks(struct __sk_buff *ctx, const struct fp_pkt *pkt)
{
	const struct fp_mark *m = fp_mark_rule(pkt);

	if (m)
		ctx_set_mark(ctx, m->value, m->mask);
}

#endif
