// masq add|del|list: which container subnets leave the host masqueraded.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <iostream>

#include "commands.hpp"
#include "joined.hpp"
#include "listing.hpp"
#include "masq_rules.hpp"

namespace fp {

namespace {

struct MasqArgs {
    std::string source;
    std::string out;
    std::vector<std::string> except;
};

MasqRule rule_of(const MasqArgs &a)
{
    MasqRule r{IpPrefix::parse(a.source), a.out, {}};
    for (const std::string &e : a.except)
        r.except.push_back(IpPrefix::parse(e));
    return r;
}

std::vector<std::string> prefixes(const std::vector<IpPrefix> &ps)
{
    std::vector<std::string> out;
    for (const IpPrefix &p : ps)
        out.push_back(p.str());
    return out;
}

} // namespace

void add_masq_command(CLI::App &app, CliContext &ctx)
{
    auto *masq = app.add_subcommand(
        "masq", "masquerade what containers of a subnet send out of the host (their flows leave with the host's "
                "address and a port of the masquerade range, `up --masq-ports`), in BPF, without iptables");
    masq->require_subcommand(1);

    auto a = std::make_shared<MasqArgs>();
    auto *add = masq->add_subcommand(
        "add", "e.g. `masq add 10.88.0.0/16 --out eth0`: flows from 10.88.0.0/16 out of eth0 are masqueraded. Only "
               "flows leaving by an attached uplink are (their replies must meet flatpath there); traffic to local "
               "endpoints, host addresses and any masqueraded subnet keeps its addresses");
    add->add_option("SUBNET", a->source, "the containers' source subnet (10.88.0.0/16, fd88::/64)")->required();
    add->add_option("--out", a->out, "only flows the host routes out of this interface (default: any attached uplink)");
    add->add_option("--except", a->except, "a destination prefix left alone (not masqueraded); repeatable");
    add->callback([&ctx, a] {
        const MasqRule r = rule_of(*a);
        const PinRoot root = ctx.pin_root();
        MapSet maps = ctx.open_maps(root);
        MasqRules(root, maps).add(r);
        std::cout << "masquerading " << r.describe() << "\n";
    });

    auto d = std::make_shared<std::string>();
    auto *del = masq->add_subcommand("del", "stop masquerading SUBNET and drop its masqueraded flows");
    del->add_option("SUBNET", *d, "as it was added")->required();
    del->callback([&ctx, d] {
        const IpPrefix source = IpPrefix::parse(*d);
        const PinRoot root = ctx.pin_root();
        MapSet maps = ctx.open_maps(root);
        const std::size_t purged = MasqRules(root, maps).remove(source);
        std::cout << "no longer masquerading " << source.str() << ", " << purged << " flow(s) dropped\n";
    });

    add_list_command<MasqRule>(
        *masq, ctx, "list masquerade rules",
        [](const PinRoot &root, MapSet &maps) { return MasqRules(root, maps).list(); },
        {{"SUBNET", "OUT", "EXCEPT"},
         [](const MasqRule &r) {
             return nlohmann::json{{"subnet", r.source.str()}, {"out", r.out}, {"except", prefixes(r.except)}};
         },
         [](const MasqRule &r) {
             const std::vector<std::string> e = prefixes(r.except);
             return std::vector<std::string>{r.source.str(), r.out.empty() ? "any uplink" : r.out,
                                             e.empty() ? std::string("-") : joined(e)};
         }});
}

} // namespace fp
