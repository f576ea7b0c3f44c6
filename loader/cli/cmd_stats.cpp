// stats: what the fast path carried, and why packets left it.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <iostream>

#include "commands.hpp"
#include "counters.hpp"
#include "stats.hpp"
#include "table.hpp"

namespace fp {

namespace {

nlohmann::json stats_json(MapSet &maps, const PinRoot &root)
{
    nlohmann::json j;
    j["endpoints"] = nlohmann::json::array();
    for (const DeviceStats &d : device_stats(root, maps))
        j["endpoints"].push_back({{"dev", d.dev},
                                  {"addresses", d.addresses},
                                  {"to_packets", d.counters.to_packets},
                                  {"to_bytes", d.counters.to_bytes},
                                  {"from_packets", d.counters.from_packets},
                                  {"from_bytes", d.counters.from_bytes}});
    j["reasons"] = nlohmann::json::array();
    for (const ReasonStats &r : reason_stats(maps)) {
        if (r.counts.packets == 0)
            continue;
        j["reasons"].push_back({{"hook", hook_name(r.hook)},
                                {"reason", reason_name(r.reason)},
                                {"drop", reason_is_drop(r.reason)},
                                {"packets", r.counts.packets},
                                {"bytes", r.counts.bytes}});
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
