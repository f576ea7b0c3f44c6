// policy add|del|default|list: the host as each endpoint's firewall.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <netinet/in.h>

#include <iostream>
#include <map>

#include "commands.hpp"
#include "error.hpp"
#include "interfaces.hpp"
#include "listing.hpp"
#include "netdev.hpp"
#include "policy.hpp"
#include "programs.hpp"

namespace fp {

namespace {

struct RuleArgs {
    std::string endpoint;
    bool allow = false, deny = false, in = false, out = false, all = false;
    std::string cidr, proto, port;
};

fp_policy_dir dir_of(const RuleArgs &a)
{
    if (a.in && a.out)
        throw Error("give --in or --out, not both");
    return a.in ? FP_POLICY_IN : FP_POLICY_OUT;
}

PolicyRule rule_of(const RuleArgs &a)
{
    if (a.allow == a.deny)
        throw Error("give --allow or --deny");
    PolicyRule r;
    r.action = a.allow ? FP_POLICY_ALLOW : FP_POLICY_DENY;
    r.dir = dir_of(a);
    if (!a.cidr.empty())
        r.cidr = parse_policy_peer(a.cidr);
    if (!a.proto.empty())
        r.proto = parse_policy_protocol(a.proto);
    if (!a.port.empty()) {
        r.ports = parse_ports(a.port);
        if (a.proto.empty())
            r.proto = IPPROTO_TCP; // as the labels' port lists read "443" as TCP
    }
    r.validate();
    return r;
}

// ENDPOINT: one of its addresses, or its host-side device's name. Its device must be a
// registered endpoint's, with the datapath's policy programs attached (an endpoint attached
// before the datapath had them gets them now).
std::uint32_t endpoint_device(const std::string &text, const PinRoot &root, MapSet &maps)
{
    std::uint32_t ifindex = 0;
    if (const auto a = IpAddr::try_parse(text)) {
        const auto ep = maps.endpoints.lookup(endpoint_key(*a));
        if (!ep)
            throw Error(a->str() + " is no endpoint of this host (see: flatpath endpoint list)");
        ifindex = ep->ifindex;
    } else {
        ifindex = NetDev::by_name(text).ifindex;
    }
    const auto rec = maps.ifaces.lookup(iface_key(ifindex));
    if (!rec || rec->role != FP_ROLE_ENDPOINT)
        throw Error(text + " is no endpoint's device (see: flatpath endpoint list)");
    const auto dev = NetDev::by_index(ifindex);
    if (!dev)
        throw Error(text + ": its device is gone");
    ProgFd::open_pinned(root, egress_program(*dev)); // says so when the datapath predates policies
    if ((rec->attached & FP_ATTACHED_TC_INGRESS) && !(rec->attached & FP_ATTACHED_TC_EGRESS))
        Interfaces(root, maps).attach_endpoint(*dev);
    return ifindex;
}

void add_rule_options(CLI::App *cmd, RuleArgs &a)
{
    cmd->add_option("ENDPOINT", a.endpoint, "an endpoint's address or its host-side device")->required();
    cmd->add_flag("--allow", a.allow, "the rule lets matching flows start");
    cmd->add_flag("--deny", a.deny, "the rule drops matching flows (deny rules win over allow rules)");
    cmd->add_flag("--in", a.in, "about flows others start to the endpoint (--cidr is their source, --port its own)");
    cmd->add_flag("--out", a.out, "about flows the endpoint starts (--cidr and --port are their destination); the default");
    cmd->add_option("--cidr", a.cidr, "the other side: an address or prefix, IPv4 or IPv6 (default: any)");
    cmd->add_option("--proto", a.proto, "tcp, udp, icmp (ICMPv6 too) or any (default: any; tcp with --port)");
    cmd->add_option("--port", a.port, "N or N-M: the destination port (TCP, UDP)");
}

// A listing's row: an endpoint's default for one direction, or one of its rules.
struct PolicyRow {
    std::uint32_t ifindex = 0;
    std::string dev;
    std::vector<std::string> addrs;
    fp_policy_dir dir = FP_POLICY_OUT;
    fp_policy_action action = FP_POLICY_ALLOW;
    std::optional<PolicyRule> rule; // none: the direction's default
};

std::vector<PolicyRow> policy_rows(const PinRoot &root, MapSet &maps)
{
    std::map<std::uint32_t, std::vector<std::string>> addrs;
    for (const auto &[key, ep] : maps.endpoints.entries())
        addrs[ep.ifindex].push_back(IpAddr::from_raw(key.addr).str());
    std::vector<PolicyRow> rows;
    for (const auto &[ifindex, p] : Policies(root, maps).list()) {
        const auto dev = NetDev::by_index(ifindex);
        PolicyRow base{ifindex, dev ? dev->name : "", addrs[ifindex], FP_POLICY_IN, FP_POLICY_ALLOW, std::nullopt};
        for (fp_policy_dir d : {FP_POLICY_IN, FP_POLICY_OUT}) {
            PolicyRow def = base;
            def.dir = d;
            def.action = p.defaults[d];
            rows.push_back(def);
            for (const PolicyRule &r : p.rules) {
                if (r.dir != d)
                    continue;
                PolicyRow row = base;
                row.dir = d;
                row.action = r.action;
                row.rule = r;
                rows.push_back(row);
            }
        }
    }
    return rows;
}

std::string joined(const std::vector<std::string> &v)
{
    std::string s;
    for (const auto &x : v)
        s += (s.empty() ? "" : ",") + x;
    return s;
}

} // namespace

void add_policy_command(CLI::App &app, CliContext &ctx)
{
    auto *policy = app.add_subcommand(
        "policy", "per-endpoint firewall: which flows an endpoint may start and accept (stateful: replies pass)");
    policy->require_subcommand(1);

    auto a = std::make_shared<RuleArgs>();
    auto *add = policy->add_subcommand(
        "add", "add a rule, e.g. `policy add 10.90.0.2 --allow --out --cidr 10.0.0.0/8 --port 443` (with `policy "
               "default 10.90.0.2 deny --out`: it may only start HTTPS flows into 10/8)");
    add_rule_options(add, *a);
    add->callback([&ctx, a] {
        const PolicyRule r = rule_of(*a);
        const PinRoot root = ctx.pin_root();
        MapSet maps = ctx.open_maps(root);
        Policies(root, maps).add_rule(endpoint_device(a->endpoint, root, maps), r);
        std::cout << "policy rule added to " << a->endpoint << ": " << r.describe() << "\n";
    });

    auto d = std::make_shared<RuleArgs>();
    auto *del = policy->add_subcommand("del", "remove a rule (given as it was added), or the whole policy (--all)");
    add_rule_options(del, *d);
    del->add_flag("--all", d->all, "remove the endpoint's policy: its traffic is no longer checked");
    del->callback([&ctx, d] {
        const PinRoot root = ctx.pin_root();
        MapSet maps = ctx.open_maps(root);
        const std::uint32_t ifindex = endpoint_device(d->endpoint, root, maps);
        if (d->all) {
            if (d->allow || d->deny || !d->cidr.empty() || !d->proto.empty() || !d->port.empty())
                throw Error("--all removes the whole policy: give no rule with it");
            if (!Policies(root, maps).clear(ifindex))
                throw Error(d->endpoint + " has no policy");
            std::cout << "policy of " << d->endpoint << " removed\n";
            return;
        }
        const PolicyRule r = rule_of(*d);
        Policies(root, maps).remove_rule(ifindex, r);
        std::cout << "policy rule removed from " << d->endpoint << ": " << r.describe() << "\n";
    });

    auto def = std::make_shared<RuleArgs>();
    auto action = std::make_shared<std::string>();
    auto *dflt = policy->add_subcommand(
        "default", "what the endpoint's flows that no rule matches get: allow (the default) or deny");
    dflt->add_option("ENDPOINT", def->endpoint, "an endpoint's address or its host-side device")->required();
    dflt->add_option("ACTION", *action, "allow or deny")->required();
    dflt->add_flag("--in", def->in, "for flows others start to it");
    dflt->add_flag("--out", def->out, "for flows it starts; the default");
    dflt->callback([&ctx, def, action] {
        const fp_policy_action act = parse_policy_action(*action);
        const fp_policy_dir dir = dir_of(*def);
        const PinRoot root = ctx.pin_root();
        MapSet maps = ctx.open_maps(root);
        Policies(root, maps).set_default(endpoint_device(def->endpoint, root, maps), dir, act);
        std::cout << "policy of " << def->endpoint << ": " << policy_dir_name(dir) << " default "
                  << policy_action_name(act) << "\n";
    });

    add_list_command<PolicyRow>(
        *policy, ctx, "list every endpoint's policy: each direction's default, then its rules", policy_rows,
        {{"DEVICE", "ADDRESSES", "DIR", "ACTION", "PROTO", "PEER", "PORTS"},
         [](const PolicyRow &r) {
             nlohmann::json j{{"device", r.dev},
                              {"ifindex", r.ifindex},
                              {"addresses", r.addrs},
                              {"direction", policy_dir_name(r.dir)},
                              {"action", policy_action_name(r.action)},
                              {"default", !r.rule}};
             if (r.rule) {
                 j["proto"] = policy_protocol_name(r.rule->proto);
                 j["peer"] = r.rule->cidr ? r.rule->cidr->str() : "any";
                 j["ports"] = r.rule->ports ? r.rule->ports->str() : "any";
             }
             return j;
         },
         [](const PolicyRow &r) {
             if (!r.rule)
                 return std::vector<std::string>{r.dev, joined(r.addrs), policy_dir_name(r.dir),
                                                 policy_action_name(r.action), "-", "(default)", "-"};
             return std::vector<std::string>{r.dev,
                                             joined(r.addrs),
                                             policy_dir_name(r.dir),
                                             policy_action_name(r.action),
                                             policy_protocol_name(r.rule->proto),
                                             r.rule->cidr ? r.rule->cidr->str() : "any",
                                             r.rule->ports ? r.rule->ports->str() : "any"};
         }});
}

} // namespace fp
