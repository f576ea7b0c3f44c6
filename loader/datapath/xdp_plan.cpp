#include "xdp_plan.hpp"

#include "error.hpp"

namespace fp {

namespace {

std::string kind_of(const NetDev &dev)
{
    return dev.type.empty() ? std::string("software") : dev.type;
}

} // namespace

std::string native_xdp_warning(const NetDev &dev, bool wired)
{
    if (wired)
        return "";
    return "native XDP on " + kind_of(dev) + " device " + dev.name +
           " breaks traffic from local senders with checksum offload (veths, tun/tap, the host's own sockets: "
           "redirected frames arrive with incomplete TCP/UDP checksums); --xdp-mode auto runs tc only there";
}

XdpPlan plan_xdp(XdpMode mode, const NetDev &dev, bool wired)
{
    XdpPlan p;
    // XDP would see the IP header where it reads an Ethernet one, and could not add one
    // for the veth it redirects to: tc does all of it there.
    if (!dev.l2) {
        if (mode == XdpMode::Native || mode == XdpMode::Generic)
            throw Error(dev.name + " is an L3 device (no Ethernet header): XDP cannot run on it; use --xdp-mode "
                        "auto or off (tc only)");
        p.note = dev.name + ": tc only (an L3 device: no Ethernet header for XDP)";
        return p;
    }
    switch (mode) {
    case XdpMode::Off:
        p.note = dev.name + ": tc only (--xdp-mode off)";
        break;
    case XdpMode::Generic:
        p.placement = XdpPlacement::Generic;
        p.note = dev.name + ": generic XDP and tc";
        break;
    case XdpMode::Native:
        p.placement = XdpPlacement::Native;
        p.warning = native_xdp_warning(dev, wired);
        p.note = dev.name + ": native XDP and tc";
        break;
    case XdpMode::Auto:
        if (wired) {
            p.placement = XdpPlacement::Native;
            p.none_if_unsupported = true;
            p.note = dev.name + ": native XDP and tc (a NIC)";
        } else {
            p.note = dev.name + ": tc only (a " + kind_of(dev) + " device: native XDP there breaks senders' "
                     "checksum offload)";
        }
        break;
    }
    return p;
}

} // namespace fp
