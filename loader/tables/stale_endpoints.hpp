// Endpoints whose host-side device is gone: a container namespace removed without a
// DEL, or a DEL that ran with another pin root. Their records would refuse the next
// container that gets the same address ("already exists") and keep its published ports
// ("already published"); reclaiming them removes the endpoint, the DNAT entries that
// point at it and its flows.
#pragma once

#include <vector>

#include "ip_addr.hpp"
#include "map_set.hpp"
#include "pin_root.hpp"

namespace fp {

// A device counts as gone when no device of this namespace has the recorded ifindex
// with the recorded host-side MAC (an ifindex can be reused by a new device). Returns
// the addresses reclaimed. Every endpoint: one dump of the host's interfaces, whose cost
// grows with them (milliseconds at a thousand containers).
std::vector<IpAddr> reclaim_stale_endpoints(const PinRoot &root, MapSet &maps);
// The same for the endpoints at these addresses only (those that would refuse an ADD its
// addresses, or hold the ports it publishes): a query per address.
std::vector<IpAddr> reclaim_stale_endpoints_at(const PinRoot &root, MapSet &maps, const std::vector<IpAddr> &addrs);

} // namespace fp
