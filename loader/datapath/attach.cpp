#include "attach.hpp"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>
#include <spdlog/spdlog.h>

#include <cerrno>

#include "error.hpp"

namespace fp {

XdpMode parse_xdp_mode(const std::string &text)
{
    if (text == "native")
        return XdpMode::Native;
    if (text == "generic")
        return XdpMode::Generic;
    if (text == "auto")
        return XdpMode::Auto;
    if (text == "off")
        return XdpMode::Off;
    throw Error("'" + text + "' is not an XDP mode (native, generic, auto or off)");
}

namespace {

bpf_tc_hook tc_hook(std::uint32_t ifindex, TcHook which)
{
    bpf_tc_hook hook{};
    hook.sz = sizeof hook;
    hook.ifindex = static_cast<int>(ifindex);
    hook.attach_point = which == TcHook::Ingress ? BPF_TC_INGRESS : BPF_TC_EGRESS;
    return hook;
}

bpf_tc_opts our_filter(int prog_fd = 0, std::uint32_t flags = 0)
{
    bpf_tc_opts opts{};
    opts.sz = sizeof opts;
    opts.handle = kTcHandle;
    opts.priority = kTcPriority;
    opts.prog_fd = prog_fd;
    opts.flags = flags;
    return opts;
}

std::uint32_t prog_id_of(int prog_fd)
{
    bpf_prog_info info{};
    __u32 len = sizeof info;
    if (bpf_obj_get_info_by_fd(prog_fd, &info, &len) != 0)
        throw_errno("inspect program", errno);
    return info.id;
}

} // namespace

TcAttachment TcAttachment::attach(std::uint32_t ifindex, const std::string &ifname, int prog_fd, TcHook which)
{
    bpf_tc_hook hook = tc_hook(ifindex, which);
    bool created = false;
    if (const int err = bpf_tc_hook_create(&hook); err == 0)
        created = true;
    else if (err != -EEXIST)
        throw_errno("create clsact qdisc on " + ifname, -err);

    bpf_tc_opts opts = our_filter(prog_fd, BPF_TC_F_REPLACE);
    if (const int err = bpf_tc_attach(&hook, &opts); err != 0) {
        if (created) {
            hook.attach_point = static_cast<bpf_tc_attach_point>(BPF_TC_INGRESS | BPF_TC_EGRESS);
            bpf_tc_hook_destroy(&hook);
        }
        throw_errno("attach tc program to " + ifname, -err);
    }
    return TcAttachment(ifindex, which, created);
}

TcAttachment::TcAttachment(TcAttachment &&o) noexcept
    : ifindex_(o.ifindex_), hook_(o.hook_), created_clsact_(o.created_clsact_), armed_(o.armed_)
{
    o.armed_ = false;
}

TcAttachment::~TcAttachment()
{
    if (!armed_)
        return;
    try {
        detach(ifindex_, created_clsact_, hook_);
    } catch (const std::exception &e) {
        spdlog::warn("undo tc attach: {}", e.what());
    }
}

void TcAttachment::detach(std::uint32_t ifindex, bool destroy_clsact, TcHook which)
{
    bpf_tc_hook hook = tc_hook(ifindex, which);
    bpf_tc_opts opts = our_filter();
    const int err = bpf_tc_detach(&hook, &opts);
    // ENOENT: the filter, the qdisc or the whole device is gone already: nothing to undo.
    if (err != 0 && err != -ENOENT && err != -ENODEV && err != -EINVAL)
        throw_errno("detach tc program from ifindex " + std::to_string(ifindex), -err);
    if (destroy_clsact) {
        hook.attach_point = static_cast<bpf_tc_attach_point>(BPF_TC_INGRESS | BPF_TC_EGRESS);
        const int derr = bpf_tc_hook_destroy(&hook);
        if (derr != 0 && derr != -ENOENT && derr != -ENODEV && derr != -EINVAL)
            throw_errno("remove clsact qdisc from ifindex " + std::to_string(ifindex), -derr);
    }
}

std::uint32_t TcAttachment::attached_prog_id(std::uint32_t ifindex, TcHook which)
{
    bpf_tc_hook hook = tc_hook(ifindex, which);
    bpf_tc_opts opts = our_filter();
    if (bpf_tc_query(&hook, &opts) != 0)
        return 0;
    return opts.prog_id;
}

namespace {

// 0, or the negative errno of attaching prog_fd in one mode.
int try_xdp_attach(std::uint32_t ifindex, int prog_fd, bool native)
{
    const __u32 flags = XDP_FLAGS_UPDATE_IF_NOEXIST | (native ? XDP_FLAGS_DRV_MODE : XDP_FLAGS_SKB_MODE);
    return bpf_xdp_attach(static_cast<int>(ifindex), prog_fd, flags, nullptr);
}

// Ours already there: that attachment, unarmed (it was made before). Someone else's: an error.
std::optional<std::uint32_t> present_xdp(std::uint32_t ifindex, const std::string &ifname, int prog_fd, bool &native)
{
    const std::uint32_t present = XdpAttachment::attached_prog_id(ifindex, &native);
    if (present == 0)
        return std::nullopt;
    if (present != prog_id_of(prog_fd))
        throw Error(ifname + " already runs XDP program id " + std::to_string(present) +
                    ", which flatpath did not attach; detach it first (ip link set " + ifname + " xdp off)");
    return present;
}

} // namespace

XdpAttachment XdpAttachment::attach(std::uint32_t ifindex, const std::string &ifname, int prog_fd, bool native)
{
    bool native_now = false;
    if (present_xdp(ifindex, ifname, prog_fd, native_now))
        return XdpAttachment(ifindex, prog_fd, native_now, /*armed=*/false);
    if (const int err = try_xdp_attach(ifindex, prog_fd, native); err != 0)
        throw_errno("attach XDP program to " + ifname + (native ? " in native mode" : " in generic mode"), -err);
    return XdpAttachment(ifindex, prog_fd, native, true);
}

std::optional<XdpAttachment> XdpAttachment::attach_native_if_supported(std::uint32_t ifindex,
                                                                       const std::string &ifname, int prog_fd)
{
    bool native_now = false;
    if (present_xdp(ifindex, ifname, prog_fd, native_now))
        return XdpAttachment(ifindex, prog_fd, native_now, /*armed=*/false);
    const int err = try_xdp_attach(ifindex, prog_fd, true);
    if (err == -EOPNOTSUPP || err == -ENOTSUP) {
        spdlog::info("{}: the driver has no native XDP ({}), tc only", ifname, std::strerror(-err));
        return std::nullopt;
    }
    if (err != 0)
        throw_errno("attach XDP program to " + ifname + " in native mode", -err);
    return XdpAttachment(ifindex, prog_fd, true, true);
}

XdpAttachment::XdpAttachment(XdpAttachment &&o) noexcept
    : ifindex_(o.ifindex_), prog_fd_(o.prog_fd_), native_(o.native_), armed_(o.armed_)
{
    o.armed_ = false;
}

XdpAttachment::~XdpAttachment()
{
    if (!armed_)
        return;
    try {
        detach(ifindex_, prog_fd_);
    } catch (const std::exception &e) {
        spdlog::warn("undo XDP attach: {}", e.what());
    }
}

void XdpAttachment::detach(std::uint32_t ifindex, int prog_fd)
{
    bool native = false;
    const std::uint32_t present = attached_prog_id(ifindex, &native);
    if (present == 0 || present != prog_id_of(prog_fd))
        return; // gone already, or someone else's: not ours to remove
    bpf_xdp_attach_opts opts{};
    opts.sz = sizeof opts;
    opts.old_prog_fd = prog_fd;
    // REPLACE with old_prog_fd: the kernel removes it only if it is still our program.
    const __u32 flags = XDP_FLAGS_REPLACE | (native ? XDP_FLAGS_DRV_MODE : XDP_FLAGS_SKB_MODE);
    if (const int err = bpf_xdp_attach(static_cast<int>(ifindex), -1, flags, &opts); err != 0 && err != -ENODEV)
        throw_errno("detach XDP program from ifindex " + std::to_string(ifindex), -err);
}

std::uint32_t XdpAttachment::attached_prog_id(std::uint32_t ifindex, bool *native)
{
    bpf_xdp_query_opts opts{};
    opts.sz = sizeof opts;
    if (bpf_xdp_query(static_cast<int>(ifindex), 0, &opts) != 0)
        return 0;
    if (native)
        *native = opts.drv_prog_id != 0;
    return opts.drv_prog_id ? opts.drv_prog_id : opts.skb_prog_id;
}

} // namespace fp
