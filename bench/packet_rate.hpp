// Packet rate reaching the container for 64-byte UDP frames, counted by the RxSink on
// its eth0.
//
// How a rate is produced (and why it is the datapath's, not the generator's): the
// generator runs on CPU 0; the receive path of the device the frames arrive on runs
// in that device's threaded NAPI kthread, pinned to CPU 1, and everything the
// datapath does for a frame (bridge, iptables, flatpath's programs, the container's
// veth) happens there. The two meet at the veth's 256-frame ring: when the datapath
// is slower than the generator the ring fills and the generator waits (its socket's
// send buffer is full) or its sends fail. A rate is the datapath's ceiling when the
// datapath's CPU was saturated; otherwise it is marked generator-bound (a lower bound).
#pragma once

#include <cstdint>
#include <string>

#include "ip_addr.hpp"
#include "lab.hpp"
#include "mac_addr.hpp"
#include "rx_sink.hpp"
#include "testbed.hpp"

namespace fp::bench {

// Where a flood goes: the generator's namespace and device, its frames' addresses, and the
// device whose receive path (threaded NAPI on the datapath's CPU) takes the frames in.
struct FloodPath {
    std::string client_ns, client_dev;
    MacAddr client_mac, next_hop_mac;
    IpAddr client_addr, target;
    std::string rx_ns, rx_dev;
};
FloodPath flood_path_of(const Testbed &tb);

struct PacketRate {
    double delivered_pps = 0; // counted at the container per second
    double cpu_s_per_mpkt = 0; // busy time of the datapath's CPU per million delivered
    bool generator_bound = false; // the datapath's CPU had time to spare
};

// Switches the path's receive device to threaded NAPI on CPU 1 (and GRO on, TSO off on
// the client, so that the veth uses its NAPI ring). Call once, before the runs; it
// changes offloads, so TCP measurements come before it.
void prepare_receive_path(Lab &lab, const FloodPath &path);

// The AF_PACKET generator (PACKET_QDISC_BYPASS, sendmmsg) from the client to the
// flood port, for `seconds`.
PacketRate measure_packet_rate(const FloodPath &path, const RxSink &sink, double seconds);

// An uplink's XDP program (xdp_uplink in F-xdp, the floor's in B-min) fed by the kernel
// itself (BPF_PROG_TEST_RUN with BPF_F_TEST_XDP_LIVE_FRAMES on the uplink) with the same
// frames as the generator's, counted by an XDP sink on the container's eth0; all on one
// CPU: the XDP forwarding path's ceiling when frames arrive as XDP buffers (as from a NIC
// driver), not as skbs.
PacketRate measure_live_frames_rate(Testbed &tb, int xdp_prog_fd, double seconds);

} // namespace fp::bench
