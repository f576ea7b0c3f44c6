// fp_config's counts, which let the datapath skip the lookups of unused features, and its
// generation, which tells established flows that the tables changed (lib/flow_cache.h).
// Every DNAT, mark, masquerade, cluster and policy change adjusts them under the datapath lock; `up`
// recounts them from the tables, which repairs them after anything interrupted a
// change (the masquerade port range, a setting, is kept).
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "map_set.hpp"

namespace fp {

// Applies change and moves fp_config.generation on: call it after the change to the tables,
// so that no established flow keeps a route resolved from what they held before.
void adjust_config(MapSet &maps, const std::function<void(fp_config &)> &change);
// Moves fp_config.generation on alone (a change to the endpoints), after the change.
void advance_generation(MapSet &maps);
void recount_config(MapSet &maps);
// Counts a mark rule of key's shape in (by 1) or out (by -1) of c: its total and the
// count of its shape.
void count_mark_rule(fp_config &c, const fp_mark_key &key, int by);

// The port range of masqueraded flows, host order (fp_config's).
struct MasqPorts {
    std::uint16_t min = FP_MASQ_PORT_MIN_DEFAULT;
    std::uint16_t max = FP_MASQ_PORT_MAX_DEFAULT;

    // "61000-65535"; throws naming the text for a reversed or out-of-range one, or one of
    // fewer than 2 ports.
    static MasqPorts parse(const std::string &text);
    std::string str() const { return std::to_string(min) + "-" + std::to_string(max); }
};

void set_masq_ports(MapSet &maps, const MasqPorts &ports);

} // namespace fp
