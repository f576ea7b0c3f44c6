#include "testbed.hpp"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>

#include "command.hpp"
#include "error.hpp"
#include "port_spec.hpp"
#include "rulesets.hpp"
#include "topology.hpp"

namespace fp::bench {

namespace {

const std::vector<ServicePort> kBenchPorts = {
    {17, kFloodPort}, {6, kThroughputPort}, {17, kPingPongPort}, {6, kConnectPort}};

constexpr const char *kBridgeSubnet = "10.88.0.0/16";
// Podman's networks: the subnet `podman network create` picks first (10.89.0.0/24), for
// flatpath's too, so that the three differ in their datapath only.
constexpr const char *kPodmanNetwork = "bench";
constexpr const char *kPodmanSubnet = "10.89.0.0/24";

// Podman's CNI networks keep host-local's leases in /var/lib/cni/networks/NAME, the
// machine's: moved into the sandbox (the one change to the conflist Podman wrote).
void keep_leases_in_sandbox(const PodmanSandbox &podman, const std::string &network)
{
    const std::string path = podman.network_dir() + "/" + network + ".conflist";
    std::ifstream in(path);
    nlohmann::json conflist = nlohmann::json::parse(in);
    in.close();
    bool moved = false;
    for (nlohmann::json &plugin : conflist.at("plugins"))
        if (plugin.contains("ipam") && plugin["ipam"].value("type", "") == "host-local") {
            plugin["ipam"]["dataDir"] = podman.dir() + "/host-local";
            moved = true;
        }
    if (!moved)
        throw Error(path + ": no host-local IPAM in the network Podman made");
    std::ofstream(path) << conflist.dump(2);
}

} // namespace

const char *config_name(Config c)
{
    switch (c) {
    case Config::B0:
        return "B0";
    case Config::BMin:
        return "B-min";
    case Config::B1:
        return "B1";
    case Config::FTc:
        return "F-tc";
    case Config::FXdp:
        return "F-xdp";
    case Config::PCni:
        return "P-cni";
    case Config::PNetavark:
        return "P-netavark";
    case Config::PFlatpath:
        return "P-flatpath";
    }
    return "?";
}

bool is_flatpath(Config c)
{
    return c == Config::FTc || c == Config::FXdp || c == Config::PFlatpath;
}

bool is_podman(Config c)
{
    return c == Config::PCni || c == Config::PNetavark || c == Config::PFlatpath;
}

Testbed::Testbed(Config config, std::uint32_t entries, const BenchBinaries &bins)
    : config_(config), entries_(entries), lab_(std::make_unique<Lab>("b"))
{
    if (entries == 0)
        throw Error("a testbed needs at least one entry (the one under test)");
    if (config == Config::B0) {
        build_b0();
        return;
    }
    build_lan_and_host();
    if (is_podman(config))
        build_podman(bins);
    else if (config == Config::BMin)
        build_bmin();
    else if (config == Config::B1)
        build_b1();
    else
        build_flatpath(config == Config::FXdp, bins);
}

void Testbed::build_b0()
{
    client_ns_ = lab_->add_netns("client");
    container_ns_ = lab_->add_netns("ctr");
    next_hop_mac_ = MacAddr::parse("02:fb:00:00:01:02");
    lab_->add_veth(client_ns_, "lan0", client_mac_, container_ns_, "eth0", next_hop_mac_);
    client_addr_ = IpAddr::parse("10.80.0.1");
    target_ = container_addr_ = IpAddr::parse("10.80.0.2");
    lab_->in(client_ns_, {"ip", "addr", "add", "10.80.0.1/24", "dev", "lan0"});
    lab_->in(container_ns_, {"ip", "addr", "add", "10.80.0.2/24", "dev", "eth0"});
    lab_->in(container_ns_, {"ethtool", "-K", "eth0", "gro", "on"});
}

void Testbed::build_lan_and_host()
{
    client_ns_ = lab_->add_netns("client");
    host_ns_ = lab_->add_netns("host");
    lab_->add_veth(client_ns_, "lan0", client_mac_, host_ns_, "uplink0", next_hop_mac_);
    client_addr_ = IpAddr::parse("10.90.0.2");
    target_ = IpAddr::parse("10.90.0.1");
    lab_->in(client_ns_, {"ip", "addr", "add", "10.90.0.2/24", "dev", "lan0"});
    lab_->in(host_ns_, {"ip", "addr", "add", "10.90.0.1/24", "dev", "uplink0"});
    lab_->in(host_ns_, {"sysctl", "-qw", "net.ipv4.ip_forward=1"});
    // Permanent neighbours: no ARP exchange inside a timed run.
    lab_->in(client_ns_, {"ip", "neigh", "add", "10.90.0.1", "lladdr", next_hop_mac_.str(), "dev", "lan0", "nud", "permanent"});
    lab_->in(host_ns_, {"ip", "neigh", "add", "10.90.0.2", "lladdr", client_mac_.str(), "dev", "uplink0", "nud", "permanent"});
}

void Testbed::build_bmin()
{
    const Container c = add_routed_container(*lab_, host_ns_, "c1", 1, {});
    container_ns_ = c.ns;
    target_ = container_addr_ = c.v4;
    lab_->in(client_ns_, {"ip", "route", "add", c.v4.str() + "/32", "via", "10.90.0.1", "dev", "lan0"});
    floor_ = std::make_unique<FloorPath>(host_ns_, "uplink0", next_hop_mac_, client_mac_, c.host_if, c.host_mac, c.mac);
}

void Testbed::build_b1()
{
    container_ns_ = lab_->add_netns("ctr");
    container_addr_ = IpAddr::parse("10.88.0.2");
    const MacAddr ctr_mac = MacAddr::parse("02:fb:00:00:01:02");
    lab_->add_veth(container_ns_, "eth0", ctr_mac, host_ns_, "veth1", MacAddr::parse("02:fb:00:00:01:01"));
    lab_->in(host_ns_, {"ip", "link", "add", "br0", "type", "bridge"});
    lab_->in(host_ns_, {"ip", "addr", "add", "10.88.0.1/16", "dev", "br0"});
    lab_->in(host_ns_, {"ip", "link", "set", "br0", "up"});
    lab_->in(host_ns_, {"ip", "link", "set", "veth1", "master", "br0"});
    lab_->in(container_ns_, {"ip", "addr", "add", "10.88.0.2/16", "dev", "eth0"});
    lab_->in(container_ns_, {"ip", "route", "add", "default", "via", "10.88.0.1"});
    lab_->in(container_ns_, {"ethtool", "-K", "eth0", "gro", "on"});
    lab_->in(host_ns_, {"ip", "neigh", "add", "10.88.0.2", "lladdr", ctr_mac.str(), "dev", "br0", "nud", "permanent"});

    const auto containers = bench_containers(container_addr_, kBenchPorts, entries_ - 1, "10.88");
    const std::string rules = portmap_nat_rules(containers, kBridgeSubnet) + mangle_mark_rules(containers);
    run_checked({"ip", "netns", "exec", host_ns_, "iptables-restore"}, &rules);
    // The bridge plugin's ipMasq rules for the container (its chain, as the plugin names
    // them), and what the portmap plugin sets for the host's 127.0.0.1 to be DNAT'd.
    for (const std::vector<std::string> &rule :
         {std::vector<std::string>{"-N", "CNI-MASQ-bench"},
          {"-A", "POSTROUTING", "-s", container_addr_.str() + "/32", "-j", "CNI-MASQ-bench"},
          {"-A", "CNI-MASQ-bench", "-d", kBridgeSubnet, "-j", "ACCEPT"},
          {"-A", "CNI-MASQ-bench", "!", "-d", "224.0.0.0/4", "-j", "MASQUERADE"}}) {
        std::vector<std::string> argv = {"ip", "netns", "exec", host_ns_, "iptables", "-t", "nat"};
        argv.insert(argv.end(), rule.begin(), rule.end());
        run_checked(argv);
    }
    lab_->in(host_ns_, {"sysctl", "-qw", "net.ipv4.conf.br0.route_localnet=1"});
}

void Testbed::build_podman(const BenchBinaries &bins)
{
    podman_ = std::make_unique<PodmanSandbox>(
        host_ns_, config_ == Config::PNetavark ? PodmanSandbox::Backend::Netavark : PodmanSandbox::Backend::Cni,
        std::vector<std::string>{std::filesystem::path(bins.flatpath_cni).parent_path().string(), "/usr/lib/cni"});
    if (config_ == Config::PFlatpath) {
        lab_->in(host_ns_, {bins.flatpath, "--pin-root", lab_->pin_root(), "network", "--config-dir", podman_->network_dir(),
                            "create", kPodmanNetwork, "--subnet", kPodmanSubnet, "--uplink", "uplink0", "--state-dir",
                            podman_->dir() + "/state"});
    } else {
        podman_->run({"network", "create", "--subnet", kPodmanSubnet, kPodmanNetwork});
        if (config_ == Config::PCni)
            keep_leases_in_sandbox(*podman_, kPodmanNetwork);
    }
    std::vector<std::string> publish;
    for (const ServicePort &p : kBenchPorts)
        publish.insert(publish.end(),
                       {"-p", std::to_string(p.port) + ":" + std::to_string(p.port) + "/" + protocol_name(p.proto)});
    podman_->run(podman_->run_args("c1", publish, {"sleep", "1000000"}, kPodmanNetwork));
    podman_->run(podman_->run_args("c2", {}, {"sleep", "1000000"}, kPodmanNetwork));
    container_ns_ = podman_->netns_of("c1");
    neighbour_ns_ = podman_->netns_of("c2");
    container_addr_ = IpAddr::parse(
        podman_->inspect("c1", std::string("{{(index .NetworkSettings.Networks \"") + kPodmanNetwork + "\").IPAddress}}"));
}

void Testbed::build_flatpath(bool xdp, const BenchBinaries &bins)
{
    const Container c = add_routed_container(*lab_, host_ns_, "c1", 1, {});
    container_ns_ = c.ns;
    container_addr_ = c.v4;
    const auto flatpath = [&](const std::vector<std::string> &args) {
        std::vector<std::string> argv = {"ip", "netns", "exec", host_ns_, bins.flatpath, "--pin-root", lab_->pin_root()};
        argv.insert(argv.end(), args.begin(), args.end());
        run_checked(argv);
    };
    // F-xdp is what `auto` picks for this uplink, as a user gets it: on a veth that is tc
    // only (native XDP there breaks senders' checksum offload; PLATFORM.md). The live-frames
    // metric measures xdp_uplink itself.
    flatpath({"up", "--uplink", "uplink0", "--xdp-mode", xdp ? "auto" : "off"});
    flatpath({"endpoint", "add", c.v4.str(), "--dev", c.host_if, "--mac", c.mac.str()});
    flatpath({"masq", "add", "10.91.0.0/24"});
    // As Podman's -p 127.0.0.1:P:P gives them: the host's own programs' way in (B1's
    // portmap rules match every local address, 127.0.0.1 too).
    flatpath({"dnat", "add", "tcp", std::to_string(kConnectPort), c.v4.str(), "--host-ip", "127.0.0.1"});
    flatpath({"dnat", "add", "udp", std::to_string(kPingPongPort), c.v4.str(), "--host-ip", "127.0.0.1"});

    const PinRoot root(lab_->pin_root());
    MapSet maps = MapSet::open_pinned(root.path());
    load_flatpath_entries(root, maps, target_, bench_containers(c.v4, kBenchPorts, entries_ - 1, "10.91"));
}

} // namespace fp::bench
