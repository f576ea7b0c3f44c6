// The entries a busy host holds beside the ones a measurement uses: endpoint addresses,
// published ports and tracked flows, numbered so that each is unique for any count the
// bench takes (up to millions of flows).
#pragma once

#include <cstdint>

#include "flatpath_abi.h"
#include "ip_addr.hpp"
#include "map_set.hpp"
#include "table_sizes.hpp"

namespace fp::bench {

// Tracked flows beside N endpoints, published ports and mark rules: N = 100,000 is a host
// with a million flows.
inline constexpr std::uint32_t kFlowsPerEntry = 10;

// Tables with room for n of each filler (and their flows) with a quarter to spare, as an
// operator would size them with `flatpath up --max-*`; never below the defaults.
TableSizes filler_table_sizes(std::uint32_t n);

// The i-th filler address: 10.1.0.0 on, 65,536 per /16 (10.1, 10.2, ...).
IpAddr filler_addr(std::uint32_t i);

// The i-th filler publication (tcp): ports 20000-59999 of 10.99.0.1, then of 10.99.1.1,
// 10.99.2.1, ... (a host has as many ports only per address).
fp_dnat_key filler_dnat_key(std::uint32_t i);

// Assured TCP flows (both entries) of clients 10.98.x.y through 10.99.0.1:8080 to
// 10.0.0.2:80, written into the conntrack table in batches; they never expire while the
// bench runs.
void fill_flows(MapSet &m, std::uint32_t flows);

} // namespace fp::bench
