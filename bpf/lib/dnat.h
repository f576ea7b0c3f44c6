/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * DNAT: packets to a published host address and port go to a backend
 * endpoint, keeping the client's source address; replies get the published
 * address back as their source. The first packet of a flow finds its backend
 * in fp_dnat (one port) or fp_dnat_ranges (a port range) and creates both
 * conntrack entries; the flow's later packets only look conntrack up.
 */
#ifndef FP_LIB_DNAT_H
#define FP_LIB_DNAT_H

#include "maps.h"
#include "dnat_lookup.h"
#include "ct.h"
#include "nat.h"
#include "fwd.h"

/* The backend for a new flow to pkt's destination, if the DNAT table has one. */
static __always_inline int fp_dnat_lookup(const struct fp_pkt *pkt, const struct fp_config *cfg,
					  union fp_addr *baddr, __be16 *bport)
{
	struct fp_dnat_backend *exact;

	if (!fp_published_backend(&pkt->dst, pkt->l3 == FP_L3_IPV4, pkt->l4.proto, pkt->l4.dport, cfg, -1, baddr,
				  bport, &exact))
		return 0;
	/* Only ever set, and only once: no atomics, and no write on later flows. */
	if (exact && !(exact->flags & FP_DNAT_HAD_FLOWS))
		exact->flags |= FP_DNAT_HAD_FLOWS;
	return 1;
}

/* Whether a backend is another host's container: in a subnet the cluster table gives to
 * a host. Its flows are translated and routed by tc alone (lib/dnat_remote.h). */
static __always_inline int fp_backend_remote(const struct fp_config *cfg, const union fp_addr *addr)
{
	const struct fp_cluster_dest *d = fp_cluster_lookup(cfg, addr);

	return d && !fp_addr_zero(&d->peer);
}

/* Whether a published port goes to addr:port (proto). */
static __always_inline int fp_is_backend(const union fp_addr *addr, __u8 proto, __be16 port)
{
	struct fp_backend_key key = { .addr = *addr, .port = port, .proto = proto };

	return bpf_map_lookup_elem(&fp_backends, &key) != 0;
}

/*
 * A SYN from off the host straight to a published backend's own address and port (a
 * routed client, not through the publication): a reply entry marks it, so that the
 * backend's SYN-ACK, which no flow translates, is known for a direct answer and not
 * taken for the reply of an evicted flow. It lives as long as a half-open flow.
 */
static __always_inline void fp_ct_mark_direct(const struct fp_pkt *pkt)
{
	struct fp_ct_entry e = {};
	struct fp_ct_key key;

	if (!fp_tcp_bare_syn(pkt) || !fp_is_backend(&pkt->dst, IPPROTO_TCP, pkt->l4.dport))
		return;
	e.saddr = pkt->dst;
	e.daddr = pkt->src;
	e.sport = pkt->l4.dport;
	e.dport = pkt->l4.sport;
	e.flags = FP_CT_DIRECT;
	e.expires_ns = fp_ct_now() + FP_CT_TIMEOUT_TCP_SYN * FP_NS_PER_SEC;
	fp_ct_key_set(&key, &pkt->dst, &pkt->src, pkt->l4.dport, pkt->l4.sport, IPPROTO_TCP, FP_CT_REPLY);
	bpf_map_update_elem(&fp_ct_new, &key, &e, BPF_ANY);
}

static __always_inline int fp_nat_applies(const struct fp_pkt *pkt)
{
	return (pkt->l4.proto == IPPROTO_TCP || pkt->l4.proto == IPPROTO_UDP) && pkt->l4.frag != FP_FRAG_LATER;
}

/* Rewrites pkt as the conntrack entry says: the destination, and the source where the
 * entry says so (FP_CT_SNAT, or always for the reply direction). */
