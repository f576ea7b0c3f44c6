/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Other hosts' containers (tc only: it routes). A container's packet to no local
 * endpoint whose destination is in the cluster network (fp_cluster) is routed with its
 * own addresses, never masqueraded: each host of the cluster reaches the others'
 * containers directly, and they see who sent it. host-gw: the host's route to a peer's
 * subnet goes via that peer's address (the cluster member writes it with the entry), so
 * the route lookup gives the next hop and flatpath transmits to it. vxlan: the packet
 * goes to the peer's tunnel MAC through the tunnel device, whose FDB knows the peer as
 * that MAC's remote end (the device encapsulates). Either way the receiving host's
 * uplink program (on its tunnel device, for vxlan) delivers to its container. What the
 * routes do not forward from here goes to the stack, untranslated.
 */
#ifndef FP_LIB_CLUSTER_H
#define FP_LIB_CLUSTER_H

#ifndef FP_LIB_CTX_SKB_H
#error "cluster.h is tc only (it routes with bpf_fib_lookup): include lib/ctx_skb.h first"
#endif

#include "maps.h"
#include "route.h"

/* vxlan: routed (TTL down) into the tunnel device, addressed to the peer's tunnel MAC,
 * which the device's FDB entry sends to the peer (the cluster member writes both).
 * Larger than the tunnel's MTU: to the stack, whose route to the subnet is on the tunnel
 * device, so that it answers as a router (fragmentation needed, packet too big). */
static __always_inline int fp_tunnel_out(struct __sk_buff *ctx, struct fp_pkt *pkt, const struct fp_cluster_dest *d)
{
	int err;

	if (fp_too_big_for(ctx, pkt, d->tunnel_ifindex))
		return -FP_PASS_MTU;
	err = fp_decrement_ttl(pkt);
	if (err < 0)
		return err;
	/* This host's MAC (the container's gateway) becomes the source. */
	__builtin_memcpy(pkt->eth->h_source, pkt->eth->h_dest, 6);
	__builtin_memcpy(pkt->eth->h_dest, d->peer_mac, 6);
	return (int)bpf_redirect(d->tunnel_ifindex, 0);
}

/* pkt is for the cluster network: tunnelled to its host, or transmitted where the host
 * routes it. */
static __always_inline int fp_forward_cluster(struct __sk_buff *ctx, struct fp_pkt *pkt, const struct fp_cluster_dest *d)
{
	struct bpf_fib_lookup p = {};
	long ret;

	if (d->tunnel_ifindex)
		return fp_tunnel_out(ctx, pkt, d);
	ret = fp_fib_lookup(ctx, pkt, &p, 0);
	if (!fp_fib_forwards(ret))
		return -FP_PASS_CLUSTER_NO_ROUTE;
	return fp_fib_redirect(pkt, &p, ret);
}

#endif
