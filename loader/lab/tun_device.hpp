// A tun or tap device whose descriptor this process holds, as a VPN client, a userspace
// TCP/IP stack or a VM monitor holds one: what the process writes arrives on the device
// (its ingress, where flatpath's tc program runs), what the kernel transmits on the device
// is what the process reads. The device lives as long as the descriptor.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "unique_fd.hpp"

namespace fp {

enum class TunMode {
    Tun, // IFF_TUN: L3, IP packets without an Ethernet header
    Tap, // IFF_TAP: L2, Ethernet frames
};

struct TunOptions {
    // Every packet carries the 4-byte packet information header (flags, protocol) that
    // IFF_NO_PI leaves out.
    bool packet_info = false;
    // Every packet carries a virtio-net header (IFF_VNET_HDR, 10 bytes): what userspace VPN
    // clients use to hand the kernel segmentation offload super-packets.
    bool vnet_hdr = false;
};

class TunDevice {
public:
    // Creates device `name` in network namespace netns (down; the caller configures it).
    TunDevice(const std::string &netns, const std::string &name, TunMode mode, TunOptions options = {});

    const std::string &name() const { return name_; }
    int fd() const { return fd_.get(); }

    // Writes one packet (one frame for a tap); returns 0 or the errno the driver gave.
    int write_packet(const std::vector<std::uint8_t> &packet) const;
    // The next packet the kernel transmitted on the device, or none within timeout_ms.
    std::optional<std::vector<std::uint8_t>> read_packet(int timeout_ms) const;

private:
    std::string name_;
    UniqueFd fd_;
};

} // namespace fp
