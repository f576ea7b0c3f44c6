#include "tuntap.hpp"

#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "command.hpp"
#include "error.hpp"
#include "netdev.hpp"
#include "netns_scope.hpp"
#include "packet.hpp"
#include "rx_sink.hpp"
#include "topology.hpp"
#include "traffic_metrics.hpp"

namespace fp::bench {

namespace {

const MacAddr kPeerMac = MacAddr::parse("02:fe:00:00:00:02");
// The bench's services on the container, each published in the vpn beds.
const std::vector<std::pair<const char *, std::uint16_t>> kServices = {
    {"udp", kFloodPort}, {"tcp", kThroughputPort}, {"udp", kPingPongPort}};

bool is_tap(TunTapBed b)
{
    return b == TunTapBed::TapRelay || b == TunTapBed::TapRoute || b == TunTapBed::TapFlatpath;
}

bool is_flatpath(TunTapBed b)
{
    return b == TunTapBed::TapFlatpath || b == TunTapBed::TunFlatpath || b == TunTapBed::VpnFlatpath;
}

MacAddr mac_of(const std::string &netns, const std::string &dev)
{
    NetnsScope in(netns);
    return NetDev::by_name(dev).mac;
}

} // namespace

const char *tuntap_name(TunTapBed b)
{
    switch (b) {
    case TunTapBed::TapRelay: return "tap relay";
    case TunTapBed::TapRoute: return "tap route";
    case TunTapBed::TapFlatpath: return "tap flatpath";
    case TunTapBed::TunRoute: return "tun route";
    case TunTapBed::TunFlatpath: return "tun flatpath";
    case TunTapBed::VpnIptables: return "vpn iptables";
    case TunTapBed::VpnFlatpath: return "vpn flatpath";
    }
    return "?";
}

TunTapTestbed::TunTapTestbed(TunTapBed bed, const BenchBinaries &bins)
    : bed_(bed), lab_(std::make_unique<Lab>("t")), flatpath_bin_(bins.flatpath)
{
    host_ns_ = lab_->add_netns("host");
    lab_->in(host_ns_, {"sysctl", "-qw", "net.ipv4.ip_forward=1"});
    switch (bed) {
    case TunTapBed::TapRelay:
        build_peer(TunMode::Tap, "vm", "vmtap0", "10.95.0.2/24", "");
        build_relayed_container();
        break;
    case TunTapBed::TapRoute:
    case TunTapBed::TapFlatpath:
        build_peer(TunMode::Tap, "vm", "vmtap0", "10.95.1.2/24", "10.95.1.1/24");
        build_veth_container();
        break;
    case TunTapBed::TunRoute:
    case TunTapBed::TunFlatpath:
        build_peer(TunMode::Tun, "sandbox", "sbtun0", "10.96.0.2/32", "");
        lab_->in(host_ns_, {"ip", "route", "add", "10.96.0.2/32", "dev", host_side_->name()});
        build_veth_container();
        break;
    case TunTapBed::VpnIptables:
    case TunTapBed::VpnFlatpath:
        build_peer(TunMode::Tun, "vpn", "vpn0", "10.97.0.2/24", "10.97.0.1/24");
        build_veth_container();
        target_ = IpAddr::parse("10.97.0.1");
        break;
    }
    if (bed == TunTapBed::VpnIptables) {
        for (const auto &[proto, port] : kServices)
            lab_->in(host_ns_, {"iptables", "-t", "nat", "-A", "PREROUTING", "-i", host_side_->name(), "-d",
                                target_.str(), "-p", proto, "--dport", std::to_string(port), "-j", "DNAT",
                                "--to-destination", "10.91.0.11:" + std::to_string(port)});
    }
}

// The peer namespace `name`, its only interface (eth0, a tap, or tun0), the host's side of it
// (host_dev) and the relay between them. host_cidr: the host side's address, the peer's
// gateway ("" for none).
void TunTapTestbed::build_peer(TunMode mode, const std::string &name, const std::string &host_dev,
                               const std::string &peer_cidr, const std::string &host_cidr)
{
    const bool tap = mode == TunMode::Tap;
    peer_ns_ = lab_->add_netns(name);
    const std::string peer_dev = tap ? "eth0" : "tun0";
    devices_.push_back(std::make_unique<TunDevice>(peer_ns_, peer_dev, mode));
    const TunDevice &peer = *devices_.back();
    devices_.push_back(std::make_unique<TunDevice>(host_ns_, host_dev, mode));
    host_side_ = devices_.back().get();
    peer_addr_ = IpAddr::parse(peer_cidr.substr(0, peer_cidr.find('/')));
    if (tap)
        lab_->in(peer_ns_, {"ip", "link", "set", peer_dev, "address", kPeerMac.str()});
    lab_->in(peer_ns_, {"ip", "addr", "add", peer_cidr, "dev", peer_dev});
    lab_->in(peer_ns_, {"ip", "link", "set", peer_dev, "up"});
    lab_->in(host_ns_, {"ip", "link", "set", host_dev, "up"});
    if (tap)
        writer_dst_mac_ = mac_of(host_ns_, host_dev);
    if (!host_cidr.empty()) {
        const std::string gateway = host_cidr.substr(0, host_cidr.find('/'));
        lab_->in(host_ns_, {"ip", "addr", "add", host_cidr, "dev", host_dev});
        // Permanent neighbours: no ARP inside a timed run.
        if (tap) {
            lab_->in(host_ns_, {"ip", "neigh", "add", peer_addr_.str(), "lladdr", kPeerMac.str(), "dev", host_dev, "nud",
                                "permanent"});
            lab_->in(peer_ns_, {"ip", "neigh", "add", gateway, "lladdr", writer_dst_mac_.str(), "dev", peer_dev, "nud",
                                "permanent"});
        }
        lab_->in(peer_ns_, {"ip", "route", "add", "default", "via", gateway});
    } else if (!tap) {
        lab_->in(peer_ns_, {"ip", "route", "add", "default", "dev", peer_dev});
    }
    relays_.push_back(std::make_unique<FrameRelay>(peer.fd(), host_side_->fd())); // the VM monitor, the stack
}

// A routed veth container (the demo's c1, 10.91.0.11), a flatpath endpoint in the flatpath
// beds with the peer's device beside it.
void TunTapTestbed::build_veth_container()
{
    const Container c = add_routed_container(*lab_, host_ns_, "c1", 1, {});
    container_ns_ = c.ns;
    target_ = c.v4;
    if (!is_flatpath(bed_))
        return;
    const bool vpn = bed_ == TunTapBed::VpnFlatpath;
    flatpath(vpn ? std::vector<std::string>{"up", "--uplink", host_side_->name()} : std::vector<std::string>{"up"});
    flatpath({"endpoint", "add", c.v4.str(), "--dev", c.host_if, "--mac", c.mac.str()});
    if (vpn) {
        for (const auto &[proto, port] : kServices)
            flatpath({"dnat", "add", proto, std::to_string(port), c.v4.str(), "--host-ip", "10.97.0.1"});
    } else if (is_tap(bed_)) {
        flatpath({"endpoint", "add", peer_addr_.str(), "--dev", host_side_->name(), "--mac", kPeerMac.str()});
    } else {
        flatpath({"endpoint", "add", peer_addr_.str(), "--dev", host_side_->name()});
    }
}

// The container behind the tools' relay: its only interface a tap (eth0, 10.95.0.3) whose
// frames a userspace relay carries over a unix socket pair to a host tap on the VM's bridge.
void TunTapTestbed::build_relayed_container()
{
    container_ns_ = lab_->add_netns("ctr");
    devices_.push_back(std::make_unique<TunDevice>(container_ns_, "eth0", TunMode::Tap));
    const TunDevice &inside = *devices_.back();
    devices_.push_back(std::make_unique<TunDevice>(host_ns_, "ctap0", TunMode::Tap));
    const TunDevice &port = *devices_.back();
    target_ = IpAddr::parse("10.95.0.3");
    lab_->in(container_ns_, {"ip", "addr", "add", "10.95.0.3/24", "dev", "eth0"});
    lab_->in(container_ns_, {"ip", "link", "set", "eth0", "up"});
    lab_->in(host_ns_, {"ip", "link", "add", "br0", "type", "bridge"});
    for (const char *dev : {"vmtap0", "ctap0"})
        lab_->in(host_ns_, {"ip", "link", "set", dev, "master", "br0"});
    for (const char *dev : {"br0", "ctap0"})
        lab_->in(host_ns_, {"ip", "link", "set", dev, "up"});
    writer_dst_mac_ = mac_of(container_ns_, "eth0"); // the writer's frames go to the container
    lab_->in(peer_ns_, {"ip", "neigh", "add", "10.95.0.3", "lladdr", writer_dst_mac_.str(), "dev", "eth0", "nud",
                        "permanent"});
    lab_->in(container_ns_, {"ip", "neigh", "add", peer_addr_.str(), "lladdr", kPeerMac.str(), "dev", "eth0", "nud",
                             "permanent"});
    int pair[2];
    if (::socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, pair) != 0)
        throw_errno("make the relay's unix socket pair", errno);
    unix_pair_[0].reset(pair[0]);
    unix_pair_[1].reset(pair[1]);
    relays_.push_back(std::make_unique<FrameRelay>(inside.fd(), unix_pair_[0].get()));
    relays_.push_back(std::make_unique<FrameRelay>(unix_pair_[1].get(), port.fd()));
}

