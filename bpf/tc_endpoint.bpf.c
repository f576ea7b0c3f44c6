// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* tc ingress on the host side of an endpoint (a container's veth): what the container sends. */
#define FP_HOOK FP_HOOK_TC_ENDPOINT
#include "lib/ctx_skb.h"
#include "lib/exit.h"
#include "lib/parse.h"
#include "lib/source.h"
#include "lib/fwd.h"

static __always_inline int handle_from_container(struct __sk_buff *ctx)
{
	struct fp_pkt pkt;
	__u32 slot = 0;
	int parsed, ret;

	ctx_pull_headers(ctx);
	parsed = fp_parse(&pkt, ctx_data(ctx), ctx_data_end(ctx));
	if (parsed == -FP_DROP_MALFORMED)
		return parsed;
	ret = fp_check_source(ctx_ifindex(ctx), &pkt, &slot);
	if (ret < 0)
		return ret;
	fp_count_from(slot, ctx_len(ctx));
	if (parsed < 0)
		return parsed;
	if (pkt.l3 == FP_L3_IPV6 && fp_ipv6_link_scoped(&pkt.src))
		return -FP_PASS_LINK_LOCAL;
	return fp_forward_local(ctx, &pkt);
}

SEC("tc")
int from_container(struct __sk_buff *ctx)
{
	return fp_exit(ctx, handle_from_container(ctx));
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
