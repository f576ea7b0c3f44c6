/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Masquerade, the way back: what arrives from outside for a masqueraded flow
 * (a reply at the host's address and a masquerade port, or an ICMP error
 * quoting one of its packets) gets the container's address and port back. The
 * way out, which needs the host's routes, is tc only (masq_out.h).
 *
 * A masqueraded flow is a conntrack pair like a DNAT flow's, seen from the other
 * end: the container is the client, its original entry rewrites the source to
 * the host's address and an allocated port (FP_CT_SNAT), and the reply entry,
 * keyed by that address and port, rewrites the destination back.
 */
#ifndef FP_LIB_MASQ_H
#define FP_LIB_MASQ_H

#include "dnat.h"

static __always_inline int fp_icmp_echo(const struct fp_pkt *pkt)
{
	__u8 t = pkt->l4.icmp_type;

	if (pkt->l4.proto == IPPROTO_ICMP)
		return t == FP_ICMP_ECHO || t == FP_ICMP_ECHO_REPLY;
	return pkt->l4.proto == FP_NEXTHDR_ICMPV6 && (t == FP_ICMPV6_ECHO || t == FP_ICMPV6_ECHO_REPLY);
}

/* Whether pkt can be part of a masqueraded flow: TCP, UDP or an ICMP echo, with its ports. */
static __always_inline int fp_masq_applies(const struct fp_pkt *pkt)
{
	return pkt->l4.frag != FP_FRAG_LATER &&
	       (pkt->l4.proto == IPPROTO_TCP || pkt->l4.proto == IPPROTO_UDP || fp_icmp_echo(pkt));
}

/*
 * Whether pkt may start a masqueraded flow: a TCP SYN, an echo request, any UDP datagram.
 * A container's SYN-ACK, or its answer to a ping, belongs to a connection someone
 * reached it with directly (a LAN that routes to it): masqueraded, it would come from an
 * address the peer never talked to. UDP has no such sign: fp_ct_mark_direct_udp leaves
 * one for datagrams that reach a container directly.
 */
static __always_inline int fp_masq_starts_flow(const struct fp_pkt *pkt)
{
	if (pkt->l4.proto == IPPROTO_TCP)
		return fp_tcp_bare_syn(pkt);
	if (pkt->l4.proto == IPPROTO_UDP)
		return 1;
	return pkt->l4.icmp_type == (pkt->l4.proto == IPPROTO_ICMP ? FP_ICMP_ECHO : FP_ICMPV6_ECHO);
}

/*
 * A UDP datagram that reached a local endpoint directly, from outside (routed to its own
 * address, not through a published port): a marker entry, keyed as the endpoint's answer
 * would be, tells the way out that this answer is no new flow to masquerade. It lives as
 * long as an unanswered UDP flow, from the last datagram in. Only while masquerading.
 */
static __always_inline void fp_ct_mark_direct_udp(const struct fp_pkt *pkt)
{
	struct fp_ct_entry e = {}, *known;
	struct fp_ct_key key;
	__u64 expires = fp_ct_now() + FP_CT_TIMEOUT_UDP * FP_NS_PER_SEC;

	fp_ct_key_set(&key, &pkt->dst, &pkt->src, pkt->l4.dport, pkt->l4.sport, IPPROTO_UDP, FP_CT_ORIGINAL);
	known = bpf_map_lookup_elem(&fp_ct_new, &key);
	if (known) {
		if (known->flags & FP_CT_DIRECT)
			known->expires_ns = expires;
		return;
	}
	/* No addresses to translate to: the ICMP-error lookups skip markers (an error the
	 * endpoint sends about such a datagram is its own, as it is). */
	e.flags = FP_CT_DIRECT;
	e.expires_ns = expires;
	fp_ct_note_endpoint(&pkt->dst);
	bpf_map_update_elem(&fp_ct_new, &key, &e, BPF_NOEXIST);
}

/*
 * A reply to a masqueraded flow, from outside: 1 after translating (re-parse), 0 when
 * no masqueraded flow has it, or a reason (-FP_PASS_REMOTE_BACKEND, untouched, for the
 * reply of a published port's flow to another host's backend, which also has a port of
 * the range: lib/dnat_remote.h). Only packets to a masquerade port are looked up: the
 * host's own connections use ports below the range.
 */
/* Whether pkt arrives at a port of the masquerade range, where the host allocates the
 * ports of its source-translated flows (masqueraded, or to another host's backend): only
 * such packets can be their replies. */
static __always_inline int fp_to_masq_port(const struct fp_pkt *pkt, const struct fp_config *cfg)
{
	__u16 port = bpf_ntohs(pkt->l4.dport);

	return (cfg->masq_rules || cfg->cluster_dests) && port >= cfg->masq_port_min && port <= cfg->masq_port_max;
}

static __always_inline int fp_masq_reply(struct __ctx_buff *ctx, const struct fp_pkt *pkt,
					 const struct fp_config *cfg)
{
	struct fp_ct_entry *ct;
	struct fp_ct_key key;
	__u64 now = fp_ct_now();
	int assured = 0;

	if (!fp_to_masq_port(pkt, cfg) || !fp_masq_applies(pkt))
		return 0;
	fp_ct_key_of(&key, pkt, FP_CT_REPLY);
	ct = fp_ct_find(&key, now, &assured);
	if (ct && ct->kind == FP_CT_KIND_DNAT_REMOTE)
		return -FP_PASS_REMOTE_BACKEND;
	if (!ct || ct->kind != FP_CT_KIND_MASQ)
		return 0;
	return fp_ct_reply_apply(ctx, pkt, ct, assured, now);
}

#endif
