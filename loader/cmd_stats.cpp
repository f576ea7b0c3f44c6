// stats: what the fast path carried, and why packets left it.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <iostream>
#include <map>

#include "cli_context.hpp"
#include "counters.hpp"
#include "endpoints.hpp"
#include "table.hpp"

namespace fp {

namespace {

nlohmann::json stats_json(MapSet &maps, const PinRoot &root)
{
    nlohmann::json j;
    // Counters are per device (slot); group the device's addresses under it.
    std::map<std::uint32_t, nlohmann::json> by_slot;
    for (const EndpointRow &r : Endpoints(root, maps).list()) {
        auto &e = by_slot[r.slot];
        if (e.is_null())
            e = {{"dev", r.dev},
                 {"addresses", nlohmann::json::array()},
                 {"to_packets", r.counters.to_packets},
                 {"to_bytes", r.counters.to_bytes},
                 {"from_packets", r.counters.from_packets},
                 {"from_bytes", r.counters.from_bytes}};
        e["addresses"].push_back(r.addr.str());
    }
    j["endpoints"] = nlohmann::json::array();
    for (auto &[slot, e] : by_slot)
        j["endpoints"].push_back(e);
    j["reasons"] = nlohmann::json::array();
    for (unsigned hook = 0; hook < FP_HOOK_MAX; ++hook) {
        for (unsigned reason = 1; reason < FP_REASON_MAX; ++reason) {
            if (reason_name(reason).empty())
                continue;
            const fp_reason_stats s = sum_per_cpu(maps.reasons.per_cpu(reason_index(hook, reason)));
            if (s.packets == 0)
                continue;
            j["reasons"].push_back({{"hook", hook_name(hook)},
                                    {"reason", reason_name(reason)},
                                    {"drop", reason_is_drop(reason)},
                                    {"packets", s.packets},
                                    {"bytes", s.bytes}});
        }
    }
    return j;
}

} // namespace

void add_stats_command(CLI::App &app, CliContext &ctx)
{
    auto json = std::make_shared<bool>(false);
    auto *stats = app.add_subcommand(
        "stats", "per-endpoint packets and bytes carried by the fast path (to: delivered to the endpoint by "
                 "flatpath; from: sent by it), and per hook why packets went to the kernel stack or were dropped");
    stats->add_flag("--json", *json, "print JSON");
    stats->callback([&ctx, json] {
        const PinRoot root = ctx.pin_root();
        MapSet maps = ctx.open_maps(root);
        const nlohmann::json j = stats_json(maps, root);
        if (*json) {
            std::cout << j.dump(2) << "\n";
            return;
        }
        Table eps({"DEV", "ADDRESSES", "TO PKTS", "TO BYTES", "FROM PKTS", "FROM BYTES"});
        for (const auto &e : j["endpoints"]) {
            std::string addrs;
            for (const auto &a : e["addresses"])
                addrs += (addrs.empty() ? "" : ",") + a.get<std::string>();
            eps.add({e["dev"].get<std::string>(), addrs, std::to_string(e["to_packets"].get<std::uint64_t>()),
                     std::to_string(e["to_bytes"].get<std::uint64_t>()),
                     std::to_string(e["from_packets"].get<std::uint64_t>()),
                     std::to_string(e["from_bytes"].get<std::uint64_t>())});
        }
        eps.print(std::cout);
        std::cout << "\n";
        Table reasons({"HOOK", "REASON", "PACKETS", "BYTES"});
        for (const auto &r : j["reasons"])
            reasons.add({r["hook"].get<std::string>(), r["reason"].get<std::string>(),
                         std::to_string(r["packets"].get<std::uint64_t>()),
                         std::to_string(r["bytes"].get<std::uint64_t>())});
        reasons.print(std::cout);
    });
}

} // namespace fp
