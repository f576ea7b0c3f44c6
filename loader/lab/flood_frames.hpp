// Frames of a flood of new flows, as a spoofing sender makes them: one template
// frame (Ethernet + IPv4 + TCP or UDP, checksums right) sent from ever other
// sources. Frame n comes from the template's source address + n / kPortsPerSource,
// port kFirstPort + n % kPortsPerSource, with its checksums updated to match.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "ip_addr.hpp"

namespace fp {

class FloodFrames {
public:
    static constexpr std::uint32_t kPortsPerSource = 50000;
    static constexpr std::uint16_t kFirstPort = 10000;

    // Throws fp::Error unless templ is an untagged IPv4 frame with a TCP or UDP header.
    explicit FloodFrames(std::vector<std::uint8_t> templ);

    // Writes frame n to out (templ's size) and returns its length: a FrameMaker.
    std::size_t operator()(std::uint64_t n, std::uint8_t *out) const;
    // The source address of frame n.
    IpAddr source(std::uint64_t n) const;

private:
    std::uint32_t source_host_order(std::uint64_t n) const;

    std::vector<std::uint8_t> templ_;
    std::size_t l4_ = 0;      // offset of the TCP or UDP header
    std::size_t l4_csum_ = 0; // offset of the L4 checksum; 0: none (UDP without one)
    std::uint32_t first_source_ = 0; // host order
};

} // namespace fp
