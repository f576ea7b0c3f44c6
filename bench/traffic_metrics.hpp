// The socket-level metrics between two namespaces of a testbed: TCP throughput
// (iperf3), request/response latency (sockperf ping-pong over UDP) and new TCP
// connections per second (our own connect/close client).
#pragma once

#include "conntrack_flood.hpp"
#include "testbed.hpp"

namespace fp::bench {

// One iperf3 stream from client_ns to target (Gbit/s), the server in server_ns. The
// testbed's directions: into the container (client -> tb.target(), server in the
// container) and out of it (the container to the client's own address, masqueraded).
double iperf_gbits(const std::string &server_ns, const std::string &client_ns, const IpAddr &target, double seconds);

struct Latency {
    double p50_us = 0; // one-way (sockperf reports half the round trip)
    double p99_us = 0;
};
Latency sockperf_latency(const std::string &server_ns, const std::string &client_ns, const IpAddr &target,
                         double seconds);

// New TCP connections per second from client_ns to target (kConnectPort), accepted in server_ns.
double connect_rate(const std::string &server_ns, const std::string &client_ns, const IpAddr &target, double seconds);

// `flows` new flows from spoofed sources at the published TCP port (kConnectPort) while a
// stream and an idle connection go through it (loader/lab/conntrack_flood.hpp): conntrack
// under load, Linux's (B1) or flatpath's.
FloodOutcome conntrack_flood(Testbed &tb, std::uint64_t flows);

} // namespace fp::bench
