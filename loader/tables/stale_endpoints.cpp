#include "stale_endpoints.hpp"

#include <map>

#include "dnat_table.hpp"
#include "endpoints.hpp"
#include "error.hpp"
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
    // A concurrent DEL may take the same dead entries away first: an error counts only
    // when what it was about is still there.
    DnatTable(root, maps).remove_to(stale);
    for (const IpAddr &a : stale) {
        try {
            Endpoints(root, maps).remove(a);
        } catch (const Error &) {
            if (maps.endpoints.lookup(endpoint_key(a)))
                throw;
        }
    }
    return stale;
}

} // namespace fp
