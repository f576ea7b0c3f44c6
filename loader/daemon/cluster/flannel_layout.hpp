// Flannel's etcd v3 layout, which flatpath hosts share with Flannel hosts (docs/cluster.md):
//   <prefix>/config                   {"Network", "SubnetLen", "SubnetMin", "SubnetMax",
//                                      "EnableIPv6", "IPv6Network", "IPv6SubnetLen", "Backend": {"Type", "VNI"}}
//   <prefix>/subnets/10.1.17.0-24     {"PublicIP", "PublicIPv6", "BackendType", "BackendData"}
//   <prefix>/subnets/10.1.17.0-24&fd10:0:0:11::-64   (a dual-stack lease: one key, both subnets)
// Each subnet key is put under its host's etcd lease. Only the texts are here: parsing
// says what is wrong with a record, in one line, and never guesses.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "ip_addr.hpp"
#include "ip_prefix.hpp"

namespace fp {

// How hosts reach each other's subnets.
enum class ClusterBackend {
    HostGw, // straight to the peer's PublicIP on a shared link
    Vxlan,  // through a vxlan device, to the peer's PublicIP
};
std::string_view backend_name(ClusterBackend b); // Flannel's: "host-gw", "vxlan"
std::optional<ClusterBackend> backend_from_name(std::string_view name);

struct ClusterConfig {
    std::optional<IpPrefix> network;      // the IPv4 cluster network (Flannel: "Network")
    int subnet_len = 24;
    std::optional<IpAddr> subnet_min, subnet_max; // the first and last subnet leased
    std::optional<IpPrefix> ipv6_network; // with EnableIPv6
    int ipv6_subnet_len = 64;
    ClusterBackend backend = ClusterBackend::HostGw;
    std::uint32_t vni = 1;                // vxlan: the VNI (Flannel's default 1)
    std::uint16_t vxlan_port = 8472;      // vxlan: the UDP port (Flannel's default 8472)

    // Throws fp::Error saying what is wrong (a field's type or value, a subnet length
    // that does not fit its network, a SubnetMin outside it).
    static ClusterConfig parse(std::string_view json_text);
    std::string dump() const;
};

// A host's subnet lease, as etcd holds it under <prefix>/subnets/.
struct SubnetRecord {
    IpPrefix subnet;                     // IPv4
    std::optional<IpPrefix> ipv6_subnet; // dual stack
    IpAddr public_ip;                    // where the host is reached
    std::optional<IpAddr> public_ipv6;
    ClusterBackend backend = ClusterBackend::HostGw;
    nlohmann::json backend_data;         // vxlan: {"VNI", "VtepMAC"}; host-gw: null
    std::int64_t lease = 0;              // the etcd lease it lives under (0: none)
};

// "10.1.17.0-24" or "10.1.17.0-24&fd10:0:0:11::-64".
std::string subnet_key(const IpPrefix &subnet, const std::optional<IpPrefix> &ipv6_subnet);
// The subnets a key names (its last path element); throws fp::Error for a key that
// names none.
std::pair<IpPrefix, std::optional<IpPrefix>> parse_subnet_key(std::string_view key);

// The record's JSON value (the key says the subnets).
std::string subnet_value(const SubnetRecord &r);
// A record from its key and value; throws fp::Error naming the key and the problem.
SubnetRecord parse_subnet_record(std::string_view key, std::string_view value, std::int64_t lease);

} // namespace fp
