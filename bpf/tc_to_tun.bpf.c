// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * tc egress on a tun endpoint (an L3 device, no Ethernet header): to_container's check of
 * what the host stack sends it. Counted as the endpoint hook.
 */
#define FP_HOOK FP_HOOK_TC_ENDPOINT
#include "lib/ctx_skb.h"
#include "lib/exit.h"

/* The packet's family from its IP version: what the stack routed to the tun is IP (its
 * skb->protocol says the same, but the version is in the data the policy reads anyway).
 * Anything else is 0xffff: not IP. */
static __always_inline __u32 fp_l3_proto_of(struct __sk_buff *ctx)
{
	__u8 *first = ctx_data(ctx);

	if ((void *)(first + 1) > ctx_data_end(ctx))
		return 0xffff;
	if (*first >> 4 == 4)
		return bpf_htons(ETH_P_IP);
	return *first >> 4 == 6 ? bpf_htons(ETH_P_IPV6) : 0xffff;
}

SEC("tc")
int to_tun(struct __sk_buff *ctx)
{
	int ret = fp_policy_received(ctx, fp_l3_proto_of(ctx));

	if (ret < 0)
		fp_trace_enter(ctx);
	return fp_exit(ctx, ret);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
