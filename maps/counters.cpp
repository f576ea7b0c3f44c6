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

namespace {

constexpr ReasonInfo kReasonTable[] = {
#define FP_REASON_ROW(id, value, name, meaning) {value, name, meaning},
    FP_REASON_LIST(FP_REASON_ROW)
#undef FP_REASON_ROW
};

} // namespace

std::span<const ReasonInfo> all_reasons()
{
    return kReasonTable;
}

std::string_view reason_name(unsigned reason)
{
    for (const ReasonInfo &r : kReasonTable)
        if (r.value == reason)
            return r.name;
    return {};
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
