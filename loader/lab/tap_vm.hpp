// A VM's network card as the host sees it: a tap device whose descriptor a thread of this
// process holds and answers through as a small guest would. It answers ARP requests and
// IPv6 neighbour solicitations for its addresses, and echoes every UDP datagram to one of
// them back to its sender (addresses and ports swapped: the checksums still hold). What a
// VM monitor's process does with a tap, without the VM.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "ip_addr.hpp"
#include "mac_addr.hpp"
#include "tun_device.hpp"

namespace fp {

class TapVm {
public:
    // Creates tap `name` in netns (down: the caller brings it up and routes to it) and
    // starts answering as the guest with MAC mac and addresses addrs.
    TapVm(const std::string &netns, const std::string &name, const MacAddr &mac, std::vector<IpAddr> addrs);
    TapVm(const TapVm &) = delete;
    TapVm &operator=(const TapVm &) = delete;
    ~TapVm(); // stops answering; the tap goes with its descriptor

    // ARP replies and neighbour advertisements sent so far.
    std::uint64_t neighbour_answers() const { return neighbour_answers_; }

private:
    void run();
    // The answer to frame, or an empty frame when the guest stays silent.
    std::vector<std::uint8_t> answer(const std::vector<std::uint8_t> &frame);
    std::vector<std::uint8_t> advertisement(const std::vector<std::uint8_t> &solicitation);
    bool ours(const std::uint8_t *addr, bool v4) const;

    TunDevice tap_;
    MacAddr mac_;
    std::vector<IpAddr> addrs_;
    std::atomic<bool> stop_{false};
    std::atomic<std::uint64_t> neighbour_answers_{0};
    std::thread thread_;
};

} // namespace fp
