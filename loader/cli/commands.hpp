// The top-level verbs: add_<verb>_command is in cmd_<verb>.cpp.
#pragma once

#include "cli_context.hpp"

namespace CLI {
class App;
}

namespace fp {

void add_up_command(CLI::App &app, CliContext &ctx);
void add_down_command(CLI::App &app, CliContext &ctx);
void add_status_command(CLI::App &app, CliContext &ctx);
void add_attach_command(CLI::App &app, CliContext &ctx);
void add_detach_command(CLI::App &app, CliContext &ctx);
void add_endpoint_command(CLI::App &app, CliContext &ctx);
void add_dnat_command(CLI::App &app, CliContext &ctx);
void add_ct_command(CLI::App &app, CliContext &ctx);
void add_mark_command(CLI::App &app, CliContext &ctx);
void add_stats_command(CLI::App &app, CliContext &ctx);
void add_doctor_command(CLI::App &app, CliContext &ctx);
void add_demo_command(CLI::App &app, CliContext &ctx);
void add_daemon_command(CLI::App &app, CliContext &ctx);

} // namespace fp
