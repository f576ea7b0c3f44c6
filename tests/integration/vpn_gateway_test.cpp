// The two-uplink gateway of gateway_test.cpp with its VPN side as VPN gateways have it: an
// L3 device (WireGuard there; here a tun fed by a tun-over-UDP tunnel, the lab's
// UdpTunnel, which is what WireGuard does without the cryptography):
//
//  [vpnclient] wg0 10.70.0.2 ===(UDP 10.60.0.2 <-> 10.60.0.1 on a veth)=== wg0 10.70.0.1 [gw]
//                                                  prov0 10.80.0.1 -- [prov] router -- [provlan] 198.51.100.20
//                                                  fpc1 -- [c1] 10.91.0.11
//
// The gateway's default route goes into the tunnel; table 200 goes out through the
// provider, chosen by `ip rule fwmark 0x2/0xff`. c1 has a DNAT'd port reached from the VPN
// side (8080 -> 7001) and a published port reached from the provider side (8443 -> 7443)
// whose replies carry mark 0x2. The provider's router knows only its own links and the VPN
// client only its tunnel: a transfer that completes proves its replies left the right way.
// Every sender keeps its default offloads; the tunnel has WireGuard's MTU (1420), below
// the container's, so the container's TSO aggregates into it are checked as segments.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <memory>

#include "gateway_fixture.hpp"
#include "topology.hpp"
#include "traffic.hpp"
#include "udp_tunnel.hpp"

namespace fp::test {
namespace {

class VpnGatewayTest : public GatewayFixture {
protected:
    void SetUp() override
    {
        make_gateway("v");
        vpnclient = lab->add_netns("vpnc");
        lab->add_veth(gw, "underlay0", MacAddr::parse("02:fe:00:00:01:01"), vpnclient, "underlay0",
                      MacAddr::parse("02:fe:00:00:01:02"));
        lab->in(gw, {"ip", "addr", "add", "10.60.0.1/30", "dev", "underlay0"});
        lab->in(vpnclient, {"ip", "addr", "add", "10.60.0.2/30", "dev", "underlay0"});
        tunnel = std::make_unique<UdpTunnel>(UdpTunnel::End{gw, "wg0", IpAddr::parse("10.60.0.1")},
                                             UdpTunnel::End{vpnclient, "wg0", IpAddr::parse("10.60.0.2")}, 51820);
        for (const auto &[ns, host] : {std::pair{gw, "1"}, std::pair{vpnclient, "2"}}) {
            lab->in(ns, {"ip", "addr", "add", std::string("10.70.0.") + host + "/24", "dev", "wg0"});
            lab->in(ns, {"ip", "-6", "addr", "add", std::string("fd70::") + host + "/64", "dev", "wg0", "nodad"});
            lab->in(ns, {"ip", "link", "set", "wg0", "mtu", "1420", "up"}); // WireGuard's default
        }
        provlan = add_side("prov", "prov0", "10.80.0", "198.51.100", "198.51.100.20", 2);
        lab->in(gw, {"sysctl", "-qw", "net.ipv6.conf.all.forwarding=1"});
        lab->in(gw, {"ip", "route", "add", "default", "dev", "wg0"});
        lab->in(gw, {"ip", "-6", "route", "add", "default", "dev", "wg0"});
        lab->in(gw, {"ip", "route", "add", "default", "via", "10.80.0.2", "table", "200"});
        lab->in(gw, {"ip", "rule", "add", "fwmark", "0x2/0xff", "lookup", "200"});
        c1 = add_routed_container(*lab, gw, "c1", 1, nullptr);

        flatpath({"up", "--uplink", "wg0", "--uplink", "prov0"});
        flatpath({"endpoint", "add", c1.v4.str(), c1.v6.str(), "--dev", c1.host_if, "--mac", c1.mac.str()});
        for (const char *proto : {"tcp", "udp"}) {
            flatpath({"dnat", "add", proto, "8080", c1.v4.str() + ":7001", "--host-ip", "10.70.0.1"});
            flatpath({"dnat", "add", proto, "8080", "[" + c1.v6.str() + "]:7001", "--host-ip", "fd70::1"});
            flatpath({"dnat", "add", proto, "8443", c1.v4.str() + ":7443", "--host-ip", "10.80.0.1"});
            flatpath({"mark", "add", proto, "7443", "0x2/0xff", "--ip", c1.v4.str()});
        }
    }
    void TearDown() override
    {
        tunnel.reset();
        lab.reset();
    }

