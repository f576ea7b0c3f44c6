#include "endpoint_prefixes.hpp"

#include <vector>

namespace fp {

void mark_endpoint_prefix(MapSet &maps, const IpAddr &addr)
{
    const fp_addr raw = addr.raw();
    maps.ep_prefixes.upsert(fp_ep_prefix_bucket(&raw), 1);
}

void rebuild_endpoint_prefixes(MapSet &maps)
{
    std::vector<bool> wanted(FP_EP_PREFIX_BUCKETS);
    for (const auto &[key, ep] : maps.endpoints.entries())
        wanted[fp_ep_prefix_bucket(&key.addr)] = true;
    for (const auto &[bucket, set] : maps.ep_prefixes.entries())
        if (wanted[bucket] != (set != 0))
            maps.ep_prefixes.upsert(bucket, wanted[bucket] ? 1 : 0);
}

} // namespace fp
