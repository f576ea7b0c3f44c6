// detach IF.
#include <CLI/CLI.hpp>

#include <iostream>

#include "commands.hpp"
#include "datapath_lock.hpp"
#include "interfaces.hpp"
#include "netdev.hpp"

namespace fp {

void add_detach_command(CLI::App &app, CliContext &ctx)
{
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
