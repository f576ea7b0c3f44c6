// A SYN flood at a published TCP port while two connections through it are
// established, one streaming all along and one idle: what the conntrack flood test
// asserts on and what the bench reports, for flatpath and for Linux conntrack alike.
// The flood comes from spoofed sources (FloodFrames: 50,000 ports per address from
// the template's source on), which the host routes back to the client's side.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ip_addr.hpp"

namespace fp {

struct FloodPlan {
    std::string client_ns;  // where the connections and the flood start
    std::string client_dev; // the flood's device there
    IpAddr client_addr;     // the client's own address, which the flood's answers are routed to
    std::string host_ns;    // the host: gets the route back for the flood's sources
    std::string backend_ns; // the published port's container
    std::uint16_t backend_port = 0;
    IpAddr published; // the published address and port
    std::uint16_t published_port = 0;
    std::vector<std::uint8_t> syn; // the flood's template: Ethernet + IPv4 + TCP SYN, checksums right
    std::uint64_t flows = 0;
};

struct FloodOutcome {
    double seconds = 0;                     // the flood's own duration
    double flows_per_second = 0;
    std::uint64_t stream_sent = 0;          // bytes the streaming client wrote
    std::uint64_t stream_received = 0;      // bytes its backend read
    std::uint64_t received_during_flood = 0; // ... while the flood ran (and one second after)
    double stream_seconds = 0;               // how long that was
    bool idle_answers = false; // the idle connection still carries data both ways afterwards

    // Stream goodput while the flood ran, in MB/s.
    double stream_mb_per_second() const { return stream_seconds > 0 ? received_during_flood / stream_seconds / 1e6 : 0; }
    // Established connections that came through whole: the stream lost nothing, the idle one answers.
    int survivors() const { return (stream_received == stream_sent && received_during_flood > 0) + idle_answers; }
};

// Runs the flood; the connections are closed when it returns. Throws fp::Error when the
// connections cannot be made at all (nothing forwards the published port).
FloodOutcome run_conntrack_flood(const FloodPlan &plan);

} // namespace fp
