// What the fast path carried and why packets left it, read once for whoever shows it
// (`flatpath stats`, the daemon's metrics endpoint).
#pragma once

#include <string>
#include <vector>

#include "flatpath_abi.h"
#include "map_set.hpp"
#include "pin_root.hpp"

namespace fp {

// Counters are per device (its slot), shared by all of the device's addresses.
struct DeviceStats {
    std::string dev; // "" when the device is gone
    std::vector<std::string> addresses;
    fp_ep_stats counters;
};

struct ReasonStats {
    unsigned hook;
    unsigned reason;
    fp_reason_stats counts; // summed over CPUs
};

// One row per endpoint device, in slot order.
std::vector<DeviceStats> device_stats(const PinRoot &root, MapSet &maps);
// Every named reason of every hook, zero counts included.
std::vector<ReasonStats> reason_stats(MapSet &maps);

} // namespace fp
