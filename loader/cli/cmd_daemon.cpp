// daemon: the flags (and the environment variables of the label-watching iptables
// daemons it replaces, so that it drops in for them) of `flatpath daemon`.
#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include "commands.hpp"
#include "daemon.hpp"
#include "error.hpp"
#include "port_spec.hpp"

namespace fp {

namespace {

// The cluster member's flags as typed, checked in the callback.
struct ClusterFlags {
    std::string network, network6, public_ip, public_ipv6;
    int subnet_len = 0;
};

// Flannel's flags keep Flannel's environment names (FLANNELD_*), so that its unit files
// and environments drive flatpath unchanged.
void add_cluster_flags(CLI::App &d, DaemonOptions &opts, ClusterFlags &f)
{
    const char *group = "Cluster (multi-host, docs/cluster.md)";
    d.add_option("--etcd-endpoints", opts.cluster.etcd_endpoints,
                 "join the cluster on these etcd endpoints (http://IP:2379,...): lease a subnet for this host, "
                 "route to the other hosts' subnets (default: no cluster)")
        ->envname("FLANNELD_ETCD_ENDPOINTS")
        ->delimiter(',')
        ->group(group);
    d.add_option("--etcd-prefix", opts.cluster.prefix, "the key prefix of the cluster's records (Flannel's layout)")
        ->envname("FLANNELD_ETCD_PREFIX")
        ->capture_default_str()
        ->group(group);
    d.add_option("--cluster-network", f.network,
                 "the IPv4 cluster network (10.1.0.0/16): written to PREFIX/config when etcd has none; must match "
                 "it when it has one (default: take it from etcd)")
        ->envname("FLATPATH_CLUSTER_NETWORK")
        ->group(group);
    d.add_option("--cluster-network6", f.network6, "the IPv6 cluster network, for dual stack (fd10::/56)")
        ->envname("FLATPATH_CLUSTER_NETWORK6")
        ->group(group);
    d.add_option("--subnet-len", f.subnet_len, "the prefix length of each host's subnet (default 24), as --cluster-network")
        ->envname("FLATPATH_SUBNET_LEN")
        ->check(CLI::Range(1, 30))
        ->group(group);
    d.add_option("--public-ip", f.public_ip,
                 "the address the other hosts reach this one at (default: the address of the default route's device)")
        ->envname("FLANNELD_PUBLIC_IP")
        ->group(group);
    d.add_option("--public-ipv6", f.public_ipv6, "the IPv6 address the other hosts reach this one at (dual stack)")
        ->envname("FLANNELD_PUBLIC_IPV6")
        ->group(group);
    d.add_option("--lease-ttl", opts.cluster.lease_ttl_s,
                 "seconds a host's subnet lease outlives its last renewal: how long a dead host's routes stay")
        ->envname("FLATPATH_LEASE_TTL")
        ->capture_default_str()
        ->group(group);
    d.add_option("--subnet-file", opts.cluster.subnet_file, "where the lease is written in Flannel's subnet.env format")
        ->envname("FLANNELD_SUBNET_FILE")
        ->capture_default_str()
        ->group(group);
    d.add_option("--ip-masq", opts.cluster.ip_masq,
                 "FLANNEL_IPMASQ in the subnet file: whether containers' traffic out of the cluster is masqueraded")
        ->envname("FLANNELD_IP_MASQ")
        ->capture_default_str()
        ->group(group);
}

void apply_cluster_flags(const ClusterFlags &f, ClusterOptions &c)
{
    const auto prefix = [](const std::string &text, const char *flag) -> std::optional<IpPrefix> {
        if (text.empty())
            return std::nullopt;
        try {
            return IpPrefix::parse(text);
        } catch (const Error &e) {
            throw Error(std::string(flag) + ": " + e.what());
        }
    };
    const auto addr = [](const std::string &text, const char *flag) -> std::optional<IpAddr> {
        if (text.empty())
            return std::nullopt;
        try {
            return IpAddr::parse(text);
        } catch (const Error &e) {
            throw Error(std::string(flag) + ": " + e.what());
        }
    };
    c.cluster_network = prefix(f.network, "--cluster-network");
    c.cluster_network6 = prefix(f.network6, "--cluster-network6");
    c.public_ip = addr(f.public_ip, "--public-ip");
    c.public_ipv6 = addr(f.public_ipv6, "--public-ipv6");
    if (c.cluster_network && !c.cluster_network->is_v4())
        throw Error("--cluster-network " + f.network + ": must be IPv4 (IPv6 goes to --cluster-network6)");
    if (c.cluster_network6 && c.cluster_network6->is_v4())
        throw Error("--cluster-network6 " + f.network6 + ": must be IPv6");
    if (c.public_ip && !c.public_ip->is_v4())
        throw Error("--public-ip " + f.public_ip + ": must be IPv4 (IPv6 goes to --public-ipv6)");
    if (c.public_ipv6 && c.public_ipv6->is_v4())
        throw Error("--public-ipv6 " + f.public_ipv6 + ": must be IPv6");
    if (f.subnet_len)
        c.subnet_len = f.subnet_len;
    if (c.cluster_network && c.subnet_len && *c.subnet_len < c.cluster_network->len)
        throw Error("--subnet-len " + std::to_string(*c.subnet_len) + " is shorter than --cluster-network " + f.network);
    if (c.etcd_endpoints.empty() && (c.cluster_network || c.public_ip))
        throw Error("--cluster-network and --public-ip need --etcd-endpoints");
}

} // namespace

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
    auto cluster = std::make_shared<ClusterFlags>();
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
    d->add_option("--policy-egress-label", opts->policy.policy_egress_label,
                  "the label that makes a selected container's firewall for what it starts: a list of what it may "
                  "reach, 10.0.0.0/8:443/tcp,1.1.1.1:53/udp,192.0.2.7 (tcp when only ports are given; \"none\": "
                  "nothing); everything else is dropped. Empty: the label is ignored")
        ->envname("POLICY_EGRESS_LABEL")
        ->capture_default_str();
    d->add_option("--policy-ingress-label", opts->policy.policy_ingress_label,
                  "the same for what it accepts: the sources and its own ports, e.g. *:80/tcp,10.0.0.0/8:22")
        ->envname("POLICY_INGRESS_LABEL")
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
                  "where the daemon keeps its lock, its records of what it added (kept across restarts) and its log "
                  "(daemon.log, rotated at 4 MiB; flatpath logs reads it)")
        ->envname("FLATPATH_RUN_DIR")
        ->capture_default_str();
    d->add_flag("--remove-datapath-on-exit", opts->remove_datapath_on_exit,
                "on SIGTERM/SIGINT also remove what the daemon added, and the datapath if nothing else uses it "
                "(default: leave it all, so traffic keeps flowing until the next daemon takes over)");
    add_cluster_flags(*d, *opts, *cluster);
    d->callback([&ctx, opts, mark, mode, cluster] {
        apply_cluster_flags(*cluster, opts->cluster);
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
