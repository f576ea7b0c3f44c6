// `flatpath simulate` against what real packets do, in the demo's topology: a LAN client's
// SYN to a published port (translated to the container, a flow made), a spoof from the
// LAN (dropped), a container's datagram to the LAN (handed to the host stack), and a
// tracked flow's reply (translated back to the published address). Each simulated
// verdict is then checked with real traffic, and the simulation changes nothing live:
// no flow, no counter. Wrong arguments get one line.
#include "demo.hpp"
#include "eventually.hpp"
#include "netns_fixture.hpp"
#include "packet.hpp"

namespace fp::test {
namespace {

class SimulateTest : public NetnsTest {
protected:
    const IpAddr host4 = IpAddr::parse("10.90.0.1");

    nlohmann::json simulate(const std::vector<std::string> &args)
    {
        std::vector<std::string> a = {"simulate", "--json"};
        a.insert(a.end(), args.begin(), args.end());
        return flatpath_json(a);
    }
    // What a simulation must not change: flows, and the counters its packets would move
    // (the containers' own neighbour discovery moves others meanwhile).
    std::string live()
    {
        return flatpath({"ct", "list", "--json"}) + std::to_string(delivered_to(c1().host_if)) + " " +
               std::to_string(reason_count("drop_spoof_ip")) + " " + std::to_string(reason_count("pass_no_endpoint"));
    }

