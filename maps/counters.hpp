// Turning per-CPU counter values into totals and naming the reasons.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "flatpath_abi.h"

namespace fp {

// fp_reasons is indexed by hook and reason together (see exit.h).
constexpr std::uint32_t reason_index(unsigned hook, unsigned reason)
{
    return hook * static_cast<unsigned>(FP_REASON_MAX) + reason;
}

fp_ep_stats sum_per_cpu(const std::vector<fp_ep_stats> &per_cpu);
fp_reason_stats sum_per_cpu(const std::vector<fp_reason_stats> &per_cpu);

// One row of FP_REASON_LIST.
struct ReasonInfo {
    unsigned value;
    std::string_view name;    // "pass_no_endpoint", "drop_spoof_ip", ...
    std::string_view meaning; // a line for people (README, --help)
};
std::span<const ReasonInfo> all_reasons();

// "pass_no_endpoint", "drop_spoof_ip", ...; empty for an index that names no reason.
std::string_view reason_name(unsigned reason);
bool reason_is_drop(unsigned reason);
std::string_view hook_name(unsigned hook);

} // namespace fp
