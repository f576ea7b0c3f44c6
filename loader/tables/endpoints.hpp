// Registering endpoints (container interfaces) in the datapath: all of an
// endpoint's addresses, its counter slot, the devmap entry XDP needs, and the
// tc program on its host-side device. Each change is validated first, then
// applied with every step undone if a later one fails.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ip_addr.hpp"
#include "mac_addr.hpp"
#include "map_set.hpp"
#include "pin_root.hpp"

namespace fp {

struct EndpointSpec {
    std::vector<IpAddr> addrs;
    std::string dev;            // host-side device: veth, tap or tun
    std::optional<MacAddr> mac; // the container's MAC (veth, tap); none for tun
    std::uint32_t zone = 0;     // see fp_endpoint.zone: 0 for none
};

struct EndpointRow {
    IpAddr addr;
    std::uint32_t ifindex;
    std::string dev;  // "" when the device is gone
    MacAddr mac;
    MacAddr host_mac;
    fp_ep_kind kind;
    std::uint32_t slot;
    std::uint32_t zone;
    fp_ep_stats counters;
};

class Endpoints {
public:
    Endpoints(const PinRoot &root, MapSet &maps) : root_(root), maps_(maps) {}

    void add(const EndpointSpec &spec);
    // Throws when addr is not registered.
    void remove(const IpAddr &addr);
    // All of them or none: throws, removing nothing, when one is not registered or one is
    // given twice.
    void remove_all(const std::vector<IpAddr> &addrs);
    std::vector<EndpointRow> list() const;

private:
    void remove_locked(const IpAddr &addr); // the caller holds the datapath lock
    const PinRoot &root_;
    MapSet &maps_;
};

std::string_view endpoint_kind_name(fp_ep_kind kind);

} // namespace fp
