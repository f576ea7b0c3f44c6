// network create|rm|ls: flatpath-cni networks in Podman's CNI configuration directory.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <iostream>

#include "commands.hpp"
#include "error.hpp"
#include "flatpath_abi.h"
#include "joined.hpp"
#include "listing.hpp"
#include "networks.hpp"

namespace fp {

namespace {

std::vector<std::string> subnet_texts(const cni::NetworkFile &n)
{
    std::vector<std::string> out;
    for (const cni::Subnet &s : n.subnets)
        out.push_back(s.str());
    return out;
}

} // namespace

void add_network_command(CLI::App &app, CliContext &ctx)
{
    auto *net = app.add_subcommand("network", "make and remove flatpath-cni networks for Podman (conflists in its CNI "
                                              "configuration directory), refusing subnets something else uses");
    net->require_subcommand(1);
    auto dir = std::make_shared<std::string>("/etc/cni/net.d");
    net->add_option("--config-dir", *dir, "Podman's CNI configuration directory (network_config_dir)")
        ->capture_default_str();

    auto spec = std::make_shared<cni::NetworkSpec>();
    auto subnets = std::make_shared<std::vector<std::string>>();
    auto mode = std::make_shared<std::string>("routed");
    auto lan = std::make_shared<std::vector<std::string>>();
    auto *create = net->add_subcommand(
        "create", "write NAME.conflist: Podman then knows the network by NAME (podman run --network NAME)");
    create->add_option("NAME", spec->name, "the network's name")->required();
    create->add_option("--subnet", *subnets,
                       "its IPv4 and/or IPv6 subnet (one of each at most); default: the first /24 of 10.90.0.0/16 "
                       "(and with --ipv6 the first /64 of fd90::/48) that no other network, host route or host "
                       "address uses");
    create->add_option("--mode", *mode,
                       "routed: no bridge, a route per container; bridge: the containers' veths on a Linux bridge "
                       "of the network's own")
        ->check(CLI::IsMember({"routed", "bridge"}))
        ->capture_default_str();
    create->add_option("--uplink", spec->uplinks,
                       "a host interface the plugin attaches the datapath to: published ports are reached through "
                       "it, masqueraded flows leave by it and their replies come back there; repeatable; default: "
                       "the interfaces of the host's default routes");
    create->add_flag("--no-masq", [spec](std::int64_t) { spec->ip_masq = false; },
                     "do not masquerade the containers' flows out of the host (\"ipMasq\": false): the network "
                     "beyond must route the subnet back to this host");
    create->add_flag("--ipv6", spec->ipv6, "give the network an IPv6 subnet too");
    create->add_option("--lan-subnet", *lan,
                       "UPLINK:FIRST-LAST: containers take addresses FIRST-LAST of the LAN UPLINK is on, and the host "
                       "answers ARP/NDP for them there, so the LAN reaches them by address with no route and no NAT; "
                       "one IPv4 and one IPv6 range at most, instead of --subnet");
    create->add_option("--state-dir", spec->state_dir,
                       "where the plugin keeps the network's address leases (default: /var/lib/flatpath); a pin "
                       "root other than the default (--pin-root, $FLATPATH_PIN_ROOT) is written into the network too");
    create->callback([&ctx, dir, spec, subnets, mode, lan] {
        // The plugin reads no environment: a pin root other than the default goes in the file.
        const std::string pins = ctx.pin_root().path();
        spec->pin_root = pins == FP_PIN_ROOT_DEFAULT ? "" : pins;
        for (const std::string &s : *subnets)
            spec->subnets.push_back(cni::Subnet::parse(s));
        spec->bridge_mode = *mode == "bridge";
        for (const std::string &l : *lan) {
            const auto [uplink, range] = cni::parse_lan_range(l);
            if (!spec->lan_uplink.empty() && spec->lan_uplink != uplink)
                throw Error("--lan-subnet: one LAN uplink per network (" + spec->lan_uplink + " and " + uplink + ")");
            spec->lan_uplink = uplink;
            spec->lan_ranges.push_back(range);
        }
        if (!lan->empty() && (!subnets->empty() || spec->bridge_mode || spec->ipv6))
            throw Error("--lan-subnet gives the network its addresses in routed mode: not with --subnet, --ipv6 or --mode bridge");
        if (spec->uplinks.empty())
            spec->uplinks = cni::default_route_interfaces();
        if (!spec->lan_uplink.empty() &&
            std::find(spec->uplinks.begin(), spec->uplinks.end(), spec->lan_uplink) == spec->uplinks.end())
            spec->uplinks.push_back(spec->lan_uplink);
        const std::string path = cni::create_network(*dir, *spec, cni::host_address_users());
        std::cout << "network " << spec->name << " created: " << path << "\n";
    });

    auto rm_name = std::make_shared<std::string>();
    auto *rm = net->add_subcommand("rm", "remove a flatpath network's conflist (refused while it has containers)");
    rm->add_option("NAME", *rm_name, "the network's name")->required();
    rm->callback([dir, rm_name] {
        const std::string path = cni::remove_network(*dir, *rm_name);
        std::cout << "network " << *rm_name << " removed: " << path << "\n";
    });

    auto json = std::make_shared<bool>(false);
    auto *ls = net->add_subcommand("ls", "list the flatpath networks of the directory");
    ls->add_flag("--json", *json, "print JSON");
    ls->callback([dir, json] {
        std::vector<cni::NetworkFile> ours;
        for (const cni::NetworkFile &n : cni::read_networks(*dir))
            if (n.flatpath)
                ours.push_back(n);
        print_listing<cni::NetworkFile>(
            std::cout, ours, *json,
            {{"NAME", "MODE", "SUBNETS", "UPLINKS", "FILE"},
             [](const cni::NetworkFile &n) {
                 return nlohmann::json{{"name", n.name},       {"mode", n.mode},         {"bridge", n.bridge},
                                       {"subnets", subnet_texts(n)}, {"uplinks", n.uplinks}, {"file", n.path}};
             },
             [](const cni::NetworkFile &n) {
                 return std::vector<std::string>{n.name, n.mode + (n.bridge.empty() ? "" : " (" + n.bridge + ")"),
                                                 joined(subnet_texts(n)), n.uplinks.empty() ? "-" : joined(n.uplinks),
                                                 n.path};
             }});
    });
}

} // namespace fp
