#include "local_addrs.hpp"

#include <set>

#include "netlink.hpp"

namespace fp {

std::vector<IpAddr> host_addresses()
{
    std::vector<IpAddr> out;
    for (const IpAddr &a : Netlink().addresses())
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
