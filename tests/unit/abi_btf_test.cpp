// The ABI is defined once in maps/abi/flatpath_abi.h; this proves that what the C++
// side compiles is exactly what the BPF objects were compiled with, by reading
// the structs' sizes and member offsets back from the objects' BTF.
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <cstddef>
#include <string>
#include <memory>
#include <utility>
#include <vector>

#include "flatpath_abi.h"
#include "tc_endpoint.skel.h"
#include "tc_uplink.skel.h"
#include "xdp_uplink.skel.h"

namespace {

using Members = std::vector<std::pair<const char *, std::size_t>>;

struct Layout {
    const char *name;
    __u32 kind;
    std::size_t size;
    Members members;
};

#define FIELD(type, m) {#m, offsetof(type, m)}

const std::vector<Layout> &layouts()
{
    static const std::vector<Layout> all = {
        {"fp_addr", BTF_KIND_UNION, sizeof(fp_addr), {FIELD(fp_addr, b), FIELD(fp_addr, w)}},
        {"fp_endpoint_key", BTF_KIND_STRUCT, sizeof(fp_endpoint_key), {FIELD(fp_endpoint_key, addr)}},
        {"fp_endpoint",
         BTF_KIND_STRUCT,
         sizeof(fp_endpoint),
         {FIELD(fp_endpoint, ifindex), FIELD(fp_endpoint, slot), FIELD(fp_endpoint, mac), FIELD(fp_endpoint, host_mac),
          FIELD(fp_endpoint, kind), FIELD(fp_endpoint, flags), FIELD(fp_endpoint, pad),
          FIELD(fp_endpoint, zone)}},
        {"fp_iface_key", BTF_KIND_STRUCT, sizeof(fp_iface_key), {FIELD(fp_iface_key, ifindex)}},
        {"fp_iface",
         BTF_KIND_STRUCT,
         sizeof(fp_iface),
         {FIELD(fp_iface, role), FIELD(fp_iface, slot), FIELD(fp_iface, nr_addrs), FIELD(fp_iface, mac),
          FIELD(fp_iface, attached), FIELD(fp_iface, kind)}},
        {"fp_ep_stats",
         BTF_KIND_STRUCT,
         sizeof(fp_ep_stats),
         {FIELD(fp_ep_stats, to_packets), FIELD(fp_ep_stats, to_bytes), FIELD(fp_ep_stats, from_packets),
          FIELD(fp_ep_stats, from_bytes)}},
        {"fp_dnat_backend",
         BTF_KIND_STRUCT,
         sizeof(fp_dnat_backend),
         {FIELD(fp_dnat_backend, addr), FIELD(fp_dnat_backend, port), FIELD(fp_dnat_backend, flags),
          FIELD(fp_dnat_backend, pad)}},
        {"fp_reason_stats",
         BTF_KIND_STRUCT,
         sizeof(fp_reason_stats),
         {FIELD(fp_reason_stats, packets), FIELD(fp_reason_stats, bytes)}},
        {"fp_dnat_key",
         BTF_KIND_STRUCT,
         sizeof(fp_dnat_key),
         {FIELD(fp_dnat_key, addr), FIELD(fp_dnat_key, port), FIELD(fp_dnat_key, proto), FIELD(fp_dnat_key, pad)}},
        {"fp_range_key",
         BTF_KIND_STRUCT,
         sizeof(fp_range_key),
         {FIELD(fp_range_key, addr), FIELD(fp_range_key, proto), FIELD(fp_range_key, pad)}},
        {"fp_port_range",
         BTF_KIND_STRUCT,
         sizeof(fp_port_range),
         {FIELD(fp_port_range, first), FIELD(fp_port_range, last), FIELD(fp_port_range, backend_first),
          FIELD(fp_port_range, pad), FIELD(fp_port_range, backend)}},
        {"fp_range_set",
         BTF_KIND_STRUCT,
         sizeof(fp_range_set),
         {FIELD(fp_range_set, count), FIELD(fp_range_set, pad), FIELD(fp_range_set, ranges)}},
        {"fp_local_addr_key", BTF_KIND_STRUCT, sizeof(fp_local_addr_key), {FIELD(fp_local_addr_key, addr)}},
        {"fp_ct_key",
         BTF_KIND_STRUCT,
         sizeof(fp_ct_key),
         {FIELD(fp_ct_key, saddr), FIELD(fp_ct_key, daddr), FIELD(fp_ct_key, sport), FIELD(fp_ct_key, dport),
          FIELD(fp_ct_key, proto), FIELD(fp_ct_key, dir), FIELD(fp_ct_key, pad)}},
        {"fp_ct_entry",
         BTF_KIND_STRUCT,
         sizeof(fp_ct_entry),
         {FIELD(fp_ct_entry, saddr), FIELD(fp_ct_entry, daddr), FIELD(fp_ct_entry, sport), FIELD(fp_ct_entry, dport),
          FIELD(fp_ct_entry, flags), FIELD(fp_ct_entry, kind), FIELD(fp_ct_entry, pad),
          FIELD(fp_ct_entry, expires_ns),
          FIELD(fp_ct_entry, packets), FIELD(fp_ct_entry, bytes), FIELD(fp_ct_entry, handshake_ack),
          FIELD(fp_ct_entry, pad2), FIELD(fp_ct_entry, route)}},
        {"fp_ct_route",
         BTF_KIND_STRUCT,
         sizeof(fp_ct_route),
         {FIELD(fp_ct_route, generation), FIELD(fp_ct_route, in_ifindex), FIELD(fp_ct_route, out_ifindex),
          FIELD(fp_ct_route, slot), FIELD(fp_ct_route, dst_mac), FIELD(fp_ct_route, src_mac),
          FIELD(fp_ct_route, from_mac), FIELD(fp_ct_route, ep_kind), FIELD(fp_ct_route, pad),
          FIELD(fp_ct_route, from_slot), FIELD(fp_ct_route, mark_value), FIELD(fp_ct_route, mark_mask)}},
        {"fp_backend_key",
         BTF_KIND_STRUCT,
         sizeof(fp_backend_key),
         {FIELD(fp_backend_key, addr), FIELD(fp_backend_key, port), FIELD(fp_backend_key, proto),
          FIELD(fp_backend_key, pad)}},
        {"fp_mark_key",
         BTF_KIND_STRUCT,
         sizeof(fp_mark_key),
         {FIELD(fp_mark_key, addr), FIELD(fp_mark_key, port), FIELD(fp_mark_key, proto), FIELD(fp_mark_key, match)}},
        {"fp_mark", BTF_KIND_STRUCT, sizeof(fp_mark), {FIELD(fp_mark, value), FIELD(fp_mark, mask)}},
        {"fp_config",
         BTF_KIND_STRUCT,
         sizeof(fp_config),
         {FIELD(fp_config, dnat_entries), FIELD(fp_config, dnat_any), FIELD(fp_config, range_sets),
          FIELD(fp_config, mark_rules), FIELD(fp_config, masq_rules), FIELD(fp_config, masq_port_min),
          FIELD(fp_config, masq_port_max), FIELD(fp_config, cluster_dests), FIELD(fp_config, policies),
          FIELD(fp_config, generation), FIELD(fp_config, mark_any_source), FIELD(fp_config, mark_destinations),
          FIELD(fp_config, mark_any_destination)}},
        {"fp_masq_key", BTF_KIND_STRUCT, sizeof(fp_masq_key), {FIELD(fp_masq_key, prefixlen), FIELD(fp_masq_key, addr)}},
        {"fp_masq_rule",
         BTF_KIND_STRUCT,
         sizeof(fp_masq_rule),
         {FIELD(fp_masq_rule, id), FIELD(fp_masq_rule, out_ifindex)}},
        {"fp_masq_except_key",
         BTF_KIND_STRUCT,
         sizeof(fp_masq_except_key),
         {FIELD(fp_masq_except_key, prefixlen), FIELD(fp_masq_except_key, rule_id),
          FIELD(fp_masq_except_key, addr)}},
        {"fp_cluster_key", BTF_KIND_STRUCT, sizeof(fp_cluster_key), {FIELD(fp_cluster_key, prefixlen), FIELD(fp_cluster_key, addr)}},
        {"fp_cluster_dest",
         BTF_KIND_STRUCT,
         sizeof(fp_cluster_dest),
         {FIELD(fp_cluster_dest, peer), FIELD(fp_cluster_dest, vni), FIELD(fp_cluster_dest, tunnel_ifindex),
          FIELD(fp_cluster_dest, peer_mac), FIELD(fp_cluster_dest, pad)}},
        {"fp_flow_tuple",
         BTF_KIND_STRUCT,
         sizeof(fp_flow_tuple),
         {FIELD(fp_flow_tuple, saddr), FIELD(fp_flow_tuple, daddr), FIELD(fp_flow_tuple, sport),
          FIELD(fp_flow_tuple, dport), FIELD(fp_flow_tuple, proto), FIELD(fp_flow_tuple, l3),
          FIELD(fp_flow_tuple, pad)}},
        {"fp_trace_filter",
         BTF_KIND_STRUCT,
         sizeof(fp_trace_filter),
         {FIELD(fp_trace_filter, kinds), FIELD(fp_trace_filter, ifindex), FIELD(fp_trace_filter, addr),
          FIELD(fp_trace_filter, flags), FIELD(fp_trace_filter, port), FIELD(fp_trace_filter, proto),
          FIELD(fp_trace_filter, reason), FIELD(fp_trace_filter, pid), FIELD(fp_trace_filter, pidns)}},
        {"fp_trace_cpu", BTF_KIND_STRUCT, sizeof(fp_trace_cpu), {FIELD(fp_trace_cpu, lost), FIELD(fp_trace_cpu, before), FIELD(fp_trace_cpu, after),
          FIELD(fp_trace_cpu, flow_orig), FIELD(fp_trace_cpu, flow_xlat), FIELD(fp_trace_cpu, flow_kind),
          FIELD(fp_trace_cpu, flow_ct_kind), FIELD(fp_trace_cpu, armed), FIELD(fp_trace_cpu, pad),
          FIELD(fp_trace_cpu, other)}},
        {"fp_policy_rule",
         BTF_KIND_STRUCT,
         sizeof(fp_policy_rule),
         {FIELD(fp_policy_rule, addr), FIELD(fp_policy_rule, mask), FIELD(fp_policy_rule, port_first),
          FIELD(fp_policy_rule, port_last), FIELD(fp_policy_rule, proto), FIELD(fp_policy_rule, action),
          FIELD(fp_policy_rule, dir), FIELD(fp_policy_rule, family)}},
        {"fp_policy",
         BTF_KIND_STRUCT,
         sizeof(fp_policy),
         {FIELD(fp_policy, generation), FIELD(fp_policy, defaults), FIELD(fp_policy, count), FIELD(fp_policy, pad),
          FIELD(fp_policy, rules)}},
        {"fp_policy_flow_key",
         BTF_KIND_STRUCT,
         sizeof(fp_policy_flow_key),
         {FIELD(fp_policy_flow_key, ifindex), FIELD(fp_policy_flow_key, local), FIELD(fp_policy_flow_key, remote),
          FIELD(fp_policy_flow_key, local_port), FIELD(fp_policy_flow_key, remote_port),
          FIELD(fp_policy_flow_key, proto), FIELD(fp_policy_flow_key, pad)}},
        {"fp_policy_flow",
         BTF_KIND_STRUCT,
         sizeof(fp_policy_flow),
         {FIELD(fp_policy_flow, expires_ns), FIELD(fp_policy_flow, generation), FIELD(fp_policy_flow, origin),
          FIELD(fp_policy_flow, pad)}},
        {"fp_delivery",
         BTF_KIND_STRUCT,
         sizeof(fp_delivery),
         {FIELD(fp_delivery, ifindex), FIELD(fp_delivery, slot), FIELD(fp_delivery, len), FIELD(fp_delivery, pad)}},
        {"fp_trace_event",
         BTF_KIND_STRUCT,
         sizeof(fp_trace_event),
         {FIELD(fp_trace_event, time_ns), FIELD(fp_trace_event, ifindex), FIELD(fp_trace_event, len),
          FIELD(fp_trace_event, mark), FIELD(fp_trace_event, action), FIELD(fp_trace_event, kind),
          FIELD(fp_trace_event, hook), FIELD(fp_trace_event, reason), FIELD(fp_trace_event, ct_kind),
          FIELD(fp_trace_event, pad), FIELD(fp_trace_event, before), FIELD(fp_trace_event, after)}},
    };
    return all;
}

template <class Skel>
void expect_layouts_match(const char *object)
{
    std::size_t size = 0;
    const void *elf = Skel::elf_bytes(&size);
    std::unique_ptr<bpf_object, void (*)(bpf_object *)> obj(bpf_object__open_mem(elf, size, nullptr),
                                                            bpf_object__close);
    ASSERT_TRUE(obj) << "open " << object;
    const btf *b = bpf_object__btf(obj.get());
    ASSERT_TRUE(b) << object << " has no BTF";
    // Every fp_* struct or union the object's BTF has must be in the table above: a type
    // added to the ABI without a row here fails.
    for (__u32 id = 1; id < btf__type_cnt(b); ++id) {
        const btf_type *t = btf__type_by_id(b, id);
        if (!btf_is_struct(t) && !btf_is_union(t))
            continue;
        const std::string name = btf__name_by_offset(b, t->name_off);
        if (!name.starts_with("fp_"))
            continue;
        // The datapath's own working space (a per-CPU scratch map's value): never read or
        // written by user space, so not ABI. A new private type must be named here on purpose.
        // fp_pkt: a parsed packet, which subprograms take as an argument.
        static const std::set<std::string> kPrivate = {"fp_masq_scratch", "fp_masq_alloc", "fp_ct_scratch", "fp_pkt",
                                                       "fp_l4"};
        if (kPrivate.contains(name))
            continue;
        const bool listed = std::any_of(layouts().begin(), layouts().end(),
                                        [&](const Layout &l) { return name == l.name && btf_kind(t) == l.kind; });
        EXPECT_TRUE(listed) << object << ": " << name << " is in the BTF but not in this test's table";
    }
    for (const Layout &l : layouts()) {
        SCOPED_TRACE(std::string(object) + ": " + l.name);
        const int id = btf__find_by_name_kind(b, l.name, l.kind);
        ASSERT_GT(id, 0) << "not in BTF";
        const btf_type *t = btf__type_by_id(b, static_cast<__u32>(id));
        EXPECT_EQ(t->size, l.size);
        ASSERT_EQ(btf_vlen(t), l.members.size()) << "member count";
        const btf_member *m = btf_members(t);
        for (std::size_t i = 0; i < l.members.size(); ++i) {
            EXPECT_STREQ(btf__name_by_offset(b, m[i].name_off), l.members[i].first);
            EXPECT_EQ(btf_member_bit_offset(t, static_cast<__u32>(i)), l.members[i].second * 8) << l.members[i].first;
        }
    }
}

TEST(AbiBtf, XdpUplinkMatchesTheHeader)
{
    expect_layouts_match<xdp_uplink>("xdp_uplink");
}

TEST(AbiBtf, TcUplinkMatchesTheHeader)
{
    expect_layouts_match<tc_uplink>("tc_uplink");
}

TEST(AbiBtf, TcEndpointMatchesTheHeader)
{
    expect_layouts_match<tc_endpoint>("tc_endpoint");
}

} // namespace
