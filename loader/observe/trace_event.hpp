// One trace event as people and scripts read it: the names of the kinds, the line
// `flatpath trace` prints, and its JSON object (one per line with --json).
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "flatpath_abi.h"
#include "ip_addr.hpp"

namespace fp {

// One row of FP_TRACE_KIND_LIST.
struct TraceKindInfo {
    unsigned value;
    std::string_view name;    // "drop", "flow-new", ...
    std::string_view meaning; // a line for people (--help, README)
};
std::span<const TraceKindInfo> all_trace_kinds();
std::string_view trace_kind_name(unsigned kind);

// What the names in an event are: devices by ifindex (looked up once each), containers by
// address (what the caller knows of them; none is fine).
class TraceNames {
public:
    explicit TraceNames(std::map<IpAddr, std::string> containers = {});
    std::string device(std::uint32_t ifindex) const; // "if7" when the device is gone
    std::string container(const fp_addr &addr) const; // "" when unknown

private:
    std::map<IpAddr, std::string> containers_;
    mutable std::map<std::uint32_t, std::string> devices_;
};

// What the program did with the packet of a packet event: "redirect", "pass", "drop", "tx".
std::string_view trace_action_name(const fp_trace_event &e);
// "tcp 10.0.0.2:40000 > 1.2.3.4:443", "icmp 10.0.0.2 > 1.2.3.4 id 7".
std::string trace_tuple_str(const fp_flow_tuple &t);

// "12:04:05.123456 drop drop_spoof_ip from_container veth0a1b (web) tcp 10.0.0.2:40000 >
// 1.2.3.4:443", with " => SRC > DST" when the packet left rewritten. wall_offset_ns turns
// the event's CLOCK_MONOTONIC time into wall-clock time (CLOCK_REALTIME - CLOCK_MONOTONIC).
std::string trace_line(const fp_trace_event &e, const TraceNames &names, std::int64_t wall_offset_ns);
nlohmann::json trace_json(const fp_trace_event &e, const TraceNames &names, std::int64_t wall_offset_ns);

// CLOCK_REALTIME - CLOCK_MONOTONIC, now.
std::int64_t wall_clock_offset_ns();

} // namespace fp
