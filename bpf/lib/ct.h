/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Conntrack for translated flows: two entries per flow (original and reply
 * direction), each saying what to rewrite a matching packet to. A flow starts
 * in fp_ct_new, where a flood of new flows can evict it, and moves to fp_ct,
 * where nothing evicts it, once it is assured (maps/abi/flatpath_abi.h says when).
 * Each entry's deadline is pushed on by the packets of its direction, with the
 * timeout the flow's state calls for; user space collects a flow once both of
 * its entries are past their deadline (flatpath ct gc).
 */
#ifndef FP_LIB_CT_H
#define FP_LIB_CT_H

#include "maps.h"
#include "l4.h"
#include "trace.h"

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

/* Tells user space that a flow involves the endpoint at addr (when addr is one), so that
 * removing it purges conntrack (loader/tables/endpoints.cpp). Called before a new flow's
 * entries are written. Only ever set, and only once: no atomics, no write on later flows. */
static __always_inline void fp_ct_note_endpoint(const union fp_addr *addr)
{
	struct fp_endpoint *ep = fp_endpoint_of(addr);

	if (ep && !(ep->flags & FP_EP_HAD_FLOWS))
		ep->flags |= FP_EP_HAD_FLOWS;
}

/* The key of pkt itself in direction dir. */
static __always_inline void fp_ct_key_of(struct fp_ct_key *key, const struct fp_pkt *pkt, __u8 dir)
{
	fp_ct_key_set(key, &pkt->src, &pkt->dst, pkt->l4.sport, pkt->l4.dport, pkt->l4.proto, dir);
}

/* The key of the packets that travel back towards an entry's translated addresses: an
 * original entry's reply key, or a reply entry's original key. */
static __always_inline void fp_ct_key_back_to(struct fp_ct_key *key, const struct fp_ct_entry *e, __u8 proto,
					      __u8 dir)
{
	fp_ct_key_set(key, &e->daddr, &e->saddr, e->dport, e->sport, proto, dir);
}

/* A packet's conntrack working space: the keys and the reply entry that finding,
 * making or promoting a flow needs, off the stack that the handlers use up (one set at a
 * time: none of those nests in another). */
struct fp_ct_scratch {
	struct fp_ct_key key;
	struct fp_ct_key rkey;
	struct fp_ct_entry reply;
};
FP_SCRATCH_MAP(fp_ct_scratch, struct fp_ct_scratch)

static __always_inline int fp_tcp_bare_syn(const struct fp_pkt *pkt)
{
	return (pkt->l4.tcp_flags & (FP_TCP_SYN | FP_TCP_ACK)) == FP_TCP_SYN;
}

static __always_inline int fp_tcp_synack(const struct fp_pkt *pkt)
{
	return pkt->l4.proto == IPPROTO_TCP &&
	       (pkt->l4.tcp_flags & (FP_TCP_SYN | FP_TCP_ACK | FP_TCP_RST)) == (FP_TCP_SYN | FP_TCP_ACK);
}

