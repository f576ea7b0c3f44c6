// The socket-level metrics, client in the testbed's client namespace, server in its
// container: TCP throughput (iperf3), request/response latency (sockperf ping-pong
// over UDP) and new TCP connections per second (our own connect/close client).
#pragma once

#include "conntrack_flood.hpp"
#include "testbed.hpp"

namespace fp::bench {

double tcp_throughput_gbits(Testbed &tb, double seconds);

struct Latency {
    double p50_us = 0; // one-way (sockperf reports half the round trip)
    double p99_us = 0;
};
Latency pingpong_latency(Testbed &tb, double seconds);

double connections_per_second(Testbed &tb, double seconds);

// `flows` new flows from spoofed sources at the published TCP port (kConnectPort) while a
// stream and an idle connection go through it (loader/lab/conntrack_flood.hpp): conntrack
// under load, Linux's (B1) or flatpath's.
FloodOutcome conntrack_flood(Testbed &tb, std::uint64_t flows);

} // namespace fp::bench
