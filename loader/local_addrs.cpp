#include "local_addrs.hpp"

#include <arpa/inet.h>
#include <netlink/route/addr.h>

#include <cstring>
#include <memory>
#include <set>

#include "error.hpp"

namespace fp {

std::vector<IpAddr> addresses_over(nl_sock *sock)
{
    nl_cache *raw = nullptr;
    if (rtnl_addr_alloc_cache(sock, &raw) != 0)
        throw Error("cannot list addresses over netlink");
    std::unique_ptr<nl_cache, void (*)(nl_cache *)> cache(raw, nl_cache_free);

    std::vector<IpAddr> out;
    for (nl_object *o = nl_cache_get_first(cache.get()); o; o = nl_cache_get_next(o)) {
        nl_addr *local = rtnl_addr_get_local(reinterpret_cast<rtnl_addr *>(o));
        if (!local)
            continue;
        char buf[INET6_ADDRSTRLEN] = {};
        const int family = nl_addr_get_family(local);
        if ((family != AF_INET && family != AF_INET6) ||
            !inet_ntop(family, nl_addr_get_binary_addr(local), buf, sizeof buf))
            continue;
        out.push_back(IpAddr::parse(buf));
    }
    return out;
}

std::vector<IpAddr> host_addresses()
{
    std::unique_ptr<nl_sock, void (*)(nl_sock *)> sock(nl_socket_alloc(), nl_socket_free);
    if (!sock || nl_connect(sock.get(), NETLINK_ROUTE) != 0)
        throw Error("cannot open a netlink route socket");
    std::vector<IpAddr> out;
    for (const IpAddr &a : addresses_over(sock.get()))
        // A container cannot answer 127.0.0.1 or ::1: those would be its own loopback.
        if (!(a.is_v4() ? a.raw().b[12] == 127 : a == IpAddr::parse("::1")))
            out.push_back(a);
    return out;
}

void sync_local_addrs(MapSet &maps)
{
    const std::vector<IpAddr> now = host_addresses();
    const std::set<IpAddr> wanted(now.begin(), now.end());
    for (const auto &[key, v] : maps.local_addrs.entries())
        if (!wanted.count(IpAddr::from_raw(key.addr)))
            maps.local_addrs.erase(key);
    for (const IpAddr &a : wanted)
        maps.local_addrs.upsert(fp_local_addr_key{a.raw()}, 1);
}

} // namespace fp
