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
        std::string mode;
    };
    auto args = std::make_shared<AttachArgs>();
    auto *attach = app.add_subcommand("attach", "attach flatpath's programs to an interface");
    attach->add_option("IF", args->iface, "the interface")->required();
    attach->add_option("--role", args->role,
                       "uplink: XDP + tc for traffic from outside the host; endpoint: tc on the host side of a "
                       "registered endpoint (endpoint add does this itself)")
        ->required()
        ->check(CLI::IsMember({"uplink", "endpoint"}));
    attach->add_option("--xdp-mode", args->mode, std::string("uplinks: ") + kXdpModeHelp)
        ->check(CLI::IsMember(kXdpModeNames));
    attach->callback([&ctx, args] {
        const PinRoot root = ctx.pin_root();
        MapSet maps = ctx.open_maps(root);
        const NetDev dev = NetDev::by_name(args->iface);
        // attach names its mode: auto unless told (up leaves an attached uplink alone).
        const XdpMode mode = parse_xdp_mode(args->mode.empty() ? "auto" : args->mode);
        DatapathLock lock(root);
        Interfaces ifaces(root, maps);
        if (args->role == "uplink") {
            const std::string note = ifaces.attach_uplink(dev, mode);
            std::cout << "attached to " << dev.name << " as uplink: " << note << "\n";
        } else {
            ifaces.attach_endpoint(dev);
            std::cout << "attached to " << dev.name << " as endpoint\n";
        }
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
