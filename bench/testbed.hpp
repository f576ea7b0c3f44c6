// The configurations the bench compares, each built from scratch in namespaces of
// its own Lab and removed with it (the destructor runs also when a run fails):
//
//   B0     client lan0 <------------------------------------> eth0 container
//          a veth pair: the floor for crossing namespaces
//   B-min  client lan0 <-> uplink0 host fpc1 <-> eth0 container
//          F's topology with the bench's floor programs (floor_path.hpp): every
//          frame redirected with no lookup; the floor of F's path
//   B1     client lan0 <-> uplink0 host br0 <-> veth <-> eth0 container
//          Podman's default network: a Linux bridge, the host routing, iptables DNAT
//          in the portmap plugin's layout and mangle MARK rules
//   F-tc   client lan0 <-> uplink0 host fpc1 <-> eth0 container
//          flatpath's routed mode with tc programs only (up --xdp-mode off)
//   F-xdp  F-tc plus xdp_uplink on the uplink
//
// And what users run, made by real Podman (4.3.1) in the host namespace, each with the
// same two containers (c1 publishes the bench's ports with -p, c2 is its neighbour):
//   P-cni       client lan0 <-> uplink0 host cni-podman1 <-> veth <-> eth0 c1, c2
//               `podman network create` with the CNI backend: bridge + portmap +
//               firewall + tuning plugins, iptables DNAT and masquerade
//   P-netavark  the same network made by Podman's netavark backend (iptables rules of
//               netavark's own, aardvark-dns)
//   P-flatpath  client lan0 <-> uplink0 host fp... <-> eth0 c1, c2
//               `flatpath network create --uplink uplink0`: flatpath-cni, routed
// The bench's servers run in the containers' network namespaces (the root filesystem
// is busybox: the network path is what is measured, and it is the containers').
//
// In B1, F and P the client reaches the container through ports published on the
// host's address; in B0 and B-min it talks to the container's own address. With N entries,
// N-1 published ports and mark rules for other containers sit beside the ones under
// test (in B1's chains: ahead of them, where every walk meets them first).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "floor_path.hpp"
#include "ip_addr.hpp"
#include "lab.hpp"
#include "mac_addr.hpp"
#include "podman_sandbox.hpp"

namespace fp::bench {

enum class Config { B0, BMin, B1, FTc, FXdp, PCni, PNetavark, PFlatpath };
const char *config_name(Config c);
bool is_flatpath(Config c);  // flatpath's programs carry the traffic (F-tc, F-xdp, P-flatpath)
bool is_podman(Config c);    // made by Podman: measured with N = 1 only (no filler entries)

// The container's services (the same port on the host where one is published).
inline constexpr std::uint16_t kFloodPort = 9000;     // udp: packet rate, counted by the sink
inline constexpr std::uint16_t kThroughputPort = 5201; // tcp: iperf3
inline constexpr std::uint16_t kPingPongPort = 11111;  // udp: sockperf
inline constexpr std::uint16_t kConnectPort = 7000;    // tcp: connection rate

struct BenchBinaries {
    std::string flatpath;
    std::string flatpath_cni;
};

class Testbed {
public:
    Testbed(Config config, std::uint32_t entries, const BenchBinaries &bins);
    Testbed(const Testbed &) = delete;
    Testbed &operator=(const Testbed &) = delete;

    Config config() const { return config_; }
    std::uint32_t entries() const { return entries_; }
    Lab &lab() { return *lab_; }
    const std::string &client_ns() const { return client_ns_; }
    const std::string &host_ns() const { return host_ns_; } // empty in B0
    const std::string &container_ns() const { return container_ns_; }
    const IpAddr &client_addr() const { return client_addr_; }
    const IpAddr &container_addr() const { return container_addr_; }
    // Where the client sends: the host's address (B1, F) or the container's (B0, B-min).
    const IpAddr &target() const { return target_; }
    // The host publishes the container's ports, also on 127.0.0.1 (B1, F, P).
    bool publishes_ports() const { return config_ == Config::B1 || is_flatpath(config_) || is_podman(config_); }
    // The container's neighbour on the same network (P only; empty elsewhere).
    const std::string &neighbour_ns() const { return neighbour_ns_; }
    // B-min's programs; null in the others.
    const FloorPath *floor() const { return floor_.get(); }
    // The destination MAC of the client's frames (the device at the other end of lan0).
    const MacAddr &next_hop_mac() const { return next_hop_mac_; }
    const MacAddr &client_mac() const { return client_mac_; }
    // The namespace and device whose receive path (NAPI) carries the client's packets in:
    // the uplink, or in B0 the container's eth0.
    const std::string &rx_ns() const { return host_ns_.empty() ? container_ns_ : host_ns_; }
    std::string rx_dev() const { return host_ns_.empty() ? "eth0" : "uplink0"; }
    std::string client_dev() const { return "lan0"; }

private:
    void build_b0();
    void build_lan_and_host();
    void build_bmin();
    void build_b1();
    void build_flatpath(bool xdp, const BenchBinaries &bins);
    void build_podman(const BenchBinaries &bins);

    Config config_;
    std::uint32_t entries_;
    std::unique_ptr<Lab> lab_;
    std::unique_ptr<FloorPath> floor_; // after lab_: destroyed before the namespaces
    std::unique_ptr<PodmanSandbox> podman_; // after lab_: containers removed before the namespaces
    std::string client_ns_, host_ns_, container_ns_, neighbour_ns_;
    IpAddr client_addr_, target_, container_addr_;
    MacAddr client_mac_ = MacAddr::parse("02:fb:00:00:00:02");
    MacAddr next_hop_mac_ = MacAddr::parse("02:fb:00:00:00:01");
};

} // namespace fp::bench
