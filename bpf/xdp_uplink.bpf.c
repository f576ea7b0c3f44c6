// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* XDP on an uplink: packets from the LAN for a local endpoint go to it before an skb exists. */
#define FP_HOOK FP_HOOK_XDP_UPLINK
#include "lib/ctx_xdp.h"
#include "lib/exit.h"
#include "lib/uplink.h"

SEC("xdp")
int xdp_uplink(struct xdp_md *ctx)
{
	fp_trace_enter(ctx);

	return fp_exit(ctx, fp_handle_from_uplink(ctx));
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
