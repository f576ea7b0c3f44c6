#include "config_counts.hpp"

namespace fp {

void adjust_config(MapSet &maps, const std::function<void(fp_config &)> &change)
{
    fp_config cfg = maps.config.lookup(0).value_or(fp_config{});
    change(cfg);
    maps.config.upsert(0, cfg);
}

void recount_config(MapSet &maps)
{
    fp_config cfg{};
    for (const auto &[key, v] : maps.dnat.entries()) {
        cfg.dnat_entries++;
        cfg.dnat_any += IpAddr::from_raw(key.addr).is_any() ? 1 : 0;
    }
    for (const auto &[key, v] : maps.ranges.entries()) {
        cfg.dnat_entries++;
        cfg.range_sets++;
        cfg.dnat_any += IpAddr::from_raw(key.addr).is_any() ? 1 : 0;
    }
    cfg.mark_rules = static_cast<__u32>(maps.marks.entries().size());
    maps.config.upsert(0, cfg);
}

} // namespace fp
