/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The one exit of every program: a delivery to an endpoint passes its policy and is
 * counted (lib/policy.h); a verdict (>= 0) is returned as it is; a
 * negative reason is counted per hook and CPU, and turned into "hand to the
 * stack" (reasons below FP_DROP_FIRST) or "drop". While tracing, the packet's event goes
 * out here (lib/trace.h).
 * The including .bpf.c defines FP_HOOK (enum fp_hook) before including it.
 */
#ifndef FP_LIB_EXIT_H
#define FP_LIB_EXIT_H

#include "maps.h"
#include "policy.h"
#include "trace.h"

#ifndef FP_HOOK
#error "define FP_HOOK (enum fp_hook) before including exit.h"
#endif

static __always_inline int fp_exit(struct __ctx_buff *ctx, int ret)
{
	struct fp_reason_stats *st;
	__u32 reason, idx;
	int action;

	ret = fp_delivery_done(ctx, ret);
	if (ret >= 0) {
		fp_trace_exit(ctx, ret, ret);
		return ret;
	}
	reason = (__u32)-ret;
	if (reason >= FP_REASON_MAX)
		reason = FP_DROP_INTERNAL; /* not a reason: a helper's error leaked out */
	idx = FP_HOOK * FP_REASON_MAX + reason;
	st = bpf_map_lookup_elem(&fp_reasons, &idx);
	if (st) {
		st->packets++;
		st->bytes += ctx_len(ctx);
	}
	action = reason >= FP_DROP_FIRST ? CTX_ACT_DROP : CTX_ACT_OK;
	fp_trace_exit(ctx, -(int)reason, action);
	return action;
}

#endif
