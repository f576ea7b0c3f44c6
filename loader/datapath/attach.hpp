// Attaching flatpath's programs to interfaces, and detaching exactly them.
// tc programs go on a clsact hook (ingress, or egress for endpoints' policy) with flatpath's own handle and
// priority (Debian's libbpf 1.1 predates tcx); XDP programs through netlink with
// "only if nothing is attached", so another tool's program is never replaced.
// Attachments made this way outlive the process, which is what keeps
// forwarding going when `flatpath` exits.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace fp {

// Off: tc only on an uplink, for hosts where an XDP program would slow the skb traffic
// that shares the device (see PLATFORM.md), and as the bench's F-tc configuration.
enum class XdpMode { Native, Generic, Auto, Off };
XdpMode parse_xdp_mode(const std::string &text);
// The names parse_xdp_mode accepts, for the command lines' checks.
inline const std::vector<std::string> kXdpModeNames = {"native", "generic", "auto", "off"};
// --xdp-mode's help, for every command that takes it.
inline constexpr const char *kXdpModeHelp =
    "auto (for a new uplink): native XDP on a NIC (tc only if its driver has none), tc only on veth, tun, tap "
    "and other software devices, where native XDP breaks senders' checksum offload; native: in the driver "
    "(on a software device with a warning); generic: on the skb; off: tc only. Given for an uplink that is "
    "attached already, it replaces what is there; not given, that uplink is left as it is";

// Our tc filter's identity on a clsact hook.
inline constexpr std::uint32_t kTcHandle = 0xf1a7;
inline constexpr std::uint32_t kTcPriority = 1;

enum class TcHook { Ingress, Egress };

// A tc attachment; detaches on destruction unless released.
class TcAttachment {
public:
    // Attaches prog_fd (replacing flatpath's own earlier filter), creating clsact if missing.
    static TcAttachment attach(std::uint32_t ifindex, const std::string &ifname, int prog_fd,
                               TcHook hook = TcHook::Ingress);
    TcAttachment(TcAttachment &&o) noexcept;
    TcAttachment &operator=(TcAttachment &&) = delete;
    ~TcAttachment();

    bool created_clsact() const { return created_clsact_; }
    void release() { armed_ = false; }

    // Removes flatpath's filter; removes clsact too when destroy_clsact (flatpath made it),
    // which takes both hooks' filters with it.
    static void detach(std::uint32_t ifindex, bool destroy_clsact, TcHook hook = TcHook::Ingress);
    // The id of the program in flatpath's filter slot, 0 when there is none.
    static std::uint32_t attached_prog_id(std::uint32_t ifindex, TcHook hook = TcHook::Ingress);

private:
    TcAttachment(std::uint32_t ifindex, TcHook hook, bool created)
        : ifindex_(ifindex), hook_(hook), created_clsact_(created) {}
    std::uint32_t ifindex_;
    TcHook hook_;
    bool created_clsact_;
    bool armed_ = true;
};

// An XDP attachment; detaches on destruction unless released.
class XdpAttachment {
public:
    // Attaches prog_fd in the driver (native) or on the skb (generic). Already attached
    // (the same program, in either mode) is fine; another program there is an error.
    static XdpAttachment attach(std::uint32_t ifindex, const std::string &ifname, int prog_fd, bool native);
    // attach(), but a driver without native XDP is no error: nullopt then.
    static std::optional<XdpAttachment> attach_native_if_supported(std::uint32_t ifindex, const std::string &ifname,
                                                                   int prog_fd);
    XdpAttachment(XdpAttachment &&o) noexcept;
    XdpAttachment &operator=(XdpAttachment &&) = delete;
    ~XdpAttachment();

    bool native() const { return native_; }
    void release() { armed_ = false; }

    // Detaches prog_fd's program from ifindex if (and only if) it is the one attached.
    static void detach(std::uint32_t ifindex, int prog_fd);
    // The attached XDP program's id and whether it is native; id 0 when none.
    static std::uint32_t attached_prog_id(std::uint32_t ifindex, bool *native = nullptr);

private:
    XdpAttachment(std::uint32_t ifindex, int prog_fd, bool native, bool armed)
        : ifindex_(ifindex), prog_fd_(prog_fd), native_(native), armed_(armed) {}
    std::uint32_t ifindex_;
    int prog_fd_;
    bool native_;
    bool armed_;
};

} // namespace fp
