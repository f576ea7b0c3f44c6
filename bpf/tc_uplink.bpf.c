// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * tc ingress on an uplink: the fallback for what xdp_uplink does not take
 * (generic-mode XDP, GRO-merged packets, drivers without native XDP).
 */
#define FP_HOOK FP_HOOK_TC_UPLINK
#include "lib/ctx_skb.h"
#include "lib/exit.h"
#include "lib/parse.h"
#include "lib/fwd.h"

static __always_inline int handle_from_uplink(struct __sk_buff *ctx)
{
	struct fp_pkt pkt;
	int ret;

	ctx_pull_headers(ctx);
	ret = fp_parse(&pkt, ctx_data(ctx), ctx_data_end(ctx));
	if (ret < 0)
		return ret;
	if (!ctx_frame_for_host(ctx, pkt.eth))
		return -FP_PASS_NOT_FOR_HOST;
	return fp_forward_local(ctx, &pkt);
}

SEC("tc")
int from_uplink(struct __sk_buff *ctx)
{
	return fp_exit(ctx, handle_from_uplink(ctx));
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
