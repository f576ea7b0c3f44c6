/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Transport-layer view of a parsed packet, for NAT and conntrack.
 *
 * Contract: fp_parse_l4() fills pkt->l4 from a packet fp_parse() and
 * fp_check_l3() accepted and returns 0; the ports are left 0 for protocols
 * without them and for non-first fragments (pkt->l4.frag says which), except
 * that an ICMP echo's identifier stands in for a port (see below). It
 * returns -FP_DROP_MALFORMED when a TCP/UDP/ICMP header is cut short or does
 * not fit the IP packet (TCP data offset, UDP length). It stores offsets, not pointers,
 * because NAT moves packet data under tc.
 */
#ifndef FP_LIB_L4_H
#define FP_LIB_L4_H

#include "proto.h"
#include <linux/tcp.h>
#include <linux/udp.h>
#include "parse.h"

/* The first bytes of ICMP and ICMPv6 headers. (linux/icmp.h would pull in libc headers.) */
struct fp_icmp_head {
	__u8 type;
	__u8 code;
	__sum16 checksum;
	__be32 rest;
};

/*
 * An echo's identifier is its flow's port, on the requester's side: a request carries it
 * as its source port, a reply as its destination port, so that the two directions of a
 * ping are keyed like those of TCP and UDP. proto is IPPROTO_ICMP or ICMPv6's; 1 when ih
 * is an echo request or reply (and its port is set), 0 otherwise.
 */
static __always_inline int fp_echo_ports(__u8 proto, const struct fp_icmp_head *ih, __be16 *sport, __be16 *dport)
{
	if (ih->type == (proto == IPPROTO_ICMP ? FP_ICMP_ECHO : FP_ICMPV6_ECHO)) {
		*sport = *(__be16 *)&ih->rest;
		return 1;
	}
	if (ih->type == (proto == IPPROTO_ICMP ? FP_ICMP_ECHO_REPLY : FP_ICMPV6_ECHO_REPLY)) {
		*dport = *(__be16 *)&ih->rest;
		return 1;
	}
	return 0;
}

/* Where a side's port is in an L4 header: TCP and UDP source 0, destination 2; an ICMP
 * echo's identifier, the same 4 for both sides. */
static __always_inline __u32 fp_port_offset(__u8 proto, int dest)
{
	if (proto == IPPROTO_ICMP || proto == FP_NEXTHDR_ICMPV6)
		return 4;
	return dest ? 2 : 0;
}

#define FP_IPV6_MAX_EXT 4 /* extension headers walked before giving up on finding L4 */
/* Transport headers further in than this are not parsed (they would be in a pile of
 * extension headers); it also gives the verifier a bound on the offset. */
#define FP_L4_MAX_OFF 256

enum fp_frag {
	FP_FRAG_NONE = 0,
	FP_FRAG_FIRST = 1, /* carries the L4 header */
	FP_FRAG_LATER = 2, /* no L4 header */
};

/* ip_end: where the IP packet ends (its lengths, checked against the frame). */
static __always_inline int fp_parse_l4_header(struct fp_pkt *pkt, void *data, void *data_end, __u32 ip_end)
{
	__u32 off = pkt->l4.off;
	void *l4;

	if (off > FP_L4_MAX_OFF)
		return -FP_DROP_MALFORMED;
	l4 = data + off;

	switch (pkt->l4.proto) {
	case IPPROTO_TCP: {
		struct tcphdr *th = l4;

		if ((void *)(th + 1) > data_end)
			return -FP_DROP_MALFORMED;
		/* The data offset covers at least the fixed header and ends inside the packet. */
		if (th->doff < 5 || off + th->doff * 4 > ip_end)
			return -FP_DROP_MALFORMED;
		pkt->l4.sport = th->source;
		pkt->l4.dport = th->dest;
		pkt->l4.tcp_flags = ((__u8 *)th)[13];
		pkt->l4.tcp_seq = bpf_ntohl(th->seq);
		pkt->l4.tcp_ack = bpf_ntohl(th->ack_seq);
		pkt->l4.csum_off = pkt->l4.off + 16;
		return 0;
	}
	case IPPROTO_UDP: {
		struct udphdr *uh = l4;

		if ((void *)(uh + 1) > data_end)
			return -FP_DROP_MALFORMED;
		/* Its length covers its header and ends inside the packet (0, a jumbogram's, too). */
		if (bpf_ntohs(uh->len) < sizeof(*uh) || off + bpf_ntohs(uh->len) > ip_end)
			return -FP_DROP_MALFORMED;
		pkt->l4.sport = uh->source;
		pkt->l4.dport = uh->dest;
		pkt->l4.csum_off = pkt->l4.off + 6;
		return 0;
	}
	case IPPROTO_ICMP:
	case FP_NEXTHDR_ICMPV6: {
		struct fp_icmp_head *ih = l4;

		if ((void *)(ih + 1) > data_end)
			return -FP_DROP_MALFORMED;
		pkt->l4.icmp_type = ih->type;
		pkt->l4.csum_off = pkt->l4.off + 2;
		fp_echo_ports(pkt->l4.proto, ih, &pkt->l4.sport, &pkt->l4.dport);
		return 0;
	}
	default:
		return 0;
	}
}

