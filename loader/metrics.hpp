// The datapath's counters and the daemon's health in Prometheus' text exposition
// format (version 0.0.4), for the daemon's --metrics-listen endpoint.
#pragma once

#include <string>

#include "daemon_health.hpp"
#include "map_set.hpp"
#include "pin_root.hpp"

namespace fp {

// Per-endpoint packets and bytes, per-hook drop and pass-to-stack reasons, map fill
// levels, and (health given) the event loop's counters.
std::string render_metrics(const PinRoot &root, MapSet &maps, const DaemonHealth *health);

} // namespace fp
