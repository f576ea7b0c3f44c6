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

namespace fp::test {

// One device and the MACs on either end of it.
struct Dev {
    std::string name;
    std::uint32_t ifindex = 0;
    MacAddr mac;      // the device's own (host side)
    MacAddr peer_mac; // the other end's (the container's, for an endpoint)
};

// A veth pair in the current namespace, both ends up.
Dev make_veth(const std::string &name, const MacAddr &mac, const std::string &peer, const MacAddr &peer_mac);

// An endpoint on dev in counter slot `slot` with these addresses (the devmap entry too,
// unless it is a tun), and an uplink record.
void register_endpoint(MapSet &maps, const Dev &dev, std::uint32_t slot, fp_ep_kind kind,
                       const std::vector<IpAddr> &addrs);
void register_uplink(MapSet &maps, const Dev &dev);

} // namespace fp::test
