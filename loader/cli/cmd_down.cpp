// down: detach everything and remove the pins.
#include <CLI/CLI.hpp>

#include <iostream>

#include "commands.hpp"
#include "datapath.hpp"

namespace fp {

void add_down_command(CLI::App &app, CliContext &ctx)
{
    auto *down = app.add_subcommand("down", "detach everything flatpath attached and remove its pins");
    down->callback([&ctx] {
        require_root();
        const PinRoot root = ctx.pin_root();
        std::cout << (datapath_down(root) ? "datapath removed from " : "datapath was not up at ") << root.path()
                  << "\n";
    });
}

} // namespace fp
