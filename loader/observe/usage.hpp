// How full the datapath's tables are: each map's entries against its capacity, and the
// masquerade ports of the busiest destination, for `status` (with warnings near full)
// and the metrics page.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "conntrack.hpp"
#include "map_set.hpp"

namespace fp {

// The conntrack tables' fill as counted elsewhere: they hold 262,144 entries each, and a
// scrape should not walk them when housekeeping counts them every few seconds anyway.
struct ConntrackFill {
    std::size_t assured = 0;     // fp_ct
    std::size_t not_assured = 0; // fp_ct_new
};

struct MapFill {
    std::string map;
    std::size_t entries = 0;
    std::uint32_t capacity = 0;
    double fraction() const { return capacity ? static_cast<double>(entries) / capacity : 0; }
};

// Every map with entries that can run out, in a fixed order. ct: the conntrack tables'
// counts when known, else they are counted here.
std::vector<MapFill> map_fills(MapSet &maps, const std::optional<ConntrackFill> &ct = std::nullopt);

// Masqueraded flows share the port range per destination (address, port, protocol): the
// destination that holds the most ports, and how many.
struct MasqPortUse {
    std::string destination; // "tcp 192.0.2.7:443"; empty when no flow is masqueraded
    std::size_t ports = 0;   // flows to it holding a port
    std::uint32_t range = 0; // ports in the range
};
MasqPortUse busiest_masq_destination(const std::vector<Flow> &flows, const fp_config &cfg);

// A table at or past this fraction of its capacity is reported as near full.
inline constexpr double kNearFull = 0.8;

} // namespace fp
