// Attach mode's first step: the host-side end of a container's veth on a network
// flatpath did not create (Podman's CNI bridge, Docker's bridge). Inside the
// container's network namespace, its interface with the container's MAC names its
// peer's ifindex; the veth with that ifindex here, whose own peer is that interface,
// is the host end.
#pragma once

#include <string>

#include "container_info.hpp"
#include "mac_addr.hpp"
#include "netdev.hpp"

namespace fp {

// The container's network namespace: its SandboxKey when that path exists here, else
// /proc/PID/ns/net. Throws when neither is known.
std::string container_netns_path(const ContainerInfo &c);

// Throws naming the container's namespace and MAC when there is no such interface, or
// when its peer is not a veth in this namespace.
NetDev find_host_veth(const std::string &netns_path, const MacAddr &mac);

} // namespace fp
