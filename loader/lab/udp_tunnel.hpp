// A VPN link without the cryptography: a tun device in each of two namespaces, whose
// packets travel between them as UDP datagrams over the namespaces' own network. Each
// side's thread relays what its tun transmits into its socket, and what its socket
// receives into its tun: what WireGuard does in the kernel and VPN clients do in user
// space. The tuns are L3 devices with WireGuard's device type and flags.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <thread>

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
    UdpTunnel(const UdpTunnel &) = delete;
    UdpTunnel &operator=(const UdpTunnel &) = delete;
    ~UdpTunnel(); // stops relaying; the tuns go with their descriptors

    // Packets carried so far, both ways.
    std::uint64_t carried() const { return carried_; }

private:
    void relay(const TunDevice &tun, const Socket &sock);

    TunDevice tun_a_, tun_b_;
    Socket sock_a_, sock_b_;
    std::atomic<bool> stop_{false};
    std::atomic<std::uint64_t> carried_{0};
    std::thread thread_a_, thread_b_;
};

} // namespace fp
