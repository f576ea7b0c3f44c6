// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * tc ingress on a tun endpoint (an L3 device: a sandbox's userspace stack, a VPN client):
 * what its descriptor's holder writes, handled as a container's packet once it has an
 * Ethernet header. Counted as the endpoint hook.
 */
#define FP_HOOK FP_HOOK_TC_ENDPOINT
#include "lib/ctx_skb.h"
#include "lib/l3_dev.h"
#include "lib/container.h"
#include "lib/dnat_remote.h"

SEC("tc")
int from_tun(struct __sk_buff *ctx)
{
	int ret = fp_push_l2(ctx);
	/* After the push: the trace shows the packet as every hook sees it. */
	fp_trace_enter(ctx);
	if (ret == 0)
		ret = fp_policy_sent(ctx);
	return fp_tc_exit(ctx, ret < 0 ? ret : fp_handle_from_container(ctx));
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
