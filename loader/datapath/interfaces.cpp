#include "interfaces.hpp"

#include <spdlog/spdlog.h>

#include <optional>

#include "error.hpp"
#include "programs.hpp"
#include "sysctl.hpp"
#include "xdp_plan.hpp"

namespace fp {

namespace {
// Datapaths before the host's socket hooks attached lo and turned this on (FP_SET_ACCEPT_LOCAL):
// `down` still undoes it for them.
constexpr const char *kLoAcceptLocal = "net.ipv4.conf.lo.accept_local";
constexpr __u8 kXdpBits = FP_ATTACHED_XDP_NATIVE | FP_ATTACHED_XDP_GENERIC;

// FP_CREATED_CLSACT if flatpath made the device's clsact qdisc, now or on an earlier attach:
// only then may `down` remove it.
__u8 created_clsact_bit(const TcAttachment &tc, const std::optional<fp_iface> &prev)
{
    return tc.created_clsact() || (prev && (prev->attached & FP_CREATED_CLSACT)) ? FP_CREATED_CLSACT : 0;
}
} // namespace

Program tc_program(std::uint32_t role, const NetDev &dev)
{
    if (role == FP_ROLE_ENDPOINT)
        return dev.l2 ? Program::TcEndpoint : Program::TunEndpoint;
    return dev.l2 ? Program::TcUplink : Program::L3Uplink;
}

Program egress_program(const NetDev &dev)
{
    return dev.l2 ? Program::ToEndpoint : Program::ToTun;
}

std::string Interfaces::attach_uplink(const NetDev &dev, std::optional<XdpMode> mode)
{
    const auto prev = maps_.ifaces.lookup(iface_key(dev.ifindex));
    if (prev && prev->role != FP_ROLE_UPLINK)
        throw Error(dev.name + " is a registered endpoint; it cannot also be an uplink");
    require_min_mtu(dev, "an uplink");
    if (prev && !mode)
        return dev.name + ": already an uplink, left as it is";

    const XdpPlan plan = plan_xdp(mode.value_or(XdpMode::Auto), dev, receives_from_wire(dev));
    if (!plan.warning.empty())
        spdlog::warn("{}", plan.warning);
    const ProgFd xdp = ProgFd::open_pinned(root_, Program::XdpUplink);
    const ProgFd tc = ProgFd::open_pinned(root_, tc_program(FP_ROLE_UPLINK, dev));

    // Another placement than the one recorded (off after native, generic after native...):
    // the old program goes first, and the record says so at once.
    const __u8 wanted_xdp = plan.placement == XdpPlacement::Native    ? FP_ATTACHED_XDP_NATIVE
                            : plan.placement == XdpPlacement::Generic ? FP_ATTACHED_XDP_GENERIC
                                                                      : 0;
    if (const __u8 had_xdp = prev ? prev->attached & kXdpBits : 0; had_xdp && had_xdp != wanted_xdp) {
        XdpAttachment::detach(dev.ifindex, xdp.get());
        fp_iface without = *prev;
        without.attached &= static_cast<__u8>(~kXdpBits);
        maps_.ifaces.upsert(iface_key(dev.ifindex), without);
    }

    std::optional<XdpAttachment> xdp_guard = [&]() -> std::optional<XdpAttachment> {
        switch (plan.placement) {
        case XdpPlacement::None:
            return std::nullopt;
        case XdpPlacement::Generic:
            return XdpAttachment::attach(dev.ifindex, dev.name, xdp.get(), /*native=*/false);
        case XdpPlacement::Native:
            if (plan.none_if_unsupported)
                return XdpAttachment::attach_native_if_supported(dev.ifindex, dev.name, xdp.get());
            return XdpAttachment::attach(dev.ifindex, dev.name, xdp.get(), /*native=*/true);
        }
        return std::nullopt;
    }();
    const std::string note = plan.placement != XdpPlacement::None && !xdp_guard
                                 ? dev.name + ": tc only (its driver has no native XDP)"
                                 : plan.note;
    auto tc_guard = TcAttachment::attach(dev.ifindex, dev.name, tc.get());

    fp_iface rec{};
    rec.role = FP_ROLE_UPLINK;
    dev.mac.copy_to(rec.mac);
    rec.attached = FP_ATTACHED_TC_INGRESS | created_clsact_bit(tc_guard, prev);
    if (xdp_guard) {
        rec.attached |= xdp_guard->native() ? FP_ATTACHED_XDP_NATIVE : FP_ATTACHED_XDP_GENERIC;
        xdp_guard->release();
    }
    maps_.ifaces.upsert(iface_key(dev.ifindex), rec);
    tc_guard.release();
    return note;
}

void Interfaces::attach_endpoint(const NetDev &dev)
{
    auto rec = maps_.ifaces.lookup(iface_key(dev.ifindex));
    if (!rec || rec->role != FP_ROLE_ENDPOINT)
        throw Error(dev.name + " has no endpoint; register one first (flatpath endpoint add IP --dev " + dev.name + " --mac MAC)");
    const ProgFd tc = ProgFd::open_pinned(root_, tc_program(FP_ROLE_ENDPOINT, dev));
    auto guard = TcAttachment::attach(dev.ifindex, dev.name, tc.get());
    rec->attached |= FP_ATTACHED_TC_INGRESS | created_clsact_bit(guard, rec);
    // The endpoint's policy of what the host stack sends it. A datapath from before
    // policies has no such program: the endpoint goes without (and `policy` says why).
    std::optional<TcAttachment> egress;
    if (const auto to = ProgFd::try_open_pinned(root_, egress_program(dev))) {
        egress.emplace(TcAttachment::attach(dev.ifindex, dev.name, to->get(), TcHook::Egress));
        rec->attached |= FP_ATTACHED_TC_EGRESS;
    }
    maps_.ifaces.upsert(iface_key(dev.ifindex), *rec);
    guard.release();
    if (egress)
        egress->release();
}

void Interfaces::detach(std::uint32_t ifindex, const std::string &ifname)
{
    const auto rec = maps_.ifaces.lookup(iface_key(ifindex));
    if (!rec || rec->attached == 0)
        throw Error("flatpath has nothing attached to " + ifname);
    detach_recorded(ifindex, *rec);
}

void Interfaces::detach_all()
{
    for (const auto &[key, rec] : maps_.ifaces.entries())
        detach_recorded(key.ifindex, rec);
}

void Interfaces::detach_recorded(std::uint32_t ifindex, const fp_iface &rec)
{
    if (rec.attached & kXdpBits) {
        const ProgFd xdp = ProgFd::open_pinned(root_, Program::XdpUplink);
        XdpAttachment::detach(ifindex, xdp.get());
    }
    if (rec.attached & FP_ATTACHED_TC_EGRESS)
        TcAttachment::detach(ifindex, false, TcHook::Egress);
    if (rec.attached & FP_ATTACHED_TC_INGRESS)
        TcAttachment::detach(ifindex, (rec.attached & FP_CREATED_CLSACT) != 0);
    if (rec.attached & FP_SET_ACCEPT_LOCAL)
        sysctl_write(kLoAcceptLocal, "0");
    if (rec.role != FP_ROLE_ENDPOINT) {
        maps_.ifaces.erase(iface_key(ifindex));
    } else {
        fp_iface kept = rec;
        kept.attached = 0;
        maps_.ifaces.upsert(iface_key(ifindex), kept);
    }
}

} // namespace fp
