// A VPN link without the cryptography: a tun device in each of two namespaces, whose
// packets travel between them as UDP datagrams over the namespaces' own network. Each
// side's thread relays what its tun transmits into its socket, and what its socket
// receives into its tun: what WireGuard does in the kernel and VPN clients do in user
// space. The tuns are L3 devices with WireGuard's device type and flags.
// Each side's relay is a FrameRelay between its tun and its connected socket.
#pragma once

#include <cstdint>
#include <string>

#include "frame_relay.hpp"
#include "ip_addr.hpp"
#include "sockets.hpp"
#include "tun_device.hpp"

namespace fp {

class UdpTunnel {
public:
    struct End {
        std::string netns;
        std::string tun;  // the tun device made in netns (down: the caller addresses it)
        IpAddr underlay;  // the address in netns that carries the datagrams
    };
    UdpTunnel(const End &a, const End &b, std::uint16_t port);

    // Packets carried so far, both ways, by both ends.
    std::uint64_t carried() const { return relay_a_.carried() + relay_b_.carried(); }

private:
    // Declared in this order so that the relays stop before the descriptors close.
    TunDevice tun_a_, tun_b_;
    Socket sock_a_, sock_b_;
    FrameRelay relay_a_, relay_b_;
};

} // namespace fp
