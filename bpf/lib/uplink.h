/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Traffic arriving on an uplink: routed to a local endpoint when it is for
 * one (directly, or through DNAT for a published address), else left to the
 * stack. The same code runs as xdp_uplink and, for what XDP does not take, as
 * tc from_uplink.
 */
#ifndef FP_LIB_UPLINK_H
#define FP_LIB_UPLINK_H

#include "parse.h"
#include "fwd.h"
#include "dnat_forward.h"
#include "source.h"
#include "masq.h"
#include "flow_cache.h"

/* A subprogram, not inlined: under tc, its frame and fp_dnat_remote's, which the hook calls
 * after it for a flow to another host's backend, then never add up to more than BPF's
 * 512-byte stack in one call chain. */
static __noinline int fp_handle_from_uplink(struct __ctx_buff *ctx)
{
	const struct fp_config *cfg;
	const struct fp_endpoint *ep;
	struct fp_pkt pkt;
	int ret, nat, l4;

	ctx_pull_headers(ctx);
	ret = fp_parse(&pkt, ctx_data(ctx), ctx_data_end(ctx));
	if (ret < 0)
		return ret;
	if (!ctx_frame_for_host(ctx, pkt.eth))
		return -FP_PASS_NOT_FOR_HOST;
	if (ctx_oversized(ctx))
		return -FP_PASS_GSO;
	ret = fp_check_l3(&pkt, ctx_len(ctx));
	if (ret < 0)
		return ret;
	cfg = fp_config_get();
	nat = cfg && (cfg->dnat_entries || cfg->masq_rules);
	l4 = nat ? fp_parse_l4(&pkt, ctx_data(ctx), ctx_data_end(ctx)) : 0;
	ep = fp_endpoint_of(&pkt.dst);
	/* For no endpoint: an established translated flow's packet, maybe, which its
	 * conntrack entry delivers (its source was checked as below when its route was
	 * resolved). */
	if (!ep && nat && !l4) {
		ret = fp_flow_fast(ctx, &pkt, cfg);
		if (ret)
			return ret;
	}
	/* A local container's address never arrives from outside: XDP and tc run before the
	 * stack's reverse-path filter, so flatpath filters it, whatever rp_filter says. */
	if (fp_source_is_local_endpoint(&pkt))
		return -FP_DROP_SPOOF_IP;
	/* A SYN straight to a published backend is marked, so that its answer is not taken
	 * for a stray reply (fp_dnat_reply). Only when ports are published. */
	if (nat) {
		if (l4 < 0)
			return l4;
		if (cfg->dnat_entries && pkt.l4.proto == IPPROTO_TCP && pkt.l4.frag == FP_FRAG_NONE)
			fp_ct_mark_direct(&pkt);
	}
	ret = fp_forward_to(ctx, &pkt, 0, ep);
	/* Delivered straight to a container: its answer is no flow to masquerade. */
	if (ret >= 0 && cfg && cfg->masq_rules && pkt.l4.proto == IPPROTO_UDP && pkt.l4.frag == FP_FRAG_NONE)
		fp_ct_mark_direct_udp(&pkt);
	if (ret != -FP_PASS_NO_ENDPOINT)
		return ret;
	/* Not an endpoint's address: a published address, maybe. */
	return fp_dnat_and_forward(ctx, &pkt, cfg);
}

#endif
