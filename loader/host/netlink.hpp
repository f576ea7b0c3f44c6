// The one netlink wrapper: links, addresses, routes, rules and neighbours over
// rtnetlink (libnl), in the current network namespace or in a container's. A socket
// opened inside a namespace stays bound to it, so no caller switches its own
// namespace. Failures throw fp::Error naming the object and netlink's reason.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ip_addr.hpp"
#include "mac_addr.hpp"
#include "netdev.hpp"
#include "unique_fd.hpp"

struct nl_sock;

namespace fp {

// Where a route goes and how it is preferred.
struct RouteOptions {
    std::uint32_t table = 254; // RT_TABLE_MAIN
    std::uint32_t metric = 0;
    bool onlink = false; // the gateway is on the link, whatever the table says
    std::uint8_t protocol = 3; // RTPROT_BOOT; a program's own number marks the routes it owns
};

// A vxlan device as Flannel makes one: one VNI, the host's own address as the tunnel's
// source, no learning (the remote ends come from FDB entries).
struct VxlanSpec {
    std::uint32_t vni = 0;
    std::uint16_t port = 0;
    IpAddr local; // IPv4
    std::uint32_t mtu = 0;
};

// A route of the main table (what `ip route` lists).
struct Route {
    IpAddr dst;
    int prefix_len = 0; // 0: a default route
    std::uint32_t ifindex = 0;
    std::optional<IpAddr> gateway;
    std::uint8_t protocol = 0;
};

class Netlink {
public:
    // netns_path empty: the current namespace.
    explicit Netlink(const std::string &netns_path = "");
    Netlink(const Netlink &) = delete;
    Netlink &operator=(const Netlink &) = delete;
    ~Netlink();

    std::optional<NetDev> link(const std::string &name) const;
    std::optional<NetDev> link(std::uint32_t ifindex) const;
    std::vector<NetDev> links() const;
    bool link_exists(const std::string &name) const { return link(name).has_value(); }
    std::optional<MacAddr> link_mac(const std::string &name) const;
    std::optional<std::uint32_t> link_index(const std::string &name) const;
    // Every IPv4 and IPv6 address of every interface of the namespace (of one, when
    // ifindex is given), in the kernel's order (a device's primary address first).
    std::vector<IpAddr> addresses(std::uint32_t ifindex = 0) const;
    // Every IPv4 and IPv6 unicast route of the main table.
    std::vector<Route> routes() const;

    // A veth pair: `name` here, `peer` in the namespace at peer_netns_path (atomically).
    void create_veth(const std::string &name, const std::string &peer, const std::string &peer_netns_path,
                     std::uint32_t mtu, const std::optional<MacAddr> &peer_mac);
    void set_up(const std::string &name);
    // Creates a Linux bridge unless a link of that name exists; returns whether it did.
    bool ensure_bridge(const std::string &name);
    // Creates the vxlan device unless a link of that name is one with that VNI, port and
    // source (another one of the name is replaced); returns whether it made one.
    bool ensure_vxlan(const std::string &name, const VxlanSpec &spec);
    void set_master(const std::string &dev, const std::string &master);
    // Adds the address unless the device has it; returns whether it did.
    bool ensure_address(const std::string &dev, const IpAddr &addr, int prefix_len);
    void delete_address(const std::string &dev, const IpAddr &addr, int prefix_len);
    // Deleting either end of a veth deletes both; returns false when it was not there.
    bool delete_link(const std::string &name);
    void add_address(const std::string &dev, const IpAddr &addr, int prefix_len);
    // A route to dst/prefix_len on dev, through gateway if given, else on-link.
    void add_route(const std::string &dev, const IpAddr &dst, int prefix_len, const std::optional<IpAddr> &gateway,
                   const RouteOptions &opts = {});
    // ip route replace dst/prefix_len via gateway (the device is the one the gateway is on).
    void replace_gateway_route(const IpAddr &dst, int prefix_len, const IpAddr &gateway, const RouteOptions &opts);
    // ip route replace dst/prefix_len via gateway dev dev onlink.
    void replace_onlink_route(const IpAddr &dst, int prefix_len, const IpAddr &gateway, const std::string &dev,
                              const RouteOptions &opts);
    // Removes the main table's route to dst/prefix_len of that protocol; false when there is none.
    bool delete_route(const IpAddr &dst, int prefix_len, std::uint8_t protocol);
    // ip rule add from ADDR/32 (or /128) lookup table priority priority.
    void add_source_rule(const IpAddr &from, std::uint32_t table, std::uint32_t priority);
    // Removes that rule (whatever its table); returns false when it was not there.
    bool delete_source_rule(const IpAddr &from, std::uint32_t priority);
    void add_permanent_neighbour(const std::string &dev, const IpAddr &addr, const MacAddr &mac);
    // Removes the (not proxy) neighbour entry for addr on ifindex; false when there is none.
    bool delete_neighbour(std::uint32_t ifindex, const IpAddr &addr);
    // bridge fdb replace MAC dev DEV dst REMOTE self permanent: a vxlan device sends frames
    // for mac to remote.
    void replace_fdb_entry(const std::string &dev, const MacAddr &mac, const IpAddr &remote);
    // Removes the FDB entry for mac on ifindex; false when there is none.
    bool delete_fdb_entry(std::uint32_t ifindex, const MacAddr &mac);
    // ip neigh add proxy ADDR dev DEV: the kernel answers ARP (IPv6: neighbour solicitations,
    // with proxy_ndp on) for addr on dev when it routes addr elsewhere. An entry already
    // there is kept (the kernel does not tell the two apart).
    void add_proxy_neighbour(const std::string &dev, const IpAddr &addr);
    // Removes that entry; false when it was not there.
    bool delete_proxy_neighbour(const std::string &dev, const IpAddr &addr);
    // GRO on: a veth receiving XDP-redirected frames drops them without it (or an XDP program).
    void enable_gro(const std::string &dev);

private:
    int add_address_once(const std::string &dev, const IpAddr &addr, int prefix_len); // 0 or -NLE_*

    nl_sock *sock_ = nullptr;
    UniqueFd ioctl_fd_; // an AF_INET socket in the same namespace, for ethtool
};

} // namespace fp
