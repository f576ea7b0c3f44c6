// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * tc ingress on an L3 uplink (a VPN gateway's WireGuard or tun side, no Ethernet header):
 * handled as any uplink's traffic once the packet has an Ethernet header. There is no XDP
 * on such a device. Counted as the tc uplink hook.
 */
#define FP_HOOK FP_HOOK_TC_UPLINK
#include "lib/ctx_skb.h"
#include "lib/l3_dev.h"
#include "lib/uplink.h"
#include "lib/dnat_remote.h"

SEC("tc")
int from_l3_uplink(struct __sk_buff *ctx)
{
	int ret = fp_push_l2(ctx);
	/* After the push: the trace shows the packet as every hook sees it. */
	fp_trace_enter(ctx);

	return fp_tc_exit(ctx, ret < 0 ? ret : fp_handle_from_uplink(ctx));
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
