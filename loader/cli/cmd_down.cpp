// down: detach everything and remove the pins.
#include <CLI/CLI.hpp>

#include <iostream>

#include "commands.hpp"
#include "cluster_table.hpp"
#include "datapath.hpp"
#include "programs.hpp"

namespace fp {

void add_down_command(CLI::App &app, CliContext &ctx)
{
    auto *down = app.add_subcommand("down", "detach everything flatpath attached, remove its pins and its cluster routes");
    down->callback([&ctx] {
        require_root();
        const PinRoot root = ctx.pin_root();
        // The cluster's routes go with the datapath that forwarded along them.
        if (root.is_up()) {
            pin_missing_maps(root); // an older flatpath's datapath goes down whole too
            MapSet maps = MapSet::open_pinned(root.path());
            ClusterTable(root, maps).clear();
        }
        std::cout << (datapath_down(root) ? "datapath removed from " : "datapath was not up at ") << root.path()
                  << "\n";
    });
}

} // namespace fp
