// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * tc ingress on an uplink: the fallback for what xdp_uplink does not take
 * (generic-mode XDP, GRO-merged packets, drivers without native XDP), and the hook
 * that translates and routes flows to other hosts' backends.
 */
#define FP_HOOK FP_HOOK_TC_UPLINK
#include "lib/ctx_skb.h"
#include "lib/uplink.h"
#include "lib/dnat_remote.h"

SEC("tc")
int from_uplink(struct __sk_buff *ctx)
{
	fp_trace_enter(ctx);

	return fp_tc_exit(ctx, fp_handle_from_uplink(ctx));
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
