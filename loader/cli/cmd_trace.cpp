// trace: what the datapath does with packets and flows, as it happens.
#include <CLI/CLI.hpp>

#include <optional>
#include <chrono>
#include <iostream>

#include "commands.hpp"
#include "containers.hpp"
#include "counters.hpp"
#include "error.hpp"
#include "netdev.hpp"
#include "port_spec.hpp"
#include "stop_signals.hpp"
#include "trace_event.hpp"
#include "trace_session.hpp"

namespace fp {

namespace {

struct TraceOptions {
    std::string endpoint, ip, proto, reason;
    RecordDirs dirs; // container names, as ps finds them
    std::uint16_t port = 0;
    bool drops = false, flows = false, policy = false, verbose = false, json = false;
    std::uint64_t count = 0;
    double timeout_s = 0;
};

constexpr std::uint32_t bit(unsigned kind)
{
    return 1u << kind;
}

constexpr std::uint32_t kFlowKinds = bit(FP_TRACE_FLOW_NEW) | bit(FP_TRACE_FLOW_CLOSED) | bit(FP_TRACE_FLOW_EXPIRED);

unsigned reason_by_name(const std::string &name)
{
    for (const ReasonInfo &r : all_reasons())
        if (r.name == name)
            return r.value;
    std::string names;
    for (const ReasonInfo &r : all_reasons())
        names += (names.empty() ? "" : ", ") + std::string(r.name);
    throw Error("--reason: unknown reason '" + name + "' (one of: " + names + ")");
}

std::uint8_t trace_protocol(const std::string &text)
{
    if (text == "icmp")
        return 1;
    if (text == "icmpv6")
        return 58;
    try {
        return parse_protocol(text);
    } catch (const Error &) {
        throw Error("--proto: unknown protocol '" + text + "' (tcp, udp, icmp or icmpv6)");
    }
}

// --endpoint: an address registered as an endpoint, or a device's name.
void narrow_to_endpoint(const std::string &text, MapSet &maps, TraceFilter &f)
{
    const std::optional<IpAddr> a = IpAddr::try_parse(text);
    if (!a) {
        f.ifindex = NetDev::by_name(text).ifindex;
        return;
    }
    if (!maps.endpoints.lookup(endpoint_key(*a)))
        throw Error("--endpoint: " + a->str() + " is no endpoint of this host (see: flatpath endpoint list)");
    if (f.addr && *f.addr != *a)
        throw Error("--endpoint " + a->str() + " and --ip " + f.addr->str() + ": give one address");
    f.addr = a;
}

TraceFilter filter_of(const TraceOptions &o, MapSet &maps)
{
    TraceFilter f;
    if (o.drops)
        f.kinds |= bit(FP_TRACE_DROP);
    if (o.flows)
        f.kinds |= kFlowKinds;
    if (o.policy) {
        f.kinds |= bit(FP_TRACE_POLICY_ALLOW);
        if (!o.drops && !o.verbose) { // of the drops, the policy's
            f.kinds |= bit(FP_TRACE_DROP);
            f.reason = FP_DROP_POLICY;
        }
    }
    if (!o.drops && !o.flows && !o.policy)
        f.kinds = bit(FP_TRACE_DROP) | kFlowKinds | bit(FP_TRACE_POLICY_ALLOW);
    if (o.verbose)
        f.kinds |= bit(FP_TRACE_DROP) | bit(FP_TRACE_TO_STACK) | bit(FP_TRACE_FORWARD) | kFlowKinds |
                   bit(FP_TRACE_POLICY_ALLOW);
    if (!o.reason.empty()) {
        const unsigned r = reason_by_name(o.reason);
        f.reason = static_cast<std::uint8_t>(r);
        f.kinds = bit(reason_is_drop(r) ? FP_TRACE_DROP : FP_TRACE_TO_STACK);
    }
    if (!o.ip.empty())
        f.addr = IpAddr::parse(o.ip);
    if (!o.endpoint.empty())
        narrow_to_endpoint(o.endpoint, maps, f);
    f.port = o.port;
    if (!o.proto.empty())
        f.proto = trace_protocol(o.proto);
    return f;
}

void run_trace(CliContext &ctx, const TraceOptions &o)
{
    const PinRoot root = ctx.pin_root();
    MapSet maps = ctx.open_maps(root);
    const TraceFilter filter = filter_of(o, maps);
    stop_on_signals();
    TraceSession session(maps, trace_ring(root), filter);
    // Containers by address, as ps knows them, read again now and then: a container started
    // during the trace gets its name too.
    const auto known = [&] {
        return TraceNames(names_by_address(known_containers(o.dirs)));
    };
    TraceNames names = known();
    auto names_read = std::chrono::steady_clock::now();
    const std::int64_t wall = wall_clock_offset_ns();
    // On stderr, so that --json's output stays one object per line; scripts wait for it.
    std::cerr << "tracing (Ctrl-C to stop)" << std::endl;

    std::uint64_t seen = 0;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(o.timeout_s);
    const auto on_event = [&](const fp_trace_event &e) {
        if (o.json)
            std::cout << trace_json(e, names, wall).dump() << "\n";
        else
            std::cout << trace_line(e, names, wall) << "\n";
        return o.count == 0 || ++seen < o.count;
    };
    while (!stop_requested()) {
        const auto now = std::chrono::steady_clock::now();
        if (o.timeout_s > 0 && now >= deadline)
            break;
        if (now - names_read > std::chrono::seconds(2)) {
            names = known();
            names_read = now;
        }
        if (!session.poll(std::chrono::milliseconds(200), on_event))
            break;
        std::cout.flush();
    }
    std::cout.flush();
    if (const std::uint64_t lost = session.lost(); lost != 0)
        std::cerr << "flatpath trace: " << lost << " event(s) lost: the ring was full (narrow the trace with filters)\n";
}

} // namespace

void add_trace_command(CLI::App &app, CliContext &ctx)
{
    auto o = std::make_shared<TraceOptions>();
    std::string kinds;
    for (const TraceKindInfo &k : all_trace_kinds())
        kinds += "\n  " + std::string(k.name) + ": " + std::string(k.meaning);
    auto *trace = app.add_subcommand(
        "trace", "show what the datapath does, as it happens: dropped packets with their reason and translated flows "
                 "(created, closed, expired) by default; every forwarding decision with -v. One line per event "
                 "(time, kind, reason or action, hook, device, protocol, source > destination before and, "
                 "when rewritten, after translation) or --json. Events are only emitted while a trace runs, "
                 "and the filters are applied in the kernel. Kinds:" + kinds);
    trace->add_option("--endpoint", o->endpoint,
                      "only traffic of this endpoint: its address, or its device (packets on it, or from or to an "
                      "address registered on it)");
    trace->add_option("--ip", o->ip, "only packets and flows with this source or destination, before or after translation");
    trace->add_option("--port", o->port, "only this source or destination port (ICMP: an echo's identifier)")
        ->check(CLI::Range(1, 65535));
    trace->add_option("--proto", o->proto, "only this protocol: tcp, udp, icmp or icmpv6");
    trace->add_option("--reason", o->reason,
                      "only packets dropped or handed to the stack for this reason (names: flatpath stats, README)");
    trace->add_flag("--drops", o->drops, "dropped packets (with --flows: both)");
    trace->add_flag("--flows", o->flows, "translated flows created, closed and expired (with --drops: both)");
    trace->add_flag("--policy", o->policy,
                    "policy verdicts: new flows a policy allowed, and packets it dropped (drop_policy)");
    trace->add_flag("-v,--verbose", o->verbose,
                    "every decision too: packets forwarded or translated, and those handed to the host stack");
    trace->add_flag("--json", o->json, "one JSON object per line");
    trace->add_option("--count", o->count, "stop after this many events")->check(CLI::PositiveNumber);
    o->dirs.add_options(*trace, "the records that name its containers are",
                        "the attachment records that name containers are");
    trace->add_option("--timeout", o->timeout_s, "stop after this many seconds")->check(CLI::PositiveNumber);
    trace->callback([&ctx, o] { run_trace(ctx, *o); });
}

} // namespace fp
