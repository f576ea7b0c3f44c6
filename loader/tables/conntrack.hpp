// The conntrack tables from user space: listing flows, collecting expired ones,
// and purging the flows of a removed endpoint or DNAT entry. A flow's two entries
// sit in one table, fp_ct (assured) or fp_ct_new (not yet); both are read here.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string_view>
#include <vector>

#include "map_set.hpp"

namespace fp {

struct Flow {
    fp_ct_key key;   // the original direction
    fp_ct_entry orig;
    std::optional<fp_ct_entry> reply;
    bool assured = false; // in fp_ct, where nothing evicts it
};

// Entries in each table, as a pass over them found them.
struct CtFill {
    std::size_t assured = 0;
    std::size_t unassured = 0;
};

// dnat: to a published port; dnat-remote: one whose backend is another host's container
// (its source is this host's too); masq: a container's flow out of the host.
std::string_view ct_kind_name(std::uint8_t kind);
// The reply-direction key of a flow, from its original entry.
fp_ct_key reply_key(const fp_ct_key &orig_key, const fp_ct_entry &orig);
// CLOCK_MONOTONIC in ns, the clock of expires_ns.
std::uint64_t monotonic_ns();

class Conntrack {
public:
    explicit Conntrack(MapSet &maps) : maps_(maps) {}

    std::vector<Flow> flows() const;
    // The flows whose later deadline (of their two entries) is in (after_ns, until_ns]: those
    // that expired in that time with no packet since. One read of each table, however full.
    std::vector<Flow> expired_between(std::uint64_t after_ns, std::uint64_t until_ns) const;
    // Removes flows (both entries) for which doomed(original key, original entry) is true;
    // returns how many. One read of each table, no lookup per flow.
    std::size_t purge(const std::function<bool(const fp_ct_key &, const fp_ct_entry &)> &doomed);
    // Removes flows whose both entries are past their deadline, and expired entries
    // whose partner the LRU already dropped; returns the entries removed. remaining, if
    // given, gets the entries left: the pass reads them all anyway, and the metrics page
    // reports these counts instead of reading the tables again.
    std::size_t collect_expired(std::uint64_t now_ns, CtFill *remaining = nullptr);
    std::size_t flush();

private:
    std::array<CtMap *, 2> tables() const { return {&maps_.ct, &maps_.ct_new}; }

    MapSet &maps_;
};

} // namespace fp