static __always_inline int fp_parse_l4_ipv4(struct fp_pkt *pkt, void *data, void *data_end)
{
	struct iphdr *ip = pkt->ip4;
	__u16 frag = bpf_ntohs(ip->frag_off);

	pkt->l4.proto = ip->protocol;
	pkt->l4.off = pkt->l3_off + ip->ihl * 4;
	if (frag & 0x1fff)
		pkt->l4.frag = FP_FRAG_LATER;
	else if (frag & 0x2000)
		pkt->l4.frag = FP_FRAG_FIRST;
	if (pkt->l4.frag == FP_FRAG_LATER)
		return 0;
	return fp_parse_l4_header(pkt, data, data_end, pkt->l3_off + bpf_ntohs(ip->tot_len));
}

/*
 * Walks the IPv6 extension headers that start at *off with type *next (hop-by-hop,
 * routing, fragment, destination options, AH), leaving *off and *next at the first
 * header that is none of them; *frag says what a fragment header said. Returns 0, or
 * -FP_DROP_MALFORMED when a header is cut short or the chain goes past FP_L4_MAX_OFF.
 * The packet's own chain and an ICMPv6 error's quoted one are walked alike.
 */
static __always_inline int fp_ipv6_skip_ext(void *data, void *data_end, __u32 *off, __u8 *next, __u8 *frag)
{
	int i;

#pragma unroll
	for (i = 0; i < FP_IPV6_MAX_EXT; i++) {
		__u8 *ext;
		__u32 o = *off;

		if (*next != FP_NEXTHDR_HOP && *next != FP_NEXTHDR_ROUTING && *next != FP_NEXTHDR_FRAGMENT &&
		    *next != FP_NEXTHDR_DEST && *next != FP_NEXTHDR_AUTH)
			break;
		if (o > FP_L4_MAX_OFF)
			return -FP_DROP_MALFORMED;
		ext = data + o;
		if ((void *)(ext + 8) > data_end)
			return -FP_DROP_MALFORMED;
		if (*next == FP_NEXTHDR_FRAGMENT) { /* 8 bytes, offset and M flag in bytes 2-3 */
			__u16 f = bpf_ntohs(*(__be16 *)(ext + 2));

			*frag = (f & 0xfff8) ? FP_FRAG_LATER : (f & 1) ? FP_FRAG_FIRST : FP_FRAG_NONE;
			*off = o + 8;
		} else if (*next == FP_NEXTHDR_AUTH) { /* length in 4-byte units, minus 2 */
			*off = o + (ext[1] + 2) * 4;
		} else {
			*off = o + (ext[1] + 1) * 8;
		}
		*next = ext[0];
	}
	return 0;
}

static __always_inline int fp_parse_l4_ipv6(struct fp_pkt *pkt, void *data, void *data_end)
{
	__u8 next = pkt->ip6->nexthdr;
	__u32 off = pkt->l3_off + sizeof(struct ipv6hdr);
	__u8 frag = FP_FRAG_NONE;
	int ret = fp_ipv6_skip_ext(data, data_end, &off, &next, &frag);

	if (ret < 0)
		return ret;
	pkt->l4.proto = next;
	pkt->l4.off = off;
	pkt->l4.frag = frag;
	if (pkt->l4.frag == FP_FRAG_LATER)
		return 0;
	return fp_parse_l4_header(pkt, data, data_end,
				  pkt->l3_off + sizeof(struct ipv6hdr) + bpf_ntohs(pkt->ip6->payload_len));
}

static __always_inline int fp_parse_l4(struct fp_pkt *pkt, void *data, void *data_end)
{
	if (pkt->l3 == FP_L3_IPV4)
		return fp_parse_l4_ipv4(pkt, data, data_end);
	return fp_parse_l4_ipv6(pkt, data, data_end);
}

#endif
