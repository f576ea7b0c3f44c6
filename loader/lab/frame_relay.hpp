// Copies every packet read from one descriptor to the other, both ways, a thread per
// direction, until it is destroyed: what a VM monitor does between a guest's NIC and its
// tap, a VPN client between its tun and its UDP socket, a userspace switch between a tap
// and a unix socket. Each read must be one packet (tun, tap, datagram sockets). The
// descriptors stay their owners' (the relay makes them non-blocking); a full receiver
// holds the relay back (backpressure), as a blocking write would.
#pragma once

#include <atomic>
#include <cstdint>
#include <thread>

namespace fp {

class FrameRelay {
public:
    FrameRelay(int a, int b);
    FrameRelay(const FrameRelay &) = delete;
    FrameRelay &operator=(const FrameRelay &) = delete;
    ~FrameRelay();

    // Packets carried so far, both ways.
    std::uint64_t carried() const { return carried_; }

private:
    void copy(int from, int to);

    std::atomic<bool> stop_{false};
    std::atomic<std::uint64_t> carried_{0};
    std::thread ab_, ba_;
};

} // namespace fp
