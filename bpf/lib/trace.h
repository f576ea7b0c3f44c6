/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Trace events for `flatpath trace`: packets at a hook's exit (fp_exit), flows as
 * conntrack creates and closes them. Nothing is emitted while nobody traces, and all a
 * hook pays then is a read of fp_trace_filter at its start and one at its exit (array
 * lookups the verifier inlines).
 * While tracing, the filter is applied here, in the kernel, before an event takes ring
 * space.
 *
 * A hook calls fp_trace_enter() first (the packet as it came in, kept per CPU, "armed")
 * and fp_exit() sends the events. Nothing is carried from the one to the other in a
 * register: a value the verifier would know (0 while nobody traces) would make it verify
 * the whole hook twice, once per value. The tracer disarms every CPU before it turns the
 * events on, so an exit never sends a packet that its own hook's start did not capture.
 * The handlers use up BPF's 512-byte stack between them, so nothing deep in them calls a
 * subprogram of its own: a flow event is noted in the per-CPU space (fp_trace_flow) and
 * sent at the exit.
 */
#ifndef FP_LIB_TRACE_H
#define FP_LIB_TRACE_H

#ifndef FP_HOOK
#error "define FP_HOOK (enum fp_hook) before including trace.h"
#endif

#include "maps.h"
#include "l4.h"

/* Never read: it puts the event's type into each object's BTF (the ring's records are
 * untyped), where the ABI test compares its layout with what C++ reads. */
const volatile struct fp_trace_event fp_trace_event_layout = {};

/* 0 only in the bench's reference load of the programs (LoadedPrograms::load): the
 * verifier then drops every trace branch as dead code, and the bench compares the
 * programs with and without them, which is how "no cost while nobody traces" is measured. */
const volatile __u8 fp_trace_built = 1;

/* The filter while someone traces, else 0. */
static __always_inline const struct fp_trace_filter *fp_trace_filter_get(void)
{
	const struct fp_trace_filter *f;

	if (!fp_trace_built)
		return 0;
	f = bpf_map_lookup_elem(&fp_trace_filter, (const void *)&fp_key_zero);
	return f && f->kinds ? f : 0;
}

static __always_inline struct fp_trace_cpu *fp_trace_cpu_get(void)
{
	return bpf_map_lookup_elem(&fp_trace_cpu, (const void *)&fp_key_zero);
}

/* The packet's tuple as far as it parses (addresses only for a malformed L4 header). */
static __always_inline void fp_trace_tuple_of(struct __ctx_buff *ctx, struct fp_flow_tuple *t)
{
	struct fp_pkt pkt;

	__builtin_memset(t, 0, sizeof(*t));
	if (fp_parse(&pkt, ctx_data(ctx), ctx_data_end(ctx)) < 0)
		return;
	t->l3 = (__u8)pkt.l3;
	t->saddr = pkt.src;
	t->daddr = pkt.dst;
	if (fp_parse_l4(&pkt, ctx_data(ctx), ctx_data_end(ctx)) < 0)
		return;
	t->proto = pkt.l4.proto;
	t->sport = pkt.l4.sport;
	t->dport = pkt.l4.dport;
}

static __noinline void fp_trace_capture(struct __ctx_buff *ctx)
{
	struct fp_trace_cpu *c = fp_trace_cpu_get();

	if (!c)
		return;
	ctx_pull_headers(ctx);
	fp_trace_tuple_of(ctx, &c->before);
	c->flow_kind = 0;
	c->armed = 1;
}

/* At a hook's start, while tracing: the packet as received, kept for the exit. */
static __always_inline void fp_trace_enter(struct __ctx_buff *ctx)
{
	if (fp_trace_filter_get())
		fp_trace_capture(ctx);
}

static __always_inline int fp_trace_addr_in(const struct fp_flow_tuple *t, const union fp_addr *a)
{
	return (t->saddr.w[0] == a->w[0] && t->saddr.w[1] == a->w[1] && t->saddr.w[2] == a->w[2] &&
		t->saddr.w[3] == a->w[3]) ||
	       (t->daddr.w[0] == a->w[0] && t->daddr.w[1] == a->w[1] && t->daddr.w[2] == a->w[2] &&
		t->daddr.w[3] == a->w[3]);
}

/* Whether an address of t is an endpoint on ifindex. */
static __always_inline int fp_trace_endpoint_in(const struct fp_flow_tuple *t, __u32 ifindex)
{
	struct fp_endpoint_key key = { .addr = t->saddr };
	const struct fp_endpoint *ep = bpf_map_lookup_elem(&fp_endpoints, &key);

	if (ep && ep->ifindex == ifindex)
		return 1;
	key.addr = t->daddr;
	ep = bpf_map_lookup_elem(&fp_endpoints, &key);
	return ep && ep->ifindex == ifindex;
}

/* The filter's address, port, protocol and device tests, against both tuples. */
static __always_inline int fp_trace_match(const struct fp_trace_filter *f, __u32 ifindex,
					  const struct fp_flow_tuple *before, const struct fp_flow_tuple *after)
{
	if (f->proto && f->proto != before->proto && f->proto != after->proto)
		return 0;
	if (f->port && f->port != before->sport && f->port != before->dport && f->port != after->sport &&
	    f->port != after->dport)
		return 0;
	if ((f->flags & FP_TRACE_MATCH_ADDR) && !fp_trace_addr_in(before, &f->addr) &&
	    !fp_trace_addr_in(after, &f->addr))
		return 0;
	if (f->ifindex && f->ifindex != ifindex && !fp_trace_endpoint_in(before, f->ifindex) &&
	    !fp_trace_endpoint_in(after, f->ifindex))
		return 0;
	return 1;
}

