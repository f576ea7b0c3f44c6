// The devices and map records the BPF program tests and the bench run the
// production programs against: real veths (so the kernel's test runs see real
// ifindexes and MACs) and endpoint records written as the loader writes them.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ip_addr.hpp"
#include "mac_addr.hpp"
#include "map_set.hpp"
#include "packet.hpp"
#include "prog_run.hpp"

namespace fp::test {

// One device and the MACs on either end of it.
struct Dev {
    std::string name;
    std::uint32_t ifindex = 0;
    MacAddr mac;      // the device's own (host side)
    MacAddr peer_mac; // the other end's (the container's, for an endpoint)
};

// The devices of the programs' world: endpoint devices h1 and h2 (container ends p1, p2),
// uplink up0 (LAN end lan0), and a tun device.
struct ProgDevices {
    Dev h1, h2, up0, tun0;
};

// Moves this process into a network namespace of its own (it vanishes with the process)
// and builds the devices there, with the routes a host forwarding for its containers has,
// so that translated replies are routed in BPF (bpf_fib_lookup) as the host would: the
// LAN 10.99.0.0/24 and fd99::/64 behind up0 (the host is .1 and ::1 there), one client
// (10.99.0.5, fd99::5) with a known neighbour, forwarding on, nothing else routed.
ProgDevices enter_prog_world();

// The LAN behind up0 as enter_prog_world builds it, in the current namespace: the host's
// addresses, the client's neighbour entries, forwarding on.
void add_lan(const Dev &up0);

// Device dev's MTU set to mtu for the scope, and back to the default 1500 after it, pass or fail.
class ScopedMtu {
public:
    ScopedMtu(std::string dev, unsigned mtu);
    ScopedMtu(const ScopedMtu &) = delete;
    ScopedMtu &operator=(const ScopedMtu &) = delete;
    ~ScopedMtu();

private:
    std::string dev_;
};

// A route of the prog world ("10.1.17.0/24 via 10.99.0.5") for as long as it lives.
class ScopedRoute {
public:
    ScopedRoute(std::string prefix, const std::string &via);
    ScopedRoute(const ScopedRoute &) = delete;
    ScopedRoute &operator=(const ScopedRoute &) = delete;
    ~ScopedRoute();

private:
    std::string prefix_;
};

// A veth pair in the current namespace, both ends up.
Dev make_veth(const std::string &name, const MacAddr &mac, const std::string &peer, const MacAddr &peer_mac);

// An endpoint on dev in counter slot `slot` with these addresses (the devmap entry too,
// unless it is a tun), and an uplink record.
void register_endpoint(MapSet &maps, const Dev &dev, std::uint32_t slot, fp_ep_kind kind,
                       const std::vector<IpAddr> &addrs);
void register_uplink(MapSet &maps, const Dev &dev);

} // namespace fp::test
