// A packet described field by field and serialised with every length and checksum
// computed from scratch: what `flatpath simulate` runs the programs on, and what the BPF
// program tests and the bench build their frames with (an expected output built from a
// modified description checks the datapath's incremental checksum updates too).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ip_addr.hpp"
#include "mac_addr.hpp"

namespace fp {

using Bytes = std::vector<std::uint8_t>;

enum class L3 { IPv4, IPv6, Arp, None };

struct Packet {
    MacAddr src_mac;
    MacAddr dst_mac;
    std::optional<std::uint16_t> vlan; // 802.1Q tag (VLAN id)
    L3 l3 = L3::IPv4;
    IpAddr src = IpAddr::parse("10.0.0.1");
    IpAddr dst = IpAddr::parse("10.0.0.2");
    std::uint8_t ttl = 64;                     // or hop limit
    std::uint16_t ipv4_frag = 0x4000;          // IPv4 flags and fragment offset (DF)
    std::vector<std::uint8_t> ipv6_ext;        // extension header types, in order (0 hop-by-hop, 60 dest opts, ...)
    std::uint8_t proto = 17;                   // 17 UDP or 6 TCP
    std::uint8_t tcp_flags = 0x02;             // SYN
    std::uint32_t tcp_seq = 0x1000;
    std::uint32_t tcp_ack = 0x2000;
    bool udp_no_checksum = false;              // IPv4 UDP sent with checksum 0 ("none")
    std::uint16_t sport = 40000;
    std::uint16_t dport = 5001;
    std::size_t payload = 32;                  // L4 payload bytes
    // An ICMP (v4: proto 1) or ICMPv6 (proto 58) error quoting these bytes (an IP header and
    // the first bytes of its payload) instead of the TCP/UDP segment above. proto 1 or 58
    // without a quote: an ICMP message of icmp_type with icmp_rest (an echo's identifier
    // and sequence) and the payload.
    std::optional<Bytes> icmp_quote;
    std::uint8_t icmp_type = 3;
    std::uint8_t icmp_code = 3;
    std::uint32_t icmp_rest = 0;               // the 4 bytes after the checksum (MTU for "too big")

    Bytes bytes() const;
    // The IP packet without its Ethernet header, cut after the IP header (with its IPv6
    // extension headers) and 8 more bytes: what an ICMP error quotes at least.
    Bytes quoted() const;
};

// p's frame (untagged IPv4) with 4 bytes of IPv4 options (NOPs) after its header.
Bytes with_ipv4_options(const Packet &p);

// After a test changed an untagged IPv4 frame's header: its header checksum made right.
void refresh_ipv4_checksum(Bytes &frame);

// "offset: expected got" lines for the bytes that differ, plus both packets in hex.
std::string hex_diff(const Bytes &expected, const Bytes &got);

} // namespace fp