void TunTapTestbed::flatpath(const std::vector<std::string> &args) const
{
    std::vector<std::string> argv = {"ip", "netns", "exec", host_ns_, flatpath_bin_, "--pin-root", lab_->pin_root()};
    argv.insert(argv.end(), args.begin(), args.end());
    run_checked(argv);
}

double TunTapTestbed::packet_rate(double seconds)
{
    const RxSink sink(container_ns_, "eth0", kFloodPort, RxSink::Hook::TcIngress);
    Packet p;
    p.src = peer_addr_;
    p.dst = target_;
    p.dport = kFloodPort;
    p.payload = 18; // a 60-byte frame: 64 on a wire
    p.src_mac = kPeerMac;
    p.dst_mac = writer_dst_mac_;
    Bytes packet = p.bytes();
    if (!is_tap(bed_))
        packet.erase(packet.begin(), packet.begin() + 14);
    const std::uint64_t before = sink.count();
    const auto start = std::chrono::steady_clock::now();
    const auto until = start + std::chrono::duration<double>(seconds);
    while (std::chrono::steady_clock::now() < until)
        for (int i = 0; i < 256; ++i)
            host_side_->write_packet(packet);
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::this_thread::sleep_for(std::chrono::milliseconds(100)); // what the relays still carry
    return static_cast<double>(sink.count() - before) / elapsed;
}

std::vector<Sample> measure_tuntap(TunTapBed bed, const BenchBinaries &bins, int run, double seconds)
{
    TunTapTestbed tb(bed, bins);
    const std::string name = tuntap_name(bed);
    std::vector<Sample> out;
    out.push_back({kTunTapThroughput.id, name, 1, run, iperf_gbits(tb.container_ns(), tb.peer_ns(), tb.target(), seconds), ""});
    out.push_back({kTunTapLatencyP50.id, name, 1, run,
                   sockperf_latency(tb.container_ns(), tb.peer_ns(), tb.target(), seconds).p50_us, ""});
    out.push_back({kTunTapRate.id, name, 1, run, tb.packet_rate(seconds) / 1e6, ""});
    return out;
}

} // namespace fp::bench
