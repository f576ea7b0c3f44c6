/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * A published port whose backend is another host's container (tc only: it routes and
 * allocates ports). Its flow is translated both ways: the destination to the backend,
 * and the source to this host's address towards it, with a port of the masquerade
 * range (FP_CT_KIND_DNAT_REMOTE). Without the second, the backend would answer the
 * client straight from its own host, and the client, who talked to this host's
 * published address, would drop the answer. So the backend sees this host as the
 * client, as behind kube-proxy and Cilium's default for a backend elsewhere; a local
 * backend keeps seeing the client's own address.
 *
 * The shared code (XDP and tc) only recognises such a flow and hands its packets here
 * untouched with -FP_PASS_REMOTE_BACKEND: XDP can neither walk the port range for a new
 * flow nor send into a tunnel, so under XDP the packet goes on to tc.
 */
#ifndef FP_LIB_DNAT_REMOTE_H
#define FP_LIB_DNAT_REMOTE_H

#ifndef FP_LIB_CTX_SKB_H
#error "dnat_remote.h is tc only (it routes with bpf_fib_lookup): include lib/ctx_skb.h first"
#endif

#include "exit.h"
#include "masq_out.h"
#include "cluster.h"

/* A new flow to a published port of pkt's: 1 with *e filled and both entries written, 0
 * when its backend is no other host's (any more), or a reason. */
static __always_inline int fp_dnat_remote_new(struct __sk_buff *ctx, const struct fp_pkt *pkt,
					      const struct fp_config *cfg, struct fp_ct_entry *e,
					      struct fp_masq_scratch *s)
{
	struct bpf_fib_lookup *p = &s->route;
	long route;

	__builtin_memset(e, 0, sizeof(*e));
	if (!fp_dnat_lookup(pkt, cfg, &e->daddr, &e->dport) || !fp_backend_remote(cfg, &e->daddr))
		return 0;
	__builtin_memset(p, 0, sizeof(*p));
	route = fp_fib_lookup_between(ctx, pkt, &pkt->src, &e->daddr, p, FP_FIB_LOOKUP_SRC);
	/* No way to the backend's host from here: no flow, the stack sees the packet as sent. */
	if (!fp_fib_forwards(route))
		return -FP_PASS_CLUSTER_NO_ROUTE;
	fp_route_source(&e->saddr, p);
	e->flags = FP_CT_SNAT;
	e->kind = FP_CT_KIND_DNAT_REMOTE;
	return fp_snat_flow_create(ctx, pkt, e, &s->alloc, cfg);
}

/* The flow entry of the backend's answer, at this host's address and the flow's port, or
 * none: pkt is no such answer. Only a packet to a masquerade port is looked up: the
 * original direction goes to a published port. */
static __always_inline struct fp_ct_entry *fp_dnat_remote_reply_find(const struct fp_pkt *pkt,
								       const struct fp_config *cfg, __u64 now,
								       int *assured)
{
	struct fp_ct_entry *ct;
	struct fp_ct_key key;

	if (!fp_to_masq_port(pkt, cfg))
		return 0;
	fp_ct_key_of(&key, pkt, FP_CT_REPLY);
	ct = fp_ct_find(&key, now, assured);
	return ct && ct->kind == FP_CT_KIND_DNAT_REMOTE ? ct : 0;
}

/* A packet the shared code said belongs to a flow to another host's backend (or starts
 * one): translated, and sent to the backend's host or back to the client. A subprogram
 * of its own: fp_tc_exit says why. */
static __noinline int fp_dnat_remote(struct __sk_buff *ctx)
{
	const struct fp_config *cfg = fp_config_get();
	const struct fp_cluster_dest *dest;
	struct fp_masq_scratch *s = fp_masq_scratch_get();
	struct fp_ct_entry e, *ct;
	struct fp_pkt pkt;
	__u64 now = fp_ct_now();
	int assured = 0, ret;

	if (!cfg || !s)
		return -FP_DROP_INTERNAL;
	ret = fp_parse(&pkt, ctx_data(ctx), ctx_data_end(ctx));
	if (ret < 0)
		return ret;
	ret = fp_parse_l4(&pkt, ctx_data(ctx), ctx_data_end(ctx));
	if (ret < 0)
		return ret;
	/* An answer: it comes from the published address again, and goes back to the client. */
	ct = fp_dnat_remote_reply_find(&pkt, cfg, now, &assured);
	if (ct) {
		ret = fp_ct_reply_apply(ctx, &pkt, ct, assured, now);
		return ret < 0 ? ret : fp_reply_out(ctx);
	}
	ret = fp_ct_original_find(ctx, &pkt, &e, 1);
	if (!ret)
		ret = fp_dnat_remote_new(ctx, &pkt, cfg, &e, s);
	if (ret <= 0)
		return ret ?: -FP_PASS_NO_ENDPOINT;
	ret = fp_ct_apply(ctx, &pkt, &e, FP_CT_ORIGINAL);
	if (ret)
		return ret;
	ret = fp_parse(&pkt, ctx_data(ctx), ctx_data_end(ctx));
	if (ret < 0)
		return ret;
	dest = fp_cluster_lookup(cfg, &pkt.dst);
	/* The backend's host left the cluster mid-flow: translated, the packet has this host's
	 * address as its source, which the stack drops as a martian. Nothing leaks. */
	if (!dest)
		return -FP_PASS_CLUSTER_NO_ROUTE;
	return fp_forward_cluster(ctx, &pkt, dest);
}

/*
 * The exit of a tc hook that runs the shared code (fp_exit), with the packets it hands to
 * fp_dnat_remote taken there first. Subprograms, as the handlers are, so that the hook's
 * own frame stays empty: BPF's stack is 512 bytes for a whole call chain, and the deepest
 * (the hook, a handler or fp_dnat_remote, the masquerade port walk's callback) uses it up.
 * The trace's work at the exit is another chain, beside those.
 */
static __noinline int fp_tc_exit(struct __sk_buff *ctx, int ret)
{
	if (ret == -FP_PASS_REMOTE_BACKEND)
		ret = fp_dnat_remote(ctx);
	return fp_exit(ctx, ret);
}

#endif
