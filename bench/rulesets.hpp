// The published ports and mark rules the bench loads: for B1 as iptables-restore
// input in the layout the CNI portmap plugin writes, for flatpath through its own
// tables. Both configurations get the same entries, so a ratio compares datapaths,
// not rule sets.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ip_addr.hpp"
#include "map_set.hpp"
#include "pin_root.hpp"

namespace fp::bench {

struct ServicePort {
    std::uint8_t proto; // 6 or 17
    std::uint16_t port; // the same on the host and in the container
};

struct PublishedContainer {
    std::string id; // names its CNI-DN- chain
    IpAddr addr;
    std::vector<ServicePort> ports;
};

// The container under test and `fillers` more containers, one published tcp port each
// (20000 + i), at addresses inside `subnet_prefix` ("10.88" -> 10.88.1.1, 10.88.1.2, ...).
// The fillers come first: in iptables chains they are walked before the one under test.
std::vector<PublishedContainer> bench_containers(const IpAddr &under_test, const std::vector<ServicePort> &ports,
                                                 std::uint32_t fillers, const std::string &subnet_prefix);

// portmap's nat layout: PREROUTING and OUTPUT jump to CNI-HOSTPORT-DNAT for local
// destinations; that chain holds one jump per container and protocol (multiport) to the
// container's CNI-DN-<id> chain, which marks hairpin traffic for masquerade and DNATs each
// port. POSTROUTING masquerades what was marked.
std::string portmap_nat_rules(const std::vector<PublishedContainer> &containers, const std::string &subnet);
// mangle PREROUTING: one MARK rule per published port of each container, matching the
// replies leaving it (source address and port), like `flatpath mark add PROTO PORT --ip`.
std::string mangle_mark_rules(const std::vector<PublishedContainer> &containers);

// The same entries through flatpath's tables (published on `host`); returns how many.
std::uint32_t load_flatpath_entries(const PinRoot &root, MapSet &maps, const IpAddr &host,
                                    const std::vector<PublishedContainer> &containers);

// The mark value the bench sets on replies from the container under test, and on fillers'.
inline constexpr std::uint32_t kBenchMark = 0x2, kFillerMark = 0x3, kBenchMarkMask = 0xff;

} // namespace fp::bench
