// The conntrack table from user space: listing flows, collecting expired ones,
// and purging the flows of a removed endpoint or DNAT entry.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "map_set.hpp"

namespace fp {

struct Flow {
    fp_ct_key key;   // the original direction
    fp_ct_entry orig;
    std::optional<fp_ct_entry> reply;
};

// The reply-direction key of a flow, from its original entry.
fp_ct_key reply_key(const fp_ct_key &orig_key, const fp_ct_entry &orig);
// CLOCK_MONOTONIC in ns, the clock of expires_ns.
std::uint64_t monotonic_ns();

class Conntrack {
public:
    explicit Conntrack(MapSet &maps) : maps_(maps) {}

    std::vector<Flow> flows() const;
    // Removes flows (both entries) for which doomed(flow) is true; returns how many.
    std::size_t purge(const std::function<bool(const Flow &)> &doomed);
    // Removes flows whose both entries are past their deadline, and expired entries
    // whose partner the LRU already dropped; returns the entries removed. remaining, if
    // given, gets the entries left: the pass reads them all anyway, and the metrics page
    // reports this count instead of reading the table again.
    std::size_t collect_expired(std::uint64_t now_ns, std::size_t *remaining = nullptr);
    std::size_t flush();

private:
    MapSet &maps_;
};

} // namespace fp
