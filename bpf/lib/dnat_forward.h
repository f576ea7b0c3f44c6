/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * What every hook does with an IP packet for no local endpoint: a published address's
 * flow (a new one, an established one, or an ICMP error about one) is translated and
 * delivered to its backend, a masqueraded flow's reply to its container; anything
 * else goes to the stack.
 */
#ifndef FP_LIB_DNAT_FORWARD_H
#define FP_LIB_DNAT_FORWARD_H

#include "dnat.h"
#include "fwd.h"
#include "icmp_error.h"
#include "masq.h"

/*
 * For a packet whose destination is no endpoint: translate it if it is for a
 * published address and deliver it to the backend; otherwise hand it to the
 * stack (FP_PASS_NO_ENDPOINT). cfg is the caller's fp_config_get(); the
 * transport header is parsed here unless the caller did (pkt->l4.off set).
 */
static __always_inline int fp_dnat_and_forward(struct __ctx_buff *ctx, struct fp_pkt *pkt,
					       const struct fp_config *cfg)
{
	int ret;

	if (!cfg || !(cfg->dnat_entries || cfg->masq_rules))
		return -FP_PASS_NO_ENDPOINT;
	if (!pkt->l4.off) {
		ret = fp_parse_l4(pkt, ctx_data(ctx), ctx_data_end(ctx));
		if (ret < 0)
			return ret;
	}
	/* Fragments are left to the stack, counted: only the first carries the ports. */
	if (pkt->l4.frag != FP_FRAG_NONE)
		return -FP_PASS_FRAGMENT;
	/* A packet that cannot be forwarded is not translated: the stack sees it as sent, to
	 * the host's own address, and no flow is made for a packet never delivered (an ICMP
	 * time exceeded would otherwise quote the backend's address). */
	if (fp_ttl_expires(pkt))
		return -FP_PASS_TTL;
	if (fp_is_icmp_error(pkt)) {
		ret = fp_icmp_error_original(ctx, pkt);
		if (ret <= 0)
			return ret ?: -FP_PASS_ICMP_ERROR;
		return fp_forward_translated(ctx);
	}
	ret = fp_masq_reply(ctx, pkt, cfg);
	if (!ret && cfg->dnat_entries)
		ret = fp_dnat_original(ctx, pkt, cfg);
	if (ret <= 0)
		return ret ?: -FP_PASS_NO_ENDPOINT;
	return fp_forward_translated(ctx);
}

#endif
