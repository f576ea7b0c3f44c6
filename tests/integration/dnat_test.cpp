// Published ports through the real datapath: a LAN client reaches a container
// through the host's address, the container sees the client's own address, and
// no iptables or nft rule is involved.
#include "netns_fixture.hpp"

namespace fp::test {
namespace {

class DnatNetnsTest : public NetnsTest {
protected:
    const IpAddr host4 = IpAddr::parse("10.90.0.1");
    const IpAddr host6 = IpAddr::parse("fd90::1");
};

// TCP and UDP, IPv4 and IPv6, from the LAN to ports published on the uplink's address.
TEST_F(DnatNetnsTest, LanReachesPublishedPortsWithItsOwnSourceAddress)
{
    start();
    flatpath({"dnat", "add", "tcp", "8080", c1().v4.str() + ":7001", "--host-ip", host4.str()});
    flatpath({"dnat", "add", "tcp", "8080", "[" + c1().v6.str() + "]:7001", "--host-ip", host6.str()});
    flatpath({"dnat", "add", "udp", "5353", c2().v4.str() + ":7002"});

    const Received tcp4 = tcp_transfer(c1().ns, {c1().v4, 7001}, topo->lan_ns(), {host4, 8080}, 1 << 20);
    EXPECT_EQ(tcp4.bytes, 1u << 20);
    EXPECT_EQ(tcp4.peer, topo->lan_v4().str());
    const Received tcp6 = tcp_transfer(c1().ns, {c1().v6, 7001}, topo->lan_ns(), {host6, 8080}, 1 << 20);
    EXPECT_EQ(tcp6.bytes, 1u << 20);
    EXPECT_EQ(tcp6.peer, topo->lan_v6().str());

    const std::uint64_t fwd_before = stack_forwarded(topo->host_ns());
    const Received udp = udp_send(c2().ns, {c2().v4, 7002}, topo->lan_ns(), {host4, 5353}, 500);
    EXPECT_EQ(udp.messages, 500u);
    EXPECT_EQ(udp.peer, topo->lan_v4().str());
    EXPECT_EQ(stack_forwarded(topo->host_ns()) - fwd_before, 0u) << "the host stack forwarded them";
}

} // namespace
} // namespace fp::test
