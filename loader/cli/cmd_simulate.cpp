// simulate: what the datapath would do with a packet, without sending one.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <iostream>

#include "commands.hpp"
#include "port_spec.hpp"
#include "simulate.hpp"
#include "trace_event.hpp"

namespace fp {

namespace {

struct SimulateOptions {
    std::string from, packet;
    bool reply = false, json = false;
};

nlohmann::json result_json(const SimResult &r)
{
    nlohmann::json steps = nlohmann::json::array();
    for (const SimStep &s : r.steps)
        steps.push_back({{"program", s.program}, {"action", s.action}, {"reason", s.reason}});
    return {{"packet", r.packet.str()},
            {"device", r.device},
            {"steps", steps},
            {"verdict", r.steps.back().action},
            {"reason", r.steps.back().reason},
            {"leaves_as", r.after.l3 ? trace_tuple_str(r.after) : ""},
            {"src_mac", r.src_mac},
            {"dst_mac", r.dst_mac},
            {"ttl", r.ttl},
            {"mark", r.mark},
            {"goes_to", r.goes_to},
            {"decided_by", r.decided_by},
            {"flows_made", r.flows}};
}

void print_result(const SimResult &r)
{
    std::cout << "packet:     " << r.packet.str() << ", arriving on " << r.device << "\n";
    for (const SimStep &s : r.steps)
        std::cout << "program:    " << s.program << ": " << s.action << (s.reason.empty() ? "" : " (" + s.reason + ")")
                  << "\n";
    if (r.after.l3)
        std::cout << "leaves as:  " << trace_tuple_str(r.after) << "\n";
    if (!r.src_mac.empty())
        std::cout << "            " << r.src_mac << " > " << r.dst_mac << ", TTL " << r.ttl << "\n";
    if (r.mark)
        std::cout << "            mark " << mark_hex(r.mark) << "\n";
    std::cout << "goes to:    " << r.goes_to << "\n";
    for (const std::string &f : r.flows)
        std::cout << "flow:       would be made, " << f << "\n";
    std::cout << "decided by:" << (r.decided_by.empty() ? " no table entry" : "") << "\n";
    for (const std::string &d : r.decided_by)
        std::cout << "  " << d << "\n";
}

} // namespace

void add_simulate_command(CLI::App &app, CliContext &ctx)
{
    auto o = std::make_shared<SimulateOptions>();
    auto *sim = app.add_subcommand(
        "simulate", "what the datapath would do with a packet, without sending one: the packet is built from its "
                    "description and run through the production program of the device it arrives on (XDP, then tc "
                    "when XDP passes it on), against a copy of the live tables (nothing live changes), and the "
                    "verdict, the reason, the packet as it would leave (addresses, ports, MACs, TTL, mark), where it "
                    "would go and the table entries that decided it are printed");
    sim->add_option("--from", o->from,
                    "where the packet arrives: an endpoint's address or host device (what a container sends), or "
                    "uplink:IF (what the LAN sends)")
        ->required();
    sim->add_option("packet", o->packet,
                    "'PROTO SRC > DST [flags F] [id N]': tcp or udp with ports ('tcp 192.0.2.7:40000 > "
                    "10.90.0.1:8080 flags S', IPv6 as [fd00::1]:80), icmp or icmpv6 an echo request ('icmp 10.0.0.1 > "
                    "10.0.0.2 id 7'); TCP flags as letters: S, A, F, R, P, U (default S)")
        ->required();
    sim->add_flag("--reply", o->reply,
                  "the packet names a translated flow's original direction (flatpath ct list); run that flow's reply, "
                  "as its other side sends it, arriving at --from");
    sim->add_flag("--json", o->json, "print JSON");
    sim->callback([&ctx, o] {
        const PinRoot root = ctx.pin_root();
        MapSet live = ctx.open_maps(root);
        const SimResult r = simulate(root, live, SimSource{o->from}, parse_sim_packet(o->packet), o->reply);
        if (o->json)
            std::cout << result_json(r).dump(2) << "\n";
        else
            print_result(r);
    });
}

} // namespace fp
