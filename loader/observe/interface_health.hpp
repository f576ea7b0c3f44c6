// Whether what flatpath attached to an interface is still there, as it recorded it
// (fp_ifaces) and as the kernel says now: `status` and `ps` show it.
#pragma once

#include <cstdint>
#include <string>

#include "flatpath_abi.h"
#include "pin_root.hpp"

namespace fp {

struct InterfaceHealth {
    std::string name;        // "" when the device is gone
    std::string tc;          // "attached", "missing", "egress missing", or "" when flatpath attached none
    std::string xdp;         // "native", "generic", or "" when none
    bool xdp_present = false;
    bool healthy = false;    // the device is there with everything flatpath attached
};

InterfaceHealth interface_health(const PinRoot &root, std::uint32_t ifindex, const fp_iface &rec);

} // namespace fp
