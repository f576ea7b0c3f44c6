/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Other hosts' containers (tc only: it routes). A container's packet to no local
 * endpoint whose destination is in the cluster network (fp_cluster) is routed with its
 * own addresses, never masqueraded: each host of the cluster reaches the others'
 * containers directly, and they see who sent it. host-gw: the host's route to a peer's
 * subnet goes via that peer's address (the cluster member writes it with the entry), so
 * the route lookup gives the next hop and flatpath transmits to it; the receiving
 * host's uplink program delivers to its container. What the routes do not forward from
 * here goes to the stack, untranslated.
 */
#ifndef FP_LIB_CLUSTER_H
#define FP_LIB_CLUSTER_H

#ifndef FP_LIB_CTX_SKB_H
#error "cluster.h is tc only (it routes with bpf_fib_lookup): include lib/ctx_skb.h first"
#endif

#include "maps.h"
#include "route.h"

static __always_inline const struct fp_cluster_dest *fp_cluster_lookup(const struct fp_config *cfg,
									 const union fp_addr *dst)
{
	struct fp_cluster_key key = { .prefixlen = 128, .addr = *dst };

	if (!cfg || !cfg->cluster_dests)
		return 0;
	return bpf_map_lookup_elem(&fp_cluster, &key);
}

/* pkt is for the cluster network: transmitted where the host routes it. */
static __always_inline int fp_forward_cluster(struct __sk_buff *ctx, struct fp_pkt *pkt)
{
	struct bpf_fib_lookup p = {};
	long ret;

	ret = fp_fib_lookup(ctx, pkt, &p, 0);
	if (!fp_fib_forwards(ret))
		return -FP_PASS_CLUSTER_NO_ROUTE;
	return fp_fib_redirect(pkt, &p, ret);
}

#endif
