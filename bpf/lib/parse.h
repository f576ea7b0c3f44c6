/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Cursor parser for Ethernet + IPv4/IPv6.
 *
 * Contract: fp_parse() fills *pkt and returns 0 when the frame carries a
 * well-formed IPv4 or IPv6 header inside [data, data_end); otherwise it
 * returns a negative reason: FP_PASS_NOT_IP / FP_PASS_VLAN for frames the
 * kernel must handle, FP_DROP_MALFORMED for truncated or invalid headers.
 * On FP_PASS_NOT_IP and FP_PASS_VLAN pkt->eth is valid. Pointers in *pkt are
 * valid until something moves packet data.
 */
#ifndef FP_LIB_PARSE_H
#define FP_LIB_PARSE_H

#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <bpf/bpf_endian.h>
#include "flatpath_abi.h"

enum fp_l3 {
	FP_L3_NONE = 0,
	FP_L3_IPV4 = 4,
	FP_L3_IPV6 = 6,
};

/*
 * The family is a scalar, not "which pointer is non-NULL": the verifier
 * cannot carry a NULL test on a packet pointer across paths the compiler
 * merged, but it follows a constant.
 */
/* Filled by fp_parse_l4() (lib/l4.h); offsets from the start of the frame. */
struct fp_l4 {
	__u32 off;       /* transport header; 0 until fp_parse_l4() ran */
	__u32 csum_off;  /* its checksum field; 0 when it has none we know */
	__be16 sport;    /* TCP/UDP ports (0 otherwise) */
	__be16 dport;
	__u8 proto;      /* IPPROTO_* (after IPv6 extension headers) */
	__u8 frag;       /* enum fp_frag */
	__u8 tcp_flags;  /* TCP: FIN 0x01, SYN 0x02, RST 0x04, ACK 0x10 */
	__u8 icmp_type;
	__u32 tcp_seq;   /* TCP: sequence and acknowledgement numbers, host order */
	__u32 tcp_ack;
};

struct fp_pkt {
	struct ethhdr *eth;
	struct iphdr *ip4;   /* valid when l3 == FP_L3_IPV4 */
	struct ipv6hdr *ip6; /* valid when l3 == FP_L3_IPV6 */
	union fp_addr src;
	union fp_addr dst;
	__u32 l3;            /* enum fp_l3 */
	__u32 l3_off;        /* the IP header's offset in the frame */
	struct fp_l4 l4;
};

static __always_inline void fp_addr_from_v4(union fp_addr *a, __be32 v4)
{
	a->w[0] = 0;
	a->w[1] = 0;
	a->w[2] = bpf_htonl(0x0000ffff);
	a->w[3] = v4;
}

static __always_inline void fp_addr_from_v6(union fp_addr *a, const struct in6_addr *v6)
{
	a->w[0] = v6->in6_u.u6_addr32[0];
	a->w[1] = v6->in6_u.u6_addr32[1];
	a->w[2] = v6->in6_u.u6_addr32[2];
	a->w[3] = v6->in6_u.u6_addr32[3];
}

static __always_inline int fp_parse_ipv4(struct fp_pkt *pkt, void *l3, void *data_end)
{
	struct iphdr *ip = l3;

	if ((void *)(ip + 1) > data_end)
		return -FP_DROP_MALFORMED;
	if (ip->version != 4 || ip->ihl < 5)
		return -FP_DROP_MALFORMED;
	if (l3 + ip->ihl * 4 > data_end)
		return -FP_DROP_MALFORMED;
	pkt->ip4 = ip;
	pkt->l3 = FP_L3_IPV4;
	pkt->l3_off = sizeof(struct ethhdr);
	fp_addr_from_v4(&pkt->src, ip->saddr);
	fp_addr_from_v4(&pkt->dst, ip->daddr);
	return 0;
}

static __always_inline int fp_parse_ipv6(struct fp_pkt *pkt, void *l3, void *data_end)
{
	struct ipv6hdr *ip6 = l3;

	if ((void *)(ip6 + 1) > data_end)
		return -FP_DROP_MALFORMED;
	if (ip6->version != 6)
		return -FP_DROP_MALFORMED;
	pkt->ip6 = ip6;
	pkt->l3 = FP_L3_IPV6;
	pkt->l3_off = sizeof(struct ethhdr);
	fp_addr_from_v6(&pkt->src, &ip6->saddr);
	fp_addr_from_v6(&pkt->dst, &ip6->daddr);
	return 0;
}

