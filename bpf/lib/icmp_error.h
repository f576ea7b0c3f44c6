/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * ICMP errors about translated flows: port unreachable, fragmentation needed
 * (ICMPv6 packet too big), time exceeded, parameter problem. An error quotes
 * the start of the packet it is about; both the error and the quote must be
 * translated, or the sender never learns (PMTU discovery breaks, a closed
 * port looks like a timeout).
 *
 *  - from the LAN, about a reply flatpath translated (quote: published ->
 *    client): the error goes to the backend, and the quote's source is the
 *    backend again;
 *  - from a backend, about a packet it received (quote: client -> backend):
 *    the error comes from the published address, and so does the quote's
 *    destination;
 *  - the same two for masqueraded flows (lib/masq.h), where the container is
 *    the client and the host's address the translated one.
 *
 * Checksums: an inner IPv4 address change is balanced by the inner header
 * checksum's own update, so the ICMPv4 checksum only follows the port; ICMPv6
 * covers a pseudo-header and the inner IPv6 addresses, so it follows those too.
 */
#ifndef FP_LIB_ICMP_ERROR_H
#define FP_LIB_ICMP_ERROR_H

#include "dnat.h"

#define FP_ICMP_ERROR_HEAD 8 /* type, code, checksum, 4 bytes (unused / MTU) */

/* The quoted packet inside an ICMP error. */
struct fp_icmp_quote {
	__u32 l3_off;
	__u32 l4_off;
	union fp_addr src;
	union fp_addr dst;
	__be16 sport;
	__be16 dport;
	__u8 proto;
};

static __always_inline int fp_is_icmp_error(const struct fp_pkt *pkt)
{
	__u8 t = pkt->l4.icmp_type;

	if (pkt->l3 == FP_L3_IPV4)
		return pkt->l4.proto == IPPROTO_ICMP &&
		       (t == FP_ICMP_DEST_UNREACH || t == FP_ICMP_TIME_EXCEEDED || t == FP_ICMP_PARAMETER_PROBLEM);
	return pkt->l4.proto == FP_NEXTHDR_ICMPV6 && t >= FP_ICMPV6_DEST_UNREACH && t <= FP_ICMPV6_PARAMETER_PROBLEM;
}

/* Returns 0 with *q filled when the quote holds an IP header and its TCP/UDP ports. */
static __always_inline int fp_parse_icmp_quote(const struct fp_pkt *pkt, struct fp_icmp_quote *q, void *data,
					       void *data_end)
{
	__u32 off = pkt->l4.off + FP_ICMP_ERROR_HEAD;
	struct fp_icmp_head *echo;
	__be16 *ports;

	if (off > FP_L4_MAX_OFF)
		return -1;
	/* The AND changes no value (checked above) but puts the bound on the register the
	 * pointer arithmetic uses: clang otherwise computes it from an unchecked copy. asm,
	 * because clang would fold a plain `&=` away. */
	asm volatile("%0 &= 0x1ff" : "+r"(off));
	q->l3_off = off;
	if (pkt->l3 == FP_L3_IPV4) {
		struct iphdr *ip = data + off;

		if ((void *)(ip + 1) > data_end || ip->ihl < 5)
			return -1;
		q->proto = ip->protocol;
		q->l4_off = off + ip->ihl * 4;
		fp_addr_from_v4(&q->src, ip->saddr);
		fp_addr_from_v4(&q->dst, ip->daddr);
	} else {
		struct ipv6hdr *ip6 = data + off;
		__u8 frag = FP_FRAG_NONE;

		if ((void *)(ip6 + 1) > data_end)
			return -1;
		q->proto = ip6->nexthdr;
		q->l4_off = off + sizeof(*ip6);
		fp_addr_from_v6(&q->src, &ip6->saddr);
		fp_addr_from_v6(&q->dst, &ip6->daddr);
		/* The quoted packet's own extension headers (a fragment header, destination
		 * options): its ports are behind them, and an error about a translated flow
		 * must be translated whatever the quote carries. */
		if (fp_ipv6_skip_ext(data, data_end, &q->l4_off, &q->proto, &frag) < 0 || frag == FP_FRAG_LATER)
			return -1;
	}
	if (q->l4_off > FP_L4_MAX_OFF)
		return -1;
	off = q->l4_off;
	asm volatile("%0 &= 0x1ff" : "+r"(off));
	if (q->proto == IPPROTO_TCP || q->proto == IPPROTO_UDP) {
		ports = data + off;
		if ((void *)(ports + 2) > data_end)
			return -1;
		q->sport = ports[0];
		q->dport = ports[1];
		return 0;
	}
	if (q->proto != (pkt->l3 == FP_L3_IPV4 ? IPPROTO_ICMP : FP_NEXTHDR_ICMPV6))
		return -1;
	/* A quoted echo (a masqueraded ping's, say a time exceeded on its way), keyed as the
	 * echo itself is; an error about an error, or another message: no flow has it. */
	echo = data + off;
	if ((void *)(echo + 1) > data_end)
		return -1;
	return fp_echo_ports(q->proto, echo, &q->sport, &q->dport) ? 0 : -1;
}

