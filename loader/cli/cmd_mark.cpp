// mark add|del|list.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <iostream>

#include "commands.hpp"
#include "mark_rules.hpp"
#include "listing.hpp"

namespace fp {

namespace {

struct MarkArgs {
    std::string proto;
    std::string port;
    std::string mark;
    std::string ip;
    bool to = false;
};

MarkRule rule_of(const MarkArgs &a, bool with_mark)
{
    MarkRule r;
    r.proto = parse_protocol(a.proto);
    const PortRange p = parse_ports(a.port);
    if (!p.single())
        throw Error("mark rules take one port, not the range " + p.str());
    r.port = p.first;
    r.addr = a.ip.empty() ? IpAddr::parse("::") : IpAddr::parse(a.ip);
    r.match = a.to ? FP_MARK_DESTINATION : FP_MARK_SOURCE;
    if (with_mark)
        r.mark = parse_mark(a.mark);
    return r;
}

void add_match_options(CLI::App *cmd, MarkArgs &a)
{
    cmd->add_option("PROTO", a.proto, "tcp or udp")->required();
    cmd->add_option("PORT", a.port, "the container's source port (a published port's container side)")->required();
    cmd->add_option("--ip", a.ip, "only packets from this endpoint address (default: from any endpoint)");
    cmd->add_flag("--to", a.to, "match packets *to* --ip and PORT instead of from them");
}

} // namespace

void add_mark_command(CLI::App &app, CliContext &ctx)
{
    auto *mark = app.add_subcommand(
        "mark", "set skb->mark on what containers send from (or to) a port, for `ip rule fwmark` routing");
    mark->require_subcommand(1);

    auto a = std::make_shared<MarkArgs>();
    auto *add = mark->add_subcommand("add", "e.g. `mark add tcp 80 0x2/0xff --ip 10.88.0.5`: replies from that "
                                            "container's port 80 get mark 2 in the low byte");
    add_match_options(add, *a);
    add->add_option("MARK", a->mark, "VALUE or VALUE/MASK (decimal or 0x hex); bits outside MASK are kept")
        ->required();
    add->callback([&ctx, a] {
        const MarkRule r = rule_of(*a, true);
        const PinRoot root = ctx.pin_root();
        MapSet maps = ctx.open_maps(root);
        MarkRules(root, maps).add(r);
        std::cout << "mark rule added: " << r.describe() << "\n";
    });

    auto d = std::make_shared<MarkArgs>();
    auto *del = mark->add_subcommand("del", "remove the mark rule matching these packets");
    add_match_options(del, *d);
    del->callback([&ctx, d] {
        const MarkRule r = rule_of(*d, false);
        const PinRoot root = ctx.pin_root();
        MapSet maps = ctx.open_maps(root);
        MarkRules(root, maps).remove(r);
        std::cout << "mark rule removed: " << r.matched() << "\n";
    });

    add_list_command<MarkRule>(
        *mark, ctx, "list mark rules", [](const PinRoot &root, MapSet &maps) { return MarkRules(root, maps).list(); },
        {{"MATCH", "PROTO", "ADDRESS", "PORT", "MARK"},
         [](const MarkRule &r) {
             return nlohmann::json{{"match", r.match == FP_MARK_SOURCE ? "source" : "destination"},
                                   {"proto", protocol_name(r.proto)},
                                   {"address", r.any_addr() ? "any" : r.addr.str()},
                                   {"port", r.port},
                                   {"value", r.mark.value},
                                   {"mask", r.mark.mask}};
         },
         [](const MarkRule &r) {
             return std::vector<std::string>{r.match == FP_MARK_SOURCE ? "from" : "to", protocol_name(r.proto),
                                             r.any_addr() ? "any" : r.addr.str(), std::to_string(r.port),
                                             mark_hex(r.mark.value) + "/" + mark_hex(r.mark.mask)};
         }});
}

} // namespace fp
