#include "cluster_table.hpp"

#include <algorithm>
#include <set>

#include "config_counts.hpp"
#include "datapath_lock.hpp"
#include "error.hpp"
#include "netlink.hpp"

namespace fp {

namespace {

fp_cluster_key key_of(const IpPrefix &p)
{
    return fp_cluster_key{static_cast<__u32>(p.len128()), p.network.raw()};
}

IpPrefix prefix_of(const fp_cluster_key &k)
{
    const IpAddr a = IpAddr::from_raw(k.addr);
    return IpPrefix::of(a, a.is_v4() ? static_cast<int>(k.prefixlen) - 96 : static_cast<int>(k.prefixlen));
}

bool no_peer(const fp_cluster_dest &d)
{
    return std::all_of(std::begin(d.peer.b), std::end(d.peer.b), [](std::uint8_t b) { return b == 0; });
}

RouteOptions cluster_route()
{
    RouteOptions o;
    o.protocol = kClusterRouteProtocol;
    return o;
}

} // namespace

void ClusterTable::recount()
{
    const auto n = static_cast<__u32>(maps_.cluster.entries().size());
    adjust_config(maps_, [n](fp_config &c) { c.cluster_dests = n; });
}

std::vector<std::string> ClusterTable::put_locked(Netlink &nl, const std::vector<Route> &routes, const PeerSubnet &peer)
{
    if (!peer.tunnel && peer.subnet.is_v4() != peer.peer.is_v4())
        return {"subnet " + peer.subnet.str() + ": its host's address " + peer.peer.str() + " is of the other family"};
    if (peer.tunnel && !peer.peer.is_v4())
        return {"subnet " + peer.subnet.str() + ": a vxlan peer's address must be IPv4, not " + peer.peer.str()};
    fp_cluster_dest dest{peer.peer.raw(), 0, 0, {}, {}};
    if (peer.tunnel) {
        dest.vni = peer.tunnel->vni;
        dest.tunnel_ifindex = peer.tunnel->ifindex;
        std::copy(peer.tunnel->peer_mac.bytes().begin(), peer.tunnel->peer_mac.bytes().end(), dest.peer_mac);
    }
    maps_.cluster.upsert(key_of(peer.subnet), dest);
    try {
        // A route of the same prefix that is not flatpath's (the operator's, a VPN's) is
        // left alone: replacing it would take its traffic away.
        for (const Route &r : routes)
            if (r.protocol != kClusterRouteProtocol && IpPrefix::of(r.dst, r.prefix_len) == peer.subnet)
                return {"subnet " + peer.subnet.str() + " of host " + peer.peer.str() +
                        ": the host has a route of its own to it (proto " + std::to_string(r.protocol) +
                        "), left as it is; flatpath does not route it"};
        if (!peer.tunnel) {
            nl.replace_gateway_route(peer.subnet.network, peer.subnet.len, peer.peer, cluster_route());
        } else {
            const auto dev = nl.link(peer.tunnel->ifindex);
            if (!dev)
                return {"subnet " + peer.subnet.str() + ": the tunnel device (ifindex " +
                        std::to_string(peer.tunnel->ifindex) + ") is gone"};
            nl.replace_fdb_entry(dev->name, peer.tunnel->peer_mac, peer.peer);
            nl.add_permanent_neighbour(dev->name, peer.subnet.network, peer.tunnel->peer_mac);
            nl.replace_onlink_route(peer.subnet.network, peer.subnet.len, peer.subnet.network, dev->name,
                                    cluster_route());
        }
    } catch (const Error &e) {
        return {e.what()};
    }
    return {};
}

void ClusterTable::remove_locked(Netlink &nl, const IpPrefix &subnet)
{
    const auto dest = maps_.cluster.lookup(key_of(subnet));
    maps_.cluster.erase(key_of(subnet));
    nl.delete_route(subnet.network, subnet.len, kClusterRouteProtocol);
    if (!dest || !dest->tunnel_ifindex)
        return;
    nl.delete_neighbour(dest->tunnel_ifindex, subnet.network);
    // The peer's other family's subnet goes through the same FDB entry.
    for (const auto &[key, other] : maps_.cluster.entries())
        if (other.tunnel_ifindex == dest->tunnel_ifindex &&
            std::equal(std::begin(other.peer_mac), std::end(other.peer_mac), dest->peer_mac))
            return;
    nl.delete_fdb_entry(dest->tunnel_ifindex, MacAddr::from(dest->peer_mac));
}

std::vector<std::string> ClusterTable::set(const ClusterPicture &picture)
{
    DatapathLock lock(root_);
    Netlink nl;
    const std::vector<Route> routes = nl.routes(); // as they were: the stale ones are among them
    std::set<IpPrefix> wanted;
    std::vector<std::string> problems;
    for (const IpPrefix &net : picture.networks) {
        maps_.cluster.upsert(key_of(net), fp_cluster_dest{});
        wanted.insert(net);
    }
    for (const PeerSubnet &p : picture.peers) {
        if (wanted.contains(p.subnet)) {
            problems.push_back("subnet " + p.subnet.str() + " is leased twice (or is a whole cluster network)");
            continue;
        }
        const auto more = put_locked(nl, routes, p);
        problems.insert(problems.end(), more.begin(), more.end());
        wanted.insert(p.subnet);
    }
    for (const auto &[key, dest] : maps_.cluster.entries())
        if (!wanted.contains(prefix_of(key)))
            remove_locked(nl, prefix_of(key));
    // Routes of ours for subnets no host has any more (also those a crash left behind).
    for (const Route &r : routes)
        if (r.protocol == kClusterRouteProtocol && !wanted.contains(IpPrefix::of(r.dst, r.prefix_len)))
            nl.delete_route(r.dst, r.prefix_len, kClusterRouteProtocol);
    recount();
    return problems;
}

std::vector<std::string> ClusterTable::put(const PeerSubnet &peer)
{
    DatapathLock lock(root_);
    Netlink nl;
    auto problems = put_locked(nl, nl.routes(), peer);
    recount();
    return problems;
}

void ClusterTable::remove(const IpPrefix &subnet)
{
    DatapathLock lock(root_);
    Netlink nl;
    remove_locked(nl, subnet);
    recount();
}

void ClusterTable::clear()
{
    set(ClusterPicture{});
}

ClusterPicture ClusterTable::list() const
{
    ClusterPicture out;
    for (const auto &[key, dest] : maps_.cluster.entries()) {
        if (no_peer(dest))
            out.networks.push_back(prefix_of(key));
        else if (!dest.tunnel_ifindex)
            out.peers.push_back({prefix_of(key), IpAddr::from_raw(dest.peer), std::nullopt});
        else
            out.peers.push_back({prefix_of(key), IpAddr::from_raw(dest.peer),
                                 Tunnel{dest.tunnel_ifindex, dest.vni, MacAddr::from(dest.peer_mac)}});
    }
    std::sort(out.networks.begin(), out.networks.end());
    std::sort(out.peers.begin(), out.peers.end(), [](const PeerSubnet &a, const PeerSubnet &b) { return a.subnet < b.subnet; });
    return out;
}

std::optional<IpAddr> ClusterTable::host_of(const IpAddr &addr) const
{
    const auto dest = maps_.cluster.lookup(fp_cluster_key{128, addr.raw()});
    if (!dest || no_peer(*dest))
        return std::nullopt;
    return IpAddr::from_raw(dest->peer);
}

} // namespace fp
