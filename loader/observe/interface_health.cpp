#include "interface_health.hpp"

#include "attach.hpp"
#include "interfaces.hpp"
#include "netdev.hpp"
#include "programs.hpp"

namespace fp {

InterfaceHealth interface_health(const PinRoot &root, std::uint32_t ifindex, const fp_iface &rec)
{
    InterfaceHealth h;
    const auto dev = NetDev::by_index(ifindex);
    h.name = dev ? dev->name : "";
    h.healthy = dev.has_value();
    if (rec.attached & FP_ATTACHED_TC_INGRESS) {
        const bool present = dev && TcAttachment::attached_prog_id(ifindex) ==
                                        ProgFd::open_pinned(root, tc_program(rec.role, *dev)).id();
        const bool egress_present = !(rec.attached & FP_ATTACHED_TC_EGRESS) ||
                                    (dev && TcAttachment::attached_prog_id(ifindex, TcHook::Egress) ==
                                                ProgFd::open_pinned(root, egress_program(*dev)).id());
        h.tc = !present ? "missing" : egress_present ? "attached" : "egress missing";
        h.healthy = h.healthy && present && egress_present;
    }
    if (rec.attached & (FP_ATTACHED_XDP_NATIVE | FP_ATTACHED_XDP_GENERIC)) {
        h.xdp_present = dev && XdpAttachment::attached_prog_id(ifindex) == ProgFd::open_pinned(root, Program::XdpUplink).id();
        h.xdp = (rec.attached & FP_ATTACHED_XDP_NATIVE) ? "native" : "generic";
        h.healthy = h.healthy && h.xdp_present;
    }
    return h;
}

} // namespace fp