static __always_inline int fp_parse(struct fp_pkt *pkt, void *data, void *data_end)
{
	struct ethhdr *eth = data;

	__builtin_memset(pkt, 0, sizeof(*pkt));
	if ((void *)(eth + 1) > data_end)
		return -FP_DROP_MALFORMED;
	pkt->eth = eth;
	switch (eth->h_proto) {
	case bpf_htons(ETH_P_IP):
		return fp_parse_ipv4(pkt, eth + 1, data_end);
	case bpf_htons(ETH_P_IPV6):
		return fp_parse_ipv6(pkt, eth + 1, data_end);
	case bpf_htons(ETH_P_8021Q):
	case bpf_htons(ETH_P_8021AD):
		return -FP_PASS_VLAN;
	default:
		return -FP_PASS_NOT_IP;
	}
}

/* fp_parse() for an IP packet without an Ethernet header (what an L3 device, a tun, sends
 * and receives): proto is its skb->protocol. pkt->eth stays NULL and offsets start at 0. */
static __always_inline int fp_parse_l3(struct fp_pkt *pkt, void *data, void *data_end, __be16 proto)
{
	int ret;

	__builtin_memset(pkt, 0, sizeof(*pkt));
	if (proto == bpf_htons(ETH_P_IP))
		ret = fp_parse_ipv4(pkt, data, data_end);
	else if (proto == bpf_htons(ETH_P_IPV6))
		ret = fp_parse_ipv6(pkt, data, data_end);
	else
		return -FP_PASS_NOT_IP;
	pkt->l3_off = 0;
	return ret;
}

/* ::ffff:0:0/96: how fp_addr holds IPv4, so never a real IPv6 address. */
static __always_inline int fp_addr_v4_mapped(const union fp_addr *a)
{
	return a->w[0] == 0 && a->w[1] == 0 && a->w[2] == bpf_htonl(0x0000ffff);
}

/* The 16-bit one's complement sum of an IPv4 header without options is 0xffff. */
static __always_inline int fp_ipv4_csum_ok(const struct iphdr *ip)
{
	const __u32 *w = (const __u32 *)ip;
	__u64 sum = (__u64)w[0] + w[1] + w[2] + w[3] + w[4];

	sum = (sum & 0xffffffff) + (sum >> 32);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return sum == 0xffff;
}

/*
 * Checks of a packet as it arrived, before anything forwards or tracks it: the IP
 * lengths against the frame (frame_len: all of it, not only the linear part), the
 * IPv4 header checksum, addresses that never appear on a link. Returns 0, a drop
 * reason, or -FP_PASS_IP_OPTIONS for an IPv4 header with options, which a router must
 * process (the stack does). Padding after the IP packet (short Ethernet frames) is
 * allowed, as the stack allows it.
 */
static __always_inline int fp_check_l3(const struct fp_pkt *pkt, __u32 frame_len)
{
	__u32 room = frame_len - pkt->l3_off;

	if (pkt->l3 == FP_L3_IPV4) {
		const struct iphdr *ip = pkt->ip4;
		__u32 tot = bpf_ntohs(ip->tot_len);

		if (tot < sizeof(*ip) || tot > room)
			return -FP_DROP_MALFORMED;
		if (ip->ihl != 5)
			return -FP_PASS_IP_OPTIONS;
		if (!fp_ipv4_csum_ok(ip))
			return -FP_DROP_MALFORMED;
		return 0;
	}
	if (bpf_ntohs(pkt->ip6->payload_len) + sizeof(struct ipv6hdr) > room)
		return -FP_DROP_MALFORMED;
	if (fp_addr_v4_mapped(&pkt->src) || fp_addr_v4_mapped(&pkt->dst))
		return -FP_DROP_V4_MAPPED;
	return 0;
}

/* fe80::/10 or ::, the sources of NDP and duplicate address detection. */
static __always_inline int fp_ipv6_link_scoped(const union fp_addr *a)
{
	if ((a->b[0] == 0xfe) && ((a->b[1] & 0xc0) == 0x80))
		return 1;
	return (a->w[0] | a->w[1] | a->w[2] | a->w[3]) == 0;
}

#endif
