// What this host knows of the cluster, in the datapath and the host's routes: the
// cluster networks (never masqueraded) and each other host's subnet with the host that
// has it. host-gw: a subnet's route goes via its host's address, owned by flatpath
// (protocol kClusterRouteProtocol, so that `ip route` shows whose they are and nothing
// else's routes are touched). The cluster member sets the whole picture at once after
// each listing of etcd and changes single subnets as the watch reports them. vxlan, as
// Flannel lays it out: the subnet is routed via the peer's device address (its subnet's
// first address) onlink on the vxlan device, a permanent neighbour entry gives that
// address the peer's VtepMAC, and the device's FDB sends that MAC to the peer's public
// address. The datapath tunnels containers' packets itself (to the VtepMAC through the
// device); the routes carry what the stack sends (the host's own traffic, its answers to
// packets too big for the tunnel).
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "ip_prefix.hpp"
#include "mac_addr.hpp"
#include "map_set.hpp"
#include "netlink.hpp"
#include "pin_root.hpp"

namespace fp {

// `ip route` shows these routes with "proto 241".
inline constexpr std::uint8_t kClusterRouteProtocol = 241;

// vxlan: how a peer's subnet is reached through this host's tunnel device.
struct Tunnel {
    std::uint32_t ifindex = 0; // this host's vxlan device
    std::uint32_t vni = 0;
    MacAddr peer_mac;          // the peer's tunnel device (Flannel's VtepMAC)
    bool operator==(const Tunnel &) const = default;
};

struct PeerSubnet {
    IpPrefix subnet;
    IpAddr peer;                  // host-gw: the host's address of the subnet's family; vxlan: its IPv4 address
    std::optional<Tunnel> tunnel; // none: host-gw
    bool operator==(const PeerSubnet &) const = default;
};

struct ClusterPicture {
    std::vector<IpPrefix> networks; // the cluster network of each family
    std::vector<PeerSubnet> peers;  // the other hosts' subnets
};

class ClusterTable {
public:
    ClusterTable(const PinRoot &root, MapSet &maps) : root_(root), maps_(maps) {}

    // Makes the map and the routes say exactly `picture`: what is missing is added, what
    // differs is replaced, the rest (a host that left) removed. A route the kernel refuses
    // (no link to the peer yet) is reported in the returned list and its subnet is still
    // written to the map, so that packets to it are never masqueraded.
    std::vector<std::string> set(const ClusterPicture &picture);
    // One subnet added or changed (a watch event); problems as set's.
    std::vector<std::string> put(const PeerSubnet &peer);
    // One subnet gone.
    void remove(const IpPrefix &subnet);
    // Everything: the map's entries and flatpath's cluster routes (the daemon left the cluster).
    void clear();
    ClusterPicture list() const;
    // The host whose subnet addr is in, as the datapath sees it; none for an address
    // outside the cluster or in a part of it no host has.
    std::optional<IpAddr> host_of(const IpAddr &addr) const;

private:
    // routes: the host's routes, to leave a subnet alone that the host routes itself.
    std::vector<std::string> put_locked(Netlink &nl, const std::vector<Route> &routes, const PeerSubnet &peer);
    // The subnet's entry and route; vxlan: its neighbour entry, and the peer's FDB entry
    // once no subnet of the peer is left.
    void remove_locked(Netlink &nl, const IpPrefix &subnet);
    void recount();

    const PinRoot &root_;
    MapSet &maps_;
};

} // namespace fp
