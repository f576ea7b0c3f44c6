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
#include "lab.hpp"
#include "topology.hpp"
#include "traffic.hpp"

namespace fp::test {
namespace {

class GatewayTest : public ::testing::Test {
protected:
    void SetUp() override
    {
        lab = std::make_unique<Lab>("g");
        gw = lab->add_netns("gw");
        vpnlan = add_side("vpn", "vpn0", "10.70.0", "192.0.2");
        provlan = add_side("prov", "prov0", "10.80.0", "198.51.100");
        lab->in(gw, {"sysctl", "-qw", "net.ipv4.ip_forward=1"});
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

    // A router namespace on the gateway's uplink and a client namespace behind it; returns the client's.
    std::string add_side(const std::string &name, const std::string &uplink, const std::string &link_net,
                         const std::string &lan_net)
    {
        const std::string router = lab->add_netns(name);
        const std::string client = lab->add_netns(name + "lan");
        lab->add_veth(gw, uplink, MacAddr::parse("02:fc:00:00:" + std::string(name == "vpn" ? "01" : "02") + ":01"),
                      router, "wan", MacAddr::parse("02:fc:00:00:" + std::string(name == "vpn" ? "01" : "02") + ":02"));
        lab->add_veth(router, "lan", MacAddr::parse("02:fc:00:00:" + std::string(name == "vpn" ? "03" : "04") + ":01"),
                      client, "eth0",
                      MacAddr::parse("02:fc:00:00:" + std::string(name == "vpn" ? "03" : "04") + ":02"));
        lab->in(gw, {"ip", "addr", "add", link_net + ".1/24", "dev", uplink});
        lab->in(router, {"ip", "addr", "add", link_net + ".2/24", "dev", "wan"});
        lab->in(router, {"ip", "addr", "add", lan_net + ".1/24", "dev", "lan"});
        lab->in(router, {"sysctl", "-qw", "net.ipv4.ip_forward=1"});
        const std::string client_ip = lan_net + (name == "vpn" ? ".10" : ".20");
        lab->in(client, {"ip", "addr", "add", client_ip + "/24", "dev", "eth0"});
        lab->in(client, {"ip", "route", "add", "default", "via", lan_net + ".1"});
        return client;
    }

    std::string flatpath(const std::vector<std::string> &args)
    {
        std::vector<std::string> argv = {"ip", "netns", "exec", gw, FLATPATH_BIN, "--pin-root", lab->pin_root()};
        argv.insert(argv.end(), args.begin(), args.end());
        return run_checked(argv);
    }

    std::uint64_t tx_packets(const std::string &dev)
    {
        const auto j = nlohmann::json::parse(lab->in(gw, {"ip", "-s", "-j", "link", "show", dev}));
        return j[0]["stats64"]["tx"]["packets"].get<std::uint64_t>();
    }

    std::unique_ptr<Lab> lab;
    std::string gw, vpnlan, provlan;
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
