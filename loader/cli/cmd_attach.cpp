// attach IF --role uplink|endpoint.
#include <CLI/CLI.hpp>

#include <iostream>

#include "commands.hpp"
#include "datapath_lock.hpp"
#include "interfaces.hpp"
#include "netdev.hpp"

namespace fp {

void add_attach_command(CLI::App &app, CliContext &ctx)
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
}

} // namespace fp
