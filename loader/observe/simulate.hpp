// `flatpath simulate`: a packet built from its description runs through the production
// program of the device it arrives on, against a copy of the live tables made for the
// run (nothing live changes: no flow is made, no counter moves), and what became of it is
// told: the verdict and reason, the packet as it left, where it would go, and the table
// entries that decided it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "flatpath_abi.h"
#include "ip_addr.hpp"
#include "map_set.hpp"
#include "pin_root.hpp"

namespace fp {

// "tcp 192.0.2.7:40000 > 10.90.0.1:8080 flags S", "udp [fd00::1]:5353 > [fd00::2]:53",
// "icmp 10.0.0.1 > 10.0.0.2 id 7" (an echo request).
struct SimPacket {
    std::uint8_t proto = 6;
    IpAddr src, dst;
    std::uint16_t sport = 0, dport = 0; // an echo's identifier is its sport
    std::uint8_t tcp_flags = 0x02;      // SYN unless "flags" says otherwise
    std::string str() const;
};
// Throws naming what is wrong with the text.
SimPacket parse_sim_packet(const std::string &text);

// Where the packet arrives: an endpoint (its address or host device) or an uplink.
struct SimSource {
    std::string text; // as given: "10.90.0.11", "fpc1", "uplink:eth0"
};

struct SimStep {
    std::string program;  // "xdp_uplink", "from_uplink", "from_container", ...
    std::string action;   // "redirect", "pass", "drop", "tx"
    std::string reason;   // "pass_no_endpoint", "drop_spoof_ip", ... or "" for a verdict
};

struct SimResult {
    SimPacket packet;
    std::string device;           // where it arrives
    std::vector<SimStep> steps;   // XDP, then tc when XDP passed it on; one step for tc alone
    std::vector<std::uint8_t> out; // the frame as the last program left it
    fp_flow_tuple after{};         // its addresses and ports
    std::string src_mac, dst_mac;
    unsigned ttl = 0;
    std::uint32_t mark = 0;
    std::string goes_to;                 // where the verdict sends it
    std::vector<std::string> decided_by; // the table entries that decided it
    std::vector<std::string> flows;      // flows the run made in the copy ("dnat: ..."), none live
};

// reply: the packet is the original direction of a live flow; what is run is that flow's
// reply, as the other side sends it, arriving at `from`.
SimResult simulate(const PinRoot &root, MapSet &live, const SimSource &from, const SimPacket &packet, bool reply);

} // namespace fp