/* Takes ring space for an event of kind (its header filled), or counts it lost. */
static __always_inline struct fp_trace_event *fp_trace_reserve(struct __ctx_buff *ctx, __u8 kind,
								struct fp_trace_cpu *c)
{
	struct fp_trace_event *e = bpf_ringbuf_reserve(&fp_trace_ring, sizeof(*e), 0);

	if (!e) {
		c->lost++;
		return 0;
	}
	__builtin_memset(e, 0, sizeof(*e));
	e->time_ns = bpf_ktime_get_ns();
	e->ifindex = ctx_ifindex(ctx);
	e->len = ctx_len(ctx);
	e->mark = ctx_mark(ctx);
	e->kind = kind;
	e->hook = FP_HOOK;
	return e;
}

/* The flow event a hook noted (fp_trace_flow), if the filter wants it. */
static __always_inline void fp_trace_send_flow(struct __ctx_buff *ctx, const struct fp_trace_filter *f,
					       struct fp_trace_cpu *c)
{
	struct fp_trace_event *e;
	__u8 kind = c->flow_kind;

	c->flow_kind = 0;
	if (kind >= FP_TRACE_KIND_MAX || !(f->kinds & (1u << kind)))
		return;
	if (!fp_trace_match(f, ctx_ifindex(ctx), &c->flow_orig, &c->flow_xlat))
		return;
	e = fp_trace_reserve(ctx, kind, c);
	if (!e)
		return;
	e->ct_kind = c->flow_ct_kind;
	e->before = c->flow_orig;
	e->after = c->flow_xlat;
	bpf_ringbuf_submit(e, 0);
}

/* At a hook's exit (fp_exit), while tracing: the flow event the hook noted, and the
 * packet's, each if the filter wants it. ret is what the hook decided (a verdict, or a
 * negative reason), action what it returns. A CPU is disarmed here, or by the tracer. */
static __noinline void fp_trace_packet(struct __ctx_buff *ctx, int ret, int action)
{
	const struct fp_trace_filter *f = fp_trace_filter_get();
	struct fp_trace_cpu *c = fp_trace_cpu_get();
	struct fp_trace_event *e;
	__u32 reason = ret < 0 ? (__u32)-ret : 0;
	__u8 kind = ret >= 0 ? FP_TRACE_FORWARD : reason >= FP_DROP_FIRST ? FP_TRACE_DROP : FP_TRACE_TO_STACK;

	if (!f || !c || !c->armed)
		return; /* the events were turned on while the hook ran */
	c->armed = 0;
	if (c->flow_kind)
		fp_trace_send_flow(ctx, f, c);
	if (!(f->kinds & (1u << kind)))
		return;
	if (f->reason && f->reason != reason)
		return;
	fp_trace_tuple_of(ctx, &c->after);
	if (!fp_trace_match(f, ctx_ifindex(ctx), &c->before, &c->after))
		return;
	e = fp_trace_reserve(ctx, kind, c);
	if (!e)
		return;
	e->action = (__u32)action;
	e->reason = (__u8)reason;
	e->before = c->before;
	e->after = c->after;
	bpf_ringbuf_submit(e, 0);
}

/*
 * While tracing: notes a flow event for the hook's exit to send, with the flow's original
 * direction and what that is rewritten to, from pkt (of direction dir) and ct, the entry
 * of pkt's direction.
 */
static __always_inline void fp_trace_exit(struct __ctx_buff *ctx, int ret, int action)
{
	if (fp_trace_filter_get())
		fp_trace_packet(ctx, ret, action);
}

static __always_inline void fp_trace_flow(__u8 kind, const struct fp_pkt *pkt, const struct fp_ct_entry *ct,
					  __u8 dir)
{
	struct fp_trace_cpu *c;

	if (!fp_trace_filter_get())
		return;
	c = fp_trace_cpu_get();
	if (!c)
		return;
	c->flow_kind = kind;
	c->flow_ct_kind = ct->kind;
	c->flow_orig.proto = c->flow_xlat.proto = pkt->l4.proto;
	c->flow_orig.l3 = c->flow_xlat.l3 = (__u8)pkt->l3;
	if (dir == FP_CT_ORIGINAL) {
		c->flow_orig.saddr = pkt->src;
		c->flow_orig.daddr = pkt->dst;
		c->flow_orig.sport = pkt->l4.sport;
		c->flow_orig.dport = pkt->l4.dport;
		c->flow_xlat.saddr = ct->saddr;
		c->flow_xlat.daddr = ct->daddr;
		c->flow_xlat.sport = ct->sport;
		c->flow_xlat.dport = ct->dport;
	} else { /* a reply entry rewrites backend -> client into published -> client */
		c->flow_orig.saddr = ct->daddr;
		c->flow_orig.daddr = ct->saddr;
		c->flow_orig.sport = ct->dport;
		c->flow_orig.dport = ct->sport;
		c->flow_xlat.saddr = pkt->dst;
		c->flow_xlat.daddr = pkt->src;
		c->flow_xlat.sport = pkt->l4.dport;
		c->flow_xlat.dport = pkt->l4.sport;
	}
}

#endif
