// up: load and pin the datapath, attach it to uplinks.
#include <CLI/CLI.hpp>

#include <iostream>

#include "attach.hpp"
#include "commands.hpp"
#include "datapath.hpp"

namespace fp {

void add_up_command(CLI::App &app, CliContext &ctx)
{
    auto *up = app.add_subcommand("up", "load and pin the datapath (once) and attach it to uplinks; "
                                        "running it again only adds uplinks");
    auto up_opts = std::make_shared<UpOptions>();
    auto mode = std::make_shared<std::string>();
    up->add_option("--uplink", up_opts->uplinks,
                   "a host interface whose inbound traffic for local endpoints is fast-pathed (XDP + tc); repeatable");
    up->add_option("--xdp-mode", *mode, kXdpModeHelp)->check(CLI::IsMember(kXdpModeNames));
    auto masq_ports = std::make_shared<std::string>();
    up->add_option("--masq-ports", *masq_ports,
                   "FIRST-LAST: the source ports masqueraded flows get (default 61000-65535, above Linux's "
                   "ip_local_port_range, so the host's own connections never take them); kept when omitted");
    up->callback([&ctx, up_opts, mode, masq_ports] {
        if (!masq_ports->empty())
            up_opts->masq_ports = MasqPorts::parse(*masq_ports); // before anything changes
        require_root();
        if (!mode->empty())
            up_opts->xdp_mode = parse_xdp_mode(*mode);
        const PinRoot root = ctx.pin_root();
        const std::vector<std::string> notes = datapath_up(root, *up_opts);
        std::cout << "datapath up at " << root.path() << "\n";
        for (const std::string &n : notes)
            std::cout << "  " << n << "\n";
    });
}

} // namespace fp
