#include "config_counts.hpp"

#include <charconv>

#include "error.hpp"

namespace fp {

void adjust_config(MapSet &maps, const std::function<void(fp_config &)> &change)
{
    fp_config cfg = maps.config.lookup(0).value_or(fp_config{});
    change(cfg);
    cfg.generation++;
    maps.config.upsert(0, cfg);
}

void advance_generation(MapSet &maps)
{
    adjust_config(maps, [](fp_config &) {});
}

void recount_config(MapSet &maps)
{
    const fp_config old = maps.config.lookup(0).value_or(fp_config{});
    fp_config cfg{};
    // Settings, not counts: kept (a fresh datapath gets the default range).
    cfg.masq_port_min = old.masq_port_min ? old.masq_port_min : FP_MASQ_PORT_MIN_DEFAULT;
    cfg.masq_port_max = old.masq_port_max ? old.masq_port_max : FP_MASQ_PORT_MAX_DEFAULT;
    cfg.generation = old.generation + 1;
    for (const auto &[key, v] : maps.dnat.entries()) {
        cfg.dnat_entries++;
        cfg.dnat_any += IpAddr::from_raw(key.addr).is_any() ? 1 : 0;
    }
    for (const auto &[key, v] : maps.ranges.entries()) {
        cfg.dnat_entries++;
        cfg.range_sets++;
        cfg.dnat_any += IpAddr::from_raw(key.addr).is_any() ? 1 : 0;
    }
    for (const auto &[key, v] : maps.marks.entries())
        count_mark_rule(cfg, key, 1);
    cfg.masq_rules = static_cast<__u32>(maps.masq.entries().size());
    cfg.cluster_dests = static_cast<__u32>(maps.cluster.entries().size());
    cfg.policies = static_cast<__u32>(maps.policy.entries().size());
    maps.config.upsert(0, cfg);
}

void count_mark_rule(fp_config &c, const fp_mark_key &key, int by)
{
    const auto count = [by](__u32 &n) { n = static_cast<__u32>(static_cast<std::int64_t>(n) + by); };
    const bool any = IpAddr::from_raw(key.addr).is_any();
    count(c.mark_rules);
    if (key.match == FP_MARK_DESTINATION) {
        count(c.mark_destinations);
        if (any)
            count(c.mark_any_destination);
    } else if (any) {
        count(c.mark_any_source);
    }
}

MasqPorts MasqPorts::parse(const std::string &text)
{
    const auto bad = [&](const std::string &why) { return Error("masquerade ports '" + text + "': " + why); };
    const auto dash = text.find('-');
    if (dash == std::string::npos)
        throw bad("want a range FIRST-LAST, e.g. 61000-65535");
    const auto number = [&](std::string_view s) {
        unsigned v = 0;
        const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
        if (ec != std::errc{} || end != s.data() + s.size() || v < 1024 || v > 65535)
            throw bad("ports must be 1024-65535");
        return static_cast<std::uint16_t>(v);
    };
    const MasqPorts p{number(std::string_view(text).substr(0, dash)), number(std::string_view(text).substr(dash + 1))};
    if (p.min >= p.max)
        throw bad("the range must hold at least 2 ports, first below last");
    return p;
}

void set_masq_ports(MapSet &maps, const MasqPorts &ports)
{
    adjust_config(maps, [&](fp_config &c) {
        c.masq_port_min = ports.min;
        c.masq_port_max = ports.max;
    });
}

} // namespace fp
