#include "cluster_bed.hpp"

#include <poll.h>
#include <stdlib.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <thread>

#include "cni_exec.hpp"
#include "command.hpp"
#include "error.hpp"
#include "results.hpp"
#include "etcd_client.hpp"
#include "ip_pool.hpp"
#include "netlink.hpp"
#include "netns_scope.hpp"
#include "pin_root.hpp"
#include "programs.hpp"
#include "run_time.hpp"
#include "sockets.hpp"
#include "subnet_env.hpp"
#include "topology.hpp"
#include "traffic_metrics.hpp"

namespace fp::bench {

namespace {

const char *kEtcdIp = "192.168.78.10";
constexpr const char *kCniPluginDir = "/usr/lib/cni";
// The bed's own container on a flatpath host: high in the lease, out of the way of the
// addresses flatpath-cni hands out from its start.
constexpr std::uint64_t kBedContainerHost = 250;

std::string host_ip(int n)
{
    return "192.168.78." + std::to_string(n);
}


bool has_route(const std::string &netns, const IpPrefix &dst)
{
    NetnsScope in(netns);
    for (const Route &r : Netlink().routes())
        if (IpPrefix::of(r.dst, r.prefix_len) == dst)
            return true;
    return false;
}

void wait_for(const std::function<bool()> &cond, const std::string &what)
{
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (!cond()) {
        if (std::chrono::steady_clock::now() > until)
            throw Error("cluster bed: " + what + " did not happen within 30 s");
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
}

// Whether a TCP connection attempt from netns to addr (a port nobody listens on) is
// answered (a reset, or an accept) within timeout_ms: the SYN reached addr's stack and its
// answer came back.
bool answers(const std::string &netns, const IpAddr &addr, int timeout_ms)
{
    const Socket s = socket_in_netns(netns, addr.is_v4() ? AF_INET : AF_INET6, SOCK_STREAM | SOCK_NONBLOCK);
    const SockAddr to = sockaddr_of(addr, 9);
    if (::connect(s.get(), to.ptr(), to.len) == 0)
        return true;
    if (errno != EINPROGRESS)
        return errno == ECONNREFUSED;
    pollfd p{s.get(), POLLOUT, 0};
    if (::poll(&p, 1, timeout_ms) <= 0)
        return false;
    int err = 0;
    socklen_t len = sizeof err;
    ::getsockopt(s.get(), SOL_SOCKET, SO_ERROR, &err, &len);
    return err == 0 || err == ECONNREFUSED;
}

} // namespace

const char *cluster_bed_name(ClusterBed b)
{
    switch (b) {
    case ClusterBed::Route: return "x-route";
    case ClusterBed::Bridge: return "x-bridge";
    case ClusterBed::Flatpath: return "x-flatpath";
    case ClusterBed::VxlanRoute: return "x-vxlan-route";
    case ClusterBed::VxlanFlatpath: return "x-vxlan-flatpath";
    }
    return "?";
}

ClusterTestbed::ClusterTestbed(ClusterBed bed, const BenchBinaries &bins)
    : bed_(bed), flatpath_bin_(bins.flatpath), flatpath_cni_bin_(bins.flatpath_cni), lab_(std::make_unique<Lab>("x"))
{
    char tmpl[] = "/tmp/flatpath-bench-cluster.XXXXXX";
    if (!::mkdtemp(tmpl))
        throw_errno("make a directory for the cluster bed", errno);
    dir_ = tmpl;
    sw_ = lab_->add_netns("sw");
    lab_->in(sw_, {"ip", "link", "add", "br0", "type", "bridge"});
    lab_->in(sw_, {"ip", "link", "set", "br0", "up"});
    ha_ = lab_->add_netns("ha");
    hb_ = lab_->add_netns("hb");
    wire(ha_, 1);
    wire(hb_, 2);
    if (bed == ClusterBed::Flatpath || bed == ClusterBed::VxlanFlatpath) {
        store_ns_ = lab_->add_netns("store");
        wire(store_ns_, 10);
        etcd_ = std::make_unique<EtcdServer>(store_ns_, kEtcdIp, 2379, dir_ + "/etcd");
        if (bed == ClusterBed::VxlanFlatpath) {
            NetnsScope in(store_ns_);
            EtcdClient({etcd_->url()}).put("/coreos.com/network/config",
                                           R"({"Network":"10.50.0.0/16","Backend":{"Type":"vxlan","VNI":1}})");
        }
        build_flatpath_host(ha_, 1);
        build_flatpath_host(hb_, 2);
    } else {
        build_kernel_host(ha_, 1);
        build_kernel_host(hb_, 2);
    }
}

ClusterTestbed::~ClusterTestbed()
{
    daemons_.clear(); // SIGTERM, before their namespaces go
    etcd_.reset();
    lab_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
}

std::string ClusterTestbed::host_pin_root(int n) const
{
    return std::filesystem::path(lab_->pin_root()).parent_path() / ("h" + std::to_string(n));
}

void ClusterTestbed::wire(const std::string &ns, int n)
{
    const std::string hex = (n < 10 ? "0" : "") + std::to_string(n);
    lab_->add_veth(ns, "eth0", MacAddr::parse("02:78:00:00:00:" + hex), sw_, "p" + hex, MacAddr::parse("02:78:00:00:01:" + hex));
    lab_->in(sw_, {"ip", "link", "set", "p" + hex, "master", "br0"});
    lab_->in(ns, {"ip", "addr", "add", host_ip(n) + "/24", "dev", "eth0"});
    // A container host (or the store's): forwarding on, as flatpath-cni and Podman set it.
    lab_->in(ns, {"sysctl", "-qw", "net.ipv4.ip_forward=1"});
}

Container ClusterTestbed::container_for(const std::string &host_ns, int n, const IpAddr &v4, bool bridge)
{
    const std::string name = "c" + std::to_string(n);
    if (!bridge)
        return add_routed_container(*lab_, host_ns, name, n, v4, IpAddr::parse("fd50::" + std::to_string(n)), {});
    // Podman's bridge network: the container on the host's bridge, the bridge its gateway.
    Container c{name,
                lab_->add_netns(name),
                "veth" + name,
                MacAddr::parse("02:78:00:00:02:0" + std::to_string(n)),
                MacAddr::parse("02:78:00:00:03:0" + std::to_string(n)),
                v4,
                {}};
    lab_->add_veth(c.ns, "eth0", c.mac, host_ns, c.host_if, c.host_mac);
    lab_->in(host_ns, {"ip", "link", "set", c.host_if, "master", "cni0"});
    lab_->in(c.ns, {"ip", "addr", "add", v4.str() + "/24", "dev", "eth0"});
    lab_->in(c.ns, {"ip", "route", "add", "default", "via", "10.50." + std::to_string(n) + ".1"});
    return c;
}

void ClusterTestbed::build_kernel_host(const std::string &ns, int n)
{
    const bool bridge = bed_ == ClusterBed::Bridge;
    const int peer = 3 - n;
    const std::string own = "10.50." + std::to_string(n) + ".0/24";
    if (bridge) {
        lab_->in(ns, {"ip", "link", "add", "cni0", "type", "bridge"});
        lab_->in(ns, {"ip", "addr", "add", "10.50." + std::to_string(n) + ".1/24", "dev", "cni0"});
        lab_->in(ns, {"ip", "link", "set", "cni0", "up"});
        // Flannel's and the bridge plugin's rules: forward the cluster's traffic, masquerade
        // only what leaves it.
        lab_->in(ns, {"iptables", "-A", "FORWARD", "-s", "10.50.0.0/16", "-j", "ACCEPT"});
        lab_->in(ns, {"iptables", "-A", "FORWARD", "-d", "10.50.0.0/16", "-j", "ACCEPT"});
        lab_->in(ns, {"iptables", "-t", "nat", "-A", "POSTROUTING", "-s", own, "!", "-d", "10.50.0.0/16", "-j", "MASQUERADE"});
    }
    const Container c = container_for(ns, n, IpAddr::parse("10.50." + std::to_string(n) + ".5"), bridge);
    const std::string peer_subnet = "10.50." + std::to_string(peer) + ".0";
    if (bed_ == ClusterBed::VxlanRoute) {
        // Flannel's vxlan: the device has the subnet's .0, the peer's subnet is routed to the
        // peer's .0 on it, whose MAC (a neighbour entry) the FDB sends to the peer's address.
        const auto vtep = [](int h) { return "02:78:00:00:0a:0" + std::to_string(h); };
        lab_->in(ns, {"ip", "link", "add", "vx0", "address", vtep(n), "mtu", "1450", "type", "vxlan", "id", "1", "dstport",
                      "8472", "local", host_ip(n), "nolearning"});
        lab_->in(ns, {"ip", "addr", "add", "10.50." + std::to_string(n) + ".0/32", "dev", "vx0"});
        lab_->in(ns, {"ip", "link", "set", "vx0", "up"});
        lab_->in(ns, {"ip", "route", "add", peer_subnet + "/24", "via", peer_subnet, "dev", "vx0", "onlink"});
        lab_->in(ns, {"ip", "neigh", "add", peer_subnet, "lladdr", vtep(peer), "dev", "vx0", "nud", "permanent"});
        lab_->in(ns, {"bridge", "fdb", "append", vtep(peer), "dev", "vx0", "dst", host_ip(peer)});
    } else {
        lab_->in(ns, {"ip", "route", "add", peer_subnet + "/24", "via", host_ip(peer)});
    }
    if (n == 1) {
        client_ = c;
        client_ns_ = c.ns;
        return;
    }
    server_ns_ = c.ns;
    server_addr_ = c.v4;
}

void ClusterTestbed::build_flatpath_host(const std::string &ns, int n)
{
    const std::string host_dir = dir_ + "/h" + std::to_string(n);
    std::filesystem::create_directories(host_dir);
    const std::string pin_root = host_pin_root(n);
    const std::string subnet_file = host_dir + "/subnet.env";
    daemons_.push_back(std::make_unique<BackgroundProcess>(
        std::vector<std::string>{"nsenter", "--net=/run/netns/" + ns, flatpath_bin_, "--pin-root", pin_root, "daemon",
                                 "--run-dir", host_dir + "/run", "--runtime-api", host_dir + "/no-runtime.sock",
                                 "--uplink", "eth0", "--etcd-endpoints", etcd_->url(), "--cluster-network",
                                 "10.50.0.0/16", "--public-ip", host_ip(n), "--subnet-file", subnet_file},
        host_dir + "/daemon.log"));
    wait_for([&] { return std::filesystem::exists(subnet_file); }, "host " + std::to_string(n) + "'s lease");
    const IpPrefix subnet = *SubnetEnv::read(subnet_file).subnet;
    leased_.push_back(subnet);
    const IpAddr addr = cni::addr_add(subnet.network, kBedContainerHost);
    const Container c = container_for(ns, n, addr, false);
    run_checked({"nsenter", "--net=/run/netns/" + ns, flatpath_bin_, "--pin-root", pin_root, "endpoint", "add",
                 addr.str(), "fd50::" + std::to_string(n), "--dev", "fpc" + std::to_string(n), "--mac",
                 "02:fb:00:00:0" + std::to_string(n) + ":02"});
    if (n == 1) {
        client_ = c;
        client_ns_ = c.ns;
        return;
    }
    server_ns_ = c.ns;
    server_addr_ = addr;
    // Each host routes to the other's subnet before anything is measured.
    const IpPrefix a_subnet = *SubnetEnv::read(dir_ + "/h1/subnet.env").subnet;
    wait_for([&] { return has_route(ha_, subnet) && has_route(hb_, a_subnet); }, "the hosts' routes");
}

std::vector<double> ClusterTestbed::route_delays(int count)
{
    std::vector<double> out;
    for (int i = 0; static_cast<int>(out.size()) < count; ++i) {
        const IpPrefix subnet = IpPrefix::parse("10.50." + std::to_string(100 + i) + ".0/24");
        if (std::find(leased_.begin(), leased_.end(), subnet) != leased_.end())
            continue; // a real host's: made-up leases go elsewhere
        const std::string key = "/coreos.com/network/subnets/10.50." + std::to_string(100 + i) + ".0-24";
        const auto start = std::chrono::steady_clock::now();
        {
            NetnsScope in(store_ns_);
            EtcdClient({etcd_->url()}).put(key, "{\"PublicIP\":\"192.168.78." + std::to_string(100 + i) +
                                                    "\",\"BackendType\":\"host-gw\"}");
        }
        NetnsScope in(hb_);
        const Netlink nl;
        for (;;) {
            bool found = false;
            for (const Route &r : nl.routes())
                found |= IpPrefix::of(r.dst, r.prefix_len) == subnet;
            if (found)
                break;
            if (std::chrono::steady_clock::now() - start > std::chrono::seconds(10))
                throw Error("cluster bed: no route to " + subnet.str() + " on hb within 10 s");
            std::this_thread::sleep_for(std::chrono::microseconds(200));
        }
        out.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
    }
    return out;
}

FloodPath ClusterTestbed::flood_path() const
{
    return {client_ns_, "eth0", client_.mac, client_.host_mac, client_.v4, server_addr_, ha_, client_.host_if};
}

bool ClusterTestbed::has_cni() const
{
    return bed_ == ClusterBed::Bridge || bed_ == ClusterBed::Flatpath || bed_ == ClusterBed::VxlanFlatpath;
}

nlohmann::json ClusterTestbed::cni_add(const std::string &container_ns, const std::string &id)
{
    const std::map<std::string, std::string> env = {{"CNI_COMMAND", "ADD"}, {"CNI_CONTAINERID", id},
                                                    {"CNI_NETNS", "/run/netns/" + container_ns}, {"CNI_IFNAME", "eth0"},
                                                    {"CNI_PATH", kCniPluginDir}};
    NetnsScope in(hb_);
    if (bed_ == ClusterBed::Bridge) {
        // What Podman's bridge network on a Flannel host-gw host runs: the host's bridge as
        // gateway, addresses from the host's subnet (Flannel's rules already masquerade).
        const nlohmann::json ranges = nlohmann::json::array(
            {nlohmann::json::array({{{"subnet", "10.50.2.0/24"}, {"rangeStart", "10.50.2.10"}, {"gateway", "10.50.2.1"}}})});
        const nlohmann::json conf = {{"cniVersion", "1.0.0"}, {"name", "xnet"},         {"type", "bridge"},
                                     {"bridge", "cni0"},      {"isGateway", true},      {"ipMasq", false},
                                     {"ipam",
                                      {{"type", "host-local"},
                                       {"ranges", ranges},
                                       {"routes", nlohmann::json::array({{{"dst", "0.0.0.0/0"}}})},
                                       {"dataDir", dir_ + "/ipam"}}}};
        return run_cni_plugin(std::string(kCniPluginDir) + "/bridge", env, conf);
    }
    const std::string host_dir = dir_ + "/h2";
    const std::string pin_root = host_pin_root(2);
    const nlohmann::json conf = {{"cniVersion", "1.0.0"},
                                 {"name", "xnet"},
                                 {"type", "flatpath-cni"},
                                 {"subnetFile", host_dir + "/subnet.env"},
                                 {"pinRoot", pin_root},
                                 {"stateDir", host_dir + "/cni"}};
    return run_cni_plugin(flatpath_cni_bin_, env, conf);
}

std::vector<double> ClusterTestbed::container_delays(int count)
{
    std::vector<double> out;
    for (int i = 0; i < count; ++i) {
        const std::string ns = lab_->add_netns("n" + std::to_string(i));
        const auto start = std::chrono::steady_clock::now();
        const nlohmann::json added = cni_add(ns, "bench-cluster-" + std::to_string(i));
        const std::string cidr = added.at("ips").at(0).at("address");
        const IpAddr addr = IpAddr::parse(cidr.substr(0, cidr.find('/')));
        while (!answers(client_ns_, addr, 5)) {
            if (std::chrono::steady_clock::now() - start > std::chrono::seconds(10))
                throw Error("cluster bed: the new container " + addr.str() + " on hb did not answer ha within 10 s");
        }
        out.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
    }
    return out;
}

std::vector<Sample> ClusterTestbed::program_times(const RxSink &sink, double seconds, int run)
{
    const ProgFd from_container = ProgFd::open_pinned(PinRoot(host_pin_root(1)), Program::TcEndpoint);
    const ProgFd from_uplink = ProgFd::open_pinned(PinRoot(host_pin_root(2)), Program::TcUplink);
    const RunTimeStats stats;
    const auto c0 = RunTimeStats::of(from_container.get()), u0 = RunTimeStats::of(from_uplink.get());
    const std::uint64_t delivered0 = sink.count();
    measure_packet_rate(flood_path(), sink, seconds);
    const auto c1 = RunTimeStats::of(from_container.get()), u1 = RunTimeStats::of(from_uplink.get());
    const double delivered = static_cast<double>(sink.count() - delivered0);
    const std::string name = cluster_bed_name(bed_);
    const auto sample = [&](const std::string &what, const RunTimeStats::Snapshot &a, const RunTimeStats::Snapshot &b) {
        const double runs = static_cast<double>(b.runs - a.runs);
        char note[64];
        std::snprintf(note, sizeof note, "%.2f runs per packet", runs / delivered);
        return Sample{kClusterProgramTime.id, name + " " + what, 1, run,
                      static_cast<double>(b.run_time_ns - a.run_time_ns) / delivered, note};
    };
    return {sample("from_container (ha)", c0, c1), sample("from_uplink (hb)", u0, u1)};
}

std::vector<Sample> measure_cluster(ClusterBed bed, const BenchBinaries &bins, int run, double seconds)
{
    ClusterTestbed tb(bed, bins);
    const std::string name = cluster_bed_name(bed);
    std::vector<Sample> out;
    out.push_back({kClusterThroughput.id, name, 1, run, iperf_gbits(tb.server_ns(), tb.client_ns(), tb.server_addr(), seconds), ""});
    out.push_back({kClusterLatencyP50.id, name, 1, run,
                   sockperf_latency(tb.server_ns(), tb.client_ns(), tb.server_addr(), seconds).p50_us, ""});
    out.push_back({kClusterConnectRate.id, name, 1, run, connect_rate(tb.server_ns(), tb.client_ns(), tb.server_addr(), seconds), ""});
    if (bed == ClusterBed::Flatpath) {
        const std::vector<double> delays = tb.route_delays(seconds < 1 ? 10 : 50);
        out.push_back({kClusterRouteP50.id, name, 1, run, percentile(delays, 0.5), ""});
        out.push_back({kClusterRouteP99.id, name, 1, run, percentile(delays, 0.99), ""});
    }
    if (tb.has_cni()) {
        const std::vector<double> delays = tb.container_delays(seconds < 1 ? 10 : 100);
        out.push_back({kClusterContainerP50.id, name, 1, run, percentile(delays, 0.5), ""});
        out.push_back({kClusterContainerP99.id, name, 1, run, percentile(delays, 0.99), ""});
    }
    // Last: it switches offloads and the receive path.
    const FloodPath path = tb.flood_path();
    const RxSink sink(tb.server_ns(), "eth0", kFloodPort, RxSink::Hook::TcIngress);
    prepare_receive_path(tb.lab(), path);
    const PacketRate rate = measure_packet_rate(path, sink, seconds);
    out.push_back({kClusterPacketRate.id, name, 1, run, rate.delivered_pps / 1e6,
                   rate.generator_bound ? "generator-bound (the datapath's CPU was busy less than 90%)" : ""});
    // A flood of its own: the statistics' clock reads must not slow the rate above.
    if (bed == ClusterBed::Flatpath || bed == ClusterBed::VxlanFlatpath) {
        const std::vector<Sample> times = tb.program_times(sink, seconds, run);
        out.insert(out.end(), times.begin(), times.end());
    }
    return out;
}

} // namespace fp::bench