static __always_inline int fp_ct_apply(struct __ctx_buff *ctx, const struct fp_pkt *pkt,
				       const struct fp_ct_entry *e, __u8 dir)
{
	int ret = 0;

	if (dir == FP_CT_REPLY || (e->flags & FP_CT_SNAT))
		ret = fp_nat_rewrite(ctx, pkt, FP_NAT_SOURCE, &e->saddr, e->sport);
	if (!ret && (dir == FP_CT_ORIGINAL || (e->flags & FP_CT_SNAT)))
		ret = fp_nat_rewrite(ctx, pkt, FP_NAT_DEST, &e->daddr, e->dport);
	return ret;
}

/*
 * An original-direction packet of a flow conntrack knows (DNAT or masquerade): its
 * entry is touched, the flow assured when this packet completes it, and *e gets the
 * entry as the packet left it. Returns 1 when found, 0 when not, or a reason. remote:
 * whether the caller translates flows to another host's backend (lib/dnat_remote.h);
 * for any other, such a flow's packet is -FP_PASS_REMOTE_BACKEND, its entry untouched.
 */
static __always_inline int fp_ct_original_find(struct __ctx_buff *ctx, const struct fp_pkt *pkt,
					       struct fp_ct_entry *e, int remote)
{
	struct fp_ct_scratch *s = fp_ct_scratch_get();
	struct fp_ct_entry *ct;
	__u64 now = fp_ct_now();
	int assured = 0, ret;

	if (!s)
		return -FP_DROP_INTERNAL;
	fp_ct_key_of(&s->key, pkt, FP_CT_ORIGINAL);
	ct = fp_ct_find(&s->key, now, &assured);
	if (!ct)
		return 0;
	if (ct->kind == FP_CT_KIND_DNAT_REMOTE && !remote)
		return -FP_PASS_REMOTE_BACKEND;
	fp_ct_touch(ctx, ct, pkt, FP_CT_ORIGINAL, now);
	*e = *ct;
	if (!assured && fp_ct_assures(e, pkt)) {
		ret = fp_ct_promote(&s->key, e, &s->reply, &s->rkey, pkt, now);
		if (ret < 0)
			return ret;
	}
	return 1;
}

/*
 * Writes a new flow's two entries: orig (what the original direction is rewritten to,
 * flags and kind set) for pkt's own tuple, and its reply, to the table a flood can only
 * evict new flows from. orig is touched by pkt. Returns 0 or -FP_DROP_CT_FULL.
 */
static __always_inline int fp_ct_create(struct __ctx_buff *ctx, const struct fp_pkt *pkt, struct fp_ct_entry *orig)
{
	struct fp_ct_scratch *s = fp_ct_scratch_get();
	struct fp_ct_entry *reply;

	if (!s)
		return -FP_DROP_INTERNAL;
	reply = &s->reply;
	__builtin_memset(reply, 0, sizeof(*reply));
	reply->saddr = pkt->dst;
	reply->sport = pkt->l4.dport;
	reply->daddr = pkt->src;
	reply->dport = pkt->l4.sport;
	reply->flags = orig->flags;
	reply->kind = orig->kind;
	fp_ct_touch(ctx, orig, pkt, FP_CT_ORIGINAL, fp_ct_now());
	reply->expires_ns = orig->expires_ns;
	fp_ct_key_of(&s->key, pkt, FP_CT_ORIGINAL);
	fp_ct_key_back_to(&s->rkey, orig, pkt->l4.proto, FP_CT_REPLY);
	fp_ct_note_endpoint(&orig->daddr);
	fp_ct_note_endpoint(&pkt->src);
	if (bpf_map_update_elem(&fp_ct_new, &s->rkey, reply, BPF_ANY) ||
	    bpf_map_update_elem(&fp_ct_new, &s->key, orig, BPF_ANY))
		return -FP_DROP_CT_FULL;
	fp_trace_flow(FP_TRACE_FLOW_NEW, pkt, orig, FP_CT_ORIGINAL);
	return 0;
}

/* A new flow to a published port: 1 with *e filled and the flow written, 0 when pkt is
 * for no published port, or a reason (-FP_PASS_REMOTE_BACKEND, nothing written, when the
 * backend is another host's). */