/*
 * Rewrites the outer address on `outer_side`, and the quote's address and port
 * on `quote_side`, to addr and port.
 */
static __always_inline int fp_icmp_error_rewrite(struct __ctx_buff *ctx, const struct fp_pkt *pkt,
						 const struct fp_icmp_quote *q, int outer_side, int quote_side,
						 const union fp_addr *addr, __be16 port)
{
	const union fp_addr *outer_old = outer_side == FP_NAT_DEST ? &pkt->dst : &pkt->src;
	const union fp_addr *quote_old = quote_side == FP_NAT_DEST ? &q->dst : &q->src;
	__be16 quote_old_port = quote_side == FP_NAT_DEST ? q->dport : q->sport;
	__u32 icmp_csum = pkt->l4.csum_off;

	if (pkt->l3 == FP_L3_IPV4) {
		__u32 outer_off = pkt->l3_off + (outer_side == FP_NAT_DEST ? 16 : 12);
		__u32 quote_off = q->l3_off + (quote_side == FP_NAT_DEST ? 16 : 12);

		if (ctx_store_bytes(ctx, outer_off, &addr->w[3], 4) ||
		    ctx_l3_csum_replace(ctx, pkt->l3_off + 10, outer_old->w[3], addr->w[3], 4) ||
		    ctx_store_bytes(ctx, quote_off, &addr->w[3], 4) ||
		    ctx_l3_csum_replace(ctx, q->l3_off + 10, quote_old->w[3], addr->w[3], 4))
			return -FP_DROP_NAT;
	} else {
		__u32 outer_off = pkt->l3_off + (outer_side == FP_NAT_DEST ? 24 : 8);
		__u32 quote_off = q->l3_off + (quote_side == FP_NAT_DEST ? 24 : 8);
		__s64 outer_diff = bpf_csum_diff((__be32 *)outer_old->w, 16, (__be32 *)addr->w, 16, 0);
		__s64 quote_diff = bpf_csum_diff((__be32 *)quote_old->w, 16, (__be32 *)addr->w, 16, 0);

		if (outer_diff < 0 || quote_diff < 0 || ctx_store_bytes(ctx, outer_off, addr->w, 16) ||
		    ctx_l4_csum_replace(ctx, icmp_csum, 0, (__u32)outer_diff, BPF_F_PSEUDO_HDR) ||
		    ctx_store_bytes(ctx, quote_off, addr->w, 16) ||
		    ctx_l4_csum_replace(ctx, icmp_csum, 0, (__u32)quote_diff, 0))
			return -FP_DROP_NAT;
	}
	if (port != quote_old_port) {
		/* The quote's own checksum is left as it was (a quoted UDP or echo one): no
		 * receiver checks what an error quotes. */
		__u32 port_off = q->l4_off + fp_port_offset(q->proto, quote_side == FP_NAT_DEST);

		if (ctx_store_bytes(ctx, port_off, &port, 2) ||
		    ctx_l4_csum_replace(ctx, icmp_csum, quote_old_port, port, 2))
			return -FP_DROP_NAT;
	}
	return 0;
}

