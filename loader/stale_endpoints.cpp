#include "stale_endpoints.hpp"

#include <algorithm>
#include <map>

#include "dnat_table.hpp"
#include "endpoints.hpp"
#include "netdev.hpp"

namespace fp {

std::vector<IpAddr> reclaim_stale_endpoints(const PinRoot &root, MapSet &maps)
{
    std::map<std::uint32_t, MacAddr> present; // one netlink dump, not a query per endpoint
    for (const NetDev &d : NetDev::all())
        present[d.ifindex] = d.mac;
    std::vector<IpAddr> stale;
    for (const auto &[key, ep] : maps.endpoints.entries()) {
        if (ep.kind == FP_EP_REMOTE)
            continue;
        const auto dev = present.find(ep.ifindex);
        if (dev == present.end() || dev->second != MacAddr::from(ep.host_mac))
            stale.push_back(IpAddr::from_raw(key.addr));
    }
    if (stale.empty())
        return stale;
    DnatTable dnat(root, maps);
    for (const DnatRule &r : dnat.list())
        if (std::find(stale.begin(), stale.end(), r.backend) != stale.end())
            dnat.remove(r.host, r.proto, r.ports);
    for (const IpAddr &a : stale)
        Endpoints(root, maps).remove(a);
    return stale;
}

} // namespace fp
