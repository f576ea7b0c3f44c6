// up: load and pin the datapath, attach it to uplinks.
#include <CLI/CLI.hpp>

#include <iostream>

#include "attach.hpp"
#include "commands.hpp"
#include "datapath.hpp"
#include "table_sizes.hpp"

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
    // Sizes: a table's capacity is fixed when `up` creates it (BPF maps do not grow).
    const auto size_option = [&](const char *flag, std::optional<std::uint32_t> &into, const std::string &what) {
        up->add_option_function<std::uint32_t>(flag, [&into](const std::uint32_t &n) { into = n; }, what)
            ->check(CLI::Range(1u, kMaxTableEntries));
    };
    size_option("--max-endpoints", up_opts->sizes.endpoints,
                "endpoint addresses the datapath holds (default " + std::to_string(TableSizes{}.endpoints) +
                    "); set when the datapath is first brought up");
    size_option("--max-ports", up_opts->sizes.ports,
                "published ports (single-port DNAT entries, and as many backend ports; default " +
                    std::to_string(TableSizes{}.ports) + "); set when the datapath is first brought up");
    size_option("--max-marks", up_opts->sizes.marks,
                "mark rules (default " + std::to_string(TableSizes{}.marks) + "); set when the datapath is first brought up");
    size_option("--max-flows", up_opts->sizes.flows,
                "tracked flows: connections through published ports, masqueraded and policed ones (default " +
                    std::to_string(TableSizes{}.flows) +
                    "; room for each costs two entries in each of the two conntrack tables, about 900 bytes of kernel memory); "
                    "set when the datapath is first brought up");
    up->callback([&ctx, up_opts, mode, masq_ports] {
        if (!masq_ports->empty())
            up_opts->masq_ports = MasqPorts::parse(*masq_ports); // before anything changes
        require_root();
        if (!mode->empty())
            up_opts->xdp_mode = parse_xdp_mode(*mode);
        const PinRoot root = ctx.pin_root();
        const std::vector<std::string> notes = datapath_up(root, *up_opts);
        const TableSizes sizes = pinned_table_sizes(root);
        std::cout << "datapath up at " << root.path() << " (room for " << sizes.endpoints << " endpoint addresses, "
                  << sizes.ports << " published ports, " << sizes.marks << " mark rules, " << sizes.flows
                  << " flows; maps take " << pinned_map_memory(root) / (1024 * 1024) << " MiB)\n";
        for (const std::string &n : notes)
            std::cout << "  " << n << "\n";
    });
}

} // namespace fp
