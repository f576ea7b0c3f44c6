// Flannel's /run/flannel/subnet.env: the host's subnet lease as runtimes and wrappers
// read it. `flatpath daemon` writes it for its own lease (atomically: a reader sees the
// old file or the new one, never half of one); flatpath-cni can take its subnet from it,
// whether Flannel or flatpath wrote it.
//   FLANNEL_NETWORK=10.1.0.0/16
//   FLANNEL_SUBNET=10.1.17.1/24       the subnet, written as its first address
//   FLANNEL_IPV6_NETWORK=fd10::/56    (dual stack)
//   FLANNEL_IPV6_SUBNET=fd10:0:0:11::1/64
//   FLANNEL_MTU=1500
//   FLANNEL_IPMASQ=true
#pragma once

#include <optional>
#include <string>

#include "ip_prefix.hpp"

namespace fp {

inline constexpr const char *kFlannelSubnetFile = "/run/flannel/subnet.env";

struct SubnetEnv {
    std::optional<IpPrefix> network;
    std::optional<IpPrefix> subnet; // the subnet itself (host bits cleared)
    std::optional<IpPrefix> ipv6_network;
    std::optional<IpPrefix> ipv6_subnet;
    unsigned mtu = 0;  // 0: not given
    bool ip_masq = false;

    // Throws fp::Error naming the file and line for a value that does not parse, and for a
    // file with no FLANNEL_SUBNET nor FLANNEL_IPV6_SUBNET.
    static SubnetEnv read(const std::string &path);
    // Written to path + ".tmp", then renamed over path (its directory is made).
    void write(const std::string &path) const;
};

} // namespace fp
