// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * tc egress on a tun endpoint (an L3 device, no Ethernet header): to_container's check of
 * what the host stack sends it. Counted as the endpoint hook.
 */
#define FP_HOOK FP_HOOK_TC_ENDPOINT
#include "lib/ctx_skb.h"
#include "lib/exit.h"

SEC("tc")
int to_tun(struct __sk_buff *ctx)
{
	int ret = fp_policy_received(ctx, ctx->protocol);

	if (ret < 0)
		fp_trace_enter(ctx);
	return fp_exit(ctx, ret);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
