// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* tc ingress on the host side of an endpoint (a container's veth, a VM's tap): what it sends. */
#define FP_HOOK FP_HOOK_TC_ENDPOINT
#include "lib/ctx_skb.h"
#include "lib/container.h"
#include "lib/dnat_remote.h"

SEC("tc")
int from_container(struct __sk_buff *ctx)
{
	int ret;

	fp_trace_enter(ctx);
	ret = fp_policy_sent(ctx);
	return fp_tc_exit(ctx, ret < 0 ? ret : fp_handle_from_container(ctx));
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
