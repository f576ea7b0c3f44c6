// The two-uplink gateway that label-driven iptables daemons are used for today:
//
//  [vpnlan] 192.0.2.10 -- [vpn] router -- vpn0 10.70.0.1  [gw]  prov0 10.80.0.1 -- [prov] router -- [provlan] 198.51.100.20
//                                                          |
//                                                    fpc1 -- [c1] 10.91.0.11
//
// The gateway's default route goes out through the VPN; table 200 goes out through
// the provider, chosen by `ip rule fwmark 0x2/0xff`. Container c1 has a DNAT'd port
// reached from the VPN side (8080 -> 7001) and a published port reached from the
// provider side (8443 -> 7443) whose replies carry mark 0x2. The routers know only
// their own links, so a reply sent out of the wrong uplink is lost: a transfer that
// completes proves its replies left through the right one.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <memory>

#include "command.hpp"
#include "error.hpp"
#include "gateway_fixture.hpp"
#include "topology.hpp"
#include "traffic.hpp"

namespace fp::test {
namespace {

class GatewayTest : public GatewayFixture {
protected:
    void SetUp() override
    {
        make_gateway("g");
        vpnlan = add_side("vpn", "vpn0", "10.70.0", "192.0.2", "192.0.2.10", 1);
        provlan = add_side("prov", "prov0", "10.80.0", "198.51.100", "198.51.100.20", 2);
        lab->in(gw, {"ip", "route", "add", "default", "via", "10.70.0.2"});
        lab->in(gw, {"ip", "route", "add", "default", "via", "10.80.0.2", "table", "200"});
        lab->in(gw, {"ip", "rule", "add", "fwmark", "0x2/0xff", "lookup", "200"});
        c1 = add_routed_container(*lab, gw, "c1", 1, nullptr);

        flatpath({"up", "--uplink", "vpn0", "--uplink", "prov0"});
        flatpath({"endpoint", "add", c1.v4.str(), c1.v6.str(), "--dev", c1.host_if, "--mac", c1.mac.str()});
        flatpath({"dnat", "add", "tcp", "8080", c1.v4.str() + ":7001", "--host-ip", "10.70.0.1"});
        flatpath({"dnat", "add", "udp", "8080", c1.v4.str() + ":7001", "--host-ip", "10.70.0.1"});
        flatpath({"dnat", "add", "tcp", "8443", c1.v4.str() + ":7443", "--host-ip", "10.80.0.1"});
        flatpath({"dnat", "add", "udp", "8443", c1.v4.str() + ":7443", "--host-ip", "10.80.0.1"});
    }