    std::uint64_t delivered_to_c1()
    {
        const nlohmann::json stats = nlohmann::json::parse(flatpath({"stats", "--json"})); // outlives the loop
        for (const auto &e : stats["endpoints"])
            if (e["dev"] == c1.host_if)
                return e["to_packets"].get<std::uint64_t>();
        return 0;
    }

    std::unique_ptr<UdpTunnel> tunnel;
    std::string vpnclient, provlan;
    Container c1;
};

// The VPN client reaches the DNAT'd port through the tunnel with its own address (IPv4
// and IPv6), the replies go back into the tunnel; the provider-side client reaches the
// published port, whose marked replies leave by the provider uplink. flatpath carried the
// requests (c1's delivery counter) and routed the replies itself (the gateway's IP
// forwarding counter stays put); no firewall rule anywhere.
TEST_F(VpnGatewayTest, TheVpnSideIsATunAndRepliesLeaveTheRightWay)
{
    const std::uint64_t forwarded = stack_forwarded(gw);
    for (const char *server : {"10.70.0.1", "fd70::1"}) {
        SCOPED_TRACE(server);
        const IpAddr &backend = IpAddr::parse(server).is_v4() ? c1.v4 : c1.v6;
        const std::uint64_t wg_before = tx_packets("wg0"), prov_before = tx_packets("prov0"), to_c1 = delivered_to_c1();
        const Received tcp = tcp_transfer(c1.ns, {backend, 7001}, vpnclient, {IpAddr::parse(server), 8080}, 1 << 20);
        EXPECT_EQ(tcp.bytes, 1u << 20);
        EXPECT_EQ(tcp.peer, IpAddr::parse(server).is_v4() ? "10.70.0.2" : "fd70::2");
        EXPECT_GT(tx_packets("wg0") - wg_before, 10u) << "the DNAT'd replies went into the tunnel";
        EXPECT_LT(tx_packets("prov0") - prov_before, 5u);
        EXPECT_GT(delivered_to_c1() - to_c1, 10u) << "flatpath delivered the requests";

        const Received udp = udp_send(c1.ns, {backend, 7001}, vpnclient, {IpAddr::parse(server), 8080}, 200);
        EXPECT_EQ(udp.messages, 200u);
        EXPECT_EQ(udp.peer, IpAddr::parse(server).is_v4() ? "10.70.0.2" : "fd70::2");
    }

    const std::uint64_t wg_before = tx_packets("wg0"), prov_before = tx_packets("prov0");
    const Received published = tcp_transfer(c1.ns, {c1.v4, 7443}, provlan, {IpAddr::parse("10.80.0.1"), 8443}, 1 << 20);
    EXPECT_EQ(published.bytes, 1u << 20);
    EXPECT_EQ(published.peer, "198.51.100.20");
    EXPECT_GT(tx_packets("prov0") - prov_before, 10u) << "the marked replies left through the provider";
    EXPECT_LT(tx_packets("wg0") - wg_before, 5u);
    const Received udp = udp_send(c1.ns, {c1.v4, 7443}, provlan, {IpAddr::parse("10.80.0.1"), 8443}, 200);
    EXPECT_EQ(udp.messages, 200u);
    EXPECT_EQ(udp.peer, "198.51.100.20");

    EXPECT_EQ(stack_forwarded(gw) - forwarded, 0u) << "the gateway's stack forwarded what flatpath should have";
    EXPECT_GT(tunnel->carried(), 0u);
    EXPECT_EQ(lab->in(gw, {"iptables-save"}), "") << "flatpath made iptables rules";
    EXPECT_EQ(lab->in(gw, {"nft", "list", "ruleset"}), "") << "flatpath made nft rules";
}

} // namespace
} // namespace fp::test