static __always_inline __u64 fp_ct_timeout_ns(const struct fp_pkt *pkt, __u8 flags)
{
	int assured = flags & FP_CT_ASSURED;

	/* UDP, and pings (masqueraded): Linux's ICMP timeout is UDP's unreplied one. */
	if (pkt->l4.proto != IPPROTO_TCP)
		return (assured ? FP_CT_TIMEOUT_UDP_STREAM : FP_CT_TIMEOUT_UDP) * FP_NS_PER_SEC;
	if (flags & (FP_CT_RST | FP_CT_FIN_ORIG | FP_CT_FIN_REPLY))
		return FP_CT_TIMEOUT_TCP_CLOSE * FP_NS_PER_SEC;
	/* Until the handshake completed (and for a SYN that starts a flow over), a flow only
	 * gets the opening timeout: a SYN-ACK carries ACK, but proves nothing. */
	if (!assured || fp_tcp_bare_syn(pkt))
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

/* The live entry for key: the assured table first (where a busy flow is), then the new
 * one. *assured says which. Entries past their deadline count as gone. */
static __always_inline struct fp_ct_entry *fp_ct_find(const struct fp_ct_key *key, __u64 now, int *assured)
{
	struct fp_ct_entry *e = bpf_map_lookup_elem(&fp_ct, key);

	if (e && e->expires_ns > now) {
		*assured = 1;
		return e;
	}
	e = bpf_map_lookup_elem(&fp_ct_new, key);
	if (e && e->expires_ns > now) {
		*assured = 0;
		return e;
	}
	return 0;
}

/* Whether a flow is over: reset, or closed by both ends (each entry knows its own side). */
static __always_inline int fp_ct_flow_closed(__u8 flags)
{
	return (flags & FP_CT_RST) || (flags & (FP_CT_FIN_ORIG | FP_CT_FIN_REPLY)) == (FP_CT_FIN_ORIG | FP_CT_FIN_REPLY);
}

/*
 * While tracing: the flow's closed event when pkt, which changed its entry's flags from
 * old to ct->flags, is what closes it (with what the other direction's entry knows).
 */
static __always_inline void fp_trace_ct_closing(const struct fp_ct_entry *ct, __u8 old, const struct fp_pkt *pkt,
						__u8 dir)
{
	struct fp_trace_cpu *c = fp_trace_cpu_get();
	struct fp_ct_entry *other;
	__u8 theirs = 0;

	if (!c)
		return;
	fp_ct_key_back_to(&c->other, ct, pkt->l4.proto, dir == FP_CT_ORIGINAL ? FP_CT_REPLY : FP_CT_ORIGINAL);
	other = bpf_map_lookup_elem(&fp_ct, &c->other);
	if (!other)
		other = bpf_map_lookup_elem(&fp_ct_new, &c->other);
	if (other)
		theirs = other->flags;
	if (fp_ct_flow_closed(ct->flags | theirs) && !fp_ct_flow_closed(old | theirs))
		fp_trace_flow(FP_TRACE_FLOW_CLOSED, pkt, ct, dir);
}

/* Records a packet of this entry's direction: TCP state, deadline, counters. */
static __always_inline void fp_ct_touch(struct __ctx_buff *ctx, struct fp_ct_entry *ct, const struct fp_pkt *pkt,
					__u8 dir, __u64 now)
{
	__u8 old = ct->flags, flags = old;

	if (dir == FP_CT_REPLY)
		flags |= FP_CT_SEEN_REPLY;
	if (pkt->l4.tcp_flags & FP_TCP_FIN)
		flags |= dir == FP_CT_REPLY ? FP_CT_FIN_REPLY : FP_CT_FIN_ORIG;
	if (pkt->l4.tcp_flags & FP_TCP_RST)
		flags |= FP_CT_RST;
	/* A new SYN on a closed flow's tuple starts the flow over. */
	if (fp_tcp_bare_syn(pkt))
		flags &= ~(FP_CT_RST | FP_CT_FIN_ORIG | FP_CT_FIN_REPLY);
	ct->expires_ns = now + fp_ct_timeout_ns(pkt, flags);
	ct->packets++;
	ct->bytes += ctx_len(ctx);
	if (flags != old) {
		ct->flags = flags;
		if ((flags & ~old & (FP_CT_RST | FP_CT_FIN_ORIG | FP_CT_FIN_REPLY)) && fp_trace_filter_get())
			fp_trace_ct_closing(ct, old, pkt, dir);
	}
}

/*
 * A reply of a flow that is not assured yet: its original entry learns that the
 * backend answered and, from a SYN-ACK, which ACK completes the handshake.
 */
static __always_inline void fp_ct_note_reply(const struct fp_ct_entry *reply, const struct fp_pkt *pkt)
{
	struct fp_ct_key okey;
	struct fp_ct_entry *orig;

	fp_ct_key_back_to(&okey, reply, pkt->l4.proto, FP_CT_ORIGINAL);
	orig = bpf_map_lookup_elem(&fp_ct_new, &okey);
	if (!orig)
		return;
	if (fp_tcp_synack(pkt)) {
		orig->handshake_ack = pkt->l4.tcp_seq + 1;
		orig->flags |= FP_CT_SEEN_REPLY | FP_CT_SYNACK_SEEN;
	} else if (!(orig->flags & FP_CT_SEEN_REPLY)) {
		orig->flags |= FP_CT_SEEN_REPLY;
	}
}

/* Whether this original-direction packet assures its flow (orig: its entry, in fp_ct_new). */
static __always_inline int fp_ct_assures(const struct fp_ct_entry *orig, const struct fp_pkt *pkt)
{
	if (!(orig->flags & FP_CT_SEEN_REPLY))
		return 0;
	if (pkt->l4.proto != IPPROTO_TCP)
		return 1;
	/* The client's ACK of the SYN-ACK: a spoofed source never saw the backend's sequence
	 * number, so it cannot complete the handshake and its flow stays evictable. */
	return (orig->flags & FP_CT_SYNACK_SEEN) &&
	       (pkt->l4.tcp_flags & (FP_TCP_SYN | FP_TCP_ACK | FP_TCP_RST)) == FP_TCP_ACK &&
	       pkt->l4.tcp_ack == orig->handshake_ack;
}

/*
 * Moves an assured flow's two entries from fp_ct_new to fp_ct. orig is a copy of the
 * original entry as the current packet left it; reply and rkey are the caller's space
 * for the reply entry and its key (BPF's 512-byte stack holds one set of them). The
 * reply entry is rebuilt from the original key: the LRU may have dropped it. Returns 0,
 * or -FP_DROP_CT_FULL when fp_ct is full: the flow then stays in fp_ct_new and the
 * packet is dropped, so the client retries rather than going on unprotected.
 */
static __always_inline int fp_ct_promote(const struct fp_ct_key *okey, struct fp_ct_entry *orig,
					 struct fp_ct_entry *reply, struct fp_ct_key *rkey, const struct fp_pkt *pkt,
					 __u64 now)
{
	struct fp_ct_entry *old_reply;

	fp_ct_key_back_to(rkey, orig, okey->proto, FP_CT_REPLY);
	__builtin_memset(reply, 0, sizeof(*reply));
	old_reply = bpf_map_lookup_elem(&fp_ct_new, rkey);
	if (old_reply) {
		reply->packets = old_reply->packets;
		reply->bytes = old_reply->bytes;
	}
	reply->saddr = okey->daddr;
	reply->daddr = okey->saddr;
	reply->sport = okey->dport;
	reply->dport = okey->sport;
	orig->flags |= FP_CT_ASSURED;
	__builtin_memset(&orig->route, 0, sizeof(orig->route)); /* resolved by the fast path */
	reply->flags = orig->flags & ~FP_CT_SYNACK_SEEN;
	reply->kind = orig->kind;
	orig->expires_ns = now + fp_ct_timeout_ns(pkt, orig->flags);
	reply->expires_ns = orig->expires_ns;
	if (bpf_map_update_elem(&fp_ct, rkey, reply, BPF_ANY))
		return -FP_DROP_CT_FULL;
	if (bpf_map_update_elem(&fp_ct, okey, orig, BPF_ANY)) {
		bpf_map_delete_elem(&fp_ct, rkey);
		return -FP_DROP_CT_FULL;
	}
	bpf_map_delete_elem(&fp_ct_new, okey);
	bpf_map_delete_elem(&fp_ct_new, rkey);
	return 0;
}

#endif
