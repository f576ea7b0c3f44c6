// Which interfaces carry flatpath programs, in which role, and what exactly
// was attached: recorded in fp_ifaces so that `detach` and `down` (in another
// process, maybe after a restart) undo that and nothing else.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "attach.hpp"
#include "map_set.hpp"
#include "netdev.hpp"
#include "pin_root.hpp"
#include "programs.hpp"

namespace fp {

// The tc program for dev in role (FP_ROLE_UPLINK or FP_ROLE_ENDPOINT): an L3 device (tun,
// WireGuard) gets the variant that gives its packets an Ethernet header first.
Program tc_program(std::uint32_t role, const NetDev &dev);
// The tc egress program of an endpoint device: its policy of what the host stack sends it.
Program egress_program(const NetDev &dev);

class Interfaces {
public:
    Interfaces(const PinRoot &root, MapSet &maps) : root_(root), maps_(maps) {}

    // tc ingress, and XDP as plan_xdp says for mode, on an uplink; returns what was chosen,
    // in a line. Attaching again is harmless; a mode that differs from what is attached
    // replaces it (off takes XDP away). No mode: an existing uplink is left as it is, a
    // new one gets auto.
    std::string attach_uplink(const NetDev &dev, std::optional<XdpMode> mode);
    // tc ingress on the host side of a registered endpoint. Attaching again is harmless.
    void attach_endpoint(const NetDev &dev);
    // Removes what flatpath attached to ifindex. An uplink is forgotten; an endpoint
    // stays registered (traffic to it is still fast-pathed). Throws if nothing was attached.
    void detach(std::uint32_t ifindex, const std::string &ifname);
    // Detaches every interface (for `down`); devices that are gone are skipped.
    void detach_all();

private:
    void detach_recorded(std::uint32_t ifindex, const fp_iface &rec);

    const PinRoot &root_;
    MapSet &maps_;
};

} // namespace fp