    std::string vpnlan, provlan;
    Container c1;
    const IpAddr vpn_client = IpAddr::parse("192.0.2.10");
    const IpAddr prov_client = IpAddr::parse("198.51.100.20");
};

// Both sides reach the container with their own source address; DNAT'd replies go back
// out through the VPN, replies from the marked published port through the provider.
TEST_F(GatewayTest, RepliesLeaveThroughTheRightUplink)
{
    flatpath({"mark", "add", "tcp", "7443", "0x2/0xff", "--ip", c1.v4.str()});
    flatpath({"mark", "add", "udp", "7443", "0x2/0xff", "--ip", c1.v4.str()});

    std::uint64_t vpn_before = tx_packets("vpn0"), prov_before = tx_packets("prov0");
    const Received dnat = tcp_transfer(c1.ns, {c1.v4, 7001}, vpnlan, {IpAddr::parse("10.70.0.1"), 8080}, 1 << 20);
    EXPECT_EQ(dnat.bytes, 1u << 20);
    EXPECT_EQ(dnat.peer, vpn_client.str());
    EXPECT_GT(tx_packets("vpn0") - vpn_before, 10u) << "the DNAT'd replies left through the VPN";
    EXPECT_LT(tx_packets("prov0") - prov_before, 5u);

    vpn_before = tx_packets("vpn0");
    prov_before = tx_packets("prov0");
    const Received published = tcp_transfer(c1.ns, {c1.v4, 7443}, provlan, {IpAddr::parse("10.80.0.1"), 8443}, 1 << 20);
    EXPECT_EQ(published.bytes, 1u << 20);
    EXPECT_EQ(published.peer, prov_client.str());
    EXPECT_GT(tx_packets("prov0") - prov_before, 10u) << "the marked replies left through the provider";
    EXPECT_LT(tx_packets("vpn0") - vpn_before, 5u);

    const Received udp_vpn = udp_send(c1.ns, {c1.v4, 7001}, vpnlan, {IpAddr::parse("10.70.0.1"), 8080}, 200);
    EXPECT_EQ(udp_vpn.messages, 200u);
    EXPECT_EQ(udp_vpn.peer, vpn_client.str());
    const Received udp_prov = udp_send(c1.ns, {c1.v4, 7443}, provlan, {IpAddr::parse("10.80.0.1"), 8443}, 200);
    EXPECT_EQ(udp_prov.messages, 200u);
    EXPECT_EQ(udp_prov.peer, prov_client.str());

    EXPECT_EQ(lab->in(gw, {"iptables-save"}), "") << "flatpath made iptables rules";
    EXPECT_EQ(lab->in(gw, {"nft", "list", "ruleset"}), "") << "flatpath made nft rules";
}

// The control: without the mark, the provider-side client's connection cannot complete,
// because its replies follow the default route out through the VPN.
TEST_F(GatewayTest, WithoutTheMarkProviderRepliesAreLost)
{
    EXPECT_THROW(tcp_transfer(c1.ns, {c1.v4, 7443}, provlan, {IpAddr::parse("10.80.0.1"), 8443}, 1 << 16), Error);
}

// Strict reverse-path filtering on the gateway (many hardened hosts have it) does not
// break the asymmetric routes: requests are taken by XDP before the check and the
// translated replies are routed in BPF, so no "warm-up" connection and no sysctl
// change is needed. doctor still names the provider uplink, which the marked route
// leaves by (for what flatpath hands to the stack there), with the fix, not the VPN
// uplink the main table routes back through, and the ip rule that reads flatpath's
// mark bits.
TEST_F(GatewayTest, StrictRpFilterNeedsNoWarmUpAndDoctorExplains)
{
    flatpath({"mark", "add", "tcp", "7443", "0x2/0xff", "--ip", c1.v4.str()});
    lab->in(gw, {"sysctl", "-qw", "net.ipv4.conf.all.rp_filter=1"});
    const Received prov = tcp_transfer(c1.ns, {c1.v4, 7443}, provlan, {IpAddr::parse("10.80.0.1"), 8443}, 1 << 16);
    EXPECT_EQ(prov.bytes, 1u << 16);
    EXPECT_EQ(prov.peer, prov_client.str());
    const Received vpn = tcp_transfer(c1.ns, {c1.v4, 7001}, vpnlan, {IpAddr::parse("10.70.0.1"), 8080}, 1 << 16);
    EXPECT_EQ(vpn.bytes, 1u << 16);

    const CommandResult r = run_command(
        {"ip", "netns", "exec", gw, FLATPATH_BIN, "--pin-root", lab->pin_root(), "doctor", "--json"});
    EXPECT_EQ(r.status, 3) << r.output;
    std::string all;
    for (const auto &f : nlohmann::json::parse(r.output))
        all += f["problem"].get<std::string>() + " | fix: " + f["fix"].get<std::string>() + "\n";
    EXPECT_NE(all.find("fwmark 0x2/0xff, table 200"), std::string::npos) << all;
    EXPECT_NE(all.find("sysctl -w net.ipv4.conf.prov0.rp_filter=2"), std::string::npos) << all;
    EXPECT_EQ(all.find("net.ipv4.conf.vpn0.rp_filter"), std::string::npos)
        << "the main table routes back out of vpn0: strict mode drops nothing there\n" << all;
}

} // namespace
} // namespace fp::test
