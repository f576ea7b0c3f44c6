#include "trace_event.hpp"

#include <arpa/inet.h>
#include <linux/bpf.h>
#include <netinet/in.h>
#include <linux/pkt_cls.h>
#include <net/if.h>

#include <cstdio>
#include <cstring>
#include <ctime>

#include "conntrack.hpp"
#include "counters.hpp"
#include "port_spec.hpp"

namespace fp {

namespace {

constexpr TraceKindInfo kKinds[] = {
#define FP_TRACE_KIND_ROW(id, value, name, meaning) {value, name, meaning},
    FP_TRACE_KIND_LIST(FP_TRACE_KIND_ROW)
#undef FP_TRACE_KIND_ROW
};

bool is_flow(unsigned kind)
{
    return kind == FP_TRACE_FLOW_NEW || kind == FP_TRACE_FLOW_CLOSED || kind == FP_TRACE_FLOW_EXPIRED;
}

} // namespace

// The action codes differ between XDP and tc.
std::string_view trace_action_name(const fp_trace_event &e)
{
    if (e.hook == FP_HOOK_XDP_UPLINK) {
        switch (e.action) {
        case XDP_DROP: return "drop";
        case XDP_PASS: return "pass";
        case XDP_TX: return "tx";
        case XDP_REDIRECT: return "redirect";
        default: return "?";
        }
    }
    switch (e.action) {
    case TC_ACT_OK: return "pass";
    case TC_ACT_SHOT: return "drop";
    case TC_ACT_REDIRECT: return "redirect";
    default: return "?";
    }
}

namespace {

bool has_ports(const fp_flow_tuple &t)
{
    return t.sport != 0 || t.dport != 0;
}

std::string endpoint_str(const fp_addr &addr, std::uint16_t port_be, bool ports)
{
    const IpAddr a = IpAddr::from_raw(addr);
    return ports ? a.with_port(std::to_string(ntohs(port_be))) : a.str();
}

bool is_icmp(const fp_flow_tuple &t)
{
    return t.proto == IPPROTO_ICMP || t.proto == IPPROTO_ICMPV6;
}

} // namespace

std::string trace_tuple_str(const fp_flow_tuple &t)
{
    if (t.l3 == 0)
        return "not IP";
    const bool ports = has_ports(t) && !is_icmp(t);
    std::string s = protocol_name(t.proto) + " " + endpoint_str(t.saddr, t.sport, ports) + " > " +
                    endpoint_str(t.daddr, t.dport, ports);
    if (is_icmp(t) && has_ports(t))
        s += " id " + std::to_string(ntohs(t.sport ? t.sport : t.dport));
    return s;
}

namespace {

nlohmann::json tuple_json(const fp_flow_tuple &t)
{
    if (t.l3 == 0)
        return nullptr;
    return {{"proto", protocol_name(t.proto)},
            {"src", IpAddr::from_raw(t.saddr).str()},
            {"sport", ntohs(t.sport)},
            {"dst", IpAddr::from_raw(t.daddr).str()},
            {"dport", ntohs(t.dport)}};
}

bool same_tuple(const fp_flow_tuple &a, const fp_flow_tuple &b)
{
    return std::memcmp(&a, &b, sizeof a) == 0;
}

std::string wall_time(std::uint64_t mono_ns, std::int64_t offset_ns)
{
    const std::int64_t ns = static_cast<std::int64_t>(mono_ns) + offset_ns;
    const std::time_t secs = static_cast<std::time_t>(ns / 1000000000);
    std::tm tm{};
    localtime_r(&secs, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%H:%M:%S", &tm);
    char frac[16];
    std::snprintf(frac, sizeof frac, ".%06lld", static_cast<long long>((ns % 1000000000) / 1000));
    return std::string(buf) + frac;
}

// The container an event is about: the sender's, else the receiver's.
std::string container_of(const fp_trace_event &e, const TraceNames &names)
{
    for (const fp_addr *a : {&e.before.saddr, &e.before.daddr, &e.after.daddr})
        if (std::string n = names.container(*a); !n.empty())
            return n;
    return "";
}

// Flows expired are found in the tables, not at a hook.
bool at_hook(const fp_trace_event &e)
{
    return e.kind != FP_TRACE_FLOW_EXPIRED;
}

} // namespace

std::span<const TraceKindInfo> all_trace_kinds()
{
    return kKinds;
}

std::string_view trace_kind_name(unsigned kind)
{
    for (const TraceKindInfo &k : kKinds)
        if (k.value == kind)
            return k.name;
    return "?";
}

TraceNames::TraceNames(std::map<IpAddr, std::string> containers) : containers_(std::move(containers)) {}

std::string TraceNames::device(std::uint32_t ifindex) const
{
    if (const auto it = devices_.find(ifindex); it != devices_.end())
        return it->second;
    char buf[IF_NAMESIZE] = {};
    const std::string name = if_indextoname(ifindex, buf) ? std::string(buf) : "if" + std::to_string(ifindex);
    devices_.emplace(ifindex, name);
    return name;
}

std::string TraceNames::container(const fp_addr &addr) const
{
    const auto it = containers_.find(IpAddr::from_raw(addr));
    return it == containers_.end() ? "" : it->second;
}

std::string trace_line(const fp_trace_event &e, const TraceNames &names, std::int64_t wall_offset_ns)
{
    std::string line = wall_time(e.time_ns, wall_offset_ns) + " " + std::string(trace_kind_name(e.kind));
    if (e.kind == FP_TRACE_DROP || e.kind == FP_TRACE_TO_STACK)
        line += " " + std::string(reason_name(e.reason));
    else if (e.kind == FP_TRACE_FORWARD)
        line += " " + std::string(trace_action_name(e));
    else if (is_flow(e.kind))
        line += " " + std::string(ct_kind_name(e.ct_kind));
    if (at_hook(e))
        line += " " + std::string(hook_name(e.hook)) + " " + names.device(e.ifindex);
    if (const std::string c = container_of(e, names); !c.empty())
        line += " (" + c + ")";
    line += " " + trace_tuple_str(e.before);
    if (e.after.l3 != 0 && !same_tuple(e.before, e.after))
        line += " => " + trace_tuple_str(e.after);
    if (e.mark != 0)
        line += " mark " + mark_hex(e.mark);
    return line;
}

nlohmann::json trace_json(const fp_trace_event &e, const TraceNames &names, std::int64_t wall_offset_ns)
{
    nlohmann::json j = {{"time", wall_time(e.time_ns, wall_offset_ns)},
                        {"time_ns", e.time_ns},
                        {"kind", trace_kind_name(e.kind)},
                        {"before", tuple_json(e.before)},
                        {"after", tuple_json(e.after)}};
    if (at_hook(e)) {
        j["hook"] = hook_name(e.hook);
        j["dev"] = names.device(e.ifindex);
        j["ifindex"] = e.ifindex;
    }
    if (e.kind == FP_TRACE_DROP || e.kind == FP_TRACE_TO_STACK)
        j["reason"] = reason_name(e.reason);
    if (!is_flow(e.kind)) {
        if (e.kind != FP_TRACE_POLICY_ALLOW) // a verdict on a flow, not what the hook returned
            j["action"] = trace_action_name(e);
        j["len"] = e.len;
        j["mark"] = e.mark;
    } else {
        j["flow"] = ct_kind_name(e.ct_kind);
    }
    if (const std::string c = container_of(e, names); !c.empty())
        j["container"] = c;
    return j;
}

std::int64_t wall_clock_offset_ns()
{
    timespec real{}, mono{};
    clock_gettime(CLOCK_REALTIME, &real);
    clock_gettime(CLOCK_MONOTONIC, &mono);
    return (static_cast<std::int64_t>(real.tv_sec) - mono.tv_sec) * 1000000000 + (real.tv_nsec - mono.tv_nsec);
}

} // namespace fp
