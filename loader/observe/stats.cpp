#include "stats.hpp"

#include <map>

#include "counters.hpp"
#include "endpoints.hpp"

namespace fp {

std::vector<DeviceStats> device_stats(const PinRoot &root, MapSet &maps)
{
    std::map<std::uint32_t, DeviceStats> by_slot;
    for (const EndpointRow &r : Endpoints(root, maps).list()) {
        by_slot.try_emplace(r.slot, DeviceStats{r.dev, {}, r.counters}).first->second.addresses.push_back(r.addr.str());
    }
    std::vector<DeviceStats> out;
    for (auto &[slot, d] : by_slot)
        out.push_back(std::move(d));
    return out;
}

std::vector<ReasonStats> reason_stats(MapSet &maps)
{
    std::vector<ReasonStats> out;
    for (unsigned hook = 0; hook < FP_HOOK_MAX; ++hook)
        for (unsigned reason = 1; reason < FP_REASON_MAX; ++reason)
            if (!reason_name(reason).empty())
                out.push_back({hook, reason, sum_per_cpu(maps.reasons.per_cpu(reason_index(hook, reason)))});
    return out;
}

} // namespace fp