/* The entry a quote's flow has in direction dir, looked up from the quote's other end:
 * the quote travelled one way, the key is for the packets that travel back. */
static __always_inline struct fp_ct_entry *fp_quote_entry(const struct fp_icmp_quote *q, __u8 dir)
{
	struct fp_ct_key key;
	int assured;

	fp_ct_key_set(&key, &q->dst, &q->src, q->dport, q->sport, q->proto, dir);
	return fp_ct_find(&key, fp_ct_now(), &assured);
}

/*
 * The translated flow a quote belongs to: a DNAT flow's entry in dnat_dir (without the
 * flags in dnat_refused), else a masqueraded flow's in the other direction. Markers
 * (FP_CT_DIRECT) translate nothing and hold no addresses: never one of them.
 */
static __always_inline struct fp_ct_entry *fp_quote_flow(const struct fp_icmp_quote *q, __u8 dnat_dir,
							 __u8 dnat_refused)
{
	struct fp_ct_entry *ct = fp_quote_entry(q, dnat_dir);

	if (ct && ct->kind == FP_CT_KIND_DNAT && !(ct->flags & (FP_CT_DIRECT | dnat_refused)))
		return ct;
	ct = fp_quote_entry(q, dnat_dir == FP_CT_ORIGINAL ? FP_CT_REPLY : FP_CT_ORIGINAL);
	if (ct && ct->kind == FP_CT_KIND_MASQ && !(ct->flags & FP_CT_DIRECT))
		return ct;
	return 0;
}

/*
 * An error from outside about a packet flatpath translated on its way out: a DNAT reply
 * (quote: published -> client, the reverse of its flow's original entry) or a
 * masqueraded packet (quote: host -> server, the reverse of its flow's reply entry).
 * Either entry says where the endpoint is. 1 after translating, 0 if no flow.
 */
static __always_inline int fp_icmp_error_original(struct __ctx_buff *ctx, const struct fp_pkt *pkt)
{
	struct fp_icmp_quote q = {};
	struct fp_ct_entry *ct, e;

	if (fp_parse_icmp_quote(pkt, &q, ctx_data(ctx), ctx_data_end(ctx)))
		return 0;
	ct = fp_quote_flow(&q, FP_CT_ORIGINAL, 0);
	if (!ct || !fp_addr_equal(&pkt->dst, &q.src))
		return 0;
	e = *ct;
	return fp_icmp_error_rewrite(ctx, pkt, &q, FP_NAT_DEST, FP_NAT_SOURCE, &e.daddr, e.dport) ?: 1;
}

/*
 * An error a container sends about a packet it received: as a published backend (quote:
 * client -> backend, the reverse of its flow's reply entry; not a hairpin's, whose
 * client is the host), or about a reply of its masqueraded flow (quote: server ->
 * container, the reverse of its original entry). The error then leaves from the
 * published (host) address, and so does the quote's destination. 1 after translating,
 * 0 if no flow.
 */
static __always_inline int fp_icmp_error_reply(struct __ctx_buff *ctx, const struct fp_pkt *pkt)
{
	struct fp_icmp_quote q = {};
	struct fp_ct_entry *ct, e;

	if (fp_parse_icmp_quote(pkt, &q, ctx_data(ctx), ctx_data_end(ctx)))
		return 0;
	ct = fp_quote_flow(&q, FP_CT_REPLY, FP_CT_SNAT);
	if (!ct || !fp_addr_equal(&pkt->src, &q.dst))
		return 0;
	e = *ct;
	return fp_icmp_error_rewrite(ctx, pkt, &q, FP_NAT_SOURCE, FP_NAT_DEST, &e.saddr, e.sport) ?: 1;
}

#endif
