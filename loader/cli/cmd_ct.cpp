// ct list|flush|gc: the conntrack table of translated flows.
#include <CLI/CLI.hpp>
#include <arpa/inet.h>
#include <nlohmann/json.hpp>

#include <iostream>

#include "commands.hpp"
#include "conntrack.hpp"
#include "datapath_lock.hpp"
#include "listing.hpp"
#include "port_spec.hpp"

namespace fp {

namespace {

std::string flow_state(const Flow &f, std::uint64_t now)
{
    const std::uint64_t until = std::max(f.orig.expires_ns, f.reply ? f.reply->expires_ns : 0);
    const std::uint8_t flags = f.orig.flags | (f.reply ? f.reply->flags : 0);
    // Only an assured flow is "established" (TCP) or a "stream" (UDP): the others are
    // still opening, and a flood of new flows may evict them.
    std::string s = (flags & FP_CT_RST)                            ? "reset"
                    : (flags & (FP_CT_FIN_ORIG | FP_CT_FIN_REPLY)) ? "closing"
                    : f.assured                                    ? (f.key.proto == 6 ? "established" : "stream")
                    : (flags & FP_CT_SEEN_REPLY)                   ? "replied"
                                                                   : "unreplied";
    return until <= now ? s + " (expired)" : s;
}

std::string addr_port(const fp_addr &a, __be16 port)
{
    return IpAddr::from_raw(a).with_port(std::to_string(ntohs(port)));
}

// A flow as listed: both directions' counters summed, its state and time left at `now`.
struct FlowRow {
    Flow flow;
    std::string state;
    long expires_in_s;
    std::uint64_t packets, bytes;

    static FlowRow of(const Flow &f, std::uint64_t now)
    {
        const std::uint64_t until = std::max(f.orig.expires_ns, f.reply ? f.reply->expires_ns : 0);
        return {f, flow_state(f, now), until > now ? static_cast<long>((until - now) / 1000000000ULL) : 0,
                f.orig.packets + (f.reply ? f.reply->packets : 0), f.orig.bytes + (f.reply ? f.reply->bytes : 0)};
    }
};

} // namespace

void add_ct_command(CLI::App &app, CliContext &ctx)
{
    auto *ct = app.add_subcommand("ct", "the conntrack table of translated flows");
    ct->require_subcommand(1);
    add_list_command<FlowRow>(
        *ct, ctx,
        "list translated flows (published ports: dnat, or dnat-remote when the backend is on another host; "
        "containers' flows out of the host: masq), in their original "
        "direction, with state: established or stream once assured, unreplied or replied before",
        [](const PinRoot &, MapSet &maps) {
            const std::uint64_t now = monotonic_ns();
            std::vector<FlowRow> rows;
            for (const Flow &f : Conntrack(maps).flows())
                if (!(f.orig.flags & FP_CT_DIRECT)) // a marker for untranslated traffic, no flow
                    rows.push_back(FlowRow::of(f, now));
            return rows;
        },
        {{"KIND", "PROTO", "CLIENT", "TO", "TRANSLATED", "STATE", "EXPIRES IN", "PACKETS", "BYTES"},
         [](const FlowRow &r) {
             const bool masq = r.flow.orig.kind == FP_CT_KIND_MASQ;
             nlohmann::json j{{"kind", ct_kind_name(r.flow.orig.kind)},
                              {"proto", protocol_name(r.flow.key.proto)},
                              {"client", addr_port(r.flow.key.saddr, r.flow.key.sport)},
                              {"assured", r.flow.assured},
                              {"state", r.state},
                              {"expires_in_s", r.expires_in_s},
                              {"packets", r.packets},
                              {"bytes", r.bytes}};
             if (masq) {
                 j["destination"] = addr_port(r.flow.key.daddr, r.flow.key.dport);
                 j["masqueraded_as"] = addr_port(r.flow.orig.saddr, r.flow.orig.sport);
             } else {
                 j["published"] = addr_port(r.flow.key.daddr, r.flow.key.dport);
                 j["backend"] = addr_port(r.flow.orig.daddr, r.flow.orig.dport);
                 j["source_rewritten"] = (r.flow.orig.flags & FP_CT_SNAT) != 0;
                 if (r.flow.orig.kind == FP_CT_KIND_DNAT_REMOTE)
                     j["source_as"] = addr_port(r.flow.orig.saddr, r.flow.orig.sport);
             }
             return j;
         },
         [](const FlowRow &r) {
             const bool masq = r.flow.orig.kind == FP_CT_KIND_MASQ;
             return std::vector<std::string>{std::string(ct_kind_name(r.flow.orig.kind)),
                                             protocol_name(r.flow.key.proto),
                                             addr_port(r.flow.key.saddr, r.flow.key.sport),
                                             addr_port(r.flow.key.daddr, r.flow.key.dport),
                                             masq ? "from " + addr_port(r.flow.orig.saddr, r.flow.orig.sport)
                                                  : "to " + addr_port(r.flow.orig.daddr, r.flow.orig.dport),
                                             r.state,
                                             std::to_string(r.expires_in_s) + "s",
                                             std::to_string(r.packets),
                                             std::to_string(r.bytes)};
         }});
    auto *flush = ct->add_subcommand("flush", "drop every tracked flow (their next packets start new flows)");
    flush->callback([&ctx] {
        const PinRoot root = ctx.pin_root();
        MapSet maps = ctx.open_maps(root);
        DatapathLock lock(root);
        std::cout << "removed " << Conntrack(maps).flush() << " conntrack entries\n";
    });
    auto *gc = ct->add_subcommand("gc", "remove flows whose timeouts have passed (the daemon does this periodically)");
    gc->callback([&ctx] {
        const PinRoot root = ctx.pin_root();
        MapSet maps = ctx.open_maps(root);
        DatapathLock lock(root);
        std::cout << "removed " << Conntrack(maps).collect_expired(monotonic_ns()) << " expired conntrack entries\n";
    });
}

} // namespace fp
