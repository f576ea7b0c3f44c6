/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The maps every flatpath program shares. Each object declares all of them;
 * the loader creates them once, pins them under the pin root and hands the
 * same fds to every object (bpf_map__reuse_fd), so they are one set of maps.
 * They are pinned so that forwarding goes on while the loader is not running.
 */
#ifndef FP_LIB_MAPS_H
#define FP_LIB_MAPS_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "flatpath_abi.h"

/*
 * A per-CPU working space holding one vtype, off BPF's 512-byte stack, used within one
 * packet (a hook runs start to exit on one CPU, so nothing else touches it meanwhile): not
 * pinned, not shared between objects. Declares the map `name` and name##_get().
 */
#define FP_SCRATCH_MAP(name, vtype)                                \
	struct {                                                   \
		__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);           \
		__uint(max_entries, 1);                            \
		__type(key, __u32);                                \
		__type(value, vtype);                              \
	} name SEC(".maps");                                       \
	static __always_inline vtype *name##_get(void)             \
	{                                                          \
		__u32 zero = 0;                                    \
		return bpf_map_lookup_elem(&name, &zero);          \
	}

/* Written by `flatpath endpoint add|del` and flatpath-cni; read by every hook to find
 * where a destination (and a sender's source) address lives. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, FP_MAX_ENDPOINT_ADDRS);
	__type(key, struct fp_endpoint_key);
	__type(value, struct fp_endpoint);
} fp_endpoints SEC(".maps");

/* Written by user space before each endpoint it adds (flatpath_abi.h says how); read
 * before fp_endpoints wherever a miss is likely. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, FP_EP_PREFIX_BUCKETS);
	__type(key, __u32);
	__type(value, __u8);
} fp_ep_prefixes SEC(".maps");

/* The local endpoint at addr, or 0. An address in a prefix that holds no endpoint costs
 * an array read (the verifier inlines it), not a hash lookup: most addresses a hook asks
 * about that are no endpoint's are the LAN's or the host's. */
static __always_inline struct fp_endpoint *fp_endpoint_of(const union fp_addr *addr)
{
	struct fp_endpoint_key key = { .addr = *addr };
	__u32 bucket = fp_ep_prefix_bucket(addr);
	__u8 *maybe = bpf_map_lookup_elem(&fp_ep_prefixes, &bucket);

	if (!maybe || !*maybe)
		return 0;
	return bpf_map_lookup_elem(&fp_endpoints, &key);
}

/* Written by the loader on attach and endpoint add; read by from_container for the
 * source MAC of non-IP frames, and by the loader to undo exactly what it attached. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, FP_MAX_IFACES);
	__type(key, struct fp_iface_key);
	__type(value, struct fp_iface);
} fp_ifaces SEC(".maps");

/* Written by the loader with every endpoint device; read by xdp_uplink, which can only
 * redirect in bulk to devices listed in a devmap. */
struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP_HASH);
	__uint(max_entries, FP_MAX_IFACES);
	__type(key, __u32);
	__type(value, __u32);
} fp_tx_devs SEC(".maps");

/* Written by every hook, read by `flatpath stats`: per-endpoint packets and bytes,
 * per CPU so that counting costs no shared cache line. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, FP_MAX_SLOTS);
	__type(key, __u32);
	__type(value, struct fp_ep_stats);
} fp_ep_stats SEC(".maps");

/* Written by the single exit of every hook, read by `flatpath stats`: why packets
 * left the fast path (handed to the stack, or dropped), per hook and CPU. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, FP_REASON_ENTRIES);
	__type(key, __u32);
	__type(value, struct fp_reason_stats);
} fp_reasons SEC(".maps");

/* Written by `flatpath dnat add|del` and flatpath-cni (portMappings); read by every hook
 * for the first packet of a flow to a host address. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, FP_MAX_DNAT);
	__type(key, struct fp_dnat_key);
	__type(value, struct fp_dnat_backend);
} fp_dnat SEC(".maps");

/* Written by `flatpath dnat add|del` for port ranges; read after a miss in fp_dnat. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, FP_MAX_RANGE_SETS);
	__type(key, struct fp_range_key);
	__type(value, struct fp_range_set);
} fp_dnat_ranges SEC(".maps");

/* Written by the loader with every DNAT change; read by from_container before any
 * conntrack lookup (only a published backend port sends translated replies), and on
 * a SYN from the uplink to a backend port (a direct connection, see FP_CT_DIRECT). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, FP_MAX_BACKENDS);
	__type(key, struct fp_backend_key);
	__type(value, __u32);
} fp_backends SEC(".maps");

/* Written by the loader (the host's addresses at up and dnat add); read to decide
 * whether an "any address" DNAT entry applies to a destination. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, FP_MAX_LOCAL_ADDRS);
	__type(key, struct fp_local_addr_key);
	__type(value, __u8);
} fp_local_addrs SEC(".maps");

/* Written by every hook when a translated flow is assured; read by the reply path to undo
 * the translation, and by `flatpath ct` to list, collect and purge. A plain hash: an
 * assured flow leaves only when it ends or times out, never to make room. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, FP_MAX_CT);
	__type(key, struct fp_ct_key);
	__type(value, struct fp_ct_entry);
} fp_ct SEC(".maps");

/* Written by every hook for the first packets of a translated flow, until it is assured;
 * read like fp_ct. LRU: a flood of new flows (SYNs from spoofed sources) evicts the
 * least recently used of them, never an assured flow. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, FP_MAX_CT_NEW);
	__type(key, struct fp_ct_key);
	__type(value, struct fp_ct_entry);
} fp_ct_new SEC(".maps");

/* Written by `flatpath mark add|del`; read by from_container to set skb->mark for
 * policy routing (ip rule fwmark). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, FP_MAX_MARKS);
	__type(key, struct fp_mark_key);
	__type(value, struct fp_mark);
} fp_marks SEC(".maps");

/* Written by `flatpath masq add|del` and flatpath-cni (ipMasq); read by from_container
 * for the first packet of a flow that leaves the host. */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, FP_MAX_MASQ);
	__uint(map_flags, BPF_F_NO_PREALLOC); /* LPM tries must not be preallocated */
	__type(key, struct fp_masq_key);
	__type(value, struct fp_masq_rule);
} fp_masq SEC(".maps");

