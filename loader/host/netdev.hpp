// A network device of the current namespace, as the datapath needs to know it (read
// through Netlink), and what ethtool says of it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "flatpath_abi.h"
#include "mac_addr.hpp"

namespace fp {

struct NetDev {
    std::uint32_t ifindex = 0;
    std::string name;
    MacAddr mac;        // zero for devices without one (tun)
    std::string type;   // rtnetlink kind: "veth", "tun", "bridge", ... ("" for physical)
    bool l2 = true;     // has an Ethernet header (false for tun)
    std::uint32_t mtu = 0;
    std::uint32_t master = 0; // the bridge (or other master) it is enslaved to, 0 for none
    std::uint32_t link = 0;   // IFLA_LINK: a veth's peer's ifindex (in the peer's namespace), 0 for none

    // Throws "no network interface named NAME" when there is none.
    static NetDev by_name(const std::string &name);
    static std::optional<NetDev> by_index(std::uint32_t ifindex);
    // Every device of the current namespace.
    static std::vector<NetDev> all();

    // The endpoint kind this device can be (veth, tap, tun); throws for others.
    fp_ep_kind endpoint_kind() const;
};

// Throws unless dev's MTU is at least FP_MIN_MTU: the datapath compares only longer packets
// with a device's MTU (bpf/lib/fwd.h). what: "an endpoint device", "an uplink".
void require_min_mtu(const NetDev &dev, const std::string &what);

// True for a NIC's own device, the only kind that receives frames from a wire: no
// rtnetlink kind (veth, tun, bridge, vxlan, bond... all have one) and a bus that its
// driver names to ethtool (PCI, virtio). Loopback and software devices are false.
bool receives_from_wire(const NetDev &dev);

// Turns GRO on for dev, through sock_fd (any socket of dev's namespace): a veth takes
// XDP-redirected frames only when its peer has GRO (or an XDP program) on. Returns 0 or
// the errno of the failure.
int enable_gro(int sock_fd, const std::string &dev);

} // namespace fp
