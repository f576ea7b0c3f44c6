// What every subcommand shares: global flags and the objects they lead to.
#pragma once

#include <string>

#include "map_set.hpp"
#include "pin_root.hpp"

namespace CLI {
class App;
}

namespace fp {

struct CliContext {
    std::string pin_root_flag;

    PinRoot pin_root() const { return PinRoot::resolve(pin_root_flag); }
    // Root check, then the pinned maps (a clear error when the datapath is not up).
    MapSet open_maps(const PinRoot &root) const;
};

void add_datapath_commands(CLI::App &app, CliContext &ctx);
void add_interface_commands(CLI::App &app, CliContext &ctx);
void add_endpoint_commands(CLI::App &app, CliContext &ctx);
void add_stats_command(CLI::App &app, CliContext &ctx);
void add_dnat_commands(CLI::App &app, CliContext &ctx);
void add_mark_commands(CLI::App &app, CliContext &ctx);
void add_doctor_command(CLI::App &app, CliContext &ctx);
void add_demo_command(CLI::App &app, CliContext &ctx);
void add_daemon_command(CLI::App &app, CliContext &ctx);

} // namespace fp