    static bool has(const nlohmann::json &list, const std::string &line)
    {
        return std::find(list.begin(), list.end(), line) != list.end();
    }
};

TEST_F(SimulateTest, VerdictsAgreeWithWhatRealPacketsDo)
{
    start();
    flatpath({"dnat", "add", "tcp", "8080", c1().v4.str() + ":7001", "--host-ip", host4.str()});
    const std::string lan = topo->lan_v4().str();
    const std::string before = live();

    // A SYN to the published port: translated to c1, delivered to its device, a flow made.
    const nlohmann::json syn =
        simulate({"--from", "uplink:" + topo->uplink(), "tcp " + lan + ":40000 > " + host4.str() + ":8080 flags S"});
    EXPECT_EQ(syn["verdict"], "redirect") << syn;
    EXPECT_EQ(syn["leaves_as"], "tcp " + lan + ":40000 > " + c1().v4.str() + ":7001") << syn;
    EXPECT_TRUE(syn["goes_to"].get<std::string>().starts_with(c1().host_if + " ")) << syn;
    EXPECT_EQ(syn["ttl"], 63);
    EXPECT_EQ(syn["flows_made"].size(), 1u) << syn;
    EXPECT_TRUE(has(syn["decided_by"], "fp_dnat: tcp " + host4.str() + ":8080 -> " + c1().v4.str() + ":7001")) << syn;
    // A spoof from the LAN (c2's address): dropped, and the entry that says why.
    const nlohmann::json spoof = simulate(
        {"--from", "uplink:" + topo->uplink(), "udp " + c2().v4.str() + ":7011 > " + c1().v4.str() + ":7011"});
    EXPECT_EQ(spoof["verdict"], "drop") << spoof;
    EXPECT_EQ(spoof["reason"], "drop_spoof_ip") << spoof;
    EXPECT_TRUE(has(spoof["decided_by"], "fp_endpoints: the source " + c2().v4.str() + " is an endpoint's (on " +
                                             c2().host_if + "): from an uplink, a spoof"))
        << spoof;
    // c1's datagram to the LAN: no endpoint there, the host stack routes it.
    const nlohmann::json out = simulate({"--from", c1().v4.str(), "udp " + c1().v4.str() + ":40000 > " + lan + ":7002"});
    EXPECT_EQ(out["verdict"], "pass") << out;
    EXPECT_EQ(out["reason"], "pass_no_endpoint") << out;
    EXPECT_EQ(live(), before) << "a simulation changed the live tables";

    // What real packets do: the same three.
    const std::uint64_t to_c1 = delivered_to(c1().host_if);
    const Received got = tcp_transfer(c1().ns, {c1().v4, 7001}, topo->lan_ns(), {host4, 8080}, 1 << 16);
    EXPECT_EQ(got.bytes, 1u << 16);
    EXPECT_EQ(got.peer, lan);
    EXPECT_GT(delivered_to(c1().host_if), to_c1) << "flatpath delivered it, as simulated";
    const std::uint64_t spoofs = reason_count("drop_spoof_ip");
    Packet p;
    p.src_mac = MacAddr::parse(lab->in(topo->lan_ns(), {"cat", "/sys/class/net/lan0/address"}).substr(0, 17));
    p.dst_mac = MacAddr::parse(host({"cat", "/sys/class/net/" + topo->uplink() + "/address"}).substr(0, 17));
    p.src = c2().v4;
    p.dst = c1().v4;
    p.sport = p.dport = 7011;
    send_frames(topo->lan_ns(), "lan0", {p.bytes()});
    EXPECT_TRUE(eventually([&] { return reason_count("drop_spoof_ip") == spoofs + 1; }, 5));
    const std::uint64_t fwd = stack_forwarded(topo->host_ns());
    EXPECT_EQ(udp_send(topo->lan_ns(), topo->lan_v4(), 7002, c1().ns, 10).messages, 10u);
    EXPECT_GE(stack_forwarded(topo->host_ns()) - fwd, 10u) << "the host stack routed them, as simulated";
}

// IPv6 and ICMP: the LAN's echo request to c1's IPv6 address, and c1's to c2, are
// delivered by flatpath (routed: hop limit down), as real pings then are.
TEST_F(SimulateTest, EchoRequestsOverIPv6AndIPv4)
{
    start();
    const nlohmann::json lan6 = simulate({"--from", "uplink:" + topo->uplink(),
                                          "icmpv6 " + topo->lan_v6().str() + " > " + c1().v6.str() + " id 7"});
    EXPECT_EQ(lan6["verdict"], "redirect") << lan6;
    EXPECT_EQ(lan6["leaves_as"], "icmpv6 " + topo->lan_v6().str() + " > " + c1().v6.str() + " id 7") << lan6;
    EXPECT_EQ(lan6["ttl"], 63) << lan6;
    EXPECT_TRUE(lan6["goes_to"].get<std::string>().starts_with(c1().host_if + " ")) << lan6;
    const nlohmann::json c1c2 = simulate({"--from", c1().host_if, "icmp " + c1().v4.str() + " > " + c2().v4.str()});
    EXPECT_EQ(c1c2["verdict"], "redirect") << c1c2;
    EXPECT_TRUE(c1c2["goes_to"].get<std::string>().starts_with(c2().host_if + " ")) << c1c2;

    const std::uint64_t to_c1 = delivered_to(c1().host_if), to_c2 = delivered_to(c2().host_if);
    EXPECT_EQ(ping(topo->lan_ns(), c1().v6.str(), 2), 2u);
    EXPECT_EQ(ping(c1().ns, c2().v4.str(), 2), 2u);
    EXPECT_GE(delivered_to(c1().host_if) - to_c1, 2u);
    EXPECT_GE(delivered_to(c2().host_if) - to_c2, 2u);
}

// --reply: the reply of a tracked flow, as c1 sends it, leaves with the published address
// as its source; a flow nobody tracks is refused.
TEST_F(SimulateTest, TheReplyOfATrackedFlow)
{
    start();
    flatpath({"dnat", "add", "tcp", "8080", c1().v4.str() + ":7001", "--host-ip", host4.str()});
    EXPECT_EQ(tcp_transfer(c1().ns, {c1().v4, 7001}, topo->lan_ns(), {host4, 8080}, 1024).bytes, 1024u);
    const nlohmann::json flows = flatpath_json({"ct", "list", "--json"});
    ASSERT_EQ(flows.size(), 1u) << flows;
    const std::string client = flows[0]["client"];
    const nlohmann::json r = simulate({"--reply", "--from", c1().host_if, "tcp " + client + " > " + host4.str() + ":8080 flags A"});
    EXPECT_EQ(r["packet"], "tcp " + c1().v4.str() + ":7001 > " + client + " flags A") << r;
    EXPECT_EQ(r["leaves_as"], "tcp " + host4.str() + ":8080 > " + client) << r;
    EXPECT_NE(r["verdict"], "drop") << r;
    const CommandResult none =
        flatpath_result({"simulate", "--reply", "--from", c1().host_if, "tcp 10.90.0.2:1 > " + host4.str() + ":8080"});
    EXPECT_NE(none.status, 0);
    EXPECT_NE(none.output.find("--reply: no translated flow tcp 10.90.0.2:1 > " + host4.str() + ":8080"), std::string::npos)
        << none.output;
}

TEST_F(SimulateTest, WrongArgumentsAreRefusedWithOneLine)
{
    start();
    const auto nothing = [] { return 0; };
    const std::string packet = "udp 10.90.0.2:1 > 10.91.0.11:2";
    expect_refused_keeping({"simulate", "--from", "uplink:nosuch0", packet}, "nosuch0", nothing);
    expect_refused_keeping({"simulate", "--from", "uplink:" + c1().host_if, packet}, "is no uplink of the datapath", nothing);
    expect_refused_keeping({"simulate", "--from", "10.91.0.99", packet}, "no endpoint of this host has that address", nothing);
    expect_refused_keeping({"simulate", "--from", topo->uplink(), packet}, "is no endpoint device", nothing);
    expect_refused_keeping({"simulate", "--from", c1().host_if, "tcp 10.0.0.1 > 10.0.0.2:80"}, "give one port", nothing);
    expect_refused_keeping({"simulate", "--from", c1().host_if, "tcp 10.0.0.1:1 > [fd00::1]:80"}, "two families", nothing);
    expect_refused_keeping({"simulate", "--from", c1().host_if, "icmp 10.0.0.1 > 10.0.0.2 flags S"}, "'flags' is not for icmp",
                           nothing);
    expect_refused_keeping({"simulate", "--from", c1().host_if, "tcp 10.0.0.1:1 > 10.0.0.2:80 flags SX"}, "flags 'SX'",
                           nothing);
    expect_refused_keeping({"simulate", "--from", c1().host_if, "10.0.0.1 > 10.0.0.2"}, "PROTO SRC > DST", nothing);
}

} // namespace
} // namespace fp::test
