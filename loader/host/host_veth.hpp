// Attach mode's first step: the host-side end of a container's veth on a network
// flatpath did not create (Podman's CNI bridge, Docker's bridge). Inside the
// container's network namespace, its interface with the container's MAC names its
// peer's ifindex; the veth with that ifindex here, whose own peer is that interface,
// is the host end.
#pragma once

#include <string>

#include "mac_addr.hpp"
#include "netdev.hpp"

namespace fp {

// Throws naming the container's namespace and MAC when there is no such interface, or
// when its peer is not a veth in this namespace.
NetDev find_host_veth(const std::string &netns_path, const MacAddr &mac);

} // namespace fp
