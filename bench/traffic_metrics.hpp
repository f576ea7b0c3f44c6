// The socket-level metrics, client in the testbed's client namespace, server in its
// container: TCP throughput (iperf3), request/response latency (sockperf ping-pong
// over UDP) and new TCP connections per second (our own connect/close client).
#pragma once

#include "testbed.hpp"

namespace fp::bench {

double tcp_throughput_gbits(Testbed &tb, double seconds);

struct Latency {
    double p50_us = 0; // one-way (sockperf reports half the round trip)
    double p99_us = 0;
};
Latency pingpong_latency(Testbed &tb, double seconds);

double connections_per_second(Testbed &tb, double seconds);

} // namespace fp::bench
