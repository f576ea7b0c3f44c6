// The typed wrappers of every flatpath map, opened together: from the pins
// under a pin root (the CLI, the CNI plugin) or from a freshly loaded set of
// programs (BPF program tests).
#pragma once

#include <functional>
#include <string>

#include "bpf_map.hpp"
#include "flatpath_abi.h"
#include "ip_addr.hpp"

namespace fp {

using EndpointMap = KeyedMap<fp_endpoint_key, fp_endpoint>;
using EpPrefixMap = KeyedMap<std::uint32_t, std::uint8_t>; // array: bucket -> maybe an endpoint
using IfaceMap = KeyedMap<fp_iface_key, fp_iface>;
using TxDevMap = KeyedMap<std::uint32_t, std::uint32_t>; // devmap: ifindex -> ifindex
using EpStatsMap = PerCpuArray<fp_ep_stats>;
using ReasonMap = PerCpuArray<fp_reason_stats>;
using DnatMap = KeyedMap<fp_dnat_key, fp_dnat_backend>;
using RangeMap = KeyedMap<fp_range_key, fp_range_set>;
using LocalAddrMap = KeyedMap<fp_local_addr_key, std::uint8_t>;
using BackendMap = KeyedMap<fp_backend_key, std::uint32_t>; // -> published ports going there
using CtMap = KeyedMap<fp_ct_key, fp_ct_entry>;
using MarkMap = KeyedMap<fp_mark_key, fp_mark>;
using ConfigMap = KeyedMap<std::uint32_t, fp_config>; // one element, index 0
using MasqMap = KeyedMap<fp_masq_key, fp_masq_rule>;            // LPM trie
using MasqExceptMap = KeyedMap<fp_masq_except_key, std::uint8_t>; // LPM trie
using ClusterMap = KeyedMap<fp_cluster_key, fp_cluster_dest>;      // LPM trie
using TraceFilterMap = KeyedMap<std::uint32_t, fp_trace_filter>;   // one element, index 0
using TraceCpuMap = PerCpuArray<fp_trace_cpu>;                      // one element
using PolicyMap = KeyedMap<std::uint32_t, fp_policy>;                // endpoint ifindex -> policy
using PolicyFlowMap = KeyedMap<fp_policy_flow_key, fp_policy_flow>;  // LRU

inline fp_endpoint_key endpoint_key(const IpAddr &addr) { return fp_endpoint_key{addr.raw()}; }
inline fp_iface_key iface_key(std::uint32_t ifindex) { return fp_iface_key{ifindex}; }

struct MapSet {
    EndpointMap endpoints;
    EpPrefixMap ep_prefixes;
    IfaceMap ifaces;
    TxDevMap tx_devs;
    EpStatsMap ep_stats;
    ReasonMap reasons;
    DnatMap dnat;
    RangeMap ranges;
    LocalAddrMap local_addrs;
    BackendMap backends;
    CtMap ct;     // assured flows
    CtMap ct_new; // flows not assured yet (LRU)
    MarkMap marks;
    ConfigMap config;
    MasqMap masq;
    MasqExceptMap masq_except;
    ClusterMap cluster;
    TraceFilterMap trace_filter;
    TraceCpuMap trace_cpu;
    PolicyMap policy;
    PolicyFlowMap policy_flows;

    // Opens the maps pinned under pin_root; throws naming the first missing one.
    static MapSet open_pinned(const std::string &pin_root);
    // Wraps duplicates of the fds that fd_of(name) returns for each map name.
    static MapSet from_fds(const std::function<int(const char *name)> &fd_of);
};

} // namespace fp
