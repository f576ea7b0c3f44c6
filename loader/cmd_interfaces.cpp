// attach, detach.
#include <CLI/CLI.hpp>

#include <iostream>

#include "cli_context.hpp"
#include "datapath_lock.hpp"
#include "error.hpp"
#include "interfaces.hpp"
#include "netdev.hpp"

namespace fp {

void add_interface_commands(CLI::App &app, CliContext &ctx)
{
    struct AttachArgs {
        std::string iface;
        std::string role;
        std::string mode = "auto";
    };
    auto args = std::make_shared<AttachArgs>();
    auto *attach = app.add_subcommand("attach", "attach flatpath's programs to an interface");
    attach->add_option("IF", args->iface, "the interface")->required();
    attach->add_option("--role", args->role,
                       "uplink: XDP + tc for traffic from outside the host; endpoint: tc on the host side of a "
                       "registered endpoint (endpoint add does this itself)")
        ->required()
        ->check(CLI::IsMember({"uplink", "endpoint"}));
    attach->add_option("--xdp-mode", args->mode, "uplinks: native, generic, auto or off (see up --help)")
        ->check(CLI::IsMember(kXdpModeNames));
    attach->callback([&ctx, args] {
        const PinRoot root = ctx.pin_root();
        MapSet maps = ctx.open_maps(root);
        const NetDev dev = NetDev::by_name(args->iface);
        const XdpMode mode = parse_xdp_mode(args->mode);
        DatapathLock lock(root);
        Interfaces ifaces(root, maps);
        if (args->role == "uplink")
            ifaces.attach_uplink(dev, mode);
        else
            ifaces.attach_endpoint(dev);
        std::cout << "attached to " << dev.name << " as " << args->role << "\n";
    });

    auto iface = std::make_shared<std::string>();
    auto *detach = app.add_subcommand("detach", "remove flatpath's programs from an interface (an endpoint stays "
                                                "registered: traffic to it is still fast-pathed)");
    detach->add_option("IF", *iface, "the interface")->required();
    detach->callback([&ctx, iface] {
        const PinRoot root = ctx.pin_root();
        MapSet maps = ctx.open_maps(root);
        const NetDev dev = NetDev::by_name(*iface);
        DatapathLock lock(root);
        Interfaces(root, maps).detach(dev.ifindex, dev.name);
        std::cout << "detached from " << dev.name << "\n";
    });
}

} // namespace fp