/* Written with fp_masq; read after a hit there: destinations a rule leaves alone. */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, FP_MAX_MASQ_EXCEPT);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct fp_masq_except_key);
	__type(value, __u8);
} fp_masq_except SEC(".maps");

/* Written by the daemon's cluster member from etcd (the cluster network, the other hosts'
 * subnets); read by from_container for what is no local endpoint, and by every hook for a
 * published port's backend. Pinned: routes across hosts go on while the daemon restarts. */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, FP_MAX_CLUSTER);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct fp_cluster_key);
	__type(value, struct fp_cluster_dest);
} fp_cluster SEC(".maps");

/* Written by the loader with every DNAT, mark and masquerade change (and the port range
 * at up); read by every hook first, to
 * skip the lookups of features nobody uses. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct fp_config);
} fp_config SEC(".maps");

/* Written by `flatpath trace` while it runs (and cleared when it ends); read at every hook's
 * start and exit: while kinds is 0, nobody traces and those two checks are all tracing costs. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct fp_trace_filter);
} fp_trace_filter SEC(".maps");

/* Written by every hook while tracing (the packet as it came in, the events lost); read
 * by the tracer for the lost count. Per CPU: a hook runs start to exit on one CPU. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct fp_trace_cpu);
} fp_trace_cpu SEC(".maps");

/* Written by every hook while tracing, read by `flatpath trace`: the events. A full ring
 * drops the event (counted in fp_trace_cpu), never the packet, and never waits. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, FP_TRACE_RING_BYTES);
} fp_trace_ring SEC(".maps");

/* Written by `flatpath policy`, flatpath-cni (a conflist's policy) and the daemon (a
 * container's label); read by every hook, for endpoints with a policy only. Keyed by the
 * endpoint's host-side ifindex. Not preallocated: most endpoints have none. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, FP_MAX_SLOTS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u32);
	__type(value, struct fp_policy);
} fp_policy SEC(".maps");

/* Written by every hook for the flows a policy allowed; read by every hook for the
 * packets of endpoints with a policy. LRU: a full table forgets the least recently used
 * flow, whose next packet is then decided again. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, FP_MAX_POLICY_FLOWS);
	__type(key, struct fp_policy_flow_key);
	__type(value, struct fp_policy_flow);
} fp_policy_flows SEC(".maps");

/* Written and read by every hook within one packet (lib/fwd.h notes, the exit takes).
 * Per CPU: a hook runs start to exit on one CPU. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct fp_delivery);
} fp_delivery SEC(".maps");

/* The key of the one-element maps, as read-only data: a key on the stack takes room that
 * the hooks, at BPF's 512-byte stack limit, do not have to spare. */
const volatile __u32 fp_key_zero = 0;

static __always_inline const struct fp_config *fp_config_get(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&fp_config, &zero);
}

/* The cluster table's entry for addr: the host whose subnet it is in (peer zero: a cluster
 * network no host has that part of), or none outside the cluster. */
static __always_inline const struct fp_cluster_dest *fp_cluster_lookup(const struct fp_config *cfg,
									 const union fp_addr *addr)
{
	struct fp_cluster_key key = { .prefixlen = 128, .addr = *addr };

	if (!cfg || !cfg->cluster_dests)
		return 0;
	return bpf_map_lookup_elem(&fp_cluster, &key);
}

#endif
