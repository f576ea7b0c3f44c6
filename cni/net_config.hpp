// The plugin's part of a network configuration (the conflist's plugin object),
// plus the runtime's runtimeConfig and CNI_ARGS, validated before anything changes.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "attach.hpp"
#include "ip_pool.hpp"
#include "mac_addr.hpp"
#include "policy.hpp"
#include "request.hpp"

namespace fp::cni {

struct PortMapping {
    std::uint16_t host_port;
    std::uint16_t container_port;
    std::uint8_t proto;
    std::optional<IpAddr> host_ip;
};

struct NetConfig {
    std::string name;                       // the network's name (also the IPAM directory)
    std::vector<IpPool> pools;              // "subnet" or "ranges": at most one per family
    std::string ipam_type;                  // "ipam": {"type": ...}: a delegated IPAM plugin instead
    bool bridge_mode = false;               // "mode": "bridge" (default "routed")
    std::string bridge;                     // bridge mode: the Linux bridge ("bridge", default fpbr0)
    std::uint32_t mtu = 0;                  // 0: the kernel's default
    bool ip_masq = true;                    // "ipMasq": flows out of the host leave masqueraded (as Podman's bridge)
    std::vector<std::string> uplinks;       // attached when the plugin brings the datapath up
    std::string lan_uplink;                 // "lanUplink": the containers are on this uplink's LAN (proxy ARP/NDP)
    std::optional<XdpMode> xdp_mode;        // "xdpMode" for those; none: an attached uplink is left alone
    std::string pin_root;                   // "pinRoot", else the default (never the environment)
    std::string state_dir;                  // "stateDir", else the default: IPAM leases live under it
    std::vector<PortMapping> port_mappings; // runtimeConfig.portMappings
    std::vector<IpAddr> requested_ips;      // runtimeConfig.ips, CNI_ARGS IP=
    std::optional<MacAddr> mac;             // runtimeConfig.mac, CNI_ARGS MAC=
    nlohmann::json dns;                     // passed through to the result
    std::optional<EndpointPolicy> policy;   // "policy": the container's firewall (none: not checked)

    bool delegated_ipam() const { return !ipam_type.empty(); }

    // Throws CniError (7 invalid config, 2 unsupported field) naming the key.
    static NetConfig parse(const Request &req);
};

inline constexpr const char *kStateDirDefault = "/var/lib/flatpath";

} // namespace fp::cni
