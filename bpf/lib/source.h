/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Anti-spoofing for frames a container sends: the source MAC must be the
 * endpoint's, and the source IP must be an address registered for the very
 * device the frame came in on.
 */
#ifndef FP_LIB_SOURCE_H
#define FP_LIB_SOURCE_H

#include "maps.h"
#include "parse.h"
#include "mac.h"

/* Frames that carry no routable source (ARP, VLAN, NDP): only the MAC can be checked. */
static __always_inline int fp_check_source_mac(__u32 ifindex, const struct ethhdr *eth, __u32 *slot)
{
	struct fp_iface_key key = { .ifindex = ifindex };
	struct fp_iface *iface = bpf_map_lookup_elem(&fp_ifaces, &key);

	if (!iface || iface->role != FP_ROLE_ENDPOINT)
		return -FP_DROP_NOT_ENDPOINT;
	if (!fp_mac_equal(eth->h_source, iface->mac))
		return -FP_DROP_SPOOF_MAC;
	*slot = iface->slot;
	return 0;
}

/*
 * Returns 0, the sender's counter slot and its zone (0 for frames without an IP
 * source) when the frame may leave the container, else a drop reason. IP packets
 * cost one lookup: the source address's endpoint record carries the owning device,
 * the MAC and the zone.
 */
static __always_inline int fp_check_source(__u32 ifindex, const struct fp_pkt *pkt, __u32 *slot, __u32 *zone)
{
	struct fp_endpoint_key key = { .addr = pkt->src };
	struct fp_endpoint *ep;

	if (pkt->l3 == FP_L3_NONE)
		return fp_check_source_mac(ifindex, pkt->eth, slot);
	if (pkt->l3 == FP_L3_IPV6 && fp_ipv6_link_scoped(&pkt->src))
		return fp_check_source_mac(ifindex, pkt->eth, slot);
	ep = bpf_map_lookup_elem(&fp_endpoints, &key);
	if (!ep || ep->ifindex != ifindex)
		return -FP_DROP_SPOOF_IP;
	if (!fp_mac_equal(pkt->eth->h_source, ep->mac))
		return -FP_DROP_SPOOF_MAC;
	*slot = ep->slot;
	*zone = ep->zone;
	return 0;
}

/* Whether pkt's source is an endpoint on this host (remote endpoints, on other hosts, do
 * arrive from uplinks). */
static __always_inline int fp_source_is_local_endpoint(const struct fp_pkt *pkt)
{
	const struct fp_endpoint *ep = fp_endpoint_of(&pkt->src);

	return ep && ep->kind != FP_EP_REMOTE;
}

#endif
