#include "tun_device.hpp"

#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "error.hpp"
#include "netns_scope.hpp"
#include "sockets.hpp"

namespace fp {

namespace {
// Larger than any frame a device of MTU 1500 (or a GSO-less 64 KiB one) transmits.
constexpr std::size_t kMaxPacket = 65536;
} // namespace

TunDevice::TunDevice(const std::string &netns, const std::string &name, TunMode mode, TunOptions options) : name_(name)
{
    if (name.empty() || name.size() >= IFNAMSIZ)
        throw Error("'" + name + "' is not a valid interface name");
    // The device is made in the namespace of the thread that asks for it.
    NetnsScope in(netns);
    fd_.reset(::open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC));
    if (fd_.get() < 0)
        throw_errno("open /dev/net/tun", errno);
    ifreq ifr{};
    ifr.ifr_flags = static_cast<short>((mode == TunMode::Tun ? IFF_TUN : IFF_TAP) | (options.packet_info ? 0 : IFF_NO_PI) |
                                       (options.vnet_hdr ? IFF_VNET_HDR : 0));
    std::strncpy(ifr.ifr_name, name.c_str(), IFNAMSIZ - 1);
    if (::ioctl(fd_.get(), TUNSETIFF, &ifr) != 0)
        throw_errno("create " + std::string(mode == TunMode::Tun ? "tun" : "tap") + " device " + name, errno);
}

int TunDevice::write_packet(const std::vector<std::uint8_t> &packet) const
{
    const ssize_t n = ::write(fd_.get(), packet.data(), packet.size());
    if (n < 0)
        return errno;
    return static_cast<std::size_t>(n) == packet.size() ? 0 : EMSGSIZE;
}

std::optional<std::vector<std::uint8_t>> TunDevice::read_packet(int timeout_ms) const
{
    if (!readable(fd_.get(), timeout_ms))
        return std::nullopt;
    std::vector<std::uint8_t> buf(kMaxPacket);
    const ssize_t n = ::read(fd_.get(), buf.data(), buf.size());
    if (n < 0) {
        if (errno == EAGAIN)
            return std::nullopt;
        throw_errno("read from " + name_, errno);
    }
    buf.resize(static_cast<std::size_t>(n));
    return buf;
}

} // namespace fp
