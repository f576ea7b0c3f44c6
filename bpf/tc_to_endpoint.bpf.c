// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * tc egress on the host side of an endpoint (a container's veth, a VM's tap): what the host
 * stack sends it (the host's own connections, what the stack routed or answered), checked
 * against the endpoint's policy (lib/policy.h). What the fast path delivers was checked
 * where it was delivered. Counted as the endpoint hook.
 */
#define FP_HOOK FP_HOOK_TC_ENDPOINT
#include "lib/ctx_skb.h"
#include "lib/exit.h"

SEC("tc")
int to_container(struct __sk_buff *ctx)
{
	int ret = fp_policy_received(ctx, 0);

	/* Only a drop is traced: passing the stack's packets on is no forwarding decision. */
	if (ret < 0)
		fp_trace_enter(ctx);
	return fp_exit(ctx, ret);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
