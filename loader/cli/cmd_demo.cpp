// demo.
#include <CLI/CLI.hpp>

#include "commands.hpp"
#include "datapath.hpp"
#include "demo.hpp"

namespace fp {

void add_demo_command(CLI::App &app, CliContext &)
{
    auto opts = std::make_shared<DemoOptions>();
    auto *demo = app.add_subcommand(
        "demo", "build a LAN client, a host and two containers in throwaway namespaces, bring the datapath up, "
                "send ping, TCP and UDP traffic through it, show the counters, and remove it all (also on Ctrl-C)");
    demo->add_option("--xdp-mode", opts->xdp_mode, "XDP mode for the host's uplink (see up --help)")
        ->check(CLI::IsMember(kXdpModeNames));
    demo->add_option("--tcp-bytes", opts->tcp_bytes, "bytes each TCP transfer sends");
    demo->callback([opts] {
        require_root();
        const int rc = run_demo(*opts);
        if (rc != 0)
            throw CLI::RuntimeError(rc);
    });
}

} // namespace fp
