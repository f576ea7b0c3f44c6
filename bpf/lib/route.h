/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Routing translated replies ourselves (tc only). A published port's reply
 * leaves the container with a host address as its source; handed to the
 * stack on an address-less host veth, it would be dropped: as a martian
 * unless accept_local is on, and by reverse-path filtering in strict and
 * loose mode alike (source validation finds no address on the device). So
 * flatpath routes it as the host would, with the host's tables and ip rules
 * and the packet's mark (policy routing), and transmits it itself.
 */
#ifndef FP_LIB_ROUTE_H
#define FP_LIB_ROUTE_H

#ifndef FP_LIB_CTX_SKB_H
#error "route.h is tc only (skb marks, bpf_redirect_neigh): include lib/ctx_skb.h first"
#endif

#include "maps.h"
#include "parse.h"
#include "fwd.h"
#include "dnat.h"

/* Linux 6.10+; Debian's 6.1 headers predate them. The mark is read from the first four
 * bytes of the smac/dmac area, which the lookup overwrites with the MACs it returns. */
#define FP_FIB_LOOKUP_MARK (1U << 5)

/* Linux 6.7+: the lookup also returns the source address the route prefers (what a
 * socket would be bound to, what MASQUERADE picks) in ipv4_src / ipv6_src. */
#define FP_FIB_LOOKUP_SRC (1U << 4)

/*
 * The host's route for pkt as if it were sent from src to dst, with the packet's mark
 * (policy routing); flags: 0 or FP_FIB_LOOKUP_SRC. tot_len stays 0: the kernel then checks the skb itself against the
 * device's MTU (BPF_FIB_LKUP_RET_FRAG_NEEDED when it is larger), which knows a GSO
 * aggregate leaves as segments (an IP length it would compare with the MTU is the whole
 * aggregate's).
 */
static __always_inline long fp_fib_lookup_between(struct __sk_buff *ctx, const struct fp_pkt *pkt,
						  const union fp_addr *src, const union fp_addr *dst,
						  struct bpf_fib_lookup *p, __u32 flags)
{
	long ret;

	p->ifindex = ctx->ingress_ifindex;
	if (pkt->l3 == FP_L3_IPV4) {
		p->family = FP_AF_INET;
		p->tos = pkt->ip4->tos;
		p->ipv4_src = src->w[3];
		p->ipv4_dst = dst->w[3];
	} else {
		p->family = FP_AF_INET6;
		__builtin_memcpy(p->ipv6_src, src->w, 16);
		__builtin_memcpy(p->ipv6_dst, dst->w, 16);
	}
	*(__u32 *)p->smac = ctx->mark;
	ret = bpf_fib_lookup(ctx, p, sizeof(*p), FP_FIB_LOOKUP_MARK | flags);
	/* The kernel judges the skb with the output device's own header length, which for an
	 * L3 device (a tun) is 0: the 14 bytes of Ethernet header the packet has here count as
	 * IP, and a packet of nearly the MTU is called too big. Judge its IP length instead. The
	 * route (ifindex, MACs) is complete: that check runs after a successful lookup. */
	if (ret == BPF_FIB_LKUP_RET_FRAG_NEEDED && !ctx_exceeds_mtu(ctx, p->ifindex, fp_l3_len(pkt)))
		ret = BPF_FIB_LKUP_RET_SUCCESS;
	return ret;
}

/* The host's route for pkt as it is addressed. */
static __always_inline long fp_fib_lookup(struct __sk_buff *ctx, const struct fp_pkt *pkt, struct bpf_fib_lookup *p,
					  __u32 flags)
{
	return fp_fib_lookup_between(ctx, pkt, &pkt->src, &pkt->dst, p, flags);
}

