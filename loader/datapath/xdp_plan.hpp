// Which XDP an uplink gets for a requested --xdp-mode, and why.
//
// Native XDP is only correct where frames come from a wire: a NIC's driver hands XDP
// complete frames. On a veth, tun or tap the sender is another part of this kernel,
// which leaves checksums to "offload" (CHECKSUM_PARTIAL) by default; native XDP there
// turns the skb into an XDP buffer, a redirected frame loses that state, and the
// receiver gets only the pseudo-header sum (TCP to a published port never completes).
// So `auto` runs native XDP on NICs only and tc elsewhere; tc keeps the skb and is
// correct for every sender.
#pragma once

#include <string>

#include "attach.hpp"
#include "netdev.hpp"

namespace fp {

enum class XdpPlacement { None, Native, Generic };

struct XdpPlan {
    XdpPlacement placement = XdpPlacement::None;
    // Native, auto: a driver without native XDP gets tc only instead of an error.
    bool none_if_unsupported = false;
    // Set when the operator asked for something that breaks traffic (native on a
    // software device): one line saying why, for the log and for `doctor`.
    std::string warning;
    // What was chosen and why, for `up` and `attach` to print.
    std::string note;
};

// wired: the device is a NIC's own (receives_from_wire).
XdpPlan plan_xdp(XdpMode mode, const NetDev &dev, bool wired);

// The warning native XDP on dev deserves, "" when none (dev receives from a wire).
std::string native_xdp_warning(const NetDev &dev, bool wired);

} // namespace fp
