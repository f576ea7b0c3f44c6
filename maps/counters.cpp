#include "counters.hpp"

namespace fp {

fp_ep_stats sum_per_cpu(const std::vector<fp_ep_stats> &per_cpu)
{
    fp_ep_stats total{};
    for (const auto &v : per_cpu) {
        total.to_packets += v.to_packets;
        total.to_bytes += v.to_bytes;
        total.from_packets += v.from_packets;
        total.from_bytes += v.from_bytes;
    }
    return total;
}

fp_reason_stats sum_per_cpu(const std::vector<fp_reason_stats> &per_cpu)
{
    fp_reason_stats total{};
    for (const auto &v : per_cpu) {
        total.packets += v.packets;
        total.bytes += v.bytes;
    }
    return total;
}

std::string_view reason_name(unsigned reason)
{
    switch (reason) {
    case FP_PASS_NOT_IP: return "pass_not_ip";
    case FP_PASS_NO_ENDPOINT: return "pass_no_endpoint";
    case FP_PASS_TTL: return "pass_ttl";
    case FP_PASS_VLAN: return "pass_vlan";
    case FP_PASS_LINK_LOCAL: return "pass_link_local";
    case FP_PASS_IPV6_HOP_BY_HOP: return "pass_ipv6_hop_by_hop";
    case FP_PASS_KIND: return "pass_kind";
    case FP_PASS_NOT_FOR_HOST: return "pass_not_for_host";
    case FP_PASS_FRAGMENT: return "pass_fragment";
    case FP_PASS_ICMP_ERROR: return "pass_icmp_error";
    case FP_PASS_OTHER_ZONE: return "pass_other_zone";
    case FP_DROP_SPOOF_MAC: return "drop_spoof_mac";
    case FP_DROP_SPOOF_IP: return "drop_spoof_ip";
    case FP_DROP_MALFORMED: return "drop_malformed";
    case FP_DROP_NOT_ENDPOINT: return "drop_not_endpoint";
    case FP_DROP_REDIRECT: return "drop_redirect";
    case FP_DROP_CT_FULL: return "drop_ct_full";
    case FP_DROP_NAT: return "drop_nat";
    default: return {};
    }
}

bool reason_is_drop(unsigned reason)
{
    return reason >= FP_DROP_FIRST;
}

std::string_view hook_name(unsigned hook)
{
    switch (hook) {
    case FP_HOOK_XDP_UPLINK: return "xdp_uplink";
    case FP_HOOK_TC_UPLINK: return "from_uplink";
    case FP_HOOK_TC_ENDPOINT: return "from_container";
    default: return {};
    }
}

} // namespace fp
