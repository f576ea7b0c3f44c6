// The devices, MACs and packets of the BPF program tests' world (see prog_fixture.hpp):
// endpoint E1 behind veth h1, E2 behind h2, a LAN behind uplink up0.
#pragma once

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

} // namespace fp::test
