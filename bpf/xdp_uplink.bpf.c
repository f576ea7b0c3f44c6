// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* XDP on an uplink: packets from the LAN for a local endpoint go to it before an skb exists. */
#define FP_HOOK FP_HOOK_XDP_UPLINK
#include "lib/ctx_xdp.h"
#include "lib/exit.h"
#include "lib/parse.h"
#include "lib/fwd.h"

static __always_inline int handle_xdp_uplink(struct xdp_md *ctx)
{
	struct fp_pkt pkt;
	int ret;

	ret = fp_parse(&pkt, ctx_data(ctx), ctx_data_end(ctx));
	if (ret < 0)
		return ret;
	if (!ctx_frame_for_host(ctx, pkt.eth))
		return -FP_PASS_NOT_FOR_HOST;
	return fp_forward_local(ctx, &pkt);
}

SEC("xdp")
int xdp_uplink(struct xdp_md *ctx)
{
	return fp_exit(ctx, handle_xdp_uplink(ctx));
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
