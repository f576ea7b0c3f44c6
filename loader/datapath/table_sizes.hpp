// How many entries the datapath's large tables hold. BPF maps have a fixed capacity, set
// when they are created: `flatpath up` creates them with these sizes (the defaults of
// flatpath_abi.h unless told otherwise) and pins them; afterwards the sizes are whatever
// the pinned maps have, and changing one means `down` and `up` again.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "flatpath_abi.h"
#include "pin_root.hpp"

namespace fp {

struct TableSizes {
    std::uint32_t endpoints = FP_MAX_ENDPOINT_ADDRS; // addresses in fp_endpoints
    std::uint32_t ports = FP_MAX_DNAT;               // published single ports (fp_dnat) and their backends
    std::uint32_t marks = FP_MAX_MARKS;              // mark rules
    std::uint32_t flows = FP_MAX_CT / 2;             // tracked flows: two entries each, assured or not yet

    // The max_entries this gives the map called name; nullopt for a map of fixed size.
    std::optional<std::uint32_t> max_entries_of(const std::string &map) const;
    bool operator==(const TableSizes &) const = default;
};

// The sizes an operator asked `up` for; what is not asked keeps its default (a fresh
// datapath) or what the datapath has (one that is up).
struct TableSizeRequest {
    std::optional<std::uint32_t> endpoints, ports, marks, flows;

    bool any() const { return endpoints || ports || marks || flows; }
    TableSizes applied_to(TableSizes base) const;
    // Throws, naming the first table whose asked size differs from the one the datapath at
    // root has: maps cannot be resized in place.
    void check_matches(const TableSizes &up, const std::string &root) const;
};

// The upper bound of each size `up` accepts (a table that large takes gigabytes).
inline constexpr std::uint32_t kMaxTableEntries = 1u << 24;

// The sizes of the maps pinned under root.
TableSizes pinned_table_sizes(const PinRoot &root);

// The kernel memory (memlock) of every map pinned under root, in bytes: what the tables
// cost the host, mostly fixed at creation (hash maps are preallocated).
std::uint64_t pinned_map_memory(const PinRoot &root);

} // namespace fp
