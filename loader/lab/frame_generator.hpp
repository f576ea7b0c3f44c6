// The packet generator of the bench and of the flood tests: frames sent through an
// AF_PACKET socket's transmit ring (TPACKET_V2, PACKET_QDISC_BYPASS, PACKET_VNET_HDR),
// so that one send() hands the kernel hundreds of frames, each an skb with its headers
// in the linear part, as a NIC driver would build it. Runs in the calling thread's
// network namespace and on its CPU.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace fp {

// Sends `frame` (at most 200 bytes) out of ifname for `seconds`. When the receiver falls
// behind, the device refuses frames and the generator retries them: backpressure, not
// loss. What arrives is counted at the receiver.
void send_frames_for(const std::string &ifname, const std::vector<std::uint8_t> &frame, double seconds);

// Writes frame number n (at most 200 bytes) to out and returns its length.
using FrameMaker = std::function<std::size_t(std::uint64_t n, std::uint8_t *out)>;

// Sends frames 0 .. count-1 that make() writes, each once, with the same backpressure;
// returns the seconds it took.
double send_made_frames(const std::string &ifname, std::uint64_t count, const FrameMaker &make);

} // namespace fp
