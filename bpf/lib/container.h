/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * What an endpoint sends (tc only: replies and masqueraded flows are routed here):
 * checked against the endpoint's registration, then a translated flow's reply, a
 * local endpoint's packet, another host's container's (cluster.h), a hairpin or a
 * masqueraded flow (a hairpin to another host's backend: the hook then calls
 * dnat_remote.h). from_container runs it on a veth or a tap, from_tun on a tun once the
 * packet has an Ethernet header (l3_dev.h).
 */
#ifndef FP_LIB_CONTAINER_H
#define FP_LIB_CONTAINER_H

#ifndef FP_LIB_CTX_SKB_H
#error "container.h is tc only: include lib/ctx_skb.h first"
#endif

#include "parse.h"
#include "source.h"
#include "fwd.h"
#include "dnat.h"
#include "icmp_error.h"
#include "dnat_forward.h"
#include "mark.h"
#include "route.h"
#include "masq_out.h"
#include "cluster.h"
#include "flow_cache_sent.h"

/*
 * IPv4 options go to the stack, which processes them as a router must. A published
 * backend's packet with options would then leave with the backend's own address:
 * flatpath translates no packet with options, so those are dropped (containers have no
 * use for options on TCP or UDP; IGMP's router alert is not from a published port).
 */
static __always_inline int fp_options_from_backend(struct __sk_buff *ctx, struct fp_pkt *pkt)
{
	const struct fp_config *cfg = fp_config_get();

	if (!cfg || !cfg->dnat_entries || fp_parse_l4(pkt, ctx_data(ctx), ctx_data_end(ctx)) < 0)
		return 0;
	return fp_nat_applies(pkt) && fp_is_backend(&pkt->src, pkt->l4.proto, pkt->l4.sport);
}

/* A subprogram, not inlined: its frame and fp_dnat_remote's, which the hook calls after it
 * for a flow to another host's backend, then never add up to more than BPF's 512-byte
 * stack in one call chain. */
static __noinline int fp_handle_from_container(struct __sk_buff *ctx)
{
	const struct fp_config *cfg;
	const struct fp_cluster_dest *dest;
	const struct fp_endpoint *to = 0;
	struct fp_pkt pkt;
	__u32 slot = 0, zone = 0;
	int parsed, checked = 0, ret, to_known = 0;

	/* Tagged frames never leave a container: the stack strips VID-0 tags (and a VLAN
	 * device others) and would route what anti-spoofing never saw the source of. A tag
	 * the receive path has moved into the skb shows as vlan_present; one still in the
	 * data, as the frame's ethertype. */
	if (ctx->vlan_present)
		return -FP_DROP_VLAN;
	ctx_pull_headers(ctx);
	parsed = fp_parse(&pkt, ctx_data(ctx), ctx_data_end(ctx));
	if (parsed == -FP_DROP_MALFORMED)
		return parsed;
	if (parsed == -FP_PASS_VLAN)
		return -FP_DROP_VLAN;
	/* Before anti-spoofing: an IPv4-mapped IPv6 source would look up as the IPv4 one. */
	if (parsed == 0) {
		checked = fp_check_l3(&pkt, ctx_len(ctx));
		if (checked <= -FP_DROP_FIRST)
			return checked;
	}
	cfg = fp_config_get();
	/* For no local endpoint: an established translated flow's packet, maybe, which its
	 * conntrack entry sends on (the checks below were made when it was resolved). After
	 * the destination's lookup, which forwarding needs anyway: a packet to a local
	 * endpoint pays no conntrack miss. */
	if (!parsed && !checked && cfg && (cfg->dnat_entries || cfg->masq_rules)) {
		to = fp_endpoint_of(&pkt.dst);
		to_known = 1;
		if (!to) {
			ret = fp_sent_flow_fast(ctx, &pkt, cfg);
			if (ret)
				return ret;
		}
	}
	ret = fp_check_source(ctx_ifindex(ctx), &pkt, &slot, &zone);
	if (ret < 0)
		return ret;
	fp_count_from(slot, ctx_len(ctx));
	if (parsed < 0)
		return parsed;
	if (checked < 0)
		return fp_options_from_backend(ctx, &pkt) ? -FP_DROP_BACKEND_OPTIONS : checked;
	if (pkt.l3 == FP_L3_IPV6 && fp_ipv6_link_scoped(&pkt.src))
		return -FP_PASS_LINK_LOCAL;

	if (cfg && (cfg->dnat_entries || cfg->mark_rules)) {
		ret = fp_parse_l4(&pkt, ctx_data(ctx), ctx_data_end(ctx));
		if (ret < 0)
			return ret;
		/* Marks match the container's own addresses and ports: before any translation. */
		if (cfg->mark_rules)
			fp_apply_marks(ctx, &pkt, cfg);
		if (cfg->dnat_entries) {
			/* A reply of a translated flow: the client must see the published address. */
			ret = fp_is_icmp_error(&pkt) ? fp_icmp_error_reply(ctx, &pkt) : fp_dnat_reply(ctx, &pkt);
			if (ret == -FP_DROP_NO_FLOW && !fp_leaves_host(ctx, &pkt))
				ret = 0; /* to the host or a container: nothing leaks */
			if (ret < 0)
				return ret;
			if (ret)
				return fp_reply_out(ctx);
		}
	}
	ret = to_known ? fp_forward_to(ctx, &pkt, zone, to) : fp_forward_local(ctx, &pkt, zone);
	if (ret != -FP_PASS_NO_ENDPOINT)
		return ret;
	dest = fp_cluster_lookup(cfg, &pkt.dst);
	if (dest)
		return fp_forward_cluster(ctx, &pkt, dest);
	/* Hairpin (a port published on a host address), or out of the host, masqueraded. */
	return fp_translate_from_container(ctx, &pkt, cfg);
}

#endif
