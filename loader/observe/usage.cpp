#include "usage.hpp"

#include <arpa/inet.h>

#include <map>
#include <tuple>

#include "port_spec.hpp"

namespace fp {

namespace {

template <class Map>
MapFill fill_of(const Map &m)
{
    return {m.name(), m.entries().size(), m.capacity()};
}

} // namespace

std::vector<MapFill> map_fills(MapSet &maps, const std::optional<ConntrackFill> &ct)
{
    const ConntrackFill c = ct.value_or(ConntrackFill{maps.ct.entries().size(), maps.ct_new.entries().size()});
    return {fill_of(maps.endpoints),
            fill_of(maps.ifaces),
            fill_of(maps.dnat),
            fill_of(maps.ranges),
            fill_of(maps.backends),
            fill_of(maps.local_addrs),
            fill_of(maps.marks),
            fill_of(maps.masq),
            fill_of(maps.masq_except),
            fill_of(maps.cluster),
            fill_of(maps.policy),
            fill_of(maps.policy_flows),
            {maps.ct.name(), c.assured, maps.ct.capacity()},
            {maps.ct_new.name(), c.not_assured, maps.ct_new.capacity()}};
}

MasqPortUse busiest_masq_destination(const std::vector<Flow> &flows, const fp_config &cfg)
{
    MasqPortUse use;
    use.range = cfg.masq_port_max >= cfg.masq_port_min ? cfg.masq_port_max - cfg.masq_port_min + 1u : 0u;
    std::map<std::tuple<IpAddr, std::uint16_t, std::uint8_t>, std::size_t> per_destination;
    for (const Flow &f : flows) {
        if (f.orig.kind != FP_CT_KIND_MASQ || (f.orig.flags & FP_CT_DIRECT))
            continue;
        const auto dest = std::make_tuple(IpAddr::from_raw(f.key.daddr), ntohs(f.key.dport), f.key.proto);
        const std::size_t n = ++per_destination[dest];
        if (n > use.ports) {
            use.ports = n;
            const auto &[addr, port, proto] = dest;
            use.destination = protocol_name(proto) + " " + addr.with_port(std::to_string(port));
        }
    }
    return use;
}

} // namespace fp
