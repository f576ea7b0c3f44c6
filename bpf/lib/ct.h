/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Conntrack for translated flows: two entries per flow (original and reply
 * direction), each saying what to rewrite a matching packet to. Each entry's
 * deadline is pushed on by the packets of its direction, with the timeout the
 * TCP flags or protocol call for; user space collects a flow once both of
 * its entries are past their deadline (flatpath ct gc).
 */
#ifndef FP_LIB_CT_H
#define FP_LIB_CT_H

#include "maps.h"
#include "l4.h"

#define FP_NS_PER_SEC 1000000000ULL
#define FP_TCP_FIN 0x01
#define FP_TCP_SYN 0x02
#define FP_TCP_RST 0x04
#define FP_TCP_ACK 0x10

static __always_inline void fp_ct_key_set(struct fp_ct_key *key, const union fp_addr *saddr,
					  const union fp_addr *daddr, __be16 sport, __be16 dport, __u8 proto, __u8 dir)
{
	__builtin_memset(key, 0, sizeof(*key));
	key->saddr = *saddr;
	key->daddr = *daddr;
	key->sport = sport;
	key->dport = dport;
	key->proto = proto;
	key->dir = dir;
}

/* The key of pkt itself in direction dir. */
static __always_inline void fp_ct_key_of(struct fp_ct_key *key, const struct fp_pkt *pkt, __u8 dir)
{
	fp_ct_key_set(key, &pkt->src, &pkt->dst, pkt->l4.sport, pkt->l4.dport, pkt->l4.proto, dir);
}

static __always_inline __u64 fp_ct_timeout_ns(const struct fp_pkt *pkt, __u8 flags)
{
	if (pkt->l4.proto == IPPROTO_UDP)
		return FP_CT_TIMEOUT_UDP * FP_NS_PER_SEC;
	if (flags & (FP_CT_RST | FP_CT_FIN_ORIG | FP_CT_FIN_REPLY))
		return FP_CT_TIMEOUT_TCP_CLOSE * FP_NS_PER_SEC;
	/* A bare SYN has not been answered yet; anything with ACK is past the handshake. */
	if ((pkt->l4.tcp_flags & (FP_TCP_SYN | FP_TCP_ACK)) == FP_TCP_SYN)
		return FP_CT_TIMEOUT_TCP_SYN * FP_NS_PER_SEC;
	return FP_CT_TIMEOUT_TCP_ESTABLISHED * FP_NS_PER_SEC;
}

/*
 * Conntrack's clock: CLOCK_MONOTONIC at tick resolution. Flow deadlines are seconds
 * long, so the coarse clock loses nothing, and it is a read of the last tick's time
 * instead of a clock-source read on every translated packet (~10 ns less per DNAT'd
 * packet in the bench's test runs on this VM). User space compares deadlines with
 * CLOCK_MONOTONIC; the two differ by less than a tick.
 */
static __always_inline __u64 fp_ct_now(void)
{
	return bpf_ktime_get_coarse_ns();
}

/* Records a packet of this entry's direction: TCP state, deadline, counters. */
static __always_inline void fp_ct_touch(struct fp_ct_entry *ct, const struct fp_pkt *pkt, __u8 dir, __u32 len,
					__u64 now)
{
	__u8 flags = ct->flags;

	if (dir == FP_CT_REPLY)
		flags |= FP_CT_SEEN_REPLY;
	if (pkt->l4.tcp_flags & FP_TCP_FIN)
		flags |= dir == FP_CT_REPLY ? FP_CT_FIN_REPLY : FP_CT_FIN_ORIG;
	if (pkt->l4.tcp_flags & FP_TCP_RST)
		flags |= FP_CT_RST;
	/* A new SYN on a closed flow's tuple starts the flow over. */
	if ((pkt->l4.tcp_flags & (FP_TCP_SYN | FP_TCP_ACK)) == FP_TCP_SYN)
		flags &= ~(FP_CT_RST | FP_CT_FIN_ORIG | FP_CT_FIN_REPLY);
	if (flags != ct->flags)
		ct->flags = flags;
	ct->expires_ns = now + fp_ct_timeout_ns(pkt, flags);
	ct->packets++;
	ct->bytes += len;
}

#endif
