#include "stale_endpoints.hpp"

#include <algorithm>
#include <map>
#include <optional>

#include "dnat_table.hpp"
#include "endpoints.hpp"
#include "error.hpp"
#include "netdev.hpp"

namespace fp {

namespace {

// Whether ep's host-side device is gone: no device has its ifindex with its MAC.
bool device_gone(const fp_endpoint &ep, const std::optional<MacAddr> &present_mac)
{
    return ep.kind != FP_EP_REMOTE && (!present_mac || *present_mac != MacAddr::from(ep.host_mac));
}

// Removes the stale endpoints, their DNAT entries and flows.
std::vector<IpAddr> reclaim(const PinRoot &root, MapSet &maps, std::vector<IpAddr> stale)
{
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

} // namespace

std::vector<IpAddr> reclaim_stale_endpoints(const PinRoot &root, MapSet &maps)
{
    std::map<std::uint32_t, MacAddr> present; // one netlink dump, not a query per endpoint
    for (const NetDev &d : NetDev::all())
        present[d.ifindex] = d.mac;
    std::vector<IpAddr> stale;
    for (const auto &[key, ep] : maps.endpoints.entries()) {
        const auto dev = present.find(ep.ifindex);
        if (device_gone(ep, dev == present.end() ? std::nullopt : std::optional(dev->second)))
            stale.push_back(IpAddr::from_raw(key.addr));
    }
    return reclaim(root, maps, std::move(stale));
}

std::vector<IpAddr> reclaim_stale_endpoints_at(const PinRoot &root, MapSet &maps, const std::vector<IpAddr> &addrs)
{
    std::vector<IpAddr> stale;
    for (const IpAddr &a : addrs) {
        const auto ep = maps.endpoints.lookup(endpoint_key(a));
        if (!ep || std::find(stale.begin(), stale.end(), a) != stale.end())
            continue;
        const auto dev = NetDev::by_index(ep->ifindex);
        if (device_gone(*ep, dev ? std::optional(dev->mac) : std::nullopt))
            stale.push_back(a);
    }
    return reclaim(root, maps, std::move(stale));
}

} // namespace fp
