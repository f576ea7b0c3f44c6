#include "interfaces.hpp"

#include <optional>

#include "error.hpp"
#include "programs.hpp"
#include "sysctl.hpp"

namespace fp {

namespace {
// Replies to the host's own connections to published ports reach it through lo with a
// host address as their source (see bpf/lib/route.h); without accept_local the stack
// takes them for martians.
constexpr const char *kLoAcceptLocal = "net.ipv4.conf.lo.accept_local";

// FP_CREATED_CLSACT if flatpath made the device's clsact qdisc, now or on an earlier attach:
// only then may `down` remove it.
__u8 created_clsact_bit(const TcIngressAttachment &tc, const std::optional<fp_iface> &prev)
{
    return tc.created_clsact() || (prev && (prev->attached & FP_CREATED_CLSACT)) ? FP_CREATED_CLSACT : 0;
}
} // namespace

void Interfaces::attach_uplink(const NetDev &dev, XdpMode mode)
{
    const auto prev = maps_.ifaces.lookup(iface_key(dev.ifindex));
    if (prev && prev->role != FP_ROLE_UPLINK)
        throw Error(dev.name + " is a registered endpoint; it cannot also be an uplink");
    if (!dev.l2)
        throw Error(dev.name + " has no Ethernet header; only L2 devices can be uplinks for now");

    const ProgFd xdp = ProgFd::open_pinned(root_, Program::XdpUplink);
    const ProgFd tc = ProgFd::open_pinned(root_, Program::TcUplink);
    std::optional<XdpAttachment> xdp_guard;
    if (mode != XdpMode::Off)
        xdp_guard.emplace(XdpAttachment::attach(dev.ifindex, dev.name, xdp.get(), mode));
    auto tc_guard = TcIngressAttachment::attach(dev.ifindex, dev.name, tc.get());

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
}

void Interfaces::attach_local()
{
    const NetDev lo = NetDev::by_name("lo");
    const auto prev = maps_.ifaces.lookup(iface_key(lo.ifindex));
    const ProgFd tc = ProgFd::open_pinned(root_, Program::TcUplink);
    auto guard = TcIngressAttachment::attach(lo.ifindex, lo.name, tc.get());
    fp_iface rec{};
    rec.role = FP_ROLE_LOCAL;
    rec.attached = FP_ATTACHED_TC_INGRESS | created_clsact_bit(guard, prev);
    if (prev && (prev->attached & FP_SET_ACCEPT_LOCAL))
        rec.attached |= FP_SET_ACCEPT_LOCAL;
    if (sysctl_read(kLoAcceptLocal) == "0") {
        sysctl_write(kLoAcceptLocal, "1");
        rec.attached |= FP_SET_ACCEPT_LOCAL;
    }
    maps_.ifaces.upsert(iface_key(lo.ifindex), rec);
    guard.release();
}

void Interfaces::attach_endpoint(const NetDev &dev)
{
    auto rec = maps_.ifaces.lookup(iface_key(dev.ifindex));
    if (!rec || rec->role != FP_ROLE_ENDPOINT)
        throw Error(dev.name + " has no endpoint; register one first (flatpath endpoint add IP --dev " + dev.name + " --mac MAC)");
    const ProgFd tc = ProgFd::open_pinned(root_, Program::TcEndpoint);
    auto guard = TcIngressAttachment::attach(dev.ifindex, dev.name, tc.get());
    rec->attached |= FP_ATTACHED_TC_INGRESS | created_clsact_bit(guard, rec);
    maps_.ifaces.upsert(iface_key(dev.ifindex), *rec);
    guard.release();
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
    if (rec.attached & (FP_ATTACHED_XDP_NATIVE | FP_ATTACHED_XDP_GENERIC)) {
        const ProgFd xdp = ProgFd::open_pinned(root_, Program::XdpUplink);
        XdpAttachment::detach(ifindex, xdp.get());
    }
    if (rec.attached & FP_ATTACHED_TC_INGRESS)
        TcIngressAttachment::detach(ifindex, (rec.attached & FP_CREATED_CLSACT) != 0);
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