/* The source address a route looked up with FP_FIB_LOOKUP_SRC prefers, as an fp_addr. */
static __always_inline void fp_route_source(union fp_addr *addr, const struct bpf_fib_lookup *p)
{
	if (p->family == FP_AF_INET)
		fp_addr_from_v4(addr, p->ipv4_src);
	else
		__builtin_memcpy(addr->w, p->ipv6_src, 16);
}

static __always_inline int fp_fib_forwards(long ret)
{
	return ret == BPF_FIB_LKUP_RET_SUCCESS || ret == BPF_FIB_LKUP_RET_NO_NEIGH;
}

/* Whether the host would forward pkt off itself: not to one of its own addresses, not to
 * a local endpoint. */
static __always_inline int fp_leaves_host(struct __sk_buff *ctx, const struct fp_pkt *pkt)
{
	struct bpf_fib_lookup p = {};
	long ret;

	if (fp_endpoint_of(&pkt->dst))
		return 0;
	ret = fp_fib_lookup(ctx, pkt, &p, 0);
	return fp_fib_forwards(ret);
}

/* Sends the packet where the route p (ret: a forwarding result of fp_fib_lookup) goes,
 * its MACs written already when the lookup found the next hop's (fp_fib_set_macs). */
static __always_inline int fp_fib_transmit(const struct bpf_fib_lookup *p, long ret)
{
	struct bpf_redir_neigh nh = {};

	if (ret == BPF_FIB_LKUP_RET_NO_NEIGH) {
		/* The kernel resolves the next hop's MAC (and queues the packet meanwhile). */
		nh.nh_family = p->family;
		__builtin_memcpy(nh.ipv6_nh, p->ipv6_dst, 16);
		return (int)bpf_redirect_neigh(p->ifindex, &nh, sizeof(nh), 0);
	}
	return (int)bpf_redirect(p->ifindex, 0);
}

/* Addresses pkt to the next hop of the route p (ret: a forwarding result). */
static __always_inline void fp_fib_set_macs(struct fp_pkt *pkt, const struct bpf_fib_lookup *p, long ret)
{
	if (ret != BPF_FIB_LKUP_RET_SUCCESS)
		return;
	/* Not fp_mac_copy: dmac is only 2-byte aligned on the stack, and the verifier wants
	 * stack loads aligned to their size. */
	__builtin_memcpy(pkt->eth->h_dest, p->dmac, 6);
	__builtin_memcpy(pkt->eth->h_source, p->smac, 6);
}

/* Routes pkt as the route p (ret: a forwarding result of fp_fib_lookup) says and transmits it. */
static __always_inline int fp_fib_redirect(struct fp_pkt *pkt, const struct bpf_fib_lookup *p, long ret)
{
	int err;

	err = fp_decrement_ttl(pkt);
	if (err < 0)
		return err;
	fp_fib_set_macs(pkt, p, ret);
	return fp_fib_transmit(p, ret);
}

static __always_inline int fp_route_out(struct __sk_buff *ctx, struct fp_pkt *pkt)
{
	struct bpf_fib_lookup p = {};
	long ret;

	ret = fp_fib_lookup(ctx, pkt, &p, 0);
	if (!fp_fib_forwards(ret))
		return -FP_PASS_NO_ROUTE; /* local, unreachable, too big: the stack knows what to do */
	return fp_fib_redirect(pkt, &p, ret);
}

/*
 * After a reply was translated: deliver it to a local endpoint (hairpin), or route
 * it out. (The host's own connections to published ports never make a flow: the
 * socket hooks send them to the backend, host_sockets.bpf.c.)
 */
static __always_inline int fp_reply_out(struct __sk_buff *ctx)
{
	struct fp_pkt pkt;
	int ret;

	ret = fp_parse(&pkt, ctx_data(ctx), ctx_data_end(ctx));
	if (ret < 0)
		return ret;
	ret = fp_forward_local(ctx, &pkt, 0);
	if (ret != -FP_PASS_NO_ENDPOINT)
		return ret;
	return fp_route_out(ctx, &pkt);
}

#endif
