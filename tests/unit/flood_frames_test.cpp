// Flood frames are what a spoofing sender would send: each frame, with its source
// address and port changed, has the checksums a frame built from scratch has.
#include <gtest/gtest.h>

#include "error.hpp"
#include "flood_frames.hpp"
#include "packet.hpp"

namespace fp::test {
namespace {

Packet flood_packet(std::uint8_t proto)
{
    Packet p;
    p.src_mac = MacAddr::parse("02:00:00:00:00:01");
    p.dst_mac = MacAddr::parse("02:00:00:00:00:02");
    p.src = IpAddr::parse("198.18.0.1");
    p.dst = IpAddr::parse("10.90.0.1");
    p.proto = proto;
    p.sport = 10000;
    p.dport = 8080;
    p.payload = proto == 6 ? 0 : 18;
    return p;
}

TEST(FloodFrames, EveryFrameIsAsIfBuiltFromScratch)
{
    for (std::uint8_t proto : {std::uint8_t{6}, std::uint8_t{17}}) {
        const Packet templ = flood_packet(proto);
        const FloodFrames flood(templ.bytes());
        for (std::uint64_t n : {0ULL, 1ULL, 49999ULL, 50000ULL, 123457ULL, 2999999ULL}) {
            SCOPED_TRACE("proto " + std::to_string(proto) + " frame " + std::to_string(n));
            Packet want = templ;
            want.src = flood.source(n);
            want.sport = static_cast<std::uint16_t>(FloodFrames::kFirstPort + n % FloodFrames::kPortsPerSource);
            const Bytes expected = want.bytes();
            Bytes got(expected.size());
            ASSERT_EQ(flood(n, got.data()), expected.size());
            EXPECT_EQ(got, expected) << hex_diff(expected, got);
        }
    }
    EXPECT_EQ(FloodFrames(flood_packet(6).bytes()).source(150000).str(), "198.18.0.4");
}

TEST(FloodFrames, RefusesTemplatesItCannotVary)
{
    Packet arp = flood_packet(6);
    arp.l3 = L3::Arp;
    EXPECT_THROW(FloodFrames(arp.bytes()), Error);
    Packet v6 = flood_packet(6);
    v6.l3 = L3::IPv6;
    v6.src = IpAddr::parse("fd90::2");
    v6.dst = IpAddr::parse("fd90::1");
    EXPECT_THROW(FloodFrames(v6.bytes()), Error);
}

} // namespace
} // namespace fp::test