static __always_inline int fp_dnat_new(struct __ctx_buff *ctx, const struct fp_pkt *pkt, const struct fp_config *cfg,
				       struct fp_ct_entry *e)
{
	__builtin_memset(e, 0, sizeof(*e));
	/* The host's own connections are sent to the backend at the socket (host_sockets.bpf.c):
	 * a packet "from" a host address makes no flow (from outside it is a spoof, which the
	 * stack then drops as a martian). */
	if (fp_is_local_addr(&pkt->src))
		return 0;
	if (!fp_dnat_lookup(pkt, cfg, &e->daddr, &e->dport))
		return 0;
	if (fp_backend_remote(cfg, &e->daddr))
		return -FP_PASS_REMOTE_BACKEND;
	e->saddr = pkt->src;
	e->sport = pkt->l4.sport;
	/* Hairpin to itself: a backend answering its own address would never send the
	 * reply back through the host, so it sees the published address as the source. */
	if (fp_addr_equal(&e->daddr, &pkt->src)) {
		e->saddr = pkt->dst;
		e->flags |= FP_CT_SNAT;
	}
	return fp_ct_create(ctx, pkt, e) ?: 1;
}

/*
 * The original direction (client -> published address). Returns 1 after
 * translating (packet pointers are stale: re-parse), 0 when pkt belongs to no
 * DNAT flow, or a negative reason.
 */
static __always_inline int fp_dnat_original(struct __ctx_buff *ctx, const struct fp_pkt *pkt,
					    const struct fp_config *cfg)
{
	struct fp_ct_entry e;
	int ret;

	if (!fp_nat_applies(pkt))
		return 0;
	ret = fp_ct_original_find(ctx, pkt, &e, 0);
	if (!ret && cfg->dnat_entries)
		ret = fp_dnat_new(ctx, pkt, cfg, &e);
	if (ret <= 0)
		return ret;
	return fp_ct_apply(ctx, pkt, &e, FP_CT_ORIGINAL) ?: 1;
}

/* A reply-direction packet of the flow whose entry ct is (assured: in fp_ct): recorded,
 * and translated back. Returns 1, or a reason. */
static __always_inline int fp_ct_reply_apply(struct __ctx_buff *ctx, const struct fp_pkt *pkt,
					     struct fp_ct_entry *ct, int assured, __u64 now)
{
	fp_ct_touch(ctx, ct, pkt, FP_CT_REPLY, now);
	if (!assured)
		fp_ct_note_reply(ct, pkt);
	return fp_ct_apply(ctx, pkt, ct, FP_CT_REPLY) ?: 1;
}

/*
 * The reply direction (backend -> client): 1 after translating, 0 for no flow, or a
 * reason. Only packets from a published backend port are looked up. A SYN-ACK from one
 * that no flow knows (its half-open flow was evicted by a flood) gets -FP_DROP_NO_FLOW:
 * sent off the host, it would leave with the backend's own address and the client would
 * answer with a reset. The caller lets it go where it stays on the host (fp_leaves_host).
 */
static __always_inline int fp_dnat_reply(struct __ctx_buff *ctx, const struct fp_pkt *pkt)
{
	struct fp_ct_key key;
	struct fp_ct_entry *ct;
	__u64 now = fp_ct_now();
	int assured = 0;

	if (!fp_nat_applies(pkt) || !fp_is_backend(&pkt->src, pkt->l4.proto, pkt->l4.sport))
		return 0;
	fp_ct_key_of(&key, pkt, FP_CT_REPLY);
	ct = fp_ct_find(&key, now, &assured);
	if (!ct)
		return fp_tcp_synack(pkt) ? -FP_DROP_NO_FLOW : 0; /* the caller checks where it would go */
	if (ct->flags & FP_CT_DIRECT)
		return 0;
	return fp_ct_reply_apply(ctx, pkt, ct, assured, now);
}

#endif
