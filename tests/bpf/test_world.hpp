// The devices, MACs and packets of the BPF program tests' world (see prog_fixture.hpp):
// endpoint E1 behind veth h1, E2 behind h2, a LAN behind uplink up0.
#pragma once

#include <algorithm>

#include "packet.hpp"

namespace fp::test {

inline const MacAddr kC1 = MacAddr::parse("02:cc:00:00:01:01"); // E1's own MAC (container side of h1)
inline const MacAddr kH1 = MacAddr::parse("02:aa:00:00:01:01");
inline const MacAddr kC2 = MacAddr::parse("02:cc:00:00:02:01");
inline const MacAddr kH2 = MacAddr::parse("02:aa:00:00:02:01");
inline const MacAddr kLan = MacAddr::parse("02:cc:00:00:00:01");
inline const MacAddr kUp0 = MacAddr::parse("02:aa:00:00:00:01");

// What E1 sends towards E2, through its gateway (h1's MAC).
inline Packet from_e1(L3 l3 = L3::IPv4)
{
    Packet p;
    p.src_mac = kC1;
    p.dst_mac = kH1;
    p.l3 = l3;
    p.src = IpAddr::parse(l3 == L3::IPv6 ? "fd00::1" : "10.0.0.1");
    p.dst = IpAddr::parse(l3 == L3::IPv6 ? "fd00::2" : "10.0.0.2");
    return p;
}

// What a LAN host sends to E1 through the uplink.
inline Packet from_lan(L3 l3 = L3::IPv4)
{
    Packet p;
    p.src_mac = kLan;
    p.dst_mac = kUp0;
    p.l3 = l3;
    p.src = IpAddr::parse(l3 == L3::IPv6 ? "fd99::5" : "10.99.0.5");
    p.dst = IpAddr::parse(l3 == L3::IPv6 ? "fd00::1" : "10.0.0.1");
    return p;
}

// The same packet as routed to the endpoint behind host MAC `via` and container MAC `to`.
inline Packet routed(Packet p, const MacAddr &via, const MacAddr &to)
{
    p.src_mac = via;
    p.dst_mac = to;
    p.ttl--;
    return p;
}

// p as flatpath routes it out of the host to the LAN client behind up0 (the fixture's
// route and permanent neighbour): up0's MAC to the client's, TTL down.
inline Packet routed_to_lan(Packet p)
{
    p.src_mac = kUp0;
    p.dst_mac = kLan;
    p.ttl--;
    return p;
}

// A packet sent by an endpoint (its own MAC to its gateway) from src:sport to dst:dport.
inline Packet sent_by(const MacAddr &mac, const MacAddr &gw, const IpAddr &src, std::uint16_t sport,
                      const IpAddr &dst, std::uint16_t dport, std::uint8_t proto = 6 /* TCP */,
                      std::uint8_t flags = 0x12 /* SYN ACK */)
{
    Packet p;
    p.src_mac = mac;
    p.dst_mac = gw;
    p.l3 = src.is_v4() ? L3::IPv4 : L3::IPv6;
    p.src = src;
    p.sport = sport;
    p.dst = dst;
    p.dport = dport;
    p.proto = proto;
    p.tcp_flags = flags;
    return p;
}

// A quote as the datapath leaves it: addresses and ports translated, but the quoted UDP
// or ICMP checksum (which nobody checks) as it was.
inline Bytes translated_quote(const Packet &original, Packet translated)
{
    const Bytes before = original.quoted();
    Bytes after = translated.quoted();
    const long csum = original.l3 == L3::IPv4 ? 20 : 40;
    const long at = original.proto == 17 ? csum + 6 : original.proto == 1 || original.proto == 58 ? csum + 2 : -1;
    if (at >= 0)
        std::copy(before.begin() + at, before.begin() + at + 2, after.begin() + at);
    return after;
}

} // namespace fp::test
