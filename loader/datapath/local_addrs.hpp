// The host's own addresses, which "any address" DNAT entries apply to.
#pragma once

#include <vector>

#include "ip_addr.hpp"
#include "map_set.hpp"

namespace fp {

// Every IPv4 and IPv6 address of the current namespace but the loopback ones (a container
// cannot answer 127.0.0.1 or ::1), read over netlink.
std::vector<IpAddr> host_addresses();

// Makes fp_local_addrs hold exactly host_addresses(). Called by `up` and when an
// "any address" DNAT entry is added; addresses added later need one of them again.
void sync_local_addrs(MapSet &maps);

} // namespace fp
