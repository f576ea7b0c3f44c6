// Parsing what operators type for DNAT and mark rules: protocols, ports, port
// ranges and backends. Pure functions, so every refusal is unit-tested.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ip_addr.hpp"

namespace fp {

struct PortRange {
    std::uint16_t first = 0;
    std::uint16_t last = 0;
    std::uint32_t size() const { return static_cast<std::uint32_t>(last) - first + 1; }
    bool single() const { return first == last; }
    std::string str() const;
    bool operator==(const PortRange &) const = default;
};

struct Backend {
    IpAddr addr;
    std::optional<PortRange> ports; // none: the same port(s) as published
};

// "tcp" -> 6, "udp" -> 17; throws "unknown protocol 'x' (tcp or udp)".
std::uint8_t parse_protocol(std::string_view text);
std::string protocol_name(std::uint8_t proto);
// "80" or "8000-8100"; refuses 0, > 65535, reversed ranges, anything else.
PortRange parse_ports(std::string_view text);
// "10.88.0.5", "10.88.0.5:80", "10.88.0.5:8000-8100", "[fd00::5]", "[fd00::5]:80"; an
// IPv6 address only in brackets (fd00::5:80 would be ambiguous).
Backend parse_backend(std::string_view text);
// "0x2", "2", "0x2/0xff": value and mask (all ones when not given).
struct MarkValue {
    std::uint32_t value = 0;
    std::uint32_t mask = 0xffffffff;
    bool operator==(const MarkValue &) const = default;
};
MarkValue parse_mark(std::string_view text);
// A mark (or mask) as marks are typed and shown: "0x2".
std::string mark_hex(std::uint32_t v);

// A container label's list of ports to publish, `network.dnat.ports=80,443/tcp,53/udp`
// (the daemon's; protocol tcp unless given, ranges allowed): each item, in order. Throws
// naming the item for an empty item, a bad port or protocol, or an item listed twice.
struct LabelPort {
    PortRange ports;
    std::uint8_t proto = 6;
    bool operator==(const LabelPort &) const = default;
};
std::vector<LabelPort> parse_label_ports(std::string_view text);
// One "PORT", "FIRST-LAST", "PORT/udp": the item of those lists, and the key of a
// runtime's published-port map ("80/tcp").
LabelPort parse_port_proto(std::string_view text);

// The backend ports for a published range: its own, or the same ports; throws when a
// backend range's length differs from the published one's.
PortRange backend_ports(const PortRange &published, const Backend &backend);

} // namespace fp
