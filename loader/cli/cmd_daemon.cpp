// daemon: the flags (and the environment variables of the label-watching iptables
// daemons it replaces, so that it drops in for them) of `flatpath daemon`.
#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include "commands.hpp"
#include "daemon.hpp"
#include "port_spec.hpp"

namespace fp {

void add_daemon_command(CLI::App &app, CliContext &ctx)
{
    auto *d = app.add_subcommand(
        "daemon",
        "follow the container runtime (Podman or Docker) and keep the datapath in step with its containers: labels "
        "select containers and publish their ports (DNAT) and mark replies from their published ports; containers "
        "on bridges flatpath did not create are fast-pathed too (attach mode). Reconciles at start, so a restart "
        "loses no traffic. A flag marked Env:NAME can also come from that environment variable (the flag wins)");
    auto opts = std::make_shared<DaemonOptions>();
    auto mark = std::make_shared<std::string>();
    auto mode = std::make_shared<std::string>();
    opts->run_dir = "/run/flatpath";
    d->add_option("--runtime-api", opts->runtime_api,
                  "the runtime's API socket (default: /run/podman/podman.sock if it exists, else /var/run/docker.sock); "
                  "a unix:// prefix is accepted")
        ->envname("RUNTIME_API");
    d->add_option("--watch-network", opts->policy.watch_network,
                  "only this network's containers and addresses (default: every network)")
        ->envname("WATCH_NETWORK");
    d->add_option("--watch-container-label", opts->policy.enable_label,
                  "the label that selects a container when its value is \"true\"")
        ->envname("WATCH_CONTAINER_LABEL")
        ->capture_default_str();
    d->add_option("--dnat-ports-label", opts->policy.dnat_ports_label,
                  "the label listing ports to publish on every host address to the same ports of the container: "
                  "80,443/tcp,53/udp,8000-8010 (tcp unless given)")
        ->envname("IPTABLES_DNAT_PORTS_LABEL")
        ->capture_default_str();
    d->add_option("--mark-published-ports", *mark,
                  "VALUE[/MASK]: replies from ports a selected container publishes (-p) that are not in its DNAT "
                  "label get this packet mark, for `ip rule fwmark` policy routing (default: off)")
        ->envname("IPTABLES_MANGLE_MARK_PUBLISHED_PORTS");
    d->add_option("--startup-script", opts->startup_script,
                  "a command (run with /bin/sh -c, in the daemon's environment, FLATPATH_PIN_ROOT set) before the "
                  "daemon starts; if it fails the daemon does not start and shows its output")
        ->envname("STARTUP_SCRIPT");
    d->add_option("--shutdown-script", opts->shutdown_script,
                  "a command run the same way when the daemon stops on SIGTERM or SIGINT")
        ->envname("SHUTDOWN_SCRIPT");
    d->add_option("--metrics-listen", opts->metrics_listen,
                  "serve Prometheus metrics at http://ADDR:PORT/metrics (ADDR:PORT, [ADDR6]:PORT or :PORT)")
        ->envname("METRICS_LISTEN");
    d->add_option("--uplink", opts->uplinks,
                  "a host interface whose inbound traffic for containers is fast-pathed (as `flatpath up --uplink`); "
                  "repeatable")
        ->envname("UPLINKS")
        ->delimiter(',');
    d->add_option("--xdp-mode", *mode, std::string("how the uplinks are attached, as `flatpath up --xdp-mode`: ") +
                                           kXdpModeHelp)
        ->check(CLI::IsMember(kXdpModeNames));
    d->add_option("--run-dir", opts->run_dir,
                  "where the daemon keeps its lock and its records of what it added (kept across restarts)")
        ->envname("FLATPATH_RUN_DIR")
        ->capture_default_str();
    d->add_flag("--remove-datapath-on-exit", opts->remove_datapath_on_exit,
                "on SIGTERM/SIGINT also remove what the daemon added, and the datapath if nothing else uses it "
                "(default: leave it all, so traffic keeps flowing until the next daemon takes over)");
    d->callback([&ctx, opts, mark, mode] {
        if (!mark->empty())
            opts->policy.published_port_mark = parse_mark(*mark);
        if (opts->runtime_api.starts_with("unix://"))
            opts->runtime_api.erase(0, 7);
        if (!mode->empty())
            opts->xdp_mode = parse_xdp_mode(*mode);
        // A daemon says what it does: info unless -v asked for more.
        if (spdlog::get_level() > spdlog::level::info)
            spdlog::set_level(spdlog::level::info);
        spdlog::set_pattern("[%Y-%m-%d %H:%M:%S.%e] flatpath daemon: %l: %v");
        const int status = run_daemon(ctx.pin_root(), *opts);
        if (status != 0)
            throw CLI::RuntimeError(status);
    });
}

} // namespace fp
