// endpoint add|del|list.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <iostream>

#include "commands.hpp"
#include "endpoints.hpp"
#include "error.hpp"
#include "listing.hpp"

namespace fp {

namespace {

std::vector<IpAddr> parse_addrs(const std::vector<std::string> &texts)
{
    std::vector<IpAddr> out;
    for (const auto &t : texts)
        out.push_back(IpAddr::parse(t));
    return out;
}

nlohmann::json row_json(const EndpointRow &r)
{
    return {{"address", r.addr.str()},
            {"dev", r.dev},
            {"ifindex", r.ifindex},
            {"kind", endpoint_kind_name(r.kind)},
            {"mac", r.mac.str()},
            {"host_mac", r.host_mac.str()},
            {"slot", r.slot},
            {"zone", r.zone}};
}

} // namespace

void add_endpoint_command(CLI::App &app, CliContext &ctx)
{
    auto *ep = app.add_subcommand("endpoint", "register container interfaces (endpoints) with the datapath");
    ep->require_subcommand(1);

    struct AddArgs {
        std::vector<std::string> addrs;
        std::string dev;
        std::string mac;
        std::uint32_t zone = 0;
    };
    auto add_args = std::make_shared<AddArgs>();
    auto *add = ep->add_subcommand("add", "register an endpoint: its addresses are then reached through the fast "
                                          "path, and from_container is attached to its device");
    add->add_option("ADDR", add_args->addrs, "the endpoint's IPv4 and/or IPv6 addresses")->required();
    add->add_option("--dev", add_args->dev,
                    "the host-side device: a veth whose peer is in the container, a tap or a tun device")
        ->required();
    add->add_option("--mac", add_args->mac,
                    "the container's own MAC (the peer's, for a veth): frames to it get this destination, "
                    "frames from it must carry it; not for tun devices");
    add->add_option("--zone", add_args->zone,
                    "a network number (0: none): endpoints of two different non-zero zones are not forwarded to "
                    "each other by flatpath, the host stack and its firewall decide (the daemon gives attach-mode "
                    "containers their bridge's ifindex, so that Docker's network isolation holds)");
    add->callback([&ctx, add_args] {
        const PinRoot root = ctx.pin_root();
        MapSet maps = ctx.open_maps(root);
        EndpointSpec spec{parse_addrs(add_args->addrs), add_args->dev, std::nullopt, add_args->zone};
        if (!add_args->mac.empty())
            spec.mac = MacAddr::parse(add_args->mac);
        Endpoints(root, maps).add(spec);
        std::cout << "endpoint added on " << spec.dev << "\n";
    });

    auto del_addrs = std::make_shared<std::vector<std::string>>();
    auto *del = ep->add_subcommand("del", "unregister endpoint addresses (all of them, or none when one is not "
                                          "registered); a device's last address takes the device out of the datapath");
    del->add_option("ADDR", *del_addrs, "addresses to remove")->required();
    del->callback([&ctx, del_addrs] {
        const PinRoot root = ctx.pin_root();
        MapSet maps = ctx.open_maps(root);
        const std::vector<IpAddr> addrs = parse_addrs(*del_addrs); // all valid before any is removed
        Endpoints(root, maps).remove_all(addrs);
        std::cout << "removed " << addrs.size() << " endpoint address(es)\n";
    });

    add_list_command<EndpointRow>(
        *ep, ctx, "list registered endpoint addresses",
        [](const PinRoot &root, MapSet &maps) { return Endpoints(root, maps).list(); },
        {{"ADDRESS", "DEV", "KIND", "MAC", "HOST MAC", "SLOT", "ZONE"}, row_json, [](const EndpointRow &r) {
             return std::vector<std::string>{r.addr.str(), r.dev.empty() ? "(gone)" : r.dev,
                                             std::string(endpoint_kind_name(r.kind)), r.mac.str(), r.host_mac.str(),
                                             std::to_string(r.slot), r.zone ? std::to_string(r.zone) : "-"};
         }});
}

} // namespace fp
