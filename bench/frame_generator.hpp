// The packet generator every configuration is fed by: one frame sent again and
// again through an AF_PACKET socket's transmit ring (TPACKET_V2, PACKET_QDISC_BYPASS,
// PACKET_VNET_HDR), so that one send() hands the kernel hundreds of frames, each an
// skb with its headers in the linear part, as a NIC driver would build it. Runs in the calling thread's network namespace and on its CPU.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace fp::bench {

// Sends `frame` (at most 200 bytes) out of ifname for `seconds`. When the receiver falls
// behind, the device refuses frames and the generator retries them: backpressure, not
// loss. What arrives is counted at the receiver.
void send_frames_for(const std::string &ifname, const std::vector<std::uint8_t> &frame, double seconds);

} // namespace fp::bench
